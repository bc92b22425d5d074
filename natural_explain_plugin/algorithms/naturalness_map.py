"""Processing algorithm `natural_explain:naturalness_map`: one raster in, one naturalness map out."""
from ..i18n import tr
from ..layer_names import NATURALNESS
from .map_algorithm import MapAlgorithm


class NaturalnessMapAlgorithm(MapAlgorithm):
    """Runs core.pipeline.explain and delivers its naturalness.tif at OUTPUT, run.json beside it."""

    MAP = NATURALNESS

    def name(self) -> str:
        return "naturalness_map"

    def displayName(self) -> str:  # noqa: N802 (QGIS's name)
        return "Naturalness map"

    def help_text(self) -> str:
        return tr("Maps how natural each pixel of a multi-band satellite image looks: a probability from 0 "
                  "(anthropogenic) to 1 (natural), on exactly the input's grid, nodata where the input has none. "
                  "Bands are matched to the model by name or description. The run record (model, parameters, "
                  "input checksum, timings, warnings) is written beside OUTPUT as <name>.run.json.")

    def createInstance(self) -> "NaturalnessMapAlgorithm":  # noqa: N802 (QGIS's name)
        return NaturalnessMapAlgorithm()
