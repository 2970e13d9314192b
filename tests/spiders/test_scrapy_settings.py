from __future__ import annotations

from pathlib import Path
from typing import Any

from spiders.settings import scrapy_settings


def test_scrapy_settings_carry_politeness_limits_and_our_components(
    make_settings: Any, tmp_path: Path
) -> None:
    crawl = make_settings(tmp_path, **{"crawl.max_response_bytes": 4096, "crawl.user_agent": "ua/1",
                                       "crawl.autothrottle": True, "crawl.max_pages": 7}).crawl
    s = scrapy_settings(crawl)
    assert s["ROBOTSTXT_OBEY"] is True
    assert s["USER_AGENT"] == "ua/1"
    assert s["DOWNLOAD_MAXSIZE"] == 4096 and 0 < s["DOWNLOAD_WARNSIZE"] < 4096
    assert s["AUTOTHROTTLE_ENABLED"] is True
    assert s["CLOSESPIDER_PAGECOUNT"] == 7
    assert s["TELNETCONSOLE_ENABLED"] is False and s["REMOTE_CONTROL_ENABLED"] is False
    assert s["EXTENSIONS"]["scrapy.extensions.remote_control.RemoteControl"] is None
    assert s["EXTENSIONS"]["scrapy.extensions.telnet.TelnetConsole"] is None
    assert s["OSINTEL_MAX_LINKS_PER_PAGE"] == crawl.max_links_per_page
    mws = s["DOWNLOADER_MIDDLEWARES"]
    # The guard must run before robots.txt (100); capture must see bodies before decompression (590).
    assert mws["spiders.ssrf.SSRFGuardMiddleware"] < 100
    assert mws["spiders.capture.CaptureMiddleware"] > 600
    assert "spiders.pipelines.OutboxPipeline" in s["ITEM_PIPELINES"]
