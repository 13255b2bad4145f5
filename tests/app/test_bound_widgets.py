"""ui.bound_widgets.clamp, run by Streamlit's AppTest as a page would run it."""

import pytest
from streamlit.testing.v1 import AppTest


def page(layer, head):
    import streamlit as st

    from ui.bound_widgets import clamp

    st.session_state.setdefault("layer", layer)
    st.session_state.setdefault("head", head)
    clamp("layer", 6)
    clamp("head", 4, fallback="mean")


@pytest.mark.parametrize(("before", "after"), [
    ((12, 9), (6, "mean")),  # a bigger model's choice: the last layer, the mean of the heads
    ((3, 2), (3, 2)),  # within range: untouched
    ((6, "mean"), (6, "mean")),  # not a number: untouched
])
def test_a_choice_beyond_a_smaller_model_is_brought_back_within_it(before, after):
    app = AppTest.from_function(page, args=before).run()
    assert not app.exception
    assert (app.session_state["layer"], app.session_state["head"]) == after
