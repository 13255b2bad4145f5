"""What the AppTest modules share: running the app, reading its charts, typing into the sidebar."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def open_app(page: str | None = None, timeout_s: float = 120) -> AppTest:
    """app.py run once on ``page`` (a path under app_pages/; default the first page), without an exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout_s)
    if page is not None:
        at.switch_page(page)
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    """Run the script again (after widgets were set) and fail on any exception it raised."""
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def enter(at: AppTest, **inputs: str) -> AppTest:
    """Type into the sidebar's sentence boxes (``text``, ``pair``), then rerun."""
    widgets = {"text": at.sidebar.text_area, "pair": at.sidebar.text_input}
    for key, value in inputs.items():
        widgets[key](key=key).set_value(value)
    return rerun(at)


def chart_keys(at: AppTest) -> list[str]:
    """The element ids of every plotly chart, in page order (an id ends with the chart's key)."""
    return [element.proto.id for element in at.get("plotly_chart")]


def chart(at: AppTest, key: str) -> dict:
    """The figure (JSON) of the one plotly chart whose key is ``key``."""
    specs = [json.loads(element.proto.spec) for element in at.get("plotly_chart") if element.proto.id.endswith(key)]
    assert len(specs) == 1, (key, chart_keys(at))
    return specs[0]


def array(value) -> np.ndarray:
    """A plotly array from a figure's JSON: a list, or a typed array {"dtype", "bdata", "shape"} (plotly sends numpy
    arrays base64-encoded)."""
    if isinstance(value, dict):
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return data.reshape([int(size) for size in str(value.get("shape", "-1")).split(",")])
    return np.asarray(value)


def use_model(at: AppTest, name: str) -> AppTest:
    """Type a Hub id or a local model folder into the sidebar's "Other" box, then rerun."""
    at.sidebar.selectbox(key="model_choice").set_value("Other (type a Hub id)…")
    rerun(at)
    at.sidebar.text_input(key="custom_model").set_value(name)
    return rerun(at)
