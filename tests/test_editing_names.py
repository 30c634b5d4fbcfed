"""Names for new resources: readable, by the data's rules, never reused."""

from datetime import date
from pathlib import Path

import pytest

from lodpub.editing.names import known_iris, new_iri, slug
from lodpub.namespaces import CANONICAL_BASE

ID = CANONICAL_BASE + "id/"


def iri(*parts: object) -> str:
    """new_iri, as text."""
    return str(new_iri(CANONICAL_BASE, *parts))


def test_czech_diacritics_are_folded_into_a_readable_name() -> None:
    assert slug("Lidie Vajnerová") == "lidie-vajnerova"
    assert slug("  Žluťoučký kůň úpěl ďábelské ódy!  ") == "zlutoucky-kun-upel-dabelske-ody"
    assert slug("Şahabettin Harput") == "sahabettin-harput"


def test_names_follow_the_datas_rules() -> None:
    assert iri("person", "Pavel Novák", set()) == ID + "person/pavel-novak"
    assert iri("event", "Visit", set(), "bursa", date(2010, 10, 6)) == \
        ID + "event/bursa-2010-10-06-visit"
    assert iri("event", "Letter", set(), "valle-d-aosta", "2010-05") == \
        ID + "event/valle-d-aosta-2010-05-letter"
    assert iri("delegation", "2010", set(), "bursa") == ID + "delegation/bursa-2010"


def test_a_taken_name_gets_the_next_number() -> None:
    taken = {ID + "person/pavel-novak", ID + "person/pavel-novak-2"}
    assert iri("person", "Pavel Novák", taken) == ID + "person/pavel-novak-3"


def test_names_of_earlier_releases_are_never_reused(tmp_path: Path) -> None:
    for version, name in (("2026-01-01", "pavel-novak"), (".unfinished", "jan-novy")):
        (tmp_path / version).mkdir()
        (tmp_path / version / "partnerships.nq").write_text(
            f"<{ID}person/{name}> <http://www.w3.org/2000/01/rdf-schema#label> \"P\" <{ID}graph> .\n", encoding="utf-8")
    (tmp_path / "current").symlink_to("2026-01-01")
    known = known_iris({ID + "person/eva-nova"}, tmp_path)
    assert ID + "person/pavel-novak" in known and ID + "person/eva-nova" in known
    assert ID + "person/jan-novy" not in known
    assert iri("person", "Pavel Novák", known) == ID + "person/pavel-novak-2"
    assert known_iris(set(), tmp_path / "missing") == set()


@pytest.mark.parametrize("kind", ["../etc", "Person", ""])
def test_a_kind_that_is_not_a_word_is_refused(kind: str) -> None:
    with pytest.raises(ValueError):
        new_iri(CANONICAL_BASE, kind, "x", set())


def test_a_name_with_nothing_readable_is_refused() -> None:
    with pytest.raises(ValueError):
        new_iri(CANONICAL_BASE, "person", "!!!", set())
