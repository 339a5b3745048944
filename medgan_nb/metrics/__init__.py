"""Judging synthetic images: FID, two-sample and diversity metrics, pixel moments, embeddings."""
