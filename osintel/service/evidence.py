"""Evidence verification: re-hash every WARC capture and check it against what was recorded.

Two checks, both read-only (originals are never modified):

1. **Files.** Every ``*.warc.gz`` (and ``*.warc``) under the WARC directory is read record by
   record with ``warcio``. Each record's block is hashed again and compared with its
   ``WARC-Block-Digest``; for ``response``/``request``/``resource`` records the payload (the
   bytes after the HTTP headers) is compared with ``WARC-Payload-Digest``. Digests may be
   ``sha1``, ``sha256`` or ``md5``, base32 or hex encoded. A file that cannot be read to its end
   (truncated, corrupt gzip, not a WARC) is reported as ``unreadable``.
2. **Documents.** Every stored document with a capture (and every earlier capture listed in
   ``extra["previous_captures"]``) must point to an existing record whose payload SHA-256 equals
   ``capture.sha256``.

A closed WARC file is read-only (mode 0444); a writable one is listed as a warning, not a
mismatch. A file sealed after its crawl process died (:mod:`osintel.service.sealing`) must still have the
size and SHA-256 recorded when it was sealed (else ``sealed-changed``); only its complete records
are checked, and an unfinished last record is listed under ``interrupted_files``, not as a
mismatch.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from osintel.service import sealing
from osintel.service.sealing import SealedWarc
from osintel.store import ControlStore, open_store

if TYPE_CHECKING:
    from osintel.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
_HTTP_RECORD_TYPES = {"response", "request"}


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Mismatch:
    """One problem found. ``kind``: ``block-digest``, ``payload-digest``, ``unreadable``,
    ``document-sha256``, ``missing-record``, ``missing-file``, ``sealed-changed``."""

    kind: str
    file: str
    record_id: str | None = None
    doc_id: str | None = None
    expected: str | None = None
    actual: str | None = None
    detail: str = ""


@dataclass
class VerifyReport:
    """What :func:`verify_warcs` checked and what it found."""

    files: int = 0
    records: int = 0
    digests_checked: int = 0
    documents_checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    writable_files: list[str] = field(default_factory=list)
    #: Sealed files that end in an unfinished record: ``{"file", "run_id", "complete_bytes", "size", ...}``.
    interrupted_files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "files": self.files, "records": self.records,
            "digests_checked": self.digests_checked, "documents_checked": self.documents_checked,
            "mismatches": [asdict(m) for m in self.mismatches],
            "writable_files": list(self.writable_files),
            "interrupted_files": list(self.interrupted_files),
        }


def parse_digest(label: str) -> tuple[str, bytes] | None:
    """``"sha256:BASE32"`` (or hex) to ``("sha256", raw digest)``; None when unrecognised."""
    algorithm, _, value = label.strip().partition(":")
    algorithm = algorithm.lower().replace("-", "")
    if algorithm not in _ALGORITHMS or not value:
        return None
    size = _ALGORITHMS[algorithm]().digest_size
    try:
        raw = base64.b32decode(value.upper())
        if len(raw) == size:
            return algorithm, raw
    except (binascii.Error, ValueError):
        pass
    try:
        raw = bytes.fromhex(value)
        if len(raw) == size:
            return algorithm, raw
    except ValueError:
        pass
    return None


def _label(algorithm: str, raw: bytes) -> str:
    return f"{algorithm}:{base64.b32encode(raw).decode('ascii')}"


def iter_warc_files(warc_dir: Path) -> Iterator[Path]:
    """WARC files under ``warc_dir``, in name order."""
    if not warc_dir.is_dir():
        return
    for path in sorted(warc_dir.rglob("*")):
        if path.is_file() and (path.name.endswith(".warc.gz") or path.name.endswith(".warc")):
            yield path


def _check_digest(report: VerifyReport, kind: str, label: str | None, data: bytes,
                  file: str, record_id: str | None) -> None:
    if not label:
        return
    parsed = parse_digest(label)
    if parsed is None:
        report.mismatches.append(Mismatch(kind, file, record_id, expected=label,
                                          detail="unrecognised digest format"))
        return
    algorithm, expected = parsed
    actual = _ALGORITHMS[algorithm](data).digest()
    report.digests_checked += 1
    if actual != expected:
        report.mismatches.append(Mismatch(kind, file, record_id, expected=_label(algorithm, expected),
                                          actual=_label(algorithm, actual)))


class _Head(io.RawIOBase):
    """The first ``limit`` bytes of a file: the complete part of a sealed, interrupted WARC."""

    def __init__(self, fh: BinaryIO, limit: int | None) -> None:
        self._fh, self._left = fh, limit

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        want = len(buffer) if self._left is None else min(len(buffer), self._left)
        data = self._fh.read(want) if want > 0 else b""
        buffer[: len(data)] = data
        if self._left is not None:
            self._left -= len(data)
        return len(data)


def _open_head(path: Path, limit: int | None) -> io.BufferedReader:
    return io.BufferedReader(_Head(path.open("rb"), limit))


def verify_file(path: Path, report: VerifyReport, *, name: str | None = None,
                limit: int | None = None) -> dict[str, str]:
    """Check one WARC file's digests into ``report``; returns ``{record id: payload sha256 hex}``.

    ``limit`` checks only the first bytes (the complete records of a sealed, interrupted file).
    """
    name = name or str(path)
    payloads: dict[str, str] = {}
    report.files += 1
    writable = bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if writable:
        report.writable_files.append(name)
    record_id: str | None = None
    try:
        if path.name.endswith(".gz"):
            _check_gzip(path, limit)
        with _open_head(path, limit) as fh:
            for record in ArchiveIterator(fh, no_record_parse=True):
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                block = record.raw_stream.read()
                length = record.rec_headers.get_header("Content-Length")
                if length is not None and int(length) != len(block):
                    report.mismatches.append(Mismatch(
                        "unreadable", name, record_id, expected=str(length), actual=str(len(block)),
                        detail="record block is shorter than its Content-Length (truncated)"))
                    continue
                report.records += 1
                _check_digest(report, "block-digest", record.rec_headers.get_header("WARC-Block-Digest"),
                              block, name, record_id)
                payload = _payload(record.rec_type, record.rec_headers.get_header("Content-Type"), block)
                if payload is not None:
                    _check_digest(report, "payload-digest",
                                  record.rec_headers.get_header("WARC-Payload-Digest"), payload, name, record_id)
                    if record_id:
                        payloads[record_id] = hashlib.sha256(payload).hexdigest()
    except Exception as exc:  # warcio and gzip raise assorted errors on damaged files
        hint = ("; the file is still writable: if its crawl process died, any writing command"
                " (crawl, capture, enrich, run) seals it") if writable else ""
        report.mismatches.append(Mismatch("unreadable", name, record_id,
                                          detail=f"{type(exc).__name__}: {exc}{hint}"))
    return payloads


def _check_gzip(path: Path, limit: int | None = None) -> None:
    """Raise when a gzip file ends mid-member: warcio stops quietly at a truncated last record."""
    with _open_head(path, limit) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as fh:
        while fh.read(1 << 20):
            pass


def _payload(rec_type: str, content_type: str | None, block: bytes) -> bytes | None:
    """The payload of a record's block: after the HTTP headers for HTTP records."""
    if rec_type in _HTTP_RECORD_TYPES and content_type and content_type.startswith("application/http"):
        head, sep, body = block.partition(b"\r\n\r\n")
        return body if sep else None
    if rec_type in ("resource", "conversion"):
        return block
    return None


