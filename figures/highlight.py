"""The sentence as text, each word shaded by the attention one word pays to it: exact thanks to character spans."""

from __future__ import annotations

import html
from collections.abc import Sequence

from core.transformer.tokens import Word
from figures.theme import PRIMARY_RGB


def _shade(weight: float) -> str:
    red, green, blue = PRIMARY_RGB
    return f"rgba({red}, {green}, {blue}, {min(max(weight, 0.0), 1.0):.3f})"


def _sentence_html(text: str, words: Sequence[tuple[Word, float]], focus: Word, largest: float) -> str:
    """One sentence, every word's characters in a span shaded by weight / largest; the rest left as plain text."""
    parts, cursor = [], 0
    for word, weight in sorted(words, key=lambda item: item[0].span):
        start, end = word.span
        parts.append(html.escape(text[cursor:start]))
        outline = "box-shadow: inset 0 -3px #222; " if word is focus else ""  # underlined: no box over neighbours
        parts.append(
            f'<span title="{weight:.3f}" style="{outline}background: {_shade(weight / largest)}; border-radius: 3px; '
            f'padding: 1px 0;">{html.escape(text[start:end])}</span>'
        )
        cursor = end
    parts.append(html.escape(text[cursor:]))
    return "".join(parts)


def highlighted_text_html(texts: Sequence[str], words: Sequence[Word], weights: Sequence[float], focus: int) -> str:
    """HTML of the input sentences, word k shaded by ``weights[k]`` (attention from word ``focus`` to word k).

    Shading is relative to the largest weight on a word of the text (hover shows the exact weight). Special tokens
    have no characters in the text; their weights are listed after the sentences. All user text is HTML-escaped.
    """
    focus_word = words[focus]
    largest = max((weight for word, weight in zip(words, weights) if not word.special), default=0.0) or 1.0
    paragraphs = []
    for sentence, text in enumerate(texts):
        in_sentence = [(word, weight) for word, weight in zip(words, weights) if word.sentence == sentence]
        if text:
            sentence_html = _sentence_html(text, in_sentence, focus_word, largest)
            paragraphs.append(f"<p style='margin: 0.3em 0'>{sentence_html}</p>")
    specials = ", ".join(
        f"{html.escape(word.text)} {weight:.2f}" for word, weight in zip(words, weights) if word.special
    )
    if specials:
        paragraphs.append(f"<p style='margin: 0.3em 0; color: #666; font-size: 0.85em'>special tokens: {specials}</p>")
    return f"<div style='font-size: 1.35em; line-height: 1.9'>{''.join(paragraphs)}</div>"
