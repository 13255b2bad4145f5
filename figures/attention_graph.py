"""One attention head's word graph as a standalone, offline HTML page (pyvis / vis-network).

Every layout is computed here, in canvas pixels (x to the right, y down), and handed to vis-network with physics
off, so the same graph always draws the same picture. Edge width and opacity encode the attention weight; hovering
an edge shows the exact weight, hovering a node its token and index.

Safety: labels are user text. They reach the page only as JSON inside a script (Jinja's ``tojson`` writes ``<``,
``>``, ``&`` and ``'`` as ``\\u`` escapes) and are drawn on a canvas or shown as tooltips, which the vis-network
bundled with pyvis (9.1.2) fills with ``innerText``. The page uses its own template (``templates/``), which leaves
out pyvis's CDN links (bootstrap, unused) and pyvis's "tooltip_link" popup, the one place where pyvis would put a
title into ``innerHTML``.
"""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import networkx as nx
import numpy as np
import pyvis
from pyvis.network import Network

from figures.theme import FONT_FAMILY, GRAPH_BLUE_RGB, INK, PRIMARY

LAYOUTS = ("arc", "circle", "columns", "force")
MAX_GRAPH_NODES = 64  # more nodes than this make no readable drawing: the pages then draw part of the graph, or none
LAYOUT_NAMES = {
    "arc": "Arc (sentence order)",
    "circle": "Circle",
    "columns": "Columns (from → to)",
    "force": "Force-directed",
}

NodeId = int | str  # a token index, or "from:i" / "to:i" for the two copies of token i in the columns layout
Point = tuple[float, float]  # canvas pixels, x to the right, y down
Bounds = tuple[float, float, float, float]  # left, top, right, bottom

FONT_PX = 18
CHAR_PX = 0.6 * FONT_PX  # average glyph width of a sans-serif font, rounded up
BOX_MARGIN = {"top": 4, "right": 7, "bottom": 4, "left": 7}  # label to box border, pixels
MIN_BOX_PX = 44
ARC_MIN_BOX_PX = 30  # arc layout: boxes as narrow as their words, so that more of a sentence fits across
BOX_HEIGHT_PX = 1.2 * FONT_PX + BOX_MARGIN["top"] + BOX_MARGIN["bottom"]
GAP_PX = 14  # between neighbouring boxes
ARC_GAP_PX = 8  # arc layout: between neighbouring words on the line
ROW_PX = BOX_HEIGHT_PX + 5  # columns layout: one token per row
COLUMN_GAP_PX = 440  # columns layout: room for the edges between the inner sides of the two columns
MIN_RADIUS_PX = 150  # circle layout: room for the edges of a short sentence
FORCE_SPREAD_PX = 65  # force layout: least radius, growing with the square root of the number of tokens
SELF_LOOP_PX = 14  # radius of the loop drawn for a word's attention to itself
VIEW_PADDING_PX = 24
MAX_SCALE = 1.3  # never zoom a small graph in further than this on load
MIN_ARC_SCALE = 0.6  # arc layout: a sentence too long to fit is drawn no smaller (11 px type); drag for the rest
TITLE_PX = 36  # screen pixels kept free for the title above the drawing
FRAME_SIZES = {"min_px": 340, "max_px": 680, "bottom_px": 12}  # in the app: the iframe fills the window below it

NODE_COLOR = {"background": "#f1f3f5", "border": "#adb5bd"}
SPECIAL_NODE_COLOR = {"background": "#f8f9fa", "border": "#dee2e6"}
SPECIAL_INK = "#868e96"
HIGHLIGHT = {"background": "#dbe4ff", "border": "#2f5fd0"}
FOCUS_NODE_COLOR = {"background": "#fde2e6", "border": PRIMARY}  # as the text view marks the focus word
CAPTION_COLOR = "#495057"

CURVE_ROUNDNESS = 0.15  # circle and force: vis "curvedCW" bends i → j and j → i to opposite sides
ARC_RISE = 0.3  # arc layout: an arc rises 0.3 × its length (forward edges above the line, backward ones below)…
ARC_MIN_RISE_PX = 36  # …but clears the boxes, so edges between neighbouring words stay visible…
ARC_MAX_RISE_PX = 330  # …and stays within a canvas's height at MIN_ARC_SCALE, so long arcs flatten
ARC_LOOP_ANGLE = math.pi / 2  # arc layout: a word's attention to itself loops straight up, clear of its neighbours

