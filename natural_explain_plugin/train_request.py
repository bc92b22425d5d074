"""Training a classifier from QGIS as plain values: the command, its environment, its output, its cost.

The plugin never imports `train` (the arrows are plugin -> core <- train): training runs as a
child process, `<QGIS's Python> -m train classifier ...`, which sees the plugin folder (where
`core/` and `train/` sit in the installed zip, or the repository root in a clone) and the
plugin's dependency folder through PYTHONPATH. Its output is read line by line: tqdm's
"epoch 2/5: 40%|...| 6/16" bars give the progress inside an epoch, "epoch 2/5: train loss ...,
val accuracy 0.944, ..." lines close an epoch, "wrote MODEL.json: val accuracy ..." ends a
run, and "error: ..." is a mistake the analyst can fix, said in one sentence. Cancel sends
SIGTERM, which train takes as Ctrl+C (TerminateProcess on Windows): the child keeps its last per-epoch checkpoint, and a later run
with `--resume` and the same checkpoint folder carries on from it.

The checks the plugin can make cheaply run before the child starts (the class field's values,
the natural classes, the raster's band count, polygons outside the raster, a polygon layer in
another CRS, which is reprojected into a GeoPackage beside the model); the rest come from
train's own checks (train/label_checks.py), shown as the one sentence it prints.
"""
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

from .bundled_core import PLUGIN_DIR

POLL_S = 0.2
STOP_WAIT_S = 60.0  # how long a canceled child may take to finish its batch before it is killed
# The estimate: a start-up (Python, torch, reading the labelled blocks) plus seconds per epoch per labelled
# megapixel, measured on the bundled sample (0.29 Mpx labelled by resources/labels/virginia_s2_train.geojson,
# about 510 training patches of 32 px, batch 32, 16 steps an epoch) on the development machine's 2-core CPU:
# under load from other work 30 s an epoch and 69 s from start to "wrote" for 2 epochs (104 s per labelled
# Mpx per epoch, 9 s start-up); in the walk-through's QGIS, less loaded, 24 s for 1 epoch, start-up included
# (about 62 s per Mpx, 6 s). The figures are set between the two, as dock/cost_estimate.py's are. Every
# finished run is kept in the run-time store the explain estimates use (settings.remember_run_time, device
# "train:<device>"), and the estimate is scaled by the machine's own ratio (cost_estimate.calibration_factor).
TRAIN_STARTUP_S = 8.0
EPOCH_SECONDS_PER_LABELLED_MPX = 80.0
CALIBRATION_PREFIX = "train:"

BAR = re.compile(r"^epoch (\d+)/(\d+):\s+\d+%\|.*?\|\s*(\d+)/(\d+)")
EPOCH_DONE = re.compile(r"^epoch (\d+)/(\d+): train loss ([\d.]+), val loss ([\d.]+), val accuracy ([\d.]+)")
WROTE = re.compile(r"^wrote (.+?\.json):")
ACCURACY = re.compile(r"val accuracy ([\d.]+)")
ERROR = re.compile(r"^error: (.+)$")


@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """One `python -m train classifier` run on a raster and a polygon layer, as the child process takes it.

    `bands` are train's --bands items (names, or NAME=NUMBER for unnamed raster bands); `resume`
    continues from the checkpoints in `workdir`, `fresh` discards them (train refuses a rerun into a
    folder with checkpoints unless one is given).
    """

    raster: str
    polygons: str
    label_field: str
    natural_classes: tuple[str, ...]
    epochs: int
    out: Path
    bands: tuple[str, ...] = ()
    workdir: Path | None = None
    resume: bool = False
    fresh: bool = False
    device: str = "auto"
    command: str = "classifier"  # or "cyclegan": the pattern generators for `classifier`
    classifier: Path | None = None

    @property
    def model_json(self) -> Path:
        """The sidecar the run writes (OUT.json)."""
        base = self.out.with_suffix("") if self.out.suffix in (".json", ".safetensors") else self.out
        return base.with_name(base.name + ".json")

    @property
    def checkpoint_folder(self) -> Path:
        """Where the checkpoints go: `workdir`, else OUT.ckpt beside the model (train's default)."""
        if self.workdir is not None:
            return self.workdir
        base = self.model_json.with_suffix("")
        return base.with_name(base.name + ".ckpt")

    def arguments(self) -> list[str]:
        """The arguments after `python -m train`."""
        args = [self.command, "--raster", self.raster, "--polygons", self.polygons, "--label-field", self.label_field,
                "--epochs", str(self.epochs), "--out", str(self.out), "--workdir", str(self.checkpoint_folder),
                "--device", self.device]
        if self.command == "cyclegan":
            args[1:1] = ["--classifier", str(self.classifier)]
            mapped = [item for item in self.bands if "=" in item]  # the generators take the classifier's bands
            if mapped and len(mapped) == len(self.bands):
                args += ["--bands", ",".join(mapped)]
        else:
            args += ["--natural-classes", ",".join(self.natural_classes)]
            if self.bands:
                args += ["--bands", ",".join(self.bands)]
        if self.resume:
            args.append("--resume")
        elif self.fresh:
            args.append("--fresh")
        return args


