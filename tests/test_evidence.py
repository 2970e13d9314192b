"""``verify_warcs``: WARC files and document captures are re-hashed; any difference is reported.

The WARC files are written by the crawl's own capture writer (no network needed); tampered
copies are rewritten with warcio keeping the original digest headers, as a forger would.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from osintel.service.evidence import parse_digest, verify_warcs
from osintel.records import Document, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore
from spiders.capture import WarcCaptureWriter

PAGES = {
    "http://127.0.0.1:9/a.html": b"<html><body><p>Cocaine in a banana shipment at Felixstowe.</p></body></html>",
    "http://127.0.0.1:9/b.html": b"<html><body><p>Cannabis factory in a former bank.</p></body></html>",
}


@pytest.fixture()
def evidence(tmp_path: Path) -> tuple[Settings, list[Document]]:
    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path)})
    writer = WarcCaptureWriter(settings.warc_dir / "herald-1-20250101T000000Z.warc.gz", data_dir=tmp_path)
    docs = []
    with ControlStore(settings.store_path) as store:
        for url, body in PAGES.items():
            response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html"}, status=200)
            capture = writer.write(Request(url), response)
            doc = Document(url=url, source=SourceRef(id="herald"), text=body.decode(), capture=capture)
            store.add_collected(doc, content_sha256=capture.sha256)
            docs.append(doc)
    writer.close()
    return settings, docs


def _tampered_copy(src: Path, dst: Path, record_id: str) -> None:
    """Rewrite ``src`` to ``dst`` with one payload byte flipped in ``record_id``, digests kept."""
    with src.open("rb") as fh, dst.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(fh):
            payload = record.content_stream().read()
            if record.rec_headers.get_header("WARC-Record-ID") == record_id:
                payload = payload[:10] + bytes([payload[10] ^ 0x01]) + payload[11:]
            copy = writer.create_warc_record(
                record.rec_headers.get_header("WARC-Target-URI") or "", record.rec_type,
                payload=BytesIO(payload), length=len(payload), warc_headers=record.rec_headers,
                http_headers=record.http_headers,
            )
            writer.write_record(copy)


def test_verify_passes_on_untouched_captures(evidence: tuple[Settings, list[Document]]) -> None:
    settings, docs = evidence
    report = verify_warcs(settings)
    assert report.ok, report.mismatches
    assert report.files == 1 and report.records == 5  # warcinfo + 2 × (response, request)
    assert report.documents_checked == 2
    assert report.digests_checked >= 9  # every block, plus response and request payloads
    assert report.writable_files == []


def test_closed_warc_files_are_read_only(evidence: tuple[Settings, list[Document]]) -> None:
    settings, _ = evidence
    (path,) = settings.warc_dir.glob("*.warc.gz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_capture_sha256_is_the_payload_digest_of_the_response_record(
        evidence: tuple[Settings, list[Document]]) -> None:
    settings, docs = evidence
    (path,) = settings.warc_dir.glob("*.warc.gz")
    with path.open("rb") as fh:
        records = {r.rec_headers.get_header("WARC-Record-ID"): r.rec_headers for r in ArchiveIterator(fh)}
    for doc in docs:
        assert doc.capture is not None
        assert doc.capture.sha256 == hashlib.sha256(PAGES[doc.url]).hexdigest()
        headers = records[doc.capture.record_id]
        assert parse_digest(headers.get_header("WARC-Payload-Digest")) == (
            "sha256", bytes.fromhex(doc.capture.sha256))


def test_verify_reports_a_flipped_payload_byte_in_a_rewritten_copy(
        evidence: tuple[Settings, list[Document]]) -> None:
    settings, docs = evidence
    (original,) = settings.warc_dir.glob("*.warc.gz")
    capture = docs[0].capture
    assert capture is not None and capture.record_id is not None
    target = capture.record_id
    copy = settings.warc_dir / "tampered-copy.warc.gz"
    _tampered_copy(original, copy, target)
    report = verify_warcs(settings)
    assert not report.ok
    bad = {(m.kind, m.file, m.record_id) for m in report.mismatches}
    assert ("payload-digest", "warc/tampered-copy.warc.gz", target) in bad
    assert ("block-digest", "warc/tampered-copy.warc.gz", target) in bad
    assert all(m.file == "warc/tampered-copy.warc.gz" for m in report.mismatches)  # the original is fine
    # warcio's own checker agrees about both files.
    check = [sys.executable, "-m", "warcio.cli", "check"]
    assert subprocess.run([*check, str(original)], capture_output=True).returncode == 0
    assert subprocess.run([*check, str(copy)], capture_output=True).returncode != 0


def test_verify_reports_a_document_whose_capture_hash_differs(
        evidence: tuple[Settings, list[Document]]) -> None:
    settings, docs = evidence
    doc = docs[1]
    assert doc.capture is not None
    forged = doc.model_copy(update={"capture": doc.capture.model_copy(update={"sha256": "0" * 64})})
    with ControlStore(settings.store_path) as store:
        store.save_documents([forged])
    report = verify_warcs(settings)
    assert [(m.kind, m.doc_id, m.record_id, m.expected, m.actual) for m in report.mismatches] == [
        ("document-sha256", doc.id, doc.capture.record_id, "0" * 64, doc.capture.sha256)]


def test_verify_reports_missing_records_and_truncated_files(
        evidence: tuple[Settings, list[Document]]) -> None:
    settings, docs = evidence
    (original,) = settings.warc_dir.glob("*.warc.gz")
    data = original.read_bytes()
    (settings.warc_dir / "truncated.warc.gz").write_bytes(data[: len(data) - 200])
    doc = docs[0]
    assert doc.capture is not None
    lost = doc.model_copy(update={"capture": doc.capture.model_copy(update={"record_id": "<urn:uuid:gone>"})})
    with ControlStore(settings.store_path) as store:
        store.save_documents([lost])
    kinds = {(m.kind, m.file) for m in verify_warcs(settings).mismatches}
    assert ("unreadable", "warc/truncated.warc.gz") in kinds
    assert ("missing-record", original.relative_to(settings.data_dir).as_posix()) in kinds


def test_verify_warns_about_writable_evidence_files(evidence: tuple[Settings, list[Document]]) -> None:
    settings, _ = evidence
    (original,) = settings.warc_dir.glob("*.warc.gz")
    copy = settings.warc_dir / "copy.warc.gz"
    shutil.copyfile(original, copy)
    report = verify_warcs(settings)
    assert report.ok and report.writable_files == ["warc/copy.warc.gz"]
