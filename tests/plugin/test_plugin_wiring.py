"""The plugin loads, puts its action where analysts look, registers its algorithm and unloads cleanly."""
import os
import subprocess
import sys
from datetime import datetime
from unittest.mock import MagicMock

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsMapLayerType,
    QgsProcessingParameterEnum,
    QgsRasterLayer,
    QgsSettings,
)

from core.explain.registry import METHODS
from natural_explain_plugin import classFactory
from natural_explain_plugin.dependencies import engine_requirements
from natural_explain_plugin.engine_import import engine_packages
from natural_explain_plugin.package import REPO
from natural_explain_plugin.plugin import ACTION_TEXT, FOLDER_ACTION_TEXT
from natural_explain_plugin.run_folder import group_name, new_run_folder
from natural_explain_plugin.settings import (
    DEFAULT_OUTPUT_FOLDER,
    METHODS_KEY,
    OUTPUT_FOLDER_KEY,
    output_folder,
    remember_methods,
    remembered_methods,
    set_output_folder,
)
from tests.helpers.plugin_runs import run_to_end

ALGORITHM_ID = "natural_explain:naturalness_map"
ALGORITHM_PARAMETERS = {
    ALGORITHM_ID: ["INPUT", "AOI", "AOI_LAYER", "MODEL", "DEVICE", "BANDS", "TILE_SIZE", "OVERLAP", "BATCH_SIZE",
                   "OUTPUT"],
    "natural_explain:explain": ["INPUT", "AOI", "AOI_LAYER", "METHODS", "METHOD_OPTIONS", "MODEL", "DEVICE", "BANDS",
                                "TILE_SIZE", "OVERLAP", "BATCH_SIZE", "OUTPUT_FOLDER"],
    "natural_explain:evaluate": ["INPUT", "LABELS", "LABEL_FIELD", "REFERENCE_CLASS", "METHODS", "Q", "TILES", "DRAWS",
                                 "RANDOMIZATION", "AOI", "AOI_LAYER", "MODEL", "DEVICE", "BANDS", "TILE_SIZE",
                                 "OUTPUT_FOLDER"],
    "natural_explain:confidence_map": ["INPUT", "AOI", "AOI_LAYER", "MODEL", "DEVICE", "BANDS", "TILE_SIZE", "OVERLAP",
                                       "BATCH_SIZE", "OUTPUT"],
    "natural_explain:ood_report": ["INPUT", "AOI", "AOI_LAYER", "MODEL", "DEVICE", "BANDS", "OUTPUT_FOLDER"],
    "natural_explain:inpaint": ["INPUT", "MASK", "MASK_POLYGONS", "MODEL", "DEVICE", "BANDS", "STEPS", "SEED", "OUTPUT"],
    "natural_explain:ssc": ["INPUT", "AOI", "AOI_LAYER", "MODEL", "DEVICE", "BANDS", "LEARNER", "LABELS", "LABEL_FIELD",
                            "CONFIDENCE", "SAMPLES_PER_CLASS", "SEED", "OUTPUT"],
    "natural_explain:segment": ["INPUT", "AOI", "AOI_LAYER", "MODEL", "DEVICE", "BANDS", "TILE_SIZE", "OVERLAP",
                                "BATCH_SIZE", "OUTPUT"],
}
JEM_ALGORITHMS = ("natural_explain:confidence_map", "natural_explain:ood_report", "natural_explain:inpaint")


def test_loading_registers_the_algorithms_and_unloading_removes_them(qgis_iface, project) -> None:
    plugin = classFactory(qgis_iface)
    plugin.initGui()
    registry = QgsApplication.processingRegistry()
    try:
        parameters = {algorithm_id: [p.name() for p in registry.algorithmById(algorithm_id).parameterDefinitions()]
                      for algorithm_id in ALGORITHM_PARAMETERS}
        assert parameters == ALGORITHM_PARAMETERS
        assert registry.algorithmById(ALGORITHM_ID).displayName() == "Naturalness map"
        for algorithm_id in ALGORITHM_PARAMETERS:
            aoi = registry.algorithmById(algorithm_id).parameterDefinition("AOI")
            assert aoi is None or aoi.flags() & aoi.FlagOptional
        for algorithm_id in JEM_ALGORITHMS:
            model = registry.algorithmById(algorithm_id).parameterDefinition("MODEL")
            assert model.description() == "JEM model file (bundled default JEM when empty)"
        segmenter = registry.algorithmById("natural_explain:segment").parameterDefinition("MODEL")
        assert segmenter.description() == "Segmenter model file (bundled segmenter when empty)"
    finally:
        plugin.unload()
    assert registry.providerById("natural_explain") is None
    assert all(registry.algorithmById(algorithm_id) is None for algorithm_id in ALGORITHM_PARAMETERS)


