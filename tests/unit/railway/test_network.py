"""Specification of core.railway.network: the bundled Tokyo network, and what the loader accepts and refuses."""

from __future__ import annotations

import io
import math

import networkx as nx
import numpy as np
import pytest

from core.railway.network import BUNDLED_DIR, NetworkDataError, RailwayNetwork, load_network

STATIONS = """id,name_en,name_ja,x,y,daily_boardings
A,Alpha,アルファ,0,0,100
B,Beta,,1,0,200
C,Gamma,,2,0.5,300
"""
LINKS = """source,target,km,lines,approximate
A,B,1.0,Red,no
B,C,1.5,Red;Blue,yes
"""


def load(stations: str = STATIONS, links: str = LINKS) -> RailwayNetwork:
    return load_network(io.StringIO(stations), io.StringIO(links))


# --- the bundled network ---------------------------------------------------------------------------------------------


def test_bundled_network_has_the_yamanote_loop_and_seven_chuo_line_stations(tokyo: RailwayNetwork) -> None:
    ids = [station.id for station in tokyo.stations]
    assert ids[:30] == [f"JY{k:02d}" for k in range(1, 31)]
    assert {station.name_en: station.name_ja for station in tokyo.stations[30:]} == {
        "Ochanomizu": "御茶ノ水",
        "Suidōbashi": "水道橋",
        "Iidabashi": "飯田橋",
        "Ichigaya": "市ケ谷",
        "Yotsuya": "四ツ谷",
        "Shinanomachi": "信濃町",
        "Sendagaya": "千駄ケ谷",
    }
    assert nx.is_connected(tokyo.to_networkx())


def test_yamanote_links_run_round_the_loop_in_station_order_for_34_5_km(tokyo: RailwayNetwork) -> None:
    yamanote = [link for link in tokyo.links if "Yamanote" in link.lines]
    assert [(link.source, link.target) for link in yamanote] == [
        (f"JY{k:02d}", f"JY{k % 30 + 1:02d}") for k in range(1, 31)
    ]
    assert sum(link.km for link in yamanote) == pytest.approx(34.5)
    assert next(link.km for link in yamanote if link.source == "JY25") == 0.9  # Shinagawa–Takanawa Gateway


def test_pairs_served_by_two_lines_are_one_link_listing_both(tokyo: RailwayNetwork) -> None:
    lines = {frozenset((link.source, link.target)): link.lines for link in tokyo.links}
    assert lines[frozenset(("JY01", "JY02"))] == ("Yamanote", "Chuo Rapid")  # Tokyo–Kanda
    assert lines[frozenset(("JY17", "JY18"))] == ("Yamanote", "Chuo-Sobu Local")  # Shinjuku–Yoyogi
    assert len(lines) == len(tokyo.links) == 41


def test_only_the_chuo_sobu_local_distances_are_flagged_approximate(tokyo: RailwayNetwork) -> None:
    approximate = {link.lines for link in tokyo.links if link.approximate}
    assert approximate == {("Chuo-Sobu Local",)}
    assert sum(link.approximate for link in tokyo.links) == 8


def test_published_boardings_are_kept_and_the_rest_are_marked_estimates(tokyo: RailwayNetwork) -> None:
    by_name = {station.name_en: station for station in tokyo.stations}
    assert (by_name["Shinjuku"].daily_boardings, by_name["Shinjuku"].boardings_source) == (775386, "JR East FY2019")
    assert (by_name["Harajuku"].daily_boardings, by_name["Harajuku"].boardings_source) == (74353, "JR East FY2017")
    sources = {station.boardings_source for station in tokyo.stations}
    assert sources == {"JR East FY2019", "JR East FY2017", "estimate"}
    assert all(station.daily_boardings > 0 for station in tokyo.stations)


def test_drawing_coordinates_look_like_the_map(tokyo: RailwayNetwork) -> None:
    where = {station.name_en: (station.x, station.y) for station in tokyo.stations}
    assert where["Tokyo"] == (0.0, 0.0)  # km east and north of Tokyo Station
    assert where["Shinjuku"][0] < -5  # about 6 km west
    assert where["Shinagawa"][1] < where["Shibuya"][1] < where["Shinjuku"][1] < where["Ikebukuro"][1]
    assert where["Ikebukuro"][1] > 5  # about 5 km north
    for link, (source, target) in zip(tokyo.links, tokyo.edge_index().T):  # drawn about as long as the track
        drawn = math.dist(*tokyo.coordinates()[[source, target]])
        assert 0.6 * link.km < drawn < 1.5 * link.km, (link, drawn)


