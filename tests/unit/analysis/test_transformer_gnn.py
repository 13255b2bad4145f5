"""A layer recomputed as graph-convolution message passing (eq. 2.1) over its attention graphs equals the network's
own layer within 1e-5: an encoder's (the bundled MiniLM, a small random BERT) on complete graphs, a decoder's (random
GPT-2, Llama, Qwen2) on causal ones."""

import pytest
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertModel

from core.analysis.transformer_gnn import attention_graphs, layer_as_message_passing, value_convolution
from core.transformer.encoder import Encoder, EncoderConfig
from core.transformer.models import load_model
from core.transformer.random_checkpoints import FAMILIES

TOLERANCE = 1e-5
SENTENCE = "The animal didn't cross the street because it was too tired."


@pytest.fixture(scope="module")
def small_bert():
    """A random 2-layer, 4-head BERT (hidden 32) as the core encoder, and transformers' model with its weights."""
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=16,
    )
    model = BertModel(config, add_pooling_layer=False).eval()
    return Encoder(EncoderConfig.from_dict(config.to_dict()), model.state_dict()), model


def test_every_layer_of_the_bundled_model_is_message_passing_over_its_attention(bundled_model):
    result = bundled_model.analyse(SENTENCE)
    for layer in range(result.num_layers):
        graphs = attention_graphs(bundled_model.network, layer, result.hidden_states[layer])
        recomputed = layer_as_message_passing(bundled_model.network, graphs)
        assert recomputed.max_difference <= TOLERANCE
        assert (recomputed.output - torch.from_numpy(result.hidden_states[layer + 1])).abs().max() <= TOLERANCE


def test_a_random_bert_layer_by_layer_equals_transformers(small_bert):
    encoder, model = small_bert
    input_ids = torch.tensor([[2, 17, 5, 33, 8, 41, 3]])
    with torch.no_grad():
        reference = model(input_ids, output_hidden_states=True).hidden_states  # embeddings, then each layer
    nodes = reference[0][0]
    for layer in range(encoder.config.num_layers):
        nodes = layer_as_message_passing(encoder, attention_graphs(encoder, layer, nodes)).output
        assert (nodes - reference[layer + 1][0]).abs().max() <= TOLERANCE


def test_the_message_on_edge_j_to_i_is_the_attention_weight_times_the_value_projection(small_bert):
    encoder, _ = small_bert
    nodes = torch.randn(5, 32, generator=torch.Generator().manual_seed(1))
    graphs = attention_graphs(encoder, 1, nodes)
    steps = layer_as_message_passing(encoder, graphs).heads[2]
    weight, bias = encoder.layers[1]["value"]
    values = F.linear(nodes, weight, bias)[:, 16:24]  # head 2 of 4, head size 8: h_j W_V^h + b_V^h
    for (j, i), message in zip(steps.edge_index.T, steps.messages):
        assert torch.allclose(message, graphs.attention[2, i, j] * (values[j] - bias[16:24]), atol=1e-6)
    assert torch.allclose(steps.output, graphs.attention[2] @ values, atol=1e-6)  # Σ_j a_ij v_j: attention's output
    assert steps.edge_index.shape[1] == 25  # the complete graph, self-loops included


def test_the_value_projection_of_a_head_is_the_convolution_weight_and_bias(small_bert):
    encoder, _ = small_bert
    convolution = value_convolution(encoder, 0, 3)
    weight, bias = encoder.layers[0]["value"]
    assert convolution.normalization == "none"
    assert torch.equal(convolution.weight, weight[24:32].T) and torch.equal(convolution.bias, bias[24:32])


def test_message_passing_over_another_graph_moves_the_output(small_bert):
    encoder, _ = small_bert
    graphs = attention_graphs(encoder, 0, torch.randn(6, 32, generator=torch.Generator().manual_seed(2)))
    self_loops_only = torch.eye(6).expand(4, 6, 6)
    recomputed = layer_as_message_passing(encoder, graphs, self_loops_only)
    assert torch.equal(recomputed.adjacency, self_loops_only)
    assert recomputed.max_difference > 1e-2


@pytest.mark.parametrize("family", FAMILIES)
def test_every_decoder_layer_is_message_passing_over_its_causal_attention(family, decoder_folders):
    model = load_model(str(decoder_folders[family]))
    result = model.analyse(SENTENCE)
    n = len(result.tokenized)
    later = torch.ones(n, n, dtype=torch.bool).triu(1)  # key j > query i
    for layer in range(result.num_layers):
        graphs = attention_graphs(model.network, layer, result.hidden_states[layer])
        recomputed = layer_as_message_passing(model.network, graphs)
        assert recomputed.max_difference <= TOLERANCE
        assert (recomputed.output - torch.from_numpy(result.hidden_states[layer + 1])).abs().max() <= TOLERANCE
        assert (graphs.attention[:, later] == 0).all() and (graphs.attention[:, ~later] > 0).all()
        for steps in recomputed.heads:  # messages run only from a token to itself and the tokens after it
            source, target = steps.edge_index
            assert (source <= target).all() and steps.edge_index.shape[1] == n * (n + 1) // 2


def test_a_decoder_head_reads_the_normalised_stream_not_the_stream(decoder_folders):
    decoder = load_model(str(decoder_folders["llama"])).network
    nodes = torch.randn(5, decoder.config.hidden_size, generator=torch.Generator().manual_seed(3))
    graphs = attention_graphs(decoder, 0, nodes)
    normalised = nodes * torch.rsqrt(nodes.pow(2).mean(-1, keepdim=True) + decoder.config.norm_eps)
    assert torch.allclose(graphs.attention_input, normalised * decoder.layers[0]["attention_norm"][0], atol=1e-6)
    weight, _ = decoder.value_projection(0, 3)  # query head 3 of 4 shares the one key/value head
    head = layer_as_message_passing(decoder, graphs).heads[3]
    assert torch.allclose(head.output, graphs.attention[3] @ (graphs.attention_input @ weight.T), atol=1e-5)