def test_methods_parameter_offers_exactly_the_registry_by_name(plugin) -> None:
    for algorithm_id in ("natural_explain:explain", "natural_explain:evaluate"):
        methods = QgsApplication.processingRegistry().algorithmById(algorithm_id).parameterDefinition("METHODS")
        assert isinstance(methods, QgsProcessingParameterEnum)
        assert methods.options() == list(METHODS) and methods.allowMultiple() and methods.usesStaticStrings()
        assert methods.defaultValue() == ["gradcam"]


def test_action_is_on_toolbar_plugins_menu_and_raster_context_menu(qgis_iface, project, monkeypatch) -> None:
    toolbar, menu = MagicMock(), MagicMock()
    monkeypatch.setattr(qgis_iface, "addToolBarIcon", toolbar)
    monkeypatch.setattr(qgis_iface, "addPluginToMenu", menu)
    plugin = classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert plugin.action.text() == ACTION_TEXT
        toolbar.assert_called_once_with(plugin.action)
        assert [c.args for c in menu.call_args_list] == [("Natural Explain", plugin.action),
                                                         ("Natural Explain", plugin.folder_action),
                                                         ("Natural Explain", plugin.dock_action),
                                                         ("Natural Explain", plugin.stack_action),
                                                         ("Natural Explain", plugin.train_action),
                                                         ("Natural Explain", plugin.help_action),
                                                         ("Natural Explain", plugin.about_action),
                                                         ("Natural Explain", plugin.dependency_message.action)]
        assert plugin.folder_action.text() == FOLDER_ACTION_TEXT
        qgis_iface.addCustomActionForLayerType.assert_called_with(plugin.action, "", QgsMapLayerType.RasterLayer, True)
    finally:
        action = plugin.action
        plugin.unload()
    qgis_iface.removeCustomActionForLayerType.assert_called_with(action)


def test_plugin_load_does_not_import_torch_or_the_pipeline() -> None:
    """QGIS must start fast: torch loads only when a run starts (checked in a fresh interpreter)."""
    code = ("import sys; from qgis.core import QgsApplication; app = QgsApplication([], False); app.initQgis(); "
            "import natural_explain_plugin as p; plugin = p.classFactory(None); plugin.initProcessing(); "
            "plugin.unload(); print(sorted(m for m in ('torch', 'core.pipeline', 'train') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def test_without_a_raster_layer_the_action_opens_the_dock_and_run_says_to_choose_one(plugin, qgis_iface,
                                                                                     project) -> None:
    qgis_iface.setActiveLayer(MagicMock(id=lambda: "no-such-layer"))
    plugin.action.trigger()
    assert plugin.dock is not None and not plugin.dock.isHidden()
    assert plugin.dock.run() is None
    assert not plugin.tasks
    assert any("choose the raster layer" in m for m in qgis_iface.messageBar().get_messages(Qgis.Warning))


def test_a_remembered_method_the_registry_no_longer_knows_is_dropped() -> None:
    assert remembered_methods() == ["gradcam"]  # a fresh profile's choice
    QgsSettings().setValue(METHODS_KEY, "gradcam,retired_method")
    assert remembered_methods() == ["gradcam"]
    remember_methods([])
    assert remembered_methods() == []  # naturalness alone is a choice too


def test_output_folder_defaults_to_home_and_persists(project) -> None:
    QgsSettings().remove(OUTPUT_FOLDER_KEY)
    assert output_folder() == DEFAULT_OUTPUT_FOLDER == DEFAULT_OUTPUT_FOLDER.home() / "NaturalExplain"
    try:
        set_output_folder("/data/maps")
        assert QgsSettings().value(OUTPUT_FOLDER_KEY) == "/data/maps"
        assert str(output_folder()) == "/data/maps"
    finally:
        QgsSettings().remove(OUTPUT_FOLDER_KEY)


def test_run_folder_and_group_are_named_for_layer_and_start_time(tmp_path) -> None:
    started = datetime(2024, 5, 17, 9, 3, 7)
    first = new_run_folder(tmp_path, "S2 scene: 17/05", started)
    assert first == tmp_path / "S2_scene_17_05_20240517-090307"
    first.mkdir()
    assert new_run_folder(tmp_path, "S2 scene: 17/05", started) == tmp_path / "S2_scene_17_05_20240517-090307_2"
    assert group_name("S2 scene", started) == "Natural Explain – S2 scene – 2024-05-17 09:03:07"


