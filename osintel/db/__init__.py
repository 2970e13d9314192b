"""The control store's database engines behind one interface (:class:`osintel.schema.Database`).

SQLite (:mod:`osintel.db.sqlite`) is the embedded default; PostgreSQL (:mod:`osintel.db.postgres`)
is the shared store of record when several machines work on one state. Owners write their SQL once,
in SQLite's dialect; :mod:`osintel.db.dialect` is the one place that rewrites it for PostgreSQL.
"""
