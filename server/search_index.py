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

import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

# The three kinds of text, in the order they rank.
LABEL, ALTERNATIVE, DESCRIPTION = 0, 1, 2
FIELD_NAMES = ("label", "alternative", "description")

# The scores of a resource, best first: one of its labels is the query, or begins with it, or has
# every word of it; else an alternative name has; else only a description.
EQUAL, STARTS, ALL_WORDS, IN_ALTERNATIVE, IN_DESCRIPTION = 5, 4, 3, 2, 1

# Letters NFKD does not take apart, written as a reader who lacks them types them.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                          "ħ": "h", "ŧ": "t"})
_WORD = re.compile(r"[^\W_]+")

# Czech case endings, folded: what declension puts after a stem (Harput-em, Vajnerov-ou, Burs-e,
# Ještěd-u, nanovlák-en is not one: see `stems`). The empty ending is the stem itself.
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
    return _WORD.findall(fold(text))


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


@dataclass(frozen=True)
class Results:
    """The best `hits` (at most the limit asked) of `total` resources that matched `query`."""

    query: str
    total: int
    hits: list[Hit]

    def grouped(self) -> list[tuple[str, str, list[Hit]]]:
        """The hits grouped by kind, as (kind, kind label, hits): the group of the best hit first, and
        so on, each group's hits in rank order."""
        groups: dict[str, tuple[str, str, list[Hit]]] = {}
        for hit in self.hits:
            groups.setdefault(hit.kind, (hit.kind, hit.kind_label, []))[2].append(hit)
        return list(groups.values())


@dataclass
class SearchIndex:
    """The texts of resources, and the words in them.

    `add` a resource's texts (each with the rank of its predicate among the labels, its field and
    language), then `finish`; then `search`. `kind_labels` names each kind by language.
    """

    kind_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    iris: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    # Per resource: its labels as (predicate rank, language, text), to name it in any language.
    labels: list[list[tuple[int, str, str]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    text_resource: array = field(default_factory=lambda: array("i"))
    text_field: array = field(default_factory=lambda: array("b"))
    text_language: list[str] = field(default_factory=list)
    postings: dict[str, array] = field(default_factory=dict)
    sorted_words: list[str] = field(default_factory=list)

    def add(self, iri: str, kind: str, texts: Iterable[tuple[int, int, str, str]]) -> None:
        """Add the resource `iri` of `kind` with its `texts`: (label rank or -1, field, language, text)."""
        resource = len(self.iris)
        self.iris.append(iri)
        self.kinds.append(kind)
        self.labels.append([])
        languages: dict[str, str] = {}
        for rank, text_field, language, text in texts:
            text = unicodedata.normalize("NFC", text)
            language = languages.setdefault(language, language)
            if text_field == LABEL:
                self.labels[resource].append((rank, language, text))
            number = len(self.texts)
            self.texts.append(text)
            self.text_resource.append(resource)
            self.text_field.append(text_field)
            self.text_language.append(language)
            for word in set(words(text)):
                self.postings.setdefault(word, array("i")).append(number)

    def finish(self) -> "SearchIndex":
        """Make the index ready to search (the sorted words, for prefixes); returns it."""
        self.sorted_words = sorted(self.postings)
        for labels in self.labels:
            labels.sort()
        return self

    def __len__(self) -> int:
        return len(self.iris)

    def variants(self, word: str, last: bool) -> set[str]:
        """The indexed words that `word` of a query matches: itself, itself in another Czech case
        (`stems`), and, when it is the last word of the query, every word it begins."""
        found = {stem + ending for stem in stems(word) for ending in CZECH_ENDINGS
                 if stem + ending in self.postings}
        if word in self.postings:
            found.add(word)
        if last and len(word) >= MIN_PREFIX:
            position = bisect_left(self.sorted_words, word)
            while position < len(self.sorted_words) and self.sorted_words[position].startswith(word):
                found.add(self.sorted_words[position])
                position += 1
        return found

    def search(self, query: str, language: str, limit: int) -> Results:
        """The resources whose texts match `query`, best first, with their labels and kinds in
        `language`: at most `limit` of them, and how many matched in all."""
        query_words = words(query)
        if not query_words:
            return Results(query, 0, [])
        wanted = [self.variants(word, index == len(query_words) - 1) for index, word in enumerate(query_words)]
        # Per resource, its best text: by score, then a text in the reader's language, then the first.
        best: dict[int, tuple[int, bool, int]] = {}
        for number in self._candidates(wanted):
            score = rank_of(words(self.texts[number]), wanted, self.text_field[number])
            resource = self.text_resource[number]
            candidate = (score, self.text_language[number] == language, -number)
            if score and candidate > best.get(resource, (0, False, 0)):
                best[resource] = candidate
        ranked = sorted(((score, self.label(resource, language), resource, -negative)
                         for resource, (score, _, negative) in best.items()),
                        key=lambda row: (-row[0], len(row[1]), fold(row[1]), self.iris[row[2]]))
        return Results(query, len(ranked), [self._hit(*row, language, wanted) for row in ranked[:limit]])

    def _candidates(self, wanted: list[set[str]]) -> set[int]:
        """The texts that hold a variant of every word of the query."""
        found: set[int] | None = None
        for variants in sorted(wanted, key=lambda variants: sum(len(self.postings[word]) for word in variants)):
            texts = {number for word in variants for number in self.postings[word]}
            found = texts if found is None else found & texts
            if not found:
                return set()
        return found or set()

    def label(self, resource: int, language: str) -> str:
        """The name of a resource in `language`: of its labels, those of the first label predicate,
        in `language`, else without one, else in another; else the end of its IRI."""
        labels = self.labels[resource]
        if not labels:
            return _last_segment(self.iris[resource])
        first = [label for label in labels if label[0] == labels[0][0]]
        for wanted in (language, ""):
            for _, label_language, text in first:
                if label_language == wanted:
                    return text
        return first[0][2]

    def _hit(self, score: int, label: str, resource: int, number: int, language: str,
             wanted: list[set[str]]) -> Hit:
        kind = self.kinds[resource]
        names = self.kind_labels.get(kind, {})
        kind_label = names.get(language) or next(iter(names.values()), "") or _last_segment(kind)
        text = self.texts[number]
        matched = snippet(text, wanted) if self.text_field[number] == DESCRIPTION else text
        return Hit(self.iris[resource], label, kind, kind_label[:1].upper() + kind_label[1:], matched,
                   FIELD_NAMES[self.text_field[number]], score)


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
    position = next((match.start() for match in _WORD.finditer(text)
                     if any(fold(match.group()) in variants for variants in wanted)), 0)
    start = max(0, position - SNIPPET_CHARS // 3)
    end = min(len(text), start + SNIPPET_CHARS)
    if start > 0:
        start = text.find(" ", start) + 1 or start
    if end < len(text):
        end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def _last_segment(iri: str) -> str:
    """What follows the last "/" or "#" of `iri`: a name for a resource that has none."""
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]
