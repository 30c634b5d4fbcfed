"""The rows the search index is made from, held compactly as they stream from the store (web/search.py).

The index numbers resources in the order of their IRIs, each with its texts in the order the store gave
them; the store gives the rows in its own order. Held as Python tuples until all had come, the rows of
100 000 agreements took about 4 GB beside the store (bench/README.md, "One store for the whole server");
here a row is a few numbers in arrays and its text in one UTF-8 buffer, and each resource's IRI is held
once, as the key of its number.
"""

from array import array
from collections.abc import Iterable, Iterator

from .search_index_file import Strings

# A text: (its rank among the labels or -1, its kind of text, its language, the text), as SearchIndex.add takes it.
Text = tuple[int, int, str, str]


class TextRows:
    """The texts of resources, added row by row in any order; given back resource by resource."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}  # a resource's IRI -> its number, in the order first seen
        self._resource = array("I")
        self._rank = array("b")
        self._field = array("b")
        self._language = array("H")
        self._languages: dict[str, int] = {}
        self._texts = Strings()

    def add(self, resource: str, rank: int, field: int, language: str, text: str) -> None:
        """Note a text of `resource`."""
        self._resource.append(self.numbers.setdefault(resource, len(self.numbers)))
        self._rank.append(rank)
        self._field.append(field)
        self._language.append(self._languages.setdefault(language, len(self._languages)))
        self._texts.append(text)

    def __len__(self) -> int:
        return len(self._resource)

    def by_resource(self) -> Iterator[tuple[str, int, list[Text]]]:
        """Each resource in the order of its IRI, with its number and its texts in the order they were added."""
        languages = list(self._languages)
        starts, rows = self._grouped()
        for iri in sorted(self.numbers):
            number = self.numbers[iri]
            yield iri, number, [(self._rank[row], self._field[row], languages[self._language[row]], self._texts[row])
                                for row in rows[starts[number]:starts[number + 1]]]

    def _grouped(self) -> tuple[array, array]:
        """The rows grouped by resource, each group in the order added (a counting sort): where each
        resource's rows start, and the rows."""
        starts = array("Q", bytes(8 * (len(self.numbers) + 1)))
        for number in self._resource:
            starts[number + 1] += 1
        for number in range(len(self.numbers)):
            starts[number + 1] += starts[number]
        rows, filled = array("I", bytes(4 * len(self._resource))), array("Q", starts)
        for row, number in enumerate(self._resource):
            rows[filled[number]] = row
            filled[number] += 1
        return starts, rows


def chosen_kinds(rows: Iterable[tuple[str, str, str]], numbers: dict[str, int], base: str) -> list[str]:
    """The kind of each resource of `numbers` (by its number; "" for none) from rows of (resource, its
    concept scheme, its class): its scheme, else its class in our namespace (under `base`), else its first class."""
    names: list[str] = [""]
    known: dict[str, int] = {"": 0}
    kind = array("I", bytes(4 * len(numbers)))
    preference = array("b", [3]) * len(numbers)
    for resource, scheme, kind_type in rows:
        number = numbers.get(resource)
        if number is None:
            continue
        name = scheme or kind_type
        rank = 0 if scheme else 1 if name.startswith(base) else 2
        if rank < preference[number] or (rank == preference[number] and name < names[kind[number]]):
            preference[number] = rank
            kind[number] = known.setdefault(name, len(names))
            if kind[number] == len(names):
                names.append(name)
    return [names[number] for number in kind]
