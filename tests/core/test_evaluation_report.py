"""The evaluation table on hand-made rows: means, spreads and the draws each method wins."""
import pytest

from core.explain.evaluation_summary import MethodRow, summarise
from core.explain.report import markdown_table


def _row(method, deletion, insertion=1.0, road=1.0, iou=None, rho=None):
    return MethodRow(method, deletion, insertion, road, iou, 1.0, rho)


DRAWS = [
    [_row("gradcam", 0.90, 1.10, 0.80, 0.2, 0.1), _row("random", 1.00), _row("brightness", 1.05, 0.9, 1.1)],
    [_row("gradcam", 0.96, 0.95, 1.20, None, 0.3), _row("random", 0.95), _row("brightness", 1.00, 1.1, 0.9)],
]


def test_summary_gives_mean_sample_spread_and_ranks_by_deletion():
    summaries = summarise(DRAWS)
    assert [s.mean.method for s in summaries] == ["gradcam", "random", "brightness"]
    gradcam = summaries[0]
    assert gradcam.mean.deletion_auc == pytest.approx(0.93) and gradcam.sd.deletion_auc == pytest.approx(0.0424, abs=1e-4)
    assert gradcam.mean.iou == pytest.approx(0.2) and gradcam.sd.iou is None  # one draw held the class
    assert gradcam.mean.randomization_rho == pytest.approx(0.2)
    assert summaries[1].mean.randomization_rho is None


def test_wins_count_the_draws_a_method_did_better_on():
    gradcam = summarise(DRAWS)[0]
    assert gradcam.wins == {"deletion_auc vs random": 1, "insertion_auc vs random": 1, "road_auc vs random": 1,
                            "deletion_auc vs brightness": 2, "insertion_auc vs brightness": 1,
                            "road_auc vs brightness": 1}
    random = summarise(DRAWS)[1]
    assert random.wins["deletion_auc vs gradcam"] == 1 and "deletion_auc vs random" not in random.wins


def test_one_draw_has_no_spread():
    (summary, *_) = summarise(DRAWS[:1])
    assert summary.sd is None


def test_table_shows_mean_and_spread_and_the_wins():
    context = {"input": "sample", "distinct_tiles": 3,
               "parameters": {"tiles": 2, "tile_size": [32, 32], "seeds": [0, 1], "draws": 2, "fill": "blur",
                              "steps": 20, "q_percent": 10.0, "road": {"percentages": [10, 90]},
                              "randomization": {"layers": ["head"]}},
               "reference": {"field": "class", "class": "wetland", "tiles_with_class": 1}}
    table = markdown_table(summarise(DRAWS), context)
    assert ("| method | deletion AUC ↓ | insertion AUC ↑ | ROAD AUC ↓ | IoU@top-10% | s per megapixel | "
            "rank corr. randomised ↓ | beats random (del/ins/ROAD) | beats brightness (del/ins/ROAD) | "
            "beats gradcam (del) |") in table
    assert "| gradcam | 0.930 ± 0.042 | 1.025 ± 0.106 | 1.000 ± 0.283 | 0.200 | 1.00 ± 0.00 | 0.200 ± 0.141 | 1/1/1 | 2/1/1 | — |" in table
    assert "| random | 0.975 ± 0.035 |" in table and "| n/a | — | 2/1/1 | 1 |" in table
