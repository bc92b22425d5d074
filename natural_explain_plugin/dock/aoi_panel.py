"""Choosing the area of interest in the dock, and showing it on the map as a rubber band.

Drawn shapes are kept per kind, so switching between a drawn rectangle and a polygon
layer and back does not lose the drawing.
"""
import contextlib

from qgis.core import QgsMapLayerProxyModel, QgsVectorLayer, QgsWkbTypes
from qgis.gui import QgsMapCanvas, QgsMapLayerComboBox
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.errors import NaturalExplainError

from ..i18n import tr
from .aoi_choice import AoiShape, AoiSource, canvas_extent_shape, selected_features_shape
from .aoi_tools import PolygonTool, RectangleTool, aoi_rubber_band

DRAW_HINTS = {
    AoiSource.RECTANGLE: tr("drag a rectangle on the map"),
    AoiSource.POLYGON: tr("click the corners on the map, right-click to close the polygon"),
}


class AoiPanel(QWidget):
    """The AOI kind, a Draw button for drawn kinds, a polygon layer for selected features, and the rubber band."""

    changed = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.source_combo = QComboBox()
        for source in AoiSource:
            self.source_combo.addItem(tr(source.value), source)
        self.source_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.source_combo.setMinimumContentsLength(12)
        self.draw_button = QPushButton(tr("Draw"))
        self.polygon_layer = QgsMapLayerComboBox()
        self.polygon_layer.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        self.polygon_layer.setAllowEmptyLayer(True)
        self.polygon_layer.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.polygon_layer.setMinimumContentsLength(12)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.source_combo, 1)
        row.addWidget(self.draw_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.polygon_layer)
        layout.addWidget(self.hint)
        self.band = aoi_rubber_band(canvas)
        self.drawn: dict[AoiSource, AoiShape] = {}
        self.tools = {AoiSource.RECTANGLE: RectangleTool(canvas), AoiSource.POLYGON: PolygonTool(canvas)}
        for source, tool in self.tools.items():
            tool.drawn.connect(lambda geometry, source=source: self._drawn(source, geometry))
        self._watched: QgsVectorLayer | None = None
        self.source_combo.currentIndexChanged.connect(self._source_chosen)
        self.draw_button.clicked.connect(self.start_drawing)
        self.polygon_layer.layerChanged.connect(self._watch_selection)
        canvas.destinationCrsChanged.connect(self._refresh)
        canvas.extentsChanged.connect(self._view_moved)
        self._source_chosen()

    def source(self) -> AoiSource:
        return self.source_combo.currentData()

    def set_source(self, source: AoiSource) -> None:
        """Choose the AOI kind, as the user does."""
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))

    def shape(self) -> AoiShape | None:
        """The chosen AOI as the user gave it; None for the whole layer.

        Raises:
            NaturalExplainError: when the chosen kind has no shape yet (nothing drawn or selected).
        """
        source = self.source()
        if source is AoiSource.WHOLE_LAYER:
            return None
        if source is AoiSource.CANVAS_EXTENT:
            return canvas_extent_shape(self.canvas)
        if source is AoiSource.SELECTED_FEATURES:
            layer = self.polygon_layer.currentLayer()
            if layer is None:
                raise NaturalExplainError(tr("choose the polygon layer whose selected features are the area of interest"))
            return selected_features_shape(layer)
        if source not in self.drawn:
            raise NaturalExplainError(tr("no area of interest is drawn yet: {0}").format(DRAW_HINTS[source]))
        return self.drawn[source]

    def start_drawing(self) -> None:
        """Make the chosen kind's drawing tool the canvas's map tool."""
        tool = self.tools.get(self.source())
        if tool is not None:
            self.canvas.setMapTool(tool)
            self.hint.setText(DRAW_HINTS[self.source()])

    def release_canvas(self) -> None:
        """Take the drawing tools and the rubber band off the canvas (the dock is going away)."""
        for tool in self.tools.values():
            self.canvas.unsetMapTool(tool)
            self.canvas.scene().removeItem(tool.band)
        self.canvas.scene().removeItem(self.band)
        self.canvas.destinationCrsChanged.disconnect(self._refresh)
        self.canvas.extentsChanged.disconnect(self._view_moved)
        self._watch_selection(None)

    def _source_chosen(self) -> None:
        source = self.source()
        self.draw_button.setVisible(source in self.tools)
        self.polygon_layer.setVisible(source is AoiSource.SELECTED_FEATURES)
        if source in self.tools and source not in self.drawn:
            self.start_drawing()
        self._refresh()

    def _view_moved(self) -> None:
        """The map view is the AOI: panning or zooming changes it."""
        if self.source() is AoiSource.CANVAS_EXTENT:
            self.changed.emit()

    def _drawn(self, source: AoiSource, geometry) -> None:  # noqa: ANN001 (QgsGeometry from the signal)
        self.drawn[source] = AoiShape(geometry, self.canvas.mapSettings().destinationCrs())
        self._refresh()

    def _watch_selection(self, layer: QgsVectorLayer | None) -> None:
        """Follow the selection of the chosen polygon layer only."""
        if self._watched is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # the layer was removed and deleted already
                self._watched.selectionChanged.disconnect(self._refresh)
        self._watched = layer
        if layer is not None:
            layer.selectionChanged.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        """Show the AOI as a rubber band (none for the whole layer or the map view) and say what is missing."""
        self.band.reset(QgsWkbTypes.PolygonGeometry)
        try:
            shape = None if self.source() is AoiSource.CANVAS_EXTENT else self.shape()
        except NaturalExplainError as exc:
            shape = None
            self.hint.setText(str(exc))
        else:
            self.hint.setText("")
        if shape is not None:
            self.band.setToGeometry(shape.geometry, shape.crs)
        self.changed.emit()
