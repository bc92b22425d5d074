"""Loaded with `-p tests.headless` (pytest.ini) before pytest-qgis starts QGIS.

Without a display, Qt must render offscreen, or QGIS aborts the whole run (rc 134).
"""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep GDAL from leaving .aux.xml statistics beside the bundled sample when QGIS styles a layer.
os.environ.setdefault("GDAL_PAM_ENABLED", "NO")
