"""Hold out validation data by spatial blocks, never by random pixels.

Neighbouring pixels look alike, so a random split leaks training data into validation and
reports accuracy the model will not have on new ground. Here every sample belongs to a
group (a spatial block, or one file when the data carry no georeference) and whole groups
go to validation.
"""
import dataclasses
import hashlib
import math
from collections import Counter, defaultdict
from typing import Hashable, Sequence

from rasterio.crs import CRS
from rasterio.warp import transform as transform_points

from core.errors import NaturalExplainError

# An equal-area projection in metres, so blocks of geographic tiles have one size everywhere.
SINUSOIDAL = CRS.from_proj4("+proj=sinu +lon_0=0 +datum=WGS84 +units=m +no_defs")

BlockKey = tuple[str, int, int]


@dataclasses.dataclass(frozen=True)
class Split:
    """Which samples train and which validate, and how that was decided.

    Attributes:
        train: indices of training samples.
        val: indices of validation samples.
        mode: "spatial-blocks", "per-file" or "csv".
        warnings: lines worth recording in the model's metrics.
    """

    train: list[int]
    val: list[int]
    mode: str
    warnings: list[str] = dataclasses.field(default_factory=list)


def block_key(crs: CRS, x: float, y: float, block_size_m: float) -> BlockKey:
    """The block of an absolute grid of `block_size_m` squares that holds the point (x, y).

    The grid is anchored at the CRS origin, so the same place always falls in the same
    block, whatever raster or tile it was cut from.

    Args:
        crs: the CRS of (x, y); geographic CRSs are projected to a sinusoidal grid first.
        x: easting or longitude.
        y: northing or latitude.
        block_size_m: the side of a block in metres.

    Returns:
        (CRS name, column, row) of the block.
    """
    name = crs.to_string()
    if crs.is_geographic:
        (x,), (y,) = transform_points(crs, SINUSOIDAL, [x], [y])
        name = "sinusoidal"
    return name, math.floor(x / block_size_m), math.floor(y / block_size_m)


def _rank(seed: int, group: Hashable) -> str:
    """A seeded, order-free ranking key: the same group gets the same rank on every run."""
    return hashlib.sha256(f"{seed}:{group!r}".encode()).hexdigest()


def _val_groups(groups: Sequence[Hashable], labels: Sequence[int], val_fraction: float, seed: int) -> set[Hashable]:
    """Pick about `val_fraction` of the groups of each majority class for validation.

    Stratifying by the class a group mostly holds keeps every class in validation, which
    matters with region labels where a few big polygons make all the blocks.
    """
    counts: dict[Hashable, Counter] = defaultdict(Counter)
    for group, label in zip(groups, labels):
        counts[group][label] += 1
    by_class: dict[int, list[Hashable]] = defaultdict(list)
    for group, counter in counts.items():
        by_class[counter.most_common(1)[0][0]].append(group)
    chosen: set[Hashable] = set()
    for members in by_class.values():
        members.sort(key=lambda g: _rank(seed, g))
        n_val = round(val_fraction * len(members))
        if len(members) >= 2:
            n_val = min(max(n_val, 1), len(members) - 1)
        chosen.update(members[:n_val])
    return chosen


def split_by_groups(groups: Sequence[Hashable], labels: Sequence[int], val_fraction: float,
                    seed: int, mode: str, warnings: list[str] | None = None) -> Split:
    """Split samples so that each group lies wholly in train or wholly in validation.

    Args:
        groups: one group per sample (a block key, or a file name).
        labels: one class index per sample.
        val_fraction: the share of groups (per majority class) held out.
        seed: makes the choice of groups reproducible.
        mode: recorded in the result ("spatial-blocks" or "per-file").
        warnings: carried into the result.

    Returns:
        The split.

    Raises:
        NaturalExplainError: when validation or training would be empty.
    """
    if not 0 < val_fraction < 1:
        raise NaturalExplainError(f"--val-fraction must lie between 0 and 1, not {val_fraction}")
    val_groups = _val_groups(groups, labels, val_fraction, seed)
    val = [i for i, g in enumerate(groups) if g in val_groups]
    train = [i for i, g in enumerate(groups) if g not in val_groups]
    if not val or not train:
        raise NaturalExplainError(
            f"only {len(set(groups))} {'blocks' if mode == 'spatial-blocks' else 'files'} hold samples, "
            "too few to hold some out for validation: label a larger area or use a smaller --block-size-m")
    return Split(train=train, val=val, mode=mode, warnings=list(warnings or []))


def split_by_column(splits: Sequence[str]) -> Split:
    """Honour a dataset's own split column: train rows train, val rows validate, test rows are left out.

    Args:
        splits: one split name per sample (train, val/validation/valid, test).

    Returns:
        The split, mode "csv".

    Raises:
        NaturalExplainError: for an unknown split name, or no train or no val rows.
    """
    names = {"train": "train", "val": "val", "validation": "val", "valid": "val", "test": "test"}
    unknown = sorted({s for s in splits if s.strip().lower() not in names})
    if unknown:
        raise NaturalExplainError(f"unknown split names {unknown} in the split column: use train, val or test")
    roles = [names[s.strip().lower()] for s in splits]
    train = [i for i, r in enumerate(roles) if r == "train"]
    val = [i for i, r in enumerate(roles) if r == "val"]
    if not train or not val:
        raise NaturalExplainError("the split column needs both train and val rows; "
                                  "fix the CSV or pass --split-column '' to split by spatial blocks")
    return Split(train=train, val=val, mode="csv")


def split_samples(groups: Sequence[Hashable], georeferenced: Sequence[bool], labels: Sequence[int],
                  splits: Sequence[str] | None, val_fraction: float, seed: int) -> Split:
    """Choose the split a dataset calls for: its own split column, else spatial blocks, else per file.

    Args:
        groups: per sample, its block key, or its file name when it has no georeference.
        georeferenced: per sample, whether its group is a spatial block.
        labels: per sample, its class index.
        splits: the dataset's own split names per sample, or None.
        val_fraction: the share of groups held out when splitting by groups.
        seed: makes the choice reproducible.

    Returns:
        The split; a per-file split carries a warning that neighbouring tiles may leak.

    Raises:
        NaturalExplainError: when a split would leave train or validation empty.
    """
    if splits is not None:
        return split_by_column(splits)
    if all(georeferenced):
        return split_by_groups(groups, labels, val_fraction, seed, "spatial-blocks")
    warning = (f"{sum(not g for g in georeferenced)} tiles carry no georeference, so validation is held out "
               "per file, not per spatial block: neighbouring tiles may leak and inflate validation scores")
    return split_by_groups(groups, labels, val_fraction, seed, "per-file", [warning])
