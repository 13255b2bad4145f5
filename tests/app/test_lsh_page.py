"""The LSH page, run from app.py by Streamlit's AppTest (switched to app_pages/lsh.py), with a user's interactions."""

import dataclasses
import json

import numpy as np
import pytest

from tests.app.apptest import array, chart, open_app, rerun, use_model

TABS = {"buckets": "Buckets", "toy": "Hash", "quality": "Quality", "scaling": "Scaling"}


def open_tab(at, tab: str):
    at.session_state["lsh_tab"] = TABS[tab]
    return rerun(at)


@pytest.fixture
def app():
    return open_app("app_pages/lsh.py")


def test_the_bucket_view_hashes_the_example_head(app):
    headers = [h.value for h in app.subheader]
    assert headers[0].startswith("1 · Hash") and "graph of layer 4, head 2" in headers[-1]  # the example's head
    assert app.slider(key="lsh_layer").value == 4 and app.slider(key="lsh_head").value == 2
    buckets = array(chart(app, "lsh_buckets_fig")["data"][0]["z"])
    assert buckets.shape == (1, 16) and buckets.max() < 4  # 1 round, 16 tokens, 4 buckets
    assert "animal" in json.dumps(chart(app, "lsh_sorted"))
    assert len(app.get("iframe")) == 2  # full and LSH graph
    full_edges, lsh_edges = (
        int(m.value.split(": ")[1].split(" edges")[0].split()[-1]) for m in app.markdown if "edges," in m.value
    )
    assert full_edges == 16 * 15 and lsh_edges < full_edges
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Tokens L"] == "16" and metrics["Pairs computed"].endswith("of 240")
    assert not app.warning and not app.error
    assert not any("Reformer shares Q and K" in info.value for info in app.info)  # an encoder: nothing to add


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_a_decoders_queries_are_hashed_and_its_differences_from_reformer_said(family, decoder_folders):
    app = use_model(open_app("app_pages/lsh.py"), str(decoder_folders[family]))
    buckets = array(chart(app, "lsh_buckets_fig")["data"][0]["z"])
    n = buckets.shape[1]
    assert buckets.shape == (1, n) and buckets.max() < 4  # the decoder's queries, in 4 buckets
    assert len(app.get("iframe")) == 2
    note = next(info.value for info in app.info if "Reformer shares Q and K" in info.value)
    assert "separate ones" in note and "masks j > i inside each chunk" in note
    assert ("rotary rotation" in note) == (family == "llama")  # GPT-2 adds learned positions to its inputs
    own = array(chart(app, "lsh_model_heatmap")["data"][0]["z"])
    assert own.shape == (n, n) and np.isnan(own[np.triu_indices(n, k=1)]).all()  # the model's causal attention
    assert any("over the keys j ≤ i only (causal)" in m.value for m in app.markdown)
    assert not app.warning and not app.error


def test_the_tabs_are_plain_words_so_that_the_address_holds_one(app):
    assert [tab.label for tab in app.tabs] == list(TABS.values())
    assert all(label.isascii() and label.isalpha() for label in TABS.values())  # lsh_tab=Quality, no emoji
    open_tab(app, "quality")
    assert chart(app, "lsh_quality_sentence")


def test_shared_qk_is_explained_where_it_first_appears(app):
    first = next(c.value for c in app.caption if "shared-qk" in c.value.lower())
    assert "one vector that serves as both its query and its key" in first
    open_tab(app, "quality")
    assert any("each token's query is also its key" in m.value for m in app.markdown)


def test_presentation_mode_draws_the_figures_text_larger(app):
    usual = {key: chart(app, key)["layout"] for key in ("lsh_buckets_fig", "lsh_full_heatmap", "lsh_sizes")}
    app.session_state["present"] = True
    rerun(app)
    for key, layout in usual.items():
        presenting = chart(app, key)["layout"]
        assert presenting["font"]["size"] == 1.25 * layout["font"]["size"], key
    assert (
        chart(app, "lsh_full_heatmap")["layout"]["yaxis"]["tickfont"]["size"]
        > usual["lsh_full_heatmap"]["yaxis"]["tickfont"]["size"]
    )


def test_settings_change_the_hash_and_the_windows(app):
    app.select_slider(key="lsh_rounds").set_value(3)
    app.select_slider(key="lsh_buckets").set_value(8)
    rerun(app)
    assert array(chart(app, "lsh_buckets_fig")["data"][0]["z"]).shape == (3, 16)
    assert array(chart(app, "lsh_buckets_fig")["data"][0]["z"]).max() < 8
    sorted_view = json.dumps(chart(app, "lsh_sorted"))
    app.selectbox(key="lsh_focus").set_value(2)  # follow "animal"
    app.number_input(key="lsh_seed").set_value(5)
    rerun(app)
    assert json.dumps(chart(app, "lsh_sorted")) != sorted_view
    assert any("“animal” sees only the bright slots" in c.value for c in app.caption)
    app.toggle(key="lsh_centre").set_value(True)
    rerun(app)
    assert any("centred queries" in c.value for c in app.caption)
    app.slider(key="lsh_chunk").set_value(16)
    rerun(app)
    assert any("fit in one chunk" in info.value for info in app.info)
    assert app.get("iframe")


