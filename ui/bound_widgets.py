"""Widgets bound to the URL (``bind="query-params"``): what keeping them right takes in Streamlit 1.67.

The app's other workarounds for bound widgets are explained where they are applied: app.py (a container that is
always drawn keeps a bound widget in place) and ui/overview.py (a callback that holds no run's output).
"""

import streamlit as st


def clamp(key: str, largest: int, fallback: int | str | None = None) -> None:
    """Keep the integer in ``st.session_state[key]`` at most ``largest`` (a smaller model than the last one has fewer
    layers or heads): set it to ``fallback``, or to ``largest`` without one. Assigned only when it must change, since
    each assignment to a bound widget's key rewrites the address bar; a value that is not an integer ("mean") stays."""
    value = st.session_state.get(key)
    if isinstance(value, int) and value > largest:
        st.session_state[key] = largest if fallback is None else fallback
