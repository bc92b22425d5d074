"""The one out-of-distribution verdict: the JEM's log p(x) and the input statistics it cannot see, with reasons.

`core ood` (ood.json's `out_of_distribution`) and the QGIS report give one answer and one
sentence; each check that fired is named in it with its statistic and limit, so the analyst
sees why (core.input_statistics says what each check catches and how its limit was set).
"""
import dataclasses
from typing import Any

import numpy as np

from core.input_statistics import InputStatistics, Reason
from core.jem.familiarity import Familiarity
from core.value_range import OUTSIDE_LIMIT, ValueRangeCheck

# The JEM's log p(x) check, limited by core.input_statistics's rule like the others: on the
# north half's 128 px areas (16 patches each) the bundled JEM's KL divergence of the patches'
# histogram from the training one has median 1.10 and reaches 2.51 -> 3.93 (bench/measure_ood.py,
# limits_from_north). The whole-input limits of core.jem.familiarity (KL 3.0, 20 % of patches below
# the training 1st percentile) fire on 1 % of those training areas and 1.9 % of the south half's
# (the JEM before it: 6.7 % and 13 %). The share below p1 is recorded (ood.json "ood") but not
# voted: on 16 patches one patch is 6 %, and the JEM before it reached 0.5 on training areas.
LOG_PX_KL_LIMIT = 3.93

# The value-range check counts, as explain's warning does, a share above core.value_range's
# OUTSIDE_LIMIT ("most pixels outside"), here in the median band, so a scale slip that moves
# most bands counts and one band's regional quirk does not (the south half's lagoon puts up to
# 94 % of one 128 px area's B06 pixels below the range). The range holds 99.8 % of the training
# pixels of every band by construction (train.normalization.RANGE_PERCENTILES); the north half's
# 128 px areas reach 1.5 % at most in their median band (bench/measure_ood.py).


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Every check's reason; the input is out of distribution when any of them fired."""

    reasons: list[Reason]

    @property
    def out_of_distribution(self) -> bool:
        """True when any check fired."""
        return any(r.fired for r in self.reasons)

    def warning(self) -> str | None:
        """One sentence naming the checks that fired, with their statistics and limits; None when none did."""
        fired = [r for r in self.reasons if r.fired]
        if not fired:
            return None
        return ("the input looks unlike the model's training imagery (" + "; ".join(r.sentence() for r in fired)
                + "): treat the naturalness map with caution")

    def to_json(self) -> dict[str, Any]:
        """ood.json's verdict: `out_of_distribution`, the checks that `fired`, and every check's reason."""
        return {"out_of_distribution": self.out_of_distribution,
                "fired": [r.check for r in self.reasons if r.fired],
                "reasons": [r.to_json() for r in self.reasons]}


def value_range_reason(in_range: ValueRangeCheck) -> Reason:
    """The value-range check as a reason: the median band's share of pixels outside the training range."""
    return Reason("value_range", float(np.median(in_range.shares())), OUTSIDE_LIMIT, False,
                  "{statistic:.0%} of the median band's pixels lie outside the training value range (limit "
                  "{limit:.0%}; digital numbers in another scale, another sensor?)")


def familiarity_reason(familiarity: Familiarity) -> Reason | None:
    """The JEM's log p(x) check as a reason: the KL divergence from the training histogram (None under MIN_PATCHES)."""
    if familiarity.kl_divergence is None:
        return None
    return Reason("log_px_kl_divergence", familiarity.kl_divergence, LOG_PX_KL_LIMIT, False,
                  "the patches' log p(x) histogram lies KL {statistic:.1f} from the training one (limit {limit:.1f})")


def combine(statistics: InputStatistics, in_range: ValueRangeCheck | None = None,
            familiarity: Familiarity | None = None) -> Verdict:
    """The verdict over the input statistics, the value range (when the card has one) and the JEM's log p(x)."""
    reasons = statistics.reasons()
    if in_range is not None and in_range.pixels:
        reasons.append(value_range_reason(in_range))
    if familiarity is not None and (reason := familiarity_reason(familiarity)) is not None:
        reasons.append(reason)
    return Verdict(reasons)
