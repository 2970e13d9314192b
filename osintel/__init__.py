"""osintel: open-source intelligence collection and NLP for analysts against serious and organised crime.

This package is the shared kernel (records, settings, errors, control store, CLI); it imports no
stage at module level.
"""

__version__ = "0.1.0"
