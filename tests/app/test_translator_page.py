"""The small-Transformer page, run from app.py by Streamlit's AppTest (switched to app_pages/translator.py)."""

import pytest
from streamlit.testing.v1 import AppTest

from core.translation.attention_model import TRANSLATOR_NAME
from tests.app.apptest import chart, open_app, rerun
from tests.conftest import ROOT


@pytest.fixture
def app():
    return open_app("app_pages/translator.py")


def title(at, key: str) -> str:
    return chart(at, key)["layout"]["title"]["text"]


def test_the_page_opens_on_the_chapters_sentence_translated_with_its_alignment(app):
    assert app.text_input(key="ja_text").value == "私 は 今日 東京 に 行く"
    assert any(markdown.value == "### → I go to Tokyo today" for markdown in app.markdown)
    edges = [trace for trace in chart(app, "tr_alignment")["data"] if "→" in (trace.get("hovertemplate") or "")]
    assert edges and any(trace["hovertemplate"].startswith("Tokyo → 東京") for trace in edges)
    assert not app.warning and not app.error


def test_a_sentence_without_spaces_in_the_other_order_translates_the_same(app):
    app.text_input(key="ja_text").set_value("今日私は東京に行く")
    rerun(app)
    assert any(markdown.value == "### → I go to Tokyo today" for markdown in app.markdown)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no text"),
        ("私 は 明日 パリ に 行く", "“パリ” (at character 8) is not a word this model knows. It knows: "),
        ("I go to Tokyo", "“I”"),
        ("私 は 🎉 に 行く", "🎉"),
        ("<script>alert(1)</script>私", "<script>alert(1)</script>"),
        (" ".join(["私 は 今日 東京 に 行く"] * 3), "The sentence has 18 words; this model reads at most 16."),
    ],
)
def test_empty_or_unknown_words_get_a_message_and_the_page_goes_on(app, text, message):
    app.text_input(key="ja_text").set_value(text)
    rerun(app)
    assert any(message in info.value for info in app.info)
    assert chart(app, "tr_curve")  # the sections below still draw


def test_the_training_step_replays_the_snapshot_of_that_step(app):
    steps = app.select_slider(key="tr_step").options
    assert title(app, "tr_snapshot").startswith(f"Step {steps[-1]}")
    app.select_slider(key="tr_step").set_value(steps[0])
    rerun(app)
    assert title(app, "tr_snapshot").startswith(f"Step {steps[0]}")
    curve = chart(app, "tr_curve")
    assert curve["layout"]["shapes"][0]["x0"] == int(steps[0])


def test_the_mean_of_the_heads_can_be_drawn(app):
    app.session_state["tr_head"] = "mean"
    rerun(app)
    assert "mean of the heads" in title(app, "tr_alignment")


def button(at, label: str):
    return next(widget for widget in at.button if widget.label == label)


def test_train_again_trains_live_and_back_returns_to_the_shipped_model(app):
    next(widget for widget in app.number_input if widget.label == "Steps").set_value(100)
    button(app, "Train again").click()
    rerun(app)
    assert any("in this session" in caption.value for caption in app.caption)
    button(app, "Back to the shipped model").click()
    rerun(app)
    assert any("(the shipped model)" in caption.value for caption in app.caption)


@pytest.mark.parametrize("page", ["app_pages/attention.py", "app_pages/lsh.py", "app_pages/gnn.py"])
def test_chosen_in_the_sidebar_it_reads_the_chapters_sentence_and_every_page_reads_its_encoder_or_says_why_not(page):
    at = open_app(page)
    at.sidebar.selectbox(key="model_choice").set_value(TRANSLATOR_NAME)  # with the English example in the box
    rerun(at)
    assert at.sidebar.text_area(key="text").value == "私 は 今日 東京 に 行く"
    if page.endswith("gnn.py"):
        assert any("encoder–decoder with a page of its own" in info.value for info in at.info)
    else:
        assert "今日" in "".join(element.proto.spec for element in at.get("plotly_chart"))
    assert not at.error


def test_opened_from_a_link_with_english_text_it_names_what_it_knows_and_offers_the_chapters_sentence():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["model_choice"] = TRANSLATOR_NAME
    rerun(at)
    assert any("is not a word this model knows" in info.value for info in at.info)  # the English example
    button(at, "Use the chapter's sentence, 私 は 今日 東京 に 行く").click()
    rerun(at)
    assert at.sidebar.text_area(key="text").value == "私 は 今日 東京 に 行く"
    assert not at.error
