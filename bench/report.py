"""Precision/recall/F1 and the fixed-width table rows the quality benches print."""

from __future__ import annotations


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (0.0 where undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def row(name: str, tp: int, fp: int, fn: int, width: int = 22) -> str:
    """``name gold pred tp P R F1`` under :func:`header`."""
    p, r, f = prf(tp, fp, fn)
    return f"  {name:<{width}} {tp + fn:>5} {tp + fp:>5} {tp:>5} {p:>6.3f} {r:>6.3f} {f:>6.3f}"


def header(first: str, width: int = 22) -> str:
    """The column heads over :func:`row`."""
    return f"  {first:<{width}} {'gold':>5} {'pred':>5} {'tp':>5} {'P':>6} {'R':>6} {'F1':>6}"
