"""Screenshots of the analyst web UI, taken with headless Debian chromium against a live server.

    .venv/bin/python bench/ui_screenshot.py                    # a small built-in sample corpus
    .venv/bin/python bench/ui_screenshot.py --data-dir data    # an existing data dir (after `osintel demo`)

Writes ``search.png``, ``document.png``, ``entities.png``, ``map.png`` and ``trends.png`` to ``bench/screenshots/``
(or ``--out``) and prints, per page, how long it took to be ready (navigation to first render).
Nothing leaves 127.0.0.1: the browser's other requests are refused and counted.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from osintel import apikeys
from osintel.records import Document, Entity, Location, MethodHit, SourceRef
from osintel.settings import load_settings
from osintel.store import ControlStore
from search_api.app import create_app

OUT = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_PLACES = {
    "Liverpool": ("GB", 53.41, -2.98), "Rotterdam": ("NL", 51.92, 4.48), "Marseille": ("FR", 43.30, 5.37),
    "Antwerp": ("BE", 51.22, 4.40), "Dover": ("GB", 51.13, 1.31), "Calais": ("FR", 50.95, 1.86),
    "Algeciras": ("ES", 36.13, -5.45), "Guayaquil": ("EC", -2.19, -79.89), "Lagos": ("NG", 6.45, 3.39),
}
_STORIES = [
    ("County lines gang jailed after Merseyside raids", "Liverpool", "drugs.county_lines", "drugs",
     "Police in Liverpool jailed five members of a county lines gang who ran a drugs line using the phone "
     "07700 900123.", "07700 900123", "PHONE", "+447700900123"),
    ("Cocaine found in banana containers at Rotterdam", "Rotterdam", "drugs.maritime_smuggling", "drugs",
     "Customs officers at the port of Rotterdam found cocaine hidden in banana containers from Guayaquil.",
     "Guayaquil", "GPE", None),
    ("Small boat crossings organised from Calais camps", "Calais", "oic.small_boat", "organised_immigration_crime",
     "Smugglers charged migrants near Calais for places on small boats bound for Dover.", "Dover", "GPE", None),
    ("Cloned plates used in Dover fuel thefts", "Dover", "vehicle.cloned_plates", "vehicle_crime",
     "Vans with cloned plates such as AB12 CDE were used in a series of fuel thefts around Dover.", "AB12 CDE",
     "VEHICLE_PLATE", "AB12CDE"),
    ("Antwerp port workers bribed to move containers", "Antwerp", "drugs.maritime_smuggling", "drugs",
     "Prosecutors say dock workers in Antwerp were bribed to move containers before inspection.", "Antwerp",
     "GPE", None),
    ("Romance fraud ring laundered money through mules", "Lagos", "fraud.romance", "fraud",
     "A romance fraud ring based in Lagos moved victims' money through student money mules.", "Lagos", "GPE",
     None),
    ("Hashish seized off Algeciras", "Algeciras", "drugs.maritime_smuggling", "drugs",
     "The Guardia Civil seized two tonnes of hashish from a fast boat off Algeciras.", "Guardia Civil", "ORG",
     None),
    ("Marseille network trafficked women for exploitation", "Marseille", "trafficking.human", "trafficking",
     "Police in Marseille dismantled a network that trafficked women for sexual exploitation.", "Marseille", "GPE",
     None),
]


def sample_documents(n: int = 120, seed: int = 7) -> list[Document]:
    """A small, realistic corpus over 2025: several places and methods, small boats rising."""
    rng = random.Random(seed)
    sources = [SourceRef(id="bbc-news", name="BBC News", kind="feed", grading="1BP"),
               SourceRef(id="port-watch", name="Port Watch blog", kind="web", grading="2CP"),
               SourceRef(id="mastodon-uk", name="Mastodon UK", kind="social", platform="mastodon", grading="3DC")]
    docs = []
    for i in range(n):
        month = rng.randint(1, 12)
        # Small-boat stories grow through the year; the rest stay flat.
        story = 2 if rng.random() < month / 30 else rng.randrange(len(_STORIES))
        title, place, method, category, text, ent, label, norm = _STORIES[story]
        cc, lat, lon = _PLACES[place]
        start = text.index(ent)
        where = text.find(place)
        docs.append(Document(
            url=f"https://news.example/{i}", source=rng.choice(sources), title=title, text=text,
            published_at=datetime(2025, month, rng.randint(1, 28), 9, tzinfo=timezone.utc), language="en",
            relevance=round(rng.uniform(0.2, 1.0), 2),
            entities=[Entity(text=ent, label=label, start=start, end=start + len(ent), normalized=norm,
                             extractor="sample")]
            + ([Entity(text=place, label="GPE", start=where, end=where + len(place), extractor="sample")]
               if where >= 0 and place != ent else []),
            methods=[MethodHit(id=method, label=method.split(".")[-1].replace("_", " "), category=category,
                               confidence=0.8, evidence=text.split(".")[0], matched_by="pattern")],
            locations=[Location(name=place, country_code=cc, lat=lat, lon=lon, mention=place,
                                start=where if where >= 0 else None,
                                end=where + len(place) if where >= 0 else None)],
        ))
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an existing osintel data dir (default: a sample corpus)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        settings = load_settings(env={}, overrides={"data_dir": str(data_dir), "api.rate_limit_burst": 10_000})
        store = ControlStore(settings.store_path)
        from indexer import open_index

        index = open_index(settings)
        if args.data_dir is None:
            docs = sample_documents()
            for doc in docs:
                store.add_collected(doc, content_sha256=hashlib.sha256(doc.url.encode()).hexdigest())
            index.upsert(docs)
        key_id, secret = apikeys.create_key(store, role="analyst", name="Screenshot bot", actor="bench")
        server = uvicorn.Server(uvicorn.Config(create_app(settings, index=index, store=store), host="127.0.0.1",
                                               port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        args.out.mkdir(parents=True, exist_ok=True)
        refused: list[str] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
                ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                          else (refused.append(route.request.url), route.abort()))
                ctx.request.post(f"{base}/api/session", data={"api_key": secret})
                page = ctx.new_page()
                doc_id = index.search("", limit=1).hits[0].id
                pages = (("search", "/ui/?q=cocaine OR smugglers OR fraud"),
                         ("document", f"/ui/documents/{doc_id}"), ("entities", "/ui/entities?q="), ("map", "/ui/map?q="),
                         ("trends", "/ui/trends?q=&by=method&interval=month"))
                for name, path in pages:
                    started = time.perf_counter()
                    page.goto(path)
                    page.locator("body[data-ready]").wait_for(state="attached")
                    ready_ms = (time.perf_counter() - started) * 1000
                    target = args.out / f"{name}.png"
                    page.screenshot(path=str(target))  # the viewport: what an analyst sees first
                    print(f"{name:9s} ready in {ready_ms:6.1f} ms  -> {target}")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            apikeys.revoke_key(store, key_id, actor="bench")  # leave no live key behind
            index.close()
            store.close()
    print(f"requests refused off loopback: {len(refused)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
