"""Processing algorithms, one file each."""
