"""How often a Document is serialised or parsed on its way from the spider pipeline to the index.

Feeds ``--docs`` documents (texts of ``tests/data/entities.jsonl``) through the spiders' outbox
pipeline (``OutboxPipeline.process_item``, as a crawl does), then drains the outbox as ``osintel
enrich`` does: the real enricher (models, near-duplicates backed by the store), the embedded
index, the alert stage's after-batch sweep. Every call of ``to_json``, ``from_json``,
``model_dump``, ``model_dump_json``, ``model_validate`` and ``model_validate_json`` on
:class:`osintel.records.Document` is counted where it is made (nested calls, e.g. ``to_json``
calling ``model_dump_json``, count once), per phase, per document.

Run: ``.venv/bin/python bench/serialisation.py [--docs 64]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from osintel.records import Document, SourceRef  # noqa: E402
from osintel.service import commands  # noqa: E402
from osintel.service.pipeline import drain_outbox  # noqa: E402
from osintel.settings import load_settings  # noqa: E402
from spiders.items import Collected  # noqa: E402
from spiders.pipelines import OutboxPipeline  # noqa: E402

METHODS = ("to_json", "from_json", "model_dump", "model_dump_json", "model_validate", "model_validate_json")
counts: collections.Counter[tuple[str, str]] = collections.Counter()
_depth = [0]


def _site() -> str:
    """``file:function`` of the caller, outside these wrappers, records.py and pydantic."""
    frame = sys._getframe(2)
    while frame.f_back is not None and (frame.f_code.co_filename.endswith(("records.py", "serialisation.py"))
                                        or "pydantic" in frame.f_code.co_filename):
        frame = frame.f_back
    return f"{Path(frame.f_code.co_filename).relative_to(ROOT)}:{frame.f_code.co_name}"


def _wrap(name: str) -> None:
    original = getattr(Document, name)  # a function, or for class methods one bound to Document

    def counted(*args: Any, **kwargs: Any) -> Any:
        if _depth[0] == 0:
            counts[(name, _site())] += 1
        _depth[0] += 1
        try:
            return original(*args, **kwargs)
        finally:
            _depth[0] -= 1

    if isinstance(Document.__dict__.get(name), classmethod) or name.startswith("model_validate"):
        setattr(Document, name, classmethod(lambda cls, *a, **k: counted(*a, **k)))
    else:
        setattr(Document, name, counted)


class _Stats:
    def inc_value(self, key: str, count: int = 1) -> None:
        pass


def _report(phase: str, n: int) -> None:
    print(f"\n{phase}: calls per document ({n} documents)")
    total = 0
    for (name, site), k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {k / n:5.2f}  {name:22s} {site}")
        total += k
    print(f"  {total / n:5.2f}  total")
    counts.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=64)
    args = parser.parse_args()
    for name in METHODS:
        _wrap(name)

    texts = [json.loads(line)["text"] for line in (ROOT / "tests/data/entities.jsonl").read_text().splitlines()]
    source = SourceRef(id="bench", name="Bench", kind="web")
    docs = [Document(url=f"https://bench.example/{n}", source=source, title=f"item {n}", text=texts[n % len(texts)]
                     + f" (item {n})") for n in range(args.docs)]
    counts.clear()
    with tempfile.TemporaryDirectory(prefix="osintel-bench-") as tmp:
        settings = load_settings(env={}, overrides={"data_dir": tmp})
        pipeline = OutboxPipeline(str(settings.store_path), _Stats())  # type: ignore[arg-type]
        pipeline.open_spider()
        for doc in docs:
            pipeline.process_item(Collected(document=doc))
        pipeline.close_spider()
        _report("spider pipeline -> outbox", args.docs)

        store = commands.open_store(settings)
        enricher = commands.build_enricher(settings, store=store)
        index = commands.open_index(settings)
        alerts = commands.build_alerts(settings, store, index)
        counts.clear()
        report = drain_outbox(store, enricher, index, batch_size=settings.nlp.batch_size,
                              after_batch=alerts.after_batch if alerts else None)
        _report(f"outbox -> worker (enrich) -> index -> ack, alerts sweep ({report.indexed} indexed)", args.docs)
        index.close()
        store.close()


if __name__ == "__main__":
    main()
