"""Show a run's result files as styled layers in one layer-tree group.

Each layer's style is also saved beside its file as `<name>.qml`, which QGIS loads by itself,
so the file looks the same when the user opens it again later.
"""
from pathlib import Path

from qgis.core import QgsLayerTreeGroup, QgsProject, QgsRasterLayer

from .result_styles import ResultStyler


def styled_layer(raster: Path, output_name: str, styler: ResultStyler) -> QgsRasterLayer:
    """A raster layer for `raster`, named `output_name`, styled, with its style saved beside it."""
    layer = QgsRasterLayer(str(raster), output_name, "gdal")
    styler.style(layer, output_name)
    layer.saveNamedStyle(str(raster.with_suffix(".qml")))
    return layer


def styled_layers(outputs: dict[str, Path], input_layer: QgsRasterLayer | None,
                  run_json: Path | None = None) -> list[QgsRasterLayer]:
    """One styled layer per output of a run on `input_layer`, recorded in `run_json`, in the engine's order."""
    styler = ResultStyler(input_layer, run_json)
    return [styled_layer(raster, name, styler) for name, raster in outputs.items()]


def add_result_group(project: QgsProject, name: str, outputs: dict[str, Path],
                     input_layer: QgsRasterLayer | None, run_json: Path | None = None) -> QgsLayerTreeGroup:
    """Add one layer per output, inside a new group `name` at the top of the layer tree."""
    group = project.layerTreeRoot().insertGroup(0, name)
    for layer in styled_layers(outputs, input_layer, run_json):
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    return group
