"""Compare a run's result with its input: a second map, linked to the main one, in a dock.

QGIS 3.22 has no swipe tool. The next best thing is two maps side by side that move as one:
the main map keeps the input, the dock's map shows one result layer of the run (the image
pushed towards more natural, by default), and panning, zooming or rotating either map moves
the other to the same centre, scale and rotation, in the main map's CRS (the project's).
The dock shows the project's own layers, so a result looks exactly as it does in the Layers
panel, the input's stretch included.
"""
from typing import Sequence

from qgis.core import QgsMapLayer, QgsProject, QgsRasterLayer, QgsRectangle
from qgis.gui import QgsDockWidget, QgsMapCanvas, QgsMapToolPan
from qgis.PyQt.QtCore import QObject, QSize
from qgis.PyQt.QtWidgets import QComboBox, QFormLayout, QVBoxLayout, QWidget

from .i18n import tr
from .layer_names import ENHANCED_PREFIX, output_name

DEFAULT_SHOWN = f"{ENHANCED_PREFIX}max"  # the output shown first: the image pushed towards more natural


def has_enhanced_image(layers: Sequence[QgsMapLayer]) -> bool:
    """Whether a run's result layers hold an enhanced image, the result worth comparing with the input."""
    return any(output_name(layer).startswith(ENHANCED_PREFIX) for layer in layers)


def matching_extent(leader: QgsMapCanvas, size: QSize) -> QgsRectangle:
    """The extent that shows `leader`'s centre at the leader's map units per pixel on a map `size` pixels large.

    Copying the centre and the pixel size, not the extent, keeps both maps at one scale when
    they differ in shape: an extent copied to a map of another shape is widened to fit it.
    """
    centre, pixel = leader.center(), leader.mapUnitsPerPixel()
    half_width, half_height = size.width() * pixel / 2, size.height() * pixel / 2
    return QgsRectangle(centre.x() - half_width, centre.y() - half_height,
                        centre.x() + half_width, centre.y() + half_height)


class CanvasLink(QObject):
    """Keeps `follower` on the CRS, centre, scale and rotation of `leader`, and the leader on the follower's.

    While one map is moved to the other's view, the change this causes is not copied back,
    so the two never chase each other. A resize of the follower (its dock opening, or dragged
    wider) is no move by the user: the follower then takes the leader's view again, instead of
    zooming the leader to the follower's new size.
    """

    def __init__(self, leader: QgsMapCanvas, follower: QgsMapCanvas) -> None:
        super().__init__(follower)
        self.leader, self.follower = leader, follower
        self._copying = False
        self._follower_size = follower.mapSettings().outputSize()
        self._signals = ((leader.extentsChanged, self.follow_leader), (leader.rotationChanged, self.follow_leader),
                         (leader.destinationCrsChanged, self.follow_leader),
                         (follower.extentsChanged, self._follower_changed),
                         (follower.rotationChanged, self._follower_changed))
        for signal, slot in self._signals:
            signal.connect(slot)
        self.follow_leader()

    def unlink(self) -> None:
        """Stop moving the maps together."""
        for signal, slot in self._signals:
            signal.disconnect(slot)

    def follow_leader(self) -> None:
        """Move the follower to the leader's view."""
        self._copy(self.leader, self.follower)

    def _follower_changed(self) -> None:
        size = self.follower.mapSettings().outputSize()
        if size == self._follower_size:
            self._copy(self.follower, self.leader)
        else:
            self._follower_size = size
            self.follow_leader()

    def _copy(self, source: QgsMapCanvas, target: QgsMapCanvas) -> None:
        if self._copying:
            return
        self._copying = True
        try:
            target.setDestinationCrs(source.mapSettings().destinationCrs())
            target.setRotation(source.rotation())
            target.setExtent(matching_extent(source, target.mapSettings().outputSize()))
            target.refresh()
        finally:
            self._copying = False


class CompareDock(QgsDockWidget):
    """A map of one of a run's result `layers`, chosen in a combo box, that moves with `main_canvas`.

    While the dock is open the result layers are unticked in the Layers panel, so the main map
    shows the input beneath them; `release()` ticks them again. A layer removed from the
    project leaves the combo box and the map before it is deleted.
    """

    def __init__(self, main_canvas: QgsMapCanvas, layers: Sequence[QgsRasterLayer],
                 parent: QWidget | None = None) -> None:
        super().__init__(tr("Compare with input"), parent)
        self.setObjectName("NaturalExplainCompareDock")
        self.project = QgsProject.instance()
        self.choice = QComboBox()
        for layer in layers:
            self.choice.addItem(layer.name(), layer.id())
        outputs = [output_name(layer) for layer in layers]
        self.choice.setCurrentIndex(outputs.index(DEFAULT_SHOWN) if DEFAULT_SHOWN in outputs else 0)
        self.canvas = QgsMapCanvas()
        self.pan_tool = QgsMapToolPan(self.canvas)
        self.canvas.setMapTool(self.pan_tool)
        content = QWidget()
        layout = QVBoxLayout(content)
        form = QFormLayout()
        form.addRow(tr("Result"), self.choice)
        layout.addLayout(form)
        layout.addWidget(self.canvas, 1)
        self.setWidget(content)
        self.link = CanvasLink(main_canvas, self.canvas)
        self.unticked = self._untick_on_main_map([layer.id() for layer in layers])
        self.choice.currentIndexChanged.connect(self._show_chosen)
        self.project.layersWillBeRemoved.connect(self._forget)
        self._show_chosen()

    def release(self) -> None:
        """Undo what the dock did outside itself (the link, project signals, unticked layers) before it is deleted."""
        self.link.unlink()
        self.project.layersWillBeRemoved.disconnect(self._forget)
        self.canvas.setLayers([])
        root = self.project.layerTreeRoot()
        for node in filter(None, map(root.findLayer, self.unticked)):
            node.setItemVisibilityChecked(True)

    def _untick_on_main_map(self, layer_ids: list[str]) -> list[str]:
        """Untick those of `layer_ids` that are ticked in the Layers panel; their ids."""
        root = self.project.layerTreeRoot()
        ticked = [node for node in filter(None, map(root.findLayer, layer_ids)) if node.itemVisibilityChecked()]
        for node in ticked:
            node.setItemVisibilityChecked(False)
        return [node.layerId() for node in ticked]

    def _show_chosen(self) -> None:
        layer = self.project.mapLayer(self.choice.currentData() or "")
        self.canvas.setLayers([layer] if layer is not None else [])
        self.canvas.refresh()

    def _forget(self, layer_ids: list[str]) -> None:
        """Drop layers about to leave the project; the combo box then shows the next one, or none."""
        for layer_id in layer_ids:
            index = self.choice.findData(layer_id)
            if index >= 0:
                self.choice.removeItem(index)
