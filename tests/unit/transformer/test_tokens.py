"""Tokenization keeps exact token → word → character-span mappings, on ordinary and odd text."""

import pytest

from core.transformer.tokens import EmptyTextError


def test_tokens_are_exactly_the_tokenizers(bundled_model):
    tokenized = bundled_model.tokenize("The animal didn't cross the street.")
    ids = bundled_model.tokenizer("The animal didn't cross the street.")["input_ids"]
    expected = bundled_model.tokenizer.convert_ids_to_tokens(ids)
    assert list(tokenized.tokens) == expected
    assert tokenized.tokens[0] == "[CLS]" and tokenized.tokens[-1] == "[SEP]"


def test_subword_pieces_form_one_word_with_its_exact_span(bundled_model):
    text = "Tokenization splits unbelievably uncommon words."
    tokenized = bundled_model.tokenize(text)
    words = {word.text: word for word in tokenized.words}
    tokenization = words["Tokenization"]
    assert len(tokenization.tokens) > 1
    assert [tokenized.tokens[i] for i in tokenization.tokens][1].startswith("##")
    start, end = tokenization.span
    assert text[start:end] == "Tokenization"
    # every token belongs to exactly one word, in order
    assert [i for word in tokenized.words for i in word.tokens] == list(range(len(tokenized)))


def test_special_tokens_are_words_of_their_own(bundled_model):
    tokenized = bundled_model.tokenize("Hello there")
    assert tokenized.words[0].special and tokenized.words[0].text == "[CLS]"
    assert tokenized.words[-1].special and tokenized.words[-1].tokens == (len(tokenized) - 1,)
    assert not any(word.special for word in tokenized.words[1:-1])


def test_sentence_pair_marks_both_sentences(bundled_model):
    tokenized = bundled_model.tokenize("First one.", "Second one.")
    assert tokenized.tokens.count("[SEP]") == 2
    start = tokenized.sentences.index(1)
    assert tokenized.tokens[start] == "second"
    assert tokenized.token_type_ids[start:] == (1,) * (len(tokenized) - start)
    second = [word for word in tokenized.words if word.sentence == 1]
    assert [word.text for word in second] == ["Second", "one", "."]
    assert "Second one."[second[0].span[0] : second[0].span[1]] == "Second"


@pytest.mark.parametrize(
    "text",
    [
        "私は今日東京に行く",
        "Café naïve e\u0301 façade",
        "🎉 emoji 👩‍👩‍👧 family",
        "<img src=x onerror=alert(1)> <script>alert(1)</script>",
        "tab\there\u200bzero-width\u00a0nbsp",
    ],
)
def test_odd_text_gives_sensible_tokens_and_spans(bundled_model, text):
    tokenized = bundled_model.tokenize(text)
    assert len(tokenized) >= 3
    for word in tokenized.words:
        if not word.special:
            assert word.text == text[word.span[0] : word.span[1]]
            assert word.text.strip()


def test_japanese_is_split_into_characters_by_the_english_model(bundled_model):
    tokenized = bundled_model.tokenize("私は今日東京に行く")
    assert [word.text for word in tokenized.words[1:-1]] == list("私は今日東京に行く")


def test_empty_text_is_refused_with_a_prompt(bundled_model):
    with pytest.raises(EmptyTextError, match="type a sentence"):
        bundled_model.tokenize("   \n")


def test_long_text_is_truncated_to_the_model_limit_and_flagged(bundled_model):
    tokenized = bundled_model.tokenize("word " * 700)
    assert len(tokenized) == 512
    assert tokenized.truncated and tokenized.untruncated_length == 702
    assert tokenized.tokens[-1] == "[SEP]"
    assert not bundled_model.tokenize("word " * 100).truncated


def test_words_follow_the_typed_words_across_inner_apostrophes_and_hyphens(bundled_model):
    tokenized = bundled_model.tokenize("The animal didn't cross the well-known street, because it's late.")
    assert tokenized.word_labels == [
        "[CLS]",
        "The",
        "animal",
        "didn't",
        "cross",
        "the",
        "well-known",
        "street",
        ",",
        "because",
        "it's",
        "late",
        ".",
        "[SEP]",
    ]
    didnt = tokenized.words[3]
    assert [tokenized.tokens[i] for i in didnt.tokens] == ["didn", "'", "t"]
    assert tokenized.text[slice(*didnt.span)] == "didn't"


def test_text_without_inner_apostrophes_keeps_the_tokenizers_words(bundled_model):
    assert bundled_model.tokenize("私は今日東京に行く").word_labels[1:-1] == list("私は今日東京に行く")
    assert bundled_model.tokenize("'Tokyo' - today").word_labels[1:-1] == ["'", "Tokyo", "'", "-", "today"]


# Decoders: words through the offsets, the first token as the attention sink


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_a_decoders_pieces_form_the_typed_words_whatever_marks_their_spaces(decoder_folders, family):
    """Byte-level BPE (Ġ) and SentencePiece (▁) pieces group into the words as typed, spans exact, no empty word."""
    from core.transformer.models import load_model

    text = "The cat didn't sit. It's well-known!"
    tokenized = load_model(str(decoder_folders[family])).tokenize(text)
    words = [word for word in tokenized.words if not word.special]
    assert [word.text for word in words] == ["The", "cat", "didn't", "sit", ".", "It's", "well-known", "!"]
    assert all(text[word.span[0] : word.span[1]] == word.text for word in words)
    assert sorted(t for word in tokenized.words for t in word.tokens) == list(range(len(tokenized)))


def test_words_come_from_the_offsets_when_the_tokenizer_gives_the_whole_text_one_word_id():
    """Real Llama-2/3 tokenizers give every token word id 0: spaces and punctuation in the text still split words,
    and a lone space piece ("Ġ") joins the word after it."""
    from core.transformer.tokens import _words

    text = "The cat didn't sit. Ok"
    tokens = ["<s>", "▁The", "▁cat", "▁didn", "'", "t", "▁s", "it", ".", "Ġ", "Ok"]
    offsets = [(0, 0), (0, 3), (3, 7), (7, 12), (12, 13), (13, 14), (14, 16), (16, 18), (18, 19), (19, 20), (20, 22)]
    sentences = [None] + [0] * 10
    words = _words(tokens, sentences, [None] + [0] * 10, offsets, (text, ""))
    assert [word.text for word in words] == ["<s>", "The", "cat", "didn't", "sit", ".", "Ok"]
    assert [word.tokens for word in words][-1] == (9, 10)


def test_a_decoders_sink_is_its_first_token_and_an_encoders_its_special_tokens(bundled_model, decoder_folders):
    from core.transformer.models import load_model

    gpt2 = load_model(str(decoder_folders["gpt2"])).tokenize("Attention is a graph.")
    assert gpt2.causal and gpt2.sinks == (True,) + (False,) * (len(gpt2) - 1)  # "Attention", no BOS
    assert gpt2.word_sinks[0] and not any(gpt2.word_sinks[1:])
    llama = load_model(str(decoder_folders["llama"])).tokenize("Attention is a graph.")
    assert llama.tokens[0] == "<s>" and llama.sinks[0] and not any(llama.sinks[1:])
    bert = bundled_model.tokenize("Attention is a graph.")
    assert not bert.causal and bert.sinks == bert.special
