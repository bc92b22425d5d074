"""The fault suite's fixture; its checks are in tests/helpers/faults.py."""
from pathlib import Path

import pytest

from tests.helpers.faults import snapshot


@pytest.fixture
def unchanged(tmp_path: Path):
    """Call with a folder before a refused run and again after: asserts the folder is byte-identical."""
    before: dict[Path, dict[str, bytes]] = {}

    def check(folder: Path) -> None:
        if folder not in before:
            before[folder] = snapshot(folder)
        else:
            assert snapshot(folder) == before[folder], f"{folder} changed"

    return check
