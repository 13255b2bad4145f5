"""Soft vs hard structure: the network (an encoder, or a decoder on its causal graphs) as message passing on pruned,
row-renormalised attention graphs."""

from functools import partial

import numpy as np
import pytest
import torch

from core.analysis.graph import Pruning
from core.analysis.hard_attention import (
    KEEP_ALL,
    SameBucket,
    bucket_ids,
    keep_mask,
    renormalised,
    run_hard,
    same_bucket_mask,
    sweep,
    sweep_rules,
)
from core.analysis.transformer_gnn import AttentionGraphs, attention_graphs
from core.transformer.models import load_model

SENTENCE = "The animal didn't cross the street because it was too tired."


@pytest.fixture(scope="module")
def sentence(bundled_model):
    tokenized = bundled_model.tokenize(SENTENCE)
    soft = bundled_model.network(torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids]))
    return tokenized, soft.hidden_states[-1, 0]


def hand_graphs(attention: np.ndarray) -> AttentionGraphs:
    """Graphs of one layer with the given attention (heads, n, n); nodes, queries and keys are placeholders."""
    attention = torch.tensor(attention, dtype=torch.float32)
    heads, n, _ = attention.shape
    vectors = torch.arange(heads * n * 2, dtype=torch.float32).view(heads, n, 2)
    every_edge = torch.ones(n, n, dtype=torch.bool)
    return AttentionGraphs(
        0, torch.zeros(n, 2), torch.zeros(n, 2), attention, every_edge, vectors, vectors, torch.zeros(n, 2)
    )


@pytest.mark.parametrize(
    "rule", [KEEP_ALL, Pruning(rule="top_k", k=16), Pruning(rule="threshold", threshold=0.0), SameBucket(n_buckets=1)]
)
def test_keeping_every_edge_reproduces_the_encoder(bundled_model, sentence, rule):
    tokenized, soft = sentence
    assert len(tokenized) == 16
    run = run_hard(bundled_model.network, tokenized.input_ids, tokenized.token_type_ids, rule)
    assert run.share_kept == 1.0 and run.all_edges == 6 * 12 * 16 * 16
    assert (run.final_states - soft).abs().max() <= 1e-5


def test_top_1_keeps_one_edge_per_row_and_moves_the_output(bundled_model, sentence):
    tokenized, soft = sentence
    run = run_hard(bundled_model.network, tokenized.input_ids, tokenized.token_type_ids, Pruning(rule="top_k", k=1))
    assert run.share_kept == 1 / 16
    assert (run.final_states - soft).abs().max() > 0.1


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_a_decoder_run_hard_reproduces_itself_soft_and_moves_when_pruned(family, decoder_folders):
    model = load_model(str(decoder_folders[family]))
    tokenized = model.tokenize(SENTENCE)
    soft = torch.from_numpy(model.run(tokenized).hidden_states[-1])  # (n, hidden): before the final norm
    run = partial(run_hard, model.network, tokenized.input_ids, tokenized.token_type_ids)
    scale = soft.abs().max()  # the residual stream grows unnormalised (~10 here): float32 round-off relative to it
    assert (run(KEEP_ALL).final_states - soft).abs().max() <= 1e-5 * scale
    assert (run(Pruning(rule="top_k", k=1)).final_states - soft).abs().max() > 1e-2 * scale
    assert run(SameBucket(n_buckets=4, n_hashes=2)).final_states.isfinite().all()  # every row keeps an edge


def test_a_decoders_rules_count_and_keep_only_its_causal_edges(decoder_folders):
    """The causal graph has n(n + 1)/2 edges per head: keeping all of them keeps 100 %, and no rule keeps j > i."""
    model = load_model(str(decoder_folders["gpt2"]))
    tokenized = model.tokenize(SENTENCE)
    n, config = len(tokenized), model.network.config
    every = run_hard(model.network, tokenized.input_ids, None, KEEP_ALL)
    assert every.all_edges == config.num_layers * config.num_heads * n * (n + 1) // 2
    assert every.share_kept == 1.0
    top_1 = run_hard(model.network, tokenized.input_ids, None, Pruning(rule="top_k", k=1))
    assert top_1.kept_edges == config.num_layers * config.num_heads * n  # one edge per row
    graphs = attention_graphs(model.network, 0, model.run(tokenized).hidden_states[0])
    for rule in (KEEP_ALL, Pruning(rule="top_k", k=4), SameBucket(n_buckets=2)):
        assert not np.triu(keep_mask(graphs, rule), k=1).any()


def test_renormalised_zeroes_dropped_edges_and_rescales_each_row():
    attention = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    keep = np.array([[True, True, False], [True, False, True]])
    assert torch.allclose(renormalised(attention, keep), torch.tensor([[0.625, 0.375, 0.0], [1 / 9, 0.0, 8 / 9]]))


def test_every_row_keeps_its_strongest_edge_even_when_the_rule_drops_it():
    attention = np.array([[[0.4, 0.35, 0.25], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]]])
    keep = keep_mask(hand_graphs(attention), Pruning(rule="threshold", threshold=0.5))
    assert keep.tolist() == [[[True, False, False], [False, True, False], [False, False, True]]]


def test_same_bucket_keeps_query_key_pairs_that_share_a_bucket_in_some_round():
    query_buckets = torch.tensor([[[0, 1, 1], [2, 2, 0]]])  # one head, two rounds, three tokens
    key_buckets = torch.tensor([[[1, 0, 3], [0, 2, 1]]])
    assert same_bucket_mask(query_buckets, key_buckets).tolist() == [
        [
            [False, True, False],  # query 0: key 1 in round 0
            [True, True, False],  # query 1: key 0 in round 0, key 1 in round 1
            [True, False, False],  # query 2: key 0 in round 0 (bucket 1) and in round 1 (bucket 0)
        ]
    ]


def test_bucket_ids_hash_queries_and_keys_with_the_same_rotation_per_head():
    vectors = torch.randn(3, 7, 8, generator=torch.Generator().manual_seed(0))
    rule = SameBucket(n_buckets=4, n_hashes=2)
    buckets = bucket_ids(vectors, rule)
    assert buckets.shape == (3, 2, 7) and 0 <= buckets.min() and buckets.max() < 4
    assert torch.equal(bucket_ids(2 * vectors, rule), buckets)  # angular: only directions matter
    assert (bucket_ids(vectors, SameBucket(n_buckets=1, n_hashes=2)) == 0).all()


def test_sweep_reports_share_kept_and_similarity_for_each_rule(bundled_model, sentence):
    tokenized, _ = sentence
    rules = [KEEP_ALL, Pruning(rule="top_k", k=1), SameBucket(n_buckets=8, n_hashes=2)]
    progress = []
    points = sweep(
        partial(run_hard, bundled_model.network, tokenized.input_ids, tokenized.token_type_ids),
        rules,
        lambda done, total: progress.append((done, total)),
    )
    assert [point.rule for point in points] == rules and progress == [(1, 3), (2, 3), (3, 3)]
    assert points[0].share_kept == 1.0 and points[0].similarity == pytest.approx(1.0, abs=1e-6)
    assert points[1].share_kept == 1 / 16 and points[1].similarity < 0.99
    assert 1 / 16 < points[2].share_kept < 1.0 and points[2].similarity < 1.0


def test_sweep_rules_run_top_k_up_to_every_edge():
    top_k = [rule.k for rule in sweep_rules(20) if isinstance(rule, Pruning) and rule.rule == "top_k"]
    assert top_k == [1, 2, 4, 8, 16, 20]
