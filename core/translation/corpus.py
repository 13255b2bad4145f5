"""A generated Japanese → English parallel corpus with gold word alignments, its seeded split and its segmenter.

Grammar. Every sentence says who (subject) goes, comes or returns (verb) where (place) when (time). Japanese has
two orders, English one, so a model must align by content, not by position, and the verb's link crosses the others:

    Japanese, topic first    S は T P に V      私 は 今日 東京 に 行く
    Japanese, time first     T S は P に V      今日 私 は 東京 に 行く
    English                  S V to P T          I go to Tokyo today

Tense agrees with the time word: 昨日 "yesterday" takes the past (行った "went"); 今日 "today" the present simple
(行く "go", "goes" after he, she and the teacher); 明日 "tomorrow" the future "will go", which Japanese says with the
non-past 行く. Every subject × time × place × verb is a sentence: 5 × 3 × 5 × 3 = 225 meanings, 450 sentences.

Gold alignment (Och & Ney 2003). Links are (target index, source index) pairs; sure links S ⊆ possible links P.

- Sure: each content word and its translation: subject (先生 → "teacher"), verb (行った → "went"), place
  (駅 → "station"), time (明日 → "tomorrow").
- Possible only, for function words that have no word of their own on the other side:
  "the" of "the teacher" / "the station" → the noun it belongs to (先生, 駅); "to" → に, the postposition it
  renders; "will" → the verb it inflects (行く) and the time word that asks for the future (明日).
- Unaligned: the topic marker は (English marks the subject by its position, not by a word).

The split (``build_corpus``) holds out, by a seed: *combinations*, subject–place pairs never seen together in
training (every sentence with such a pair), and *sentences*, a share of the remaining meanings in both word orders,
so that no held-out English sentence is ever a training target. The chapter's sentence and its reordered twin stay
in training.

Segmentation (``segment``): longest match over the grammar's Japanese words, as dictionary segmenters do; spaces
(ASCII or ideographic) and the Japanese comma and full stop 、。 separate words and are dropped. A span that starts
no known word raises ``UnknownWordError`` with the span and its character position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import product

import numpy as np

from core.transformer.tokens import EmptyTextError

CHAPTER_SENTENCE = ("私", "は", "今日", "東京", "に", "行く")  # the chapter's example (2.3)
TOPIC, DESTINATION = "は", "に"

SUBJECTS = {"私": ("I",), "彼": ("he",), "彼女": ("she",), "私たち": ("we",), "先生": ("the", "teacher")}
TIMES = {"今日": "today", "明日": "tomorrow", "昨日": "yesterday"}
PLACES = {"東京": ("Tokyo",), "大阪": ("Osaka",), "京都": ("Kyoto",), "学校": ("school",), "駅": ("the", "station")}
TENSES = {"今日": "present", "明日": "future", "昨日": "past"}
THIRD_PERSON = {"彼", "彼女", "先生"}


@dataclass(frozen=True)
class Verb:
    """A verb in its Japanese non-past and past forms and its English forms."""

    non_past: str
    past: str
    base: str  # go: "I go", "will go"
    third_person: str  # goes: "he goes"
    english_past: str  # went


VERBS = (
    Verb("行く", "行った", "go", "goes", "went"),
    Verb("来る", "来た", "come", "comes", "came"),
    Verb("帰る", "帰った", "return", "returns", "returned"),
)

SEPARATORS = frozenset("、。")  # dropped like spaces


@dataclass(frozen=True)
class Meaning:
    """What a sentence says; both Japanese word orders of one meaning share its English."""

    subject: str
    time: str
    place: str
    verb: Verb

    @property
    def tense(self) -> str:
        return TENSES[self.time]


@dataclass(frozen=True)
class Example:
    """A sentence pair and its gold alignment; links are (target index, source index), ``sure`` ⊆ ``possible``."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    sure: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]]
    meaning: Meaning
    time_first: bool  # 今日 私 は … rather than 私 は 今日 …


