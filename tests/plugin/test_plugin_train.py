"""Training from QGIS: the panel's Train model page, a real short run with Cancel and Resume, bad input, qgis_process.

Labels are two squares in the north of the sample (above row 980 of the scene: the south half is
never labelled), drawn in EPSG:4326 so the page must reproject them to the raster's CRS.
"""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from pyproj import Transformer
from pytest_qgis.utils import wait_until
from qgis.core import QgsProject, QgsRasterLayer, QgsSettings, QgsVectorLayer

from natural_explain_plugin.settings import MODEL_KEY, RUN_TIMES_KEY
from natural_explain_plugin.train_request import (
    TrainProgress,
    TrainRequest,
    child_environment,
    code_folder,
    generators_request,
)
from tests.helpers.plugin_runs import build_stack

TRAIN_TIMEOUT_MS = 300_000
NORTH_Y = (4173360.0, 4174960.0)  # the sample's top 160 rows: the north half of the scene (rows < 980)
SQUARES = {"anthropogenic": (442730.0, 444330.0), "natural": (449130.0, 450730.0)}


def write_labels(path: Path, squares: dict[str, tuple[float, float]], y: tuple[float, float] = NORTH_Y,
                 epsg: int = 4326) -> Path:
    """A GeoJSON of one square per class (x range in EPSG:32618 metres), written in `epsg`."""
    to = Transformer.from_crs(32618, epsg, always_xy=True)
    features = []
    for label, (x0, x1) in squares.items():
        ring = [list(to.transform(x, yy)) for x, yy in [(x0, y[0]), (x1, y[0]), (x1, y[1]), (x0, y[1]), (x0, y[0])]]
        features.append({"type": "Feature", "properties": {"label": label},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": features}))
    return path


@pytest.fixture(autouse=True)
def forget_model_and_run_times() -> Iterator[None]:
    for key in (MODEL_KEY, RUN_TIMES_KEY):
        QgsSettings().remove(key)
    yield
    for key in (MODEL_KEY, RUN_TIMES_KEY):
        QgsSettings().remove(key)


@pytest.fixture
def labels(tmp_path: Path, project: QgsProject) -> QgsVectorLayer:
    layer = QgsVectorLayer(str(write_labels(tmp_path / "labels.geojson", SQUARES)), "labels", "ogr")
    assert layer.isValid()
    project.addMapLayer(layer)
    return layer


def train_page(plugin, qgis_iface, stack_layer: QgsRasterLayer, labels: QgsVectorLayer, out: Path):  # noqa: ANN001, ANN201
    qgis_iface.setActiveLayer(stack_layer)
    plugin.action.trigger()
    page = plugin.dock.show_train_page()
    page.set_raster(stack_layer)
    page.set_polygons(labels, "label")
    page.out.setFilePath(str(out))
    return page


def wait_for_end(page) -> None:  # noqa: ANN001
    assert wait_until(lambda: page.task is None, timeout_milliseconds=TRAIN_TIMEOUT_MS), page.status.text()


def test_output_lines_become_progress_epochs_and_the_model() -> None:
    state = TrainProgress()
    assert state.read("epoch 1/2:  50%|█████     | 8/16 [00:13<00:11,  1.47s/step, loss=0.4193]") is None
    assert state.percent == 25.0
    line = ("epoch 1/2: train loss 0.4693, val loss 0.3577, val accuracy 0.944, val F1 {'anthropogenic': 0.8772, "
            "'natural': 0.9637}")
    assert state.read(line) == line and state.percent == 50.0 and state.last_accuracy == 0.944
    state.read("wrote /tmp/m.json: val accuracy 1.000 on 125 held-out samples (spatial-blocks), F1 {}")
    assert state.model_json == Path("/tmp/m.json") and state.last_accuracy == 1.0 and state.percent == 100.0
    state.read("error: class(es) natural (12) of field 'label' cover fewer than 50 labelled pixels")
    assert state.error.startswith("class(es) natural (12)")


@pytest.mark.slow
def test_the_child_sees_core_train_and_the_dependency_folder(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    deps.mkdir()
    env = child_environment(deps, {"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(code_folder()), str(deps), "/elsewhere"]
    assert (code_folder() / "train" / "__main__.py").is_file() and (code_folder() / "core").is_dir()
    request = TrainRequest("r.tif", "l.gpkg", "label", ("natural",), 3, tmp_path / "m.json", ("B02", "B03"),
                           resume=True)
    assert request.arguments()[:1] == ["classifier"] and "--resume" in request.arguments()
    assert request.checkpoint_folder == tmp_path / "m.ckpt"
    done = subprocess.run([sys.executable, "-m", "train", *request.arguments()[:1], "--help"], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "--natural-classes" in done.stdout


@pytest.mark.slow
def test_the_second_step_trains_the_pattern_generators_against_the_new_model(tmp_path: Path) -> None:
    first = TrainRequest("r.vrt", "l.gpkg", "label", ("natural",), 10, tmp_path / "mine.json",
                         ("B02=1", "B03=2", "B04=3"), resume=True)
    second = generators_request(first, tmp_path / "mine.json")
    args = second.arguments()
    assert args[:3] == ["cyclegan", "--classifier", str(tmp_path / "mine.json")]
    assert "--natural-classes" not in args and args[args.index("--bands") + 1] == "B02=1,B03=2,B04=3"
    assert second.out == tmp_path / "mine_generators.json" and second.checkpoint_folder == tmp_path / "mine_generators.ckpt"
    assert "--resume" not in args and args[args.index("--epochs") + 1] == "4"


def test_the_page_offers_the_fields_values_bands_and_an_estimate(plugin, qgis_iface, stack_layer, labels,
                                                                 tmp_path) -> None:
    page = train_page(plugin, qgis_iface, stack_layer, labels, tmp_path / "mine.json")
    assert plugin.dock.pages.tabText(1) == "Train model"
    assert [page.classes.item(i).text() for i in range(page.classes.count())] == ["anthropogenic", "natural"]
    assert page.natural_classes() == ["natural"]
    assert page.bands.currentData() == "naturalness_s2" and "bands used: B02, B03" in page.band_note.text()
    assert "labelled pixels: about" in page.estimate.text()
    page.epochs.setValue(20)
    assert "labelled pixels: about" in page.estimate.text()
    assert not page.resume_button.isEnabled() and not page.cancel_button.isEnabled()


# Enough epochs that a cancel sent after the first still leaves some to resume, however fast the machine.
EPOCHS_TO_CANCEL = 12


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """QGIS as a non-interactive background job (a script's `&`, CI) runs: SIGINT ignored, and so in the child."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
def test_training_cancels_resumes_and_becomes_the_panels_model(plugin, qgis_iface, stack_layer, labels,
                                                               tmp_path, sigint_ignored) -> None:
    out = tmp_path / "models" / "mine.json"
    page = train_page(plugin, qgis_iface, stack_layer, labels, out)
    page.epochs.setValue(EPOCHS_TO_CANCEL)
    task = page.train()
    assert task is not None and page.cancel_button.isEnabled()
    # Cancel once the page logs the first epoch (the checkpoint folder is where the page says, whatever settings
    # earlier tests left), so epochs remain to resume.
    assert wait_until(lambda: f"epoch 1/{EPOCHS_TO_CANCEL}" in page.log.toPlainText() or page.task is None,
                      timeout_milliseconds=TRAIN_TIMEOUT_MS)
    page.cancel()
    wait_for_end(page)
    kept = re.search(r"training canceled; (\d+) finished epoch\(s\) kept", page.status.text())
    assert kept and 1 <= int(kept.group(1)) < EPOCHS_TO_CANCEL, page.status.text()
    done = int(kept.group(1))
    assert f"epoch {done}/{EPOCHS_TO_CANCEL}: train loss" in page.log.toPlainText()
    assert page.resume_button.isEnabled() and f"epoch {done} done" in page.resume_button.text()
    assert (out.parent / "labels_EPSG32618.gpkg").is_file()  # reprojected from EPSG:4326
    assert page.train(resume=True) is not None
    wait_for_end(page)
    assert out.is_file(), page.status.text() + page.note.text() + page.log.toPlainText()
    log = page.log.toPlainText()
    assert f"epoch {EPOCHS_TO_CANCEL}/{EPOCHS_TO_CANCEL}: train loss" in log and f"epoch {done}/{EPOCHS_TO_CANCEL}" not in log
    dock = plugin.dock
    assert dock.model.summary is not None and dock.model.summary.path == str(out)
    assert "Held-out accuracy" in dock.model.label.text() and "python -m train classifier" in dock.model.label.text()
    assert "Classes: anthropogenic, natural (natural: natural)" in page.summary.text()
    assert "Reproduce with: python -m train classifier" in page.summary.text()
    assert page.generators_button.isVisible() or not page.isVisible()
    assert dock.pages.currentIndex() == 0
    runs = json.loads(QgsSettings().value(RUN_TIMES_KEY, "[]"))
    assert runs and runs[-1]["device"].startswith("train:")
    # The second step: pattern generators against the model just trained, which explain's cyclegan then loads.
    assert page.train_generators() is not None
    wait_for_end(page)
    generators = out.with_name("mine_generators.json")
    assert generators.is_file() and str(generators) in page.status.text(), page.status.text() + page.log.toPlainText()
    card = json.loads(generators.read_text())
    assert "python -m train cyclegan --classifier" in card["training"]["command"], card["training"]
    # explain finds them beside the model (no --generators), as an analyst's next run would
    (x0, x1), (y0, y1) = SQUARES["natural"], NORTH_Y
    run = subprocess.run([sys.executable, "-m", "core", "explain", stack_layer.source(), "--out", str(tmp_path / "run"),
                          "--model", str(out), "--methods", "cyclegan", "--aoi", f"{x0},{y0},{x1},{y1},EPSG:32618",
                          "--quiet"], capture_output=True, text=True, cwd=code_folder())
    assert run.returncode == 0 and (tmp_path / "run" / "attribution_cyclegan.tif").is_file(), run.stderr


def refusal(page) -> str:  # noqa: ANN001
    assert page.train() is None
    return page.note.text()


def test_a_class_field_with_one_value_is_refused(plugin, qgis_iface, stack_layer, project, tmp_path) -> None:
    layer = QgsVectorLayer(str(write_labels(tmp_path / "one.geojson", {"natural": SQUARES["natural"]})), "one", "ogr")
    project.addMapLayer(layer)
    page = train_page(plugin, qgis_iface, stack_layer, layer, tmp_path / "m.json")
    assert refusal(page).startswith("the class field 'label' holds only the value natural: a classifier needs")


def test_polygons_outside_the_raster_are_refused(plugin, qgis_iface, stack_layer, project, tmp_path) -> None:
    far = {"anthropogenic": (500000.0, 501000.0), "natural": (502000.0, 503000.0)}
    layer = QgsVectorLayer(str(write_labels(tmp_path / "far.geojson", far)), "far", "ogr")
    project.addMapLayer(layer)
    page = train_page(plugin, qgis_iface, stack_layer, layer, tmp_path / "m.json")
    assert "lie outside the raster" in refusal(page)


def test_a_raster_with_fewer_bands_than_the_set_is_refused(plugin, qgis_iface, labels, project, tmp_path) -> None:
    rgb = QgsRasterLayer(str(build_stack(tmp_path / "rgb.vrt", ["B02", "B03", "B04"])), "rgb", "gdal")
    project.addMapLayer(rgb)
    page = train_page(plugin, qgis_iface, rgb, labels, tmp_path / "m.json")
    assert page.bands.currentData() == "naturalness_s2_rgb"  # the richest set it has
    page.bands.setCurrentIndex(page.bands.findData("naturalness_s2"))
    assert "the raster has 3 band(s) and the band set naturalness_s2 needs 10" in page.band_note.text()
    assert refusal(page).startswith("the raster has 3 band(s)")


@pytest.mark.slow
def test_a_class_with_fewer_than_50_labelled_pixels_is_refused_by_train(plugin, qgis_iface, stack_layer, project,
                                                                        tmp_path) -> None:
    tiny = {"anthropogenic": SQUARES["anthropogenic"], "natural": (449130.0, 449190.0)}  # 6 x 160 px
    layer = QgsVectorLayer(str(write_labels(tmp_path / "tiny.geojson", tiny, (4174900.0, 4174960.0))), "tiny", "ogr")
    project.addMapLayer(layer)
    page = train_page(plugin, qgis_iface, stack_layer, layer, tmp_path / "m.json")
    assert page.train() is not None
    wait_for_end(page)
    assert "cover fewer than 50 labelled pixels" in page.note.text() and "natural (3" in page.note.text(), \
        page.note.text() + page.log.toPlainText()


@pytest.mark.slow
def test_qgis_process_trains_a_classifier(qgis_process, sample_stack, tmp_path) -> None:
    labels = write_labels(tmp_path / "labels.geojson", SQUARES)
    out = tmp_path / "qp" / "mine.json"
    run = qgis_process(["run", "natural_explain:train_classifier", "--", f"INPUT={sample_stack}",
                        f"POLYGONS={labels}", "LABEL_FIELD=label", "NATURAL_CLASSES=natural", "EPOCHS=1",
                        f"OUTPUT={out}"])
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "epoch 1/1: train loss" in output and "VAL_ACCURACY:" in output
    card = json.loads(out.read_text())
    assert card["classes"] == ["anthropogenic", "natural"] and card["natural_classes"] == ["natural"]
    assert card["training"]["command"].startswith("python -m train classifier")


@pytest.mark.slow
def test_qgis_process_refuses_a_class_field_with_one_value(qgis_process, sample_stack, tmp_path) -> None:
    labels = write_labels(tmp_path / "one.geojson", {"natural": SQUARES["natural"]})
    run = qgis_process(["run", "natural_explain:train_classifier", "--", f"INPUT={sample_stack}",
                        f"POLYGONS={labels}", "NATURAL_CLASSES=natural", f"OUTPUT={tmp_path / 'm.json'}"])
    assert run.returncode != 0
    assert "the class field 'label' holds only the value natural" in run.stdout + run.stderr
