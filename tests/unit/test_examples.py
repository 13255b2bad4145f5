"""The curated examples (assets/examples.json) say what to look at; what they say holds on the bundled model."""

import re

import pytest

from core.analysis.view_options import ViewOptions, attention_view
from ui.examples import EXAMPLES, example_for

BY_TITLE = {example["title"]: example for example in EXAMPLES}


def word_attention(model, example: dict, source: str, target: str) -> float:
    """Attention (0–1) from word ``source`` to word ``target`` in the example's layer and head, whole words."""
    result = model.analyse(example["text"], example["pair"] or None)
    labels, attention = attention_view(result.tokenized, result.attentions, ViewOptions(words=True))  # (L, H, w, w)
    head = attention[example["layer"] - 1, example["head"] - 1]
    return float(head[labels.index(source), labels.index(target)])


def percent_in_note(example: dict, before: str) -> float:
    """The first “NN %” the note gives before the words ``before``."""
    return float(re.search(rf"(\d+) %[^%]*?{re.escape(before)}", example["note"]).group(1)) / 100


def test_every_example_is_complete_and_found_by_its_sentences():
    assert len(BY_TITLE) == len(EXAMPLES) >= 6
    for example in EXAMPLES:
        assert example["text"] and example["note"]
        assert 1 <= example["layer"] <= 6 and (example["head"] == "mean" or 1 <= example["head"] <= 12)
        assert example_for(example["text"], example["pair"]) is example


@pytest.mark.parametrize(
    ("title", "source", "target", "before"),
    [
        ("Coreference: “it” → animal", "it", "animal", "“it”'s attention to “animal”"),
        ("Coreference: “it” → street", "it", "animal", ""),
        ("Agreement across a clause", "are", "keys", "of its attention to its subject"),
    ],
)
def test_the_percentages_in_the_notes_are_the_models(bundled_model, title, source, target, before):
    example = BY_TITLE[title]
    assert word_attention(bundled_model, example, source, target) == pytest.approx(
        percent_in_note(example, before), abs=0.005
    )


def test_the_japanese_note_tells_what_the_tokenizer_does(bundled_model):
    example = BY_TITLE["The chapter's Japanese example"]
    tokens = bundled_model.analyse(example["text"], None).tokenized.tokens
    assert tokens == ("[CLS]", "[UNK]", "は", "[UNK]", "日", "東", "京", "に", "行", "く", "[SEP]")
    assert "東 + 京" in example["note"] and "[UNK]" in example["note"]
    assert {"私", "今"} <= set(example["note"])  # the two characters it does not know
