"""Damaged, hand-edited or misplaced model files: one line naming the file and the field, exit 2, no output.

Each case copies a real bundled model (sidecar and weights) into tmp_path, damages one thing and
runs the CLI as a user would. Refusals come from the sidecar check in core.models.card, before
any tile is read, so every case is quick.
"""
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from core.errors import NaturalExplainError
from core.models.card import CARD_FIELDS, ModelCard, read_card
from core.models.model_file import load_model, save_model
from core.resources import DEFAULT_GENERATORS, DEFAULT_JEM, DEFAULT_MODEL
from tests.helpers.faults import assert_refused, partial_files, run_main

# A 320 m square in the middle of the bundled sample (EPSG:32618): a few tiles, so a run that is not refused is quick.
AOI = "446400,4170640,446720,4170960"
# 1280 m: enough 32 px patches for an OOD histogram.
OOD_AOI = "446080,4170320,447360,4171600"
Edit = Callable[[dict], Any]


def copy_model(folder: Path, source: Path = DEFAULT_MODEL, name: str = "m") -> Path:
    """A writable copy of a bundled model (sidecar and weights) in `folder`; returns the sidecar path."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".safetensors"):
        shutil.copy(source.with_suffix(suffix), folder / f"{name}{suffix}")
    return folder / f"{name}.json"


def damaged(folder: Path, edit: Edit, source: Path = DEFAULT_MODEL) -> Path:
    """A copy of `source` whose sidecar JSON went through `edit` (which changes the dict in place)."""
    path = copy_model(folder, source)
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))  # NaN and Infinity are written as JSON's common extension, as a user's tool might
    return path


def assert_no_output(out: Path) -> None:
    """A refused run leaves no file in its output folder, not even a partial one."""
    assert not partial_files(out)
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*")), sorted(out.rglob("*"))


def explain(sample_dir: Path, out: Path, model: Path, *extra: str):
    return run_main("explain", sample_dir, "--out", out, "--model", model, "--aoi", AOI, "--quiet", *extra)


def setter(*keys: str, value: Any) -> Edit:
    """An edit that sets card[keys[0]][keys[1]]... to `value`."""
    def edit(card: dict) -> None:
        target = card
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


def dropper(*keys: str) -> Edit:
    """An edit that removes card[keys[0]][keys[1]]...."""
    def edit(card: dict) -> None:
        target = card
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return edit


def scaled(field: str, factor: float) -> Edit:
    return lambda card: card.__setitem__(field, [v * factor for v in card[field]])


NAN, INF = float("nan"), float("inf")

# (id, edit, what the error line must name). The F2 cases of issue 12 come first.
CLASSIFIER_CASES: list[tuple[str, Edit, str]] = [
    ("arch_args-extra-key", setter("arch_args", "depth", value=3), "arch_args.depth"),
    ("arch_args-string", setter("arch_args", value="abc"), "arch_args"),
    ("bands-number", setter("bands", value=5), "bands"),
    ("mean-null", setter("mean", value=None), "mean"),
    ("tile_size-0", setter("tile_size", value=0), "tile_size"),
    ("tile_size-negative", setter("tile_size", value=-256), "tile_size"),
    ("resolution_m-0", setter("resolution_m", value=0), "resolution_m"),
    ("scale-string", setter("scale", value="abc"), "scale"),
    ("clip-one-number", setter("clip", value=[1]), "clip"),
    ("resolution_m-negative", setter("resolution_m", value=-10), "resolution_m"),
    ("std-all-0", scaled("std", 0), "std"),
    ("mean-nan", setter("mean", value=[NAN] * 10), "mean"),
    ("mean-one-nan", lambda c: c["mean"].__setitem__(3, NAN), "mean"),
    ("mean-infinity", lambda c: c["mean"].__setitem__(0, INF), "mean"),
    ("std-negative", scaled("std", -1), "std"),
    ("std-nine", lambda c: c["std"].pop(), "std"),
    ("mean-eleven", lambda c: c["mean"].append(0.1), "mean"),
    ("mean-object", setter("mean", value={"B02": 0.1}), "mean"),
    ("mean-strings", lambda c: c.__setitem__("mean", [str(v) for v in c["mean"]]), "mean"),
    ("value_range-three", lambda c: c.__setitem__("value_range", c["value_range"][:3]), "value_range"),
    ("value_range-reversed", lambda c: c["value_range"].__setitem__(0, [0.5, 0.1]), "value_range"),
    ("value_range-triple", lambda c: c["value_range"].__setitem__(0, [0.1, 0.2, 0.3]), "value_range"),
    ("value_range-outside-clip", lambda c: c["value_range"].__setitem__(0, [-5.0, 0.2]), "value_range"),
    ("natural_classes-unknown", setter("natural_classes", value=["forest"]), "natural_classes"),
    ("natural_classes-empty", setter("natural_classes", value=[]), "natural_classes"),
    ("natural_classes-all", setter("natural_classes", value=["anthropogenic", "natural"]), "natural_classes"),
    ("natural_classes-string", setter("natural_classes", value="natural"), "natural_classes"),
    ("classes-duplicate", setter("classes", value=["natural", "natural"]), "classes"),
    ("classes-one", setter("classes", value=["natural"]), "classes"),
    ("bands-duplicate", lambda c: c["bands"].__setitem__(1, "B02"), "bands"),
    ("bands-blank-name", lambda c: c["bands"].__setitem__(1, " "), "bands"),
    ("bands-numbers", setter("bands", value=list(range(1, 11))), "bands"),
    ("bands-three", lambda c: c.__setitem__("bands", c["bands"][:3]), "mean"),
    ("architecture-unknown", setter("architecture", value="resnet50"), "architecture"),
    ("architecture-list", setter("architecture", value=["naturalness_fcn"]), "architecture"),
    ("architecture-missing", dropper("architecture"), "architecture"),
    ("std-missing", dropper("std"), "std"),
    ("format-other", setter("format", value="geojson"), "format"),
    ("format-missing", dropper("format"), "format"),
    ("format_version-newer", setter("format_version", value=2), "format_version"),
    ("format_version-string", setter("format_version", value="1"), "format_version"),
    ("scale-huge", setter("scale", value=1e300), "scale"),
    ("scale-negative", setter("scale", value=-0.0001), "scale"),
    ("scale-boolean", setter("scale", value=True), "scale"),
    ("resolution_m-huge", setter("resolution_m", value=1e308), "resolution_m"),
    ("resolution_m-infinity", setter("resolution_m", value=INF), "resolution_m"),
    ("tile_size-float", setter("tile_size", value=256.0), "tile_size"),
    ("tile_size-huge-int", setter("tile_size", value=10 ** 30), "tile_size"),
    ("tile_size-string", setter("tile_size", value="256"), "tile_size"),
    ("arch_args-width-0", setter("arch_args", "width", value=0), "arch_args.width"),
    ("arch_args-width-huge", setter("arch_args", "width", value=10 ** 6), "arch_args.width"),
    ("arch_args-in_channels", setter("arch_args", "in_channels", value=9), "arch_args.in_channels"),
    ("arch_args-num_classes", setter("arch_args", "num_classes", value=3), "arch_args.num_classes"),
    ("arch_args-num_classes-missing", dropper("arch_args", "num_classes"), "arch_args.num_classes"),
    ("clip-reversed", setter("clip", value=[1.0, 0.0]), "clip"),
    ("clip-strings", setter("clip", value=["0", "1"]), "clip"),
    ("clip-nan", setter("clip", value=[NAN, 1.0]), "clip"),
    ("training-string", setter("training", value="python -m train"), "training"),
    ("jem-empty-on-classifier", setter("jem", value={}), "jem.patch_size"),
    ("trained_against-string", setter("trained_against", value="naturalness_s2"), "trained_against"),
    ("weights_sha256-not-hex", setter("weights_sha256", value="xyz"), "weights_sha256"),
]

JEM_CASES: list[tuple[str, Edit, str]] = [
    ("patch_size-0", setter("jem", "patch_size", value=0), "jem.patch_size"),
    ("patch_size-over-tile", setter("jem", "patch_size", value=512), "jem.patch_size"),
    ("patch_size-missing", dropper("jem", "patch_size"), "jem.patch_size"),
    ("logpx-missing", dropper("jem", "logpx"), "jem.logpx"),
    ("counts-short", lambda c: c["jem"]["logpx"]["counts"].pop(), "jem.logpx.counts"),
    ("counts-negative", lambda c: c["jem"]["logpx"]["counts"].__setitem__(0, -1), "jem.logpx.counts"),
    ("edges-decreasing", lambda c: c["jem"]["logpx"]["edges"].reverse(), "jem.logpx.edges"),
    ("edges-nan", lambda c: c["jem"]["logpx"]["edges"].__setitem__(5, NAN), "jem.logpx.edges"),
    ("percentiles-no-p1", dropper("jem", "logpx", "percentiles", "p1"), "jem.logpx.percentiles"),
    ("sgld-step_size-string", setter("jem", "sgld", "step_size", value="abc"), "jem.sgld.step_size"),
    ("jem-list", setter("jem", value=[32]), "jem"),
]

GENERATOR_CASES: list[tuple[str, Edit, str]] = [
    ("endmembers-short-spectrum", lambda c: c["arch_args"]["natural_endmembers"][0].pop(), "arch_args.natural_endmembers"),
    ("endmembers-empty", setter("arch_args", "anthropogenic_endmembers", value=[]), "arch_args.anthropogenic_endmembers"),
    ("arch_args-std-zero", lambda c: c["arch_args"].__setitem__("std", [0.0] * 10), "arch_args.std"),
    ("arch_args-unknown", setter("arch_args", "num_classes", value=2), "arch_args.num_classes"),
    ("n_downsampling-huge", setter("arch_args", "n_downsampling", value=40), "arch_args.n_downsampling"),
    ("trained_against-bad-sha", setter("trained_against", "weights_sha256", value="0" * 63), "trained_against.weights_sha256"),
]


@pytest.mark.parametrize("edit,field", [pytest.param(e, f, id=i) for i, e, f in CLASSIFIER_CASES])
def test_damaged_classifier_card_is_refused_by_field(tmp_path, sample_dir, edit, field):
    model = damaged(tmp_path / "model", edit)
    line = assert_refused(explain(sample_dir, tmp_path / "o", model), f'"{field}"', str(model))
    assert "Traceback" not in line
    assert_no_output(tmp_path / "o")


@pytest.mark.parametrize("edit,field", [pytest.param(e, f, id=i) for i, e, f in JEM_CASES])
def test_damaged_jem_card_is_refused_by_ood_and_explain(tmp_path, sample_dir, edit, field):
    model = damaged(tmp_path / "model", edit, DEFAULT_JEM)
    assert_refused(run_main("ood", sample_dir, "--out", tmp_path / "o", "--model", model, "--aoi", OOD_AOI, "--quiet"),
                   f'"{field}"', str(model))
    assert_refused(explain(sample_dir, tmp_path / "o", model), f'"{field}"')
    assert_no_output(tmp_path / "o")


@pytest.mark.parametrize("edit,field", [pytest.param(e, f, id=i) for i, e, f in GENERATOR_CASES])
def test_damaged_generator_card_is_refused_by_field(tmp_path, edit, field):
    model = damaged(tmp_path / "model", edit, DEFAULT_GENERATORS)
    with pytest.raises(NaturalExplainError, match=f'"{field}"') as refused:
        load_model(model, expect="generators")
    assert "\n" not in str(refused.value)


# ---- the file itself: missing, not JSON, not an object, weights that do not belong ----

def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _truncate_weights(keep_checksum: bool) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        weights = folder / "m.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
        if not keep_checksum:
            _drop_checksum(folder)
    return damage


def _drop_checksum(folder: Path) -> None:
    card = json.loads((folder / "m.json").read_text())
    card.pop("weights_sha256")
    (folder / "m.json").write_text(json.dumps(card))


def _rewrite_weights(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Weights that are valid safetensors but hold changed tensors (the checksum dropped, as a hand-edit would)."""
    def damage(folder: Path) -> None:
        state = load_file(str(folder / "m.safetensors"))
        change(state)
        save_file(state, str(folder / "m.safetensors"))
        _drop_checksum(folder)
    return damage