def japanese(meaning: Meaning, time_first: bool) -> tuple[str, ...]:
    """S は T P に V, or T S は P に V; the verb's form follows the tense."""
    verb = meaning.verb.past if meaning.tense == "past" else meaning.verb.non_past
    rest = (meaning.place, DESTINATION, verb)
    if time_first:
        return (meaning.time, meaning.subject, TOPIC) + rest
    return (meaning.subject, TOPIC, meaning.time) + rest


def english_verb(meaning: Meaning) -> tuple[str, ...]:
    """went / will go / goes / go."""
    verb = meaning.verb
    if meaning.tense == "past":
        return (verb.english_past,)
    if meaning.tense == "future":
        return ("will", verb.base)
    return (verb.third_person if meaning.subject in THIRD_PERSON else verb.base,)


def example(meaning: Meaning, time_first: bool = False) -> Example:
    """The sentence pair of ``meaning`` with its gold alignment (the module docstring's rules)."""
    source = japanese(meaning, time_first)
    at = {word: index for index, word in enumerate(source)}  # every word occurs once in a sentence
    subject, verb_words, place = SUBJECTS[meaning.subject], english_verb(meaning), PLACES[meaning.place]
    target = subject + verb_words + ("to",) + place + (TIMES[meaning.time],)
    verb_source = len(source) - 1  # the verb ends the sentence
    sure, possible_only = set(), set()

    def noun_phrase(start: int, words: tuple[str, ...], noun: int) -> None:
        """The noun is a sure link; a leading "the" a possible one, to the same noun."""
        sure.add((start + len(words) - 1, noun))
        if words[0] == "the":
            possible_only.add((start, noun))

    noun_phrase(0, subject, at[meaning.subject])
    position = len(subject)
    if verb_words[0] == "will":
        possible_only |= {(position, verb_source), (position, at[meaning.time])}
    sure.add((position + len(verb_words) - 1, verb_source))
    position += len(verb_words)
    possible_only.add((position, at[DESTINATION]))  # "to" ← に
    noun_phrase(position + 1, place, at[meaning.place])
    sure.add((len(target) - 1, at[meaning.time]))
    return Example(source, target, frozenset(sure), frozenset(sure | possible_only), meaning, time_first)


def all_meanings() -> list[Meaning]:
    """Every subject × time × place × verb, in a fixed order."""
    return [Meaning(s, t, p, v) for s, t, p, v in product(SUBJECTS, TIMES, PLACES, VERBS)]


CHAPTER_MEANING = Meaning("私", "今日", "東京", VERBS[0])


_EXAMPLES_BY_SOURCE = {e.source: e for e in (example(m, t) for m in all_meanings() for t in (False, True))}


def gold_example(source: Sequence[str]) -> Example | None:
    """The grammar's sentence pair whose Japanese is ``source`` (segmented words), with its gold alignment; None for
    words in no order of the grammar."""
    return _EXAMPLES_BY_SOURCE.get(tuple(source))


@dataclass(frozen=True)
class Vocabulary:
    """Words ↔ ids; ids 0, 1, 2 are padding, beginning and end of sentence."""

    words: tuple[str, ...]

    PAD, BOS, EOS = 0, 1, 2
    SPECIALS = ("<pad>", "<bos>", "<eos>")

    @classmethod
    def of(cls, words) -> Vocabulary:
        """The special tokens, then ``words`` in first-seen order."""
        return cls(cls.SPECIALS + tuple(dict.fromkeys(words)))

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    @cached_property
    def _ids(self) -> dict[str, int]:
        return {word: index for index, word in enumerate(self.words)}

    def encode(self, words) -> list[int]:
        ids = self._ids
        return [ids[word] for word in words]

    def decode(self, ids) -> list[str]:
        """Words of ``ids`` up to the first end of sentence, specials left out."""
        words = []
        for index in ids:
            if index == self.EOS:
                break
            if index >= len(self.SPECIALS):
                words.append(self.words[index])
        return words


SOURCE_VOCABULARY = Vocabulary.of(word for m in all_meanings() for t in (False, True) for word in japanese(m, t))
TARGET_VOCABULARY = Vocabulary.of(word for m in all_meanings() for word in example(m).target)


