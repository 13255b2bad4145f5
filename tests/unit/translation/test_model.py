"""The translator's layers equal PyTorch's own Transformer layers on the same weights; decoding and its maps."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from core.transformer.attention import additive_mask
from core.translation.corpus import CHAPTER_SENTENCE, SOURCE_VOCABULARY, TARGET_VOCABULARY
from core.translation.model import (
    DecoderLayer,
    EncoderLayer,
    MultiHeadAttention,
    SentenceTooLongError,
    Translator,
    TranslatorConfig,
    attention_maps,
    causal_mask,
    greedy_decode,
    sinusoidal_positions,
    translate,
)

SHAPES = [  # seed, batch, source length, target length, d_model, heads, norm_first
    (0, 1, 6, 5, 16, 1, False),
    (1, 3, 7, 4, 32, 4, False),
    (2, 2, 5, 8, 24, 3, True),
    (3, 4, 9, 6, 64, 8, True),
]


def config_of(d_model, heads, norm_first):
    return TranslatorConfig(heads=heads, d_model=d_model, d_ff=2 * d_model + 3, norm_first=norm_first)


def randomised(module: nn.Module) -> nn.Module:
    """Every parameter, layer norms included, drawn at random so that no default value hides a mismatch."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.3)
    return module


def copy_attention(mine: MultiHeadAttention, theirs: nn.MultiheadAttention) -> None:
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([mine.query.weight, mine.key.weight, mine.value.weight]))
        theirs.in_proj_bias.copy_(torch.cat([mine.query.bias, mine.key.bias, mine.value.bias]))
        theirs.out_proj.weight.copy_(mine.output.weight)
        theirs.out_proj.bias.copy_(mine.output.bias)


def copy_norm(mine: nn.LayerNorm, theirs: nn.LayerNorm) -> None:
    theirs.load_state_dict(mine.state_dict())


def copy_feed_forward(mine, theirs) -> None:
    theirs.linear1.load_state_dict(mine.feed_forward.intermediate.state_dict())
    theirs.linear2.load_state_dict(mine.feed_forward.output.state_dict())


def inputs(seed, batch, source_length, target_length, d_model):
    """Random states, and a source padding pattern: row k has source_length − k real positions (at least 1)."""
    generator = torch.Generator().manual_seed(seed)
    source = torch.randn(batch, source_length, d_model, generator=generator)
    target = torch.randn(batch, target_length, d_model, generator=generator)
    lengths = torch.tensor([max(source_length - k, 1) for k in range(batch)])
    real = torch.arange(source_length)[None, :] < lengths[:, None]  # (batch, s)
    return source, target, real


def torch_layer_settings(config: TranslatorConfig) -> dict:
    """torch.nn's layer arguments for the same architecture, dropout off."""
    return dict(
        d_model=config.d_model,
        nhead=config.heads,
        dim_feedforward=config.d_ff,
        dropout=0.0,
        batch_first=True,
        norm_first=config.norm_first,
        layer_norm_eps=config.layer_norm_eps,
    )