def test_edge_index_and_networkx_views_agree_with_the_links(tokyo: RailwayNetwork) -> None:
    edge_index, km = tokyo.edge_index(), tokyo.edge_km()
    links = len(tokyo.links)
    assert edge_index.shape == (2, 2 * links) and edge_index.dtype == np.int64 and km.shape == (2 * links,)
    assert np.array_equal(edge_index[:, links:], edge_index[::-1, :links])
    first = tokyo.links[0]
    assert tuple(edge_index[:, 0]) == (tokyo.index[first.source], tokyo.index[first.target]) and km[0] == first.km
    assert tokyo.boardings().shape == (37,) and tokyo.coordinates().shape == (37, 2)
    graph = tokyo.to_networkx()
    assert graph.edges["JY02", "JY01"] == {"km": 1.3, "lines": ("Yamanote", "Chuo Rapid"), "approximate": False}
    assert graph.nodes["JY17"]["name_ja"] == "新宿" and graph.number_of_edges() == len(tokyo.links)


# --- what the loader accepts -----------------------------------------------------------------------------------------


def test_paths_bytes_and_open_files_load_the_same_network() -> None:
    from_paths = load_network(BUNDLED_DIR / "stations.csv", str(BUNDLED_DIR / "links.csv"))
    stations, links = (BUNDLED_DIR / "stations.csv").read_bytes(), (BUNDLED_DIR / "links.csv").read_bytes()
    assert load_network(stations, links) == from_paths
    assert load_network(io.BytesIO(b"\xef\xbb\xbf" + stations), io.BytesIO(links)) == from_paths  # Excel's BOM
    with open(BUNDLED_DIR / "stations.csv", encoding="utf-8") as text_file:
        assert load_network(text_file, io.StringIO(links.decode())) == from_paths


def test_small_network_fields_blank_rows_and_optional_columns() -> None:
    network = load(STATIONS + "\n\n", "source,target,km\n A , B ,1\nB,C,2.5\n")
    assert [station.name_ja for station in network.stations] == ["アルファ", "", ""]
    assert [(link.source, link.km, link.lines, link.approximate) for link in network.links] == [
        ("A", 1.0, (), False),
        ("B", 2.5, (), False),
    ]
    assert load().links[1].lines == ("Red", "Blue")


def test_markup_in_names_is_kept_as_text_for_the_renderer_to_escape() -> None:
    network = load(STATIONS.replace("Alpha", "\"<script>alert('x')</script>\""))
    assert network.stations[0].name_en == "<script>alert('x')</script>"


# --- what the loader refuses, and how it says so ---------------------------------------------------------------------

