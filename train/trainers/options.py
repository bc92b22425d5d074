"""The options every trainer takes, whatever it fits."""
import dataclasses
from pathlib import Path

import torch

from train.camat import CAMATSettings


@dataclasses.dataclass(frozen=True)
class TrainerOptions:
    """How to train: epochs (total, counting resumed ones), batch size, learning rate, seed, device, checkpoints,
    and CAMAT's occlusion (None trains on the batches as they come)."""

    epochs: int
    batch_size: int
    lr: float
    seed: int
    device: torch.device
    workdir: Path
    resume: bool
    camat: CAMATSettings | None = None
