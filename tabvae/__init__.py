"""tabvae: synthetic tabular data from a per-column multi-input variational autoencoder.

Importing :class:`TabularVAE` loads TensorFlow (a few seconds), so it is imported on first
use; the schema layer and the command line's ``--help`` stay fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Every tabvae module is imported after this file, so these settings precede any Keras import:
# tabvae needs the TensorFlow backend, and TensorFlow's C++ start-up chatter is noise to a user.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

from tabvae.errors import (
    DataError,
    ModelFileError,
    NotFittedError,
    SchemaError,
    TabVAEError,
)
from tabvae.schema import Column, Schema, infer_schema

if TYPE_CHECKING:
    from tabvae.synthesizer import TabularVAE

__all__ = [
    "Column",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "Schema",
    "SchemaError",
    "TabVAEError",
    "TabularVAE",
    "__version__",
    "infer_schema",
]


def __getattr__(name: str) -> Any:
    if name == "TabularVAE":
        from tabvae.synthesizer import TabularVAE

        return TabularVAE
    raise AttributeError(f"module 'tabvae' has no attribute {name!r}")
