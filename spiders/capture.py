"""Evidence capture: every response is hashed and written, with its request, to a WARC file.

One gzipped WARC file per crawl run per source (``<source>-<run>-<utc>.warc.gz`` under the WARC
directory), written with ``warcio``. The response is recorded exactly as received from the
network (before decompression and before redirects are followed), so the SHA-256 in the
:class:`~osintel.records.Capture` is the SHA-256 of the payload stored in the WARC record, and
the record carries it as ``WARC-Payload-Digest: sha256:...`` too.

The capture is exposed to the spider as ``response.meta["capture"]``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from osintel.records import Capture

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

# The downloader has already removed the transfer encoding; recording these headers would make
# readers try to de-chunk or mis-measure the stored payload.
_DROP_RESPONSE_HEADERS = {b"transfer-encoding", b"content-length"}


def _header_list(headers: Any, drop: set[bytes] = frozenset()) -> list[tuple[str, str]]:  # type: ignore[assignment]
    out = []
    for name, values in headers.items():
        if name.lower() in drop:
            continue
        for value in values:
            out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


def _sha256_label(digest: bytes) -> str:
    return "sha256:" + base64.b32encode(digest).decode("ascii")


class WarcCaptureWriter:
    """Writes request/response record pairs to one WARC file, opened on first use."""

    def __init__(self, path: Path, *, data_dir: Path) -> None:
        self.path = path
        self.data_dir = data_dir
        self._fh: IO[bytes] | None = None
        self._writer: WARCWriter | None = None

    @property
    def relative_path(self) -> str:
        try:
            return self.path.relative_to(self.data_dir).as_posix()
        except ValueError:
            return str(self.path)

    def _open(self) -> WARCWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # "xb": evidence files are write-once; never append to or replace an existing one.
            self._fh = self.path.open("xb")
            self._writer = WARCWriter(self._fh, gzip=True)
            info = self._writer.create_warcinfo_record(
                self.path.name, {"software": "osintel", "format": "WARC File Format 1.1"}
            )
            self._writer.write_record(info)
        return self._writer

    def write(self, request: Request, response: Response) -> Capture:
        """Record ``request`` and ``response``; return the capture evidence."""
        writer = self._open()
        body = response.body
        digest = hashlib.sha256(body).digest()
        ip = getattr(response, "ip_address", None)
        warc_headers = {"WARC-Payload-Digest": _sha256_label(digest)}
        if ip is not None:
            warc_headers["WARC-IP-Address"] = str(ip)
        protocol = getattr(response, "protocol", None) or "HTTP/1.1"
        status_line = f"{response.status} {_reason(response.status)}"
        http_headers = StatusAndHeaders(
            status_line, _header_list(response.headers, _DROP_RESPONSE_HEADERS), protocol=protocol
        )
        http_headers.add_header("Content-Length", str(len(body)))
        # An explicit length: without one warcio drops the digest headers given and recomputes
        # them as SHA-1, losing the SHA-256 payload digest.
        record = writer.create_warc_record(
            response.url, "response", payload=BytesIO(body), length=len(body),
            http_headers=http_headers, warc_headers_dict=warc_headers,
        )
        record_id = record.rec_headers.get_header("WARC-Record-ID")

        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = StatusAndHeaders(
            f"{request.method} {target} HTTP/1.1", _header_list(request.headers),
            protocol="HTTP/1.1", is_http_request=True,
        )
        if not req_headers.get_header("Host"):
            req_headers.add_header("Host", parts.netloc)
        req_record = writer.create_warc_record(
            request.url, "request", payload=BytesIO(request.body or b""), length=len(request.body or b""),
            http_headers=req_headers,
            warc_headers_dict={"WARC-Concurrent-To": record_id},
        )
        writer.write_record(record)
        writer.write_record(req_record)
        if self._fh is not None:
            self._fh.flush()
        content_type = response.headers.get(b"Content-Type")
        return Capture(
            warc_file=self.relative_path,
            record_id=record_id,
            sha256=digest.hex(),
            http_status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            fetched_url=response.url,
            ip_address=str(ip) if ip is not None else None,
        )

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            self._writer = None
            # Evidence is write-once: the closed file is made read-only for everyone.
            os.chmod(self.path, 0o444)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def warc_file_name(source_id: str, run_id: int | str, when: datetime | None = None) -> str:
    """``<source>-<run>-<YYYYmmddTHHMMSSZ>.warc.gz``."""
    when = when or datetime.now(timezone.utc)
    return f"{source_id}-{run_id}-{when.strftime('%Y%m%dT%H%M%SZ')}.warc.gz"


class CaptureMiddleware:
    """Downloader middleware: write every response to the run's WARC file (``capture/*`` stats)."""

    def __init__(self, writer: WarcCaptureWriter, stats: StatsCollector) -> None:
        self.writer = writer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        settings = crawler.settings
        warc_dir = settings.get("OSINTEL_WARC_DIR")
        if not warc_dir:
            raise NotConfigured("OSINTEL_WARC_DIR is not set")
        source_id = settings.get("OSINTEL_SOURCE_ID") or "crawl"
        run_id = settings.get("OSINTEL_RUN_ID") or "0"
        path = Path(warc_dir) / warc_file_name(source_id, run_id)
        data_dir = Path(settings.get("OSINTEL_DATA_DIR") or warc_dir)
        mw = cls(WarcCaptureWriter(path, data_dir=data_dir), crawler.stats)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        capture = self.writer.write(request, response)
        request.meta["capture"] = capture
        self.stats.inc_value("capture/records")
        self.stats.inc_value("capture/bytes", len(response.body))
        return response

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.writer.close()
