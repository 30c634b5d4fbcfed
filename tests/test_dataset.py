"""Loading: named graphs, the source index, rebasing and the errors of bad files."""

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, RDF, RDFS, SKOS

from lodpub.data_errors import DataFileError
from lodpub.dataset import (
    described_more_than_once,
    graph_iri,
    load_dataset,
    one_graph_per_triple,
    union_of_sorted_quads,
    without_graph,
)
from lodpub.namespaces import rebase
from lodpub.rdf_files import SourceLocation, parse_rdf_file

MINI = Path(__file__).parent / "fixtures" / "mini"
CANONICAL = "https://data.kraj-lbc.cz/partnerships/"
ELSEWHERE = "http://localhost:8080/lod/"
RP = Namespace(CANONICAL + "ontology/")
AGR = Namespace(CANONICAL + "id/agreement/")
REG = Namespace(CANONICAL + "id/region/")
ST = Namespace(CANONICAL + "vocabulary/statuses/")
COUNTRY = Namespace("http://publications.europa.eu/resource/authority/country/")
ANY_URI = URIRef("http://www.w3.org/2001/XMLSchema#anyURI")


def line_of(path: Path, text: str) -> int:
    """The 1-based number of the line of `path` that is exactly `text`."""
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


# --- named graphs ------------------------------------------------------------------------------


def test_each_directory_goes_to_its_own_named_graph(mini_settings):
    dataset = load_dataset(mini_settings).dataset
    ontology, vocabularies, data = (
        dataset.graph(graph_iri(CANONICAL, name)) for name in ("ontology", "vocabularies", "data")
    )

    assert (RP.Agreement, RDFS.subClassOf, RP.Record) in ontology
    assert (ST.active, RDF.type, SKOS.Concept) in vocabularies
    assert (ST.active, RDF.type, SKOS.Concept) not in ontology
    assert (REG.liberec, RDF.type, RP.TerritorialBody) in data  # data/region.ttl
    assert (AGR["bursa-2015"], RDF.type, RP.Agreement) in data  # data/partnerships/bursa.ttl
    assert {graph.identifier for graph in dataset.graphs() if len(graph)} == {
        URIRef(CANONICAL + "graph/ontology"),
        URIRef(CANONICAL + "graph/vocabularies"),
        URIRef(CANONICAL + "graph/data"),
    }


def test_union_holds_every_triple_once(mini_settings):
    loaded = load_dataset(mini_settings)

    union = loaded.union()

    assert len(union) == sum(len(graph) for graph in loaded.dataset.graphs())
    assert (RP.Agreement, RDFS.subClassOf, RP.Record) in union
    assert (AGR["bursa-2011"], RP.partner, REG.bursa) in union


def test_a_triple_two_graphs_state_is_kept_in_the_first_only(mini_settings, mini):
    # The ontology's label of rp:Record, said again by a data file and a vocabulary file; and a
    # statement of the data said again by a vocabulary file.
    (mini / "data" / "repeats.ttl").write_text(
        '<https://data.kraj-lbc.cz/partnerships/ontology/Record> '
        '<http://www.w3.org/2000/01/rdf-schema#label> "Record"@en .\n', encoding="utf-8")
    (mini / "ontology" / "vocabularies" / "repeats.ttl").write_text(
        '<https://data.kraj-lbc.cz/partnerships/ontology/Record> '
        '<http://www.w3.org/2000/01/rdf-schema#label> "Record"@en .\n'
        '<https://data.kraj-lbc.cz/partnerships/id/agreement/bursa-2011> '
        '<https://data.kraj-lbc.cz/partnerships/ontology/partner> '
        '<https://data.kraj-lbc.cz/partnerships/id/region/bursa> .\n', encoding="utf-8")
    loaded = load_dataset(mini_settings)
    holding = {name: {graph.identifier for graph in loaded.dataset.graphs() if triple in graph}
               for name, triple in (("label", (RP.Record, RDFS.label, Literal("Record", lang="en"))),
                                    ("partner", (AGR["bursa-2011"], RP.partner, REG.bursa)))}

    assert holding == {"label": {graph_iri(CANONICAL, "ontology")}, "partner": {graph_iri(CANONICAL, "vocabularies")}}
    assert len(loaded.quad_lines) == len(loaded.triple_lines())


