"""Explanation methods behind one Captum-style interface, and the metrics that judge them."""
