"""Raster I/O: open inputs, match bands, read windows on a target grid, write atomically."""
