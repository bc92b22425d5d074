"""Show a run's result files as styled, named and described layers in one layer-tree group.

Each layer is named for people ("Why: GradCAM (importance)"), remembers which output it holds
(layer_names.output_name), and carries a metadata abstract from the run's record. Its style,
with that memory, is also saved beside its file as `<name>.qml`, which QGIS loads by itself,
so the file looks the same when the user opens it again later. In the Layers panel, the first
legend line of a map says what its values are instead of GDAL's "Band 1: naturalness (Gray)".
"""
from pathlib import Path

from qgis.core import (
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayerLegendUtils,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
)

from .layer_metadata import describe_layer
from .layer_names import mark_output, output_name, readable_name, value_title
from .result_styles import ResultStyler


def styled_layer(raster: Path, output_name: str, styler: ResultStyler) -> QgsRasterLayer:
    """A raster layer for `raster`, which holds the output `output_name`: named, styled, described, style saved."""
    layer = QgsRasterLayer(str(raster), readable_name(output_name), "gdal")
    styler.style(layer, output_name)
    mark_output(layer, output_name, styler.run_json)  # after the style: loading a QML replaces custom properties
    describe_layer(layer, output_name, styler.run_json)
    layer.saveNamedStyle(str(raster.with_suffix(".qml")))
    return layer


def styled_layers(outputs: dict[str, Path], input_layer: QgsRasterLayer | None,
                  run_json: Path | None = None) -> list[QgsRasterLayer]:
    """One styled layer per output of a run on `input_layer`, recorded in `run_json`, in the engine's order."""
    styler = ResultStyler(input_layer, run_json)
    return [styled_layer(raster, name, styler) for name, raster in outputs.items()]


def title_legend(node: QgsLayerTreeLayer) -> None:
    """Replace a map's first legend line, GDAL's band name, by what its values are."""
    layer = node.layer()
    title = value_title(output_name(layer)) if layer is not None else None
    if title is not None and isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer):
        QgsMapLayerLegendUtils.setLegendNodeUserLabel(node, 0, title)


def add_result_group(project: QgsProject, name: str, outputs: dict[str, Path],
                     input_layer: QgsRasterLayer | None, run_json: Path | None = None) -> QgsLayerTreeGroup:
    """Add one layer per output, inside a new group `name` at the top of the layer tree."""
    group = project.layerTreeRoot().insertGroup(0, name)
    for layer in styled_layers(outputs, input_layer, run_json):
        project.addMapLayer(layer, False)
        title_legend(group.addLayer(layer))
    return group
