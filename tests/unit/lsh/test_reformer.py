"""Specification of core.lsh.reformer: Reformer's LSH attention, against transformers' LSHSelfAttention, the paper."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import ReformerConfig
from transformers.models.reformer.modeling_reformer import LSHSelfAttention

from core.lsh.reformer import (
    LSHConfig,
    chunk_ids,
    effective_attention,
    full_attention,
    hash_buckets,
    lsh_attention,
    mass_kept,
    normalised_keys,
    random_rotations,
    sort_order,
    top_k_recall,
)
from core.transformer.attention import merge_heads, scaled_dot_product_attention, split_heads

HEADS, D_HEAD = 2, 8
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}
# (length, chunk length, rounds): four chunks a round; chunks straddling two rounds (HF needs rounds·L a multiple
# of m, 12 is none of 8); a sequence within one chunk
CASES = [(32, 8, 1), (32, 8, 2), (32, 8, 4), (12, 8, 2), (12, 8, 4), (8, 8, 1), (8, 8, 4)]


def reformer_layer(config: LSHConfig, dtype: torch.dtype) -> LSHSelfAttention:
    """transformers' LSH layer with the same settings: one chunk of look-back, none ahead, no dropout, eval mode."""
    torch.manual_seed(0)  # the projection weights
    settings = ReformerConfig(
        hidden_size=HEADS * D_HEAD,
        num_attention_heads=HEADS,
        attention_head_size=D_HEAD,
        attn_layers=["lsh"],
        num_buckets=config.n_buckets if isinstance(config.n_buckets, int) else list(config.n_buckets),
        num_hashes=config.n_hashes,
        lsh_attn_chunk_length=config.chunk_length,
        lsh_num_chunks_before=1,
        lsh_num_chunks_after=0,
        is_decoder=config.causal,
        hash_seed=config.seed,
        lsh_attention_probs_dropout_prob=0.0,
    )
    return LSHSelfAttention(settings).to(dtype).eval()


