"""Random rot90 and flips: land cover has no preferred orientation, so every trainer may turn its patches."""
import torch


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random rot90 and horizontal flip per sample, drawn from `generator` so a resumed run repeats them.

    Args:
        batch: (B, C, H, W) square patches.
        generator: the seeded generator whose state the checkpoints carry.

    Returns:
        The turned and flipped batch.
    """
    turns = torch.randint(0, 4, (batch.shape[0],), generator=generator)
    flips = torch.randint(0, 2, (batch.shape[0],), generator=generator)
    out = []
    for x, k, flip in zip(batch, turns.tolist(), flips.tolist()):
        x = torch.rot90(x, k, dims=(1, 2))
        out.append(torch.flip(x, dims=(2,)) if flip else x)
    return torch.stack(out)
