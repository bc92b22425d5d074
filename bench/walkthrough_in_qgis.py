"""Inside QGIS, in a fresh profile: an analyst's clicks from "Install from ZIP" to a shapefile, timed.

bench/walkthrough.py starts QGIS with `--code` pointing here. Every step goes through what an
analyst touches, not through the engine: QGIS's own plugin installer, the plugin's Install
button, Processing's Build Virtual Raster, the toolbar action, the dock's widgets, real mouse
events on the map canvas, Run, and the export dialog. Nothing of the repository is on
sys.path: the engine, its models and torch must all come from the profile.

Then, on the panel's Train model page, it trains a classifier for one epoch on the stack with the
bundled labels clipped to the sample (they cover only the scene's north half), checks the new
model became the panel's model, and explains with it.

Writes walkthrough.json (each step's seconds and what it found, every message-bar message),
steps/NN_<step>.png (the main window after each step), panel.png (the dock before Run, at
1280 x 800), panel_resolution_warning.png (the dock on the Average stack) and walkthrough.png (the main window at the end) into $NE_WALK_OUT, then ends QGIS.
"""
import contextlib
import json
import os
import re
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import qgis.utils
from osgeo import gdal, ogr, osr
from qgis.core import Qgis, QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.gui import QgsMessageBarItem
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QEvent, QPoint, QPointF, QRect, Qt, QTimer
from qgis.PyQt.QtGui import QMouseEvent
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication, QDialogButtonBox, QPushButton, QTextBrowser, QWidget

ZIP = Path(os.environ["NE_WALK_ZIP"])
OUT = Path(os.environ["NE_WALK_OUT"])
SAMPLE = Path(os.environ["NE_WALK_SAMPLE"])
LABELS = Path(os.environ["NE_WALK_LABELS"])  # the bundled training labels (north half of the scene only)
TRAIN_EPOCHS = 1
TRAIN_TIMEOUT_S = 900
PLUGIN = "natural_explain_plugin"
METHODS = ("gradcam", "cyclegan")
EXPORTED_MAP = "attribution_cyclegan"
TOP_PERCENT = 10.0
INSTALL_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 900
WINDOW = (1280, 800)  # a laptop's QGIS window: the panel must work in it
STEPS = OUT / "steps"
record: dict[str, Any] = {"steps": [], "messages": [], "checks": {}, "ok": False}
started = time.perf_counter()
seen_items: set[int] = set()


