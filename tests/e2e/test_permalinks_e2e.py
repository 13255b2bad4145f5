"""Permalinks in a real headless Chromium: the address bar holds the view, and opening it elsewhere redraws it.

Every input that shapes a view is a widget bound to the URL (``bind="query-params"``). A user sets a view through
the page as they would; the address is then opened in a fresh browser context (a new Streamlit session, no shared
state but the server's caches), and the two views must be the same: the same sentence box, the same text on the
page, and byte for byte the same graph.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.browser import (
    GRAPH_IFRAME,
    SENTENCE_BOX,
    expect_rerun,
    new_page,
    server_log,
    type_sentence,
    wait_for_app_idle,
)
from tests.e2e.test_attention_e2e import hover_tile

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1600, "height": 1000}


@pytest.fixture
def session(browser, server):
    """Open a fresh browser context (its own Streamlit session) at a path of the app; collects dialogs."""
    url, log_path = server
    contexts = []

    def open_at(path: str = "/", graph: bool = True):
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = new_page(context)
        page.set_default_timeout(60_000)
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url + path, wait_until="domcontentloaded")
        wait_for_app_idle(page, graph=graph)
        return page

    yield open_at
    for context in contexts:
        context.close()
    print(f"--- streamlit log ({log_path}) ---\n{server_log(log_path)}")


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_for_query(page, **expected: str) -> None:
    """Wait until the address bar holds every ``key=value`` (the frontend writes it after the run)."""
    try:
        page.wait_for_function(
            """(expected) => { const q = new URLSearchParams(location.search);
                               return Object.entries(expected).every(([k, v]) => q.get(k) === v); }""",
            arg=expected,
            timeout=30_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"the address {page.url} lacks some of {expected}") from None


def view(page) -> dict[str, str | None]:
    """What a viewer sees: the sentence box, the main area's text and the graph's HTML."""
    graph = page.locator(GRAPH_IFRAME)
    return {
        "sentence": page.locator(SENTENCE_BOX).input_value(),
        "text": page.locator('[data-testid="stMain"]').inner_text(),
        "graph": graph.first.get_attribute("srcdoc") if graph.count() else None,
    }


def settled_view(page) -> dict[str, str | None]:
    """``view`` once two reads 300 ms apart agree: a link's widgets reach the page just after its first run."""
    last = view(page)
    for _ in range(20):
        page.wait_for_timeout(300)
        current = view(page)
        if current == last:
            return current
        last = current
    return last


def click_option(page, label: str, option: str) -> None:
    """Choose ``option`` in the selectbox labelled ``label`` (the arrow key opens its list)."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()


def test_a_link_reproduces_the_attention_view(session):
    page = session()
    type_sentence(page, "Graphs let every word send messages to the words it trusts.")
    point = hover_tile(page, 4, 6)
    with expect_rerun(page):
        page.mouse.click(point["x"], point["y"])
    with expect_rerun(page):
        click_option(page, "Layout", "Columns (from → to)")
    with expect_rerun(page):
        page.get_by_role("radio", name="Tokens", exact=True).click()
    with expect_rerun(page):
        page.get_by_text("Hide [CLS] / [SEP]").click()
    with expect_rerun(page):
        click_option(page, "Edges shown", "Top-k per word")
    wait_for_query(
        page,
        layer="5",
        head="7",
        layout="Columns (from → to)",
        units="Tokens",
        hide_special="true",
        rule="Top-k per word",
    )
    shown = settled_view(page)
    assert "Heatmap — layer 5, head 7" in shown["text"] and "trusts" in shown["graph"]
    assert "Graph — layer 5, head 7" in shown["graph"]

    reopened = session(urlsplit(page.url).path + "?" + urlsplit(page.url).query)
    assert settled_view(reopened) == shown
    assert query(reopened) == query(page)


def test_a_link_reproduces_a_view_of_another_page(session):
    page = session("/lsh", graph=False)
    with expect_rerun(page, graph=False):
        page.get_by_text("Centre the queries").click()
    slider = page.locator('[data-testid="stSlider"]', has_text="Chunk length m").get_by_role("slider")
    with expect_rerun(page, graph=False):
        slider.focus()
        slider.press("ArrowRight")
        slider.press("ArrowRight")
    wait_for_query(page, lsh_centre="true", lsh_chunk="6")
    # The quality tab draws the same controls: they keep their values, and still write the address once moved.
    with expect_rerun(page, graph=False):
        page.get_by_role("tab", name="Quality").click()
    with expect_rerun(page, graph=False):
        slider.focus()
        slider.press("ArrowRight")
    wait_for_query(page, lsh_centre="true", lsh_chunk="7")
    shown = settled_view(page)
    assert "This sentence, live" in shown["text"]
    assert re.search(r"Chunk length m\s*7", shown["text"]), shown["text"][:2000]

    reopened = session("/lsh?" + urlsplit(page.url).query, graph=False)
    assert settled_view(reopened) == shown


def test_a_tampered_link_is_read_safely(session):
    markup = '<img src=x onerror="alert(1)">'
    page = session(
        "/?layer=99&head=banana&units=%3Cscript%3E&rule=__import__&present=maybe&text="
        + markup.replace(" ", "%20").replace('"', "%22").replace("=", "%3D")
    )
    assert page.locator(SENTENCE_BOX).input_value() == markup  # text is text: any string is a sentence
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.dialogs == []
    assert page.locator('[data-testid="stMain"] img[src="x"]').count() == 0
    left = query(page)
    for rejected in ("layer", "head", "units", "rule", "present"):
        assert rejected not in left, (rejected, left)  # Streamlit dropped what it could not read
    assert "Heatmap — layer 4, head 2" in view(page)["text"]  # the defaults stand