# The app's server hands out static/vis-9.1.2 (pyvis's copy of vis-network) at this path, relative to the page
# (Streamlit's static serving, .streamlit/config.toml); a graph drawn in the app's iframes loads it from there.
VIS_SERVED = "app/static/vis-9.1.2"
TEMPLATE = "attention_graph.html"


def template_environment(vis_from: str | None) -> jinja2.Environment:
    """Our template and pyvis's files; ``vis_from``: where the page loads vis-network from (None: inlined)."""
    folders = [Path(__file__).parent / "templates", Path(pyvis.__file__).parent / "templates"]
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(folders), autoescape=True)
    environment.globals["vis_from"] = vis_from
    return environment


TEMPLATES = {False: template_environment(None), True: template_environment(VIS_SERVED)}


def graph_html(
    graph: nx.DiGraph,
    layout: str,
    *,
    height_px: int = 560,
    title: str = "",
    served: bool = False,
    fill_window: bool = False,
) -> str:
    """HTML page that draws ``graph`` in ``layout``: standalone (vis-network inlined, 690 KB, nothing loaded from
    elsewhere; a canvas ``height_px`` high), or ``served``: vis-network loaded from the app's server, for the app's
    own iframes (about 20 KB). The canvas is ``height_px`` high, or with ``fill_window`` (in an app's iframe) fills
    the iframe, which then reaches from where it stands down to the window's bottom edge (FRAME_SIZES)."""
    height = "100vh" if fill_window else f"{height_px}px"
    network = Network(directed=True, cdn_resources="in_line", height=height, width="100%", heading=title)
    network.templateEnv, network.path = TEMPLATES[served], TEMPLATE
    positions = graph_positions(graph, layout)
    for node_id, (x, y) in positions.items():
        network.add_node(node_id, x=x, y=y, **node_style(graph, node_id))
    for source, target in graph.edges:
        ends = edge_ends(source, target, layout)
        shape = edge_shape(*(positions[end] for end in ends), layout)
        network.add_edge(*ends, **shape, **edge_style(graph, source, target))
    min_box = min_box_px(graph, layout)
    view = view_options(graph, layout, positions, min_box, top_px=TITLE_PX if title else 0)
    network.options = {"vis": vis_options(min_box), "view": view | ({"frame": FRAME_SIZES} if fill_window else {})}
    return network.generate_html(notebook=False)


def sentence_order(graph: nx.DiGraph) -> list[int]:
    """Token nodes sorted by their ``position`` in the sentence."""
    return sorted(graph, key=lambda node: graph.nodes[node]["position"])


def token_of(node_id: NodeId) -> int:
    """The token a drawn node stands for ("from:3" and "to:3" both stand for token 3)."""
    return node_id if isinstance(node_id, int) else int(node_id.partition(":")[2])


def edge_ends(source: int, target: int, layout: str) -> tuple[NodeId, NodeId]:
    """Drawn nodes that the edge source → target joins: the left and the right copy in the columns layout."""
    return (f"from:{source}", f"to:{target}") if layout == "columns" else (source, target)


def box_width(label: str, minimum: float = MIN_BOX_PX) -> float:
    """Estimated width in pixels of the box vis draws around ``label``, at least ``minimum``."""
    return max(minimum, len(label) * CHAR_PX + BOX_MARGIN["left"] + BOX_MARGIN["right"])


def graph_positions(graph: nx.DiGraph, layout: str) -> dict[NodeId, Point]:
    """Canvas position of every drawn node, keyed by node id (token index; "from:i"/"to:i" in columns)."""
    order = sentence_order(graph)
    widths = [box_width(graph.nodes[token]["label"], min_box_px(graph, layout)) for token in order]
    if layout == "arc":
        return dict(zip(order, arc_points(widths)))
    if layout == "circle":
        return dict(zip(order, circle_points(widths)))
    if layout == "columns":
        left, right = column_points(widths)
        return {f"from:{token}": point for token, point in zip(order, left)} | {
            f"to:{token}": point for token, point in zip(order, right)
        }
    if layout == "force":
        return force_points(graph)
    raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")


