"""Search over the names and descriptions of a dataset's resources: folding, tokenising, matching
and ranking, in memory. Pure: no web framework, no store; web/search.py fills an index from the
store's SPARQL answers once per release and asks it for each request, so a query a person types
never reaches a SPARQL engine.

A text is folded (`fold`: lower case, without diacritics, so "Ještěd" is "jested" and "Møre" is
"more") and cut into words (`words`). A query matches a text when each of its words matches one
of the text's words (`SearchIndex.variants`): the same word, the same word in another Czech case,
or, for the last word of the query, any word it begins, as the user types. A resource matches when
one of its texts does, and ranks by the best of them (`rank_of`).
"""

import heapq
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .search_index_file import Part, Postings, Strings, posting_parts

# The three kinds of text, in the order they rank.
LABEL, ALTERNATIVE, DESCRIPTION = 0, 1, 2
FIELD_NAMES = ("label", "alternative", "description")

# The index's arrays kept as they are by `parts` (each the attribute of its name with a "_" before it).
_ARRAYS = ("first_text", "text_resource", "text_field", "text_rank", "text_language", "text_words")
# Its word-to-texts maps: of each kind of text, and of the first words of labels.
_POSTINGS = ("label_postings", "alternative_postings", "description_postings", "first_words")

# The scores of a resource, best first: one of its labels is the query, or begins with it, or has
# every word of it; else an alternative name has; else only a description.
EQUAL, STARTS, ALL_WORDS, IN_ALTERNATIVE, IN_DESCRIPTION = 5, 4, 3, 2, 1

# Letters NFKD does not take apart, written as a reader who lacks them types them.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                          "ħ": "h", "ŧ": "t"})
_WORD = re.compile(r"[^\W_]+")

# Czech case endings, folded: what declension puts after the stem of a name (Harput-em, Vajnerov-ou,
# Burs-e, Ještěd-u; see `stems`). The empty ending is the stem itself.
CZECH_ENDINGS = ("", "a", "e", "i", "o", "u", "y", "ou", "em", "um", "am", "ym", "im", "ho", "mu",
                 "ami", "emi", "ech", "ich", "ach", "ych", "ovi", "ove", "eho", "emu", "ymi", "imi")
# The shortest stem the endings may be swapped on.
MIN_STEM = 4
# The shortest last word that matches the words it begins (a single letter would match most).
MIN_PREFIX = 2
# A description is shown cut to about this many characters around the first word that matched.
SNIPPET_CHARS = 160


def fold(text: str) -> str:
    """`text` in lower case without diacritics: "Ještěd" -> "jested", "ŞAHABETTİN" -> "sahabettin"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).translate(_LETTERS)


def words(text: str) -> list[str]:
    """The folded words of `text`: letters and digits, everything else a separator ("Valle d'Aosta"
    -> valle, d, aosta, whichever apostrophe the text has)."""
    return [folded for word in _WORD.findall(unicodedata.normalize("NFC", text)) for folded in _folded_word(word)]


@lru_cache(maxsize=1 << 16)
def _folded_word(word: str) -> tuple[str, ...]:
    # A text's words repeat: folding each once saves most of the index's time. Folding may still
    # part a word ("½" is 1⁄2).
    return tuple(_WORD.findall(fold(word)))


def stems(word: str) -> list[str]:
    """The stems `word` may be declined from: itself less each Czech case ending it ends with, where
    at least MIN_STEM letters remain.

    Czech declines names by their ending and keeps their stem: Harput, Harputem; Vajnerová,
    Vajnerovou, Vajnerové; Bursa, Burse, Bursou. Two words that are one stem with two endings of the
    list are taken for one word in two cases. The stem must be long, so that short words are not
    confused (with three letters "mora" and "more" would be one word); and what is swapped must be
    a case ending, so that an indexed word that is merely a prefix ("bur" of "bursa") or another word
    on the same stem ("nova" and "novak": "k" is no ending) does not match. Declensions that change
    the stem itself (Liberec, Liberce; Pavel, Pavlem) are not caught: the last word of a query still
    matches as a prefix ("liber" finds Liberec).
    """
    return [word[:len(word) - len(ending)] for ending in CZECH_ENDINGS
            if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM]


@dataclass(frozen=True)
class Hit:
    """A resource that matched: its label in the reader's language, its kind, what matched, its score."""

    iri: str
    label: str
    kind: str
    kind_label: str
    matched: str
    field: str
    score: int
    # `matched` in parts, each flagged when it is a word that matched, to be shown marked.
    matched_parts: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class Results:
    """The best `hits` (at most the limit asked) of `total` resources that matched `query`."""

    query: str
    total: int
    hits: list[Hit]

    def grouped(self) -> list[tuple[str, str, list[Hit]]]:
        """The hits grouped by kind, as (kind, kind label, hits): the group of the best hit first, and
        so on, each group's hits in rank order. Kinds of one name are one group (schema:Event and
        rp:Event are both "Event"): a reader could not tell two groups of one heading apart."""
        groups: dict[str, tuple[str, str, list[Hit]]] = {}
        for hit in self.hits:
            groups.setdefault(hit.kind_label.casefold(), (hit.kind, hit.kind_label, []))[2].append(hit)
        return list(groups.values())


