"""What a view shows and where a word stands in it: words or tokens, with or without [CLS]/[SEP]."""

import numpy as np
import pytest

from core.analysis.view_options import ViewOptions, attention_view, view_position, view_sinks

SENTENCE = "Tokenization splits words."


@pytest.mark.parametrize(
    "options", [ViewOptions(words=words, hide_special=hide) for words in (True, False) for hide in (True, False)]
)
def test_a_word_stands_where_its_label_is_in_every_view(bundled_model, options):
    result = bundled_model.analyse(SENTENCE)
    labels, _ = attention_view(result.tokenized, result.attentions, options)
    for index, word in enumerate(result.tokenized.words):
        position = view_position(result.tokenized, index, options)
        if word.special and options.hide_special:
            assert position is None
        elif options.words:
            assert labels[position] == word.text
        else:  # its first token
            assert labels[position] == result.tokenized.token_labels[word.tokens[0]]


def test_a_split_word_stands_at_its_first_piece_in_token_units(bundled_model):
    tokenized = bundled_model.tokenize(SENTENCE)
    splits = next(k for k, word in enumerate(tokenized.words) if word.text == "splits")
    assert (
        view_position(tokenized, splits, ViewOptions(words=False, hide_special=True))
        == tokenized.words[splits].tokens[0] - 1
    )  # [CLS] hidden


def test_hiding_a_decoders_sink_drops_its_first_token_and_renormalises(decoder_folders):
    """A decoder's first token (the attention sink, a real word in GPT-2) is what "hide" drops, in tokens and words;
    the rows stay stochastic and the attention stays causal."""
    from core.transformer.models import load_model

    result = load_model(str(decoder_folders["gpt2"])).analyse("Attention is a graph of words.")
    tokens, attention = attention_view(result.tokenized, result.attentions, ViewOptions(hide_special=True))
    assert tokens == result.tokenized.token_labels[1:]
    assert np.allclose(attention.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(np.triu(attention, k=1) == 0)
    words, _ = attention_view(result.tokenized, result.attentions, ViewOptions(words=True, hide_special=True))
    assert words == ["is", "a", "graph", "of", "words", "."]
    assert view_position(result.tokenized, 0, ViewOptions(words=True, hide_special=True)) is None
    assert view_position(result.tokenized, 2, ViewOptions(words=True, hide_special=True)) == 1
    assert view_sinks(result.tokenized, ViewOptions()) == [True] + [False] * (len(result.tokenized) - 1)
    assert not any(view_sinks(result.tokenized, ViewOptions(words=True, hide_special=True)))