def arc_points(widths: list[float]) -> list[Point]:
    """Boxes left to right in sentence order on the line y = 0, each clear of the next by ARC_GAP_PX."""
    xs = np.cumsum([0.0, *widths[:-1]]) + np.arange(len(widths)) * ARC_GAP_PX + np.asarray(widths) / 2  # (n,) centres
    return [(round(float(x), 1), 0.0) for x in xs]


def circle_points(widths: list[float]) -> list[Point]:
    """Boxes on a circle around (0, 0) in sentence order, clockwise from the top, the widest box clear of its
    neighbours."""
    n = len(widths)
    if n < 2:
        return [(0.0, 0.0)] * n
    chord = max(widths) + GAP_PX  # between neighbours: room for the widest box
    radius = max(MIN_RADIUS_PX, chord / (2 * math.sin(math.pi / n)))
    angles = -math.pi / 2 + 2 * math.pi * np.arange(n) / n  # (n,) y points down, so growing angles run clockwise
    return [(round(radius * math.cos(a), 1), round(radius * math.sin(a), 1)) for a in angles.tolist()]


def column_points(widths: list[float]) -> tuple[list[Point], list[Point]]:
    """Left ("from") and right ("to") columns of equal boxes, one token per row from the top."""
    half_span = round(COLUMN_GAP_PX / 2 + max(widths, default=0.0) / 2, 1)  # centre of a column from x = 0
    rows = [round(row * ROW_PX, 1) for row in range(len(widths))]
    return [(-half_span, y) for y in rows], [(half_span, y) for y in rows]


def force_points(graph: nx.DiGraph) -> dict[int, Point]:
    """Spring layout (heavier edges pull harder; seeded) scaled to pixels, overlapping boxes then nudged apart."""
    nodes = list(graph)
    unit = nx.spring_layout(graph, weight="weight", seed=0)  # centres in [-1, 1]²
    centres = np.array([unit[node] for node in nodes], dtype=float).reshape(-1, 2)  # (n, 2)
    widths = np.array([box_width(graph.nodes[node]["label"]) for node in nodes])  # (n,)
    spread = separate_boxes(FORCE_SPREAD_PX * math.sqrt(len(nodes)) * centres, widths)
    return {node: (round(x, 1), round(y, 1)) for node, (x, y) in zip(nodes, spread.tolist())}


def separate_boxes(centres: np.ndarray, widths: np.ndarray, passes: int = 200) -> np.ndarray:
    """Push overlapping boxes (``centres`` (n, 2), ``widths`` (n,), one height) apart, each pair along the axis where
    it overlaps less, until no two overlap or ``passes`` run out."""
    n = len(centres)
    centres = centres.copy()
    extent = np.stack([widths + GAP_PX, np.full(n, BOX_HEIGHT_PX + GAP_PX)], axis=1)  # (n, 2) box plus gap
    earlier = np.where(np.arange(n)[:, None] > np.arange(n)[None, :], 1.0, -1.0)  # (n, n) tie-break, same centres
    for _ in range(passes):
        offset = centres[:, None, :] - centres[None, :, :]  # (n, n, 2) from box j to box i
        overlap = (extent[:, None, :] + extent[None, :, :]) / 2 - np.abs(offset)  # (n, n, 2)
        clash = (overlap > 0).all(axis=2) & ~np.eye(n, dtype=bool)  # (n, n)
        if not clash.any():
            break
        axis = (overlap[..., 1] < overlap[..., 0])[..., None].astype(int)  # (n, n, 1) 0: x, 1: y
        direction = np.sign(np.take_along_axis(offset, axis, axis=2)[..., 0])  # (n, n)
        direction = np.where(direction == 0, earlier, direction)
        push = np.where(clash, direction * np.take_along_axis(overlap, axis, axis=2)[..., 0] / 2, 0.0)  # (n, n)
        centres += np.stack([(push * (axis[..., 0] == 0)).sum(1), (push * (axis[..., 0] == 1)).sum(1)], axis=1)
    return centres


def curve_midpoint(a: Point, b: Point, roundness: float) -> Point:
    """Middle of vis-network's "curvedCW" edge from a to b (a quadratic Bézier; vis's own control point)."""
    (ax, ay), (bx, by) = a, b
    factor = 0.5 * roundness + 0.5
    angle = math.atan2(ay - by, bx - ax) + factor * math.pi
    length = math.hypot(bx - ax, by - ay)
    control = (ax + factor * length * math.sin(angle), ay + factor * length * math.cos(angle))
    return (0.25 * ax + 0.5 * control[0] + 0.25 * bx, 0.25 * ay + 0.5 * control[1] + 0.25 * by)


