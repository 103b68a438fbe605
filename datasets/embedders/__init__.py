"""Embedding providers. Pick one through ``datasets.embeddings.get_embedder()``."""