def test_the_head_chosen_here_is_the_head_of_the_attention_page(app):
    app.slider(key="lsh_layer").set_value(5)
    app.slider(key="lsh_head").set_value(7)
    rerun(app)
    app.switch_page("app_pages/attention.py")
    rerun(app)
    assert any("Graph — layer 5, head 7" in frame.proto.srcdoc for frame in app.get("iframe"))  # its title


def test_an_example_from_the_sidebar_brings_its_head(app):
    app.slider(key="lsh_head").set_value(9)
    rerun(app)
    app.sidebar.selectbox(key="example").set_value("Sentence pair")  # layer 2, mean of the heads
    rerun(app)
    assert app.slider(key="lsh_layer").value == 2 and app.slider(key="lsh_head").value == 9
    assert array(chart(app, "lsh_buckets_fig")["data"][0]["z"]).shape[1] > 16  # the pair's tokens
    app.sidebar.selectbox(key="example").set_value("Agreement across a clause")  # layer 4, head 2
    rerun(app)
    assert (app.slider(key="lsh_layer").value, app.slider(key="lsh_head").value) == (4, 2)


def test_the_toy_hash_draws_new_rotations_on_a_click(app):
    open_tab(app, "toy")
    before = chart(app, "toy_figure")
    assert sum(1 for trace in before["data"] if trace.get("mode") == "markers") == 2  # 2 rounds by default
    app.button(key="toy_new").click()
    rerun(app)
    after = chart(app, "toy_figure")
    assert json.dumps(after["data"]) != json.dumps(before["data"])
    assert any("seed 1" in m.value for m in app.markdown)
    app.segmented_control(key="toy_rounds").set_value(3)
    rerun(app)
    assert sum(1 for trace in chart(app, "toy_figure")["data"] if trace.get("mode") == "markers") == 3
    assert chart(app, "toy_collisions")["data"]


def test_quality_live_for_the_sentence_and_on_synthetic_sequences(app):
    open_tab(app, "quality")
    sentence = chart(app, "lsh_quality_sentence")
    assert {trace["name"] for trace in sentence["data"]} >= {"2 buckets", "16 buckets", "random keys, as many"}
    app.segmented_control(key="lsh_kind").set_value("clusters")
    app.select_slider(key="lsh_length").set_value(256)
    app.slider(key="lsh_k").set_value(2)
    rerun(app)
    synthetic = chart(app, "lsh_quality_synthetic")
    assert "top-2 recall (%)" in json.dumps(synthetic["layout"])
    assert any("256 random 64-dimensional queries" in c.value for c in app.caption)
    assert not app.warning  # the sweep finished within its cap


def test_scaling_reads_the_shipped_table_and_runs_a_small_live_benchmark(app):
    open_tab(app, "scaling")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Longest input in 4 GiB"] == "524,288 vs 16,384"
    assert any("tens of times more words”: checked" in s.value and "32×" in s.value for s in app.success)
    app.select_slider(key="lsh_budget").set_value(256)
    app.select_slider(key="lsh_live_longest").set_value(512)
    app.checkbox(key="lsh_live_memory").uncheck()
    rerun(app)
    assert any("In **256 MiB**" in m.value for m in app.markdown)
    app.button(key="lsh_live_run").click()
    rerun(app)
    time_figure = chart(app, "lsh_time")
    assert [t["name"] for t in time_figure["data"]][-2:] == ["full, measured now", "LSH, measured now"]
    assert any("Measured now: 2 lengths" in c.value for c in app.caption)


def test_a_model_without_query_vectors_gets_a_message_and_the_other_tabs_work(app, bundled_model, monkeypatch):
    import ui.analysis

    result = bundled_model.analyse("Fallback models keep no queries.")
    monkeypatch.setattr(
        ui.analysis, "cached_analysis", lambda *args: dataclasses.replace(result, queries=None, keys=None, values=None)
    )
    rerun(app)
    assert any("cannot be hashed here" in w.value for w in app.warning)
    assert not app.get("plotly_chart")
    open_tab(app, "toy")
    assert chart(app, "toy_figure")
    open_tab(app, "quality")
    assert any("cannot be hashed here" in w.value for w in app.warning)
    assert chart(app, "lsh_quality_synthetic")  # the synthetic sweep needs no model


def test_empty_text_asks_for_a_sentence_and_markup_stays_text(app):
    app.sidebar.text_area(key="text").set_value("   ")
    rerun(app)
    assert any("hash its heads" in info.value for info in app.info)
    app.sidebar.text_area(key="text").set_value("<img src=x onerror=alert(1)> is <b>bold</b>")
    rerun(app)
    spec = json.dumps(chart(app, "lsh_buckets_fig"))
    assert "&lt;" in spec and "alert" in spec and "<b>" not in spec  # the tokens: <, im, ##g, …, alert, …
    assert "<img" not in "".join(frame.proto.srcdoc for frame in app.get("iframe"))