def curve_rise(factor: np.ndarray) -> np.ndarray:
    """Rise over length of a horizontal "curvedCW" edge (curve_midpoint's offset), for factor = (1 + roundness) / 2."""
    return 0.5 * factor * -np.cos(factor * np.pi)


def arc_roundness(length: float) -> float:
    """Roundness of an arc-layout edge of this length: it rises ARC_RISE × length, clamped to [ARC_MIN_RISE_PX,
    ARC_MAX_RISE_PX]."""
    length = max(length, 1.0)
    rise = min(max(ARC_RISE, ARC_MIN_RISE_PX / length), ARC_MAX_RISE_PX / length)
    factors = np.linspace(0.5, 0.9, 81)  # (81,) beyond 0.9 vis's curve leans too far towards its source
    return round(2 * float(np.interp(rise, curve_rise(factors), factors)) - 1, 3)


def edge_roundness(a: Point, b: Point, layout: str) -> float:
    """Curvature (vis "curvedCW" roundness) of the edge drawn from a to b."""
    return arc_roundness(math.dist(a, b)) if layout == "arc" else CURVE_ROUNDNESS


def edge_shape(a: Point, b: Point, layout: str) -> dict:
    """vis options of the edge drawn from a to b that depend on the layout: a straight line without arrowhead
    between the columns (edges always run from left to right), a curved arrow otherwise."""
    if layout == "columns":
        return {"smooth": {"enabled": False}, "arrows": {"to": {"enabled": False}}}
    curve = {"enabled": True, "type": "curvedCW", "roundness": edge_roundness(a, b, layout)}
    loop = {"selfReference": {"size": SELF_LOOP_PX, "angle": ARC_LOOP_ANGLE}} if layout == "arc" else {}
    return {"smooth": curve, "arrows": {"to": {"enabled": True}}, **loop}


def is_special(label: str) -> bool:
    """[CLS], [SEP], [PAD]…: a label in square brackets."""
    return len(label) > 2 and label.startswith("[") and label.endswith("]")


def visible_label(label: str) -> str:
    """The label as drawn: "␣" for a blank token, which would otherwise be an empty box (or, in pyvis, its id)."""
    return label if label.strip() else "␣"


def node_title(label: str, token: int, node_id: NodeId) -> str:
    """Hover text of a node, e.g. "it (7)", or "from it (7)" for the left copy in the columns layout."""
    side = node_id.partition(":")[0] + " " if isinstance(node_id, str) else ""
    return f"{side}{label} ({token})"


def node_style(graph: nx.DiGraph, node_id: NodeId) -> dict:
    """vis options of one drawn node: label, hover title, colours (a node whose ``sink`` attribute is true, an
    attention sink such as [CLS] or a decoder's first token, muted, as is any label in square brackets; a node whose
    ``focus`` attribute is true, the page's focus word, outlined in the accent colour)."""
    token = token_of(node_id)
    label = visible_label(graph.nodes[token]["label"])
    special = graph.nodes[token].get("sink", False) or is_special(label)
    colour = FOCUS_NODE_COLOR if graph.nodes[token].get("focus") else SPECIAL_NODE_COLOR if special else NODE_COLOR
    return {
        "label": label,
        "title": node_title(label, token, node_id),
        "shape": "box",
        "color": {**colour, "highlight": HIGHLIGHT, "hover": HIGHLIGHT},
        "font": {"color": SPECIAL_INK if special else INK},
    }


def edge_color(share: float) -> str:
    """The accent colour, more opaque for a heavier edge (share = weight / largest weight)."""
    r, g, b = GRAPH_BLUE_RGB
    return f"rgba({r}, {g}, {b}, {0.2 + 0.8 * share:.3f})"


def edge_title(graph: nx.DiGraph, source: int, target: int) -> str:
    """Hover text of an edge, e.g. "animal (2) → it (7): 0.432"."""
    weight = graph.edges[source, target]["weight"]
    source_label, target_label = (visible_label(graph.nodes[token]["label"]) for token in (source, target))
    return f"{source_label} ({source}) → {target_label} ({target}): {weight:.3f}"


