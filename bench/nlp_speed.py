"""NLP speed benchmark: full enrichment next to bare spaCy ``nlp.pipe`` on the same texts, one run.

Texts: the demo corpus's English articles plus generated social posts (``--posts``). The enricher
is built from default settings exactly as the worker builds it (models load once). The bare
baseline calls ``nlp.pipe`` on the enricher's own loaded pipeline (same model, same excluded and
disabled components, ``senter`` for sentences, same batch size) over the texts the enricher sends
to spaCy, so the two figures differ only by what we add around spaCy.

Each run starts from an empty sentence-embedding cache (and fresh near-duplicate state), so
repeated runs cost what the first pass over the corpus costs. Each run goes batch by batch (``nlp.batch_size`` documents): the batch's spaCy texts through bare
``nlp.pipe``, then the batch through ``Enricher.enrich``, so load from other processes falls on both
alike. Reported, as medians of ``--repeat`` runs, in wall-clock and in CPU seconds of this process
(CPU time is the steadier figure on a shared machine):

- bare spaCy words/s, full enrichment words/s, and the ratio full time / bare time;
- a per-stage breakdown: each component's method is wrapped with a timer during the runs (two
  clock reads per call); "other" is what is left: entity merging, record copies, batching.

Run: ``.venv/bin/python bench/nlp_speed.py [--repeat 3] [--posts 300] [--detail] [--limit N]``.
``--detail`` also splits the extractor stage per extractor. ``--no-semantic`` switches off the
embedding-based method matcher, when the enricher has one, to show its cost separately.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osintel.service import commands  # noqa: E402
from demo import build_corpus  # noqa: E402
from demo.social.corpus import build_posts  # noqa: E402
from osintel.records import Document, SourceRef  # noqa: E402
from osintel.settings import load_settings  # noqa: E402

_AUTHORS = ("Alex Carter", "Sam Okafor", "Priya Shah", "Tom Reilly", "Jo Mensah", "Kasia Nowak")
# (stage, enricher attribute, method): each is one stage of the flow, in order. Names starting with
# two spaces are parts of the stage above them (not added to the total). Missing ones are skipped,
# so the breakdown follows whatever enricher is in the tree.
_STAGES: tuple[tuple[str, str, str], ...] = (
    ("langid", "language", "detect"),
    ("extractors", "extractors", "extract"),
    ("methods (patterns + semantic)", "methods", "match_batch"),
    ("  of which patterns", "methods", "_pattern_pass"),
    ("  of which semantic", "methods", "_semantic_pass"),
    ("  of which sentence encoder", "methods.encoder", "encode"),
    ("geo", "gazetteer", "locate"),
    ("dedup", "dedup", "assign"),
    ("scoring", "scorer", "score"),
)


def demo_documents(posts: int) -> list[Document]:
    """English demo articles plus ``posts`` social posts, as raw documents."""
    articles = build_corpus()
    source = SourceRef(id="bench", name="Bench", grading="2BP")
    docs = [
        Document(url=f"https://demo.example.org{a.path}", source=source, title=a.title, text="\n".join(a.paragraphs))
        for a in articles
        if a.lang == "en"
    ]
    if posts:
        for p in build_posts(articles, seed=2026, count=posts, channels=("bench",), authors=_AUTHORS):
            docs.append(Document(url=f"https://social.example.org/{p.index}", source=source, title=p.title, text=p.text))
    return docs


class StageTimer:
    """Wraps component methods on one enricher with wall-clock and CPU accounting.

    The wrappers are instance attributes, removed by :meth:`undo`; each costs two clock reads per
    call, which is noise next to the stages they time.
    """

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []

    def add(self, stage: str, wall: float, cpu: float) -> None:
        self.wall[stage] += wall
        self.cpu[stage] += cpu

    def wrap(self, obj: Any, attr: str, stage: str) -> None:
        original = getattr(obj, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(stage, time.perf_counter() - wall, time.process_time() - cpu)

        setattr(obj, attr, timed)
        self._undo.append(lambda: delattr(obj, attr) if attr in vars(obj) else None)

    def wrap_generator(self, obj: Any, attr: str, stage: str) -> None:
        original = getattr(obj, attr)

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            wall, cpu = time.perf_counter(), time.process_time()
            iterator = iter(original(*args, **kwargs))
            self.add(stage, time.perf_counter() - wall, time.process_time() - cpu)
            while True:
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    item = next(iterator)
                except StopIteration:
                    self.add(stage, time.perf_counter() - wall, time.process_time() - cpu)
                    return
                self.add(stage, time.perf_counter() - wall, time.process_time() - cpu)
                yield item

        setattr(obj, attr, timed)
        self._undo.append(lambda: delattr(obj, attr) if attr in vars(obj) else None)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


def pipelines(enricher: Any) -> dict[str, Any]:
    """``{language: SpacyNER}`` of the enricher (one English ``SpacyNER`` or a multilingual set)."""
    ner = getattr(enricher, "ner", None)
    if ner is None:
        return {}
    if hasattr(ner, "pipelines"):
        return dict(ner.pipelines)
    return {getattr(ner, "language", "en"): ner}


def _resolve(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
    return obj


def instrument(enricher: Any, timer: StageTimer, *, detail: bool) -> list[Callable[[], None]]:
    """Wrap the enricher's stages; returns extra undo steps (the per-extractor split)."""
    extra: list[Callable[[], None]] = []
    for stage, attr, method in _STAGES:
        component = _resolve(enricher, attr)
        if component is not None and callable(getattr(component, method, None)):
            timer.wrap(component, method, stage)
    for lang, ner in pipelines(enricher).items():
        # spaCy itself, and the conversion of its output to records around it.
        timer.wrap_generator(ner, "parse", f"spaCy {lang} parse (incl. nlp.pipe)")
        timer.wrap_generator(ner.nlp, "pipe", f"  of which {lang} nlp.pipe")
    if detail:
        originals = list(enricher.extractors.extractors)

        def timed_fn(ext: Any) -> Any:
            def fn(text: str, options: Any) -> list[Any]:
                wall, cpu = time.perf_counter(), time.process_time()
                found = list(ext.fn(text, options))
                timer.add(f"  extractor {ext.name}", time.perf_counter() - wall, time.process_time() - cpu)
                return found

            return dataclasses.replace(ext, fn=fn)

        enricher.extractors.extractors = [timed_fn(e) for e in originals]
        extra.append(lambda: setattr(enricher.extractors, "extractors", originals))
    return extra


