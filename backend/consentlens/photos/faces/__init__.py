"""Faces in photos: decoding for analysis, detection and embeddings, identification."""
