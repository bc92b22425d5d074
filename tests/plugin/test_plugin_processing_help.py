"""What Processing says about every natural_explain algorithm, in the toolbox and in `qgis_process help`.

The help is checked where users read it: rendered as HTML (the toolbox's help panel) and printed by
the real qgis_process. METHODS is run for real in qgis_process with the numbers its help offers.
"""
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingParameterDefinition
from qgis.PyQt.QtGui import QTextDocument

from natural_explain_plugin.algorithms.engine_algorithm import method_names
from natural_explain_plugin.dependencies import FOLDER_NAME
from natural_explain_plugin.help_text import HELP_PAGE
from natural_explain_plugin.package import lay_out

PROVIDER_ALGORITHMS = ["naturalness_map", "explain", "evaluate", "confidence_map", "ood_report", "inpaint",
                       "train_classifier", "ssc", "segment"]
TILED = ("naturalness_map", "explain", "confidence_map", "segment")  # those that run core.pipeline's tiling
WITH_AOI = ("naturalness_map", "explain", "evaluate", "confidence_map", "ood_report", "ssc", "segment")
PLACEHOLDERS = {"naturalness_map": ["<name>.run.json"], "explain": ["attribution_<method>.tif", "<name>.qml"],
                "confidence_map": ["<name>.run.json"], "segment": ["<name>.run.json"],
                "ssc": ["<name>.ssc.png", "<name>.ssc.json", "<name>.run.json"]}


def registered(plugin) -> dict:  # noqa: ANN001 (the plugin fixture, which registers the provider)
    """The provider's algorithms as QGIS registered them, by name."""
    provider = QgsApplication.processingRegistry().providerById("natural_explain")
    return {algorithm.name(): algorithm for algorithm in provider.algorithms()}


def test_every_algorithm_of_the_provider_is_checked(plugin) -> None:
    assert sorted(registered(plugin)) == sorted(PROVIDER_ALGORITHMS)


def test_help_renders_as_html_with_every_placeholder(plugin) -> None:
    """The toolbox shows shortHelpString as HTML: rendered, it must read as the plain help, `<name>` and all."""
    for name, algorithm in registered(plugin).items():
        document = QTextDocument()
        document.setHtml(algorithm.shortHelpString())
        assert document.toPlainText() == algorithm.help_text(), name
        for placeholder in PLACEHOLDERS.get(name, []):
            assert placeholder in document.toPlainText(), (name, placeholder)
            assert placeholder not in algorithm.shortHelpString()  # escaped, or the renderer eats it


def test_every_algorithm_has_a_group_and_a_help_page_section(plugin) -> None:
    page = HELP_PAGE.read_text(encoding="utf-8")
    for name, algorithm in registered(plugin).items():
        assert algorithm.group() and algorithm.groupId(), name
        url = urlparse(algorithm.helpUrl())
        assert url.scheme == "file" and Path(url2pathname(url.path)) == HELP_PAGE and url.fragment == name
        assert f'id="{name}"' in page


def test_tiling_and_polygon_aoi_parameters_are_declared(plugin) -> None:
    for name, algorithm in registered(plugin).items():
        expected = {"TILE_SIZE", "OVERLAP", "BATCH_SIZE"} if name in TILED else {"TILE_SIZE"} if name == "evaluate" \
            else set()
        declared = {p.name() for p in algorithm.parameterDefinitions()} & {"TILE_SIZE", "OVERLAP", "BATCH_SIZE"}
        assert declared == expected, name
        for parameter in expected:
            definition = algorithm.parameterDefinition(parameter)
            assert definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced
            assert definition.flags() & QgsProcessingParameterDefinition.FlagOptional
            assert definition.defaultValue() is None  # empty: the engine's default
        aoi_layer = algorithm.parameterDefinition("AOI_LAYER")
        assert (aoi_layer is not None) == (name in WITH_AOI), name
        if aoi_layer is not None:
            assert aoi_layer.type() == "source" and aoi_layer.flags() & QgsProcessingParameterDefinition.FlagOptional


@pytest.mark.parametrize(("value", "names"), [
    ("2", ["gradcam"]), ("0,2", ["cyclegan", "gradcam"]), (["2", "4"], ["gradcam", "deeplift"]),
    ([0, 5], ["cyclegan", "ig"]),
    ("gradcam,deeplift", ["gradcam", "deeplift"]), (["GradCAM"], ["gradcam"]), ("2,gradcam", ["gradcam"]),
])
def test_methods_by_number_or_name_pass_the_parameter_check(plugin, value, names) -> None:
    explain = registered(plugin)["explain"]
    assert method_names(value) == names
    ok, message = explain.checkParameterValues({"INPUT": "x.tif", "METHODS": value, "OUTPUT_FOLDER": "out"},
                                               QgsProcessingContext())
    assert "METHODS" not in message


def qgis_process_help(qgis_process, algorithm_id: str) -> tuple[str, dict]:  # noqa: ANN001
    """`qgis_process help` as a user reads it, and its --json form."""
    text = qgis_process(["help", algorithm_id])
    assert text.returncode == 0, text.stdout + text.stderr
    as_json = qgis_process(["--json", "help", algorithm_id])
    assert as_json.returncode == 0, as_json.stderr
    return text.stdout, json.loads(as_json.stdout[as_json.stdout.index("{"):])


