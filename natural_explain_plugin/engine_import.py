"""Import the engine only when a run starts, and name a package QGIS's Python lacks.

QGIS starts fast because torch loads late; the price is that a missing torch shows up at
run time, where it must read as advice, not as a traceback.
"""
import contextlib
from typing import Iterator

from core.errors import NaturalExplainError


@contextlib.contextmanager
def engine_packages() -> Iterator[None]:
    """Wrap the engine's imports: a missing third-party package becomes a user error naming it.

    Raises:
        NaturalExplainError: naming the missing package and how to install it.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "core":
            raise  # a broken engine is a bug, not a missing install
        raise NaturalExplainError(
            f"the Python package '{exc.name}' is missing from QGIS's Python: install the plugin's requirements "
            "(torch, safetensors, rasterio) with the pip of the Python QGIS runs, then restart QGIS") from exc