def test_files_that_are_not_rdf_or_are_hidden_are_ignored(mini_settings, mini):
    # data/source/notes.txt is in the fixture and is not Turtle; add a broken hidden editor file.
    (mini / "data" / "partnerships" / ".#bursa.ttl").write_text("this is @not turtle")

    loaded = load_dataset(mini_settings)

    loaded_files = {path.name for paths in loaded.index.files.values() for path in paths}
    assert loaded_files == {"mini.ttl", "statuses.ttl", "region.ttl", "bursa.ttl"}


def test_data_path_may_be_a_single_file(mini_settings, mini):
    settings = dataclasses.replace(mini_settings, data_dir=mini / "data" / "region.ttl")

    data = load_dataset(settings).dataset.graph(graph_iri(CANONICAL, "data"))

    assert (REG.liberec, RDF.type, RP.TerritorialBody) in data
    assert (AGR["bursa-2015"], RDF.type, RP.Agreement) not in data


def test_missing_data_directory_is_reported(mini_settings, tmp_path):
    settings = dataclasses.replace(mini_settings, data_dir=tmp_path / "nowhere")

    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_dataset(settings)


def test_a_link_to_a_missing_file_is_an_error_naming_link_and_target(mini_settings, mini):
    """The office links a file kept on a share that is not mounted: its data must not vanish unsaid."""
    link = mini / "data" / "partnerships" / "dresden.ttl"
    link.symlink_to("/mnt/share/dresden.ttl")

    with pytest.raises(DataFileError) as caught:
        load_dataset(mini_settings)

    assert caught.value.describe("en") == (
        f"{link}: missing file: this is a link to /mnt/share/dresden.ttl, which does not exist. Restore that file "
        "(or correct the link), or delete the link if its data is no longer to be published.")
    assert caught.value.describe("cs") == (
        f"{link}: chybějící soubor: toto je odkaz na /mnt/share/dresden.ttl, který neexistuje. Obnovte ten soubor "
        "(nebo odkaz opravte), nebo odkaz smažte, pokud se jeho data už nemají zveřejnit.")


@pytest.mark.parametrize("name", ["dresden", "dresden.txt"])
def test_a_link_to_nothing_is_an_error_whatever_its_name(mini_settings, mini, name):
    """A link without a suffix may have been a folder of data; none is dropped unsaid."""
    link = mini / "data" / name
    link.symlink_to(mini / "elsewhere")

    with pytest.raises(DataFileError, match="does not exist"):
        load_dataset(mini_settings)


def test_a_hidden_link_to_nothing_is_ignored(mini_settings, mini):
    # Emacs marks a file it edits with a link to nothing: ".#bursa.ttl -> user@host.1234".
    (mini / "data" / "partnerships" / ".#bursa.ttl").symlink_to("user@host.1234")

    assert load_dataset(mini_settings).index.files[REG.bursa] == [mini / "data" / "partnerships" / "bursa.ttl"]


def test_a_linked_folder_is_read_like_any_other(mini_settings, mini, tmp_path):
    shared = tmp_path / "share" / "more"
    shared.mkdir(parents=True)
    (mini / "data" / "partnerships" / "bursa.ttl").rename(shared / "bursa.ttl")
    (mini / "data" / "partnerships" / "more").symlink_to(shared)

    index = load_dataset(mini_settings).index

    assert index.files[REG.bursa] == [mini / "data" / "partnerships" / "more" / "bursa.ttl"]


def test_a_folder_link_that_leads_back_up_is_an_error(mini_settings, mini):
    link = mini / "data" / "partnerships" / "all"
    link.symlink_to(mini / "data")

    with pytest.raises(DataFileError) as caught:
        load_dataset(mini_settings)

    assert caught.value.describe("en") == (
        f"{link}: link loop: this link leads back to the folder {(mini / 'data').resolve()}, which holds it, "
        "so its files would be read without end. Delete the link.")


def test_blank_nodes_get_the_same_labels_on_every_load(mini_settings):
    first, second = (load_dataset(mini_settings).dataset for _ in range(2))

    assert any(isinstance(node, BNode) for quad in first.quads() for node in quad)
    assert sorted(first.quads()) == sorted(second.quads())


# --- source index ------------------------------------------------------------------------------