def _other_models_weights(folder: Path) -> None:
    shutil.copy(DEFAULT_JEM.with_suffix(".safetensors"), folder / "m.safetensors")
    _drop_checksum(folder)


FILE_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("sidecar-missing", lambda f: (f / "m.json").unlink(), "not found"),
    ("sidecar-not-json", _write("m.json", b"{not json"), "not valid JSON"),
    ("sidecar-empty", _write("m.json", b""), "not valid JSON"),
    ("sidecar-binary", _write("m.json", bytes(range(256)) * 4), "not valid JSON"),
    ("sidecar-deeply-nested", _write("m.json", b"[" * 100_000 + b"]" * 100_000), "not valid JSON"),
    ("sidecar-list", _write("m.json", b"[1, 2, 3]"), "JSON array"),
    ("sidecar-number", _write("m.json", b"42"), "JSON number"),
    ("sidecar-string", _write("m.json", b'"natural-explain-model"'), "JSON string"),
    ("sidecar-null", _write("m.json", b"null"), "not an object"),
    ("sidecar-huge-number", _write("m.json", b"1" * 5000), "not valid JSON"),
    ("weights-missing", lambda f: (f / "m.safetensors").unlink(), "not found"),
    ("weights-truncated", _truncate_weights(keep_checksum=True), "checksum differs"),
    ("weights-truncated-no-checksum", _truncate_weights(keep_checksum=False), "corrupt"),
    ("weights-empty", lambda f: ((f / "m.safetensors").write_bytes(b""), _drop_checksum(f)), "corrupt"),
    ("weights-random", lambda f: ((f / "m.safetensors").write_bytes(random.Random(0).randbytes(4096)), _drop_checksum(f)),
     "corrupt"),
    ("weights-of-another-model", _other_models_weights, "do not fit the architecture"),
    ("weights-nan", _rewrite_weights(lambda s: s["head.weight"].fill_(float("nan"))), "NaN"),
    ("weights-extra-tensor", _rewrite_weights(lambda s: s.__setitem__("extra", torch.zeros(2))), "extra"),
    ("weights-missing-tensor", _rewrite_weights(lambda s: s.pop("head.bias")), "head.bias"),
]


