"""Data files (YAML) from which the demo corpus is generated; a package so they ship as package data."""