def wait(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Let QGIS run (tasks, signals, painting) until `predicate()` holds."""
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if record.get("dialogs"):
            raise RuntimeError(f"a dialog interrupted {what}: {record['dialogs'][-1]['text'][:2000]}")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:g} s")
        QApplication.processEvents()
        time.sleep(0.05)


@contextlib.contextmanager
def step(name: str) -> Iterator[dict[str, Any]]:
    """Time one step of the walk-through; what it finds goes into the yielded dict."""
    found: dict[str, Any] = {}
    begin = time.perf_counter()
    print(f"walk-through: {name}", file=sys.stderr, flush=True)
    try:
        yield found
    finally:
        record["steps"].append({"step": name, "seconds": round(time.perf_counter() - begin, 2), **found})
        step_screenshot(name)
        save()


def step_screenshot(name: str) -> None:
    """The main window as the step left it, as steps/NN_<step>.png."""
    QApplication.processEvents()
    STEPS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]
    path = STEPS / f"{len(record['steps']):02d}_{slug}.png"
    qgis.utils.iface.mainWindow().grab().save(str(path))
    record["steps"][-1]["screenshot"] = str(path.relative_to(OUT))


def save() -> None:
    """Write the record as it stands, so a walk-through that hangs still shows how far it got."""
    record["total_s"] = round(time.perf_counter() - started, 1)
    (OUT / "walkthrough.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


def note_dialogs() -> None:
    """Log any modal dialog that is open: one nobody answers would stop the walk-through."""
    modal = QApplication.activeModalWidget()
    if modal is not None:
        text = " | ".join(w.toPlainText() for w in modal.findChildren(QTextBrowser))
        print(f"walk-through: a dialog is open: {modal.windowTitle()!r}: {text}", file=sys.stderr, flush=True)
        record.setdefault("dialogs", []).append({"title": modal.windowTitle(), "text": text})
        modal.reject()  # wait() then stops the walk-through with this as the reason


def note_message(widget: QWidget) -> None:
    """Keep every message-bar message, with when it came: short-lived ones vanish from the bar."""
    item = sip.cast(widget, QgsMessageBarItem)
    if sip.unwrapinstance(item) in seen_items:  # the bar shows a waiting item again when the one above it goes
        return
    seen_items.add(sip.unwrapinstance(item))
    record["messages"].append({"at_s": round(time.perf_counter() - started, 1), "level": int(item.level()),
                               "title": item.title(), "text": item.text()})


def messages_with(text: str) -> list[dict[str, Any]]:
    return [m for m in record["messages"] if text in m["text"]]


def install_from_zip() -> Any:  # noqa: ANN401 (the plugin instance)
    """What Plugins › Manage and Install Plugins › Install from ZIP › Install Plugin does."""
    import pyplugin_installer

    with step("install the plugin from the zip") as found:
        pyplugin_installer.instance().installFromZipFile(str(ZIP))
        plugin = qgis.utils.plugins[PLUGIN]
        found["active"] = PLUGIN in qgis.utils.active_plugins
        found["loaded_from"] = sys.modules[PLUGIN].__file__
    return plugin


def install_packages() -> None:
    """Click Install on the plugin's missing-packages message and wait for pip to finish."""
    bar = qgis.utils.iface.messageBar()
    with step("click Install on the missing-packages message") as found:
        (item,) = [i for i in bar.items() if "lacks" in i.text()]
        found["message"] = item.text()
        (button,) = [b for b in item.findChildren(QPushButton) if b.text() == "Install"]
        button.click()
    with step("pip installs the packages (task bar)") as found:
        def confirm_download() -> bool:
            """Click 'Download and install' once the installer shows its plan (size, packages), if it asks."""
            for item in bar.items():
                buttons = [b for b in item.findChildren(QPushButton) if b.text() == "Download and install"]
                if buttons:
                    found["plan"] = item.text()
                    buttons[0].click()
                    return True
            return False

        def ended() -> bool:
            confirm_download()
            return bool(messages_with("ready to run") or messages_with("canceled")
                        or any(m["level"] == Qgis.Critical for m in record["messages"]))

        wait(ended, INSTALL_TIMEOUT_S, "the install")
        found["outcome"] = record["messages"][-1]["text"]
        import torch  # what the plugin's runs will import, from the profile's dependency folder

        found["torch"] = f"{torch.__version__} from {torch.__file__}"
    if not messages_with("ready to run"):
        raise RuntimeError(f"the install failed: {record['messages'][-1]['text']}")


def add_average_stack() -> QgsRasterLayer:
    """Build Virtual Raster as the old README said, leaving Resolution at its default (Average): 23.3 m pixels."""
    import processing

    with step("Build Virtual Raster with its default Resolution = Average and add it") as found:
        files = sorted(str(p) for p in SAMPLE.glob("*.tif"))
        vrt = processing.run("gdal:buildvirtualraster", {"INPUT": files, "RESOLUTION": 0, "SEPARATE": True,
                                                         "OUTPUT": str(OUT / "virginia_s2_average.vrt")})["OUTPUT"]
        layer = qgis.utils.iface.addRasterLayer(vrt, "virginia_s2 (average)")
        found["pixel_m"] = layer.rasterUnitsPerPixelX()
        qgis.utils.iface.setActiveLayer(layer)
        qgis.utils.iface.zoomToActiveLayer()
    return layer


def warned_about_resolution(dock: Any, plugin: Any) -> None:  # noqa: ANN401
    """The panel says the Average stack is coarse, before anyone clicks Run."""
    with step("the panel warns about the Average stack's 23.3 m pixels before Run") as found:
        found["input_note"] = dock.input_note.text()
        found["band_summary"] = dock.band_panel.summary.text()
        dock.grab().save(str(OUT / "panel_resolution_warning.png"))
    record["checks"]["resolution_warning_before_run_for_an_average_vrt"] = (
        not plugin.tasks and dock.input_note.isVisible() and "Resolution = Highest" in dock.input_note.text()
        and "the model's 10 m" in dock.input_note.text())


def stack_sample_folder(dock: Any) -> QgsRasterLayer:  # noqa: ANN401
    """Stack a Sentinel-2 folder… on a copy of the sample's band files (the folder dialog answered by the dock's API)."""
    folder = OUT / "virginia_s2"
    shutil.copytree(SAMPLE, folder, dirs_exist_ok=True)
    with step("Stack a Sentinel-2 folder…: the sample's band files at the highest resolution") as found:
        layer = dock.stack_and_add(folder)
        found["file"] = layer.source()
        found["bands"] = layer.bandCount()
        found["pixel_m"] = layer.rasterUnitsPerPixelX()
        found["band_summary"] = dock.band_panel.summary.text()
        found["input_note"] = dock.input_note.text()
        qgis.utils.iface.setActiveLayer(layer)
        qgis.utils.iface.zoomToActiveLayer()
    record["checks"]["stack_is_10_m_with_every_band_matched"] = (
        layer.rasterUnitsPerPixelX() == 10.0 and found["band_summary"] == "10/10 bands matched"
        and not found["input_note"])
    return layer


def panel_fits_the_window(dock: Any) -> None:  # noqa: ANN401
    """At 1280 x 800 the Run button is in sight without scrolling, and the maps have readable names."""
    from core.explain.registry import METHODS as REGISTRY

    window = qgis.utils.iface.mainWindow()
    with step("the panel in a 1280 x 800 window: Run in sight, readable names") as found:
        window.showNormal()
        window.resize(*WINDOW)
        for _ in range(10):
            QApplication.processEvents()
            time.sleep(0.05)
        top_left = dock.run_button.mapTo(window, QPoint(0, 0))
        found["window"] = [window.width(), window.height()]
        found["dock_width"] = dock.width()
        found["run_button_at"] = [top_left.x(), top_left.y()]
        found["method_labels"] = {name: box.text() for name, box in dock.methods.boxes.items()}
        found["model_summary"] = dock.model.label.text()
        dock.grab().save(str(OUT / "panel.png"))
    inside = QRect(QPoint(0, 0), window.size()).contains(QRect(top_left, dock.run_button.size()))
    record["checks"]["run_button_visible_without_scrolling_at_1280x800"] = (
        inside and dock.run_button.isVisible() and not dock.run_button.visibleRegion().isEmpty()
        and tuple(found["window"]) == WINDOW)
    record["checks"]["methods_have_readable_names_and_tooltips"] = all(
        found["method_labels"][name] != name and dock.methods.boxes[name].toolTip() for name in REGISTRY)


def open_dock(plugin: Any) -> Any:  # noqa: ANN401 (the plugin and its dock)
    """Click the toolbar's Explain naturalness with the layer selected; the dock opens on it."""
    with step("click Explain naturalness: the dock opens") as found:
        plugin.action.trigger()
        dock = plugin.dock
        wait(lambda: dock.model.summary is not None, 30, "the model summary")
        found["model"] = dock.model.label.text()
        found["band_mapping"] = dock.bands.mapping()
        found["band_note"] = dock.band_note.text()
    return dock


def choose_methods(dock: Any) -> None:  # noqa: ANN401
    with step("tick the methods") as found:
        for name, box in dock.methods.boxes.items():
            if box.isEnabled():
                box.setChecked(name in METHODS)
        found["methods"] = dock.methods.methods()


def mouse(widget: Any, kind: QEvent.Type, at: QPoint) -> None:  # noqa: ANN401 (the canvas viewport)
    """One left-button mouse event on `widget`, as the window system sends it."""
    if kind == QEvent.MouseButtonPress:
        QTest.mousePress(widget, Qt.LeftButton, Qt.NoModifier, at)
    elif kind == QEvent.MouseButtonRelease:
        QTest.mouseRelease(widget, Qt.LeftButton, Qt.NoModifier, at)
    else:  # QTest's mouseMove sends no held button, which a drag needs
        QApplication.sendEvent(widget, QMouseEvent(QEvent.MouseMove, QPointF(at), Qt.NoButton, Qt.LeftButton,
                                                   Qt.NoModifier))


def draw_rectangle(dock: Any) -> None:  # noqa: ANN401
    """Area of interest › Drawn rectangle, then a drag across the middle of the map."""
    canvas = qgis.utils.iface.mapCanvas()
    with step("draw the AOI rectangle on the map") as found:
        QApplication.processEvents()  # the dock has taken its share of the window: the map is narrower now
        qgis.utils.iface.zoomToActiveLayer()
        dock.aoi.source_combo.setCurrentText("Drawn rectangle")
        viewport = canvas.viewport()
        centre = QPoint(viewport.width() // 2, viewport.height() // 2)
        corner = QPoint(viewport.width() // 5, viewport.height() // 5)
        mouse(viewport, QEvent.MouseButtonPress, centre - corner)
        mouse(viewport, QEvent.MouseMove, centre)
        mouse(viewport, QEvent.MouseButtonRelease, centre + corner)
        shape = dock.aoi.shape()
        box = shape.geometry.boundingBox()
        found["aoi"] = [round(v, 6) for v in (box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum())]
        found["aoi_crs"] = shape.crs.authid()
        found["costs"] = {name: label.text() for name, label in dock.methods.costs.items()}
    record["checks"]["aoi_drawn"] = shape is not None and not box.isEmpty()


def result_group() -> Any:  # noqa: ANN401 (QgsLayerTreeGroup or None)
    groups = [g for g in QgsProject.instance().layerTreeRoot().findGroups() if g.name().startswith("Natural Explain")]
    return groups[0] if groups else None


def run(dock: Any, input_layer: QgsRasterLayer) -> dict[str, QgsRasterLayer]:  # noqa: ANN401
    """Choose the output folder, click Run, wait for the styled result group."""
    with step("click Run and wait for the result layers") as found:
        dock.folder.setFilePath(str(OUT / "results"))
        found["estimate_before_run"] = dock.estimate.text()
        clicked = time.perf_counter()
        dock.run_button.click()
        stages: list[str] = []
        wait(lambda: stages.append(dock.status.text()) or result_group() is not None, RUN_TIMEOUT_S,
             "the result group")
        found["seconds_to_the_layers"] = round(time.perf_counter() - clicked, 1)
        wait(lambda: not dock.runs, 60, "the run's end in the panel")
        found["estimate_s"] = dock.last_estimate_s
        found["measured_s"] = dock.last_measured_s
        found["stages"] = list(dict.fromkeys(re.sub(r"[~0-9.]+ (s|min|h) left", "… left", t) for t in stages))
        found["status_after"] = dock.status.text()
        group = result_group()
        layers = {layer_output(node.layer()): node.layer() for node in group.findLayers()}
        found["group"] = group.name()
        found["layers"] = {name: {"renderer": layer.renderer().type(), "file": layer.source()}
                           for name, layer in layers.items()}
    estimate, measured = found["estimate_s"], found["seconds_to_the_layers"]
    record["checks"]["estimate_within_2x_of_the_measured_time"] = bool(
        estimate and measured and 0.5 <= measured / estimate <= 2.0)
    record["checks"]["stage_and_time_left_shown_during_the_run"] = any(" left" in t for t in found["stages"])
    record["checks"]["outputs_on_the_input_grid"] = all(on_input_grid(Path(layer.source()), input_layer)
                                                       for layer in layers.values())
    record["checks"]["maps_use_a_colour_ramp"] = all(layer.renderer().type() == "singlebandpseudocolor"
                                                     for name, layer in layers.items() if not name.startswith("enhanced"))
    return layers


def check_result_layers(layers: dict[str, QgsRasterLayer], input_layer: QgsRasterLayer) -> None:
    """The attribution maps draw their top value (not a hole), and the enhanced images pair B04/B03/B02
    with the input's own stretch (bands and limits read off the renderers, not just their type)."""
    from natural_explain_plugin.result_checks import drawn_at_maximum, true_colour_facts

    attributions = [layer for name, layer in layers.items() if name.startswith("attribution")]
    record["checks"]["attribution_top_value_drawn"] = bool(attributions) and all(map(drawn_at_maximum, attributions))
    facts = {name: true_colour_facts(layer, input_layer) for name, layer in layers.items() if name.startswith("enhanced")}
    record["true_colour"] = json.loads(json.dumps(facts, default=str))
    record["checks"]["enhanced_images_in_true_colour"] = bool(facts) and all(f["ok"] for f in facts.values())


def layer_output(layer: QgsRasterLayer) -> str:
    """Which engine output a result layer holds ('naturalness', 'attribution_cyclegan', ...), whatever its name."""
    names = sys.modules.get(f"{PLUGIN}.layer_names")
    return names.output_name(layer) if names is not None else layer.name()


def on_input_grid(path: Path, input_layer: QgsRasterLayer) -> bool:
    """Same CRS, same pixel size, and a pixel origin on the input's pixel lattice."""
    out, ref = gdal.Open(str(path)), gdal.Open(input_layer.source())
    (ox, odx, _, oy, _, ody), (rx, rdx, _, ry, _, rdy) = out.GetGeoTransform(), ref.GetGeoTransform()
    same_crs = osr.SpatialReference(out.GetProjection()).IsSame(osr.SpatialReference(ref.GetProjection()))
    on_lattice = abs((ox - rx) / rdx - round((ox - rx) / rdx)) < 1e-6 and abs((oy - ry) / rdy - round((oy - ry) / rdy)) < 1e-6
    return bool(same_crs) and (odx, ody) == (rdx, rdy) and on_lattice


def export(dock: Any, layers: dict[str, QgsRasterLayer], input_layer: QgsRasterLayer) -> None:  # noqa: ANN401
    """Export polygons…: the top 10 % of the cyclegan attribution, as a shapefile, added to the project."""
    target = OUT / "results" / "cyclegan_top10.shp"

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        dialog.map.setLayer(layers[EXPORTED_MAP])
        dialog.by_top.setChecked(True)
        dialog.top_percent.setValue(TOP_PERCENT)
        dialog.format.setCurrentText("ESRI Shapefile")
        dialog.file.setFilePath(str(target))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok).click()

    before = set(QgsProject.instance().mapLayers())
    with step("Export polygons…: top 10 % of the cyclegan attribution to a shapefile") as found:
        QTimer.singleShot(500, answer)
        dock.export_button.click()  # the dialog is modal: answer() fills it in and presses OK
        wait(lambda: any(isinstance(QgsProject.instance().mapLayer(i), QgsVectorLayer)
                         for i in set(QgsProject.instance().mapLayers()) - before), 300, "the polygon layer")
        found.update(shapefile_facts(target, input_layer))
    record["checks"]["shapefile_inside_the_raster_in_its_crs"] = found["inside_raster"] and found["same_crs"]


def shapefile_facts(path: Path, input_layer: QgsRasterLayer) -> dict[str, Any]:
    source = ogr.Open(str(path))
    layer = source.GetLayer(0)
    x0, x1, y0, y1 = layer.GetExtent()
    raster = input_layer.extent()
    fields = [layer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(layer.GetLayerDefn().GetFieldCount())]
    crs = osr.SpatialReference(gdal.Open(input_layer.source()).GetProjection())
    return {"file": str(path), "features": layer.GetFeatureCount(), "fields": fields,
            "same_crs": bool(layer.GetSpatialRef().IsSame(crs)),
            "inside_raster": raster.xMinimum() <= x0 and x1 <= raster.xMaximum() and raster.yMinimum() <= y0
            and y1 <= raster.yMaximum()}


def screenshot(input_layer: QgsRasterLayer, layers: dict[str, QgsRasterLayer]) -> None:
    """The main window with the polygons over the CycleGAN attribution (the naturalness map hidden), over the input."""
    QgsProject.instance().layerTreeRoot().findLayer(layers["naturalness"]).setItemVisibilityChecked(False)
    canvas = qgis.utils.iface.mapCanvas()
    canvas.setExtent(input_layer.extent())
    canvas.refresh()
    QApplication.processEvents()
    canvas.waitWhileRendering()
    QApplication.processEvents()
    qgis.utils.iface.mainWindow().grab().save(str(OUT / "walkthrough.png"))


def clipped_labels(layer: QgsRasterLayer) -> QgsVectorLayer:
    """The bundled training labels clipped to the sample's extent (Processing's Extract/clip by extent), added."""
    import processing

    clipped = processing.run("native:extractbyextent", {"INPUT": str(LABELS), "EXTENT": layer.extent(), "CLIP": True,
                                                        "OUTPUT": str(OUT / "labels_on_sample.gpkg")})["OUTPUT"]
    labels = QgsVectorLayer(clipped, "training labels", "ogr")
    QgsProject.instance().addMapLayer(labels)
    return labels


def train_from_the_panel(dock: Any, layer: QgsRasterLayer) -> Path:  # noqa: ANN401
    """Train model page: the stack and the clipped labels, 'natural' ticked, one epoch; the new model is chosen."""
    model = OUT / "models" / "walkthrough_classifier.json"
    with step("Train model page: one epoch on the sample with the bundled labels") as found:
        labels = clipped_labels(layer)
        page = dock.show_train_page()
        page.set_raster(layer)
        page.set_polygons(labels, "label")
        page.set_natural_classes(["natural"])
        page.epochs.setValue(TRAIN_EPOCHS)
        page.out.setFilePath(str(model))
        found["classes"] = [page.classes.item(i).text() for i in range(page.classes.count())]
        found["band_note"] = page.band_note.text()
        found["estimate"] = page.estimate.text()
        clicked = time.perf_counter()
        page.train_button.click()
        wait(lambda: page.task is None, TRAIN_TIMEOUT_S, "the training run")
        found["seconds"] = round(time.perf_counter() - clicked, 1)
        found["status"] = page.status.text()
        found["note"] = page.note.text()
        found["log"] = page.log.toPlainText().splitlines()
        found["card_summary"] = page.summary.text()
        found["panel_model"] = dock.model.label.text()
    record["checks"]["trained_from_the_panel_and_selected"] = bool(
        model.is_file() and dock.model.summary is not None and dock.model.summary.path == str(model)
        and "Held-out accuracy" in found["card_summary"] and "python -m train classifier" in found["card_summary"]
        and any(line.startswith(f"epoch {TRAIN_EPOCHS}/{TRAIN_EPOCHS}: train loss") for line in found["log"]))
    record["checks"]["train_page_offers_the_pattern_generators"] = page.generators_button.isVisibleTo(page)
    return model


def explain_with_trained_model(dock: Any, model: Path) -> None:  # noqa: ANN401
    """Run the panel again (gradcam on the drawn AOI) with the model just trained; its run.json names it."""
    groups_before = len([g for g in QgsProject.instance().layerTreeRoot().findGroups()
                         if g.name().startswith("Natural Explain")])
    with step("explain with the trained model") as found:
        for name, box in dock.methods.boxes.items():
            if box.isEnabled():
                box.setChecked(name == "gradcam")
        dock.run_button.click()
        wait(lambda: len([g for g in QgsProject.instance().layerTreeRoot().findGroups()
                          if g.name().startswith("Natural Explain")]) > groups_before, RUN_TIMEOUT_S, "the second run")
        wait(lambda: not dock.runs, 60, "the second run's end in the panel")
        run_json = dock.last_folder / "run.json" if dock.last_folder else None
        found["run_json"] = str(run_json)
        found["model"] = json.loads(run_json.read_text())["model"] if run_json and run_json.is_file() else None
    record["checks"]["explained_with_the_trained_model"] = bool(
        found["model"] and Path(found["model"]["path"]).with_suffix("").name == model.with_suffix("").name)


def walk() -> None:
    qgis.utils.iface.messageBar().widgetAdded.connect(note_message)
    watchdog = QTimer(qgis.utils.iface.mainWindow())
    watchdog.timeout.connect(note_dialogs)
    watchdog.start(10_000)
    record["qgis"] = Qgis.QGIS_VERSION
    record["profile"] = QgsApplication.qgisSettingsDirPath()
    plugin = install_from_zip()
    install_packages()
    add_average_stack()
    dock = open_dock(plugin)
    warned_about_resolution(dock, plugin)
    layer = stack_sample_folder(dock)
    record["checks"]["every_band_matched_by_name"] = None not in dock.bands.mapping().values()
    choose_methods(dock)
    panel_fits_the_window(dock)
    draw_rectangle(dock)
    layers = run(dock, layer)
    check_result_layers(layers, layer)
    export(dock, layers, layer)
    screenshot(layer, layers)
    explain_with_trained_model(dock, train_from_the_panel(dock, layer))
    record["engine_from"] = sys.modules["core"].__file__
    record["ok"] = all(record["checks"].values())


def main() -> None:
    try:
        walk()
    except Exception:  # noqa: BLE001 (whatever stops the walk-through goes into the record)
        record["error"] = traceback.format_exc()
    save()
    QgsProject.instance().clear()  # nothing to save: QGIS quits without asking
    os._exit(0)  # --code runs before QGIS's event loop starts, where quit() would be ignored


main()
