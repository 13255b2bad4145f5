"""The Transformer = GNN page, run from app.py by Streamlit's AppTest, with the interactions a user makes."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st

from core.analysis.corpus import load_bundled_sentences
from tests.app.apptest import array, chart, chart_keys, enter, open_app, rerun, use_model
from ui.gnn import select_mapped_head


@pytest.fixture
def page():
    return open_app("app_pages/gnn.py")


def test_page_recomputes_the_layer_and_shows_every_section(page):
    assert page.title[0].value == "Transformer = GNN"
    headers = [header.value for header in page.header]
    assert headers[:3] == ["Term by term", "Soft vs hard structure", "What each head looks at"]
    difference = page.metric[0].value
    match = re.fullmatch(r"max \|difference\| = (\S+)", difference)
    assert match and float(match.group(1)) < 1e-4
    for key in (
        "gnn_adjacency",
        "gnn_sweep",
        "gnn_heads",
        "gnn_rollout",
        "gnn_flow",
        "gnn_rnn",
        "gnn_sizes",
        "gnn_static",
    ):
        assert any(key in chart_id for chart_id in chart_keys(page)), key
    sweep = chart(page, "gnn_sweep")
    assert [trace["name"] for trace in sweep["data"]] == ["top-k", "threshold", "same LSH bucket"]
    assert max(array(trace["y"]).max() for trace in sweep["data"]) == pytest.approx(1.0, abs=1e-5)  # top-n keeps all
    assert any("0.000977" in metric.value for metric in page.metric)  # 0.5^10


def test_layer_slider_changes_the_recomputed_layer(page):
    page.slider(key="gnn_layer").set_value(6)
    rerun(page)
    assert page.metric[0].label.startswith("Layer 6")
    assert float(page.metric[0].value.split("=")[1]) < 1e-4
    page.slider(key="gnn_keep_rate").set_value(0.9)
    page.slider(key="gnn_distance").set_value(20)
    rerun(page)
    assert any(metric.value == f"{0.9**20:.3g}" for metric in page.metric)


def test_flow_for_the_whole_matrix_and_the_too_long_message(page):
    page.selectbox(key="gnn_flow_token").set_value("all (whole matrix)")
    rerun(page)
    flow = array(chart(page, "gnn_flow")["data"][0]["z"])
    assert flow.shape[0] == flow.shape[1] > 1
    np.testing.assert_allclose(flow.sum(axis=1), 1.0, atol=1e-6)
    page.sidebar.text_area(key="text").set_value(" ".join(["The animal crossed the wide street slowly."] * 6))
    rerun(page)
    assert any("too slow" in warning.value for warning in page.warning)
    assert any(toggle.key == "gnn_sweep_long" for toggle in page.toggle)  # the long sweep waits for a request


def test_corpus_statistics_run_on_request(page):
    page.select_slider(key="gnn_budget").set_value(5)
    rerun(page)
    page.button(key="gnn_run_corpus").click()
    rerun(page)
    assert any(re.search(r"Averaged over \d+ of \d+ sentences", caption.value) for caption in page.caption)
    assert any("gnn_corpus_heads" in chart_id for chart_id in chart_keys(page))


def test_model_sizes_sit_in_a_table_whose_columns_are_never_cut(page):
    assert not page.get("arrow_data_frame")  # a dataframe's grid cut its last column in the narrow column
    sizes = page.table[-1].value
    assert list(sizes.columns) == ["layers", "hidden size", "parameters (millions)"]
    assert sizes.loc["BERT-BASE", "parameters (millions)"] == pytest.approx(109.5, abs=0.05)
    assert sizes.loc["BERT-LARGE", "layers"] == 24


def test_entropy_and_rollout_versus_flow_are_explained_where_they_first_appear(page):
    heads = next(c.value for c in page.caption if "nats" in c.value)
    assert "natural logarithm" in heads and "ln 16 ≈ 2.8 for these 16 tokens" in heads
    assert "how spread out a head's attention is" in heads
    rollout_flow = next(c.value for c in page.caption if "Rollout" in c.value and "Flow" in c.value)
    assert rollout_flow.index("Rollout and flow answer one question") == 0
    assert "multiplied" in rollout_flow and "maximum flow" in rollout_flow


def test_presentation_mode_draws_the_figures_text_larger(page):
    usual = {key: chart(page, key)["layout"] for key in ("gnn_heads", "gnn_sizes", "gnn_rollout")}
    page.session_state["present"] = True
    rerun(page)
    for key, layout in usual.items():
        assert chart(page, key)["layout"]["font"]["size"] == 1.25 * layout["font"]["size"], key
    assert chart(page, "gnn_heads")["layout"]["xaxis"]["tickfont"]["size"] >= 13  # the panels' H1 … H12


def test_static_and_contextual_word_graphs(page):
    assert page.header[-1].value == "Static vs contextual word graphs"
    static = chart(page, "gnn_static")
    nodes = static["data"][-1]["text"]
    assert "animal" in nodes and "street" in nodes  # corpus words of the example sentence
    assert any("animal" in frame.proto.srcdoc for frame in page.get("iframe"))
    page.slider(key="gnn_static_threshold").set_value(1.0)
    rerun(page)
    assert len(chart(page, "gnn_static")["data"]) == 2  # no edge left: the midpoints and the nodes


@pytest.mark.parametrize("family, norm", [("gpt2", "LayerNorm"), ("llama", "RMSNorm")])
def test_a_decoder_layer_is_message_passing_on_its_causal_graphs(family, norm, decoder_folders):
    page = use_model(open_app("app_pages/gnn.py"), str(decoder_folders[family]))
    assert page.metric[0].label == "Layer 2 recomputed by message passing vs the decoder"
    assert float(page.metric[0].value.split("=")[1]) <= 1e-5
    explanation = " ".join(markdown.value for markdown in page.markdown)
    assert "A decoder layer is pre-norm" in explanation and f"**{norm}** here" in explanation
    assert "the tokens up to $i$ ($j \\le i$): a causal graph" in explanation  # the table's decoder column
    assert "every token: a complete graph" not in explanation
    assert any(r"\sum_{j \le i} A_h[i,j]\; x_j W_V^h" in latex.value for latex in page.latex)
    adjacency = array(chart(page, "gnn_adjacency")["data"][0]["z"])
    above = np.triu(np.ones(adjacency.shape, dtype=bool), k=1)
    assert np.isnan(adjacency[above]).all() and not np.isnan(adjacency[~above]).any()  # no edge from a later token
    np.testing.assert_allclose(adjacency[~above].reshape(-1)[:1], 1.0, atol=1e-6)  # token 0 reads only itself
    rollout = array(chart(page, "gnn_rollout")["data"][0]["z"])
    assert np.isnan(rollout[above]).all()
    np.testing.assert_allclose(np.nansum(rollout, axis=1), 1.0, atol=1e-5)
    sweep = chart(page, "gnn_sweep")  # the soft-vs-hard sweep runs the decoder too
    assert max(array(trace["y"]).max() for trace in sweep["data"]) == pytest.approx(1.0, abs=1e-5)
    titles = [annotation["text"] for annotation in chart(page, "gnn_heads")["layout"]["annotations"]]
    assert "to first token (sink)" in titles and "to previous token" in titles
    assert not any("[CLS]" in title or "[SEP]" in title or "next" in title for title in titles)
    assert any("the attention sink" in caption.value for caption in page.caption)
    assert "encoder" not in page.metric[0].help


def test_attribution_beside_rollout_adds_up_and_names_its_correlation(page):
    attribution = chart(page, "gnn_attribution_0")
    gradients, shares = attribution["data"]
    words = attribution["layout"]["yaxis"]["ticktext"]
    assert words[:3] == ["[CLS]", "The", "animal"] and "didn't" in words  # words in sentence order, as typed
    np.testing.assert_allclose(array(shares["x"]).sum(), 1.0, atol=1e-5)  # rollout shares of the pooled output
    text = next(caption.value for caption in page.caption if "Completeness" in caption.value)
    total, change = map(float, re.search(r"f\(baseline\): (\S+) vs (\S+) ", text).groups())
    assert array(gradients["x"]).sum() == pytest.approx(total, abs=5e-4)  # the bars are what the text adds up
    assert float(re.search(r"error (\S+) %", text).group(1)) <= 1.0
    assert total == pytest.approx(change, rel=0.01)
    rho = re.search(r"Spearman's ρ\*\* between attribution and rollout: \*\*(\S+)\*\* over the word tokens", text)
    assert -1 <= float(rho.group(1)) <= 1
    explanation = next(caption.value for caption in page.caption if "Integrated gradients" in caption.value)
    assert "[PAD]" in explanation and "Spearman" in explanation


def test_a_pair_is_attributed_one_sentence_at_a_time(page):
    enter(page, text="A man is playing a guitar.", pair="Someone plays an instrument.")
    first, second = chart(page, "gnn_attribution_0"), chart(page, "gnn_attribution_1")
    assert "guitar" in first["layout"]["yaxis"]["ticktext"] and "instrument" in second["layout"]["yaxis"]["ticktext"]
    texts = [caption.value for caption in page.caption if "Completeness" in caption.value]
    assert len(texts) == 2
    cosines = [float(re.search(r"\((-?\d\.\d+) − ", text).group(1)) for text in texts]
    assert cosines[0] == pytest.approx(cosines[1], abs=1e-3)  # both attribute the one cosine of A and B
    assert all(float(re.search(r"error (\S+) %", text).group(1)) <= 1.0 for text in texts)


def test_the_head_map_runs_on_request_and_a_click_opens_the_head(page):
    assert not any("gnn_head_map" in chart_id for chart_id in chart_keys(page))  # nothing runs unasked
    page.select_slider(key="gnn_budget").set_value(5)
    rerun(page)
    page.button(key="gnn_run_map").click()
    rerun(page)
    figure = chart(page, "gnn_head_map")
    heads = np.concatenate([array(trace["customdata"]) for trace in figure["data"] if trace.get("customdata")])
    assert len(heads) == 6 * 12 and len({tuple(head) for head in heads.tolist()}) == 72  # every head once, 1-based
    assert heads.min() == 1 and heads[:, 0].max() == 6 and heads[:, 1].max() == 12
    legend = [trace["name"] for trace in figure["data"]]
    assert "[CLS]/[SEP]" in legend and sum(name.startswith("cluster") for name in legend) == 4  # k = 4 by default
    offered = len(load_bundled_sentences())  # the chapter's sentences and WordNet's
    assert any(re.search(rf"72 heads over \d+ of {offered} sentences", caption.value) for caption in page.caption)
    page.slider(key="gnn_map_k").set_value(6)
    rerun(page)
    legend = [trace["name"] for trace in chart(page, "gnn_head_map")["data"]]
    assert sum(name.startswith("cluster") for name in legend) == 6
    page.session_state["layer"], page.session_state["head"] = 3, 7  # what a click on L3 H7 sets (test below)
    page.session_state["gnn_map_head"] = (3, 7)
    rerun(page)
    link = page.get("page_link")[0].proto
    assert link.label.startswith("Open L3 H7 (") and link.label.endswith(") on the attention page")
    assert chart(page, "gnn_head_map")["layout"]["annotations"][0]["text"] == "<b>L3 H7</b>"
    page.switch_page("app_pages/attention.py")
    rerun(page)
    assert page.slider(key="layer").value == 3 and page.session_state["head"] == 7


def test_a_click_on_the_head_map_selects_that_head(monkeypatch):
    state = {"map": SimpleNamespace(selection=SimpleNamespace(points=[{"point_index": 0, "customdata": [3, 7]}]))}
    monkeypatch.setattr(st, "session_state", state)
    select_mapped_head("map")
    assert (state["layer"], state["head"], state["gnn_map_head"]) == (3, 7, (3, 7))
    state = {"map": SimpleNamespace(selection=SimpleNamespace(points=[]))}  # a click beside the points
    monkeypatch.setattr(st, "session_state", state)
    select_mapped_head("map")
    assert list(state) == ["map"]


def test_a_decoder_says_why_it_has_no_attribution(decoder_folders):
    page = use_model(open_app("app_pages/gnn.py"), str(decoder_folders["gpt2"]))
    assert not any("gnn_attribution" in chart_id for chart_id in chart_keys(page))
    assert any("is a decoder: its output is the next word" in info.value for info in page.info)


def test_the_sentences_are_the_bundled_ones_your_file_or_both(page):
    """Bundled: the chapter's and WordNet's; your file or both: nothing runs until a file is uploaded."""
    assert page.button(key="gnn_run_map").label == f"Map the heads over {len(load_bundled_sentences())} sentences"
    for source in ("Your .txt file", "Both"):
        page.segmented_control(key="gnn_source").set_value(source)
        rerun(page)
        assert not [button for button in page.button if button.key in ("gnn_run_map", "gnn_run_corpus")]
        assert any("Upload a .txt file above" in info.value for info in page.info)