def test_index_maps_subjects_to_the_file_and_line_they_are_written_on(mini_settings, mini):
    index = load_dataset(mini_settings).index
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    ontology = mini / "ontology" / "mini.ttl"

    assert index.location_of(AGR["bursa-2015"]).path == bursa
    assert index.location_of(AGR["bursa-2015"]).line == line_of(bursa, "agr:bursa-2015")
    assert index.location_of(REG.bursa).line == line_of(bursa, "reg:bursa")
    # Written as a full IRI, not a prefixed name:
    assert index.location_of(URIRef(CANONICAL + "ontology")).path == ontology
    assert index.location_of(URIRef(CANONICAL + "ontology")).line == line_of(ontology, f"<{CANONICAL}ontology>")
    assert index.files[REG.liberec] == [mini / "data" / "region.ttl"]


def test_index_knows_nothing_of_objects_and_blank_nodes(mini_settings):
    index = load_dataset(mini_settings).index

    assert index.location_of(COUNTRY.TUR) is None  # only ever an object
    assert index.location_of(BNode()) is None


def test_index_prefers_a_subject_at_the_start_of_a_statement(mini_settings, tmp_path):
    data = tmp_path / "things.ttl"
    data.write_text(
        "@prefix ex:    <http://example.org/> .\n"                                  # 1
        f"@prefix thing: <{CANONICAL}id/thing/> .\n"                                 # 2
        "\n"                                                                         # 3
        "thing:a ex:refersTo\n"                                                      # 4
        "    thing:b ,\n"                                                            # 5
        "    thing:c .\n"                                                            # 6
        "\n"                                                                         # 7
        f"<{CANONICAL}id/thing/b> ex:label \"b\" .\n"                                # 8
        "thing:c-d ex:label \"c-d\" .\n"                                             # 9
        "thing:c ex:label \"c\" .\n",                                                # 10
        encoding="utf-8",
    )
    settings = dataclasses.replace(mini_settings, data_dir=data)
    thing = Namespace(CANONICAL + "id/thing/")

    index = load_dataset(settings).index

    lines = {name: index.location_of(thing[name]).line for name in ("a", "b", "c", "c-d")}
    assert lines == {"a": 4, "b": 8, "c": 10, "c-d": 9}


def test_subjects_of_formats_without_lines_are_indexed_without_a_line(mini_settings, tmp_path):
    data = tmp_path / "thing.jsonld"
    data.write_text(f'{{"@id": "{CANONICAL}id/thing/x", "http://example.org/p": "x"}}', encoding="utf-8")
    settings = dataclasses.replace(mini_settings, data_dir=data)

    location = load_dataset(settings).index.location_of(URIRef(CANONICAL + "id/thing/x"))

    assert (location.path, location.line) == (data, None)
    assert str(location) == str(data)


# --- rebasing ----------------------------------------------------------------------------------


def test_rebase_rewrites_only_our_iris():
    ours = URIRef(CANONICAL + "id/region/bursa")
    graph = Graph(bind_namespaces="none")
    graph.bind("reg", CANONICAL + "id/region/")
    graph.bind("country", str(COUNTRY))
    graph.add((ours, RDFS.seeAlso, COUNTRY.TUR))
    graph.add((ours, RP.code, Literal("TR-16", datatype=RP["ISO3166-2"])))
    graph.add((ours, RP.namespace, Literal(CANONICAL + "id/", datatype=ANY_URI)))
    graph.add((ours, RDFS.comment, Literal(CANONICAL + " is a string, not an IRI")))

    rebase(graph, CANONICAL, ELSEWHERE)

    rebased = URIRef(ELSEWHERE + "id/region/bursa")
    rebased_rp = Namespace(ELSEWHERE + "ontology/")
    assert set(graph) == {
        (rebased, RDFS.seeAlso, COUNTRY.TUR),
        (rebased, rebased_rp.code, Literal("TR-16", datatype=rebased_rp["ISO3166-2"])),
        (rebased, rebased_rp.namespace, Literal(ELSEWHERE + "id/", datatype=ANY_URI)),
        (rebased, RDFS.comment, Literal(CANONICAL + " is a string, not an IRI")),
    }
    assert dict(graph.namespaces()) == {"reg": URIRef(ELSEWHERE + "id/region/"), "country": URIRef(str(COUNTRY))}


