"""The attention page, run from app.py by Streamlit's AppTest, with the interactions a user makes."""

import json
import re

import numpy as np
import pytest

from tests.app.apptest import array, chart, chart_keys, enter, open_app, rerun, use_model


@pytest.fixture
def app():
    return open_app()


def iframe_html(at) -> str:
    return at.get("iframe")[0].proto.srcdoc


def test_opens_with_an_example_already_run(app):
    assert app.sidebar.text_area(key="text").value.startswith("The animal")
    assert "animal" in iframe_html(app) and "vis" in iframe_html(app)
    overview, heatmap = chart(app, "overview"), chart(app, "heatmap")
    assert overview["data"][0]["type"] == "heatmap" and heatmap["data"][0]["type"] == "heatmap"
    assert not app.error


def test_typing_in_the_sidebar_updates_every_view(app):
    enter(app, text="Graphs connect words.", pair="Edges carry weights.")
    html = iframe_html(app)
    assert "Graphs" in html and "weights" in html
    heatmap = chart(app, "heatmap")
    assert "Edges" in json.dumps(heatmap["layout"]) or "Edges" in json.dumps(heatmap["data"])


def test_view_controls_change_the_graph(app):
    words_html = iframe_html(app)
    app.segmented_control(key="units").set_value("Tokens")
    app.toggle(key="hide_special").set_value(True)
    app.selectbox(key="layout").set_value("columns")
    app.selectbox(key="rule").set_value("top_k")
    rerun(app)
    app.slider(key="top_k").set_value(1)
    app.select_slider(key="head").set_value(5)
    app.slider(key="layer").set_value(2)
    rerun(app)
    html = iframe_html(app)
    assert html != words_html
    assert "[CLS]" not in html and "didn" in html  # tokens, special tokens hidden
    assert "Graph — layer 2, head 5" in html  # the graph's title, drawn in its canvas
    assert any("Heatmap — layer 2, head 5" in header.value for header in app.subheader)


def test_empty_text_asks_for_a_sentence(app):
    enter(app, text="   ")
    assert any("type a sentence" in info.value for info in app.info)
    assert not app.get("iframe")


def test_long_text_is_truncated_with_a_notice_and_the_graph_shows_the_focus_words_neighbourhood(app):
    enter(app, text="many words here " * 200)
    assert any("truncated" in warning.value for warning in app.warning)
    assert chart_keys(app)[-1].endswith("heatmap") and not any(key.endswith("importance") for key in chart_keys(app))
    captions = " ".join(caption.value for caption in app.caption)
    assert "neighbourhood of **many**" in captions and "edges shown" not in captions
    nodes = re.search(r"new vis\.DataSet\((\[.*?\])\)", iframe_html(app)).group(1)
    assert 3 <= len(json.loads(nodes)) <= 17  # the focus word and at most 8 + 8 neighbours, not 510 words
    app.selectbox(key="focus").set_value("here  (word 3)")
    rerun(app)
    assert "neighbourhood of **here**" in " ".join(caption.value for caption in app.caption)


def test_a_new_sentence_brings_its_own_focus_word(app):
    app.selectbox(key="focus").set_value("animal  (word 2)")  # in the example
    rerun(app)
    enter(app, text="My cat sat on the warm mat.")
    assert app.selectbox(key="focus").value == "My  (word 1)"
    enter(app, text="My cat sat on the mat because it was warm.")
    assert app.selectbox(key="focus").value == "My  (word 1)"  # an edit that keeps the word keeps the choice
    enter(app, text="The cat sat on the mat because it was warm.")
    assert app.selectbox(key="focus").value == "it  (word 8)"  # word 1 is another word now: the default again


def test_an_unreachable_model_is_explained_and_the_bundled_one_keeps_working(app):
    app.sidebar.selectbox(key="model_choice").set_value("Other (type a Hub id)…")
    rerun(app)
    assert not app.error  # an empty id keeps the bundled model, silently
    app.sidebar.text_input(key="custom_model").set_value("no-such-org/no-such-model")
    rerun(app)
    assert any("Showing the bundled model instead" in error.value for error in app.error)
    assert app.get("iframe")


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "<script>alert('x')</script> 私は今日東京に行く 🎉"])
def test_markup_and_odd_unicode_run_without_exception(app, text):
    enter(app, text=text)
    html = iframe_html(app)
    assert "<img src=x" not in html and "<script>alert" not in html


def test_examples_fill_the_sentence_boxes(app):
    app.sidebar.selectbox(key="example").set_value("Sentence pair")
    rerun(app)
    assert app.sidebar.text_input(key="pair").value == "A Transformer is a graph neural network."
    assert "neural" in json.dumps(chart(app, "heatmap"))  # the heatmap shows the second sentence


# Decoders: a local random GPT-2 and Llama folder, typed under "Other"

