"""The checks on the input a scan gathers tile by tile, and the one verdict they make.

Every run of a model on a raster asks whether the input looks like the training imagery:
the input statistics (core.input_statistics), the training value range when the card has one
(core.value_range) and, for a JEM, the patches' log p(x) (core.jem.familiarity). explain
records them in run.json and ood in ood.json. They observe the tiles through the scan engine's
iterator (core.scan), and a Dask worker's share is merged in (core.dask_tiles).
"""
import dataclasses

import torch

from core.input_statistics import InputStatistics
from core.jem.familiarity import Familiarity, PatchLogPx, assess
from core.jem.histogram import training_histogram
from core.models.card import ModelCard
from core.ood_verdict import Verdict, combine
from core.scan import Observer
from core.value_range import ValueRangeCheck


@dataclasses.dataclass
class InputChecks:
    """The input statistics, the value range (None without a card range) and a JEM's patch log p(x) (None otherwise)."""

    statistics: InputStatistics
    in_range: ValueRangeCheck | None
    patches: PatchLogPx | None

    @classmethod
    def of(cls, card: ModelCard, device: torch.device) -> "InputChecks":
        """The checks a model's card allows, empty."""
        return cls(InputStatistics(card, device), ValueRangeCheck(card, device) if card.value_range else None,
                   PatchLogPx(card.jem["patch_size"]) if card.jem else None)

    def observers(self) -> list[Observer]:
        """The checks as the tile iterator feeds them; the patches take the batch's logits, which explain shares."""
        found = [Observer("input_statistics", lambda batch: self.statistics.add(batch.x, batch.valid))]
        if self.in_range is not None:
            found.append(Observer("value_range", lambda batch: self.in_range.add(batch.x, batch.valid)))
        if self.patches is not None:
            found.append(Observer("ood", lambda batch: self.patches.add([tile.window for tile in batch.tiles],
                                                                        batch.logits, batch.valid)))
        return found

    def merge(self, other: "InputChecks") -> None:
        """Add what another process gathered from later tiles (a Dask worker's block)."""
        self.statistics.merge(other.statistics)
        for mine, theirs in ((self.in_range, other.in_range), (self.patches, other.patches)):
            if mine is not None:
                mine.merge(theirs)

    def familiarity(self, card: ModelCard) -> Familiarity | None:
        """The patches' log p(x) against the JEM's training histogram; None for other models."""
        return assess(self.patches.values(), training_histogram(card)) if self.patches is not None else None

    def verdict(self, familiarity: Familiarity | None) -> Verdict:
        """The one verdict on the input over every check (core.ood_verdict)."""
        return combine(self.statistics, self.in_range, familiarity)
