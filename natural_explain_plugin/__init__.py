"""QGIS entry point: QGIS imports this package and calls `classFactory` to load the plugin.

Nothing heavy is imported here, so QGIS starts fast; torch and the engine load inside a task.
Packages the plugin's installer put in the QGIS profile become importable here, before anything
looks for them.
"""


def classFactory(iface):  # noqa: N802 (the name QGIS looks for)
    """Build the plugin for `iface` (None under qgis_process, which only asks for Processing)."""
    from .bundled_core import ensure_core_importable
    from .dependencies import use_dependency_folder

    ensure_core_importable()
    use_dependency_folder()
    from .plugin import NaturalExplainPlugin

    return NaturalExplainPlugin(iface)
