"""Train a tile classifier: Adam, cross-entropy on tile logits, flips and rot90, per-epoch validation.

The trainer knows nothing of files or layouts: it gets two datasets of prepared tensors.
After every epoch it writes a checkpoint (model, optimizer, epoch, RNG state, history), and
`resume` continues from the latest one exactly where it stopped: shuffling and augmentation
draw from one seeded generator whose state is checkpointed, so a resumed run matches an
uninterrupted one. Under --camat (train/camat.py) each batch is also partly occluded where its
GradCAM is highest, after a warm-up of plain epochs; every epoch logs how concentrated the
validation patches' GradCAM evidence is, with or without it. Under torchrun each process trains
on its share of the epoch through DistributedDataParallel (train/distributed.py); rank 0 alone
checkpoints and logs.
"""
import dataclasses
import time
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from train.augment import augment
from train.camat import occlude, validation_concentration
from train.checkpoint import clear_checkpoints, resume_state, save_checkpoint
from train.distributed import (
    barrier,
    current_world,
    epoch_sampler,
    mean_over_ranks,
    parallel,
    process_group,
    rank_batch,
    world_device,
)
from train.metrics import accuracy, confusion_matrix, per_class_f1
from train.trainers.options import TrainerOptions


def class_weights(labels: list[int], num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights, so that the larger class does not drown the smaller one."""
    counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double().clamp(min=1)
    return (counts.sum() / (num_classes * counts)).float()


class ClassifierTrainer:
    """Fits a network that maps (B, C, H, W) to tile logits (B, K).

    Args:
        network: the classifier, freshly initialised (a resume overwrites its weights).
        class_names: K names in logit order.
        options: see TrainerOptions.
        fingerprint: plain data that must match for a checkpoint to be resumed (data, options).
    """

    def __init__(self, network: nn.Module, class_names: list[str], options: TrainerOptions,
                 fingerprint: dict[str, Any]) -> None:
        self.world = current_world()
        options = dataclasses.replace(options, device=world_device(self.world, options.device))
        self.network = network.to(options.device)
        self.trained = self.network  # what train_step runs: DDP around the network inside fit under torchrun
        self.class_names = class_names
        self.options = options
        self.fingerprint = fingerprint
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=options.lr)
        self.generator = torch.Generator().manual_seed(options.seed)
        self.history: list[dict[str, Any]] = []
        self.epoch = 0

    def state(self) -> dict[str, Any]:
        """Everything a checkpoint holds (plain data and tensors); subclasses add their own parts."""
        return {"epoch": self.epoch, "model": self.network.state_dict(), "optimizer": self.optimizer.state_dict(),
                "rng": self.generator.get_state(), "history": self.history, "fingerprint": self.fingerprint}

    def load_state(self, state: dict[str, Any]) -> None:
        """Put back what `state()` saved."""
        self.network.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["rng"])
        self.history, self.epoch = state["history"], state["epoch"]

    def _restore(self) -> None:
        self.load_state(resume_state(self.options.workdir, self.fingerprint))

    def _checkpoint(self) -> None:
        if self.world.main:
            save_checkpoint(self.options.workdir, self.epoch, self.state())
        barrier(self.world)

    def learning_rate(self, step: int) -> float:
        """The learning rate for the 1-based step of the whole run; constant here, warmed up by subclasses."""
        return self.options.lr

    def augmented(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The batch turned and flipped, on the device, and after CAMAT's warm-up partly occluded (options.camat)."""
        x = augment(x, self.generator).to(self.options.device)
        camat = self.options.camat
        if camat is None or self.epoch < camat.warmup:
            return x
        return occlude(self.network, x, y, camat, self.generator)[0]

    def train_step(self, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module, where: str) -> tuple[float, dict[str, float]]:
        """One update on an augmented batch; returns the loss and extra values for the progress bar.

        Args:
            x: (B, C, H, W) standardised patches.
            y: (B,) labels.
            loss_fn: the classification loss.
            where: "epoch E step S", for messages about this step.
        """
        loss = loss_fn(self.trained(self.augmented(x, y)), y.to(self.options.device))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item(), {}

    def _train_epoch(self, data: Dataset, loss_fn: nn.Module) -> float:
        self.network.train()
        sampler = epoch_sampler(data, self.world, self.generator, self.options.seed, self.epoch)
        loader = DataLoader(data, batch_size=rank_batch(self.options.batch_size, self.world), sampler=sampler)
        total, seen = 0.0, 0
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}/{self.options.epochs}", unit="step", leave=False, mininterval=1.0,
                   disable=not self.world.main)
        for step, (x, y) in enumerate(bar, start=1):
            for group in self.optimizer.param_groups:
                group["lr"] = self.learning_rate(self.epoch * len(loader) + step)
            loss, shown = self.train_step(x, y, loss_fn, f"epoch {self.epoch + 1} step {step}")
            total += loss * len(y)
            seen += len(y)
            bar.set_postfix(loss=f"{total / seen:.4f}", **{k: f"{v:.2f}" for k, v in shown.items()})
        return mean_over_ranks(total / max(seen, 1), self.world, self.options.device)

    def evaluate(self, data: Dataset, loss_fn: nn.Module) -> dict[str, Any]:
        """Validation loss, accuracy, per-class F1, and the share of the GradCAM evidence in its top 10 % of pixels."""
        scores = self._scores(data, loss_fn)
        batches = (x for x, _ in DataLoader(data, batch_size=self.options.batch_size))
        return {**scores, "val_evidence_top10": validation_concentration(self.network, batches, self.options.device)}

    @torch.no_grad()
    def _scores(self, data: Dataset, loss_fn: nn.Module) -> dict[str, Any]:
        self.network.eval()
        confusion = torch.zeros(len(self.class_names), len(self.class_names), dtype=torch.long)
        total = 0.0
        for x, y in DataLoader(data, batch_size=self.options.batch_size):
            logits = self.network(x.to(self.options.device)).cpu()
            total += float(loss_fn(logits, y)) * len(y)
            confusion += confusion_matrix(logits.argmax(dim=1), y, len(self.class_names))
        return {"val_loss": round(total / max(len(data), 1), 5), "val_accuracy": round(accuracy(confusion), 4),
                "val_f1": per_class_f1(confusion, self.class_names), "confusion": confusion.tolist()}

    def fit(self, train: Dataset, val: Dataset, train_labels: list[int]) -> list[dict[str, Any]]:
        """Train until `options.epochs` epochs are done, validating and checkpointing after each.

        Args:
            train: prepared training samples (tensor, label).
            val: prepared validation samples.
            train_labels: the training labels, for class weights.

        Returns:
            The per-epoch history (train loss, validation metrics, seconds).

        Raises:
            NaturalExplainError: for a missing or mismatching checkpoint under `resume`.
        """
        with process_group(self.world, self.options.device):
            self.trained = parallel(self.network, self.world, self.options.device)
            return self._fit(train, val, train_labels)

    def _fit(self, train: Dataset, val: Dataset, train_labels: list[int]) -> list[dict[str, Any]]:
        if self.options.resume:
            self._restore()
        elif self.world.main:
            clear_checkpoints(self.options.workdir)
        barrier(self.world)
        weights = class_weights(train_labels, len(self.class_names))
        train_loss_fn = nn.CrossEntropyLoss(weight=weights.to(self.options.device))
        val_loss_fn = nn.CrossEntropyLoss(weight=weights)
        while self.epoch < self.options.epochs:
            started = time.perf_counter()
            train_loss = self._train_epoch(train, train_loss_fn)
            metrics = self.evaluate(val, val_loss_fn)
            self.epoch += 1
            self.history.append({"epoch": self.epoch, "train_loss": round(train_loss, 5), **metrics,
                                 "seconds": round(time.perf_counter() - started, 2)})
            self._checkpoint()
            concentration = metrics.get("val_evidence_top10")
            evidence = f", val GradCAM evidence in its top 10% of pixels {concentration:.3f}" if concentration is not None else ""
            if self.world.main:
                tqdm.write(f"epoch {self.epoch}/{self.options.epochs}: train loss {train_loss:.4f}, "
                           f"val loss {metrics['val_loss']:.4f}, val accuracy {metrics['val_accuracy']:.3f}, "
                           f"val F1 {metrics['val_f1']}{evidence}")
        return self.history
