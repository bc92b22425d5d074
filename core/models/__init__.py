"""Architectures and the model-file format; models know nothing about GeoTIFFs."""
