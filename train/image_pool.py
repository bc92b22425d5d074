"""The history buffer of generated images each discriminator learns from (Shrivastava et al., CycleGAN).

Judging a mix of the newest and older fakes keeps a discriminator from chasing only the
generator's latest trick, which damps GAN oscillation. Choices draw from the trainer's
seeded generator and the buffer is checkpointed, so a resumed run repeats them.
"""
import torch


class ImagePool:
    """Up to `size` past generated images; `query` returns a batch mixing new and stored ones.

    Args:
        size: how many images to keep (50 in CycleGAN and SpacEX); 0 disables the buffer.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Store the new (detached) images; give back each one, or with probability 1/2 a stored one it replaces.

        Args:
            batch: (B, C, H, W) freshly generated images.
            generator: the seeded CPU generator for the random choices.

        Returns:
            A (B, C, H, W) batch for the discriminator.
        """
        if self.size == 0:
            return batch.detach()
        out = []
        for image in batch.detach():
            if len(self.images) < self.size:
                self.images.append(image.cpu())
                out.append(image)
            elif torch.rand(1, generator=generator).item() < 0.5:
                i = int(torch.randint(0, self.size, (1,), generator=generator))
                out.append(self.images[i].to(image.device))
                self.images[i] = image.cpu()
            else:
                out.append(image)
        return torch.stack(out)

    def state(self) -> list[torch.Tensor]:
        """The stored images, for a checkpoint."""
        return list(self.images)

    def restore(self, images: list[torch.Tensor]) -> None:
        """Put back the images a checkpoint held."""
        self.images = list(images)
