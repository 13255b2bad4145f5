"""Plotly maps of a railway network on its fixed drawing coordinates (no physics, no re-layout): stations as
markers sized by boardings and coloured by a value (crowding, hops, a signal), links as segments in their lines'
colours, station names placed clear of each other (a name that cannot be is left to the hover), text sized for the
page or, ``text_scale`` × larger, for presentation mode.

Station names, ids and line names come from CSV files that users may upload. Plotly renders titles, hover labels and
text with a subset of HTML and decodes entities, so every piece of it goes through ``plain`` (``&``, ``<``, ``>`` as
entities): it shows literally and can never be read as markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.railway.network import RailwayNetwork
from figures.theme import INK, WHITE, base_layout, plain, scaled_margin

LINE_COLOURS = {  # JR East's line colours
    "Yamanote": "#80c241",
    "Chuo Rapid": "#f15a22",
    "Chuo-Sobu Local": "#f2c200",
}
OTHER_LINE_COLOURS = ("#1c7ed6", "#ae3ec9", "#0ca678", "#e8590c", "#5c940d", "#d6336c", "#1098ad", "#7048e8")
NO_LINE = "(no line named)"
NO_LINE_COLOUR = "#868e96"
INTERCHANGE = "interchange (several lines)"
INTERCHANGE_COLOUR = "#343a40"
CLOSED_COLOUR = "#e03131"
RAISED = "#7048e8"  # stations whose boardings a what-if raised
FADED = "#dee2e6"
CROWDING_MAX = 200.0  # % at the top of the colour scale (200 % = body contact)
CROWDING_COLORSCALE = [  # calm pale → yellow → orange → red → dark magenta at 200 % and above
    [0.0, "#f1f3f5"],
    [0.25, "#ffe066"],
    [0.5, "#ffa94d"],
    [0.75, "#e8590c"],
    [1.0, "#a61e4d"],
]
# Two of the transport ministry's guide levels (混雑率), in lines short enough to sit side by side
CROWDING_TICKS: dict[float, str] = {
    0: "0",
    50: "50",
    100: "100<br>every strap<br>taken",
    150: "150",
    200: "200+<br>bodies<br>touch",
}
CROWDING_BAR = {"x": 0.02, "len": 0.9}  # the colour bar across the top: its start and length, shares of the width
SIGNAL_COLORSCALE = [[0.0, "#e7f5ff"], [0.35, "#74c0fc"], [1.0, "#1864ab"]]
EMBEDDING_WIDTH_PX = 450  # the narrowest an embedding is drawn: half the page, 458 px on a 1440 px screen
EMBEDDING_MARKER_PX = 13
HOP_COLOURS = ("#e8590c", "#1864ab", "#339af0", "#74c0fc", "#a5d8ff", "#d0ebff")  # the station, 1 hop, …
MARKER_PX = (10.0, 34.0)  # marker diameter of the least and the most boardings
LABEL_FONT_PX = 14
COLORBAR_TICK_PX = 13
HALO = "0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff"  # white glow: names stay readable over the track
MAP_HEIGHT_PX = 760
MAP_WIDTH_PX = 500  # the narrowest map column the names are placed for: 512 px on a 1440 px screen, sidebar open
PRESENTING_MAP_WIDTH_PX = 560  # the same in presentation mode (names 1.25 × larger): 560 px at 1280 px, sidebar closed
MAP_MARGIN = dict(l=4, r=4, t=96, b=30, autoexpand=False)  # the colour bar above the map, the legend below
CHAR_WIDTH_EM = 0.66  # generous width of a character, in font sizes: wide letters (m, G) and other fonts
LABEL_POSITIONS = (  # plotly textposition → direction (dx, dy) from the marker
    ("middle right", (1, 0)),
    ("middle left", (-1, 0)),
    ("top center", (0, 1)),
    ("bottom center", (0, -1)),
    ("top right", (1, 1)),
    ("top left", (-1, 1)),
    ("bottom right", (1, -1)),
    ("bottom left", (-1, -1)),
)


def line_colours(lines: Sequence[str]) -> dict[str, str]:
    """A colour for every line: JR's own for the bundled lines, then a fixed palette in order of appearance."""
    colours, others = {}, iter(OTHER_LINE_COLOURS * (1 + len(lines) // len(OTHER_LINE_COLOURS)))
    special = {NO_LINE: NO_LINE_COLOUR, INTERCHANGE: INTERCHANGE_COLOUR}
    for line in lines:
        colours[line] = LINE_COLOURS.get(line) or special.get(line) or next(others)
    return colours


def network_lines(network: RailwayNetwork) -> list[str]:
    """The network's line names in order of first appearance; NO_LINE last if some link names none."""
    seen = dict.fromkeys(line for link in network.links for line in link.lines)
    if any(not link.lines for link in network.links):
        seen[NO_LINE] = None
    return list(seen)


def station_lines(network: RailwayNetwork, interchange: str | None = None) -> list[str]:
    """Each station's lines, joined with " + " in the network's line order (NO_LINE when its links name none);
    with ``interchange``, that one name for every station that several lines serve."""
    order = network_lines(network)
    served: list[set[str]] = [set() for _ in network.stations]
    for link in network.links:
        for end in (link.source, link.target):
            served[network.index[end]].update(link.lines or (NO_LINE,))
    joined = [" + ".join(line for line in order if line in lines) or NO_LINE for lines in served]
    if interchange is None:
        return joined
    return [interchange if len(lines) > 1 else name for lines, name in zip(served, joined)]


def marker_sizes(boardings: np.ndarray) -> np.ndarray:
    """Marker diameters (px): area proportional to boardings, between MARKER_PX (0 boardings: the smallest)."""
    boardings = np.clip(np.asarray(boardings, dtype=np.float64), 0.0, None)
    largest = boardings.max() if len(boardings) and boardings.max() > 0 else 1.0
    smallest, biggest = MARKER_PX
    return smallest + (biggest - smallest) * np.sqrt(boardings / largest)


def _label_box(
    x: float,
    y: float,
    position: tuple[int, int],
    chars: int,
    radius_km: float,
    km_per_px: float,
    font_px: float = LABEL_FONT_PX,
) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in km of a label of ``chars`` characters in ``font_px`` type placed at ``position`` of a
    marker at (x, y)."""
    width = CHAR_WIDTH_EM * font_px * chars * km_per_px
    height = 1.2 * font_px * km_per_px
    dx, dy = position
    gap = radius_km + 2 * km_per_px
    cx = x + dx * (gap + width / 2) if dx else x
    cy = y + dy * (gap + height / 2) if dy else y
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _overlaps(box: tuple[float, float, float, float], boxes: np.ndarray) -> np.ndarray:
    """Area that ``box`` shares with each of ``boxes`` (k, 4)."""
    if not len(boxes):
        return np.zeros(0)
    width = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    height = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return np.clip(width, 0.0, None) * np.clip(height, 0.0, None)


def _segment_boxes(segments: Sequence[tuple[np.ndarray, np.ndarray]], km_per_px: float) -> np.ndarray:
    """Small boxes (k, 4) every 4 px along the segments: the track, which labels should not cover."""
    boxes = []
    half = 2.5 * km_per_px
    for start, end in segments:
        start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
        steps = max(2, int(np.linalg.norm(end - start) / (4 * km_per_px)))
        for t in np.linspace(0.0, 1.0, steps):
            x, y = start + t * (end - start)
            boxes.append((x - half, y - half, x + half, y + half))
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def label_positions(
    coordinates: np.ndarray,
    labels: Sequence[str],
    sizes_px: np.ndarray,
    km_per_px: float,
    segments: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    font_px: float = LABEL_FONT_PX,
    rounds: int = 6,
) -> list[str | None]:
    """A plotly ``textposition`` per station, so that labels (``font_px`` high, as wide as their characters) keep
    apart: first of all from each other, then from the other markers, then from the track; ties go outward from the
    centre of the network. None: the label cannot be placed clear of the others and is left out (the hover still
    names it).

    Greedily, biggest station first, each label takes the position that clashes least with the labels already
    placed; then, for up to ``rounds`` rounds, each label moves to the position that clashes least with all the
    others, until none moves. Last, smallest station first, a label that still overlaps another is left out. Should
    any be, the labels are placed again in sweeps across the map (west to east, east to west, south to north, north
    to south), and the placement that leaves out fewest is kept.
    """
    coordinates = np.asarray(coordinates, dtype=np.float64).reshape(-1, 2)
    count = len(coordinates)
    radii = np.asarray(sizes_px, dtype=np.float64) / 2 * km_per_px
    markers = np.column_stack([coordinates - radii[:, None], coordinates + radii[:, None]])  # (n, 4)
    track = _segment_boxes(segments, km_per_px)
    centre = coordinates.mean(axis=0) if count else np.zeros(2)
    margin = np.array([-2, -2, 2, 2]) * km_per_px  # keep labels a little apart
    boxes = np.zeros((count, len(LABEL_POSITIONS), 4))  # every station's label at every position
    settled = np.zeros((count, len(LABEL_POSITIONS), 3))  # (clash with the other markers, with the track (px²), facing)
    for i, ((x, y), label) in enumerate(zip(coordinates, labels, strict=True)):
        outward = np.array([x, y]) - centre
        others = np.delete(markers, i, axis=0)
        for k, (_, direction) in enumerate(LABEL_POSITIONS):
            boxes[i, k] = _label_box(x, y, direction, len(label), radii[i], km_per_px, font_px)
            on_markers = _overlaps(boxes[i, k] + margin, others).sum()
            on_track = _overlaps(boxes[i, k], track).sum()
            facing = -float(np.dot(direction, outward)) / (math.hypot(*direction) * (np.linalg.norm(outward) + 1e-9))
            settled[i, k] = round(on_markers / km_per_px**2), round(on_track / km_per_px**2), facing + 0.01 * k

    def place(order: np.ndarray) -> np.ndarray:
        """Positions (index into LABEL_POSITIONS, -1: left out) found by placing the labels in this order first."""
        chosen = np.full(count, -1)

        def others_placed(i: int) -> np.ndarray:
            """The boxes (k, 4) of the labels placed so far, but label i's."""
            keep = (chosen >= 0) & (np.arange(count) != i)
            return boxes[np.flatnonzero(keep), chosen[keep]]

        def best(i: int) -> int:
            """The position of label i that overlaps the other placed labels least (whole px²), then settled[i]."""
            placed = others_placed(i) + margin
            costs = [
                (round(_overlaps(boxes[i, k] + margin, placed).sum() / km_per_px**2), *settled[i, k])
                for k in range(len(LABEL_POSITIONS))
            ]
            return min(range(len(costs)), key=costs.__getitem__)

        for i in order:
            chosen[i] = best(i)
        for _ in range(rounds):
            moved = False
            for i in range(count):
                k = best(i)
                moved, chosen[i] = moved or k != chosen[i], k
            if not moved:
                break
        for i in np.argsort(np.asarray(sizes_px), kind="stable"):
            if _overlaps(boxes[i, chosen[i]], others_placed(i)).sum() > 0:
                chosen[i] = -1
        return chosen

    orders = (  # biggest station first; should labels be left out, sweeps across the map
        np.argsort(-np.asarray(sizes_px), kind="stable"),
        *(np.argsort(sign * coordinates[:, axis], kind="stable") for axis in (0, 1) for sign in (1, -1)),
    )
    tried = []  # (labels left out, position of each label)
    for order in orders:
        chosen = place(order)
        tried.append((int((chosen < 0).sum()), chosen))
        if not tried[-1][0]:
            break
    chosen = min(tried, key=lambda attempt: attempt[0])[1]
    return [LABEL_POSITIONS[k][0] if k >= 0 else None for k in chosen]


def _track(network: RailwayNetwork) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every link as a (start, end) pair of coordinates."""
    xy = network.coordinates()
    return [(xy[network.index[link.source]], xy[network.index[link.target]]) for link in network.links]


def _fit(
    network: RailwayNetwork,
    labels: Sequence[str],
    sizes_px: np.ndarray,
    height_px: int,
    margin: dict,
    width_px: int = MAP_WIDTH_PX,
    font_px: float = LABEL_FONT_PX,
) -> tuple[list[str | None], list[float], list[float], float]:
    """Label positions (None: left out), axis ranges (x, y) in km that hold every marker and label in ``font_px``
    type, and the scale (km per pixel) at which they fit a plot of ``width_px`` × ``height_px`` (less the margins).

    A container at least ``width_px`` wide shows the map at this scale or larger, so the labels, whose size is in
    pixels, stay where they were placed and apart.
    """
    xy = network.coordinates()
    plot_w, plot_h = width_px - margin["l"] - margin["r"], height_px - margin["t"] - margin["b"]
    radii_px = np.asarray(sizes_px, dtype=np.float64) / 2
    span = np.ptp(xy, axis=0) if len(xy) else np.zeros(2)
    km_per_px = max(span[0] / plot_w, span[1] / plot_h, 1e-3)
    directions = dict(LABEL_POSITIONS)
    for _ in range(8):  # labels take room that depends on the scale, which depends on the room they take
        positions = label_positions(xy, labels, sizes_px, km_per_px, _track(network), font_px)
        boxes = np.array(
            [
                _label_box(x, y, directions[position], len(label), radius * km_per_px, km_per_px, font_px)
                for (x, y), position, label, radius in zip(xy, positions, labels, radii_px, strict=True)
                if position is not None
            ]
        ).reshape(-1, 4)
        reach = radii_px[:, None] * km_per_px
        pad = 10 * km_per_px
        lo = np.minimum(boxes[:, :2].min(axis=0), (xy - reach).min(axis=0)) - pad
        hi = np.maximum(boxes[:, 2:].max(axis=0), (xy + reach).max(axis=0)) + pad
        if (hi[0] - lo[0]) / plot_w <= km_per_px * 1.01 and (hi[1] - lo[1]) / plot_h <= km_per_px * 1.01:
            break
        # extent = coordinate span (km) + room for labels and markers (px, × km_per_px): solve for the scale
        room_px = ((hi - lo) - span) / km_per_px
        free_px = np.maximum(np.array([plot_w, plot_h]) - room_px, 0.2 * np.array([plot_w, plot_h]))
        km_per_px = max(float(np.max(span / free_px)), km_per_px * 1.02)
    return positions, [lo[0], hi[0]], [lo[1], hi[1]], km_per_px


def _segments(points: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[list, list]:
    """x and y lists of line segments separated by None (one plotly trace draws them all)."""
    xs, ys = [], []
    for start, end in points:
        xs += [start[0], end[0], None]
        ys += [start[1], end[1], None]
    return xs, ys


def _link_traces(
    network: RailwayNetwork,
    closed_links: Sequence[tuple[str, str]] = (),
    width: float = 4.5,
    opacity: float = 0.85,
    legend: bool = True,
) -> list[go.Scatter]:
    """One trace per line (links served by several lines are drawn side by side) and one for closed links."""
    xy = network.coordinates()
    span = float(np.ptp(xy, axis=0).max()) if len(xy) > 1 else 1.0
    offset_km = 0.007 * span * width / 5
    closed = {frozenset(pair) for pair in closed_links}
    lines = network_lines(network)
    colours = line_colours(lines)
    per_line: dict[str, list] = {line: [] for line in lines}
    shut = []
    for link in network.links:
        start, end = xy[network.index[link.source]], xy[network.index[link.target]]
        if frozenset((link.source, link.target)) in closed:
            shut.append((start, end))
            continue
        direction = end - start
        normal = np.array([-direction[1], direction[0]]) / (np.linalg.norm(direction) or 1.0)
        served = link.lines or (NO_LINE,)
        for k, line in enumerate(served):
            shift = (k - (len(served) - 1) / 2) * offset_km * normal
            per_line[line].append((start + shift, end + shift))
    traces = []
    for line, segments in per_line.items():
        xs, ys = _segments(segments)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=plain(line),
                showlegend=legend,
                line=dict(color=colours[line], width=width),
                opacity=opacity,
                hoverinfo="skip",
            )
        )
    if shut:
        xs, ys = _segments(shut)
        middles = np.array([(start + end) / 2 for start, end in shut])
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="closed link",
                legendgroup="closed",
                showlegend=legend,
                line=dict(color=CLOSED_COLOUR, width=max(2.0, width * 0.6), dash="dot"),
                hoverinfo="skip",
            )
        )
        traces.append(
            go.Scatter(
                x=middles[:, 0],
                y=middles[:, 1],
                mode="markers",
                legendgroup="closed",
                showlegend=False,
                marker=dict(symbol="x-thin", size=16, line=dict(color=CLOSED_COLOUR, width=4)),
                hoverinfo="skip",
            )
        )
    return traces


def _station_names(network: RailwayNetwork) -> list[str]:
    """Escaped "English 日本語 (id)" of every station, for hover labels."""
    names = []
    for station in network.stations:
        japanese = f" {plain(station.name_ja)}" if station.name_ja else ""
        names.append(f"<b>{plain(station.name_en)}</b>{japanese} ({plain(station.id)})")
    return names


def _map_layout(
    figure: go.Figure,
    x_range: list[float],
    y_range: list[float],
    height_px: int,
    margin: dict,
    text_scale: float = 1.0,
) -> None:
    """Equal km on both axes, no axes drawn, the given ranges, the lines' legend in the lower left corner."""
    axes = dict(visible=False, showgrid=False, zeroline=False)
    figure.update_xaxes(range=x_range, constrain="domain", **axes)
    figure.update_yaxes(range=y_range, scaleanchor="x", scaleratio=1, constrain="domain", **axes)
    figure.update_layout(
        **base_layout(text_scale),
        height=height_px,
        margin=margin,
        hovermode="closest",
        dragmode="pan",
        legend=dict(
            orientation="h",
            x=0.0,
            xanchor="left",
            y=0.0,
            yanchor="bottom",
            yref="container",
            font=dict(size=14 * text_scale),
            bgcolor="rgba(255,255,255,0.85)",
            title=dict(text="lines:", side="left"),
        ),
        hoverlabel=dict(font_size=15 * text_scale),
    )


def station_value_map(
    network: RailwayNetwork,
    values: np.ndarray,
    *,
    colorbar_title: str = "crowding (%)",
    colorscale: list | str = CROWDING_COLORSCALE,
    cmin: float = 0.0,
    cmax: float = CROWDING_MAX,
    ticks: dict[float, str] | None = CROWDING_TICKS,
    hover_lines: Sequence[str] | None = None,
    value_format: str = "{:.0f} %",
    closed_links: Sequence[tuple[str, str]] = (),
    raised: dict[int, str] | None = None,
    sizes_from: np.ndarray | None = None,
    height_px: int = MAP_HEIGHT_PX,
    width_px: int = MAP_WIDTH_PX,
    text_scale: float = 1.0,
) -> go.Figure:
    """The network on its map, stations coloured by ``values`` (stations,) on a colour bar above the map, sized by
    boardings, named in English (Japanese and the numbers on hover); every text ``text_scale`` × its usual size.
    The names are placed apart for a map ``width_px`` wide or wider; one that cannot be is left to the hover.

    ``hover_lines`` adds a line of (already escaped) text per station to its hover label; ``closed_links`` are drawn
    dotted red; ``raised`` maps station positions to a short tag ("×2") drawn with an accent outline; ``sizes_from``
    gives the boardings that size the markers (default: the network's published boardings); ``ticks`` labels the
    colour bar (value → text, "<br>" allowed; None: plain numbers).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(network.stations),):
        raise ValueError(f"values {values.shape} do not match {len(network.stations)} stations")
    boardings = network.boardings() if sizes_from is None else np.asarray(sizes_from, dtype=np.float64)
    if boardings.shape != values.shape:
        raise ValueError(f"boardings {boardings.shape} do not match {len(network.stations)} stations")
    raised = raised or {}
    margin = scaled_margin(MAP_MARGIN, text_scale)
    xy = network.coordinates()
    sizes = marker_sizes(boardings)
    labels = [station.name_en + (f" {raised[i]}" if i in raised else "") for i, station in enumerate(network.stations)]
    positions, x_range, y_range, _ = _fit(
        network, labels, sizes, height_px, margin, width_px, LABEL_FONT_PX * text_scale
    )
    hover = [
        f"{name}<br>{plain(colorbar_title)}: <b>{plain(value_format.format(value))}</b>"
        f"<br>boardings: {boarding:,.0f} per day" + (f"<br>{hover_lines[i]}" if hover_lines is not None else "")
        for i, (name, value, boarding) in enumerate(zip(_station_names(network), values, boardings))
    ]
    colorbar = dict(  # across the top of the figure, in container coordinates so its ticks never crowd
        orientation="h",
        xref="container",
        x=CROWDING_BAR["x"],
        xanchor="left",
        len=CROWDING_BAR["len"],
        lenmode="fraction",
        yref="container",
        y=1.0,
        yanchor="top",
        ypad=4,
        thickness=14,
        outlinewidth=0,
        tickangle=0,
        tickfont=dict(size=COLORBAR_TICK_PX * text_scale),
        title=dict(text=plain(colorbar_title), side="top", font=dict(size=15 * text_scale)),
    )
    if ticks:
        colorbar.update(tickmode="array", tickvals=list(ticks), ticktext=list(ticks.values()))
    outline = [RAISED if i in raised else "#343a40" for i in range(len(values))]
    stations = go.Scatter(
        x=xy[:, 0],
        y=xy[:, 1],
        mode="markers+text",
        name="stations",
        showlegend=False,
        cliponaxis=False,
        text=[plain(label) if position else "" for label, position in zip(labels, positions, strict=True)],
        textposition=[position or "middle right" for position in positions],
        textfont=dict(size=LABEL_FONT_PX * text_scale, color=INK, shadow=HALO),
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        marker=dict(
            size=sizes,
            color=np.clip(values, cmin, cmax),
            colorscale=colorscale,
            cmin=cmin,
            cmax=cmax,
            showscale=True,
            colorbar=colorbar,
            line=dict(color=outline, width=[4.0 if i in raised else 1.2 for i in range(len(values))]),
        ),
    )
    figure = go.Figure([*_link_traces(network, closed_links), stations])
    _map_layout(figure, x_range, y_range, height_px, margin, text_scale)
    return figure


def congestion_map(
    network: RailwayNetwork,
    crowding: np.ndarray,
    *,
    truth: np.ndarray | None = None,
    closed_links: Sequence[tuple[str, str]] = (),
    raised: dict[int, str] | None = None,
    boardings: np.ndarray | None = None,
    height_px: int = MAP_HEIGHT_PX,
    width_px: int = MAP_WIDTH_PX,
    text_scale: float = 1.0,
) -> go.Figure:
    """Stations coloured by crowding % (stations,), true or predicted; with ``truth`` the hover shows both."""
    hover_lines = None
    if truth is not None:
        hover_lines = [f"simulator (truth): {value:.0f} %" for value in np.asarray(truth, dtype=np.float64)]
    return station_value_map(
        network,
        crowding,
        hover_lines=hover_lines,
        closed_links=closed_links,
        raised=raised,
        sizes_from=boardings,
        height_px=height_px,
        width_px=width_px,
        text_scale=text_scale,
    )


def receptive_field_map(
    network: RailwayNetwork,
    hops: np.ndarray,
    station: int,
    depth: int,
    *,
    height_px: int = MAP_HEIGHT_PX,
    width_px: int = MAP_WIDTH_PX,
    text_scale: float = 1.0,
) -> go.Figure:
    """Stations within ``depth`` hops of ``station`` coloured by their hop count, the rest faded: what a
    ``depth``-layer GCN can see when it predicts the station (names placed as on ``station_value_map``)."""
    hops = np.asarray(hops)
    margin = scaled_margin(dict(MAP_MARGIN, t=10, b=56), text_scale)  # below: the legend, on up to two rows
    xy = network.coordinates()
    sizes = marker_sizes(network.boardings())
    names = [station.name_en for station in network.stations]
    font_px = LABEL_FONT_PX * text_scale
    positions, x_range, y_range, _ = _fit(network, names, sizes, height_px, margin, width_px, font_px)
    hover = _station_names(network)
    traces = _link_traces(network, width=4.0, opacity=0.35, legend=False)
    groups = [(f"{plain(names[station])} itself", hops == 0)]
    groups += [(f"{h} stop{'s' if h > 1 else ''} away", hops == h) for h in range(1, depth + 1)]
    groups += [("out of reach", hops > depth)]
    for number, (label, mask) in enumerate(groups):
        last = number == len(groups) - 1
        colour = FADED if last else HOP_COLOURS[min(number, len(HOP_COLOURS) - 1)]
        index = np.flatnonzero(mask)
        traces.append(
            go.Scatter(
                x=xy[index, 0],
                y=xy[index, 1],
                mode="markers+text",
                name=label,
                cliponaxis=False,
                text=[plain(names[i]) if positions[i] else "" for i in index],
                textposition=[positions[i] or "middle right" for i in index],
                textfont=dict(size=font_px, color="#adb5bd" if last else INK, shadow=HALO),
                hovertext=[f"{hover[i]}<br>{hops[i]} stop{'s' if hops[i] != 1 else ''} away" for i in index],
                hovertemplate="%{hovertext}<extra></extra>",
                marker=dict(
                    size=sizes[index],
                    color=colour,
                    line=dict(color="#868e96" if last else "#343a40", width=3.0 if number == 0 else 1.0),
                ),
            )
        )
    figure = go.Figure(traces)
    _map_layout(figure, x_range, y_range, height_px, margin, text_scale)
    figure.update_layout(legend=dict(title=dict(text=""), itemsizing="constant"))  # below the map, as the lines'
    return figure


def spread_figure(
    network: RailwayNetwork, states: np.ndarray, station: int, *, height_px: int = 480, text_scale: float = 1.0
) -> go.Figure:
    """Small multiples, one map per layer: the signal Â^l e_s (layers + 1, stations) that starts at ``station``,
    each panel shaded relative to its own largest value; stations it has not reached are hollow."""
    states = np.asarray(states, dtype=np.float64)
    count = len(states)
    figure = make_subplots(
        rows=1,
        cols=count,
        horizontal_spacing=0.01,
        subplot_titles=[
            "start" if layer == 0 else f"after {layer} layer{'s' if layer > 1 else ''}" for layer in range(count)
        ],
    )
    xy = network.coordinates()
    sizes = marker_sizes(network.boardings()) * 0.7
    names = _station_names(network)
    segments = _segments([(xy[network.index[link.source]], xy[network.index[link.target]]) for link in network.links])
    for layer, state in enumerate(states):
        reached = np.abs(state) > 1e-12
        share = np.abs(state) / (np.abs(state).max() or 1.0)
        figure.add_trace(
            go.Scatter(
                x=segments[0],
                y=segments[1],
                mode="lines",
                line=dict(color="#ced4da", width=1.5),
                hoverinfo="skip",
                showlegend=False,
            ),
            row=1,
            col=layer + 1,
        )
        for mask, is_reached in ((~reached, False), (reached, True)):
            index = np.flatnonzero(mask)
            hover = [
                f"{names[i]}<br>signal {state[i]:.3g}"
                + (f" ({100 * share[i]:.0f} % of this layer's largest)" if is_reached else ": not reached yet")
                for i in index
            ]
            marker = dict(
                size=sizes[index],
                line=dict(
                    color="#343a40" if is_reached else "#adb5bd", width=[3.0 if i == station else 1.0 for i in index]
                ),
            )
            if is_reached:
                marker.update(
                    color=share[index],
                    colorscale=SIGNAL_COLORSCALE,
                    cmin=0,
                    cmax=1,
                    showscale=layer == count - 1,
                    colorbar=dict(
                        title=dict(text="share of the layer's largest", side="right"),
                        thickness=12,
                        tickformat=".0%",
                        outlinewidth=0,
                    ),
                )
            else:
                marker.update(color=WHITE)
            figure.add_trace(
                go.Scatter(
                    x=xy[index, 0],
                    y=xy[index, 1],
                    mode="markers",
                    showlegend=False,
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                    marker=marker,
                ),
                row=1,
                col=layer + 1,
            )
    figure.update_xaxes(visible=False, fixedrange=True, constrain="domain")
    for layer in range(count):
        suffix = "" if layer == 0 else str(layer + 1)
        figure.update_yaxes(
            visible=False,
            fixedrange=True,
            scaleanchor=f"x{suffix}",
            scaleratio=1,
            constrain="domain",
            row=1,
            col=layer + 1,
        )
    figure.update_layout(
        **base_layout(text_scale),
        height=height_px,
        margin=scaled_margin(dict(l=4, r=4, t=36, b=4), text_scale),
        hoverlabel=dict(font_size=15 * text_scale),
    )
    figure.update_annotations(font_size=16 * text_scale)  # the panels' titles
    return figure


def embedding_figure(
    points: np.ndarray,
    groups: Sequence[str],
    *,
    labels: dict[int, str] | None = None,
    edges: np.ndarray | None = None,
    height_px: int = 440,
    text_scale: float = 1.0,
) -> go.Figure:
    """A 2-D node embedding (nodes, 2), coloured by group with a legend above it; ``labels`` names a few nodes,
    placed apart as on the maps; ``edges`` (2, edges) draws the graph's edges between the embedded nodes. The page
    titles it."""
    points = np.asarray(points, dtype=np.float64)
    labels = labels or {}
    font_px = 13 * text_scale
    # the plot area (px) at the narrowest width the page gives it: less the axis titles, the margins and the legend
    plot_px = np.array([EMBEDDING_WIDTH_PX - 80 * text_scale, height_px - 160 * text_scale])
    span = np.ptp(points, axis=0) + 1e-12
    in_px = (points - points.min(axis=0)) / span * plot_px
    names = [labels.get(i, "") for i in range(len(points))]
    positions = label_positions(in_px, names, np.full(len(points), EMBEDDING_MARKER_PX), 1.0, font_px=font_px)
    directions = dict(LABEL_POSITIONS)
    reach = [(x - 12, y - 12, x + 12, y + 12) for x, y in in_px]  # every marker, with a little room
    reach += [
        _label_box(x, y, directions[position], len(name), EMBEDDING_MARKER_PX / 2, 1.0, font_px)
        for (x, y), name, position in zip(in_px, names, positions, strict=True)
        if name and position
    ]
    extent_px = np.array(reach).reshape(-1, 4)
    extent = np.array([extent_px[:, :2].min(axis=0), extent_px[:, 2:].max(axis=0)])  # (low, high) × (x, y), px
    ranges = points.min(axis=0) + extent / plot_px * span
    order = list(dict.fromkeys(groups))
    colours = line_colours(order)
    traces = []
    if edges is not None and len(edges[0]):
        xs, ys = _segments([(points[u], points[v]) for u, v in np.asarray(edges).T if u < v])
        traces.append(
            go.Scatter(
                x=xs, y=ys, mode="lines", line=dict(color="#ced4da", width=1.2), hoverinfo="skip", showlegend=False
            )
        )
    for group in order:
        index = [i for i, g in enumerate(groups) if g == group]
        traces.append(
            go.Scatter(
                x=points[index, 0],
                y=points[index, 1],
                mode="markers+text",
                name=plain(group),
                cliponaxis=False,
                text=[plain(names[i]) if positions[i] else "" for i in index],
                textposition=[positions[i] or "top center" for i in index],
                textfont=dict(size=font_px, shadow=HALO),
                hovertext=[plain(labels.get(i, f"node {i}")) for i in index],
                hovertemplate="%{hovertext}<extra></extra>",
                marker=dict(
                    size=EMBEDDING_MARKER_PX,
                    color=colours.get(group, INTERCHANGE_COLOUR),
                    line=dict(color="#343a40", width=1),
                ),
            )
        )
    figure = go.Figure(traces)
    axes = dict(showticklabels=False, zeroline=False, showgrid=True, gridcolor="#f1f3f5")  # ranges: names inside
    figure.update_xaxes(range=list(ranges[:, 0]), title="dimension 1", **axes)
    figure.update_yaxes(range=list(ranges[:, 1]), title="dimension 2", **axes)
    figure.update_layout(  # the legend above the plot (its margin grows to hold it), the axis titles below and left
        **base_layout(text_scale),
        height=height_px,
        margin=scaled_margin(dict(l=30, r=10, t=10, b=30), text_scale),
        hoverlabel=dict(font_size=15 * text_scale),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.02, yanchor="bottom", font=dict(size=13 * text_scale)),
    )
    return figure