def _stage_order(stage: str, languages: list[str]) -> tuple[int, int]:
    """Flow order for the report: langid, spaCy, extractors, methods, geo, dedup, scoring."""
    names = [name for name, _, _ in _STAGES]
    spacy = [f"spaCy {lang} parse (incl. nlp.pipe)" for lang in languages]
    spacy_parts = [f"  of which {lang} nlp.pipe" for lang in languages]
    order = names[:1] + [x for pair in zip(spacy, spacy_parts) for x in pair] + names[1:2]
    order += names[2:]
    if stage in order:
        return order.index(stage), 0
    if stage.startswith("  extractor "):
        return order.index(names[1]), 1  # after the extractors line
    return len(order), 0


def enrich_all(enricher: Any, docs: list[Document], batch: int) -> list[Document]:
    return [e for i in range(0, len(docs), batch) for e in enricher.enrich(docs[i : i + batch])]


def fresh_dedup(enricher: Any) -> None:
    """An empty near-duplicate index, so a repeated run is not answered from the previous one's ids."""
    dedup = getattr(enricher, "dedup", None)
    if dedup is not None:
        try:
            enricher.dedup = type(dedup)(getattr(dedup, "options", None))
        except TypeError:  # an index that cannot be rebuilt empty: measure it as it is
            pass


def fresh_embeddings(enricher: Any) -> None:
    """Empty the sentence encoder's cache, so every run embeds the corpus from a cold start."""
    encoder = getattr(getattr(enricher, "methods", None), "encoder", None)
    if encoder is not None and hasattr(encoder, "clear_cache"):
        encoder.clear_cache()


