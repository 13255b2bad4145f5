"""The bundled sentences: the chapter's corpus and WordNet's usage examples, with their licence."""

from core.analysis.corpus import ASSETS, WORDNET_PATH, load_bundled_sentences, load_corpus, split_sentences


def test_over_a_thousand_sentences_ship_with_their_source_and_licence():
    sentences = load_bundled_sentences()
    assert len(sentences) >= 1000
    assert sentences[: len(load_corpus())] == load_corpus()  # the chapter's own sentences come first
    licence = (ASSETS / "wordnet" / "LICENSE").read_text(encoding="utf-8")
    assert "Princeton University" in licence and "WordNet" in licence
    assert "wordnet.princeton.edu" in (ASSETS / "wordnet" / "README.md").read_text(encoding="utf-8")


def test_the_wordnet_lines_read_as_sentences():
    lines = WORDNET_PATH.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(set(lines)) == 1200
    for line in lines:
        assert line.isascii() and line[0].isupper() and line[-1] in ".!?", line
        assert 6 <= len(line.split()) <= 25, line


def test_a_text_splits_at_line_ends_and_after_sentence_punctuation():
    assert split_sentences("One. Two!\n\n  Three?  Four") == ["One.", "Two!", "Three?", "Four"]
