"""Dependencies inside QGIS: the check on load, the Install button's plan and pip task, the torch build and Diagnostics.

pip only ever sees a local folder of wheels written here (`--no-index --find-links`): nothing
is downloaded and torch is never installed. The plan is checked with Debian's own Python, whose
numpy, scipy and matplotlib must never be fetched a second time.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy
import pytest
import torch
from osgeo import gdal
from pytest_qgis.utils import wait_until
from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtWidgets import QApplication, QPushButton

from core.errors import RunCanceled
from natural_explain_plugin import classFactory, dependencies
from natural_explain_plugin.button_labels import DIAGNOSTICS_TEXT, DOWNLOAD_TEXT, INSTALL_TEXT
from natural_explain_plugin.dependencies import Requirement, engine_requirements, read_specs
from natural_explain_plugin.installer import (
    MEASURED_DOWNLOAD_MB,
    InstallTask,
    headless_pip_command,
    index_options,
    pip_command,
    plan,
    plan_from_report,
    qgis_python,
    run_pip,
)
from natural_explain_plugin.package import REPO
from natural_explain_plugin.torch_build import TORCH_INDEX

PIP_TIMEOUT_MS = 120_000
PROBE = Requirement("ne_probe", "ne_probe", "ne_probe==1.0")
NUMPY_FILE, NUMPY_VERSION = numpy.__file__, numpy.__version__
DEBIAN_PYTHON = Path("/usr/bin/python3")


def write_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel (PEP 427) whose module `name` holds `__version__`, with a hashed RECORD."""
    dist_info = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": f'__version__ = "{version}"\n',
             f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                      + "".join(f"Requires-Dist: {r}\n" for r in requires),
             f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip('=')},"
              f"{len(text.encode())}" for path, text in files.items()]
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


@pytest.fixture
def wheel_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local index: the probe (needing a second probe and numpy) and numpy at QGIS's version and at 2.0.0.

    The numpy wheels stand in for PyPI's: pip must take QGIS's version (the constraint), never
    the newer one. pip's own settings from this machine are switched off, so only this folder counts.
    """
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(folder, "ne_probe", "1.0", ("ne_probe_dep", "numpy"))
    write_wheel(folder, "ne_probe_dep", "1.0")
    write_wheel(folder, "numpy", NUMPY_VERSION)
    write_wheel(folder, "numpy", "2.0.0")
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return folder


@pytest.fixture
def log_lines() -> list[str]:
    """What reaches the Log Messages panel's Natural Explain tab during the test."""
    lines: list[str] = []

    def keep(message: str, tag: str, _level: Qgis.MessageLevel) -> None:
        if tag == "Natural Explain":
            lines.append(message)

    QgsApplication.messageLog().messageReceived.connect(keep)
    yield lines
    QgsApplication.messageLog().messageReceived.disconnect(keep)


def imported_in_fresh_python(target: Path, code: str) -> list[str]:
    """Run `code` in a new interpreter with `target` first on sys.path, as the plugin puts it; its printed lines."""
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_requirements_pin_what_requirements_txt_pins_and_name_every_engine_package() -> None:
    pins = read_specs(REPO / "requirements.txt")
    specs = {r.name: r.spec for r in engine_requirements()}
    assert specs["torch"] == pins["torch"] == "torch==2.13.0"
    assert specs["safetensors"] == pins["safetensors"] and specs["captum"] == pins["captum"]
    assert specs["scikit-learn"] == pins["scikit-learn"] == "scikit-learn==1.5.2"
    assert specs["imbalanced-learn"] == pins["imbalanced-learn"] == "imbalanced-learn==0.12.4"
    assert {"rasterio", "scipy", "matplotlib"} <= set(specs) and "pytest" not in specs


