"""`python -m core.translate` prints the shipped translator's translation, and its attention maps as JSON."""

import json
import subprocess
import sys

import numpy as np
import pytest

from core.translation.model import translate
from tests.conftest import ROOT


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "core.translate", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_prints_the_translation_of_the_chapter_sentence():
    completed = run("私は今日東京に行く")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "I go to Tokyo today"


def test_json_holds_the_words_and_every_attention_map_of_the_model(shipped):
    completed = run("先生 は 明日 駅 に 行く", "--json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert list(document) == ["source", "target", "encoder_attention", "cross_attention", "decoder_attention"]
    assert document["source"] == ["先生", "は", "明日", "駅", "に", "行く"]
    assert " ".join(document["target"]) == "the teacher will go to the station tomorrow"
    expected = translate(shipped.model, document["source"])
    for name in ("encoder_attention", "cross_attention", "decoder_attention"):
        assert np.allclose(np.array(document[name]), getattr(expected, name), atol=1e-7)
    layers, heads = shipped.config.encoder_layers, shipped.config.heads
    s, t = len(document["source"]), len(document["target"])
    assert np.array(document["encoder_attention"]).shape == (layers, heads, s, s)
    assert np.array(document["cross_attention"]).shape == (shipped.config.decoder_layers, heads, t, s)
    assert np.array(document["decoder_attention"]).shape == (shipped.config.decoder_layers, heads, t, t)


@pytest.mark.parametrize(
    "text, message",
    [
        ("私はパリに行く", "“パリ” (at character 3)"),
        ("   ", "no text"),
        ("私は今日東京に行く" * 3, "at most 16"),
    ],
)
def test_bad_input_gets_a_message_and_exit_status_2_without_a_traceback(text, message):
    completed = run(text)
    assert completed.returncode == 2
    assert message in completed.stderr and "Traceback" not in completed.stderr
    assert completed.stdout == ""
