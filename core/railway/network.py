"""A railway network as a graph: stations are nodes, links between neighbouring stations are edges.

Two UTF-8 CSV files with a header row describe a network (the bundled one is in ``assets/railway/``):

- stations: ``id``, ``name_en``, ``x``, ``y`` (drawing coordinates, km east and north of an origin),
  ``daily_boardings`` (passengers boarding per day, ≥ 0); optional ``name_ja``, ``boardings_source``.
- links: ``source``, ``target`` (station ids), ``km`` (> 0); optional ``lines`` (the lines serving the link,
  separated by ";") and ``approximate`` (yes/no: is ``km`` an approximation).

Links are undirected and there is one per station pair: a pair served by several lines (Tokyo–Kanda by the
Yamanote and Chūō Rapid lines) is one link listing both lines, so the graph has no parallel edges. The network must
be connected. Text is kept as text — escaping it for display is the renderer's job — but control characters and
values longer than ``MAX_TEXT_LENGTH`` are refused. Any problem raises ``NetworkDataError`` naming file and row.
"""

from __future__ import annotations

import csv
import io
import math
import os
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO

import networkx as nx
import numpy as np

CsvSource = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "assets" / "railway"
MAX_TEXT_LENGTH = 100
STATION_COLUMNS = ("id", "name_en", "x", "y", "daily_boardings")
OPTIONAL_STATION_COLUMNS = ("name_ja", "boardings_source")
LINK_COLUMNS = ("source", "target", "km")
OPTIONAL_LINK_COLUMNS = ("lines", "approximate")
FLAGS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False, "": False}


class NetworkDataError(ValueError):
    """A stations or links file that does not describe a railway network; the message names the file and row."""

    def __init__(self, file: str, message: str, row: int | None = None) -> None:
        self.file, self.row = file, row
        super().__init__(f"{file}, row {row}: {message}" if row is not None else f"{file}: {message}")


@dataclass(frozen=True)
class Station:
    """A node: where passengers board."""

    id: str
    name_en: str
    name_ja: str
    x: float  # km east of the map origin
    y: float  # km north of the map origin
    daily_boardings: float
    boardings_source: str  # e.g. "JR East FY2019", or "estimate"


@dataclass(frozen=True)
class Link:
    """An undirected edge between neighbouring stations, with the lines that run along it."""

    source: str
    target: str
    km: float
    lines: tuple[str, ...]
    approximate: bool


@dataclass(frozen=True)
class RailwayNetwork:
    """Stations (in file order) and the links between them."""

    stations: tuple[Station, ...]
    links: tuple[Link, ...]

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each station id in ``stations``."""
        return {station.id: i for i, station in enumerate(self.stations)}

    def boardings(self) -> np.ndarray:
        """Daily boardings per station, shape (stations,)."""
        return np.array([station.daily_boardings for station in self.stations], dtype=np.float64)

    def coordinates(self) -> np.ndarray:
        """Drawing coordinates (x, y) in km, shape (stations, 2)."""
        return np.array([(station.x, station.y) for station in self.stations], dtype=np.float64)

    def edge_index(self) -> np.ndarray:
        """Every link in both directions as station positions (2, 2·links): link k is column k and column links + k."""
        ends = np.array([(self.index[link.source], self.index[link.target]) for link in self.links], dtype=np.int64)
        ends = ends.reshape(-1, 2).T  # (2, links), also when there are none
        return np.concatenate([ends, ends[::-1]], axis=1)

    def edge_km(self) -> np.ndarray:
        """Length in km of each column of ``edge_index()``, shape (2·links,)."""
        km = np.array([link.km for link in self.links], dtype=np.float64)
        return np.concatenate([km, km])

    def to_networkx(self) -> nx.Graph:
        """Undirected graph on the station ids, with the stations' and links' fields as attributes."""
        graph = nx.Graph()
        for station in self.stations:
            graph.add_node(station.id, **{name: value for name, value in vars(station).items() if name != "id"})
        for link in self.links:
            graph.add_edge(link.source, link.target, km=link.km, lines=link.lines, approximate=link.approximate)
        return graph


def _read_text(source: CsvSource, default_name: str) -> tuple[str, str]:
    """(file name, text) of a path, bytes or open file; bytes must be UTF-8 (a byte-order mark is allowed)."""
    data: bytes | str
    if isinstance(source, (str, os.PathLike)):
        name, data = Path(source).name, Path(source).read_bytes()
    elif isinstance(source, bytes):
        name, data = default_name, source
    else:
        given = getattr(source, "name", None)  # an uploaded file's name; an int for an anonymous temporary file
        name, data = Path(given).name if isinstance(given, str) else default_name, source.read()
    if isinstance(data, str):
        return name, data
    try:
        return name, data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise NetworkDataError(name, f"not UTF-8 text (byte 0x{byte:02X}); save the file as UTF-8", row) from None


def _shown(value: str) -> str:
    """A value quoted for an error message, cut short if long."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _records(
    file: str, text: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column: stripped value}) for each non-blank row, after checking the header."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        if not any(header):
            raise NetworkDataError(file, "the file is empty; expected a header row: " + ", ".join(required))
        repeated = sorted({column for column in header if header.count(column) > 1})
        missing = [column for column in required if column not in header]
        unknown = [column for column in header if column not in required + optional]
        if repeated:
            raise NetworkDataError(file, f"column {', '.join(map(repr, repeated))} appears more than once", 1)
        if missing:
            raise NetworkDataError(file, f"missing column {', '.join(map(repr, missing))}", 1)
        if unknown:
            allowed = ", ".join(required + optional)
            raise NetworkDataError(file, f"unknown column {', '.join(map(repr, unknown))} (allowed: {allowed})", 1)
        row = reader.line_num + 1  # the line a record starts on (a quoted field may span lines)
        for fields in reader:
            if any(field.strip() for field in fields):  # blank rows are skipped
                if len(fields) != len(header):
                    raise NetworkDataError(file, f"{len(fields)} fields, expected {len(header)}", row)
                yield row, {column: field.strip() for column, field in zip(header, fields)}
            row = reader.line_num + 1
    except csv.Error as error:
        raise NetworkDataError(file, f"not readable as CSV ({error})", reader.line_num) from None


