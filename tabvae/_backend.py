"""Select the TensorFlow backend before Keras is imported anywhere in tabvae."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ start-up chatter is noise to a user of a command-line tool.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from tabvae.errors import TabVAEError

if keras.backend.backend() != "tensorflow":
    raise TabVAEError(
        f"tabvae needs the TensorFlow backend of Keras, but Keras is set to "
        f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow"
    )
