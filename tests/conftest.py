"""Shared fixtures: the bundled real sample and small real rasters derived from it."""
import shutil
from pathlib import Path

import pytest

from core.resources import DEFAULT_MODEL, SAMPLE

# The training data's fixtures are shared by tests/train and tests/faults, so they are registered for all.
pytest_plugins = ["tests.helpers.training"]


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled Sentinel-2 crop: one GeoTIFF per band at native 10/20/60 m."""
    return SAMPLE


@pytest.fixture(scope="session")
def default_model() -> Path:
    return DEFAULT_MODEL


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample, for tests that damage it."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample"))
