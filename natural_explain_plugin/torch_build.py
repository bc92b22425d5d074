"""Which torch build to install: CUDA when `nvidia-smi` reports a driver, else the CPU build.

A CPU torch where the user has a GPU, or a CUDA torch that the driver is too old for, is one
of the commonest broken installs. On Linux and Windows the driver's `nvidia-smi` says which
CUDA it supports; the newest PyTorch CUDA build within that is taken, the CPU build otherwise.
On macOS PyPI's own wheels are the right ones (Metal, no CUDA).
"""
import re
import shutil
import subprocess

TORCH_INDEX = "https://download.pytorch.org/whl"
# The CUDA builds PyTorch publishes for the torch pinned in requirements.txt, newest first,
# each with the lowest driver CUDA version it runs on. Revisit when the torch pin moves.
CUDA_BUILDS = (((13, 0), "cu130"), ((12, 8), "cu128"), ((12, 6), "cu126"))
NVIDIA_SMI_TIMEOUT_S = 20


def driver_cuda_version() -> tuple[int, int] | None:
    """The CUDA version the NVIDIA driver supports, from `nvidia-smi`; None without a working driver."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    try:
        done = subprocess.run([executable], capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", done.stdout)
    if done.returncode != 0 or match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def torch_index_url(system: str, cuda: tuple[int, int] | None) -> str | None:
    """The PyTorch wheel index for `system` (platform.system()) and the driver's `cuda`.

    None means PyPI's default wheels (macOS).
    """
    if system == "Darwin":
        return None
    for needs, tag in CUDA_BUILDS:
        if cuda is not None and cuda >= needs:
            return f"{TORCH_INDEX}/{tag}"
    return f"{TORCH_INDEX}/cpu"
