"""What every Natural Explain algorithm shares: its engine parameters and how engine errors surface.

The input raster, AOI, methods, model and device mean the same in every algorithm, so they
are declared and read here once; each algorithm adds only its own parameters and outputs.
"""
import contextlib
from pathlib import Path
from typing import Any, Iterator

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsRasterLayer,
)

from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError, RunCanceled
from core.explain.registry import METHODS

from ..explain_request import ExplainRequest
from ..layer_arguments import crs_text, raster_path, rectangle_bounds
from ..settings import DEFAULT_METHODS


@contextlib.contextmanager
def engine_errors() -> Iterator[None]:
    """Turn a cancel or a user error into the one-line QgsProcessingException Processing shows.

    Any other exception is a bug and passes through with its traceback.
    """
    try:
        yield
    except RunCanceled as exc:
        raise QgsProcessingException("the run was canceled; no output was written") from exc
    except NaturalExplainError as exc:
        raise QgsProcessingException(str(exc)) from exc


class EngineAlgorithm(QgsProcessingAlgorithm):
    """Base of the algorithms that run the engine on one raster; subclasses pick the parameters they add."""

    INPUT = "INPUT"
    AOI = "AOI"
    METHODS = "METHODS"
    MODEL = "MODEL"
    DEVICE = "DEVICE"
    BANDS = "BANDS"

    def add_input_parameter(self) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Input raster (all the model's bands)"))

    def add_aoi_parameter(self) -> None:
        self.addParameter(QgsProcessingParameterExtent(self.AOI, "Area of interest (whole raster when empty)",
                                                       optional=True))

    def add_methods_parameter(self) -> None:
        """Methods by registry name (static strings), so `METHODS=gradcam` works on the command line."""
        self.addParameter(QgsProcessingParameterEnum(
            self.METHODS, "Explanation methods (occlusion and ig are slow)", options=list(METHODS),
            allowMultiple=True, defaultValue=list(DEFAULT_METHODS), optional=True, usesStaticStrings=True))

    def add_model_parameters(self, *, jem: bool = False) -> None:
        """MODEL, DEVICE and BANDS, which every run takes; `jem`: the algorithm needs a JEM, the bundled one by default."""
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, "JEM model file (bundled default JEM when empty)" if jem
            else "Model file (bundled default model when empty)", optional=True,
            fileFilter="Natural Explain models (*.json *.safetensors)"))
        self.addParameter(QgsProcessingParameterEnum(self.DEVICE, "Device", options=list(DEVICE_CHOICES),
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterString(
            self.BANDS, "Band mapping, model band = input band number, e.g. B02=1,B03=2 (by band names when empty)",
            optional=True))

    def input_layer(self, parameters: dict[str, Any], context: QgsProcessingContext) -> QgsRasterLayer:
        """The INPUT layer.

        Raises:
            NaturalExplainError: when INPUT is not a raster GDAL can open.
        """
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if layer is None:
            raise NaturalExplainError("INPUT is not a raster layer or file GDAL can open: check the path")
        return layer

    def explain_request(self, parameters: dict[str, Any], context: QgsProcessingContext,
                        out_dir: Path) -> ExplainRequest:
        """The plain engine arguments for these parameters; the extent keeps its own CRS.

        Methods are read only by algorithms that declare METHODS; the others write naturalness alone.
        """
        layer = self.input_layer(parameters, context)
        methods = ()
        if self.parameterDefinition(self.METHODS) is not None:
            methods = tuple(self.parameterAsEnumStrings(parameters, self.METHODS, context))
        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        device = DEVICE_CHOICES[self.parameterAsEnum(parameters, self.DEVICE, context)]
        from core.raster.bands import parse_band_mapping  # loads rasterio: not while QGIS starts

        bands = parse_band_mapping(self.parameterAsString(parameters, self.BANDS, context)) or None
        extent = self.parameterAsExtent(parameters, self.AOI, context)
        aoi_bounds, aoi_crs = None, None
        if not extent.isNull():
            extent_crs = self.parameterAsExtentCrs(parameters, self.AOI, context)
            aoi_bounds = rectangle_bounds(extent)
            aoi_crs = crs_text(extent_crs if extent_crs.isValid() else layer.crs())
        return ExplainRequest(raster_path(layer), out_dir, methods=methods, model=model, aoi_bounds=aoi_bounds,
                              aoi_crs=aoi_crs, device=device, bands=bands)