@pytest.mark.parametrize("damage,needle", [pytest.param(d, n, id=i) for i, d, n in FILE_CASES])
def test_damaged_model_file_is_refused(tmp_path, sample_dir, damage, needle):
    model = copy_model(tmp_path / "model")
    damage(model.parent)
    assert_refused(explain(sample_dir, tmp_path / "o", model), needle, "m.")
    assert_no_output(tmp_path / "o")


def test_sidecar_that_is_a_folder_is_refused(tmp_path, sample_dir):
    model = copy_model(tmp_path / "model")
    model.unlink()
    model.mkdir()
    assert_refused(explain(sample_dir, tmp_path / "o", model), "model sidecar", "not found")


# ---- the wrong kind of model ----

def test_generators_as_model_for_explain_say_what_they_are(tmp_path, sample_dir):
    line = assert_refused(explain(sample_dir, tmp_path / "o", DEFAULT_GENERATORS), "pattern generators", "not a classifier",
                          "--methods cyclegan", DEFAULT_GENERATORS.name)
    assert "dense_logits" not in line
    assert_no_output(tmp_path / "o")


def test_generators_as_model_for_ood_say_what_they_are(tmp_path, sample_dir):
    outcome = run_main("ood", sample_dir, "--out", tmp_path / "o", "--model", DEFAULT_GENERATORS, "--quiet")
    assert_refused(outcome, "pattern generators", "not a classifier")
    assert_no_output(tmp_path / "o")