def test_loading_under_another_base_iri_rebases_graphs_subjects_and_index(mini_settings, mini):
    settings = dataclasses.replace(mini_settings, base_iri=ELSEWHERE)

    loaded = load_dataset(settings)

    data = loaded.dataset.graph(URIRef(ELSEWHERE + "graph/data"))
    agreement = URIRef(ELSEWHERE + "id/agreement/bursa-2015")
    assert (agreement, RDF.type, URIRef(ELSEWHERE + "ontology/Agreement")) in data
    assert (URIRef(ELSEWHERE + "id/region/bursa"), URIRef("https://schema.org/containedInPlace"), COUNTRY.TUR) in data
    assert not any(str(term).startswith(CANONICAL) for triple in loaded.union() for term in triple
                   if not isinstance(term, Literal))
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    assert loaded.index.location_of(agreement).line == line_of(bursa, "agr:bursa-2015")
    assert loaded.prefixes["agr"] == ELSEWHERE + "id/agreement/"


# --- bad files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_turtle_syntax_error_gives_file_line_and_column(mini_settings, mini, jobs):
    """Files are read by a pool of processes: the error comes back from it whole."""
    mini_settings = dataclasses.replace(mini_settings, build_jobs=jobs)
    broken = mini / "data" / "broken.ttl"
    broken.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "\n"
        'ex:a ex:label "a"@cs ,\n'
        '    "a"@en .\n'
        'ex:b ex:label "kůň" ex:c .\n',  # a second object without a comma: column 21, in characters
        encoding="utf-8",
    )

    with pytest.raises(DataFileError) as caught:
        load_dataset(mini_settings)

    error = caught.value
    assert (error.path, error.line, error.column) == (broken, 5, 21)
    assert "end of statement" in error.message
    assert error.location == f"{broken}:5:21"


def test_file_that_is_not_utf8_is_a_data_file_error(tmp_path):
    latin1 = tmp_path / "latin1.ttl"
    latin1.write_bytes('@prefix ex: <http://example.org/> .\nex:a ex:b "café" .\n'.encode("latin-1"))

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(latin1)

    assert (caught.value.line, caught.value.column) == (2, 15)
    assert "UTF-8" in caught.value.message


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        (
            "broken.rdf",
            '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about="http://example.org/a">\n    <oops\n</rdf:RDF>\n',
            5,
        ),
        ("broken.jsonld", '{\n  "@id": "http://example.org/a",\n  "http://example.org/p": [1,\n}\n', 4),
        ("broken.nt", "<http://example.org/a> <http://example.org/b> .\n", 1),  # rdflib gives none: Oxigraph does
    ],
)
def test_other_formats_report_the_line_their_parser_gives(tmp_path, name, content, line):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(path)

    assert (caught.value.path, caught.value.line) == (path, line)
    assert caught.value.message


SPACE_IN_IRI = ("the IRI <https://example.org/a b> contains a space, which no IRI may contain. Remove that character, "
                "or write it as %20: <https://example.org/a%20b>.")
