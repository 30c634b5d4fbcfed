"""The search index on its own: folding, words, Czech case endings, matching and ranking."""

from collections.abc import Callable

import pytest

from lodpub import search_index_file
from lodpub.kept_search_index import mapped
from lodpub.search_index import (
    ALL_WORDS,
    ALTERNATIVE,
    DESCRIPTION,
    EQUAL,
    IN_ALTERNATIVE,
    IN_DESCRIPTION,
    LABEL,
    STARTS,
    SearchIndex,
    fold,
    stems,
    words,
)

PERSON = "http://example.org/Person"
PLACE = "http://example.org/Place"
EVENT = "http://example.org/Event"


def made_index(*resources) -> SearchIndex:
    """An index of (iri, kind, texts) with kinds named in cs and en."""
    index = SearchIndex({PERSON: {"cs": "osoba", "en": "person"}, PLACE: {"cs": "místo", "en": "place"}})
    for iri, kind, texts in resources:
        index.add(iri, kind, texts)
    return index.finish(["cs"])


@pytest.fixture(params=["made", "mapped"])
def index_of(request, tmp_path) -> Callable[..., SearchIndex]:
    """made_index, as made or as the workers read it: written to its file and mapped from it."""
    if request.param == "made":
        return made_index

    def mapped_index(*resources) -> SearchIndex:
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.index"
        with open(path, "wb") as file:
            search_index_file.write(file, *made_index(*resources).parts())
        return mapped(path)
    return mapped_index


def label(text: str, language: str = "", rank: int = 0) -> tuple:
    return (rank, LABEL, language, text)


def found(index: SearchIndex, query: str, language: str = "en") -> list[str]:
    return [hit.iri for hit in index.search(query, language, 50).hits]


HARPUT = ("ex:harput", PERSON, [label("Şahabettin Harput", "cs"), label("Şahabettin Harput", "en"),
                                (-1, ALTERNATIVE, "", "Sahabettin Harput")])
VAJNEROVA = ("ex:vajnerova", PERSON, [label("Lidie Vajnerová")])
JESTED = ("ex:jested", PLACE, [label("Ještěd", "cs"), label("Ještěd", "en")])
VISIT = ("ex:visit", EVENT, [label("Návštěva delegace", "cs"), label("Visit of a delegation", "en"),
                             (-1, DESCRIPTION, "cs", "Delegace vedená guvernérem Şahabettin Harputem navštívila Ještěd "
                              "a jednala s Lidií Vajnerovou o spolupráci v oblasti cestovního ruchu. " * 3)])


@pytest.mark.parametrize(("text", "folded"), [
    ("Ještěd", "jested"), ("VAJNEROVÁ", "vajnerova"), ("Møre og Romsdal", "more og romsdal"),
    ("ŞAHABETTİN", "sahabettin"), ("Hà Tĩnh", "ha tinh"), ("Straße", "strasse"), ("Łódź", "lodz"),
    ("Ærø", "aero"), ("nanovlákna", "nanovlakna"),
])
def test_folding_drops_case_and_diacritics(text, folded):
    assert fold(text) == folded


def test_words_are_letters_and_digits_whatever_the_apostrophe_or_punctuation():
    assert words("Valle d'Aosta") == words("Valle d´Aosta") == words("Valle d’Aosta") == ["valle", "d", "aosta"]
    assert words("6. 10. 2010: <script>alert(1)</script>") == ["6", "10", "2010", "script", "alert", "1", "script"]
    assert words("a_b\x00c\u200bd") == ["a", "b", "c", "d"]


def test_a_czech_case_ending_leaves_a_stem_of_at_least_four_letters():
    assert "harput" in stems("harputem") and "vajnerov" in stems("vajnerovou") and "burs" in stems("burse")
    assert stems("more") == ["more"]  # "mor" is too short a stem: Møre is not "mora"
    assert "nova" not in stems("novak")  # "k" is no case ending


@pytest.mark.parametrize(("query", "iri"), [
    ("jested", "ex:jested"), ("JEŠTĚD", "ex:jested"), ("Ještědu", "ex:jested"),
    ("vajnerova", "ex:vajnerova"), ("Vajnerovou", "ex:vajnerova"), ("vajnerové", "ex:vajnerova"),
    ("Harputem", "ex:harput"), ("sahabettin harput", "ex:harput"), ("harput sahabettin", "ex:harput"),
    ("Şahab", "ex:harput"), ("lidie vajner", "ex:vajnerova"),
])
def test_a_name_is_found_in_any_case_with_or_without_diacritics_and_as_typed(query, iri, index_of):
    assert found(index_of(HARPUT, VAJNEROVA, JESTED), query)[:1] == [iri]


def test_only_the_last_word_of_a_query_matches_as_a_prefix(index_of):
    index = index_of(HARPUT, VAJNEROVA)
    assert found(index, "harp") == ["ex:harput"]
    assert found(index, "harp sahabettin") == []
    assert found(index, "h") == []  # one letter matches only a word of one letter
    assert found(index, "bur") == found(index, "novakem") == []


