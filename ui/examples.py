"""The curated example sentences (assets/examples.json), each with the layer and head worth looking at."""

import json
from pathlib import Path

EXAMPLES: list[dict] = json.loads(
    (Path(__file__).resolve().parents[1] / "assets" / "examples.json").read_text(encoding="utf-8")
)


def example_for(text: str, pair: str) -> dict | None:
    """The example whose sentences these are, if any."""
    return next((e for e in EXAMPLES if e["text"] == text and e["pair"] == (pair or "")), None)
