"""osintel's own trained spaCy NER pipelines, shipped as package data.

One directory per language (``de``, ``es``, ``nl``, ``pt``) plus ``xx``, a multilingual fallback for
Latin-script languages without their own model (Italian, Catalan, Galician, Romanian, ...). Each is
a plain spaCy pipeline directory: ``spacy.load(model_path("de"))``. They label PER, ORG and LOC.
How they were trained, on what, and how well they do: ``tools/ner/README.md``.

``checksums.json`` beside this file holds the SHA-256 of every shipped file; :func:`verify` checks a
model against it. Standard library only, so importing this module costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["CHECKSUMS", "MODELS_DIR", "ModelChecksumError", "available", "file_digests", "model_path", "verify"]

#: Where the shipped pipelines live.
MODELS_DIR = Path(__file__).resolve().parent
#: SHA-256 of every shipped model file: ``{lang: {relative path: hex digest}}``.
CHECKSUMS = MODELS_DIR / "checksums.json"


class ModelChecksumError(RuntimeError):
    """A shipped model file is missing, extra, or not the file that was trained and recorded."""


def model_path(lang: str) -> Path | None:
    """The shipped pipeline directory for ``lang`` (``"de"``, ``"xx"``, ...), or None if there is none."""
    if not lang or "/" in lang or "\\" in lang or lang.startswith("."):
        return None
    path = MODELS_DIR / lang
    return path if (path / "meta.json").is_file() and (path / "config.cfg").is_file() else None


def available() -> dict[str, Path]:
    """Every shipped pipeline: ``{lang: directory}``, sorted by language."""
    found = {}
    for child in sorted(MODELS_DIR.iterdir()):
        if child.is_dir():
            path = model_path(child.name)
            if path is not None:
                found[child.name] = path
    return found


def file_digests(directory: Path) -> dict[str, str]:
    """``{relative POSIX path: SHA-256 hex}`` of every file under ``directory``."""
    digests = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        sha = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
        digests[path.relative_to(directory).as_posix()] = sha.hexdigest()
    return digests


def verify(lang: str) -> None:
    """Check the shipped ``lang`` model against ``checksums.json``.

    Raises :class:`ModelChecksumError` naming the first problem: no such model, no recorded
    checksums for it, a recorded file missing, an unrecorded file present, or a digest mismatch.
    """
    path = model_path(lang)
    if path is None:
        raise ModelChecksumError(f"no shipped NER model for language {lang!r} in {MODELS_DIR}")
    try:
        recorded = json.loads(CHECKSUMS.read_text(encoding="utf-8"))[lang]
    except FileNotFoundError:
        raise ModelChecksumError(f"{CHECKSUMS} is missing") from None
    except KeyError:
        raise ModelChecksumError(f"{CHECKSUMS} records no checksums for model {lang!r}") from None
    actual = file_digests(path)
    for name, digest in sorted(recorded.items()):
        if name not in actual:
            raise ModelChecksumError(f"model {lang!r}: file {name} is missing from {path}")
        if actual[name] != digest:
            raise ModelChecksumError(
                f"model {lang!r}: {name} has SHA-256 {actual[name]}, expected {digest} (see {CHECKSUMS.name})")
    extra = sorted(set(actual) - set(recorded))
    if extra:
        raise ModelChecksumError(f"model {lang!r}: unrecorded files in {path}: {', '.join(extra)}")
