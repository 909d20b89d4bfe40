"""Counts the reliability suites measure (requests sent, faults injected, rows checked…).

Tests add to them with `record()`; at the end of the session the root conftest prints
them and writes `artifacts/reliability-figures.json`, the source of the figures in
docs/RELIABILITY.md.
"""

import json
from collections import Counter, defaultdict
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

_figures: defaultdict[str, Counter] = defaultdict(Counter)


def record(suite: str, **counts: int) -> None:
    """Add counts to one suite's figures."""
    _figures[suite].update(counts)


def snapshot() -> dict[str, dict[str, int]]:
    """The figures so far, suite by suite, keys sorted."""
    return {suite: dict(sorted(counts.items())) for suite, counts in sorted(_figures.items())}


def write(path: Path = ARTIFACTS / "reliability-figures.json") -> Path | None:
    """Write the figures as JSON (nothing when no suite recorded any)."""
    figures = snapshot()
    if not figures:
        return None
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path