@pytest.mark.slow
def test_missing_torch_shows_one_install_message_without_traceback_or_importing_torch(tmp_path: Path) -> None:
    """QGIS's own Python, without the developer venv (torch, safetensors, captum), loads the plugin."""
    code = """
import json, sys
from qgis.core import QgsApplication
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtWidgets import QMainWindow, QPushButton
from pytest_qgis.mock_qgis_classes import MockMessageBar
from pytest_qgis.qgis_interface import QgisInterface
app = QgsApplication([], True); app.initQgis()
sys.path[:] = [p for p in sys.path if not p.startswith(sys.prefix)]  # drop the venv's site-packages
import natural_explain_plugin
iface = QgisInterface(QgsMapCanvas(), MockMessageBar(), QMainWindow())
plugin = natural_explain_plugin.classFactory(iface)
plugin.initGui()
items = iface.messageBar().items()
print(json.dumps({"texts": [item.text() for item in items],
                  "buttons": [[b.text() for b in item.findChildren(QPushButton)] for item in items],
                  "imported": [m for m in ("torch", "safetensors", "captum", "core.pipeline") if m in sys.modules]}))
plugin.unload()
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO),
           "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path / "profile")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["texts"] == ["QGIS's Python lacks torch, safetensors, captum, tqdm, scikit-learn, imbalanced-learn: "
                              "click Install to add them to your QGIS profile"]
    assert {INSTALL_TEXT, DIAGNOSTICS_TEXT} <= set(shown["buttons"][0])
    assert shown["imported"] == []


def test_nothing_missing_shows_no_message(plugin, qgis_iface) -> None:
    assert plugin.dependency_message.item is None
    assert not [m for m in qgis_iface.messageBar().get_messages(Qgis.Warning) if "lacks" in m]


@pytest.mark.slow
def test_install_button_installs_the_missing_package_and_it_imports_without_restart(
        qgis_iface, project, wheel_folder, tmp_path, monkeypatch) -> None:
    """The whole path a user takes: message, Install, pip task, the package importable in this QGIS."""
    target = tmp_path / "profile" / "natural_explain_deps"
    monkeypatch.setitem(dependencies.ENGINE_MODULES, PROBE.name, PROBE.module)
    monkeypatch.setattr("natural_explain_plugin.dependency_message.dependency_folder", lambda: target)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip's own settings, as a user's pip.conf would give them
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheel_folder))
    monkeypatch.setattr(sys, "path", list(sys.path))
    loaded = classFactory(qgis_iface)
    loaded.initGui()
    try:
        item = loaded.dependency_message.item
        assert "lacks ne_probe" in item.text()
        install = next(b for b in item.findChildren(QPushButton) if b.text() == INSTALL_TEXT)
        install.click()
        task = loaded.dependency_message.task
        assert [r.name for r in task.requirements] == [PROBE.name] and task.target == target
        assert wait_until(lambda: loaded.dependency_message.task is None, timeout_milliseconds=PIP_TIMEOUT_MS)
        confirm = loaded.dependency_message.item  # nothing downloaded yet: the size and the packages first
        assert not target.exists() or not list(target.iterdir())
        assert confirm.text().startswith("Install will download 1 MB and add ne_probe 1.0, ne_probe_dep 1.0 to "
                                         f"{target}; QGIS's own packages stay as they are"), confirm.text()
        next(b for b in confirm.findChildren(QPushButton) if b.text() == DOWNLOAD_TEXT).click()
        assert loaded.dependency_message.task is not None
        assert wait_until(lambda: loaded.dependency_message.task is None, timeout_milliseconds=PIP_TIMEOUT_MS)
        successes = qgis_iface.messageBar().get_messages(Qgis.Success)
        assert any("installed ne_probe: ready to run" in m for m in successes), qgis_iface.messageBar().messages
        import ne_probe

        assert Path(ne_probe.__file__).is_relative_to(target) and sys.path[0] == str(target)
        assert numpy.__file__ == NUMPY_FILE
    finally:
        loaded.unload()
        sys.modules.pop("ne_probe", None)


@pytest.mark.slow
def test_installer_task_installs_into_target_holding_numpy_at_qgis_version(wheel_folder, tmp_path, log_lines) -> None:
    target = tmp_path / "target"
    outcome: list[object] = []
    task = InstallTask([PROBE], target, on_success=outcome.append, on_failure=outcome.append,
                       on_canceled=lambda: outcome.append("canceled"),
                       index_args=["--no-index", "--find-links", str(wheel_folder)])
    progress: list[float] = []
    task.progressChanged.connect(progress.append)
    QgsApplication.taskManager().addTask(task)
    assert wait_until(lambda: outcome, timeout_milliseconds=PIP_TIMEOUT_MS)
    assert outcome == [[PROBE]], "\n".join(log_lines)
    assert progress == sorted(progress) and 0 < progress[0] < 100 == progress[-1]
    probe, dep, numpy_file, numpy_version = imported_in_fresh_python(
        target, "import ne_probe, ne_probe_dep, numpy; print(ne_probe.__file__, ne_probe_dep.__file__, "
                "numpy.__file__, numpy.__version__)")
    assert Path(probe).is_relative_to(target) and Path(dep).is_relative_to(target)
    assert (numpy_file, numpy_version) == (NUMPY_FILE, NUMPY_VERSION)
    assert not list(target.glob("numpy*")), "pip's copy of numpy was left where it would shadow QGIS's"
    assert f"constraints: numpy=={NUMPY_VERSION}" in "\n".join(log_lines)
    installed = [line for line in log_lines if line.startswith("Successfully installed")]
    assert installed == ["Successfully installed ne_probe-1.0 ne_probe_dep-1.0"]  # numpy never fetched
    assert any("--no-deps" in line and "ne_probe==1.0 ne_probe_dep==1.0" in line for line in log_lines)


def test_failed_install_is_one_sentence_with_pip_output_in_the_log(wheel_folder, tmp_path, log_lines) -> None:
    outcome: list[Exception] = []
    task = InstallTask([Requirement("ne_absent", "ne_absent", "ne_absent")], tmp_path / "target",
                       on_success=outcome.append, on_failure=outcome.append, on_canceled=lambda: None,
                       index_args=["--no-index", "--find-links", str(wheel_folder)])
    QgsApplication.taskManager().addTask(task)
    assert wait_until(lambda: outcome, timeout_milliseconds=PIP_TIMEOUT_MS)
    assert str(outcome[0]).startswith("pip could not install ne_absent: its output is in the Log Messages panel")
    assert any("No matching distribution found for ne_absent" in line for line in log_lines)


def test_cancel_stops_pip_within_a_second() -> None:
    lines: list[str] = []
    command = [sys.executable, "-c", "import time; print('Collecting torch', flush=True); time.sleep(60)"]
    started = time.monotonic()
    with pytest.raises(RunCanceled):
        run_pip(command, lines.append, lambda: bool(lines))
    assert time.monotonic() - started < 10 and lines == ["Collecting torch"]


def debian_wheels(folder: Path, probe_requires: tuple[str, ...]) -> Path:
    """A local index with a probe needing `probe_requires`, and newer matplotlib, scipy and numpy than Debian's."""
    folder.mkdir()
    write_wheel(folder, "ne_probe", "1.0", ("ne_probe_dep", *probe_requires))
    write_wheel(folder, "ne_probe_dep", "1.0")
    for name, version in (("matplotlib", "3.10.9"), ("scipy", "1.15.0"), ("numpy", "2.0.0"), ("numpy", NUMPY_VERSION)):
        write_wheel(folder, name, version)
    return folder