@dataclass(frozen=True)
class Corpus:
    """The three splits of one seed; each list sorted in the grammar's order."""

    seed: int
    train: tuple[Example, ...]
    held_out_sentences: tuple[Example, ...]
    held_out_combinations: tuple[Example, ...]
    held_out_pairs: tuple[tuple[str, str], ...]  # the (subject, place) pairs never seen in training
    source_vocabulary: Vocabulary = SOURCE_VOCABULARY
    target_vocabulary: Vocabulary = TARGET_VOCABULARY

    @property
    def splits(self) -> dict[str, tuple[Example, ...]]:
        return {
            "train": self.train,
            "held-out sentences": self.held_out_sentences,
            "held-out combinations": self.held_out_combinations,
        }

    def probes(self) -> tuple[Example, ...]:
        """The sentences whose attention training snapshots: the chapter's sentence, its reordered twin, and the
        first of the longest held-out sentences and combinations (the longest show "the" and "will")."""

        def longest(examples: tuple[Example, ...]) -> Example:
            return max(examples, key=lambda e: len(e.target))

        return (
            example(CHAPTER_MEANING),
            example(CHAPTER_MEANING, time_first=True),
            longest(self.held_out_sentences),
            longest(self.held_out_combinations),
        )


def build_corpus(seed: int = 0, held_out_pairs: int = 3, held_out_share: float = 0.1) -> Corpus:
    """Split the grammar's sentences: ``held_out_pairs`` subject–place pairs, then ``held_out_share`` of the other
    meanings (both orders each), drawn by ``seed``; never the chapter's sentence."""
    rng = np.random.default_rng(seed)
    pairs = [pair for pair in product(SUBJECTS, PLACES) if pair != (CHAPTER_MEANING.subject, CHAPTER_MEANING.place)]
    unseen = {pairs[i] for i in rng.choice(len(pairs), size=held_out_pairs, replace=False)}
    meanings = all_meanings()
    combinations = [m for m in meanings if (m.subject, m.place) in unseen]
    rest = [m for m in meanings if (m.subject, m.place) not in unseen and m != CHAPTER_MEANING]
    chosen = rng.choice(len(rest), size=round(held_out_share * len(rest)), replace=False)
    held = {rest[i] for i in chosen}

    def both_orders(selected) -> tuple[Example, ...]:
        return tuple(example(m, t) for m in meanings if m in selected for t in (False, True))

    train = set(meanings) - set(combinations) - held
    return Corpus(
        seed,
        both_orders(train),
        both_orders(held),
        both_orders(set(combinations)),
        tuple(sorted(unseen, key=pairs.index)),
    )


class UnknownWordError(ValueError):
    """A span of the text is no word of the grammar; ``span`` and ``position`` (0-based character) say where."""

    def __init__(self, span: str, position: int):
        self.span, self.position = span, position
        known = " ".join(SOURCE_VOCABULARY.words[len(Vocabulary.SPECIALS) :])
        super().__init__(f"“{span}” (at character {position + 1}) is not a word this model knows. It knows: {known}.")


def segment_spans(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Longest-match segmentation: (word, (start, end)) per word, character spans into ``text``."""
    text = text or ""
    known = SOURCE_VOCABULARY.words[len(Vocabulary.SPECIALS) :]
    longest = max(map(len, known))

    def word_at(start: int) -> str | None:
        return next(
            (text[start:end] for end in range(min(len(text), start + longest), start, -1) if text[start:end] in known),
            None,
        )

    words, start = [], 0
    while start < len(text):
        if text[start].isspace() or text[start] in SEPARATORS:
            start += 1
            continue
        word = word_at(start)
        if word is None:
            end = start + 1
            while end < len(text) and not (text[end].isspace() or text[end] in SEPARATORS) and word_at(end) is None:
                end += 1
            raise UnknownWordError(text[start:end], start)
        words.append((word, (start, start + len(word))))
        start += len(word)
    if not words:
        raise EmptyTextError("There is no text: type a Japanese sentence such as 私は今日東京に行く.")
    return words


def segment(text: str) -> list[str]:
    """ "私は今日東京に行く" and "私 は 今日 東京 に 行く" → ['私', 'は', '今日', '東京', 'に', '行く']."""
    return [word for word, _ in segment_spans(text)]