class SearchIndex:
    """The texts of resources, and the words in them.

    `add` each resource with its texts, then `finish`; then `search`. `kind_labels` names each kind
    by language. A resource's texts are numbered one after another (from `_first_text[resource]`);
    for each kind of text, `_postings` gives the texts that hold a word, and `_first_words` the labels
    that begin with one, so that a query is answered mostly by operations on sets.
    """

    def __init__(self, kind_labels: dict[str, dict[str, str]] | None = None) -> None:
        self.kind_labels = kind_labels or {}
        self._iris = Strings()
        self._kinds = array("I")
        self._kind_list: list[str] = []
        self._kind_names: dict[str, int] = {}
        self._first_text = array("I", [0])
        self._texts = Strings()
        self._text_resource = array("I")
        self._text_field = array("b")
        self._text_rank = array("b")
        self._text_language = array("H")
        self._text_words = array("H")
        self._languages: dict[str, int] = {}
        self._postings: tuple[dict[str, array] | Postings, ...] = ({}, {}, {})
        self._first_words: dict[str, array] | Postings = {}
        self._sorted_words: list[str] | Strings = []
        self._label_texts: dict[str, array | memoryview] = {}

    def add(self, iri: str, kind: str, texts: Iterable[tuple[int, int, str, str]]) -> None:
        """Add the resource `iri` of `kind` with its `texts`: (label rank or -1, field, language, text)."""
        resource = self._iris.append(iri)
        if kind not in self._kind_names:  # kinds are few: each resource's is a number
            self._kind_names[kind] = len(self._kind_list)
            self._kind_list.append(kind)
        self._kinds.append(self._kind_names[kind])
        for rank, text_field, language, text in texts:
            text = unicodedata.normalize("NFC", text)  # as words() reads it, so that its words can be marked
            number = self._texts.append(text)
            text_words = words(text)
            self._text_resource.append(resource)
            self._text_field.append(text_field)
            self._text_rank.append(rank)
            self._text_language.append(self._languages.setdefault(language, len(self._languages)))
            self._text_words.append(min(len(text_words), 0xFFFF))
            _post(self._postings[text_field], set(text_words), number)
            if text_field == LABEL and text_words:
                _post(self._first_words, (text_words[0],), number)
        self._first_text.append(len(self._texts))

    def finish(self, languages: Iterable[str] = ()) -> "SearchIndex":
        """Make the index ready to search (the sorted words, for prefixes; each resource's label in
        each of `languages`, which would otherwise be found at the first search in each); returns it."""
        self._sorted_words = sorted(set().union(*self._postings))
        for language in languages:
            self._label_numbers(language)
        return self

    def parts(self) -> tuple[dict[str, Any], dict[str, Part]]:
        """The finished index as what is not an array, and its arrays by name (search_index_file.py
        writes them to one file; `from_parts` reads them back)."""
        meta = {"kind_labels": self.kind_labels, "kinds": self._kind_list, "languages": self._languages,
                "label_languages": list(self._label_texts)}
        words = Strings.of(self._sorted_words)
        parts: dict[str, Part] = {"iris": self._iris.buffer, "iri_ends": self._iris.ends, "texts": self._texts.buffer,
                                  "text_ends": self._texts.ends, "words": words.buffer, "word_ends": words.ends,
                                  "kinds": self._kinds, **{name: getattr(self, "_" + name) for name in _ARRAYS}}
        for name, postings in zip(_POSTINGS, (*self._postings, self._first_words), strict=True):
            parts[name + "_offsets"], parts[name] = posting_parts(postings, self._sorted_words)
        parts.update({"label_" + language: numbers for language, numbers in self._label_texts.items()})
        return meta, parts

    @classmethod
    def from_parts(cls, meta: dict[str, Any], parts: dict[str, Part]) -> "SearchIndex":
        """The index of `meta` and `parts` as `parts()` gives them (or views of a file of them)."""
        index = cls(meta["kind_labels"])
        index._iris, index._texts = Strings.over(parts["iris"], parts["iri_ends"]), Strings.over(parts["texts"],
                                                                                                 parts["text_ends"])
        index._sorted_words = Strings.over(parts["words"], parts["word_ends"])
        index._kinds, index._kind_list = parts["kinds"], meta["kinds"]
        index._languages = meta["languages"]
        for name in _ARRAYS:
            setattr(index, "_" + name, parts[name])
        *postings, index._first_words = (Postings(index._sorted_words, parts[name + "_offsets"], parts[name])
                                         for name in _POSTINGS)
        index._postings = tuple(postings)
        index._label_texts = {language: parts["label_" + language] for language in meta["label_languages"]}
        return index

    def __len__(self) -> int:
        return len(self._iris)

    @property
    def text_count(self) -> int:
        """How many texts the index holds."""
        return len(self._texts)

    @property
    def word_count(self) -> int:
        """How many different words the texts hold."""
        return len(self._sorted_words)

    def variants(self, word: str, last: bool) -> set[str]:
        """The indexed words that `word` of a query matches: itself, itself in another Czech case
        (`stems`), and, when it is the last word of the query, every word it begins."""
        known = self._is_word
        found = {stem + ending for stem in stems(word) for ending in CZECH_ENDINGS if known(stem + ending)}
        if last and len(word) >= MIN_PREFIX:
            position = bisect_left(self._sorted_words, word)
            while position < len(self._sorted_words) and self._sorted_words[position].startswith(word):
                found.add(self._sorted_words[position])
                position += 1
        if known(word):
            found.add(word)
        return found

    def _is_word(self, word: str) -> bool:
        # The sorted words are those of every kind of text.
        position = bisect_left(self._sorted_words, word)
        return position < len(self._sorted_words) and self._sorted_words[position] == word

    def search(self, query: str, language: str, limit: int) -> Results:
        """The resources whose texts match `query`, best first, with their labels and kinds in
        `language`: at most `limit` of them, and how many matched in all."""
        query_words = words(query)
        if not query_words:
            return Results(query, 0, [])
        wanted = [self.variants(word, index == len(query_words) - 1) for index, word in enumerate(query_words)]
        scores = self._scores(wanted)
        return Results(query, len(scores), [self._hit(resource, language, wanted)
                                             for resource in self._best(scores, language, limit)])

    def _holding_all(self, text_field: int, wanted: list[set[str]]) -> set[int]:
        """The texts of `text_field` that hold a variant of every word of the query."""
        postings = self._postings[text_field]
        found: set[int] | None = None
        for variants in sorted(wanted, key=lambda variants: sum(len(postings.get(word, ())) for word in variants)):
            texts: set[int] = set()
            for word in variants:
                texts.update(postings.get(word, ()))
            found = texts if found is None else found & texts
            if not found:
                return set()
        return found or set()

    def _scores(self, wanted: list[set[str]]) -> dict[int, int]:
        """The score of every resource that matches (see rank_of), by resource."""
        resource_of = self._text_resource.__getitem__
        labels = self._holding_all(LABEL, wanted)
        scores = dict.fromkeys(map(resource_of, labels), ALL_WORDS)
        beginning = set()
        for word in wanted[0]:
            beginning.update(self._first_words.get(word, ()))
        for number in beginning & labels:
            if len(wanted) == 1:
                score = EQUAL if self._text_words[number] == 1 else STARTS
            else:
                score = rank_of(words(self._texts[number]), wanted, LABEL)
            resource = resource_of(number)
            scores[resource] = max(scores[resource], score)
        for text_field, score in ((ALTERNATIVE, IN_ALTERNATIVE), (DESCRIPTION, IN_DESCRIPTION)):
            found = set(map(resource_of, self._holding_all(text_field, wanted)))
            scores.update(dict.fromkeys(found - scores.keys(), score))
        return scores

    def _best(self, scores: dict[int, int], language: str, limit: int) -> list[int]:
        """The `limit` best of the resources `scores` scores: by score, then by the length of their
        label in `language`, then by that label, then by IRI."""
        by_score: dict[int, list[int]] = {}
        for resource, score in scores.items():
            by_score.setdefault(score, []).append(resource)
        best: list[int] = []
        for score in sorted(by_score, reverse=True):
            if len(best) >= limit:
                break

            def order(resource: int) -> tuple[int, str, str]:
                label = self.label(resource, language)
                return len(label), label.casefold(), self._iris[resource]
            best += heapq.nsmallest(limit - len(best), by_score[score], key=order)
        return best

    def label(self, resource: int, language: str) -> str:
        """The name of a resource in `language`: of its labels, those of the first label predicate,
        in `language`, else without one, else in another; else the end of its IRI."""
        number = self._label_numbers(language)[resource]
        return self._texts[number] if number >= 0 else _last_segment(self._iris[resource])

    def _label_numbers(self, language: str) -> array:
        """For each resource, the number of the text that names it in `language` (-1: none)."""
        if language not in self._label_texts:
            self._label_texts[language] = array("i", (self._label_text(resource, language)
                                                      for resource in range(len(self))))
        return self._label_texts[language]

    def _label_text(self, resource: int, language: str) -> int:
        """The number of the text that names `resource` in `language` (see `label`), -1 if none."""
        labels = [number for number in range(self._first_text[resource], self._first_text[resource + 1])
                  if self._text_field[number] == LABEL]
        if not labels:
            return -1
        first_rank = min(self._text_rank[number] for number in labels)
        labels = [number for number in labels if self._text_rank[number] == first_rank]
        for wanted in (language, ""):
            code = self._languages.get(wanted)
            for number in labels:
                if self._text_language[number] == code:
                    return number
        return labels[0]

    def _hit(self, resource: int, language: str, wanted: list[set[str]]) -> Hit:
        """A resource as a hit: its text that matched best (in `language` if one did), its score."""
        code = self._languages.get(language)
        score, _, number = max((rank_of(words(self._texts[number]), wanted, self._text_field[number]),
                                self._text_language[number] == code, -number)
                               for number in range(self._first_text[resource], self._first_text[resource + 1]))
        number = -number
        kind = self._kind_list[self._kinds[resource]]
        names = self.kind_labels.get(kind, {})
        kind_label = names.get(language) or next(iter(names.values()), "") or _last_segment(kind)
        text = self._texts[number]
        matched = snippet(text, wanted) if self._text_field[number] == DESCRIPTION else text
        return Hit(self._iris[resource], self.label(resource, language), kind, kind_label[:1].upper() + kind_label[1:],
                   matched, FIELD_NAMES[self._text_field[number]], score, marked(matched, wanted))


