"""Translate a simple Japanese sentence with the small Transformer shipped in assets/translator/.

Command line:  python -m core.translate "私は今日東京に行く" [--json]
prints the English translation, or with --json
{"source": [...], "target": [...], "encoder_attention": [L][H][s][s], "cross_attention": [L][H][t][s],
 "decoder_attention": [L][H][t][t]}: source = the segmented words, target = the greedy translation without
<bos>/<eos>; row i of the cross- and decoder attention is the step that emits target[i] (the step that emits <eos>
is left out), and column j of the decoder attention is that step's input: <bos> for j = 0, target[j − 1] after.
A word outside the grammar, empty text or a sentence too long: a message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from core.transformer.tokens import EmptyTextError
from core.translation.checkpoint import load
from core.translation.corpus import UnknownWordError, segment
from core.translation.model import SentenceTooLongError, translate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.translate", description=__doc__.splitlines()[0])
    parser.add_argument("text", help="a Japanese sentence, words separated by spaces or not")
    parser.add_argument("--json", action="store_true", help="print the words and every attention map as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        words = segment(args.text)  # bad input fails before the model loads
        translation = translate(load().model, words)
    except (EmptyTextError, UnknownWordError, SentenceTooLongError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.json:
        print(" ".join(translation.target))
        return 0
    print(
        json.dumps(
            {
                "source": list(translation.source),
                "target": list(translation.target),
                "encoder_attention": translation.encoder_attention.astype(float).tolist(),
                "cross_attention": translation.cross_attention.astype(float).tolist(),
                "decoder_attention": translation.decoder_attention.astype(float).tolist(),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
