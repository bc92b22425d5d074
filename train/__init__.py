"""Natural Explain's training CLI: python -m train {classifier,...}."""
