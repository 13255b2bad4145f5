"""Clicks on the attention page's grids of all heads (the overview and the importance map), and its heads switched
off, handled outside the page script.

Streamlit keeps the on_select callback of every run's overview chart (its widget id changes with the figure), so a
callback defined in the page script would keep every run's output alive (ui/bound_widgets.py, rule 3). This
module's callback, bound with functools.partial, holds nothing but the number of heads.
"""

import streamlit as st

from figures.attention_figures import tile_from_point_index


def select_clicked_head(heads: int, chart: str) -> None:
    """A click on a tile of a grid of heads (the chart with key ``chart``) selects that layer and head."""
    points = st.session_state[chart].selection.points
    if points:
        layer, head = tile_from_point_index(points[0]["point_index"], heads)
        st.session_state["layer"], st.session_state["head"] = layer + 1, head + 1


def head_name_of(layer: int, head: int) -> str:
    """ "L2 H5" for layer 1, head 4 (0-based): how the multiselect of heads switched off names a head."""
    return f"L{layer + 1} H{head + 1}"


def head_names(layers: int, heads: int) -> dict[str, tuple[int, int]]:
    """Every head's name → (layer, head), 0-based, layer by layer."""
    return {head_name_of(layer, head): (layer, head) for layer in range(layers) for head in range(heads)}


def toggle_switched_off(name: str) -> None:
    """The button beside the multiselect (key "heads_off"): switch head ``name`` off, or back on."""
    chosen = list(st.session_state.get("heads_off", []))
    st.session_state["heads_off"] = [other for other in chosen if other != name] if name in chosen else [*chosen, name]
