"""Data files for :mod:`nlp` (organisation gazetteer for the entity ruler); shipped as package data."""