def rank_of(text_words: list[str], wanted: list[set[str]], text_field: int) -> int:
    """The score of a text of `text_words` in `text_field` for a query each of whose words matches
    the words of its set in `wanted`: 0 when some word of the query is not in the text."""
    if not all(any(word in variants for word in text_words) for variants in wanted):
        return 0
    if text_field == ALTERNATIVE:
        return IN_ALTERNATIVE
    if text_field == DESCRIPTION:
        return IN_DESCRIPTION
    leading = text_words[:len(wanted)]
    if len(leading) < len(wanted) or not all(word in variants for word, variants in zip(leading, wanted, strict=True)):
        return ALL_WORDS
    return EQUAL if len(text_words) == len(wanted) else STARTS


def snippet(text: str, wanted: list[set[str]]) -> str:
    """About SNIPPET_CHARS characters of `text` around its first word that a word of the query matches,
    cut at spaces, with an ellipsis where it is cut."""
    if len(text) <= SNIPPET_CHARS:
        return text
    position = next((match.start() for match in _WORD.finditer(text) if _matches(match.group(), wanted)), 0)
    start = max(0, position - SNIPPET_CHARS // 3)
    end = min(len(text), start + SNIPPET_CHARS)
    if start > 0:
        start = text.find(" ", start) + 1 or start
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def marked(text: str, wanted: list[set[str]]) -> tuple[tuple[str, bool], ...]:
    """`text` in parts, each flagged True when it is a word that a word of the query matches."""
    parts: list[tuple[str, bool]] = []
    done = 0
    for match in _WORD.finditer(text):
        if _matches(match.group(), wanted):
            parts += [(text[done:match.start()], False), (match.group(), True)]
            done = match.end()
    parts.append((text[done:], False))
    return tuple(part for part in parts if part[0])


def _matches(word: str, wanted: list[set[str]]) -> bool:
    return any(folded in variants for folded in _folded_word(word) for variants in wanted)


def _post(postings: dict[str, array], text_words: Iterable[str], number: int) -> None:
    """Note in `postings` that text `number` holds each of `text_words`."""
    for word in text_words:
        posting = postings.get(word)
        if posting is None:
            postings[word] = posting = array("I")
        posting.append(number)


def _last_segment(iri: str) -> str:
    """What follows the last "/" or "#" of `iri`: a name for a resource that has none."""
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]
