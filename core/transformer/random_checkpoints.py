"""Small random Hugging Face checkpoints of the decoder families, written as the Hub holds them, for offline tests.

A folder gets ``config.json``, ``model.safetensors`` (the *base* model: ``GPT2Model``, ``LlamaModel``,
``Qwen2Model``) and a fast tokenizer (``tokenizer.json``, ``tokenizer_config.json``) trained here on a built-in
English corpus, so ``AutoModel`` / ``AutoTokenizer.from_pretrained(folder)`` load it with no network.

Tokenizers, as their families' real ones behave:

    gpt2    byte-level BPE, GPT-2's pre-tokenizer regex, "Ġ" marks a leading space, no BOS added
    qwen2   byte-level BPE, NFC, Qwen2's regex (digits one by one), "Ġ" marks a leading space, no BOS added
    llama   SentencePiece-style BPE (Metaspace), "▁" marks a leading space, "<s>" added in front

Weights of the ``"tiny"`` size are drawn wider than transformers' default (std 0.02), so that attention maps are far
from uniform and the biases and norm scales a parity test compares are not 0 and 1:

    matrices ~ N(0, 0.2²)      biases ~ N(0, 0.1²)      norm scales ~ 1 + N(0, 0.1²)

With hidden size 64 and head size 16 a query and a key have entries of std ≈ 0.2·√64 = 1.6, so the attention
logits q·k/√16 are O(1–10): softmax is sharp but finite, and float32 agreement at 1e-5 means something.
The benchmark sizes ``"gpt2-small"`` and ``"smollm2-135m"`` keep transformers' own initialisation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerFast

FAMILIES = ("gpt2", "llama", "qwen2")
SIZES = ("tiny", "gpt2-small", "smollm2-135m")

MATRIX_STD = 0.2
BIAS_STD = 0.1
NORM_SCALE_STD = 0.1
TOKENIZER_VOCAB = 600  # the BPE trainer stops earlier when the corpus has no more pairs to merge
MAX_TOKENS = 256  # positions of the tiny models and the tokenizers' model_max_length

# GPT-2's and Qwen2's pre-tokenizer regexes (from their tokenizer.json): contractions, letters, digits, punctuation.
_QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_ENDOFTEXT = "<|endoftext|>"

CORPUS = (
    "The animal didn't cross the street because it was too tired.",
    "The animal didn't cross the street because it was too wide.",
    "The keys to the old cabinet are on the table.",
    "The chapter explains attention as message passing.",
    "A Transformer is a graph neural network.",
    "Tokenization splits unbelievably uncommon words into pieces.",
    "The cat sat on the mat, and the dog didn't mind.",
    'She said: "It\'s a well-known fact that cats sleep 16 hours a day."',
    "We'll meet at 10:30 on 12 March 2024 near platform 9.",
    "The train left the station at 7 a.m.; it arrived two hours late.",
    "Isn't it strange that the model can't see the future tokens?",
    "Each head looks at every earlier word, then mixes what it finds.",
    "A self-attention layer turns 512 vectors into 512 new vectors.",
    "The old horse pulled the cart slowly along the narrow street.",
    "The fox crossed the road at night and disappeared into the forest.",
    "A small bird built a nest in the tree next to the station.",
    "They're sure the recipe needs 3 eggs, 250 grams of flour and milk.",
    "Don't forget: the meeting moved from room 101 to room 204!",
    "Her brother-in-law works as a part-time teacher in the city.",
    "The price rose by 15 percent (from 20 to 23 dollars) in one year.",
    "You've read 42 pages; I'd say that's a good start.",
    "Why did the sheep stand so still in the green field?",
    "Language models predict the next token from the ones before it.",
    "The queen's garden was full of roses, tulips and old oak trees.",
    "Rain fell all night, so the river was high by morning.",
    "He wasn't sure whether the bridge would hold the heavy truck.",
    "Pigeons gather on the platform and wait for crumbs from passengers.",
    "The farmer led the sheep across the road to the green field.",
    "In 1905, a young clerk wrote four papers that changed physics.",
    "Graph networks pass messages along edges between the nodes.",
    "The children laughed, sang and ran around the old fountain.",
    "It's 5 o'clock somewhere, they joked, and ordered more tea.",
    "Two plus two is four, and ten minus three is seven.",
    "The quick brown fox jumps over the lazy dog.",
    "My phone's battery died at 3% during the long trip.",
    "Every word attends to itself and to the words on its left.",
)

# size → family → keyword arguments of the family's config class (vocab_size of "tiny" comes from its tokenizer)
_SHAPES: dict[str, dict[str, dict]] = {
    "tiny": {
        "gpt2": {"n_layer": 2, "n_embd": 64, "n_head": 4, "n_positions": MAX_TOKENS},
        "llama": {
            "num_hidden_layers": 2,
            "hidden_size": 64,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,  # grouped-query attention: 4 query heads share one key/value head
            "intermediate_size": 128,
            "max_position_embeddings": MAX_TOKENS,
            "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0},
        },
        "qwen2": {
            "num_hidden_layers": 2,
            "hidden_size": 64,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "intermediate_size": 128,
            "max_position_embeddings": MAX_TOKENS,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
        },
    },
    "gpt2-small": {
        "gpt2": {"n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024, "vocab_size": 50257},
    },
    "smollm2-135m": {  # HuggingFaceTB/SmolLM2-135M
        "llama": {
            "num_hidden_layers": 30,
            "hidden_size": 576,
            "num_attention_heads": 9,
            "num_key_value_heads": 3,
            "intermediate_size": 1536,
            "vocab_size": 49152,
            "max_position_embeddings": 8192,
            "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0},
            "rms_norm_eps": 1e-5,
            "tie_word_embeddings": True,
        },
    },
}


def random_config(family: str, size: str = "tiny", **overrides) -> PretrainedConfig:
    """The config of a `family` model of `size`, with the special token ids of the family's tokenizer here;
    ``overrides`` set other config keys (``rope_scaling``, ``scale_attn_by_inverse_layer_idx``, …)."""
    from transformers import AutoConfig

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}, expected one of {FAMILIES}")
    if size not in _SHAPES or family not in _SHAPES[size]:
        sizes = [name for name, families in _SHAPES.items() if family in families]
        raise ValueError(f"no size {size!r} for {family}, expected one of {sizes}")
    tokenizer = family_tokenizer(family)
    shape = {"vocab_size": len(tokenizer), **_SHAPES[size][family]}
    return AutoConfig.for_model(
        family,
        **shape,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **overrides,
    )


def write_random_checkpoint(folder: Path, family: str, *, size: str = "tiny", seed: int = 0, **overrides) -> Path:
    """Write config.json, model.safetensors and the tokenizer files of a random `family` base model into `folder`;
    ``overrides`` go to ``random_config``."""
    from transformers import AutoModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = random_config(family, size, **overrides)
    with torch.random.fork_rng(devices=[]):  # seeds the model's own initialisation without touching the caller's
        torch.manual_seed(seed)
        model = AutoModel.from_config(config, attn_implementation="eager")
    if size == "tiny":
        _spread_weights(model, torch.Generator().manual_seed(seed))
    model.save_pretrained(folder)  # safetensors: transformers 5 writes no pickled weights
    family_tokenizer(family).save_pretrained(folder)
    return folder


@torch.no_grad()
def _spread_weights(model: PreTrainedModel, generator: torch.Generator) -> None:
    """Redraw every parameter: matrices N(0, 0.2²), biases N(0, 0.1²), norm scales 1 + N(0, 0.1²)."""
    for name, parameter in model.named_parameters():
        noise = torch.randn(parameter.shape, generator=generator)
        if name.endswith("bias"):
            parameter.copy_(BIAS_STD * noise)
        elif parameter.ndim == 1:  # LayerNorm / RMSNorm scale
            parameter.copy_(1.0 + NORM_SCALE_STD * noise)
        else:  # embeddings and projections (GPT-2's Conv1D included)
            parameter.copy_(MATRIX_STD * noise)


@cache
def family_tokenizer(family: str) -> PreTrainedTokenizerFast:
    """The fast tokenizer of `family`, trained once per process on CORPUS."""
    from transformers import PreTrainedTokenizerFast

    if family == "llama":
        return PreTrainedTokenizerFast(
            tokenizer_object=_sentencepiece_bpe(),
            bos_token="<s>",
            eos_token="</s>",
            unk_token="<unk>",
            model_max_length=MAX_TOKENS,
        )
    if family in ("gpt2", "qwen2"):
        return PreTrainedTokenizerFast(
            tokenizer_object=_byte_level_bpe(qwen2_regex=family == "qwen2"),
            bos_token=_ENDOFTEXT,
            eos_token=_ENDOFTEXT,
            unk_token=_ENDOFTEXT,
            pad_token=_ENDOFTEXT if family == "qwen2" else None,  # GPT-2 has no padding token, Qwen2 pads with it
            model_max_length=MAX_TOKENS,
        )
    raise ValueError(f"unknown family {family!r}, expected one of {FAMILIES}")


def _byte_level_bpe(*, qwen2_regex: bool) -> Tokenizer:
    """GPT-2's tokenizer: bytes mapped to printable characters (space → "Ġ"), BPE merges, nothing added around."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    if qwen2_regex:
        tokenizer.normalizer = normalizers.NFC()
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(_QWEN2_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=TOKENIZER_VOCAB,
        special_tokens=[_ENDOFTEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: any text encodes, nothing unknown
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    return tokenizer


def _sentencepiece_bpe() -> Tokenizer:
    """Llama-2's tokenizer: spaces → "▁" with one put in front of the text, BPE merges, "<s>" prepended."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    # split=True: merges stay inside a word, and word_ids() gives one word per space-separated piece
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=TOKENIZER_VOCAB, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False
    )  # ids 0, 1, 2 as in Llama-2
    tokenizer.train_from_iterator(CORPUS, trainer)
    bos = ("<s>", tokenizer.token_to_id("<s>"))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[bos]
    )
    return tokenizer