EDGE_TITLE = re.compile(r"\((\d+)\) \\u2192 [^(]*\((\d+)\): (\d\.\d+)")  # an edge's hover, "animal (2) → it (7): 0.432"


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_a_decoders_graph_points_back_and_its_heatmap_is_empty_above_the_diagonal(app, decoder_folders, family):
    use_model(app, str(decoder_folders[family]))
    app.select_slider(key="head").set_value(2)
    app.segmented_control(key="units").set_value("Tokens")
    app.selectbox(key="rule").set_value("all")
    rerun(app)
    assert not app.error
    edges = [(int(source), int(target)) for source, target, _ in EDGE_TITLE.findall(iframe_html(app))]
    assert edges and all(target <= source for source, target in edges)  # every edge to an earlier token
    assert any(target < source for source, target in edges)
    heatmap = np.array(array(chart(app, "heatmap")["data"][0]["z"]), dtype=float)
    upper = np.triu(np.ones(heatmap.shape, dtype=bool), k=1)
    assert np.isnan(heatmap[upper]).all() and not np.isnan(heatmap[~upper]).any()
    assert np.allclose(heatmap[~upper].reshape(-1).sum(), heatmap.shape[0], atol=1e-3)  # rows still sum to 1
    assert any("**decoder**" in caption.value for caption in app.caption)


def test_hiding_a_decoders_first_token_drops_the_sink_and_renormalises(app, decoder_folders):
    use_model(app, str(decoder_folders["gpt2"]))
    enter(app, text="Graphs connect words.", pair="")
    toggle = app.toggle(key="hide_special")
    assert toggle.label == "Hide the first token"
    before = chart(app, "heatmap")
    toggle.set_value(True)
    rerun(app)
    after = chart(app, "heatmap")
    assert before["data"][0]["y"][0].startswith("Graphs") and not after["data"][0]["y"][0].startswith("Graphs")
    weights = np.nan_to_num(np.array(array(after["data"][0]["z"]), dtype=float))
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-3)


def test_a_decoder_says_that_it_reads_the_second_sentence_appended(app, decoder_folders):
    use_model(app, str(decoder_folders["llama"]))
    enter(app, text="The cat sat.", pair="It slept.")
    assert any("the second sentence is appended" in caption.value for caption in app.caption)


def test_a_model_over_the_parameter_budget_is_refused_with_its_size_and_the_bundled_one_shown(
    monkeypatch, decoder_folders
):
    """The budget is checked on the config, before the weights (hosted, HOSTED_PARAMETER_BUDGET: the same path)."""
    import core.transformer.models

    monkeypatch.setattr(core.transformer.models, "PARAMETER_BUDGET", 50_000)
    at = open_app()
    use_model(at, str(decoder_folders["gpt2"]))
    assert any("parameters; this app loads models of up to 0.05 M" in error.value for error in at.error), at.error
    assert "Showing the bundled model instead" in at.error[0].value and "[CLS]" in iframe_html(at)


# Heads switched off, and how much each matters


def test_every_heads_importance_sits_under_the_overview_and_a_tile_matters_more_when_darker(app):
    importance = chart(app, "importance")
    values = array(importance["data"][0]["z"]).astype(float)
    tiles = values[::2, ::2]  # the mosaic puts a gap row and column between tiles
    assert tiles.shape == (6, 12) and np.nanmin(tiles) >= 0 and np.nanmax(tiles) > 0.01
    assert chart_keys(app).index(next(k for k in chart_keys(app) if k.endswith("importance"))) == 1
    assert any("Does the head matter?" in caption.value for caption in app.caption)


def test_a_pairs_importance_is_the_change_of_the_two_sentences_similarity(app):
    enter(app, text="A cat sat on the mat.", pair="A dog lay on the rug.")
    assert any("two sentences' similarity" in caption.value for caption in app.caption)


def test_switching_the_selected_head_off_changes_the_later_layers_and_back_on_restores_them(app):
    app.select_slider(key="head").set_value(5)
    app.slider(key="layer").set_value(2)
    rerun(app)
    app.slider(key="layer").set_value(3)  # a later layer: its attention reads layer 2's output
    rerun(app)
    intact = array(chart(app, "heatmap")["data"][0]["z"]).astype(float)
    app.slider(key="layer").set_value(2)
    rerun(app)
    app.button(key="toggle_head").click()
    rerun(app)
    assert app.multiselect(key="heads_off").value == ["L2 H5"]
    assert app.button(key="toggle_head").label == "Switch it back on"
    assert len(chart(app, "importance")["data"]) == 3  # the importance, the cross on L2 H5, the click markers
    app.slider(key="layer").set_value(3)
    rerun(app)
    ablated = array(chart(app, "heatmap")["data"][0]["z"]).astype(float)
    assert np.abs(ablated - intact).max() > 1e-3
    app.multiselect(key="heads_off").set_value([])
    rerun(app)
    assert np.allclose(array(chart(app, "heatmap")["data"][0]["z"]).astype(float), intact)


def test_a_pair_is_summarised_as_one_graph_from_sentence_b_to_sentence_a(app):
    enter(app, text="The cat sat on the mat.", pair="It was asleep.")
    summary = chart(app, "pair_summary_graph")
    labels = [text for trace in summary["data"] if trace.get("mode") == "markers+text" for text in trace["text"]]
    assert labels == ["It", "was", "asleep", ".", "The", "cat", "sat", "on", "the", "mat", "."]
    assert any(trace.get("mode") == "lines" for trace in summary["data"])
    app.segmented_control(key="pair_summary").set_value("Rollout")
    rerun(app)
    assert chart(app, "pair_summary_graph") != summary
    enter(app, pair="")
    assert not any(key.endswith("pair_summary_graph") for key in chart_keys(app))
