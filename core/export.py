"""Attention as JSON and CSV, for scripts and papers.

Command line:  python -m core.export "TEXT" [--pair "TEXT B"] [--model NAME_OR_FOLDER] [--words]
prints {"model": ..., "engine": ..., "causal": ..., "tokens": [...], "attention": [layers][heads][n][n]} to stdout.
"engine" names what computed the attention: "core" (this package's encoder or decoder, checked against
transformers) or "transformers" (its own code, for architectures the core does not implement); "causal" is true
for a decoder, whose rows have nothing after their own position. With TRANSFORMER_GRAPH_HOSTED set, as in the hosted
app, local folders and models over the hosted parameter budget are refused.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys

import numpy as np

from core.analysis.view_options import ViewOptions, attention_view
from core.transformer.models import BUNDLED_MODEL, ModelLoadError, hosted, load_model, parameter_budget
from core.transformer.tokens import EmptyTextError


def attention_json(model: str, labels: list[str], attention: np.ndarray, engine: str, causal: bool) -> str:
    """The export document; floats keep their full float32 value."""
    document = {"model": model, "engine": engine, "causal": causal, "tokens": labels}
    return json.dumps({**document, "attention": attention.astype(float).tolist()}, ensure_ascii=False)


def head_csv(labels: list[str], attention: np.ndarray, layer: int, head: int | None) -> str:
    """One head (n, n) as long-form CSV: layer, head, from_index, from_token, to_index, to_token, weight.

    Layer and head are 1-based (head "mean" for a layer's average), token indices 0-based.
    """
    head_name = "mean" if head is None else head + 1
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["layer", "head", "from_index", "from_token", "to_index", "to_token", "weight"])
    for i, source in enumerate(labels):
        for j, target in enumerate(labels):
            writer.writerow([layer + 1, head_name, i, source, j, target, f"{attention[i, j]:.8g}"])
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.export", description=__doc__.splitlines()[0])
    parser.add_argument("text", help="the sentence to analyse")
    parser.add_argument(
        "--pair", default=None, help="an optional second sentence (BERT's sentence pair; a decoder reads it appended)"
    )
    parser.add_argument("--model", default=BUNDLED_MODEL, help=f"Hub id or local folder (default {BUNDLED_MODEL})")
    parser.add_argument("--words", action="store_true", help="merge subword tokens into words (Clark et al. 2019)")
    args = parser.parse_args(argv)
    try:
        hosted_mode = hosted()  # as the app: no local folder, the hosted parameter budget
        model = load_model(args.model, allow_local=not hosted_mode, parameter_budget=parameter_budget(hosted_mode))
        result = model.analyse(args.text, args.pair)
    except (ModelLoadError, EmptyTextError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result.tokenized.truncated:
        print(f"note: input truncated to {len(result.tokenized)} tokens", file=sys.stderr)
    options = ViewOptions(words=args.words, readable=False)
    labels, attention = attention_view(result.tokenized, result.attentions, options)
    print(attention_json(model.name, labels, attention, result.engine, result.tokenized.causal))
    return 0


if __name__ == "__main__":
    sys.exit(main())
