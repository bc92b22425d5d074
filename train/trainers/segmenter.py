"""Train a segmenter: cross-entropy plus soft Dice on per-pixel logits, with the classifier trainer's loop.

Everything but the loss and the scores is ClassifierTrainer's: Adam, flips and rot90 drawn from
the checkpointed generator, per-epoch validation and checkpoints, and an exact --resume. The
mask rides through the augmentation as one more channel, so a patch and its mask turn together.

The loss is cross-entropy with the class weights the classifier trainer derives (inverse
frequency of the patches' majority classes) plus soft Dice averaged over the classes (Milletari
et al. 2016): cross-entropy trains every pixel alike, Dice scores each class's overlap as a
whole, which keeps the smaller class and thin shapes from being drowned. Pixels whose mask is
IGNORE (unlabelled, nodata) count in neither.
"""
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from train.augment import augment
from train.datasets.raster_masks import IGNORE
from train.metrics import accuracy, confusion_matrix, per_class_f1
from train.trainers.classifier import ClassifierTrainer

DICE_SMOOTH = 1.0


def soft_dice_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - mean over classes of the soft Dice coefficient on the labelled pixels.

    Args:
        logits: (B, K, H, W).
        mask: (B, H, W) class indices, IGNORE where a pixel does not count.

    Returns:
        A scalar.
    """
    keep = (mask != IGNORE).unsqueeze(1).float()
    probabilities = torch.softmax(logits, dim=1) * keep
    one_hot = nn.functional.one_hot(mask.clamp(min=0), logits.shape[1]).permute(0, 3, 1, 2).float() * keep
    intersection = (probabilities * one_hot).sum(dim=(0, 2, 3))
    sizes = probabilities.sum(dim=(0, 2, 3)) + one_hot.sum(dim=(0, 2, 3))
    return 1 - ((2 * intersection + DICE_SMOOTH) / (sizes + DICE_SMOOTH)).mean()


def iou_per_class(confusion: torch.Tensor, class_names: list[str]) -> dict[str, float]:
    """Intersection over union of each class from a pixel confusion matrix (rows true, columns predicted)."""
    tp = confusion.diagonal().double()
    union = confusion.sum(dim=0).double() + confusion.sum(dim=1).double() - tp
    iou = torch.where(union > 0, tp / union.clamp(min=1), torch.zeros_like(tp))
    return {name: round(float(v), 4) for name, v in zip(class_names, iou)}


class SegmenterTrainer(ClassifierTrainer):
    """Fits a network that maps (B, C, H, W) to per-pixel logits (B, K, H, W) against (B, H, W) masks.

    Args: as ClassifierTrainer's.
    """

    def train_step(self, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module, where: str) -> tuple[float, dict[str, float]]:
        """One update on a batch turned and flipped together with its masks; returns the loss and the Dice part."""
        turned = augment(torch.cat([x, y.unsqueeze(1).to(x.dtype)], dim=1), self.generator)
        x, y = turned[:, :-1].to(self.options.device), turned[:, -1].round().long().to(self.options.device)
        logits = self.trained(x)
        dice = soft_dice_loss(logits, y)
        loss = loss_fn(logits, y) + dice
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item(), {"dice": dice.item()}

    @torch.no_grad()
    def evaluate(self, data: Dataset, loss_fn: nn.Module) -> dict[str, Any]:
        """Validation loss (cross-entropy + Dice), pixel accuracy, and per-class F1 and IoU over the labelled pixels."""
        self.network.eval()
        k = len(self.class_names)
        confusion = torch.zeros(k, k, dtype=torch.long)
        total, batches = 0.0, 0
        for x, y in DataLoader(data, batch_size=self.options.batch_size):
            logits = self.network(x.to(self.options.device)).cpu()
            total += float(loss_fn(logits, y) + soft_dice_loss(logits, y))
            batches += 1
            keep = y != IGNORE
            confusion += confusion_matrix(logits.argmax(dim=1)[keep], y[keep], k)
        return {"val_loss": round(total / max(batches, 1), 5), "val_accuracy": round(accuracy(confusion), 4),
                "val_f1": per_class_f1(confusion, self.class_names), "val_iou": iou_per_class(confusion, self.class_names),
                "confusion": confusion.tolist()}
