"""Show a run's result files as styled layers in one layer-tree group.

Each style is also copied beside its file as `<name>.qml`, which QGIS loads by itself, so the
file looks the same when the user opens it again later.
"""
import shutil
from pathlib import Path

from qgis.core import QgsLayerTreeGroup, QgsProject, QgsRasterLayer

from core.resources import STYLES


def place_style_beside(raster: Path, output_name: str) -> Path | None:
    """Copy the bundled style for `output_name` to `<raster stem>.qml`; None when there is none."""
    style = STYLES / f"{output_name}.qml"
    if not style.is_file():
        return None
    return Path(shutil.copyfile(style, raster.with_suffix(".qml")))


def styled_layer(raster: Path, output_name: str) -> QgsRasterLayer:
    """A raster layer for `raster`, named `output_name`, in its bundled style when one exists."""
    layer = QgsRasterLayer(str(raster), output_name, "gdal")
    style = place_style_beside(raster, output_name)
    if style is not None:
        layer.loadNamedStyle(str(style))
    return layer


def add_result_group(project: QgsProject, name: str, outputs: dict[str, Path]) -> QgsLayerTreeGroup:
    """Add one layer per output, inside a new group `name` at the top of the layer tree."""
    group = project.layerTreeRoot().insertGroup(0, name)
    for output_name, raster in outputs.items():
        layer = styled_layer(raster, output_name)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    return group
