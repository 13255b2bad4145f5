"""Fixtures of the browser tests: one Streamlit server and one headless Chromium per test module."""

import pytest

from harness.browser import launch_chromium, streamlit_server


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as (url, process):
        yield url, process.log_path


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
