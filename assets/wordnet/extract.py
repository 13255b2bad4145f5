"""Rebuild assets/wordnet/sentences.txt from WordNet 3.0's database files: `python assets/wordnet/extract.py DIR`.

DIR holds data.noun, data.verb, data.adj and data.adv (Debian's wordnet-base package puts them in
/usr/share/wordnet). Each synset's gloss ends with usage examples in double quotes; the kept ones read as sentences:
a capital letter first (lower-case examples are mostly phrases), 6 to 25 words, plain ASCII; a full stop is added
where the example has no final punctuation. Duplicates go; the rest are sorted, and every k-th is kept so that
SENTENCES remain, spread over the whole alphabet of examples.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SENTENCES = 1200
EXAMPLE = re.compile(r'"([^"]+)"')
SENTENCE = re.compile(r"[A-Z][^\"]*")


def examples(folder: Path) -> list[str]:
    """Every example of every synset's gloss (after the "|" of a data line), in file order."""
    found = []
    for part in ("noun", "verb", "adj", "adv"):
        for line in (folder / f"data.{part}").read_text(encoding="latin-1").splitlines():
            if "|" in line and not line.startswith(" "):
                found.extend(match.strip() for match in EXAMPLE.findall(line.split("|", 1)[1]))
    return found


def whole_sentences(candidates: list[str]) -> list[str]:
    """The candidates that read as sentences, each ending in punctuation, without duplicates, sorted."""
    kept = {
        sentence if sentence[-1] in ".!?" else sentence + "."
        for sentence in candidates
        if sentence.isascii() and SENTENCE.fullmatch(sentence) and 6 <= len(sentence.split()) <= 25
    }
    return sorted(kept)


def main() -> None:
    sentences = whole_sentences(examples(Path(sys.argv[1])))
    step = max(1, len(sentences) // SENTENCES)
    chosen = sentences[::step][:SENTENCES]
    (Path(__file__).parent / "sentences.txt").write_text("\n".join(chosen) + "\n", encoding="utf-8")
    print(f"{len(chosen)} of {len(sentences)} whole sentences")


if __name__ == "__main__":
    main()
