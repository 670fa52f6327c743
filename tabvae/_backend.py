"""Check that Keras runs on TensorFlow (``tabvae/__init__.py`` selects it by default), and
keep TensorFlow's notices about tabvae's own graphs out of the user's log."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import keras

from tabvae.errors import TabVAEError

if keras.backend.backend() != "tensorflow":
    raise TabVAEError(
        f"tabvae needs the TensorFlow backend of Keras, but Keras is set to "
        f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow"
    )


class _RetracingNotice(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    Every model traces its own training and prediction graphs, and TensorFlow counts those
    traces across models: from the third model fitted in one process (a notebook trying
    settings, a loop over tables) it warned of "expensive retracing" that is neither
    expensive nor the user's to fix.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing() -> Iterator[None]:
    """Within the block, TensorFlow's retracing warning is not logged (other records are)."""
    logger = logging.getLogger("tensorflow")
    notice = _RetracingNotice()
    logger.addFilter(notice)
    try:
        yield
    finally:
        logger.removeFilter(notice)
