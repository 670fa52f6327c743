"""Exceptions raised by tabvae.

Every error a user can cause (bad file, wrong column, empty table, corrupt model) is a
:class:`TabVAEError`, so the CLI can turn it into a one-line message instead of a traceback.
"""

from __future__ import annotations


class TabVAEError(Exception):
    """Base class for every error tabvae raises on purpose."""


class SchemaError(TabVAEError, ValueError):
    """The schema is invalid, or does not match the data."""


class DataError(TabVAEError, ValueError):
    """The data cannot be used as given (empty, duplicate columns, inf values, ...)."""


class NotFittedError(TabVAEError, AttributeError):
    """The synthesizer was used before ``fit`` (or ``load``)."""


class ModelFileError(TabVAEError, OSError):
    """A saved model is missing, is not a tabvae model, or is corrupt."""
