"""The search index's rows held as they stream from the store (search_rows.py): given back by resource in
IRI order, each resource's texts in the order they came, and the index made from them the same as one
made from the whole answer at once."""

import dataclasses
import json

import pytest

from lodpub import search_index_file
from lodpub.kept_search_index import mapped
from lodpub.search_index import SearchIndex
from lodpub.search_rows import TextRows, chosen_kinds
from lodpub.store import open_store
from lodpub.web.i18n import LANGUAGES
from lodpub.web.search import KINDS, TEXTS, build_index, field_of

BASE = "https://example.org/"


def test_rows_come_back_by_resource_in_iri_order_each_resource_s_texts_as_they_came():
    rows = TextRows()
    for resource, rank, field, language, text in [
            (BASE + "b", 0, 0, "cs", "Bé"), (BASE + "a", -1, 2, "", "popis"), (BASE + "b", -1, 1, "en", "Bee"),
            (BASE + "a", 0, 0, "en", "Ä"), (BASE + "c", 1, 0, "cs", ""), (BASE + "b", 0, 0, "cs", "Bé")]:
        rows.add(resource, rank, field, language, text)

    assert len(rows) == 6
    assert list(rows.by_resource()) == [
        (BASE + "a", 1, [(-1, 2, "", "popis"), (0, 0, "en", "Ä")]),
        (BASE + "b", 0, [(0, 0, "cs", "Bé"), (-1, 1, "en", "Bee"), (0, 0, "cs", "Bé")]),
        (BASE + "c", 2, [(1, 0, "cs", "")]),
    ]


def test_a_resource_s_kind_is_its_scheme_else_our_class_else_the_first_class():
    numbers = {BASE + "concept": 0, BASE + "agreement": 1, BASE + "thing": 2, BASE + "bare": 3}
    rows = [(BASE + "concept", "", "http://www.w3.org/2004/02/skos/core#Concept"),
            (BASE + "concept", BASE + "scheme", ""),
            (BASE + "agreement", "", "https://schema.org/Thing"), (BASE + "agreement", "", BASE + "ontology/Agreement"),
            (BASE + "thing", "", "https://schema.org/Thing"), (BASE + "thing", "", "http://xmlns.com/foaf/0.1/Agent"),
            (BASE + "not-indexed", BASE + "scheme", "")]

    assert chosen_kinds(rows, numbers, BASE) == [BASE + "scheme", BASE + "ontology/Agreement",
                                                 "http://xmlns.com/foaf/0.1/Agent", ""]


def test_the_index_made_from_streamed_rows_is_the_one_made_from_the_whole_answer(project_release, project_settings):
    store = open_store(dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                           public_base=project_settings.base_iri, engine="per-worker"))
    streamed = build_index(store)

    meta, parts = streamed.parts()
    expected_meta, expected_parts = _from_whole_answers(store, streamed.kind_labels).parts()
    assert len(streamed) > 200 and meta == expected_meta and list(parts) == list(expected_parts)
    assert all(bytes(memoryview(parts[name])) == bytes(memoryview(expected_parts[name])) for name in parts)


def _from_whole_answers(store, kind_labels: dict) -> SearchIndex:
    """The index as it was made before rows were streamed: every row held, grouped by resource in a dict."""
    base, fields = store.base_iri, field_of(store.base_iri)
    strings = {"base": json.dumps(base), "ontology": json.dumps(base + "ontology/")}
    texts: dict[str, list] = {}
    for resource, predicate, text, language in store.select_values(
            TEXTS.format(predicates=" ".join(f"<{p}>" for p in fields), **strings)):
        texts.setdefault(resource, []).append((*fields[predicate], language, text))
    preferred: dict[str, tuple] = {}
    for resource, scheme, kind_type in store.select_values(KINDS.format(**strings)):
        kind = scheme or kind_type
        preference = (0 if scheme else 1 if kind.startswith(base) else 2, kind)
        if resource in texts and (resource not in preferred or preference < preferred[resource]):
            preferred[resource] = preference
    index = SearchIndex(kind_labels)
    for resource in sorted(texts):
        index.add(resource, preferred[resource][1] if resource in preferred else "", texts[resource])
    return index.finish(LANGUAGES)


def test_an_index_file_written_in_pieces_is_the_file_written_whole(project_release, project_settings, tmp_path):
    store = open_store(dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                           public_base=project_settings.base_iri, engine="per-worker"))
    meta, parts = build_index(store).parts()
    with open(tmp_path / "whole", "wb") as whole, open(tmp_path / "pieces", "wb") as pieces:
        search_index_file.write(whole, meta, parts)
        search_index_file.write_pieces(pieces, meta, search_index_file.layout_of(parts),
                                       lambda name, start: bytes(memoryview(parts[name]).cast("B")[start:start + 7]))

    assert (tmp_path / "whole").read_bytes() == (tmp_path / "pieces").read_bytes()
    assert mapped(tmp_path / "pieces").search("bursa", "en", 5).hits[0].iri.endswith("id/region/bursa")


def test_a_part_that_ends_too_soon_is_no_file(tmp_path):
    with open(tmp_path / "short", "wb") as file, pytest.raises(ValueError, match="ended at 3 of 8 bytes"):
        search_index_file.write_pieces(file, {}, {"texts": (8, "B")}, lambda name, start: b"abc"[start:])