def set_semantic(enricher: Any, enabled: bool) -> None:
    """Switch the embedding-based method matcher off (``--no-semantic``) when the enricher has one."""
    methods = getattr(enricher, "methods", None)
    if not enabled and getattr(methods, "encoder", None) is not None:
        methods.encoder = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--posts", type=int, default=300, help="social posts added to the English articles")
    parser.add_argument("--detail", action="store_true", help="split the extractor stage per extractor")
    parser.add_argument("--no-semantic", dest="semantic", action="store_false",
                        help="switch off the embedding-based method matcher, if any")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N documents (smoke runs)")
    args = parser.parse_args()

    settings = load_settings(env={})
    docs = demo_documents(args.posts)
    if args.limit:
        docs = docs[: args.limit]
    started = time.perf_counter()
    enricher = commands.build_enricher(settings)
    build_s = time.perf_counter() - started
    set_semantic(enricher, args.semantic)
    semantic_on = getattr(getattr(enricher, "methods", None), "encoder", None) is not None
    batch = settings.nlp.batch_size

    # First-call costs (lazy tables, caches, pipelines loaded on first use) out of the figures.
    warm = enrich_all(enricher, docs, batch)
    pipes = pipelines(enricher)
    if not pipes:
        sys.exit("the enricher has no spaCy pipeline: nothing to compare with")
    parsed_as = [d.language if d.language in pipes else None for d in warm]
    # Bound before instrumenting, so the baseline never runs through a wrapper.
    bare_pipes = {lang: (ner.nlp.pipe, ner.batch_size) for lang, ner in pipes.items()}
    words = sum(len(d.text.split()) for d in docs)
    spacy_words = sum(len(d.text[: enricher.max_text_chars].split()) for d, lang in zip(docs, parsed_as) if lang)

    stage_wall: dict[str, list[float]] = defaultdict(list)
    stage_cpu: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.repeat):
        fresh_dedup(enricher)
        fresh_embeddings(enricher)
        timer = StageTimer()
        extra = instrument(enricher, timer, detail=args.detail)
        # Interleaved batch by batch: the same batch through bare spaCy, then through the enricher,
        # so load from other processes falls on both alike.
        for i in range(0, len(docs), batch):
            chunk = docs[i : i + batch]
            langs = parsed_as[i : i + batch]
            wall, cpu = time.perf_counter(), time.process_time()
            for lang, (pipe, size) in bare_pipes.items():
                texts = [d.text[: enricher.max_text_chars] for d, code in zip(chunk, langs) if code == lang]
                for _doc in pipe(texts, batch_size=size):
                    pass
            timer.add("bare", time.perf_counter() - wall, time.process_time() - cpu)
            wall, cpu = time.perf_counter(), time.process_time()
            enricher.enrich(chunk)
            timer.add("full", time.perf_counter() - wall, time.process_time() - cpu)
        timer.undo()
        for step in extra:
            step()
        for stage in timer.wall:
            stage_wall[stage].append(timer.wall[stage])
            stage_cpu[stage].append(timer.cpu[stage])

    wall = {stage: statistics.median(v) for stage, v in stage_wall.items()}
    cpu = {stage: statistics.median(v) for stage, v in stage_cpu.items()}
    models = ", ".join(f"{lang}: {ner.version} {ner.nlp.pipe_names}" for lang, ner in pipes.items())
    print(f"texts: {len(docs)} documents, {words} words; {sum(1 for x in parsed_as if x)} parsed by spaCy "
          f"({spacy_words} words); {models}; batch {batch}; {os.cpu_count()} CPUs; "
          f"medians of {args.repeat} runs; enricher build {build_s:.1f} s")
    print(f"semantic method matcher: {'on' if semantic_on else 'off'}"
          f"{'' if args.semantic else ' (--no-semantic)'}")
    print(f"{'':<32}{'wall s':>9}{'words/s':>10}{'CPU s':>9}{'words/CPU s':>13}")
    for label, key, n_words in (("bare spaCy nlp.pipe", "bare", spacy_words), ("full enrichment", "full", words)):
        print(f"{label:<32}{wall[key]:>9.2f}{n_words / wall[key]:>10.0f}{cpu[key]:>9.2f}{n_words / cpu[key]:>13.0f}")
    print(f"ratio full / bare time: wall {wall['full'] / wall['bare']:.2f}, CPU {cpu['full'] / cpu['bare']:.2f}"
          "  (target <= 1.50)")
    print(f"\nper stage (CPU seconds; % of full enrichment CPU {cpu['full']:.2f} s):")
    accounted = 0.0
    for stage in sorted(set(cpu) - {"bare", "full"}, key=lambda name: _stage_order(name, list(pipes))):
        seconds = cpu[stage]
        if not stage.startswith("  "):
            accounted += seconds
        print(f"  {stage:<40}{seconds:>8.3f} s{100 * seconds / cpu['full']:>7.1f} %")
    other = cpu["full"] - accounted
    print(f"  {'other (merge, copies, batching)':<40}{other:>8.3f} s{100 * other / cpu['full']:>7.1f} %")
    method_stats = getattr(getattr(enricher, "methods", None), "stats", {})
    if semantic_on and method_stats.get("methods/sentences_embedded"):
        runs = args.repeat + 1  # the warm-up run counts too
        per_doc = method_stats["methods/sentences_embedded"] / (runs * len(docs))
        print(f"  sentences embedded for semantic matching: {per_doc:.2f} per document")
    spacy_cpu = sum(seconds for stage, seconds in cpu.items() if stage.endswith("nlp.pipe"))
    if spacy_cpu:
        around = cpu["full"] - spacy_cpu
        print(f"everything around nlp.pipe inside the enricher: {around:.2f} CPU s = "
              f"{around / spacy_cpu:.2f} x its nlp.pipe time")


if __name__ == "__main__":
    main()
