"""The attention page, run from app.py by Streamlit's AppTest, with the interactions a user makes."""

import json
import re

import pytest

from tests.app.apptest import enter, open_app, rerun


@pytest.fixture
def app():
    return open_app()


def iframe_html(at) -> str:
    return at.get("iframe")[0].proto.srcdoc


def plotly_specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_opens_with_an_example_already_run(app):
    assert app.sidebar.text_area(key="text").value.startswith("The animal")
    assert "animal" in iframe_html(app) and "vis" in iframe_html(app)
    overview, heatmap = plotly_specs(app)
    assert overview["data"][0]["type"] == "heatmap" and heatmap["data"][0]["type"] == "heatmap"
    assert not app.error


def test_typing_in_the_sidebar_updates_every_view(app):
    enter(app, text="Graphs connect words.", pair="Edges carry weights.")
    html = iframe_html(app)
    assert "Graphs" in html and "weights" in html
    heatmap = plotly_specs(app)[1]
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
    assert len(plotly_specs(app)) == 2
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
    assert "neural" in json.dumps(plotly_specs(app)[1])  # the heatmap shows the second sentence