def test_generators_weights_path_is_refused_the_same_way(tmp_path, sample_dir):
    assert_refused(explain(sample_dir, tmp_path / "o", DEFAULT_GENERATORS.with_suffix(".safetensors")),
                   "pattern generators")


def test_classifier_for_ood_is_told_it_is_no_jem(tmp_path, sample_dir):
    outcome = run_main("ood", sample_dir, "--out", tmp_path / "o", "--model", DEFAULT_MODEL, "--quiet")
    assert_refused(outcome, "not a JEM")
    assert_no_output(tmp_path / "o")


def test_jem_is_a_classifier_and_explains(tmp_path, sample_dir):
    outcome = explain(sample_dir, tmp_path / "o", copy_model(tmp_path / "model", DEFAULT_JEM))
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "o" / "naturalness.tif").is_file() and (tmp_path / "o" / "confidence.tif").is_file()


@pytest.mark.slow
def test_jem_copy_runs_ood(tmp_path, sample_dir):
    model = copy_model(tmp_path / "model", DEFAULT_JEM)
    outcome = run_main("ood", sample_dir, "--out", tmp_path / "o", "--model", model, "--aoi", OOD_AOI, "--quiet")
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "o" / "ood.json").is_file()


def test_classifier_where_generators_belong_is_refused():
    with pytest.raises(NaturalExplainError, match="holds a classifier.*not pattern generators.*train cyclegan"):
        load_model(DEFAULT_MODEL, expect="generators")


@pytest.mark.parametrize("path,kind", [(DEFAULT_MODEL, "classifier"), (DEFAULT_JEM, "classifier"),
                                       pytest.param(DEFAULT_GENERATORS, "generators", marks=pytest.mark.slow)])
def test_bundled_models_load_as_their_kind(path, kind):
    loaded = load_model(path, expect=kind)
    assert loaded.card.kind == kind and not loaded.network.training
    assert load_model(path, expect=None).weights_sha256 == loaded.weights_sha256


# ---- the three maps that used to come out silently wrong with exit 0 ----