def verify_warcs(settings: Settings, *, progress: Progress = _quiet) -> VerifyReport:
    """Re-hash every WARC record under ``settings.warc_dir`` and every document's capture.

    Never modifies a file. Returns a :class:`VerifyReport`; ``report.ok`` is False on any
    mismatch, unreadable file or missing record.
    """
    report = VerifyReport()
    data_dir = Path(settings.data_dir)
    payloads: dict[tuple[str, str], str] = {}
    files = list(iter_warc_files(Path(settings.warc_dir)))
    seals: dict[str, SealedWarc] = {}
    if settings.store.url or Path(settings.store_path).exists():  # no SQLite file yet: nothing recorded
        with open_store(settings) as store:
            seals = sealing.sealed(store)
    progress(f"verifying {len(files)} WARC file(s) in {settings.warc_dir}")
    for number, path in enumerate(files, 1):
        name = _relative(path, data_dir)
        seal = seals.get(name)
        if seal is not None and not _check_seal(path, name, seal, report):
            continue
        limit = seal.complete_bytes if seal is not None and seal.truncated else None
        for record_id, sha in verify_file(path, report, name=name, limit=limit).items():
            payloads[(name, record_id)] = sha
        if number % 50 == 0:
            progress(f"checked {number}/{len(files)} files, {report.records} records")
    if settings.store.url or Path(settings.store_path).exists():  # no SQLite file yet: nothing recorded
        with open_store(settings) as store:
            _verify_documents(store, payloads, data_dir, report)
    progress(f"checked {report.records} records in {report.files} files and {report.documents_checked}"
             f" document capture(s): {len(report.mismatches)} problem(s)")
    return report


def _check_seal(path: Path, name: str, seal: SealedWarc, report: VerifyReport) -> bool:
    """A sealed file must be byte for byte what was sealed; False (and a mismatch) when not."""
    size, digest = path.stat().st_size, sealing.file_sha256(path)
    if (size, digest) != (seal.size, seal.sha256):
        report.files += 1
        report.mismatches.append(Mismatch(
            "sealed-changed", name, expected=f"{seal.size} bytes sha256:{seal.sha256}",
            actual=f"{size} bytes sha256:{digest}", detail=f"changed since it was sealed at {seal.sealed_at}"))
        return False
    if seal.truncated:
        report.interrupted_files.append({**seal.to_dict(), "unfinished_bytes": seal.size - seal.complete_bytes})
    return True


def _verify_documents(store: ControlStore, payloads: dict[tuple[str, str], str], data_dir: Path,
                      report: VerifyReport) -> None:
    for doc in store.iter_documents():
        captures: list[dict[str, Any]] = []
        if doc.capture is not None:
            captures.append(doc.capture.model_dump(mode="json"))
        captures.extend(c for c in doc.extra.get("previous_captures", []) if isinstance(c, dict))
        for capture in captures:
            warc_file, record_id = capture.get("warc_file"), capture.get("record_id")
            if not warc_file or not record_id:
                continue
            report.documents_checked += 1
            name = _relative(data_dir / warc_file, data_dir)
            actual = payloads.get((name, record_id))
            if actual is None:
                exists = (data_dir / warc_file).is_file()
                report.mismatches.append(Mismatch(
                    "missing-record" if exists else "missing-file", name, record_id, doc.id,
                    expected=capture.get("sha256"),
                    detail="no such record in the file" if exists else "WARC file not found"))
            elif actual != capture.get("sha256"):
                report.mismatches.append(Mismatch("document-sha256", name, record_id, doc.id,
                                                  expected=capture.get("sha256"), actual=actual))


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(data_dir)).as_posix()
    except ValueError:
        return str(path)
