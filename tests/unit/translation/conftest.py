"""The shipped translator, loaded once per test session."""

import pytest


@pytest.fixture(scope="session")
def shipped():
    from core.translation.checkpoint import load

    return load()