def test_a_web_map_is_refused_saying_it_cannot_supply_the_bands(plugin, qgis_iface, project) -> None:
    xyz = QgsRasterLayer("type=xyz&url=https://tile.openstreetmap.org/{z}/{x}/{y}.png&zmax=19&zmin=0",
                         "OpenStreetMap", "wms")
    assert xyz.isValid()  # an XYZ layer is valid without fetching a tile
    project.addMapLayer(xyz)
    assert plugin.start_explain(xyz, []) is None
    (warning,) = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert "'OpenStreetMap' is a web map" in warning and "No web map can supply them" in warning
    assert "save it as a GeoTIFF" not in warning

    qgis_iface.setActiveLayer(xyz)
    dock = plugin.open_dock()  # the panel says so before Run, with the model's bands
    assert dock.layer_combo.currentLayer() is xyz
    assert "is a web map" in dock.input_note.text() and "10 Sentinel-2 bands (B02, B03" in dock.input_note.text()
    assert dock.band_panel.summary.text().startswith("no band table")
    assert dock.run() is None and not plugin.tasks


def test_output_folder_chosen_in_the_menu_is_used_by_later_runs(plugin, qgis_iface, output_base, tmp_path,
                                                                  monkeypatch) -> None:
    chosen = tmp_path / "chosen"
    monkeypatch.setattr("natural_explain_plugin.plugin.QFileDialog.getExistingDirectory",
                        lambda *args: str(chosen))
    plugin.folder_action.trigger()
    assert output_folder() == chosen
    assert any(str(chosen) in m for m in qgis_iface.messageBar().get_messages(Qgis.Info))


def test_missing_torch_in_qgis_python_points_to_the_install_button_not_a_terminal(tmp_path) -> None:
    code = ("import sys; sys.modules['torch'] = None; from pathlib import Path; "
            "from core.errors import NaturalExplainError; "
            "from natural_explain_plugin.explain_request import ExplainRequest, run_explain\n"
            "try: run_explain(ExplainRequest('in.tif', Path('out')), print, lambda: False)\n"
            "except NaturalExplainError as exc: print(exc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    (message,) = done.stdout.splitlines()
    assert message.startswith("the Python package 'torch' is missing from QGIS's Python: click Install on the "
                              "Natural Explain message"), done.stderr
    assert "pip" not in message and "terminal" not in message


def test_a_run_without_torch_shows_the_install_message_again(plugin, qgis_iface, project, stack_layer,
                                                             output_base, monkeypatch) -> None:
    """The failure's sentence points to the Install button, so the button must be on the bar."""
    def run_without_torch(*args) -> None:  # noqa: ANN002
        with engine_packages():
            raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr("natural_explain_plugin.explain_request.run_explain", run_without_torch)
    monkeypatch.setattr("natural_explain_plugin.dependency_message.missing_requirements",
                        lambda requirements=None: [r for r in engine_requirements() if r.name == "torch"])
    task = plugin.start_explain(stack_layer, [])
    assert run_to_end(task) == "terminated"
    assert any("click Install" in m for m in qgis_iface.messageBar().get_messages(Qgis.Warning))
    item = plugin.dependency_message.item
    assert item is not None and "lacks torch" in item.text()
    assert not qgis_iface.messageBar().get_messages(Qgis.Critical)


def test_model_summary_needs_no_torch(tmp_path) -> None:
    """The dock shows a model's bands and kind before Install has brought torch."""
    code = ("import sys; sys.modules['torch'] = None; "
            "from core.resources import DEFAULT_JEM; "
            "from natural_explain_plugin.dock.model_choice import read_summary; "
            "print(read_summary(str(DEFAULT_JEM)).is_jem)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_the_plugin_never_imports_train() -> None:
    """The arrows are plugin -> core <- train: training runs as `python -m train` in a child process."""
    import ast

    offenders = []
    for path in sorted((REPO / "natural_explain_plugin").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.name}: {name}" for name in names if name == "train" or name.startswith("train.")]
    assert offenders == []


def test_the_train_algorithm_is_registered_with_its_parameters(plugin) -> None:
    algorithm = QgsApplication.processingRegistry().algorithmById("natural_explain:train_classifier")
    assert algorithm is not None and algorithm.group() == "Training"
    assert [p.name() for p in algorithm.parameterDefinitions()] == [
        "INPUT", "POLYGONS", "LABEL_FIELD", "NATURAL_CLASSES", "EPOCHS", "BANDS", "DEVICE", "RESUME", "OUTPUT"]
