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

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def special(self) -> tuple[bool, ...]:
        return tuple(sentence is None for sentence in self.sentences)

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


def _words(tokens, sentences, word_ids, offsets, texts) -> tuple[Word, ...]:
    """Group token positions into words: tokens sharing (sentence, word id), then the tokenizer's words that one
    written word holds joined into it (``_join_written_words``); each special token alone."""
    words: list[Word] = []
    current_key = None
    for position, (token, sentence, word_id, (start, end)) in enumerate(zip(tokens, sentences, word_ids, offsets)):
        key = None if sentence is None or word_id is None else (sentence, word_id)
        if key is not None and key == current_key:
            last = words[-1]
            assert last.span is not None and sentence is not None  # the word started in this sentence
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


def tokenize(tokenizer, text: str, pair: str | None = None, max_tokens: int = 512) -> Tokenized:
    """Tokenize ``text`` (and the optional second sentence ``pair``) with a fast Hugging Face tokenizer.

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
    )