@pytest.mark.parametrize("edit,field", [
    pytest.param(setter("resolution_m", value=-10), "resolution_m", id="negative-resolution-wrote-nodata"),
    pytest.param(scaled("std", 0), "std", id="zero-std-gave-nan"),
    pytest.param(lambda c: c["mean"].__setitem__(0, NAN), "mean", id="nan-mean-gave-a-constant-map"),
])
def test_formerly_silent_cards_are_refused_on_reading(tmp_path, edit, field):
    model = damaged(tmp_path, edit)
    with pytest.raises(NaturalExplainError, match=f'model sidecar .*m.json: "{field}" must be'):
        read_card(model)


def test_schema_covers_every_card_field():
    """One table checks the whole card: a field added to ModelCard without a rule would go unchecked."""
    import dataclasses
    assert list(CARD_FIELDS) != [] and {f.name for f in dataclasses.fields(ModelCard)} == set(CARD_FIELDS)


def test_save_refuses_a_card_it_could_not_load(tmp_path):
    loaded = load_model(DEFAULT_MODEL)
    loaded.card.std = [0.0] * len(loaded.card.bands)
    with pytest.raises(NaturalExplainError, match='"std"'):
        save_model(loaded.network, loaded.card, tmp_path / "m")
    assert not list(tmp_path.iterdir())


# ---- fuzzing: any field replaced by a wrong-typed value is refused in one line or loads fine ----

WRONG_VALUES: list[Any] = [None, True, False, 0, -1, 1e308, 10 ** 40, -0.5, NAN, INF, "", "abc", [], [None], [1],
                           [[]], {}, {"a": 1}, [0.0] * 10, ["B02"] * 10, [[0.0, 1.0]] * 10, "natural"]


def _fields(card: dict) -> list[tuple[str, ...]]:
    """Every top-level field and every field one level down in an object, as key paths."""
    paths = [(key,) for key in card]
    return paths + [(key, sub) for key, value in card.items() if isinstance(value, dict) for sub in value]


def fuzzed_cards(source: Path, count: int, seed: int) -> list[tuple[str, tuple[str, ...], Any]]:
    """`count` (id, key path, wrong value) from a fixed seed, so a failure can be reproduced by its id."""
    rng = random.Random(seed)
    fields = _fields(json.loads(source.read_text()))
    cases = []
    for i in range(count):
        path, value = rng.choice(fields), rng.choice(WRONG_VALUES)
        cases.append((f"{source.stem}-{i}-{'.'.join(path)}={json.dumps(value)[:12]}", path, value))
    return cases


FUZZ = [(DEFAULT_MODEL, *case) for case in fuzzed_cards(DEFAULT_MODEL, 150, seed=12)] + \
       [(DEFAULT_JEM, *case) for case in fuzzed_cards(DEFAULT_JEM, 75, seed=13)] + \
       [(DEFAULT_GENERATORS, *case) for case in fuzzed_cards(DEFAULT_GENERATORS, 75, seed=14)]


@pytest.mark.slow
def test_fuzzed_cards_are_refused_in_one_line_or_load(tmp_path):
    """300 cards, each with one field replaced: NaturalExplainError in one line naming the file, or a working model."""
    loaded_count = 0
    for source, case_id, path, value in FUZZ:
        model = damaged(tmp_path / case_id.replace("/", "_"), setter(*path, value=value), source)
        kind = "generators" if source == DEFAULT_GENERATORS else "classifier"
        try:
            loaded = load_model(model, expect=kind)
        except NaturalExplainError as exc:
            message = str(exc)
            assert "\n" not in message and str(model) in message, (case_id, message)
            continue
        loaded_count += 1
        x = torch.zeros(1, len(loaded.card.bands), loaded.card.tile_size // 8, loaded.card.tile_size // 8)
        if kind == "classifier":
            assert torch.isfinite(loaded.network.dense_logits(x)).all(), case_id
    assert loaded_count < len(FUZZ) // 2  # most damage is refused; what loads was harmless (e.g. a training record)


@pytest.mark.parametrize("source,case_id,path,value", [pytest.param(*c, id=c[1]) for c in
                                                        FUZZ[:12] + FUZZ[150:156] + FUZZ[225:231]])
def test_fuzzed_cards_through_the_cli(tmp_path, sample_dir, source, case_id, path, value):
    """A sample of the fuzzed cards run as --model: exit 2 with one line, or (when harmless) exit 0; never a traceback."""
    model = damaged(tmp_path / "model", setter(*path, value=value), source)
    outcome = explain(sample_dir, tmp_path / "o", model)
    if outcome.code == 0:
        assert source != DEFAULT_GENERATORS and (tmp_path / "o" / "naturalness.tif").is_file()
    else:
        assert_refused(outcome, str(model))
        assert_no_output(tmp_path / "o")
