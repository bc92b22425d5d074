"""What every Natural Explain algorithm shares: its engine parameters, its help and how engine errors surface.

The input raster, AOI, methods, model, device and tiling mean the same in every algorithm, so
they are declared and read here once; each algorithm adds only its own parameters and outputs.
Its help goes through help_text.help_string here too, so no algorithm can skip the escaping.
"""
import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, Iterator

from qgis.core import (
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsRasterLayer,
)

from core.cli.options import MAX_BATCH_SIZE, MAX_OVERLAP, MAX_TILE_SIZE, MIN_TILE_SIZE
from core.device import DEVICE_CHOICES
from core.errors import NaturalExplainError, RunCanceled
from core.explain.registry import METHODS, parse_method_settings

from ..explain_request import ExplainRequest
from ..help_text import group_name, help_string, help_url
from ..i18n import tr
from ..layer_arguments import crs_text, raster_path, rectangle_bounds
from ..settings import DEFAULT_METHODS


@dataclasses.dataclass(frozen=True)
class Tiling:
    """How the engine cuts the input: tile edge and overlap in model pixels, tiles per forward pass.

    None takes the engine's default (the model card's tile size, 32 pixels of overlap, the
    device's batch size), so a run without these parameters is the CLI's run without the options.
    """

    tile_size: int | None = None
    overlap: int | None = None
    batch_size: int | None = None

    def engine_arguments(self) -> dict[str, int]:
        """The keyword arguments of core.pipeline.explain that were given."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def method_names(value: Any) -> Any:
    """METHODS as registry names, whether given by name (`gradcam`) or by number (`2`), one or a list, or `0,2`.

    `qgis_process help` lists each method with its number, so both must work; names are what
    models and scripts store. A value that is neither (an expression, a property) is returned as it is.

    Raises:
        NaturalExplainError: naming an unknown method or number, and the valid ones.
    """
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    else:
        return value
    options = list(METHODS)
    names = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if text.isdigit() and int(text) < len(options):
            names.append(options[int(text)])
        elif text.lower() in METHODS:
            names.append(text.lower())
        else:
            choices = ", ".join(f"{number} = {name}" for number, name in enumerate(options))
            raise NaturalExplainError(tr("METHODS: unknown method '{}': give names or numbers ({})").format(
                text, choices))
    return list(dict.fromkeys(names))


def advanced(parameter: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    """`parameter` listed under Advanced parameters."""
    parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return parameter


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
    AOI_LAYER = "AOI_LAYER"
    METHODS = "METHODS"
    METHOD_OPTIONS = "METHOD_OPTIONS"
    MODEL = "MODEL"
    DEVICE = "DEVICE"
    BANDS = "BANDS"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    GROUP_ID = "maps"  # help_text.group_name's key; subclasses in another group override it

    # Each algorithm's help as plain text, `<placeholders>` and all, which shortHelpString escapes. Every algorithm
    # defines it (sip's metaclass rules out abc.ABCMeta; tests/plugin/test_plugin_processing_help.py reads them all).
    help_text: Callable[[], str]

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS's name)
        return help_string(self.help_text())

    def helpUrl(self) -> str:  # noqa: N802 (QGIS's name)
        return help_url(self.name())

    def group(self) -> str:
        return group_name(self.GROUP_ID)

    def groupId(self) -> str:  # noqa: N802 (QGIS's name)
        return self.GROUP_ID

    def add_input_parameter(self) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, "Input raster (all the model's bands)"))

    def add_aoi_parameter(self) -> None:
        """AOI as an extent, or AOI_LAYER as polygons (their union; selected features only when so ticked)."""
        self.addParameter(QgsProcessingParameterExtent(self.AOI, "Area of interest (whole raster when empty)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.AOI_LAYER, tr("Area of interest as polygons (their union; instead of the extent)"),
            [QgsProcessing.TypeVectorPolygon], optional=True))

    def add_methods_parameter(self) -> None:
        """Methods by registry name (static strings), so `METHODS=gradcam` works on the command line.

        `qgis_process help` (QGIS 3.22) offers the methods by number whatever the enum stores, so
        checkParameterValues and explain_request take numbers too (method_names).
        """
        self.addParameter(QgsProcessingParameterEnum(
            self.METHODS, tr("Explanation methods, by name or number (occlusion and ig are slow)"),
            options=list(METHODS), allowMultiple=True, defaultValue=list(DEFAULT_METHODS), optional=True,
            usesStaticStrings=True))

    def add_method_options_parameter(self) -> None:
        """METHOD_OPTIONS (Advanced): the methods' settings as the CLI's --method-option takes them."""
        self.addParameter(advanced(QgsProcessingParameterString(
            self.METHOD_OPTIONS, tr("Method settings, METHOD.NAME=VALUE separated by spaces, e.g. occlusion.window=8 "
                                    "ig.steps=64 (each method's defaults when empty)"), optional=True)))

    def method_settings(self, parameters: dict[str, Any], context: QgsProcessingContext) -> dict[str, dict[str, Any]]:
        """METHOD_OPTIONS parsed and checked (core.explain.method_options); {} when empty or not declared.

        Raises:
            NaturalExplainError: naming the malformed item, the unknown method or setting, or the bad value.
        """
        if self.parameterDefinition(self.METHOD_OPTIONS) is None:
            return {}
        return parse_method_settings(self.parameterAsString(parameters, self.METHOD_OPTIONS, context).split())

    def add_tiling_parameters(self, *, overlap_and_batch: bool = True) -> None:
        """TILE_SIZE, and OVERLAP and BATCH_SIZE where the engine takes them, as Advanced; empty: engine default."""
        numbers = [(self.TILE_SIZE, tr("Tile size in model pixels (the model's when empty)"), MIN_TILE_SIZE,
                    MAX_TILE_SIZE)]
        if overlap_and_batch:
            numbers += [(self.OVERLAP, tr("Tile overlap in model pixels, blended (32 when empty; at most half a tile "
                                          "is used)"), 0, MAX_OVERLAP),
                        (self.BATCH_SIZE, tr("Tiles per forward pass (8 on CUDA, 1 on the CPU when empty)"), 1,
                         MAX_BATCH_SIZE)]
        for name, description, minimum, maximum in numbers:
            self.addParameter(advanced(QgsProcessingParameterNumber(
                name, description, QgsProcessingParameterNumber.Integer, optional=True, minValue=minimum,
                maxValue=maximum)))

    def tiling(self, parameters: dict[str, Any], context: QgsProcessingContext) -> Tiling:
        """The tiling parameters this algorithm declares; each left empty is None (the engine's default)."""
        def number(name: str) -> int | None:
            if self.parameterDefinition(name) is None or parameters.get(name) in (None, ""):
                return None
            return self.parameterAsInt(parameters, name, context)

        return Tiling(number(self.TILE_SIZE), number(self.OVERLAP), number(self.BATCH_SIZE))

    def checkParameterValues(self, parameters: dict[str, Any],  # noqa: N802 (QGIS's name)
                             context: QgsProcessingContext) -> tuple[bool, str]:
        """QGIS's checks, with METHODS given by number turned into the names the enum stores."""
        if self.parameterDefinition(self.METHODS) is not None and parameters.get(self.METHODS) is not None:
            try:
                parameters = {**parameters, self.METHODS: method_names(parameters[self.METHODS])}
            except NaturalExplainError as exc:
                return False, str(exc)
        try:
            self.method_settings(parameters, context)
        except NaturalExplainError as exc:
            return False, f"{self.METHOD_OPTIONS}: {exc}"
        return super().checkParameterValues(parameters, context)

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
            if parameters.get(self.METHODS) is not None:
                parameters = {**parameters, self.METHODS: method_names(parameters[self.METHODS])}
            methods = tuple(self.parameterAsEnumStrings(parameters, self.METHODS, context))
        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        device = DEVICE_CHOICES[self.parameterAsEnum(parameters, self.DEVICE, context)]
        from core.raster.bands import parse_band_mapping  # loads rasterio: not while QGIS starts

        bands = parse_band_mapping(self.parameterAsString(parameters, self.BANDS, context)) or None
        return ExplainRequest(raster_path(layer), out_dir, methods=methods, model=model, device=device, bands=bands,
                              **self.aoi_arguments(parameters, context, layer))

    def aoi_arguments(self, parameters: dict[str, Any], context: QgsProcessingContext,
                      layer: QgsRasterLayer) -> dict[str, Any]:
        """ExplainRequest's AOI fields: the extent's bounds, or the union of the AOI_LAYER polygons as GeoJSON.

        Each keeps its own CRS (an extent without one is in the input's); the engine reprojects.

        Raises:
            NaturalExplainError: when both are given, or the polygons are none.
        """
        extent = self.parameterAsExtent(parameters, self.AOI, context)
        polygons = None
        if self.parameterDefinition(self.AOI_LAYER) is not None and parameters.get(self.AOI_LAYER) not in (None, ""):
            polygons = self.parameterAsSource(parameters, self.AOI_LAYER, context)
        if polygons is not None:
            if not extent.isNull():
                raise NaturalExplainError(tr("give the area of interest either as AOI (an extent) or as AOI_LAYER "
                                             "(polygons), not both"))
            geometries = [f.geometry() for f in polygons.getFeatures()
                          if f.hasGeometry() and not f.geometry().isEmpty()]
            if not geometries:
                raise NaturalExplainError(tr("AOI_LAYER holds no polygon (or none is selected): give polygons over "
                                             "the raster, or leave it empty for the whole raster"))
            return {"aoi_geometry": json.loads(QgsGeometry.unaryUnion(geometries).asJson()),
                    "aoi_crs": crs_text(polygons.sourceCrs() if polygons.sourceCrs().isValid() else layer.crs())}
        if extent.isNull():
            return {}
        extent_crs = self.parameterAsExtentCrs(parameters, self.AOI, context)
        return {"aoi_bounds": rectangle_bounds(extent),
                "aoi_crs": crs_text(extent_crs if extent_crs.isValid() else layer.crs())}