EX = '@prefix ex: <http://example.org/> .\n'


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_iri_with_a_space_is_an_error_where_it_is_written(mini_settings, mini, jobs):
    """rdflib reads <https://example.org/a b> and cannot write it; the error comes whole from the pool."""
    mini_settings = dataclasses.replace(mini_settings, build_jobs=jobs)
    path = mini / "data" / "space.ttl"
    path.write_text(EX + "\nex:a ex:b <https://example.org/a b> .\n", encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        load_dataset(mini_settings)

    assert caught.value.describe("en") == f"{path}:3:11: syntax error: {SPACE_IN_IRI}"
    assert caught.value.describe("cs") == (
        f"{path}:3:11: chyba zápisu: IRI <https://example.org/a b> obsahuje mezeru, což žádné IRI obsahovat nesmí. "
        "Tento znak odstraňte, nebo jej zapište jako %20: <https://example.org/a%20b>.")


@pytest.mark.parametrize(("name", "content", "place", "explanation"), [
    # in a prefix: the place is the declaration
    ("prefix.ttl", '@prefix ex: <http://example.org/a b/> .\n\nex:a ex:b ex:c .\n', "1:13",
     "the IRI <http://example.org/a b/> contains a space, which no IRI may contain. Remove that character, "
     "or write it as %20: <http://example.org/a%20b/>."),
    # escaped, as Turtle allows
    ("escaped.ttl", EX + "ex:a ex:b <https://example.org/a\\u0020b> .\n", "2:11", SPACE_IN_IRI),
    ("datatype.ttl", EX + 'ex:a ex:b "x"^^<https://example.org/a b> .\n', "2:16", SPACE_IN_IRI),
    ("brace.ttl", EX + "ex:a ex:b <https://example.org/{x}> .\n", "2:11",
     'the IRI <https://example.org/{x}> contains the character "{", which no IRI may contain. Remove that '
     "character, or write it as %7B: <https://example.org/%7Bx%7D>."),
    ("space.nt", "<http://example.org/a> <http://example.org/b> <https://example.org/a b> .\n", "1:47", SPACE_IN_IRI),
    ("space.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                  'xmlns:ex="http://example.org/">\n  <rdf:Description rdf:about="https://example.org/a b">\n'
                  "    <ex:p>x</ex:p>\n  </rdf:Description>\n</rdf:RDF>\n", "3:31", SPACE_IN_IRI),
    # JSON-LD would drop the node without a word
    ("space.jsonld", '{\n  "@id": "https://example.org/a b",\n  "http://example.org/p": "x"\n}\n', "2:11", SPACE_IN_IRI),
    # ... or put the document's own IRI in its place
    ("link.jsonld", '{"@context": {"p": {"@id": "http://example.org/p", "@type": "@id"}},\n'
                    ' "@id": "http://example.org/a", "p": "https://example.org/a b"}\n', "2:39", SPACE_IN_IRI),
])
def test_an_iri_with_a_character_no_iri_may_hold_is_an_error_in_every_format(tmp_path, name, content, place,
                                                                              explanation):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(path)

    assert caught.value.describe("en") == f"{path}:{place}: syntax error: {explanation}"


def test_a_json_ld_text_whose_language_tag_is_none_is_an_error_not_dropped(tmp_path):
    path = tmp_path / "lang.jsonld"
    path.write_text('{"@id": "http://example.org/a",\n "http://example.org/p": {"@value": "x", "@language": "cs CZ"}}\n',
                    encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(path)

    assert caught.value.describe("en") == (
        f'{path}:2:56: syntax error: "cs CZ" is not a language tag, so the text would be left out. Write the '
        'language in letters and hyphens, e.g. "cs" or "en-GB".')


@pytest.mark.parametrize(("name", "content", "place", "message"), [
    ("broken.nt", '<http://example.org/a> <http://example.org/b> "x" .\n<http://example.org/a> <http://example.org/b> .\n',
     "2:47", "The object of a triple must be an IRI, a blank node or a literal. Each line of an N-Triples file is one "
             'statement: subject, predicate and object, each written in full (<…>, _:… or "…"), and " ." at the end '
             "of the line."),
    ("open.nt", '<http://example.org/a> <http://example.org/b> "x\n', "1:47", "Unexpected end of file. Each line"),
    ("broken.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                   '  <rdf:Description rdf:about="http://example.org/a">\n    <oops\n</rdf:RDF>\n',
     "5:1", "not well-formed (invalid token). Correct the file at this place."),
    ("broken.jsonld", '{\n  "@id": "http://example.org/a",\n  "http://example.org/p": [1,\n}\n',
     "4:1", "unexpected character. Correct the file at this place."),
])
def test_a_malformed_file_in_another_format_is_one_line_with_its_place(tmp_path, name, content, place, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(path)

    assert caught.value.describe("en").startswith(f"{path}:{place}: syntax error: {message}")


BOM = "\ufeff"


@pytest.mark.parametrize(("name", "content"), [
    ("notepad.ttl", EX + 'ex:a ex:b "kůň" .\n'),
    ("notepad.nt", '<http://example.org/a> <http://example.org/b> "kůň" .\n'),
    ("notepad.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                    'xmlns:ex="http://example.org/">\n  <rdf:Description rdf:about="http://example.org/a">\n'
                    "    <ex:b>kůň</ex:b>\n  </rdf:Description>\n</rdf:RDF>\n"),
    ("notepad.jsonld", '{"@id": "http://example.org/a", "http://example.org/b": "kůň"}\n'),
])
def test_a_file_that_begins_with_a_utf8_byte_order_mark_is_read_as_without_it(tmp_path, name, content):
    """Windows Notepad begins a file saved as UTF-8 with a BOM."""
    path = tmp_path / name
    path.write_text(BOM + content, encoding="utf-8")

    graph = parse_rdf_file(path)

    assert set(graph) == {(URIRef("http://example.org/a"), URIRef("http://example.org/b"), Literal("kůň"))}


def test_after_a_byte_order_mark_subjects_and_errors_are_where_the_editor_shows_them(mini_settings, mini):
    first = mini / "data" / "first.ttl"
    first.write_text(BOM + f'<{REG.first}> <{RDFS.label}> "First"@en .\n', encoding="utf-8")
    assert load_dataset(mini_settings).index.location_of(REG.first) == SourceLocation(first, 1)
    broken = mini / "data" / "broken.ttl"
    broken.write_text(BOM + 'ex:a ex:b "x" .\n', encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        load_dataset(mini_settings)

    assert caught.value.location == f"{broken}:1:1"  # the undeclared prefix ex:, in the first column
    assert 'unknown prefix "ex:"' in caught.value.message


# --- what the office is told about a file it broke ----------------------------------------------

REGION_LABEL = '    rdfs:label "Bursa"@cs , "Bursa"@en ;'


def test_syntax_error_says_where_to_look_and_what_to_fix_in_both_languages(mini):
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    text = bursa.read_text(encoding="utf-8")
    assert REGION_LABEL in text
    bursa.write_text(text.replace(REGION_LABEL, REGION_LABEL.removesuffix(" ;")), encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(bursa)

    error = caught.value
    # The parser stops on the next line; the hint sends the reader to the end of the one before.
    assert error.line == line_of(bursa, REGION_LABEL.removesuffix(" ;")) + 1
    assert error.describe("en").startswith(
        f"{error.location}: syntax error: expected '.' or '}}' or ']' at end of statement. "
        "The mistake is here or just before (often at the end of the previous line): "
        'inside a block every line ends with ";" or ",", a block ends with "."')
    assert error.describe("cs").startswith(
        f"{error.location}: chyba zápisu: expected '.' or '}}' or ']' at end of statement. "
        "Chyba je zde nebo těsně před tímto místem (často na konci předchozího řádku): "
        'uvnitř bloku končí každý řádek ";" nebo ",", blok končí "."')
    assert error.message == error.explanation["en"]


@pytest.mark.parametrize(("prefix", "english_hint", "czech_hint"), [
    # one of ours, not declared: the very line to add
    ("dlg", "Add the line  @prefix dlg: <https://data.kraj-lbc.cz/partnerships/id/delegation/> .  to the prefixes "
            "at the top of the file.",
     "Doplňte mezi prefixy na začátku souboru řádek  @prefix dlg: <https://data.kraj-lbc.cz/partnerships/id/delegation/> ."),
    # a typo of a declared one: the prefix meant
    ("dcterm", 'Did you mean "dcterms:"? Correct the spelling, or declare the prefix at the top of the file '
               "(@prefix dcterm: <…> .).",
     'Nemysleli jste "dcterms:"? Opravte překlep, nebo prefix deklarujte na začátku souboru (@prefix dcterm: <…> .).'),
])
def test_unknown_prefix_names_the_declaration_or_the_prefix_meant(tmp_path, prefix, english_hint, czech_hint):
    path = tmp_path / "new.ttl"
    path.write_text("@prefix dcterms: <http://purl.org/dc/terms/> .\n\n"
                    f"<http://example.org/a>\n    dcterms:title {prefix}:x .\n", encoding="utf-8")

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(path)

    assert caught.value.location == f"{path}:4:19"
    assert caught.value.describe("en") == (f'{path}:4:19: syntax error: unknown prefix "{prefix}:": '
                                          f"the file does not declare it. {english_hint}")
    assert caught.value.describe("cs") == (f'{path}:4:19: chyba zápisu: neznámý prefix "{prefix}:": '
                                          f"soubor jej nedeklaruje. {czech_hint}")


def test_file_not_in_utf8_says_how_to_save_it(tmp_path):
    latin1 = tmp_path / "latin1.ttl"
    latin1.write_bytes('@prefix ex: <http://example.org/> .\nex:a ex:b "café" .\n'.encode("latin-1"))

    with pytest.raises(DataFileError) as caught:
        parse_rdf_file(latin1)

    assert caught.value.describe("en").endswith("Save the file in the UTF-8 encoding (in the editor: Save as… → UTF-8).")
    assert caught.value.describe("cs").endswith("Uložte jej v kódování UTF-8 (v editoru: Uložit jako… → UTF-8).")


OUR_PREFIXES = """
@prefix rdfs:   <http://www.w3.org/2000/01/rdf-schema#> .
@prefix foaf:   <http://xmlns.com/foaf/0.1/> .
@prefix time:   <http://www.w3.org/2006/time#> .
@prefix person: <https://data.kraj-lbc.cz/partnerships/id/person/> .
@prefix t:      <https://data.kraj-lbc.cz/partnerships/id/time/> .
"""
PAVEL_NOVAK = """
person:pavel-novak
    a foaf:Person ;
    rdfs:label "Pavel Novák"@cs , "Pavel Novák"@en .
"""
TIME_2011 = """
t:2011-11-01
    a time:Instant .
"""


def write_partnership(mini: Path, name: str, text: str) -> Path:
    path = mini / "data" / "partnerships" / name
    path.write_text(OUR_PREFIXES + text, encoding="utf-8")
    return path


def block_lines(path: Path, first_line: str) -> list[SourceLocation]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [SourceLocation(path, number) for number, line in enumerate(lines, start=1) if line == first_line]


def test_an_iri_described_in_two_files_or_twice_in_one_is_found_with_every_place(mini_settings, mini):
    # A time is described in every file that uses it: once in each is right, twice in one is not.
    first = write_partnership(mini, "first.ttl", PAVEL_NOVAK + TIME_2011 + TIME_2011)
    second = write_partnership(mini, "second.ttl", PAVEL_NOVAK + TIME_2011)

    repeated = described_more_than_once(load_dataset(mini_settings))

    person, time = URIRef(CANONICAL + "id/person/pavel-novak"), URIRef(CANONICAL + "id/time/2011-11-01")
    assert repeated == {
        person: block_lines(first, "person:pavel-novak") + block_lines(second, "person:pavel-novak"),
        time: block_lines(first, "t:2011-11-01") + block_lines(second, "t:2011-11-01"),
    }
    assert len(repeated[time]) == 3


def test_a_time_described_once_in_each_file_is_not_repeated(mini_settings, mini):
    write_partnership(mini, "first.ttl", PAVEL_NOVAK + TIME_2011)
    write_partnership(mini, "second.ttl", TIME_2011)

    assert described_more_than_once(load_dataset(mini_settings)) == {}


IDENTIFIED = OUR_PREFIXES + """@prefix skos:   <http://www.w3.org/2004/02/skos/core#> .
person:pavel-novak skos:notation "{code}" .
"""


def write_authority(mini: Path, name: str, *codes: str) -> Path:
    """A file of data/authorities/ that identifies Pavel Novák by each of `codes`, one block each."""
    path = mini / "data" / "authorities" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(IDENTIFIED.format(code=code) for code in codes), encoding="utf-8")
    return path


def test_the_authorities_folder_is_its_own_graph_which_may_identify_what_the_data_describes(mini_settings, mini):
    write_partnership(mini, "first.ttl", PAVEL_NOVAK)
    write_authority(mini, "register-a.ttl", "A-1")
    write_authority(mini, "register-b.ttl", "B-1")

    loaded = load_dataset(mini_settings)

    person = URIRef(CANONICAL + "id/person/pavel-novak")
    authorities, data = (loaded.dataset.graph(graph_iri(CANONICAL, name)) for name in ("authorities", "data"))
    assert set(authorities.objects(person, SKOS.notation)) == {Literal("A-1"), Literal("B-1")}
    assert not list(data.triples((person, SKOS.notation, None)))
    assert (person, RDF.type, FOAF.Person) in data and not list(authorities.triples((person, RDF.type, None)))
    assert described_more_than_once(loaded) == {}  # one identifying block per register's file


def test_an_authorities_file_that_identifies_a_resource_twice_repeats_it(mini_settings, mini):
    write_partnership(mini, "first.ttl", PAVEL_NOVAK)
    twice = write_authority(mini, "register-a.ttl", "A-1", "A-2")

    repeated = described_more_than_once(load_dataset(mini_settings))

    assert list(repeated) == [URIRef(CANONICAL + "id/person/pavel-novak")]
    assert [block.path for block in repeated[URIRef(CANONICAL + "id/person/pavel-novak")]].count(twice) == 2


UNDECLARED = "\n<http://example.org/a>\n    rdfs:label dlg:x .\n"


def test_the_command_line_prints_the_error_with_what_to_do(run_lodpub, mini_options, mini):
    broken = write_partnership(mini, "new.ttl", UNDECLARED)

    result = run_lodpub("validate", *mini_options)

    assert result.returncode == 2
    assert result.stderr == (
        f'{broken}:9:16: syntax error: unknown prefix "dlg:": the file does not declare it. Add the line  '
        "@prefix dlg: <https://data.kraj-lbc.cz/partnerships/id/delegation/> .  to the prefixes at the top of the file.\n"
    )


def test_the_command_line_prints_the_error_in_czech_on_request(run_lodpub, mini_options, mini):
    broken = write_partnership(mini, "new.ttl", UNDECLARED)

    result = run_lodpub("validate", *mini_options, "--lang", "cs")

    assert result.returncode == 2
    assert result.stderr.startswith(f'{broken}:9:16: chyba zápisu: neznámý prefix "dlg:": soubor jej nedeklaruje. ')


def test_without_locating_subjects_the_same_lines_are_read_and_no_index_is_made(mini_settings):
    located, unlocated = load_dataset(mini_settings), load_dataset(mini_settings, locate=False)
    assert unlocated.quad_lines == located.quad_lines and unlocated.prefixes == located.prefixes
    assert located.index.locations and not unlocated.index.locations


# Terms whose texts are prefixes of one another: blank node labels, IRIs, and a literal plain, tagged and typed.
_TERMS = st.sampled_from(["<http://a/>", "<http://a/b>", "_:b1", "_:b10", "_:b1a"])
_OBJECTS = _TERMS | st.sampled_from(['"a"', '"a"@cs', '"a"@cs-cz', '"a"^^<http://b/>', '"a b"', '"a\\"b"', '""'])
_GRAPHS = ["http://g/ontology", "http://g/data", "http://g/data2"]


@given(st.lists(st.tuples(_TERMS, _TERMS, _OBJECTS, st.sampled_from(_GRAPHS)), max_size=40))
def test_the_union_of_sorted_quads_is_their_triples_sorted_and_distinct_without_a_sort(quads):
    lines = sorted({f"{s} {p} {o} <{g}> .\n".encode() for s, p, o, g in quads})
    kept = one_graph_per_triple(lines, _GRAPHS)

    assert union_of_sorted_quads(kept) == sorted({without_graph(line) for line in kept})


def _first_graph_of_each_triple(lines: list[bytes], graph_order: list[str]) -> list[bytes]:
    """What one_graph_per_triple gives, the plain way: per triple, its line of the first graph in the order
    (a graph not in it last; of equals, the first line sorted), sorted."""
    rank = {f" <{graph}> .\n".encode(): position for position, graph in enumerate(graph_order)}
    kept: dict[bytes, bytes] = {}
    for line in sorted(set(lines)):
        triple, graph = line[:line.rindex(b" <")], line[line.rindex(b" <"):]
        if triple not in kept or rank.get(graph, len(rank)) < rank.get(kept[triple][len(triple):], len(rank)):
            kept[triple] = line
    return sorted(kept.values())


@given(st.lists(st.tuples(_TERMS, _TERMS, _OBJECTS, st.sampled_from(_GRAPHS)), max_size=60))
def test_each_triple_is_kept_in_the_first_graph_that_states_it_and_each_line_once(quads):
    lines = sorted(f"{s} {p} {o} <{g}> .\n".encode() for s, p, o, g in quads + quads[::3])  # some lines twice
    order = ["http://g/data2"]  # the other two in no place: both last, the first sorted kept

    assert one_graph_per_triple(lines, order) == _first_graph_of_each_triple(lines, order)
