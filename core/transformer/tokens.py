"""Tokenization that keeps the token → word → character-span mapping, so word views and highlights are exact."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

MAX_CHARACTERS = 20_000  # longer input is cut before tokenizing; the model sees at most ~512 tokens anyway

_BYTE_LEVEL_SPACE = ("Ġ", "▁")  # RoBERTa / GPT-2 and SentencePiece mark a leading space with these
# A written word that tokenizers split at its inner apostrophe or hyphen ("didn't" → didn ' t, "well-known"): letters
# or digits joined by ' ’ or -, with no space. Punctuation around it ("tired.", "(it)") stays outside.
_JOINED_WORD = re.compile(r"\w+(?:['’-]\w+)+")


class EmptyTextError(ValueError):
    """The text has nothing to tokenize."""


@dataclass(frozen=True)
class Word:
    """A word (or special token) and the token positions it covers."""

    text: str
    tokens: tuple[int, ...]
    sentence: int | None  # 0 = first sentence, 1 = the pair's second, None = special token
    span: tuple[int, int] | None  # character span in its sentence; None for special tokens

    @property
    def special(self) -> bool:
        return self.sentence is None


@dataclass(frozen=True)
class Tokenized:
    """One input (a sentence or a sentence pair) as the model sees it."""

    text: str
    pair: str | None
    tokens: tuple[str, ...]  # exactly convert_ids_to_tokens(input_ids), special tokens included
    input_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    sentences: tuple[int | None, ...]  # per token: 0, 1, or None for special tokens
    offsets: tuple[tuple[int, int], ...]  # per token: character span in its own sentence
    words: tuple[Word, ...]
    truncated: bool  # True when tokens were dropped to fit the model's limit
    untruncated_length: int  # how many tokens the full input would have had
    causal: bool = False  # read by a decoder: each token sees only itself and the tokens before it

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def special(self) -> tuple[bool, ...]:
        return tuple(sentence is None for sentence in self.sentences)

    @property
    def sinks(self) -> tuple[bool, ...]:
        """Per token: does it play the attention sink, where heads park the attention they do not need? An encoder's
        special tokens ([CLS], [SEP]; Clark et al. 2019), a decoder's first token, special or not, and its other
        special tokens (Xiao et al. 2023, "Efficient Streaming Language Models with Attention Sinks")."""
        return tuple(special or (self.causal and position == 0) for position, special in enumerate(self.special))

    @property
    def word_sinks(self) -> tuple[bool, ...]:
        """``sinks`` per word: a word that holds a sink token."""
        sinks = self.sinks
        return tuple(any(sinks[token] for token in word.tokens) for word in self.words)

    @property
    def token_labels(self) -> list[str]:
        """Tokens as a reader expects them: byte-level space markers removed, '##' continuations kept."""
        return [_readable(token) for token in self.tokens]

    @property
    def word_labels(self) -> list[str]:
        return [word.text for word in self.words]

    @property
    def word_groups(self) -> list[tuple[int, ...]]:
        """Token positions of each word, in order: the input of core.analysis.graph.word_attention."""
        return [word.tokens for word in self.words]


def _readable(token: str) -> str:
    for marker in _BYTE_LEVEL_SPACE:
        if token.startswith(marker) and len(token) > 1:
            return token[len(marker) :]
    return token


def _word_keys(sentences, word_ids, offsets, texts) -> list[tuple[int, int] | None]:
    """Per token, the (sentence, word number) it belongs to; None for special tokens.

    A word changes where the tokenizer's word id changes, and also where the characters say so: whitespace before the
    token's first visible character, or punctuation on either side of the junction. The tokenizer's word ids alone
    do not do: SentencePiece and Llama-3 tokenizers give the whole text one word id, and a byte-level BPE token
    such as "Ġcat" may hold the space in its span (``Ġ``/``▁`` are read through the offsets, never the marks).
    """
    keys: list[tuple[int, int] | None] = []
    number, last = -1, None  # last: (sentence, word id, end of the previous token, was it only whitespace)
    for sentence, word_id, (start, end) in zip(sentences, word_ids, offsets):
        if sentence is None or word_id is None:
            keys.append(None)
            last = None
            continue
        text = texts[sentence]
        visible = start + len(text[start:end]) - len(text[start:end].lstrip())  # the first character after spaces
        continues = last is not None and last[3] and sentence == last[0]  # a lone "Ġ" joins the word after it
        new_word = (
            not continues
            and (
                last is None
                or (sentence, word_id) != last[:2]
                or visible > last[2]  # whitespace between the tokens or at the start of this one
                or not text[last[2] - 1 : last[2]].isalnum()
                or not text[visible : visible + 1].isalnum()
            )
        )
        number += new_word
        keys.append((sentence, number))
        last = (sentence, word_id, end, visible >= end)
    return keys


def _words(tokens, sentences, word_ids, offsets, texts) -> tuple[Word, ...]:
    """Group token positions into words (``_word_keys``), then the words that one written word holds joined into it
    (``_join_written_words``); each special token alone. A word's text is the typed text it covers, spaces
    trimmed."""
    words: list[Word] = []
    current_key = None
    for position, (token, key, (start, end)) in enumerate(
        zip(tokens, _word_keys(sentences, word_ids, offsets, texts), offsets)
    ):
        if key is not None:
            sentence = key[0]
            text = texts[sentence]
            start += len(text[start:end]) - len(text[start:end].lstrip())
        if key is not None and key == current_key:
            last = words[-1]
            assert last.span is not None  # the word started in this sentence
            span = (last.span[0], end)
            words[-1] = Word(texts[sentence][span[0] : span[1]], last.tokens + (position,), sentence, span)
        elif key is None:
            words.append(Word(token, (position,), None, None))
        else:
            words.append(Word(texts[sentence][start:end], (position,), sentence, (start, end)))
        current_key = key
    return _join_written_words(words, texts)


def _join_written_words(words: list[Word], texts: tuple[str, str]) -> tuple[Word, ...]:
    """Merge neighbouring words that lie inside one written word of the text (``_JOINED_WORD``: "didn't",
    "well-known"), so that words follow the typed characters; CJK text, without apostrophes, is left as it is."""
    written = [{(m.start(), m.end()) for m in _JOINED_WORD.finditer(text)} for text in texts]  # per sentence

    def inside(word: Word) -> tuple[int, int] | None:
        """The written word that holds ``word``, if any."""
        if word.span is None or word.sentence is None:
            return None
        start, end = word.span
        return next((w for w in written[word.sentence] if w[0] <= start and end <= w[1]), None)

    merged: list[Word] = []
    for word in words:
        home = inside(word)
        last = merged[-1] if merged else None
        if home is not None and last is not None and last.sentence == word.sentence and inside(last) == home:
            assert last.span is not None and word.span is not None and word.sentence is not None  # inside() saw them
            span = (last.span[0], word.span[1])
            merged[-1] = Word(texts[word.sentence][span[0] : span[1]], last.tokens + word.tokens, word.sentence, span)
        else:
            merged.append(word)
    return tuple(merged)


def tokenize(tokenizer, text: str, pair: str | None = None, max_tokens: int = 512, causal: bool = False) -> Tokenized:
    """Tokenize ``text`` (and the optional second sentence ``pair``) with a fast Hugging Face tokenizer, for an
    encoder or, ``causal``, a decoder.

    Input longer than ``max_tokens`` is truncated (longest sentence first) and flagged; the token → word mapping
    comes from the tokenizer's own ``word_ids`` and character offsets.
    """
    text = (text or "")[:MAX_CHARACTERS]
    pair = pair[:MAX_CHARACTERS] if pair and pair.strip() else None
    if not text.strip():
        raise EmptyTextError("There is no text to analyse: type a sentence.")
    with warnings.catch_warnings():  # the length warning for over-long input: we truncate and say so ourselves
        warnings.simplefilter("ignore")
        untruncated_length = len(tokenizer(text, pair)["input_ids"])
        encoding = tokenizer(
            text,
            pair,
            truncation="longest_first" if untruncated_length > max_tokens else False,
            max_length=max_tokens if untruncated_length > max_tokens else None,
            return_offsets_mapping=True,
            return_token_type_ids=True,
        )
    input_ids = tuple(encoding["input_ids"])
    tokens = tuple(tokenizer.convert_ids_to_tokens(list(input_ids)))
    sentences = tuple(encoding.sequence_ids())
    offsets = tuple(tuple(span) for span in encoding["offset_mapping"])
    token_type_ids = tuple(encoding.get("token_type_ids") or [0] * len(input_ids))
    texts = (text, pair or "")
    return Tokenized(
        text=text,
        pair=pair,
        tokens=tokens,
        input_ids=input_ids,
        token_type_ids=token_type_ids,
        sentences=sentences,
        offsets=offsets,
        words=_words(tokens, sentences, encoding.word_ids(), offsets, texts),
        truncated=untruncated_length > len(input_ids),
        untruncated_length=untruncated_length,
        causal=causal,
    )
