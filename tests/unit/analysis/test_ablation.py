"""Head ablation equals switching the head off inside transformers' own BertModel (a hook that zeroes the head's
slice of the self-attention output, where transformers' former head_mask acted), within 1e-5."""

import pytest
import torch
import torch.nn.functional as F

from core.analysis.ablation import (
    embeddings_with_heads,
    head_importance,
    mean_pooled_embedding,
    single_head_embeddings,
    single_head_masks,
)

SENTENCE = "The animal didn't cross the street because it was too tired."


def reference_embedding(hf_model, input_ids, switched_off: list[tuple[int, int]]) -> torch.Tensor:
    """transformers' BertModel with heads (layer, head) zeroed by forward hooks, mean-pooled and normalised."""
    head_size = hf_model.config.hidden_size // hf_model.config.num_attention_heads
    hooks = []
    for layer, head in switched_off:

        def zero_head(module, inputs, output, head=head):
            context, weights = output
            context = context.clone()
            context[..., head * head_size : (head + 1) * head_size] = 0
            return context, weights

        hooks.append(hf_model.encoder.layer[layer].attention.self.register_forward_hook(zero_head))
    try:
        with torch.no_grad():
            hidden = hf_model(input_ids).last_hidden_state
    finally:
        for hook in hooks:
            hook.remove()
    return F.normalize(hidden.mean(dim=1), dim=-1)[0]


def test_the_embedding_is_sentence_transformers_mean_pooling_of_the_last_layer(bundled_model, hf_bundled):
    input_ids = torch.tensor([bundled_model.tokenize(SENTENCE).input_ids])
    ours = mean_pooled_embedding(bundled_model.network(input_ids).hidden_states[-1])[0]
    assert torch.allclose(ours, reference_embedding(hf_bundled, input_ids, []), atol=1e-6)
    assert ours.norm() == pytest.approx(1.0, abs=1e-6)


def test_padding_is_left_out_of_the_mean():
    hidden = torch.tensor([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]])
    assert torch.allclose(mean_pooled_embedding(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[1.0, 0.0]]))


def test_mask_rows_keep_everything_then_switch_off_one_head_each():
    masks = single_head_masks(2, 3)
    assert masks.shape == (7, 2, 3)
    assert masks[0].all()
    assert [tuple(torch.nonzero(mask == 0)[0].tolist()) for mask in masks[1:]] == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert (masks[1:] == 0).sum(dim=(1, 2)).eq(1).all()


@pytest.mark.parametrize("switched_off", [[(0, 0)], [(3, 1)], [(5, 11)], [(1, 4), (4, 7)]])
def test_switching_heads_off_equals_transformers_with_those_heads_zeroed(bundled_model, hf_bundled, switched_off):
    input_ids = torch.tensor([bundled_model.tokenize(SENTENCE).input_ids])
    mask = torch.ones(1, 6, 12)
    for layer, head in switched_off:
        mask[0, layer, head] = 0
    ours = embeddings_with_heads(bundled_model.network, input_ids, mask)[0]
    expected = reference_embedding(hf_bundled, input_ids, switched_off)
    assert (ours - expected).abs().max() <= 1e-5
    intact = reference_embedding(hf_bundled, input_ids, [])
    assert (ours - intact).abs().max() > 1e-4  # switching a head off moves the embedding: the comparison can fail


def test_importance_of_every_head_equals_one_ablation_at_a_time(bundled_model, hf_bundled):
    input_ids = torch.tensor([bundled_model.tokenize(SENTENCE).input_ids])
    importance = head_importance(bundled_model.network, input_ids)
    assert importance.shape == (6, 12) and (importance >= -1e-6).all()
    intact = reference_embedding(hf_bundled, input_ids, [])
    for layer, head in [(0, 0), (2, 5), (5, 11)]:
        expected = 1 - reference_embedding(hf_bundled, input_ids, [(layer, head)]) @ intact
        assert importance[layer, head] == pytest.approx(float(expected), abs=1e-5)


def test_chunked_passes_give_the_same_importance(bundled_model, monkeypatch):
    """Forward passes split to keep the attention maps within the budget change nothing."""
    import core.analysis.ablation

    input_ids = torch.tensor([bundled_model.tokenize(SENTENCE).input_ids])
    whole = head_importance(bundled_model.network, input_ids)
    monkeypatch.setattr(core.analysis.ablation, "ABLATION_BUDGET_BYTES", 1)  # one copy a pass
    assert torch.allclose(head_importance(bundled_model.network, input_ids), whole, atol=1e-6)


def test_a_decoders_heads_can_be_switched_off_too(decoder_folders):
    from core.transformer.models import load_model

    network = load_model(str(decoder_folders["llama"])).network
    importance = head_importance(network, torch.arange(3, 20)[None])
    assert importance.shape == (2, 4) and (importance > 0).all()


@pytest.mark.parametrize("budget", [None, 1])
def test_single_head_embeddings_equal_every_mask_run_from_the_embeddings_up(bundled_model, monkeypatch, budget):
    """Starting each layer's copies from that layer's intact input (and in chunks of one copy) changes nothing."""
    import core.analysis.ablation

    tokenized = bundled_model.tokenize(SENTENCE, "A second sentence.")
    input_ids, segments = torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids])
    every_layer = embeddings_with_heads(bundled_model.network, input_ids, single_head_masks(6, 12), segments)
    if budget is not None:
        monkeypatch.setattr(core.analysis.ablation, "ABLATION_BUDGET_BYTES", budget)
    shared = single_head_embeddings(bundled_model.network, input_ids, segments)
    assert shared.shape == (73, 384)
    assert (shared - every_layer).abs().max() <= 1e-6


def test_single_head_embeddings_on_a_decoder(decoder_folders):
    from core.transformer.models import load_model

    network = load_model(str(decoder_folders["gpt2"])).network
    input_ids = torch.arange(3, 20)[None]
    every_layer = embeddings_with_heads(network, input_ids, single_head_masks(2, 4))
    assert (single_head_embeddings(network, input_ids) - every_layer).abs().max() <= 1e-6
