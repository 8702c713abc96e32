"""Small helpers the benches share: an offline environment, a throwaway data home, tables."""
from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from pathlib import Path

from memory.offline import offline_environment

offline_environment()  # the same offline, quiet environment as the product's processes

SHARED = Path(__file__).resolve().parents[2] / "shared"


@contextmanager
def temp_memory(engines=None):
    """A fresh data home in a temp dir, removed afterwards; on `engines` (memory.engines) if given."""
    from memory.store import Memory

    with tempfile.TemporaryDirectory(prefix="memoloop-bench-") as tmp:
        with Memory.open(Path(tmp) / "home", engines=engines) as mem:
            yield mem


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def table(header: list[str], rows: list[list]) -> str:
    """A plain fixed-width table; floats with 3 decimals."""
    cells = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    lo = int(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)
