"""Embedders turn text into unit-length float32 vectors; one back end is chosen in settings."""
