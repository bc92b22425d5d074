"""Map tools that draw an area of interest on the canvas: a rectangle or a polygon.

Each tool shows what is being drawn as a rubber band and, when the shape is finished,
emits it in the canvas CRS (the project CRS); reprojecting it is the AOI choice's job.
"""
from qgis.core import QgsGeometry, QgsPointXY, QgsRectangle, QgsWkbTypes
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QKeyEvent

AOI_COLOUR = QColor(255, 140, 0)
AOI_FILL = QColor(255, 140, 0, 40)


def aoi_rubber_band(canvas: QgsMapCanvas) -> QgsRubberBand:
    """An orange outlined, lightly filled polygon band: the one look of an AOI on the map."""
    band = QgsRubberBand(canvas, QgsWkbTypes.PolygonGeometry)
    band.setStrokeColor(AOI_COLOUR)
    band.setFillColor(AOI_FILL)
    band.setWidth(2)
    return band


class RectangleTool(QgsMapTool):
    """Press, drag and release: the rectangle between the press and the release point."""

    drawn = pyqtSignal(QgsGeometry)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.band = aoi_rubber_band(canvas)
        self.start: QgsPointXY | None = None

    def canvasPressEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (QGIS's name)
        if event.button() == Qt.LeftButton:
            self.start = event.mapPoint()

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (QGIS's name)
        if self.start is not None:
            self.band.setToGeometry(QgsGeometry.fromRect(QgsRectangle(self.start, event.mapPoint())), None)

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (QGIS's name)
        """Emit the rectangle; a click without a drag draws nothing."""
        if self.start is None or event.button() != Qt.LeftButton:
            return
        rect = QgsRectangle(self.start, event.mapPoint())
        self.start = None
        self.band.reset(QgsWkbTypes.PolygonGeometry)
        if rect.width() > 0 and rect.height() > 0:
            self.drawn.emit(QgsGeometry.fromRect(rect))

    def deactivate(self) -> None:
        self.start = None
        self.band.reset(QgsWkbTypes.PolygonGeometry)
        super().deactivate()


class PolygonTool(QgsMapTool):
    """Left clicks add vertices, a right click closes the polygon; Backspace undoes a vertex, Esc starts over."""

    drawn = pyqtSignal(QgsGeometry)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.band = aoi_rubber_band(canvas)
        self.vertices: list[QgsPointXY] = []

    def canvasPressEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (QGIS's name)
        if event.button() == Qt.LeftButton:
            self.vertices.append(event.mapPoint())
            self._show(event.mapPoint())
        elif event.button() == Qt.RightButton:
            self._finish()

    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:  # noqa: N802 (QGIS's name)
        if self.vertices:
            self._show(event.mapPoint())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (QGIS's name)
        if event.key() == Qt.Key_Escape:
            self._clear()
        elif event.key() == Qt.Key_Backspace and self.vertices:
            self.vertices.pop()
            self._show(None)

    def deactivate(self) -> None:
        self._clear()
        super().deactivate()

    def _show(self, cursor: QgsPointXY | None) -> None:
        """The polygon so far, closed through the cursor so the user sees the area it would take."""
        points = self.vertices + ([cursor] if cursor is not None else [])
        self.band.setToGeometry(QgsGeometry.fromPolygonXY([points]), None)

    def _finish(self) -> None:
        """Emit the polygon when it has an area; fewer than three vertices draw nothing."""
        polygon = QgsGeometry.fromPolygonXY([self.vertices])
        self._clear()
        if polygon.area() > 0:
            self.drawn.emit(polygon.makeValid())

    def _clear(self) -> None:
        self.vertices = []
        self.band.reset(QgsWkbTypes.PolygonGeometry)
