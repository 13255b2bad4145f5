"""Fuzzed text through the pages (AppTest): odd and hostile sentences never raise, and markup never reaches the graph's
HTML unescaped. The inputs are a fixed list plus a few mixes drawn with a fixed seed, so every run is the same."""

import random

import pytest

from tests.app.apptest import enter, open_app

CONTROL = "\x00\x01\x07\x08\x0b\x0c\x1b[31m\x7f\x85"
RTL = "\u202eevil\u202c \u200fשלום עולם\u200f مرحبا \u202b"
ZERO_WIDTH = "👩\u200d👩\u200d👧 fam\u200bily\ufeff no\u2060break \u200c"
COMBINING = "Z̷̡̢a̶̛l̷g̴o̵ e\u0301\u0301\u0301\u0301 n\u0303"
ASTRAL = "🦄🧪🏳️‍🌈 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎𠜱 🇯🇵"
CJK = "私は今日東京に行く。中文测试，한국어 문장。"
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = "</script><img src=x onerror=alert(1)>"
ATTRIBUTE = '" onmouseover="alert(1)" \'><svg onload=alert(1)>'
POOL = CONTROL + RTL + ZERO_WIDTH + COMBINING + ASTRAL + CJK + SCRIPT + BREAKOUT + " abcxyz.,!?\n\t"
UNESCAPED = ["<script>alert", "<img src=x", "<svg onload", 'onmouseover="alert']


def mix(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(POOL) for _ in range(length))


def nasty_inputs() -> list[str]:
    rng = random.Random(0)
    fixed = [
        CONTROL + " words",
        RTL,
        ZERO_WIDTH,
        COMBINING,
        ASTRAL,
        CJK,
        SCRIPT + " hello",
        BREAKOUT + " world",
        ATTRIBUTE,
        "x" * 700 + " " + "supercalifragilistic" * 20,
        "!?.,;:—…«»" * 5,
        " \n\t\r\n \u00a0 ",
        mix(rng, 3000),
    ]
    return fixed + [mix(rng, rng.randint(5, 80)) for _ in range(3)]


INPUTS = nasty_inputs()
SHORT = [text for text in INPUTS if len(text) < 1000]


def graph_data(html: str) -> list[str]:
    """The JSON of the graph's nodes and edges (``new vis.DataSet(…)``): where the words end up."""
    parts = html.split("new vis.DataSet(")[1:]
    return [part[: part.index(");")] for part in parts]


def assert_markup_escaped(at):
    for frame in at.get("iframe"):
        html = frame.proto.srcdoc
        assert not [bad for bad in UNESCAPED if bad in html], "user text reached the graph's HTML unescaped"
        data = graph_data(html)
        assert len(data) == 2 and not any("<" in part or ">" in part for part in data)  # labels, tooltips: \u003c


@pytest.fixture(scope="module")
def attention_app():
    return open_app()


@pytest.mark.parametrize("index", range(len(INPUTS)))
def test_attention_page_survives_nasty_text(attention_app, index):
    text, pair = INPUTS[index], SHORT[(index + 5) % len(SHORT)]  # one 512-token run is enough (~15 s)
    enter(attention_app, text=text, pair=pair)
    assert_markup_escaped(attention_app)
    if text.strip() and len(text) < 1000:
        assert attention_app.get("iframe") or attention_app.info  # a graph, or a notice saying why not


@pytest.mark.parametrize("page", ["app_pages/lsh.py", "app_pages/gnn.py"])
def test_the_other_text_pages_survive_nasty_text(page):
    at = open_app(page)
    for text in (BREAKOUT + " " + RTL, ZERO_WIDTH + COMBINING + ASTRAL, " \n\t ", CONTROL + CJK + SCRIPT):
        enter(at, text=text, pair=ATTRIBUTE)
        assert_markup_escaped(at)
