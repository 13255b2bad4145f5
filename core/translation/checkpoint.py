"""A trained translator on disk: the weights as safetensors, everything else as JSON, in one folder.

- ``translator.safetensors``: the model's state dict, float32; read back with ``safetensors.torch.load_file``
  only, never ``torch.load`` or pickle.
- ``translator.json``: the config, the training settings (with the seed), the corpus seed, both vocabularies, the
  loss of every step, the training time, the evaluation and the attention snapshots of the probe sentences. The
  snapshots are rounded to 4 decimals (each row then sums to 1 within about 5e-4); everything else is exact.

Command line:  python -m core.translation.checkpoint [FOLDER]
trains with the default settings (torch on one thread, as the app runs) and writes FOLDER, by default
assets/translator/, with a README.md giving the command, the seed, the training time and the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from core.translation.corpus import Vocabulary, build_corpus, gold_example
from core.translation.model import Translator, TranslatorConfig
from core.translation.training import Evaluation, Snapshots, TrainingResult, TrainingSettings, train

ASSET_FOLDER = Path(__file__).resolve().parents[2] / "assets" / "translator"
WEIGHTS, DOCUMENT = "translator.safetensors", "translator.json"
FORMAT = 1
SNAPSHOT_DECIMALS = 4
KINDS = ("cross", "encoder", "decoder")


def _rounded(array: np.ndarray) -> list:
    return np.round(array.astype(np.float64), SNAPSHOT_DECIMALS).tolist()


def document(result: TrainingResult) -> dict:
    """Everything but the weights, as JSON-ready values."""
    model, snapshots, evaluation = result.model, result.snapshots, result.evaluation
    return {
        "format": FORMAT,
        "config": result.config.to_dict(),
        "settings": result.settings.to_dict(),
        "corpus_seed": result.corpus_seed,
        "source_vocabulary": list(model.source_vocabulary.words),
        "target_vocabulary": list(model.target_vocabulary.words),
        "training_seconds": result.seconds,
        "losses": result.losses,
        "evaluation": {
            "exact_match": evaluation.exact_match,
            "head_aer": evaluation.head_aer.tolist(),  # (decoder layers, heads), held-out sentences
            "best_head": list(evaluation.best_head),
        },
        "snapshots": {
            "steps": list(snapshots.steps),
            "probes": [
                {
                    "source": list(probe.source),
                    "target": list(probe.target),
                    **{kind: _rounded(getattr(snapshots, kind)[k]) for kind in KINDS},
                }
                for k, probe in enumerate(snapshots.probes)
            ],
        },
    }


def save(result: TrainingResult, folder: Path = ASSET_FOLDER) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    weights = {name: tensor.detach().contiguous() for name, tensor in result.model.state_dict().items()}
    save_file(weights, str(folder / WEIGHTS), metadata={"format": str(FORMAT)})
    (folder / DOCUMENT).write_text(json.dumps(document(result), ensure_ascii=False), encoding="utf-8")


def load(folder: Path = ASSET_FOLDER) -> TrainingResult:
    """The translator saved in ``folder``, in eval mode, with its history, snapshots and evaluation."""
    saved = json.loads((folder / DOCUMENT).read_text(encoding="utf-8"))
    if saved.get("format") != FORMAT:
        raise ValueError(f"{folder / DOCUMENT} has format {saved.get('format')!r}; this code reads {FORMAT}")
    model = Translator(
        TranslatorConfig(**saved["config"]),
        Vocabulary(tuple(saved["source_vocabulary"])),
        Vocabulary(tuple(saved["target_vocabulary"])),
    )
    model.load_state_dict(load_file(str(folder / WEIGHTS)))
    model.eval()
    probes = saved["snapshots"]["probes"]
    examples = tuple(gold_example(probe["source"]) for probe in probes)
    if any(e is None for e in examples):
        raise ValueError(f"{folder / DOCUMENT} snapshots a sentence the grammar does not have")
    snapshots = Snapshots(
        tuple(saved["snapshots"]["steps"]),
        examples,  # type: ignore[arg-type]  # None ruled out above
        *(tuple(np.asarray(probe[kind], dtype=np.float32) for probe in probes) for kind in KINDS),
    )
    evaluation = Evaluation(
        saved["evaluation"]["exact_match"],
        np.asarray(saved["evaluation"]["head_aer"]),
        tuple(saved["evaluation"]["best_head"]),
    )  # type: ignore[arg-type]  # two ints
    return TrainingResult(
        model,
        TrainingSettings(**saved["settings"]),
        saved["corpus_seed"],
        saved["losses"],
        snapshots,
        evaluation,
        saved["training_seconds"],
    )


def readme(result: TrainingResult) -> str:
    """The asset folder's README: how it was made and what it scores."""
    evaluation, config, settings = result.evaluation, result.config, result.settings
    layer, head = evaluation.best_head
    exact = ", ".join(f"{split} {share:.1%}" for split, share in evaluation.exact_match.items())
    rates = "; ".join(f"layer {i + 1} head {j + 1}: {rate:.3f}" for (i, j), rate in np.ndenumerate(evaluation.head_aer))
    return f"""# The small Transformer shipped with the app

Made by `python -m core.translation.checkpoint`, with the default settings and torch on one thread.

- Seeds: training seed {settings.seed}, corpus seed {result.corpus_seed}.
- Model: {config.encoder_layers} + {config.decoder_layers} layers, {config.heads} head(s), d_model {config.d_model}, \
d_ff {config.d_ff}, dropout {config.dropout}, {"pre" if config.norm_first else "post"}-norm.
- Training: {settings.steps} steps, batch {settings.batch_size}, learning rate {settings.learning_rate}, \
{settings.warmup_steps} warm-up steps; {result.seconds:.1f} s on the machine that made it.
- Exact match (greedy): {exact}.
- Alignment error rate of each cross-attention head's argmax alignment on the held-out sentences: {rates}; best: \
layer {layer + 1} head {head + 1}, AER {evaluation.best_aer:.3f}.

`translator.safetensors` holds the weights, `translator.json` the config, settings, vocabularies, losses,
evaluation and attention snapshots (see `core/translation/checkpoint.py`).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.translation.checkpoint", description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=ASSET_FOLDER, help=f"default {ASSET_FOLDER}")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result = train(TranslatorConfig(), TrainingSettings(), build_corpus())
    save(result, args.folder)
    (args.folder / "README.md").write_text(readme(result), encoding="utf-8")
    print(readme(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
