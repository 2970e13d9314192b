"""Sealing the WARC files of crawls whose process died before closing them.

A crawl closes its WARC file and makes it read-only when the spider closes
(:mod:`spiders.capture`). A crawl process killed with SIGKILL never gets there: its file stays
writable, and it may end in the middle of a record (each record is one gzip member, so the last
member is cut short). Evidence is never rewritten, so sealing does not repair the file: it makes
it read-only and records, in the ``sealed_warcs`` table and the oversight record (same
transaction), its size, its SHA-256 and how many of its leading bytes are complete gzip members.
``osintel warc verify`` then checks the complete part as usual, checks the file still has the
recorded size and hash, and lists the unfinished tail as a note instead of a mismatch.

File names follow :func:`spiders.capture.warc_file_name`: ``<source>-<run>-<utc>.warc.gz``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osintel import audit
from osintel.records import utcnow

if TYPE_CHECKING:
    from osintel.store import ControlStore

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SealedWarc:
    """A WARC file sealed after its crawl was interrupted. ``file`` is relative to the data dir."""

    file: str
    run_id: int | None
    sealed_at: str
    size: int
    sha256: str
    complete_bytes: int
    reason: str

    @property
    def truncated(self) -> bool:
        """True when the file ends in an unfinished record (bytes after ``complete_bytes``)."""
        return self.complete_bytes < self.size

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "run_id": self.run_id, "sealed_at": self.sealed_at, "size": self.size,
                "sha256": self.sha256, "complete_bytes": self.complete_bytes, "reason": self.reason}


def run_warc_files(warc_dir: Path, source_id: str, run_id: int) -> list[Path]:
    """The WARC files a crawl run of ``source_id`` wrote (normally one)."""
    if not warc_dir.is_dir():
        return []
    pattern = re.compile(rf"^{re.escape(source_id)}-{int(run_id)}-\d{{8}}T\d{{6}}Z\.warc(\.gz)?$")
    return sorted(p for p in warc_dir.iterdir() if p.is_file() and pattern.match(p.name))


_RUN_FILE = re.compile(r"^(?P<source>.+)-(?P<run>\d+)-\d{8}T\d{6}Z\.warc(\.gz)?$")


def writable_run_files(warc_dir: Path) -> list[tuple[Path, str, int]]:
    """``(path, source id, run id)`` of every crawl-run WARC file that is still writable."""
    if not warc_dir.is_dir():
        return []
    out = []
    for path in sorted(warc_dir.iterdir()):
        match = _RUN_FILE.match(path.name)
        if match and path.is_file() and path.stat().st_mode & 0o222:
            out.append((path, match["source"], int(match["run"])))
    return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def complete_prefix(path: Path) -> int:
    """How many leading bytes of a gzipped WARC are whole gzip members (whole records).

    warcio reads a cut-off last member without complaint, so the members are walked here.
    An uncompressed file counts as complete.
    """
    if not path.name.endswith(".gz"):
        return path.stat().st_size
    complete = offset = 0
    inflater = zlib.decompressobj(wbits=31)
    with path.open("rb") as fh:
        pending = b""
        while True:
            data = pending or fh.read(_CHUNK)
            pending = b""
            if not data:
                return complete
            try:
                inflater.decompress(data)
            except zlib.error:
                return complete
            if inflater.eof:
                used = len(data) - len(inflater.unused_data)
                offset += used
                complete = offset
                pending = inflater.unused_data
                inflater = zlib.decompressobj(wbits=31)
                if not pending:
                    continue
            else:
                offset += len(data)


def sealed(store: ControlStore) -> dict[str, SealedWarc]:
    """Every sealed file, by its path relative to the data directory."""
    rows = store.read("SELECT file, run_id, sealed_at, size, sha256, complete_bytes, reason FROM sealed_warcs")
    return {r["file"]: SealedWarc(r["file"], r["run_id"], r["sealed_at"], int(r["size"]), r["sha256"],
                                  int(r["complete_bytes"]), r["reason"]) for r in rows}


def seal(store: ControlStore, path: Path, *, name: str, run_id: int | None, reason: str,
         actor: str = "system:recovery") -> SealedWarc | None:
    """Make ``path`` read-only and record it (and a ``warc.seal`` audit event); None if already sealed.

    ``name`` is the file's path relative to the data directory, as documents record it.
    """
    # Read-only first: a crash before the record is written leaves a file the next recovery
    # seals again, never a recorded seal over a file still open for writing by us.
    os.chmod(path, 0o444)
    size = path.stat().st_size
    record = SealedWarc(name, run_id, utcnow().isoformat(), size, file_sha256(path), complete_prefix(path), reason)
    with store.transaction() as tx:
        added = tx.execute(
            "INSERT OR IGNORE INTO sealed_warcs(file, run_id, sealed_at, size, sha256, complete_bytes, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.file, record.run_id, record.sealed_at, record.size, record.sha256, record.complete_bytes,
             record.reason),
        )
        if added == 0:
            return None
        audit.record(tx, actor=actor, action="collection", detail={
            "kind": "warc.seal", "file": name, "run_id": run_id, "size": size, "sha256": record.sha256,
            "complete_bytes": record.complete_bytes, "reason": reason,
        })
    log.warning("sealed %s (run %s): %s; %d of %d bytes are complete records", name, run_id, reason,
                record.complete_bytes, size, extra={"file": name, "run_id": run_id})
    return record
