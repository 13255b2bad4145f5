"""Presentation mode (sidebar toggle, ``?present=true``): what the pages need to know of it.

In presentation mode the page's type is 1.25 × larger (``ui/presentation.css`` sets the root font size to 20 px, and
Streamlit sizes in rem). Text drawn inside figures (plotly, pyvis, SVG) does not follow the root font size, so each
page passes ``text_scale()`` to its figure builders, which multiply their font sizes by it.
"""

import streamlit as st

PRESENTATION_TEXT_SCALE = 1.25  # 20 px root font size / Streamlit's 16 px


def presenting() -> bool:
    """True while presentation mode is on."""
    return bool(st.session_state.get("present"))


def text_scale() -> float:
    """How much larger than usual text inside figures is drawn: 1.25 while presenting, else 1."""
    return PRESENTATION_TEXT_SCALE if presenting() else 1.0
