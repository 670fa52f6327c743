"""Check that Keras runs on TensorFlow (``tabvae/__init__.py`` selects it by default)."""

from __future__ import annotations

import keras

from tabvae.errors import TabVAEError

if keras.backend.backend() != "tensorflow":
    raise TabVAEError(
        f"tabvae needs the TensorFlow backend of Keras, but Keras is set to "
        f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow"
    )
