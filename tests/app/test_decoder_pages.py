"""Every page with a decoder chosen in the sidebar: a local random GPT-2 and Llama folder (no weights can be
downloaded here), typed under "Other". No page raises or shows an error; the pages that read the model say what a
decoder changes, and the two that do not (stations, translator) run as before."""

import pytest

from tests.app.apptest import open_app, use_model

PAGES = [
    "app_pages/attention.py",
    "app_pages/translator.py",
    "app_pages/stations.py",
    "app_pages/lsh.py",
    "app_pages/gnn.py",
]
SAYS_DECODER = {  # what the pages that read the model say of a decoder
    "app_pages/attention.py": "This model is a **decoder**",
    "app_pages/lsh.py": "this decoder has separate ones",
    "app_pages/gnn.py": "A decoder layer is pre-norm",
}


@pytest.mark.parametrize("family", ["gpt2", "llama"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_a_decoder(decoder_folders, family, page):
    at = use_model(open_app(page), str(decoder_folders[family]))
    assert not at.error, [error.value for error in at.error]
    assert at.session_state["model"] == str(decoder_folders[family])
    text = " ".join(element.value for kind in ("caption", "markdown", "info") for element in at.get(kind))
    assert SAYS_DECODER.get(page, "") in text
