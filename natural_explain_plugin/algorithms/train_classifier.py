"""Processing algorithm `natural_explain:train_classifier`: the analyst's own naturalness classifier.

Trains on a raster and a polygon layer with a class field, as the panel's Train model page
does, by running `python -m train classifier` as a child process of QGIS's Python (the plugin
never imports `train`). Each finished epoch's held-out accuracy goes to the Processing log;
Cancel keeps the last checkpoint, and RESUME carries on from it.
"""
import dataclasses
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError, RunCanceled

from ..i18n import tr
from ..layer_arguments import raster_path
from ..train_request import (
    TrainRequest,
    band_items,
    band_sets,
    check_classes,
    checkpoint_epochs,
    class_values,
    polygons_for_training,
)
from .engine_algorithm import EngineAlgorithm, advanced

DEFAULT_EPOCHS = 10


def names(text: str) -> list[str]:
    """Comma-separated names, blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def automatic_bands(raster: str) -> tuple[str, ...]:
    """The richest bundled band set the raster has (by name, or by number when it names no band).

    Raises:
        NaturalExplainError: the last set's reason when none fits.
    """
    sets = band_sets()
    error: NaturalExplainError | None = None
    for name, bands in sets.items():
        try:
            return band_items(raster, bands, name)
        except NaturalExplainError as exc:
            error = error or exc
    raise error or NaturalExplainError(tr("no bundled band set found: give BANDS"))


class TrainClassifierAlgorithm(EngineAlgorithm):
    """Runs `python -m train classifier` for the parameters; outputs the model file and its held-out accuracy."""

    POLYGONS = "POLYGONS"
    LABEL_FIELD = "LABEL_FIELD"
    NATURAL_CLASSES = "NATURAL_CLASSES"
    EPOCHS = "EPOCHS"
    RESUME = "RESUME"
    OUTPUT = "OUTPUT"
    ACCURACY = "VAL_ACCURACY"
    GROUP_ID = "training"

    def name(self) -> str:
        return "train_classifier"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return tr("Train a naturalness classifier")

    def group(self) -> str:
        return tr("Training")

    def help_text(self) -> str:
        return tr("Trains your own naturalness classifier on a raster (INPUT) and polygons (POLYGONS) whose "
                  "LABEL_FIELD names each polygon's class; NATURAL_CLASSES (comma-separated values of that field) "
                  "count as natural, the others as not. Polygons in another CRS are reprojected to the raster's "
                  "into a GeoPackage beside OUTPUT. BANDS picks the model's bands as python -m train classifier "
                  "--bands takes them (names, or NAME=NUMBER for unnamed bands); empty: the richest bundled band set "
                  "the raster has. Writes OUTPUT (<model>.json) and <model>.safetensors, with the command that "
                  "reproduces it and the held-out accuracy (VAL_ACCURACY, on spatial blocks the training never "
                  "saw). Checkpoints go to <model>.ckpt: after Cancel, run again with RESUME to carry on. Give the "
                  "model to the other algorithms as MODEL.")

    def createInstance(self) -> "TrainClassifierAlgorithm":  # noqa: N802 (QGIS's name)
        return TrainClassifierAlgorithm()

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802, ARG002 (QGIS's)
        self.addParameter(self._raster_parameter())
        self.addParameter(QgsProcessingParameterVectorLayer(
            self.POLYGONS, tr("Labelled polygons (any CRS)"), [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.LABEL_FIELD, tr("Class field ('label' when empty)"), "label",
                                                      self.POLYGONS, optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.NATURAL_CLASSES, tr("Classes that count as natural, comma-separated (values of the class field)"),
            "natural"))
        self.addParameter(QgsProcessingParameterNumber(
            self.EPOCHS, tr("Epochs (total, resumed ones included)"), QgsProcessingParameterNumber.Integer,
            DEFAULT_EPOCHS, minValue=1, maxValue=1000))
        self.addParameter(QgsProcessingParameterString(
            self.BANDS, tr("Model bands, e.g. B02,B03,B04,B08 or B02=1,B03=2,B04=3 (the richest bundled set the raster "
                           "has when empty)"), optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, tr("Device"), options=list(DEVICE_CHOICES),
                                                     defaultValue=0))
        self.addParameter(advanced(QgsProcessingParameterBoolean(
            self.RESUME, tr("Resume from the checkpoints of an earlier run (else they are replaced)"), False)))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, tr("Model file"), fileFilter=tr("Natural Explain model (*.json)")))
        self.addOutput(QgsProcessingOutputNumber(self.ACCURACY, tr("Held-out accuracy")))
        self.addOutput(QgsProcessingOutputFile(self.OUTPUT, tr("Model file")))

    def _raster_parameter(self):  # noqa: ANN202
        from qgis.core import QgsProcessingParameterRasterLayer

        return QgsProcessingParameterRasterLayer(self.INPUT, tr("Raster to train on"))

    def request(self, parameters: dict[str, Any], context: QgsProcessingContext) -> TrainRequest:
        """The child's arguments, after the checks the plugin can make itself.

        Raises:
            NaturalExplainError: one sentence for a bad input.
        """
        raster_layer = self.input_layer(parameters, context)
        polygons = self.parameterAsVectorLayer(parameters, self.POLYGONS, context)
        if polygons is None:
            raise NaturalExplainError(tr("POLYGONS is not a vector layer or file QGIS can open: check the path"))
        field = self.parameterAsString(parameters, self.LABEL_FIELD, context) or "label"
        if polygons.fields().indexOf(field) < 0:
            raise NaturalExplainError(tr("POLYGONS has no field '{0}'; its fields are: {1}").format(
                field, ", ".join(polygons.fields().names())))
        natural = names(self.parameterAsString(parameters, self.NATURAL_CLASSES, context))
        check_classes(class_values(polygons, field), natural, field)
        out = Path(self.parameterAsFileOutput(parameters, self.OUTPUT, context))
        out = out.with_suffix(".json") if out.suffix.lower() != ".json" else out
        raster = raster_path(raster_layer)
        given = names(self.parameterAsString(parameters, self.BANDS, context))
        bands = tuple(given) if given else automatic_bands(raster)
        resume = self.parameterAsBool(parameters, self.RESUME, context)
        request = TrainRequest(raster, "", field, tuple(natural), self.parameterAsInt(parameters, self.EPOCHS, context),
                               out, bands, device=DEVICE_CHOICES[self.parameterAsEnum(parameters, self.DEVICE, context)])
        has_checkpoints = checkpoint_epochs(request.checkpoint_folder) > 0
        labels = polygons_for_training(raster_layer, polygons, field, out.parent, reuse=resume and has_checkpoints)
        return dataclasses.replace(request, polygons=labels, resume=resume and has_checkpoints,
                                   fresh=not resume and has_checkpoints)

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        from ..train_task import run_training

        try:
            request = self.request(parameters, context)
            feedback.pushInfo(tr("bands: {0}; labels: {1}").format(",".join(request.bands), request.polygons))
            result = run_training(request, feedback.setProgress, feedback.isCanceled, feedback.pushInfo)
        except RunCanceled as exc:
            raise QgsProcessingException(tr("training was canceled; the finished epochs' checkpoints are kept: run "
                                            "again with RESUME to carry on")) from exc
        except NaturalExplainError as exc:
            raise QgsProcessingException(str(exc)) from exc
        return {self.OUTPUT: str(result.model_json), self.ACCURACY: result.accuracy}