def layer_inputs(layer: LSHSelfAttention, length: int, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """Hidden states X (1, L, heads·d) and the layer's shared query-keys and values per head, (1, heads, L, d)."""
    hidden = torch.randn(1, length, HEADS * D_HEAD, dtype=dtype, generator=torch.Generator().manual_seed(length))
    qk = split_heads(hidden @ layer.query_key.weight.T, HEADS)
    return hidden, qk, split_heads(hidden @ layer.value.weight.T, HEADS)


def hf_buckets(buckets: torch.Tensor, config: LSHConfig) -> torch.Tensor:
    """Our bucket ids (…, rounds, L) as HF's (…, rounds·L): round r's ids offset by r · n_buckets."""
    offsets = torch.arange(config.n_hashes).unsqueeze(-1) * config.total_buckets
    return (buckets + offsets).flatten(-2)


def random_head(length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One head's shared query-keys and values, (L, d) each, in float64."""
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(length, D_HEAD, dtype=torch.float64, generator=generator) for _ in range(2))


def hashed(qk: torch.Tensor, config: LSHConfig) -> torch.Tensor:
    """Buckets (…, rounds, L) of qk under the config's seeded rotations."""
    return hash_buckets(qk, random_rotations(config, qk.shape[-1], dtype=qk.dtype), config)


def lsh_by_definition(qk: torch.Tensor, values: torch.Tensor, buckets: torch.Tensor, m: int, causal: bool):
    """The algorithm as core.lsh.reformer's docstring states it, one query slot at a time: one head, (L, d) → (L, d)."""
    rounds, length = buckets.shape
    keys = qk / torch.sqrt((qk**2).sum(-1, keepdim=True) + qk.shape[-1] * 1e-6)
    bucket = buckets.tolist()
    slots = [j for r in range(rounds) for j in sorted(range(length), key=lambda j: (bucket[r][j], j))]
    n_chunks = math.ceil(len(slots) / m)
    outputs = torch.zeros(rounds, length, values.shape[-1], dtype=torch.float64)
    z = torch.zeros(rounds, length, dtype=torch.float64)
    for s, i in enumerate(slots):
        window = [slots[t] for t in range(len(slots)) if (s // m - t // m) % n_chunks in (0, 1)]
        logits = torch.tensor(
            [-1e5 if j == i else -1e9 if causal and j > i else float(qk[i] @ keys[j]) for j in window],
            dtype=torch.float64,
        )
        outputs[s // length, i] = torch.softmax(logits, 0) @ values[window]
        z[s // length, i] = logits.logsumexp(0)
    return (torch.softmax(z, dim=0).unsqueeze(-1) * outputs).sum(0)


def full_attention_with_self_mask(qk: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """softmax(q·k̂ᵀ, diagonal −1e5) v from the dense kernel softmax(Q Kᵀ/√d + M) V, with K = √d·k̂."""
    d, length = qk.shape[-1], qk.shape[-2]
    self_mask = torch.diag(torch.full((length,), -1e5, dtype=qk.dtype))
    return scaled_dot_product_attention(qk, normalised_keys(qk) * math.sqrt(d), values, self_mask)[0]


# --- hashing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_buckets", [2, 8])
def test_bucket_is_the_argmax_over_the_rotated_vector_and_its_negation(n_buckets):
    config = LSHConfig(n_buckets=n_buckets, n_hashes=3, seed=5)
    x = random_head(20)[0]
    rotations = random_rotations(config, D_HEAD, dtype=torch.float64)
    assert rotations.shape == (D_HEAD, 3, n_buckets // 2)

    buckets = hash_buckets(x, rotations, config)

    assert buckets.shape == (3, 20)
    for r in range(3):
        rotated = x @ rotations[:, r, :]  # xR, (20, b/2)
        assert torch.equal(buckets[r], torch.cat([rotated, -rotated], dim=1).argmax(dim=1))


def test_factorised_buckets_combine_one_hash_per_factor():
    config = LSHConfig(n_buckets=(4, 6), n_hashes=2)
    x = random_head(30)[0]
    rotations = random_rotations(config, D_HEAD, dtype=torch.float64)  # (d, rounds, 4/2 + 6/2)
    first = hash_buckets(x, rotations[..., :2], LSHConfig(n_buckets=4, n_hashes=2))
    second = hash_buckets(x, rotations[..., 2:], LSHConfig(n_buckets=6, n_hashes=2))

    buckets = hash_buckets(x, rotations, config)

    assert torch.equal(buckets, first + 4 * second)
    assert config.total_buckets == 24 and 0 <= buckets.min() and buckets.max() < 24


def test_hash_depends_on_the_direction_only_and_opposite_vectors_fall_in_opposite_buckets():
    config = LSHConfig(n_buckets=8, n_hashes=4, seed=2)
    x = random_head(25)[0]
    rotations = random_rotations(config, D_HEAD, dtype=torch.float64)
    buckets = hash_buckets(x, rotations, config)

    assert torch.equal(hash_buckets(3.5 * x, rotations, config), buckets)
    assert torch.equal(hash_buckets(-x, rotations, config), (buckets + 4) % 8)


def test_the_same_seed_draws_the_same_rotations_and_another_seed_others():
    config = LSHConfig(n_buckets=8, n_hashes=2, seed=7)
    assert torch.equal(random_rotations(config, D_HEAD), random_rotations(config, D_HEAD))
    assert not torch.equal(random_rotations(config, D_HEAD), random_rotations(LSHConfig(8, 2, seed=8), D_HEAD))


def test_an_odd_bucket_count_is_refused():
    with pytest.raises(ValueError, match="even"):
        LSHConfig(n_buckets=(4, 5))


# --- sorting and chunking -----------------------------------------------------------------------------------


def test_sort_is_by_bucket_then_position():
    buckets = torch.tensor([[2, 0, 2, 1, 0], [0, 0, 1, 0, 1]])
    assert sort_order(buckets).tolist() == [[1, 4, 3, 0, 2], [0, 1, 3, 2, 4]]


def test_chunks_cut_the_rounds_laid_end_to_end():
    assert chunk_ids(6, LSHConfig(n_hashes=2, chunk_length=4)).tolist() == [[0, 0, 0, 0, 1, 1], [1, 1, 2, 2, 2, 2]]
    assert chunk_ids(6, LSHConfig(n_hashes=2, chunk_length=6)).tolist() == [[0] * 6, [0] * 6]  # L ≤ m: one chunk


def test_one_round_attends_exactly_to_its_chunk_and_the_one_before_it_but_not_to_itself():
    config = LSHConfig(n_buckets=4, chunk_length=4, seed=1)
    qk = random_head(16)[0]
    buckets = hashed(qk, config)
    chunk = torch.empty(16, dtype=torch.long)
    chunk[sort_order(buckets)[0]] = chunk_ids(16, config)[0]  # the chunk each token lands in; 4 chunks
    previous = (chunk.unsqueeze(1) - 1) % 4
    window = (chunk.unsqueeze(0) == chunk.unsqueeze(1)) | (chunk.unsqueeze(0) == previous)  # the first sees the last

    attention = effective_attention(qk, buckets, config)

    assert torch.equal(attention > 0, window & ~torch.eye(16, dtype=torch.bool))


# --- transformers' LSHSelfAttention as the oracle -----------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
@pytest.mark.parametrize("length, chunk_length, n_hashes", CASES)
def test_equals_transformers_given_the_same_buckets(length, chunk_length, n_hashes, causal, dtype):
    config = LSHConfig(n_buckets=4, n_hashes=n_hashes, chunk_length=chunk_length, causal=causal)
    layer = reformer_layer(config, dtype)
    hidden, qk, values = layer_inputs(layer, length, dtype)
    buckets = hashed(qk, config)  # (1, heads, rounds, L)

    with torch.no_grad():
        expected = layer(hidden, buckets=hf_buckets(buckets, config)).hidden_states

    outputs = merge_heads(lsh_attention(qk, values, buckets, config))
    assert torch.allclose(outputs, expected, atol=TOLERANCE[dtype], rtol=0)


@pytest.mark.parametrize("n_buckets", [8, (2, 4)], ids=["8-buckets", "2x4-buckets"])
@pytest.mark.parametrize("n_hashes", [1, 2, 4])
@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_equals_transformers_hashing_with_the_same_seed_in_float64(causal, n_hashes, n_buckets):
    config = LSHConfig(n_buckets=n_buckets, n_hashes=n_hashes, chunk_length=8, causal=causal, seed=11)
    layer = reformer_layer(config, torch.float64)
    hidden, qk, values = layer_inputs(layer, 32, torch.float64)
    buckets = hash_buckets(qk, random_rotations(config, D_HEAD, heads=(HEADS,), dtype=torch.float64), config)

    with torch.no_grad():
        expected = layer(hidden)  # HF draws its own rotations from hash_seed

    assert torch.equal(hf_buckets(buckets, config), expected.buckets.flatten(-2))
    assert torch.allclose(
        merge_heads(lsh_attention(qk, values, buckets, config)), expected.hidden_states, atol=1e-12, rtol=0
    )


# --- the definition, the dense kernel, causality ------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
def test_matches_the_definition_when_the_last_chunk_is_padded(causal):
    config = LSHConfig(n_buckets=4, n_hashes=3, chunk_length=4, causal=causal, seed=3)
    qk, values = random_head(10)  # 3 rounds · 10 tokens = 30 slots: seven chunks of 4 and one of 2
    buckets = hashed(qk, config)
    expected = lsh_by_definition(qk, values, buckets, config.chunk_length, causal)
    assert torch.allclose(lsh_attention(qk, values, buckets, config), expected, atol=1e-12, rtol=0)


def test_a_sequence_within_one_chunk_gets_full_attention_with_the_self_mask():
    config = LSHConfig(n_buckets=4, n_hashes=4, chunk_length=12)
    qk, values = random_head(12)
    buckets = hashed(qk, config)
    expected = full_attention_with_self_mask(qk, values)
    assert torch.allclose(lsh_attention(qk, values, buckets, config), expected, atol=1e-12, rtol=0)
    assert torch.allclose(effective_attention(qk, buckets, config), full_attention(qk), atol=1e-12, rtol=0)


def test_one_bucket_cut_into_two_chunks_is_full_attention_too():
    config = LSHConfig(n_buckets=2, chunk_length=8)
    qk, values = random_head(16)
    one_bucket = torch.zeros(1, 16, dtype=torch.long)  # two chunks, each looking back at the other
    expected = full_attention_with_self_mask(qk, values)
    assert torch.allclose(lsh_attention(qk, values, one_bucket, config), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("length", [24, 6])
def test_causal_output_at_t_does_not_change_when_later_inputs_change(length):
    """With the buckets held fixed; re-hashing moves chunk boundaries, so which earlier keys t sees could change."""
    config = LSHConfig(n_buckets=4, n_hashes=2, chunk_length=8, causal=True)
    qk, values = random_head(length)
    buckets = hashed(qk, config)
    t = length // 2
    later_qk, later_values = qk.clone(), values.clone()
    later_qk[t + 1 :], later_values[t + 1 :] = random_head(length - t - 1, seed=9)

    before = lsh_attention(qk, values, buckets, config)
    after = lsh_attention(later_qk, later_values, buckets, config)
    assert torch.equal(after[: t + 1], before[: t + 1])

    bidirectional = LSHConfig(n_buckets=4, n_hashes=2, chunk_length=8)  # the control: without the mask they change
    assert not torch.allclose(
        lsh_attention(later_qk, later_values, buckets, bidirectional)[: t + 1],
        lsh_attention(qk, values, buckets, bidirectional)[: t + 1],
    )


# --- the effective dense matrix and the quality measures ----------------------------------------------------


@pytest.mark.parametrize("n_hashes", [1, 4])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length", [32, 10])
def test_effective_attention_rows_are_distributions_that_reproduce_the_outputs(length, causal, n_hashes):
    config = LSHConfig(n_buckets=4, n_hashes=n_hashes, chunk_length=4, causal=causal)
    qk, values = random_head(length)
    buckets = hashed(qk, config)

    attention = effective_attention(qk, buckets, config)

    assert attention.shape == (length, length) and attention.min() >= 0
    # 1e-9, not 1e-15: a query that sees only itself in every round has z ≈ −1e5, where float64 keeps ~11 digits
    assert torch.allclose(attention.sum(-1), torch.ones(length, dtype=torch.float64), atol=1e-9, rtol=0)
    assert torch.allclose(attention @ values, lsh_attention(qk, values, buckets, config), atol=1e-12, rtol=0)
    if causal:
        assert attention.triu(1).abs().max() == 0


def test_mass_kept_and_top_k_recall_on_a_hand_made_case():
    full = torch.tensor([[0.0, 0.7, 0.3], [0.6, 0.0, 0.4], [0.2, 0.8, 0.0]])
    lsh = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])  # row 1 misses its strongest key
    assert mass_kept(full, lsh) == pytest.approx((0.7 + 0.4 + 1.0) / 3)
    assert top_k_recall(full, lsh, k=1) == pytest.approx(2 / 3)
    assert top_k_recall(full, lsh, k=2) == pytest.approx((1 / 2 + 1 / 2 + 2 / 2) / 3)


def test_lsh_keeps_all_the_mass_when_it_is_full_attention_and_less_when_it_is_sparse():
    qk = random_head(64)[0]
    full = full_attention(qk)
    whole = LSHConfig(n_buckets=2, chunk_length=64)
    sparse = LSHConfig(n_buckets=16, chunk_length=4)
    assert mass_kept(full, effective_attention(qk, hashed(qk, whole), whole)) == pytest.approx(1.0)
    assert top_k_recall(full, effective_attention(qk, hashed(qk, whole), whole), k=5) == 1.0
    assert mass_kept(full, effective_attention(qk, hashed(qk, sparse), sparse)) < 0.5