def generators_request(request: TrainRequest, model_json: Path, epochs: int = 4) -> TrainRequest:
    """The second step: the pattern generators (cyclegan, counterfactual) for the model `request` trained."""
    base = model_json.with_suffix("")  # MODEL_generators.json: where explain looks (core.explain.cyclegan)
    return dataclasses.replace(request, command="cyclegan", classifier=model_json, epochs=epochs,
                               out=base.with_name(base.name + "_generators.json"), workdir=None, resume=False,
                               fresh=False)


def checkpoint_epochs(folder: Path) -> int:
    """How many epochs the checkpoints in `folder` hold (0 when it has none): train's epoch_NNNN.pt files."""
    numbers = [int(m.group(1)) for p in folder.glob("epoch_*.pt") if (m := re.match(r"epoch_(\d+)\.pt$", p.name))]
    return max(numbers, default=0)


def code_folder(plugin_dir: Path = PLUGIN_DIR) -> Path:
    """The folder holding `core/` and `train/`: the plugin folder in the installed zip, the repository in a clone."""
    return plugin_dir if (plugin_dir / "train").is_dir() else plugin_dir.parent


def child_environment(dependency_folder: Path | None, base: dict[str, str] | None = None,
                      plugin_dir: Path = PLUGIN_DIR) -> dict[str, str]:
    """The child's environment: PYTHONPATH with the code folder, then the dependency folder, then what was there.

    The dependency folder comes right after the code, as use_dependency_folder puts it first on
    sys.path inside QGIS, so the child loads the same packages QGIS does.
    """
    env = dict(os.environ if base is None else base)
    parts = [str(code_folder(plugin_dir))]
    if dependency_folder is not None and dependency_folder.is_dir():
        parts.append(str(dependency_folder))
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONUNBUFFERED"] = "1"  # each line reaches the log as it is printed
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def training_python() -> Path:
    """The Python QGIS runs (installer.qgis_python: never qgis-bin.exe or the macOS app binary).

    Raises:
        NaturalExplainError: when it cannot be found.
    """
    from .installer import qgis_python

    return qgis_python()


def train_command(request: TrainRequest, python: Path | None = None) -> list[str]:
    """The whole command line of the child process."""
    return [str(python or training_python()), "-m", "train", *request.arguments()]


@dataclasses.dataclass
class TrainProgress:
    """What the child's output has said so far: the percent done, finished epochs, the model, the error."""

    percent: float = 0.0
    epochs: list[str] = dataclasses.field(default_factory=list)  # the "epoch N/M: ... val accuracy ..." lines
    last_accuracy: float | None = None
    model_json: Path | None = None
    error: str | None = None
    lines: list[str] = dataclasses.field(default_factory=list)

    def read(self, line: str) -> str | None:
        """Take one output line; returns the line to log (epoch summaries, the result, an error), else None."""
        line = line.strip()
        if not line:
            return None
        if (m := BAR.match(line)) and not EPOCH_DONE.match(line):
            epoch, total, step, steps = (int(g) for g in m.groups())
            self.percent = max(self.percent, min(100.0 * ((epoch - 1) + step / max(steps, 1)) / max(total, 1), 99.0))
            return None
        self.lines.append(line)
        if m := EPOCH_DONE.match(line):
            epoch, total = int(m.group(1)), int(m.group(2))
            self.last_accuracy = float(m.group(5))
            self.epochs.append(line)
            self.percent = max(self.percent, min(100.0 * epoch / max(total, 1), 99.0))
            return line
        if m := WROTE.match(line):
            self.model_json = Path(m.group(1))
            if accuracy := ACCURACY.search(line):
                self.last_accuracy = float(accuracy.group(1))
            self.percent = 100.0
            return line
        if m := ERROR.match(line):
            self.error = m.group(1)
            return line
        return None


