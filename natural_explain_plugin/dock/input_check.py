"""What the input layer itself gets wrong, said before Run: a web map, or pixels of another size than the model's.

A web map (XYZ, WMS, WMTS, ArcGIS) sends pictures already coloured for the screen: three
8-bit bands. A Sentinel-2 model needs its own bands of surface reflectance, so no web map
can feed it, whatever format it is saved in. A stack built with Build Virtual Raster's
default Resolution = Average has pixels between the 10, 20 and 60 m of its files (23.3 m for
the sample); the model then reads every band resampled, and the 10 m detail is gone.
"""
from qgis.core import QgsRasterLayer

from core.errors import NaturalExplainError
from core.raster.grid import pixel_size_m
from core.raster.sources import open_input

from ..i18n import tr

WEB_PROVIDERS = {"wms": "WMS/WMTS/XYZ", "arcgismapserver": "ArcGIS MapServer", "wcs": "WCS",
                 "arcgisfeatureserver": "ArcGIS"}
RESOLUTION_TOLERANCE = 0.01  # as core.raster.grid.model_grid: within 1 % the input is read as it is


def not_a_file_message(layer: QgsRasterLayer, bands: list[str] | None, resolution_m: float | None) -> str | None:
    """One sentence when `layer` is not read from a raster file (a web map, a database); None for a file."""
    if layer.isValid() and layer.providerType() == "gdal":
        return None
    needs = (tr("the model needs {0} Sentinel-2 bands ({1}) of surface reflectance at {2} m").format(
        len(bands), ", ".join(bands), f"{resolution_m:g}") if bands and resolution_m
             else tr("the model needs the satellite's own bands of surface reflectance"))
    kind = WEB_PROVIDERS.get(layer.providerType())
    if kind:
        return tr("'{0}' is a web map ({1}): it sends pictures coloured for the screen, three bands of 0-255, "
                  "and {2}. No web map can supply them, in any format: add the Sentinel-2 band files (Stack a "
                  "Sentinel-2 folder… makes one layer of them) and choose that layer.").format(layer.name(), kind,
                                                                                                needs)
    return tr("'{0}' is not read from a raster file (provider {1}), and {2}: choose a layer made from the "
              "Sentinel-2 band files (Stack a Sentinel-2 folder… makes one).").format(
        layer.name(), layer.providerType(), needs)


def input_pixel_size_m(path: str) -> float:
    """The input's mean pixel size in metres, as the engine reads it.

    Raises:
        NaturalExplainError: when the input cannot be opened.
    """
    return pixel_size_m(open_input(path).grid)


def resolution_warning(input_m: float, model_m: float) -> str | None:
    """One sentence when the input's pixels differ from the model's; None when they agree within 1 %."""
    ratio = input_m / model_m
    if abs(ratio - 1) < RESOLUTION_TOLERANCE:
        return None
    if ratio > 1:
        return tr("the input's pixels are {0} m, the model's {1} m: every band is resampled {2}x finer, so the "
                  "maps are blurrier than the band files allow. A Build Virtual Raster stack needs Resolution = "
                  "Highest (its default is Average); Stack a Sentinel-2 folder… builds it that way.").format(
            f"{input_m:.3g}", f"{model_m:g}", f"{ratio:.2g}")
    return tr("the input's pixels are {0} m, the model's {1} m: the bands are averaged to {1} m for the model, "
              "and the maps are written back on the input's grid.").format(f"{input_m:.3g}", f"{model_m:g}")


def layer_resolution_warning(path: str, model_m: float) -> str | None:
    """resolution_warning for the raster at `path`; None when it cannot be opened (the band check says why)."""
    try:
        return resolution_warning(input_pixel_size_m(path), model_m)
    except NaturalExplainError:
        return None
