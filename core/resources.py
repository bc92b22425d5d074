"""Where the bundled resources live, both in a clone and inside the plugin zip.

In both layouts `resources/` sits beside the `core/` package.
"""
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
MODELS = RESOURCES / "models"
STYLES = RESOURCES / "styles"
DEFAULT_MODEL = MODELS / "naturalness_s2.json"
RGBN_MODEL = MODELS / "naturalness_s2_rgbn.json"
RGB_MODEL = MODELS / "naturalness_s2_rgb.json"
# The bundled classifiers core.models.choice picks from when no model is named, richest first:
# ten Sentinel-2 bands, then blue, green, red and near infrared, then blue, green and red.
BUNDLED_CLASSIFIERS = (DEFAULT_MODEL, RGBN_MODEL, RGB_MODEL)
DEFAULT_GENERATORS = MODELS / "cyclegan_s2.json"
SAMPLE = RESOURCES / "sample" / "virginia_s2"
DEFAULT_JEM = MODELS / "naturalness_jem_s2.json"
# The JEM `core sample` draws from: DEFAULT_JEM's classifier plus a U-Net energy (core.models.hybrid_jem).
DEFAULT_SAMPLING_JEM = MODELS / "naturalness_jem_s2_generative.json"