def edge_style(graph: nx.DiGraph, source: int, target: int) -> dict:
    """vis options of one edge: width and opacity from its share, exact weight on hover."""
    share = graph.edges[source, target]["share"]
    highlight = f"rgb{GRAPH_BLUE_RGB}"
    return {
        "width": round(0.5 + 7 * share, 2),
        "color": {"color": edge_color(share), "highlight": highlight, "hover": highlight},
        "title": edge_title(graph, source, target),
    }


def min_box_px(graph: nx.DiGraph, layout: str) -> float:
    """Narrowest box drawn: the widest label's box in the columns layout (equal boxes line up), ARC_MIN_BOX_PX in
    the arc layout, else MIN_BOX_PX."""
    if layout == "columns":
        return max((box_width(label) for _, label in graph.nodes(data="label")), default=MIN_BOX_PX)
    return ARC_MIN_BOX_PX if layout == "arc" else MIN_BOX_PX


def vis_options(min_box: float) -> dict:
    """vis-network options: fixed positions, no physics, hover tooltips, boxes at least ``min_box`` px wide."""
    return {
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": True, "tooltipDelay": 80, "zoomView": True, "dragView": True},
        "nodes": {
            "margin": BOX_MARGIN,
            "borderWidth": 1,
            "shapeProperties": {"borderRadius": 6},
            "widthConstraint": {"minimum": min_box - BOX_MARGIN["left"] - BOX_MARGIN["right"]},  # vis adds margins
            "font": {"face": FONT_FAMILY, "size": FONT_PX},
        },
        "edges": {
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.45}},
            "arrowStrikethrough": False,
            "selfReference": {"size": SELF_LOOP_PX, "angle": math.pi / 4},
            "hoverWidth": 0.5,
            "selectionWidth": 1,
        },
    }


def column_captions(positions: dict[NodeId, Point]) -> list[dict]:
    """ "from" and "to" headers one row above the left and the right column."""
    xs, ys = [x for x, _ in positions.values()], [y for _, y in positions.values()]
    top = min(ys, default=0.0) - ROW_PX
    return [{"text": "from", "x": min(xs, default=0.0), "y": top}, {"text": "to", "x": max(xs, default=0.0), "y": top}]


def view_bounds(
    graph: nx.DiGraph, layout: str, positions: dict[NodeId, Point], captions: list[dict], min_box: float
) -> Bounds:
    """Box around everything drawn: node boxes, self-loops, the middle of every curved edge, captions; padded."""
    half_widths = {n: box_width(graph.nodes[token_of(n)]["label"], min_box) / 2 for n in positions}
    xs = [x + side * half_widths[n] for n, (x, _) in positions.items() for side in (-1, 1)]
    ys = [y + side * BOX_HEIGHT_PX / 2 for _, y in positions.values() for side in (-1, 1)]
    xs += [caption["x"] for caption in captions]
    ys += [caption["y"] - FONT_PX for caption in captions]
    loops = [] if layout == "columns" else [n for n in positions if graph.has_edge(n, n)]
    ys += [positions[n][1] - BOX_HEIGHT_PX / 2 - 2 * SELF_LOOP_PX for n in loops]  # a loop rises above its box
    if layout != "columns":
        ends = [(positions[source], positions[target]) for source, target in graph.edges]
        midpoints = [curve_midpoint(a, b, edge_roundness(a, b, layout)) for a, b in ends]
        xs += [x for x, _ in midpoints]
        ys += [y for _, y in midpoints]
    if not xs:
        return (-100.0, -100.0, 100.0, 100.0)
    pad = VIEW_PADDING_PX
    return (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)


def view_options(graph: nx.DiGraph, layout: str, positions: dict[NodeId, Point], min_box: float, top_px: int) -> dict:
    """What the page needs besides vis: the region to fit on load (below ``top_px`` screen pixels kept for the
    title; never smaller than ``min_scale``: then the region's left end is shown, and a drag shows the rest) and the
    column captions to draw."""
    captions = column_captions(positions) if layout == "columns" else []
    return {
        "bounds": [round(v, 1) for v in view_bounds(graph, layout, positions, captions, min_box)],
        "top_px": top_px,
        "max_scale": MAX_SCALE,
        "min_scale": MIN_ARC_SCALE if layout == "arc" else 0.0,
        "captions": captions,
        "caption_font": f"600 {FONT_PX}px {FONT_FAMILY}",
        "caption_color": CAPTION_COLOR,
    }