def _text(record: dict[str, str], column: str, file: str, row: int, required: bool = True) -> str:
    """A text field: non-empty if required, at most MAX_TEXT_LENGTH characters, no control characters."""
    value = record.get(column, "")
    if required and not value:
        raise NetworkDataError(file, f"{column} is empty", row)
    if len(value) > MAX_TEXT_LENGTH:
        raise NetworkDataError(file, f"{column} is {len(value)} characters long (at most {MAX_TEXT_LENGTH})", row)
    control = next((char for char in value if unicodedata.category(char) == "Cc"), None)
    if control is not None:
        raise NetworkDataError(file, f"{column} contains the control character U+{ord(control):04X}", row)
    return value


def _number(
    record: dict[str, str],
    column: str,
    file: str,
    row: int,
    valid: Callable[[float], bool] = math.isfinite,
    rule: str = "a finite number",
) -> float:
    """A finite number field for which ``valid`` holds (``rule`` says what that means)."""
    value = record[column]
    try:
        number = float(value)
    except ValueError:
        raise NetworkDataError(file, f"{column} {_shown(value)} is not a number", row) from None
    if not math.isfinite(number) or not valid(number):
        raise NetworkDataError(file, f"{column} must be {rule}, not {_shown(value)}", row)
    return number


def _stations(file: str, text: str) -> tuple[Station, ...]:
    """The stations of a stations CSV, in file order, with unique ids."""
    stations: list[Station] = []
    first_row: dict[str, int] = {}
    for row, record in _records(file, text, STATION_COLUMNS, OPTIONAL_STATION_COLUMNS):
        station_id = _text(record, "id", file, row)
        if station_id in first_row:
            message = f"duplicate station id {_shown(station_id)} (first in row {first_row[station_id]})"
            raise NetworkDataError(file, message, row)
        first_row[station_id] = row
        stations.append(
            Station(
                id=station_id,
                name_en=_text(record, "name_en", file, row),
                name_ja=_text(record, "name_ja", file, row, required=False),
                x=_number(record, "x", file, row),
                y=_number(record, "y", file, row),
                daily_boardings=_number(record, "daily_boardings", file, row, lambda n: n >= 0, "≥ 0"),
                boardings_source=_text(record, "boardings_source", file, row, required=False),
            )
        )
    if not stations:
        raise NetworkDataError(file, "no stations")
    return tuple(stations)


def _links(file: str, text: str, station_ids: set[str]) -> tuple[Link, ...]:
    """The links of a links CSV between known stations, one per station pair."""
    links: list[Link] = []
    first_row: dict[frozenset[str], int] = {}
    for row, record in _records(file, text, LINK_COLUMNS, OPTIONAL_LINK_COLUMNS):
        ends = [_text(record, column, file, row) for column in ("source", "target")]
        for station_id in ends:
            if station_id not in station_ids:
                raise NetworkDataError(file, f"unknown station {_shown(station_id)}", row)
        if ends[0] == ends[1]:
            raise NetworkDataError(file, f"link from {_shown(ends[0])} to itself", row)
        pair = frozenset(ends)
        if pair in first_row:
            message = f"{ends[0]}–{ends[1]} repeats row {first_row[pair]}; list all its lines in one row, e.g. 'A;B'"
            raise NetworkDataError(file, message, row)
        first_row[pair] = row
        flag = record.get("approximate", "").lower()
        if flag not in FLAGS:
            raise NetworkDataError(file, f"approximate must be yes or no, not {_shown(flag)}", row)
        lines = _text(record, "lines", file, row, required=False)
        links.append(
            Link(
                source=ends[0],
                target=ends[1],
                km=_number(record, "km", file, row, lambda n: n > 0, "a positive number of km"),
                lines=tuple(line.strip() for line in lines.split(";") if line.strip()),
                approximate=FLAGS[flag],
            )
        )
    return tuple(links)


def load_network(stations_csv: CsvSource, links_csv: CsvSource) -> RailwayNetwork:
    """A connected railway network from a stations CSV and a links CSV.

    Each is a path (a ``str`` is a path), the file's bytes, or an open file, binary or text (an upload; wrap text
    in ``io.StringIO``).
    """
    stations = _stations(*_read_text(stations_csv, "stations.csv"))
    links_file, links_text = _read_text(links_csv, "links.csv")
    network = RailwayNetwork(stations, _links(links_file, links_text, {station.id for station in stations}))
    start = stations[0].id
    reachable = nx.node_connected_component(network.to_networkx(), start)
    unreachable = [station.id for station in stations if station.id not in reachable]
    if unreachable:
        shown = ", ".join(unreachable[:5]) + (", …" if len(unreachable) > 5 else "")
        message = f"the network is disconnected: {len(unreachable)} station(s) unreachable from {start}: {shown}"
        raise NetworkDataError(links_file, message)
    return network


def load_bundled_network() -> RailwayNetwork:
    """The JR Yamanote loop with the Chūō Rapid and Chūō-Sōbu Local lines across it (assets/railway)."""
    return load_network(BUNDLED_DIR / "stations.csv", BUNDLED_DIR / "links.csv")
