"""The station-congestion page, run from app.py by Streamlit's AppTest: the map before training, training with a
small number of epochs, the results, what-ifs, the receptive field, and uploads (malformed, and with markup)."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from core.railway.network import load_bundled_network
from tests.app.apptest import chart, open_app, rerun
from tests.conftest import ROOT

PAGE = "app_pages/stations.py"
BUNDLED = ROOT / "assets" / "railway"
FAST = {"stations_epochs": 10, "stations_days": 60}  # about a second of training


@pytest.fixture
def page():
    return open_app(PAGE)


def within(station: str, hops: int) -> int:
    """How many bundled stations lie within ``hops`` links of ``station`` (itself included), by networkx."""
    graph = load_bundled_network().to_networkx()
    return len(nx.single_source_shortest_path_length(graph, station, cutoff=hops))


def station_trace(spec: dict) -> dict:
    return next(trace for trace in spec["data"] if trace.get("name") == "stations")


def train(at, **settings):
    for key, value in {**FAST, **settings}.items():
        at.slider(key=key).set_value(value)
    at.button(key="stations_train").click()
    return rerun(at)


def upload(at, stations: bytes, links: bytes, names=("stations.csv", "links.csv")):
    at.file_uploader(key="stations_csv").set_value((names[0], stations, "text/csv"))
    at.file_uploader(key="links_csv").set_value((names[1], links, "text/csv"))
    return rerun(at)


def test_before_training_the_map_shows_the_simulators_crowding(page):
    headers = [header.value for header in page.header]
    assert headers == [
        "The network on one day",
        "Train the models",
        "Receptive field: what a k-layer GCN can see",
        "Kipf's moment: structure before any training",
    ]
    spec = chart(page, "stations_map")
    stations = station_trace(spec)
    assert stations["marker"]["colorbar"]["title"]["text"] == "crowding (%)"
    assert "Shibuya" in stations["text"] and len(stations["text"]) == 37
    assert {trace["name"] for trace in spec["data"] if trace.get("mode") == "lines"} >= {"Yamanote", "Chuo Rapid"}
    assert any("Train the models" in info.value for info in page.info)
    assert page.segmented_control(key="stations_colour").options == ["Simulator (truth)"]
    for key in ("stations_field", "stations_spread", "stations_kipf_railway", "stations_kipf_karate"):
        chart(page, key)
    assert not page.error


def test_train_then_results_then_what_if_then_a_malformed_upload(page):
    train(page)
    assert any("Trained in" in success.value for success in page.success)
    results = chart(page, "stations_results")
    cells = json.dumps(results["data"][0]["text"], ensure_ascii=False)
    assert "n/a" in cells and "R²" in cells  # the ridge cannot answer unseen stations
    assert "-" not in cells  # a negative R² reads with a minus sign
    reading = " ".join(markdown.value for markdown in page.markdown)
    assert "Negative control" in reading and "graph is not magic" in reading
    assert "Unseen stations" in reading and "A link closed" in reading
    chart(page, "stations_loss")

    # what-if: a concert at Shibuya, the Shinjuku–Yoyogi link closed, the map coloured by the GCN + skip
    page.segmented_control(key="stations_colour").set_value("gcn_skip")
    page.button(key="stations_concert").click()
    rerun(page)
    closing = page.multiselect(key="stations_close")
    shinjuku_yoyogi = next(i for i, label in enumerate(closing.options) if label == "Shinjuku – Yoyogi")
    closing.set_value([shinjuku_yoyogi])
    rerun(page)
    spec = chart(page, "stations_map")
    assert any(trace.get("name") == "closed link" for trace in spec["data"])
    stations = station_trace(spec)
    assert "Shibuya ×3" in stations["text"]
    assert "simulator (truth)" in stations["hovertext"][0]  # a prediction, with the truth on hover
    change = chart(page, "stations_change")
    assert [bar["name"] for bar in change["data"]] == ["simulator (truth)", "GCN + skip", "GCN", "MLP"]
    assert any("Biggest change" in metric.label for metric in page.metric)

    # back to normal
    page.button(key="stations_reset").click()
    rerun(page)
    assert not any(trace.get("name") == "closed link" for trace in chart(page, "stations_map")["data"])

    # a malformed upload: a clear message naming file and row; the bundled network and the trained models stay
    akihabara = "JY03,Akihabara,秋葉原,".encode()
    stations_csv = (BUNDLED / "stations.csv").read_bytes().replace(akihabara + b"0.54", akihabara + b"east")
    upload(page, stations_csv, (BUNDLED / "links.csv").read_bytes(), names=("my-stations.csv", "my-links.csv"))
    error = " ".join(e.value for e in page.error)
    assert "could not be used" in error and "my\\-stations\\.csv, row 4" in error and "not a number" in error
    assert "bundled Tokyo network" in error
    assert len(station_trace(chart(page, "stations_map"))["text"]) == 37
    assert page.segmented_control(key="stations_colour").options[1] == "GCN + skip"  # still trained
    page.slider(key="stations_depth").set_value(3)
    rerun(page)
    assert page.metric[0].value == f"{within('JY20', 3)} of 37"


def test_a_network_that_disconnects_is_refused_with_the_reason(page):
    links = b"source,target,km\nA,B,1\nC,D,1\n"
    stations = b"id,name_en,x,y,daily_boardings\nA,Alpha,0,0,10\nB,Beta,1,0,10\nC,Gamma,2,0,10\nD,Delta,3,0,10\n"
    upload(page, stations, links)
    assert any("disconnected" in error.value for error in page.error)
    assert len(station_trace(chart(page, "stations_map"))["text"]) == 37


def test_an_uploaded_network_with_markup_in_its_names_is_drawn_as_text(page):
    stations = (
        "id,name_en,name_ja,x,y,daily_boardings\n"
        "A,<img src=x onerror=alert(1)>,<b>駅</b>,0,0,100000\n"
        "B,<script>alert(2)</script>,,1,0,50000\n"
        "C,Gamma,,2,1,80000\n"
        "D,[link](http://example.com),,1,2,60000\n"
        "E,Epsilon,,0,1,30000\n"
        "F,Zeta,,2,2,20000\n"
    ).encode()
    links = (
        b"source,target,km,lines\nA,B,1,<i>Red</i>\nB,C,1,Red\nC,D,1,Blue\nD,E,1,Blue\nE,A,1,Red\nD,F,1,Blue\n"
        b"C,F,1,Blue\n"
    )
    upload(page, stations, links)
    assert not page.error
    assert any("your network" in caption.value for caption in page.caption)
    spec = chart(page, "stations_map")
    drawn = json.dumps(spec)
    assert "<img src=x" not in drawn and "<script>" not in drawn and "<i>Red" not in drawn and "<b>駅" not in drawn
    assert "&lt;img src=x onerror=alert(1)&gt;" in station_trace(spec)["text"]
    train(page, stations_days=60, stations_epochs=10)
    assert any("Trained in" in success.value for success in page.success)
    assert "link closed" in json.dumps(chart(page, "stations_results"))  # a closable link was found
    page.segmented_control(key="stations_colour").set_value("gcn")
    page.multiselect(key="stations_raise").set_value([0])
    rerun(page)
    assert "&lt;img src=x onerror=alert(1)&gt; ×2" in station_trace(chart(page, "stations_map"))["text"]
    assert "<img" not in json.dumps(chart(page, "stations_change"))


def closed_on_the_map(at) -> int:
    """How many closed links the map draws (dotted segments, each ended by None)."""
    dotted = [trace for trace in chart(at, "stations_map")["data"] if trace.get("name") == "closed link"]
    return dotted[0]["x"].count(None) if dotted else 0


def test_a_link_that_would_cut_a_station_off_stays_open_and_leaves_the_box_with_the_reason(page):
    closing = page.multiselect(key="stations_close")
    around_takanawa = [i for i, label in enumerate(closing.options) if "Takanawa Gateway" in label]
    assert len(around_takanawa) == 2
    closing.set_value(around_takanawa)
    rerun(page)
    assert page.multiselect(key="stations_close").value == around_takanawa[:1]  # the box: the first
    assert closed_on_the_map(page) == 1  # the map: the same one
    (warning,) = page.warning
    assert "stays open" in warning.value and "cut Takanawa Gateway off" in warning.value
    assert f"{closing.options[around_takanawa[1]]} stays open" in warning.value  # the second, named


def test_asking_to_close_every_link_closes_what_can_close_and_the_box_shows_just_those(page):
    closing = page.multiselect(key="stations_close")
    closing.set_value(list(range(len(closing.options))))
    rerun(page)
    shown = page.multiselect(key="stations_close").value
    cycles = len(closing.options) - 37 + 1  # links beyond a spanning tree of the 37 stations
    assert len(shown) == cycles == closed_on_the_map(page)
    assert len(page.warning) == len(closing.options) - cycles  # one reason per link left open


def test_the_receptive_field_follows_the_station_and_depth(page):
    page.selectbox(key="stations_focus").set_value(
        next(i for i, label in enumerate(page.selectbox(key="stations_focus").options) if label == "Tokyo")
    )
    page.slider(key="stations_depth").set_value(1)
    rerun(page)
    assert page.metric[0].value == f"{within('JY01', 1)} of 37" == "3 of 37"  # Tokyo, Kanda, Yūrakuchō
    spread_panels = [trace for trace in chart(page, "stations_spread")["data"] if trace.get("mode") == "markers"]
    assert len(spread_panels) == 4  # two layers (start, after 1 layer), reached and unreached markers in each
