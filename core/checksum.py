"""The one sha256 of files: model weights, run inputs, training inputs and fetched data all pin by it."""
import hashlib
from pathlib import Path

_CHUNK = 1 << 20  # 1 MiB: a 10980² Sentinel-2 band never sits in memory whole


def file_sha256(*paths: Path) -> str:
    """Hex sha256 over the bytes of `paths`, read in order and in chunks.

    Args:
        paths: one file, or the files behind a multi-file raster in band order.

    Returns:
        64 lower-case hexadecimal digits.
    """
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()
