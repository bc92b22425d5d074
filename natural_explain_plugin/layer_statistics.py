"""The one statistic the plugin asks QGIS for: a band's 2-98 % cumulative cut.

It is QGIS's own default stretch, computed on the same sample size QGIS uses, so a result
styled by the plugin looks as the user expects and costs about what opening the layer does.
"""
from qgis.core import QgsRasterLayer, QgsRectangle

CUMULATIVE_CUT = (0.02, 0.98)


def cumulative_cut(layer: QgsRasterLayer, band: int) -> tuple[float, float]:
    """(min, max) of `band` (1-based) between the 2nd and 98th percentile, nodata excluded."""
    low, high = CUMULATIVE_CUT
    return layer.dataProvider().cumulativeCut(band, low, high, QgsRectangle(), int(QgsRasterLayer.SAMPLE_SIZE))
