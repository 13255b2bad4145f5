"""Clicks on the attention page's overview of all heads, handled outside the page script.

Streamlit keeps the on_select callback of every run's overview chart (its widget id changes with the figure), so a
callback defined in the page script would keep every run's output alive (ui/bound_widgets.py, rule 3). This
module's callback, bound with functools.partial, holds nothing but the number of heads.
"""

import streamlit as st

from figures.attention_figures import tile_from_point_index


def select_clicked_head(heads: int) -> None:
    """A click on a tile of the overview (chart key "overview") selects that layer and head."""
    points = st.session_state["overview"].selection.points
    if points:
        layer, head = tile_from_point_index(points[0]["point_index"], heads)
        st.session_state["layer"], st.session_state["head"] = layer + 1, head + 1
