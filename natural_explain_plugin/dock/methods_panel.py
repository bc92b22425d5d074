"""The maps a run writes, one checkbox each with its estimated cost for the chosen AOI.

Methods come from the engine's registry, so a method added to core appears here without a
change to the plugin (under its registry name until it is given a readable one below). The
confidence map is not a method: the engine writes it for every JEM model, so its box only
says whether this run will have one. Below it, the extra maps (explain_request.EXTRA_MAPS):
the sharpened naturalness (SSC) and the U-Net segmentation, each its own engine call after
explain, unticked until the user asks for them.
"""
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QGridLayout, QLabel, QWidget

from core.explain.registry import METHODS

from ..explain_request import EXTRA_MAPS
from ..i18n import tr
from .cost_estimate import duration_text, large_aoi_warning, method_seconds

NATURALNESS = "naturalness"
CONFIDENCE = "confidence"
WARNING_STYLE = "color: #b35900"


def method_label(name: str) -> str:
    """The name an analyst reads for a registry method (or 'naturalness', 'confidence')."""
    labels = {
        NATURALNESS: tr("Naturalness"),
        "cyclegan": tr("CycleGAN patterns"),
        "counterfactual": tr("Counterfactual change"),
        "gradcam": tr("GradCAM"),
        "occlusion": tr("Occlusion"),
        "deeplift": tr("DeepLIFT"),
        "ig": tr("Integrated Gradients"),
        CONFIDENCE: tr("Confidence (JEM)"),
        "ssc": tr("Sharpen edges (SSC)"),
        "segment": tr("Segmentation (U-Net)"),
    }
    return labels.get(name, name)


def method_tooltip(name: str) -> str:
    """One line: what the map shows, what it costs, and when to trust it."""
    tips = {
        NATURALNESS: tr("The model's probability that each pixel is natural, 0 (anthropogenic) to 1 (natural). "
                        "Always written; cheapest. Trust it where the input looks like the training imagery "
                        "(see the warnings after the run)."),
        "cyclegan": tr("Where the scene changes when generators push it towards more and less natural, with the "
                       "two enhanced images. Moderate cost (loads the generators). The most readable map: trust "
                       "it where the enhanced images still look like real land cover."),
        "counterfactual": tr("How much each pixel must change for the model to call the place the other class. "
                             "Moderate cost. Read with the enhanced images; noisy where the model is unsure."),
        "gradcam": tr("Coarse regions the model's last layer looked at, one value per few pixels. Cheap. Good "
                      "for 'which patch', not for single pixels or fine edges."),
        "occlusion": tr("How the score drops when each patch is hidden: the most direct test, but by far the "
                        "slowest (hours on a CPU for a large area). Use on a small area of interest."),
        "deeplift": tr("Per-pixel contribution against a reference image. A few times naturalness. Sharp, but "
                       "depends on the reference; check against GradCAM before trusting details."),
        "ig": tr("Per-pixel contribution along a path from a reference image (many model passes). Slow on a "
                 "CPU. The most faithful gradient method; noisy on its own."),
        CONFIDENCE: tr("Written for every JEM model: how typical each tile is of the training data (log p(x)). "
                       "Free with the naturalness map. Low values mean: do not trust the other maps there."),
        "ssc": tr("The naturalness map sharpened to the pixel: a small learner fitted on this image's own pixels "
                  "where the model is confident. Moderate cost (repeats the naturalness map, then fits). Trust "
                  "it for edges; it can speckle where the classes look alike."),
        "segment": tr("Natural land from the bundled U-Net segmenter, pixel by pixel, 0 to 1, whatever model is "
                      "chosen above. About twice naturalness. The best per-pixel scores on the held-out labels; trust it "
                      "where the input looks like the training imagery."),
    }
    return tips.get(name, "")


class MethodsPanel(QWidget):
    """Always-on naturalness, one box per registered method, the JEM-only confidence box (`boxes`: the maps
    one explain call writes), then one box per extra map (`extra_boxes`: each a further engine call)."""

    changed = pyqtSignal()

    def __init__(self, chosen: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setColumnStretch(0, 1)
        self.boxes: dict[str, QCheckBox] = {}
        self.costs: dict[str, QLabel] = {}
        self.extra_boxes: dict[str, QCheckBox] = {}
        self.extra_costs: dict[str, QLabel] = {}
        for row, name in enumerate([NATURALNESS, *METHODS, CONFIDENCE, *EXTRA_MAPS]):
            box, cost = QCheckBox(method_label(name)), QLabel()
            box.setObjectName(name)
            box.setToolTip(method_tooltip(name))
            box.setChecked(name in chosen or name == NATURALNESS)
            box.setEnabled(name in METHODS or name in EXTRA_MAPS)
            box.toggled.connect(self.changed)
            cost.setToolTip(tr("estimated time for the chosen area on this machine, start-up included"))
            layout.addWidget(box, row, 0)
            layout.addWidget(cost, row, 1)
            if name in EXTRA_MAPS:
                self.extra_boxes[name], self.extra_costs[name] = box, cost
            else:
                self.boxes[name], self.costs[name] = box, cost
        self.set_jem(False)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        layout.addWidget(self.warning, len(self.boxes) + len(self.extra_boxes), 0, 1, 2)

    def methods(self) -> list[str]:
        """The checked registry methods, in the registry's order."""
        return [name for name in METHODS if self.boxes[name].isChecked()]

    def set_methods(self, methods: list[str]) -> None:
        """Check exactly `methods`, as the user does."""
        for name in METHODS:
            self.boxes[name].setChecked(name in methods)

    def extra_maps(self) -> list[str]:
        """The checked extra maps (explain_request.EXTRA_MAPS), in the panel's order."""
        return [name for name in EXTRA_MAPS if self.extra_boxes[name].isChecked()]

    def set_extra_maps(self, extra_maps: list[str]) -> None:
        """Check exactly `extra_maps`, as the user does."""
        for name in EXTRA_MAPS:
            self.extra_boxes[name].setChecked(name in extra_maps)

    def set_jem(self, is_jem: bool) -> None:  # noqa: FBT001
        """Tick the confidence box when the model is a JEM, which is when the engine writes that map."""
        box = self.boxes[CONFIDENCE]
        box.setChecked(is_jem)
        box.setToolTip(method_tooltip(CONFIDENCE) if is_jem
                       else tr("only a JEM model writes a confidence map; this model is none"))

    def show_costs(self, computed_mpx: float | None, device: str, calibration: float = 1.0) -> None:
        """Each map's estimated time for `computed_mpx` computed megapixels, and a warning when the run is long.

        `computed_mpx` None (the AOI is not set yet) clears the estimates.
        """
        for name, label in {**self.costs, **self.extra_costs}.items():
            seconds = None if computed_mpx is None or name == CONFIDENCE else method_seconds(name, computed_mpx)
            label.setText("" if computed_mpx is None else tr("free") if name == CONFIDENCE
                          else tr("not measured") if seconds is None else duration_text(seconds * calibration))
        warning = large_aoi_warning([*self.methods(), *self.extra_maps()], computed_mpx, device, calibration) \
            if computed_mpx is not None else None
        self.warning.setText(warning or "")
        self.warning.setVisible(bool(self.warning.text()))
