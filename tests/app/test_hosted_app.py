"""Hosted mode through the app (AppTest): with TRANSFORMER_GRAPH_HOSTED=1 a model name that is a path is refused."""

import pytest

from core.transformer.models import HOSTED_ENV, bundled_model_folder
from tests.app.apptest import open_app, rerun

OTHER = "Other (type a Hub id)…"


def choose_model(at, name: str):
    at.sidebar.selectbox(key="model_choice").set_value(OTHER)
    rerun(at)
    at.sidebar.text_input(key="custom_model").set_value(name)
    return rerun(at)


def fallback_errors(at) -> list[str]:
    return [error.value for error in at.error if "Showing the bundled model instead" in error.value]


@pytest.fixture
def app():
    return open_app()


def test_locally_a_model_folder_on_disk_can_be_chosen(app, monkeypatch):
    monkeypatch.delenv(HOSTED_ENV, raising=False)
    choose_model(app, str(bundled_model_folder()))
    assert not app.error and app.get("iframe")  # the same weights, loaded from their folder


@pytest.mark.parametrize("name", ["../../etc", "/etc/passwd", "~/models", "absolute bundled folder"])
def test_hosted_app_refuses_paths_and_keeps_the_bundled_model(app, monkeypatch, name):
    monkeypatch.setenv(HOSTED_ENV, "1")
    name = str(bundled_model_folder()) if name == "absolute bundled folder" else name
    choose_model(app, name)
    (message,) = fallback_errors(app)
    assert "is not a model name" in message and "loads no folders from its disk" in message
    assert app.get("iframe") and "animal" in app.get("iframe")[0].proto.srcdoc  # the bundled model draws the example
    app.sidebar.selectbox(key="model_choice").set_value("sentence-transformers/all-MiniLM-L6-v2")
    rerun(app)
    assert not app.error and app.get("iframe")
