"""Natural Explain's engine: naturalness maps, explanations and confidence over rasters.

It never imports qgis; the plugin and the training CLI both call into it.
"""
