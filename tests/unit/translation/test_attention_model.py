"""The translator's encoder behind the attention page's model interface, and what the page's views make of it."""

import numpy as np
import pytest
import torch

from core.analysis.graph import attention_graph
from core.analysis.view_options import ViewOptions, attention_view, head_matrix
from core.transformer.tokens import EmptyTextError
from core.translation.attention_model import PairNotSupportedError, TranslatorAttentionModel
from core.translation.corpus import UnknownWordError

TEXT = "私は今日 東京に行く"


@pytest.fixture(scope="module")
def model(shipped):
    return TranslatorAttentionModel(shipped.model)


def test_tokens_are_the_segmented_words_with_their_character_spans(model):
    tokenized = model.tokenize(TEXT)
    assert tokenized.tokens == ("私", "は", "今日", "東京", "に", "行く")
    assert [TEXT[start:end] for start, end in tokenized.offsets] == list(tokenized.tokens)
    assert tokenized.word_labels == list(tokenized.tokens) and tokenized.word_groups == [(i,) for i in range(6)]
    assert tokenized.input_ids == tuple(model.model.source_vocabulary.encode(tokenized.tokens))
    assert tokenized.token_type_ids == tokenized.sentences == (0,) * 6
    assert not any(tokenized.special) and not tokenized.truncated and tokenized.untruncated_length == 6
    assert tokenized.pair is None


def test_run_gives_the_encoder_attention_states_queries_keys_and_values(model, shipped):
    result = model.analyse(TEXT)
    config = shipped.config
    layers, heads, d_head = config.encoder_layers, config.heads, config.d_head
    assert result.attentions.shape == (layers, heads, 6, 6)
    assert result.hidden_states.shape == (layers + 1, 6, config.d_model)
    for part in (result.queries, result.keys, result.values):
        assert part.shape == (layers, heads, 6, d_head)
    assert np.allclose(result.attentions, model.translation(TEXT).encoder_attention)
    with torch.no_grad():
        assert np.allclose(
            result.hidden_states,
            shipped.model.encode(torch.tensor([result.tokenized.input_ids])).hidden_states[:, 0].numpy(),
        )
    assert result.model == model.name and result.num_layers == layers and result.num_heads == heads


@pytest.mark.parametrize(
    "options", [ViewOptions(words=words, hide_special=hide) for words in (True, False) for hide in (True, False)]
)
def test_the_attention_page_views_and_graphs_accept_its_output(model, options):
    result = model.analyse(TEXT)
    labels, attention = attention_view(result.tokenized, result.attentions, options)
    assert labels == ["私", "は", "今日", "東京", "に", "行く"]
    assert np.allclose(attention, result.attentions, atol=1e-6)
    graph = attention_graph(head_matrix(attention, 0, 0), labels)
    assert [graph.nodes[i]["label"] for i in graph.nodes] == labels
    assert graph.number_of_edges() == int((head_matrix(attention, 0, 0) > 0).sum())


def test_translation_gives_the_english_and_the_cross_attention(model):
    translation = model.translation(TEXT)
    assert translation.target == ("I", "go", "to", "Tokyo", "today")
    assert translation.cross_attention.shape[2:] == (5, 6)


def test_a_sentence_pair_is_refused_with_a_clear_message(model):
    with pytest.raises(PairNotSupportedError, match="one sentence"):
        model.tokenize(TEXT, "彼は駅に来る")
    assert model.tokenize(TEXT, "  ").pair is None  # an empty second sentence is no pair


def test_bad_text_raises_the_errors_the_pages_show(model):
    with pytest.raises(EmptyTextError):
        model.analyse(" ")
    with pytest.raises(UnknownWordError, match="hello"):
        model.analyse("私は hello")


def test_text_longer_than_the_positions_is_truncated_and_flagged(model):
    tokenized = model.tokenize(TEXT * 3)
    assert len(tokenized) == model.max_tokens == 16 and tokenized.truncated and tokenized.untruncated_length == 18
    assert model.run(tokenized).attentions.shape[-1] == 16