@pytest.mark.skipif(not DEBIAN_PYTHON.is_file(), reason="needs Debian's /usr/bin/python3, numpy, scipy, matplotlib")
def test_plan_for_debian_python_leaves_out_the_packages_it_has(tmp_path, monkeypatch) -> None:
    """captum needs matplotlib: pip --target alone fetched 3.10.9 over Debian's; the plan fetches only what lacks."""
    monkeypatch.setattr("natural_explain_plugin.installer.qgis_python", lambda: DEBIAN_PYTHON)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    wheels = debian_wheels(tmp_path / "wheels", ("matplotlib", "numpy", "scipy"))
    planned = plan([PROBE], tmp_path / "target", ["--no-index", "--find-links", str(wheels)], lambda: False)
    assert planned.specs == ["ne_probe==1.0", "ne_probe_dep==1.0"]
    assert planned.shadowing == [] and planned.index_args == ("--no-index", "--find-links", str(wheels))
    sizes = [(wheels / f"{name}-1.0-py3-none-any.whl").stat().st_size for name in ("ne_probe", "ne_probe_dep")]
    assert [p.size for p in planned.packages] == sizes
    assert "matplotlib" not in planned.describe(tmp_path / "target")


@pytest.mark.skipif(not DEBIAN_PYTHON.is_file(), reason="needs Debian's /usr/bin/python3 with its matplotlib")
def test_plan_says_when_a_pinned_version_must_shadow_qgis_copy(tmp_path, monkeypatch) -> None:
    import matplotlib

    monkeypatch.setattr("natural_explain_plugin.installer.qgis_python", lambda: DEBIAN_PYTHON)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    wheels = debian_wheels(tmp_path / "wheels", ("matplotlib>=3.10",))
    planned = plan([PROBE], tmp_path / "target", ["--no-index", "--find-links", str(wheels)], lambda: False)
    assert sorted(planned.specs) == ["matplotlib==3.10.9", "ne_probe==1.0", "ne_probe_dep==1.0"]
    assert [(p.name, p.shadows) for p in planned.shadowing] == [("matplotlib", matplotlib.__version__)]
    assert planned.describe(tmp_path / "target").endswith(
        f", except matplotlib 3.10.9 (QGIS has {matplotlib.__version__}): a pinned version needs them, so these "
        "copies load instead of QGIS's for every plugin")