def test_ranking_label_equal_then_starts_then_all_words_then_alternative_then_description(index_of):
    index = index_of(
        ("ex:description", EVENT, [label("Something else"), (-1, DESCRIPTION, "en", "Once Bursa met Liberec.")]),
        ("ex:alternative", PLACE, [label("Province"), (-1, ALTERNATIVE, "", "Bursa")]),
        ("ex:words", PLACE, [label("Governor of Bursa")]),
        ("ex:starts", PLACE, [label("Bursa Province")]),
        ("ex:equal", PLACE, [label("bursa")]),
    )
    results = index.search("Bursa", "en", 10)
    assert [hit.iri for hit in results.hits] == ["ex:equal", "ex:starts", "ex:words", "ex:alternative", "ex:description"]
    assert [hit.score for hit in results.hits] == [EQUAL, STARTS, ALL_WORDS, IN_ALTERNATIVE, IN_DESCRIPTION]
    assert [hit.field for hit in results.hits] == ["label"] * 3 + ["alternative", "description"]
    assert results.hits[3].matched == "Bursa" and results.hits[3].label == "Province"


def test_ties_go_to_the_shorter_label_then_by_name(index_of):
    index = index_of(("ex:3", PLACE, [label("Bursa ccc long")]), ("ex:2", PLACE, [label("Bursa b")]),
                     ("ex:1", PLACE, [label("Bursa a")]))
    assert found(index, "bursa") == ["ex:1", "ex:2", "ex:3"]


def test_a_hit_is_named_and_its_kind_labelled_in_the_readers_language(index_of):
    index = index_of(("ex:r", PLACE, [label("Bursa", "cs"), label("Bursa Province", "en"),
                                      label("Bursa (ignored: a lesser label predicate)", "en", rank=1)]))
    czech, english = index.search("bursa", "cs", 5).hits[0], index.search("bursa", "en", 5).hits[0]
    assert (czech.label, czech.kind_label) == ("Bursa", "Místo")
    assert (english.label, english.kind_label) == ("Bursa Province", "Place")
    unnamed_kind = index_of(("ex:x/y", "http://example.org/kinds#Thing", [label("Bursa")])).search("bursa", "en", 5)
    assert unnamed_kind.hits[0].kind_label == "Thing"


def test_a_description_is_shown_around_what_matched(index_of):
    hit = index_of(VISIT).search("vajnerova", "en", 5).hits[0]
    assert hit.field == "description" and "Lidií Vajnerovou" in hit.matched
    assert len(hit.matched) <= 170 and hit.matched.endswith("…")
    assert [part for part, matched in hit.matched_parts if matched] == ["Vajnerovou"]
    assert "".join(part for part, _ in hit.matched_parts) == hit.matched


def test_at_most_the_limit_is_listed_and_the_total_is_said(index_of):
    index = index_of(*[(f"ex:{number:02}", PLACE, [label(f"Place {number}")]) for number in range(30)])
    results = index.search("place", "en", 7)
    assert results.total == 30 and len(results.hits) == 7


def test_hits_are_grouped_by_kind_the_best_hits_group_first(index_of):
    results = index_of(HARPUT, VAJNEROVA, JESTED, VISIT).search("jested", "en", 50)
    assert [(kind, [hit.iri for hit in hits]) for kind, _, hits in results.grouped()] == \
        [(PLACE, ["ex:jested"]), (EVENT, ["ex:visit"])]
    people = index_of(HARPUT, VAJNEROVA, VISIT).search("delegace", "en", 50).grouped()
    assert [kind for kind, _, _ in people] == [EVENT]


def test_kinds_of_one_name_are_one_group(index_of):
    index = index_of(("ex:a", EVENT, [label("Bursa visit")]), ("ex:b", "http://example.org/other/Event",
                                                                [label("Bursa meeting")]))
    assert [(name, [hit.iri for hit in hits]) for _, name, hits in index.search("bursa", "en", 9).grouped()] == \
        [("Event", ["ex:a", "ex:b"])]


@pytest.mark.parametrize("query", [
    "", "   ", "\x00", "<script>alert(1)</script>", "?s ?p ?o } UNION { ?s ?p ?o", ".*", "(a|b)+$", "\\", "'\"",
    "x" * 10_000, "\ud800", "Ještěd" * 500, "b " * 5000,
])
def test_any_query_is_only_words_to_the_index(query, index_of):
    """Syntax of SPARQL, regular expressions or HTML means nothing to the index: none of these words is in it."""
    results = index_of(HARPUT, VAJNEROVA, JESTED, VISIT).search(query, "en", 50)
    assert (results.query, results.total, results.hits) == (query, 0, [])


def test_an_index_of_nothing_is_written_and_mapped_too(index_of):
    assert index_of().search("bursa", "en", 5).total == 0


def test_a_file_not_whole_or_of_another_format_is_refused(tmp_path):
    """The file is the workers' cache: one cut short (a disk that filled up) or of other code is never read."""
    whole = tmp_path / "whole.index"
    with open(whole, "wb") as file:
        search_index_file.write(file, *made_index(HARPUT, VAJNEROVA, JESTED, VISIT).parts())
    written = whole.read_bytes()
    assert mapped(whole).search("jested", "en", 5).hits[0].iri == "ex:jested"
    damaged = tmp_path / "damaged.index"
    for content in (b"", written[:10], written[:100], written[:-8], written + b"\0" * 8,
                    b"lodpub search 9\n" + written[16:], written[:24] + b"[" + written[25:]):
        damaged.write_bytes(content)
        with pytest.raises(search_index_file.FileFormatError):
            mapped(damaged)
