"""The joint energy-based model (JEM, Grathwohl et al.): a classifier whose logits also give log p(x)."""