def test_install_message_holds_the_download_size_before_it_starts(tmp_path) -> None:
    """The size comes from the files pip's plan names; when the index gives none, the measured 985 MB is said."""
    report = {"install": [{"metadata": {"name": n, "version": v}, "download_info": {"url": f"https://example/{n}.whl"}}
                          for n, v in (("torch", "2.13.0"), ("captum", "0.8.0"))]}
    sizes = {"https://example/torch.whl": 960_000_000, "https://example/captum.whl": 24_300_000}
    known = plan_from_report(report, has_version=lambda name: None, size_of=sizes.get)
    assert known.describe(tmp_path).startswith(f"Install will download 985 MB and add torch 2.13.0, captum 0.8.0 to "
                                               f"{tmp_path}; QGIS's own packages stay as they are")
    unknown = plan_from_report(report, has_version=lambda name: None, size_of=lambda url: None)
    assert unknown.describe(tmp_path).startswith(f"Install will download about {MEASURED_DOWNLOAD_MB} MB (")


def test_headless_pip_command_fills_the_plugin_folder_with_the_pins() -> None:
    requirements = [r for r in engine_requirements() if r.name in ("torch", "captum")]
    command = headless_pip_command(requirements, Path("/profile/python/natural_explain_deps/py311"),
                                   Path("/usr/bin/python3.11"), ["--extra-index-url", f"{TORCH_INDEX}/cpu"])
    assert command == ("/usr/bin/python3.11 -m pip install --upgrade --target "
                       f"/profile/python/natural_explain_deps/py311 --extra-index-url {TORCH_INDEX}/cpu "
                       "torch==2.13.0 captum==0.8.0")


def test_pip_command_installs_a_plan_without_resolving_again() -> None:
    command = pip_command(Path("/qgis/python3"), ["torch==2.13.0", "sympy==1.13.3"], Path("/profile/deps"), None, [])
    assert command == ["/qgis/python3", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                       "--progress-bar", "off", "--upgrade", "--target", "/profile/deps", "--no-deps",
                       "torch==2.13.0", "sympy==1.13.3"]


def test_pip_command_targets_the_folder_with_the_constraint_and_index() -> None:
    command = pip_command(Path("/qgis/python3"), ["torch==2.13.0", "captum==0.8.0"], Path("/profile/deps"),
                          Path("/tmp/constraints.txt"), ["--extra-index-url", f"{TORCH_INDEX}/cu128"])
    assert command == ["/qgis/python3", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                       "--progress-bar", "off", "--upgrade", "--target", "/profile/deps",
                       "--constraint", "/tmp/constraints.txt", "--extra-index-url", f"{TORCH_INDEX}/cu128",
                       "torch==2.13.0", "captum==0.8.0"]


