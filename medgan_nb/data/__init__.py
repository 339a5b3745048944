"""Data: file readers, the embedded phantoms, each paper's preprocessing, the on-disk cache and the builder."""
