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


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ((12, 9), (6, "mean")),  # a bigger model's choice: the last layer, the mean of the heads
        ((3, 2), (3, 2)),  # within range: untouched
        ((6, "mean"), (6, "mean")),  # not a number: untouched
    ],
)
def test_a_choice_beyond_a_smaller_model_is_brought_back_within_it(before, after):
    app = AppTest.from_function(page, args=before).run()
    assert not app.exception
    assert (app.session_state["layer"], app.session_state["head"]) == after


# --- rule 3: what a page-defined function holds ----------------------------------------------------------------------

HOLDER = """
import gc
import weakref

import plotly.graph_objects as go
import streamlit as st


class Output:  # stands for a run's model output, a global of the page script
    pass


output = Output()
runs = st.session_state.setdefault("runs", [])
gc.collect()
st.session_state["alive"] = sum(run() is not None for run in runs)  # earlier runs' outputs, between runs
runs.append(weakref.ref(output))
labels = {0: "zero", 1: "one"}
if "{widget}" == "format_func":
    st.selectbox("pick", [0, 1], key="pick", format_func=lambda option: labels[option])
elif "{widget}" == "mapping":
    st.selectbox("pick", [0, 1], key="pick", format_func=labels.get)
elif "{widget}" == "chart":
    st.plotly_chart(go.Figure(go.Bar(y=[len(runs), 1])), key="chart", on_select=lambda: None)
"""


@pytest.mark.parametrize(
    ("widget", "alive"),
    [
        ("mapping", 0),  # a mapping's method holds the mapping only
        ("format_func", 1),  # a page-defined label function keeps the last run until the next one
        ("chart", 5),  # a page-defined on_select of a changing chart keeps every run
    ],
)
def test_a_page_defined_function_keeps_its_runs_output_alive(widget, alive):
    app = AppTest.from_string(HOLDER.replace("{widget}", widget))
    for _ in range(6):
        app.run()
    assert not app.exception
    assert app.session_state["alive"] == alive
