"""The text view shades exactly the characters of each word and never lets markup through."""

from core.transformer.tokens import Word
from figures.highlight import highlighted_text_html

TEXT = "A <b>cat</b> sat."
WORDS = [
    Word("[CLS]", (0,), None, None),
    Word("A", (1,), 0, (0, 1)),
    Word("<b>cat</b>", (2, 3, 4), 0, (2, 12)),
    Word("sat", (5,), 0, (13, 16)),
    Word(".", (6,), 0, (16, 17)),
    Word("[SEP]", (7,), None, None),
]


def test_markup_in_the_text_is_escaped():
    html = highlighted_text_html([TEXT, ""], WORDS, [0.1, 0.2, 0.4, 0.2, 0.0, 0.1], focus=3)
    assert "<b>" not in html and "&lt;b&gt;cat&lt;/b&gt;" in html


def test_shading_is_relative_to_the_strongest_word_and_titles_are_exact():
    html = highlighted_text_html([TEXT, ""], WORDS, [0.1, 0.2, 0.4, 0.2, 0.0, 0.1], focus=3)
    assert 'title="0.400" style="background: rgba(209, 73, 91, 1.000)' in html
    assert 'title="0.200"' in html and "rgba(209, 73, 91, 0.500)" in html
    assert "box-shadow" in html.split("sat")[0].rsplit("<span", 1)[1]  # the focus word is underlined
    assert "special tokens: [CLS] 0.10, [SEP] 0.10" in html


def test_characters_between_words_are_kept_verbatim():
    html = highlighted_text_html([TEXT, ""], WORDS, [0.0] * 6, focus=1)
    text_only = "".join(part.split(">", 1)[-1] for part in html.split("<span")).replace("</span>", "")
    assert "A &lt;b&gt;cat&lt;/b&gt; sat." in text_only