SMI_HEADER = """+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 570.86.15              Driver Version: 570.86.15      CUDA Version: {cuda}     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|   0  NVIDIA H100 80GB HBM3          On  |   00000000:19:00.0 Off |                    0 |
+-----------------------------------------+------------------------+----------------------+"""
SMI_FAILS = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."


@pytest.mark.parametrize(("smi_output", "smi_status", "system", "index"), [
    (SMI_HEADER.format(cuda="12.8"), 0, "Linux", "cu128"),
    (SMI_HEADER.format(cuda="12.9"), 0, "Windows", "cu128"),
    (SMI_HEADER.format(cuda="13.0"), 0, "Linux", "cu130"),
    (SMI_HEADER.format(cuda="11.4"), 0, "Linux", "cpu"),  # a driver too old for every CUDA build
    (SMI_FAILS, 9, "Linux", "cpu"),
    (None, None, "Windows", "cpu"),  # no nvidia-smi at all
    (SMI_HEADER.format(cuda="12.8"), 0, "Darwin", None),  # macOS: PyPI's own wheels
], ids=["cuda12.8", "windows-cuda12.9", "cuda13.0", "old-driver", "smi-fails", "no-smi", "macos"])
def test_torch_build_follows_nvidia_smi(smi_output, smi_status, system, index, tmp_path, monkeypatch) -> None:
    """A fake nvidia-smi on PATH answers as a driver would; the torch index follows it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if smi_output is not None:
        smi = bin_dir / "nvidia-smi"
        smi.write_text(f"#!{sys.executable}\nimport sys\nprint({smi_output!r})\nsys.exit({smi_status})\n")
        smi.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))  # only the fake: a real nvidia-smi must not answer
    torch_requirement = [r for r in engine_requirements() if r.name == "torch"]
    expected = [] if index is None else ["--extra-index-url", f"{TORCH_INDEX}/{index}"]
    assert index_options(torch_requirement, system) == expected
    assert index_options([PROBE], system) == []  # no torch to install, no torch index


def test_qgis_python_is_found_when_sys_executable_is_qgis_or_another_python(tmp_path: Path) -> None:
    windows = tmp_path / "OSGeo4W"
    (windows / "apps" / "Python312").mkdir(parents=True)
    (windows / "apps" / "Python312" / "python.exe").touch()
    assert qgis_python(str(windows / "bin" / "qgis-bin.exe"), str(windows / "apps" / "Python312"), (3, 12)) \
        == windows / "apps" / "Python312" / "python.exe"
    linux, shim = tmp_path / "usr", tmp_path / "pyenv" / "shims" / "python3"
    (linux / "bin").mkdir(parents=True)
    (linux / "bin" / "python3.11").touch()
    shim.parent.mkdir(parents=True)
    shim.touch()
    assert qgis_python(str(shim), str(linux), (3, 11)) == linux / "bin" / "python3.11"  # not the PATH's python3
    assert qgis_python().resolve() == Path(sys.executable).resolve()


def test_diagnostics_copies_versions_device_and_paths_to_the_clipboard(plugin, qgis_iface) -> None:
    QApplication.clipboard().clear()
    plugin.dependency_message.action.trigger()
    text = QApplication.clipboard().text()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for fact in (f"QGIS: {Qgis.QGIS_VERSION}", f"Python: {sys.version.split()[0]} at {qgis_python()}",
                 f"numpy: {NUMPY_VERSION} at {Path(NUMPY_FILE).parent}", f"GDAL: {gdal.__version__}",
                 f"torch: {torch.__version__} (CUDA build: {torch.version.cuda or 'none'}",
                 f"device (auto): {device}", f"at {Path(torch.__file__).parent}",
                 "captum 0.8.0 (wanted: captum==0.8.0)", str(dependencies.dependency_folder())):
        assert fact in text, fact
    assert any("diagnostics copied to the clipboard" in m for m in qgis_iface.messageBar().get_messages(Qgis.Info))


def test_diagnostics_names_a_missing_package(monkeypatch) -> None:
    from natural_explain_plugin.diagnostics import report

    monkeypatch.setitem(dependencies.ENGINE_MODULES, PROBE.name, PROBE.module)
    assert "ne_probe MISSING (wanted: ne_probe) at not found" in report()