@pytest.mark.slow
@pytest.mark.parametrize("name", PROVIDER_ALGORITHMS)
def test_qgis_process_help_shows_placeholders_group_url_and_parameters(qgis_process, plugin, name) -> None:
    algorithm = registered(plugin)[name]
    text, details = qgis_process_help(qgis_process, f"natural_explain:{name}")
    description = text.split("Description\n----------------\n", 1)[1].split("\n\n----------------", 1)[0]
    assert description.strip() == algorithm.help_text()  # as written: no tag eaten, no &lt; printed
    for placeholder in PLACEHOLDERS.get(name, []):
        assert placeholder in description
    assert "&lt;" not in text and "&gt;" not in text
    assert details["algorithm_details"]["group"] == algorithm.group()
    assert details["algorithm_details"]["help_url"].startswith("file://")
    assert details["algorithm_details"]["help_url"].endswith(f"/natural_explain_plugin/help/processing.html#{name}")
    parameters = details["parameters"]
    for parameter in ("TILE_SIZE", "OVERLAP", "BATCH_SIZE"):
        if name in TILED or (name == "evaluate" and parameter == "TILE_SIZE"):
            assert parameters[parameter]["is_advanced"] and parameters[parameter]["optional"], parameter
    if name in WITH_AOI:
        assert parameters["AOI_LAYER"]["optional"]
    if "METHODS" in parameters:
        assert parameters["METHODS"]["available_options"] == {
            "0": "cyclegan", "1": "counterfactual", "2": "gradcam", "3": "occlusion", "4": "deeplift", "5": "ig"}
        assert "- 2: gradcam" in text and "Number of selected option" in text  # what 3.22 says METHODS takes


@pytest.mark.slow
@pytest.mark.parametrize("methods", [["METHODS=2"], ["METHODS=0,2"], ["METHODS=gradcam,deeplift"],
                                     ["METHODS=2", "METHODS=4"]])
def test_qgis_process_accepts_methods_as_its_help_offers_them(qgis_process, sample_stack, tmp_path, methods) -> None:
    """Past the parameter check (the run stops at the next argument, a bad band mapping, before any engine work)."""
    run = qgis_process(["run", "natural_explain:explain", "--", f"INPUT={sample_stack}", *methods, "BANDS=zzz",
                        f"OUTPUT_FOLDER={tmp_path / 'maps'}"])
    assert run.returncode != 0
    assert "band mapping item 'zzz'" in run.stdout + run.stderr
    assert "checking parameter values" not in run.stdout + run.stderr


@pytest.mark.slow
def test_qgis_process_passes_method_settings_to_the_run_and_refuses_a_wrong_one(qgis_process, sample_stack,
                                                                                tmp_path) -> None:
    aoi = "AOI=442730,443370,4166960,4167600 [EPSG:32618]"  # 64 x 64 px
    run = qgis_process(["run", "natural_explain:explain", "--", f"INPUT={sample_stack}", "METHODS=occlusion",
                        "METHOD_OPTIONS=occlusion.window=8 occlusion.stride=4", aoi, f"OUTPUT_FOLDER={tmp_path / 'a'}"])
    assert run.returncode == 0, run.stdout + run.stderr
    record = json.loads((tmp_path / "a" / "run.json").read_text())
    assert record["parameters"]["method_settings"] == {"occlusion": {"window": 8, "stride": 4}}
    bad = qgis_process(["run", "natural_explain:explain", "--", f"INPUT={sample_stack}",
                        "METHOD_OPTIONS=occlusion.size=8", f"OUTPUT_FOLDER={tmp_path / 'b'}"])
    assert bad.returncode != 0
    assert "METHOD_OPTIONS: occlusion has no setting 'size' (its settings: window, stride)" in bad.stdout + bad.stderr
    assert not (tmp_path / "b" / "run.json").exists()


@pytest.mark.slow
def test_qgis_process_refuses_an_unknown_method_naming_the_numbers(qgis_process, sample_stack, tmp_path) -> None:
    run = qgis_process(["run", "natural_explain:explain", "--", f"INPUT={sample_stack}", "METHODS=9",
                        f"OUTPUT_FOLDER={tmp_path / 'maps'}"])
    assert run.returncode != 0
    assert "METHODS: unknown method '9': give names or numbers (0 = cyclegan, 1 = counterfactual, 2 = gradcam" \
        in run.stdout + run.stderr


@pytest.mark.slow
def test_qgis_process_without_torch_names_the_pip_command_not_a_button(sample_stack, tmp_path) -> None:
    """QGIS's own Python (no venv: no torch) under qgis_process: the error is the command that fills the folder."""
    plugins, profile = tmp_path / "plugins", tmp_path / "profile"
    lay_out(plugins)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(QGIS_PLUGINPATH=str(plugins), QGIS_CUSTOM_CONFIG_PATH=str(profile), QT_QPA_PLATFORM="offscreen")

    def run(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(["qgis_process.bin", *args], env=env, capture_output=True, text=True, timeout=300)

    assert run(["plugins", "enable", "natural_explain_plugin"]).returncode == 0
    done = run(["run", "natural_explain:naturalness_map", "--", f"INPUT={sample_stack}", f"OUTPUT={tmp_path / 'n.tif'}"])
    output = done.stdout + done.stderr
    assert done.returncode != 0
    folder = profile / "profiles" / "default" / "python" / FOLDER_NAME
    assert " -m pip install --upgrade --target " in output and f"{folder}/py3" in output, output
    assert "torch==2.13.0" in output and "click Install" not in output
