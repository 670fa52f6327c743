"""One transformer class per column kind, registered by kind name.

The names in :data:`KINDS` are the kinds of the schema and of the JSON Schema enum.
"""

from tabvae.transformers import boolean, categorical, constant, identifier, numerical
from tabvae.transformers.base import (
    MISSING_SUFFIX,
    ColumnTransformer,
    register,
    registered_kinds,
    transformer_class,
)

KINDS: tuple[str, ...] = registered_kinds()

__all__ = [
    "KINDS",
    "MISSING_SUFFIX",
    "ColumnTransformer",
    "boolean",
    "categorical",
    "constant",
    "identifier",
    "numerical",
    "register",
    "registered_kinds",
    "transformer_class",
]