@pytest.mark.parametrize("seed, batch, s, t, d_model, heads, norm_first", SHAPES)
def test_encoder_layer_equals_torch_transformer_encoder_layer(seed, batch, s, t, d_model, heads, norm_first):
    torch.manual_seed(seed)
    config = config_of(d_model, heads, norm_first)
    mine = randomised(EncoderLayer(config)).eval()
    theirs = nn.TransformerEncoderLayer(**torch_layer_settings(config))
    copy_attention(mine.self_attention, theirs.self_attn)
    copy_feed_forward(mine, theirs)
    copy_norm(mine.attention_sublayer.norm, theirs.norm1)
    copy_norm(mine.feed_forward_sublayer.norm, theirs.norm2)
    source, _, real = inputs(seed, batch, s, t, d_model)
    ours, _ = mine(source, additive_mask(real))
    reference = theirs(source, src_key_padding_mask=~real)
    assert torch.allclose(ours, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("seed, batch, s, t, d_model, heads, norm_first", SHAPES)
def test_decoder_layer_equals_torch_transformer_decoder_layer(seed, batch, s, t, d_model, heads, norm_first):
    torch.manual_seed(seed)
    config = config_of(d_model, heads, norm_first)
    mine = randomised(DecoderLayer(config)).eval()
    theirs = nn.TransformerDecoderLayer(**torch_layer_settings(config))
    copy_attention(mine.self_attention, theirs.self_attn)
    copy_attention(mine.cross_attention, theirs.multihead_attn)
    copy_feed_forward(mine, theirs)
    for ours_norm, their_norm in zip(
        (mine.self_sublayer, mine.cross_sublayer, mine.feed_forward_sublayer),
        (theirs.norm1, theirs.norm2, theirs.norm3),
    ):
        copy_norm(ours_norm.norm, their_norm)
    memory, target, real = inputs(seed, batch, s, t, d_model)
    ours, _, _ = mine(target, memory, causal_mask(t), additive_mask(real))
    reference = theirs(
        target,
        memory,
        tgt_mask=nn.Transformer.generate_square_subsequent_mask(t),
        memory_key_padding_mask=~real,
        tgt_is_causal=True,
    )
    assert torch.allclose(ours, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("seed, batch, s, t, d_model, heads, norm_first", SHAPES)
@pytest.mark.parametrize("kind", ["padded cross-attention", "causal self-attention"])
def test_attention_probabilities_equal_torch_multihead_attention_per_head(
    seed, batch, s, t, d_model, heads, norm_first, kind
):
    torch.manual_seed(seed)
    mine = randomised(MultiHeadAttention(d_model, heads))
    theirs = nn.MultiheadAttention(d_model, heads, dropout=0.0, batch_first=True)
    copy_attention(mine, theirs)
    memory, target, real = inputs(seed, batch, s, t, d_model)
    if kind == "causal self-attention":
        attended = mine(target, target, causal_mask(t))
        output, weights = theirs(
            target,
            target,
            target,
            attn_mask=nn.Transformer.generate_square_subsequent_mask(t),
            need_weights=True,
            average_attn_weights=False,
        )
    else:
        attended = mine(target, memory, additive_mask(real))
        output, weights = theirs(
            target, memory, memory, key_padding_mask=~real, need_weights=True, average_attn_weights=False
        )
    assert attended.probabilities.shape == weights.shape  # (batch, heads, queries, keys)
    assert torch.allclose(attended.probabilities, weights, atol=1e-6, rtol=0)
    assert torch.allclose(attended.output, output, atol=1e-5, rtol=0)


def test_sinusoidal_positions_follow_the_paper_formula():
    table = sinusoidal_positions(12, 10).numpy()
    for position in range(12):
        for i in range(5):
            angle = position / 10000 ** (2 * i / 10)
            assert table[position, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[position, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)


@pytest.fixture(scope="module")
def untrained():
    torch.manual_seed(0)
    return Translator(
        TranslatorConfig(encoder_layers=2, decoder_layers=2, heads=2, d_model=16, d_ff=32),
        SOURCE_VOCABULARY,
        TARGET_VOCABULARY,
    ).eval()


def test_forward_returns_logits_and_every_attention_map_with_their_shapes(untrained):
    source = torch.tensor([SOURCE_VOCABULARY.encode(CHAPTER_SENTENCE)] * 3)
    decoder_input = torch.ones(3, 4, dtype=torch.long)  # <bos> and three words
    output = untrained(source, decoder_input)
    assert output.logits.shape == (3, 4, len(TARGET_VOCABULARY))
    assert output.encoder_attentions.shape == (2, 3, 2, 6, 6)
    assert output.decoder_attentions.shape == (2, 3, 2, 4, 4)
    assert output.cross_attentions.shape == (2, 3, 2, 4, 6)
    assert torch.all(output.decoder_attentions.triu(1) == 0)  # no step sees a later word


def test_a_sentence_has_the_same_maps_alone_and_padded_in_a_batch(untrained):
    short = (("彼", "は", "東京", "に", "行く"), ("he", "goes"))
    long = (("今日", "私たち", "は", "学校", "に", "帰る"), ("we", "return", "to", "school", "today"))
    alone = attention_maps(untrained, [short])[0]
    batched = attention_maps(untrained, [long, short])[1]
    for name in ("encoder_attention", "cross_attention", "decoder_attention"):
        assert np.allclose(getattr(alone, name), getattr(batched, name), atol=1e-6)
    assert batched.cross_attention.shape == (2, 2, 2, 5)  # (layers, heads, t, s): its own lengths


def test_translate_gives_one_row_per_emitted_word_and_rows_that_sum_to_one(untrained):
    translation = translate(untrained, CHAPTER_SENTENCE)
    t, s = len(translation.target), len(CHAPTER_SENTENCE)
    assert list(translation.target) == greedy_decode(untrained, [CHAPTER_SENTENCE])[0]
    assert translation.encoder_attention.shape == (2, 2, s, s)
    assert translation.cross_attention.shape == (2, 2, t, s)
    assert translation.decoder_attention.shape == (2, 2, t, t)
    for maps in (translation.encoder_attention, translation.cross_attention, translation.decoder_attention):
        assert np.allclose(maps.sum(axis=-1), 1.0, atol=1e-5)


def test_greedy_decoding_picks_the_likeliest_word_at_every_step(untrained):
    words = greedy_decode(untrained, [CHAPTER_SENTENCE])[0]
    source = torch.tensor([SOURCE_VOCABULARY.encode(CHAPTER_SENTENCE)])
    steps = ([TARGET_VOCABULARY.BOS] + TARGET_VOCABULARY.encode(words))[: untrained.config.max_length]
    decoder_input = torch.tensor([steps])
    with torch.no_grad():
        logits = untrained(source, decoder_input).logits[0]
    choices = logits[:, TARGET_VOCABULARY.EOS :].argmax(-1).add(TARGET_VOCABULARY.EOS).tolist()  # no <pad>, <bos>
    expected = TARGET_VOCABULARY.encode(words)
    assert choices[: len(words)] == expected
    assert len(words) == untrained.config.max_length or choices[len(words)] == TARGET_VOCABULARY.EOS


def test_a_sentence_longer_than_the_positions_is_refused(untrained):
    with pytest.raises(SentenceTooLongError, match="at most 16"):
        translate(untrained, CHAPTER_SENTENCE * 3)


@pytest.mark.parametrize("bad", [dict(heads=3, d_model=64), dict(encoder_layers=0), dict(heads=0)])
def test_impossible_configs_are_refused(bad):
    with pytest.raises(ValueError):
        TranslatorConfig(**bad)


def test_each_word_of_a_translation_carries_the_probability_the_decoder_gave_it(shipped):
    translation = translate(shipped.model, CHAPTER_SENTENCE)
    assert translation.word_probabilities.shape == (len(translation.target),)
    assert np.all((translation.word_probabilities > 0.5) & (translation.word_probabilities <= 1.0))  # greedy, trained