def epoch_seconds(labelled_pixels: int) -> float:
    """Estimated CPU seconds of one epoch over `labelled_pixels` model pixels of labels (uncalibrated)."""
    return EPOCH_SECONDS_PER_LABELLED_MPX * labelled_pixels / 1e6


def training_seconds(labelled_pixels: int, epochs: int, calibration: float = 1.0) -> float:
    """Estimated seconds of a whole training run of `epochs` epochs, start-up included."""
    return (TRAIN_STARTUP_S + epochs * epoch_seconds(labelled_pixels)) * calibration


def calibration_device(device: str) -> str:
    """The device name training runs are kept under in the run-time store."""
    return CALIBRATION_PREFIX + device


def interrupt_flags() -> int:
    """Popen creation flags: no console window on Windows (where Cancel terminates the child); nothing elsewhere."""
    return getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0


# --- the checks the plugin makes before the child starts (QGIS layers; qgis imported inside) ---

def class_values(layer, field: str) -> list[str]:  # noqa: ANN001 (QgsVectorLayer)
    """The field's distinct non-empty values over the layer's features, sorted, as train reads them (str, stripped)."""
    index = layer.fields().indexOf(field)
    if index < 0:
        return []
    return sorted({str(v).strip() for v in layer.uniqueValues(index)
                   if v is not None and str(v).strip() and str(v) != "NULL"})


def check_classes(values: list[str], natural: list[str], field: str) -> None:
    """Refuse a class field with one value, and a natural-class choice that is empty or takes every class.

    Raises:
        NaturalExplainError: one sentence saying what to change.
    """
    from core.errors import NaturalExplainError

    from .i18n import tr

    if len(values) < 2:
        raise NaturalExplainError(tr("the class field '{0}' holds {1}: a classifier needs polygons of at least two "
                                     "classes, so draw polygons of another class or choose another field").format(
            field, tr("only the value {0}").format(values[0]) if values else tr("no value")))
    if not natural:
        raise NaturalExplainError(tr("tick the classes of '{0}' that count as natural (at least one)").format(field))
    if set(natural) >= set(values):
        raise NaturalExplainError(tr("every class of '{0}' is ticked as natural: leave at least one class unticked "
                                     "(e.g. farmland or towns)").format(field))
    unknown = [name for name in natural if name not in values]
    if unknown:
        raise NaturalExplainError(tr("natural class(es) {0} are not values of '{1}' ({2}): tick values the field "
                                     "holds").format(", ".join(unknown), field, ", ".join(values)))


def band_sets() -> dict[str, list[str]]:
    """The band sets a model can be trained on, by the bundled classifier that has them, richest first."""
    from core.errors import NaturalExplainError
    from core.models.card import read_card
    from core.resources import BUNDLED_CLASSIFIERS

    sets = {}
    for path in BUNDLED_CLASSIFIERS:
        try:
            sets[Path(path).stem] = list(read_card(path)[0].bands)
        except NaturalExplainError:
            continue
    return sets


def band_items(raster: str, bands: list[str], set_name: str) -> tuple[str, ...]:
    """train's --bands items for `bands` on `raster`: names it has, and NAME=NUMBER for bands it does not name.

    Bands found by name (or description) are given by name; when the raster names none of the
    missing ones, they take its unused band numbers in order, which the page shows.

    Raises:
        NaturalExplainError: when the raster has fewer bands than the set, or names only some of them.
    """
    from core.errors import NaturalExplainError
    from core.raster.bands import match_bands
    from core.raster.sources import open_input

    from .i18n import tr

    source = open_input(raster)
    count = len(source.bands)
    if count < len(bands):
        raise NaturalExplainError(tr("the raster has {0} band(s) and the band set {1} needs {2} ({3}): choose a band "
                                     "set with at most {0} bands (e.g. naturalness_s2_rgb) or a raster with all of "
                                     "them").format(count, set_name, len(bands), ", ".join(bands)))
    found: dict[str, int] = {}
    for name in bands:
        try:
            (ref,) = match_bands(source, [name])
        except NaturalExplainError:
            continue
        found[name] = source.bands.index(ref) + 1
    if len(found) == len(bands):
        return tuple(bands)
    if found and any(b.name for b in source.bands):
        missing = [name for name in bands if name not in found]
        raise NaturalExplainError(tr("the raster names some bands but not {0}: choose a band set it has (e.g. "
                                     "naturalness_s2_rgb) or name its bands").format(", ".join(missing)))
    free = iter(i for i in range(1, count + 1) if i not in found.values())
    return tuple(f"{name}={found[name] if name in found else next(free)}" for name in bands)


