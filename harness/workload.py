"""What the load drivers type (bench/load.py, bench/load_browser.py): distinct sentences, each with a marker word.

Every sentence is new to the app (a cache miss), 10–12 words, and carries a made-up lowercase word of letters only,
which survives tokenization and HTML escaping whole and is a node of the attention graph: a run that shows it was
about that sentence, not a dropped one.
"""

from __future__ import annotations

import numpy as np

WORDS = ("river", "lantern", "garden", "teacher", "violin", "harbor", "pencil", "mountain", "kitchen", "window")
VERBS = ("watched", "painted", "carried", "followed", "found", "moved", "helped", "missed", "saw", "held")
LETTERS = "bcdfghjklmnpqrstvwxz"


def marker(n: int) -> str:
    """A made-up word for n: "zo" + four letters + "ix" (20⁴ = 160,000 of them, then they repeat)."""
    letters = []
    for _ in range(4):
        n, digit = divmod(n, len(LETTERS))
        letters.append(LETTERS[digit])
    return "zo" + "".join(letters) + "ix"


def sentence(n: int) -> tuple[str, str]:
    """(sentence, its marker word), distinct for every n."""
    a, b = WORDS[n % len(WORDS)], WORDS[(n // len(WORDS) + n) % len(WORDS)]
    return f"The {a} near the {b} {VERBS[(n * 7) % len(VERBS)]} {marker(n)} because it was number {n}.", marker(n)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile of ``values``; NaN for none."""
    return float(np.percentile(values, q)) if values else float("nan")