MALFORMED = {
    "empty stations file": (
        "",
        LINKS,
        "stations.csv: the file is empty; expected a header row: id, name_en, x, y, daily_boardings",
    ),
    "empty links file": (STATIONS, "  \n", "links.csv: the file is empty; expected a header row: source, target, km"),
    "header but no stations": (STATIONS.splitlines()[0], LINKS, "stations.csv: no stations"),
    "missing column": (
        STATIONS.replace(",daily_boardings", ""),
        LINKS,
        "stations.csv, row 1: missing column 'daily_boardings'",
    ),
    "extra column": (
        STATIONS,
        LINKS.replace("approximate", "colour"),
        "links.csv, row 1: unknown column 'colour' (allowed: source, target, km, lines, approximate)",
    ),
    "column twice": (STATIONS.replace("name_ja", "x"), LINKS, "stations.csv, row 1: column 'x' appears more than once"),
    "missing field": (
        STATIONS.replace("B,Beta,,1,0,200", "B,Beta,1,0,200"),
        LINKS,
        "stations.csv, row 3: 5 fields, expected 6",
    ),
    "duplicate station id": (
        STATIONS.replace("C,Gamma", "B,Gamma"),
        LINKS,
        "stations.csv, row 4: duplicate station id 'B' (first in row 3)",
    ),
    "empty station id": (STATIONS.replace("C,Gamma", ",Gamma"), LINKS, "stations.csv, row 4: id is empty"),
    "row numbers count blank lines, as an editor does": (
        STATIONS.replace("\nC,Gamma,,2,0.5,300", "\n\nC,Gamma,,2,x,300"),
        LINKS,
        "stations.csv, row 5: y 'x' is not a number",
    ),
    "non-numeric coordinate": (
        STATIONS.replace("2,0.5", "2,north"),
        LINKS,
        "stations.csv, row 4: y 'north' is not a number",
    ),
    "negative boardings": (
        STATIONS.replace("200", "-200"),
        LINKS,
        "stations.csv, row 3: daily_boardings must be ≥ 0, not '-200'",
    ),
    "infinite boardings": (
        STATIONS.replace("300", "inf"),
        LINKS,
        "stations.csv, row 4: daily_boardings must be ≥ 0, not 'inf'",
    ),
    "control character in a name": (
        STATIONS.replace("Beta", "Be\x07ta"),
        LINKS,
        "stations.csv, row 3: name_en contains the control character U+0007",
    ),
    "newline inside a quoted name": (
        STATIONS.replace("Beta", '"Be\nta"'),
        LINKS,
        "stations.csv, row 3: name_en contains the control character U+000A",
    ),
    "absurdly long name": (
        STATIONS.replace("Gamma", "G" * 5000),
        LINKS,
        "stations.csv, row 4: name_en is 5000 characters long (at most 100)",
    ),
    "unknown station in a link": (STATIONS, LINKS.replace("B,C", "B,D"), "links.csv, row 3: unknown station 'D'"),
    "non-numeric distance": (STATIONS, LINKS.replace("1.5", "far"), "links.csv, row 3: km 'far' is not a number"),
    "zero distance": (
        STATIONS,
        LINKS.replace("1.0", "0"),
        "links.csv, row 2: km must be a positive number of km, not '0'",
    ),
    "negative distance": (
        STATIONS,
        LINKS.replace("1.5", "-1.5"),
        "links.csv, row 3: km must be a positive number of km, not '-1.5'",
    ),
    "NaN distance": (
        STATIONS,
        LINKS.replace("1.5", "nan"),
        "links.csv, row 3: km must be a positive number of km, not 'nan'",
    ),
    "link to itself": (STATIONS, LINKS.replace("A,B", "A,A"), "links.csv, row 2: link from 'A' to itself"),
    "same pair twice": (
        STATIONS,
        LINKS + "B,A,1.0,Blue,no\n",
        "links.csv, row 4: B–A repeats row 2; list all its lines in one row, e.g. 'A;B'",
    ),
    "unreadable flag": (
        STATIONS,
        LINKS.replace("yes", "maybe"),
        "links.csv, row 3: approximate must be yes or no, not 'maybe'",
    ),
    "disconnected network": (
        STATIONS + "D,Delta,,3,0,50\nE,Epsilon,,4,0,50\n",
        LINKS + "D,E,1.0,Green,no\n",
        "links.csv: the network is disconnected: 2 station(s) unreachable from A: D, E",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files_are_refused_naming_file_and_row(case: str) -> None:
    stations, links, message = MALFORMED[case]
    with pytest.raises(NetworkDataError) as refused:
        load(stations, links)
    assert str(refused.value) == message


def test_bytes_that_are_not_utf8_are_refused_naming_the_row() -> None:
    latin1 = io.BytesIO(STATIONS.encode().replace(b"Gamma", "Gämma".encode("latin-1")))
    latin1.name = "uploads/my_stations.csv"  # as an uploaded file carries it
    with pytest.raises(NetworkDataError) as refused:
        load_network(latin1, io.StringIO(LINKS))
    assert str(refused.value) == "my_stations.csv, row 4: not UTF-8 text (byte 0xE4); save the file as UTF-8"
    assert (refused.value.file, refused.value.row) == ("my_stations.csv", 4)


def test_a_field_too_large_for_csv_is_refused() -> None:
    with pytest.raises(NetworkDataError, match=r"stations.csv, row 2: not readable as CSV \(field larger"):
        load(STATIONS.replace("Alpha", "A" * 200_000))