def polygons_for_training(raster_layer, polygons, field: str, folder: Path,  # noqa: ANN001 (QGIS layers)
                          reuse: bool = False) -> str:  # noqa: FBT001, FBT002
    """The polygon file train reads: the layer's own file, or a GeoPackage in `folder` in the raster's CRS.

    A layer in another CRS than the raster (or one that is no plain file: a memory layer, a
    selection) is written to `folder`/<layer>_<EPSG>.gpkg, reprojected to the raster's CRS.
    `reuse` keeps a copy written before (a resumed run: train checks its checkpoints were made
    from the very same file, and a GeoPackage written again differs byte for byte).

    Raises:
        NaturalExplainError: when no polygon overlaps the raster, or the copy cannot be written.
    """
    from qgis.core import (
        QgsCoordinateTransform,
        QgsProject,
        QgsVectorFileWriter,
        QgsWkbTypes,
    )

    from core.errors import NaturalExplainError

    from .i18n import tr

    if polygons.geometryType() != QgsWkbTypes.PolygonGeometry:
        raise NaturalExplainError(tr("the label layer '{0}' holds no polygons: give a polygon layer with a class "
                                     "field").format(polygons.name()))
    context = QgsProject.instance().transformContext()
    raster_crs = raster_layer.crs()
    transform = QgsCoordinateTransform(polygons.crs(), raster_crs, context)
    try:
        extent = transform.transformBoundingBox(polygons.extent()) if polygons.crs() != raster_crs \
            else polygons.extent()
    except Exception:  # noqa: BLE001 (QgsCsException: an extent beyond the target CRS's area of use)
        extent = None
    if extent is None or not extent.intersects(raster_layer.extent()):
        raise NaturalExplainError(tr("the polygons of '{0}' lie outside the raster '{1}': draw the labels over the "
                                     "raster, or choose the raster they were drawn on").format(
            polygons.name(), raster_layer.name()))
    source = polygons.dataProvider().dataSourceUri().split("|")[0]
    plain_file = polygons.providerType() == "ogr" and Path(source).is_file() and "|subset=" not in \
        polygons.dataProvider().dataSourceUri()
    if plain_file and polygons.crs() == raster_crs:
        return source
    folder.mkdir(parents=True, exist_ok=True)
    authid = raster_crs.authid().replace(":", "") or "raster_crs"
    target = folder / f"{re.sub(r'[^A-Za-z0-9_-]+', '_', polygons.name()) or 'labels'}_{authid}.gpkg"
    if reuse and target.is_file():
        return str(target)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.ct = transform
    options.attributes = [polygons.fields().indexOf(field)]
    error, message, _, _ = QgsVectorFileWriter.writeAsVectorFormatV3(polygons, str(target), context, options)
    if error != QgsVectorFileWriter.NoError:
        raise NaturalExplainError(tr("could not write the reprojected labels to {0} ({1}): choose an output folder "
                                     "you may write to").format(target, message))
    return str(target)


def labelled_pixels(raster_layer, polygons, resolution_m: float = 10.0) -> int:  # noqa: ANN001 (QGIS layers)
    """About how many model pixels the polygons label inside the raster (for the time estimate).

    Each polygon's area inside the raster's extent, measured on the ellipsoid, over the pixel area;
    overlapping polygons count twice, which an estimate can bear.
    """
    from qgis.core import QgsCoordinateTransform, QgsDistanceArea, QgsGeometry, QgsProject

    context = QgsProject.instance().transformContext()
    transform = QgsCoordinateTransform(polygons.crs(), raster_layer.crs(), context)
    bounds = QgsGeometry.fromRect(raster_layer.extent())
    measure = QgsDistanceArea()
    measure.setSourceCrs(raster_layer.crs(), context)
    measure.setEllipsoid(raster_layer.crs().ellipsoidAcronym() or "EPSG:7030")
    area = 0.0
    for feature in polygons.getFeatures():
        geometry = QgsGeometry(feature.geometry())
        if geometry.isEmpty():
            continue
        try:
            geometry.transform(transform)
        except Exception:  # noqa: BLE001 (QgsCsException: a polygon beyond the raster CRS's area of use)
            continue
        area += measure.measureArea(geometry.intersection(bounds))
    return int(area / (resolution_m * resolution_m))
