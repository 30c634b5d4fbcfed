"""The data against its source page: every statement of the page is in the graph, word for word
where it is quoted, and nothing is quoted that the page does not say.

The page's content lies between its title ("Uzavřená dohoda") and its footer. Before the title
stand the website's browser warning, cookie banner and navigation links, after the content its
footer navigation: the website's furniture, not statements of the Region, and left out on purpose.

The review of the page (data/source/uzavrene-dohody.review.tsv) has one row per sentence of the page,
and one per line that is not a sentence (title, list, headings, website addresses, document links), in
the page's order. Each row names the resources and properties that carry its facts ("carriers":
`subject property [object]`, separated by " ; ", the property a SPARQL path) and what the page does
not say that a reader might assume. The tests below check it both ways: the rows are the page, every
carrier is in the built graph, every resource of the graph's kinds below is named by some row, and every
(subject, property) pair of the data graph is carried by some row, but for the structural ones named
below (UNCARRIED), so that an invented statement about a resource a row already names fails too.
"""

import csv
import re
import unicodedata
from typing import NamedTuple

import pytest
from conftest import CHECKOUT
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, TIME

from lodpub.dataset import graph_iri
from lodpub.namespaces import CANONICAL_BASE, PREFIXES

SOURCE = CHECKOUT / "data" / "source" / "uzavrene-dohody.txt"
REVIEW = CHECKOUT / "data" / "source" / "uzavrene-dohody.review.tsv"
REVIEW_COLUMNS = ("section", "kind", "text", "carriers", "not said")
RP = PREFIXES["rp"]
LIBEREC_REGION = URIRef(PREFIXES["reg"] + "liberec-region")
SOURCE_PAGE = URIRef(PREFIXES["src"] + "uzavrene-dohody")

TITLE = "Uzavřená dohoda"
FOOTER = "Přeskočit patičku"
SECTION_HEADINGS = {"Geneze spolupráce:", "Současný stav:", "Vypovězení spolupráce"}
WEBSITE_HEADING = re.compile(r"^Oficiální webové stránky (?:regionu|provincie) .+:$")
PARTNER_HEADING = re.compile(r"^(?:• )?(?P<name>.+) \((?P<country>[^()]+)\)$")

# A sentence ends with . ! or ? after something other than a digit (not "22. 4. 2009"), and the
# next begins with a capital or a digit; an initial ("J. Slavík") or "např." does not end one.
SENTENCE_BREAK = re.compile(r"(?<=[^\d\s][.!?])\s+(?=[A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ0-9])")
ABBREVIATION_AT_END = re.compile(r"(?:\b[A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ]|např)\.$")


def normalise(text: str) -> str:
    """One space between words, one kind of apostrophe, NFC."""
    text = unicodedata.normalize("NFC", text).replace("´", "'").replace("’", "'")
    return " ".join(text.split())


def sentences(paragraph: str) -> list[str]:
    result: list[str] = []
    for piece in SENTENCE_BREAK.split(normalise(paragraph)):
        if result and ABBREVIATION_AT_END.search(result[-1]):
            result[-1] += " " + piece
        else:
            result.append(piece)
    return result


def source_lines() -> tuple[list[str], list[str]]:
    """(the content lines of the page, the lines left out), blank lines dropped."""
    lines = [line for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = lines.index(TITLE)
    end = next(number for number, line in enumerate(lines) if line.startswith(FOOTER))
    return [normalise(line) for line in lines[start:end]], lines[:start] + lines[end:]


CONTENT, LEFT_OUT = source_lines()
PARAGRAPHS = [line for line in CONTENT if len(line) > 100]


DOCUMENT_LINKS = ("Memorandum o spolupráci", "Návrh na ukončení memoranda", "Ukončení spolupráce")


def line_kind(line: str, previous: str | None) -> str:
    """What a content line of the page is: title, list, partner heading, section heading, website
    heading, website, document, or paragraph (whose sentences are the rows)."""
    if line == TITLE:
        return "title"
    if line.startswith("• "):
        return "list"
    if line in SECTION_HEADINGS:
        return "section heading"
    if WEBSITE_HEADING.match(line):
        return "website heading"
    if previous is not None and WEBSITE_HEADING.match(previous):
        return "website"
    if line in DOCUMENT_LINKS:
        return "document"
    if line in PARAGRAPHS:
        return "paragraph"
    if PARTNER_HEADING.match(line):
        return "partner heading"
    return "unknown"


def review_items() -> list[tuple[str, str, str]]:
    """(section, kind, text) of every line of the page's content, a paragraph as its sentences, in the
    page's order; the section is the partner heading the line stands under ("" before the first)."""
    items: list[tuple[str, str, str]] = []
    section = ""
    for number, line in enumerate(CONTENT):
        kind = line_kind(line, CONTENT[number - 1] if number else None)
        if kind == "partner heading":
            section = line
        if kind == "paragraph":
            items += [(section, "sentence", sentence) for sentence in sentences(line)]
        else:
            items.append((section, kind, line))
    return items


class ReviewRow(NamedTuple):
    """A row of the review table."""

    section: str
    kind: str
    text: str
    carriers: str
    not_said: str

    def carrier_list(self) -> list[list[str]]:
        """The carriers as [subject, property path] or [subject, property path, object]."""
        return [carrier.split() for carrier in self.carriers.split(" ; ") if carrier.strip()]


def review_rows() -> list[ReviewRow]:
    """The rows of the review table (its header checked)."""
    with REVIEW.open(encoding="utf-8", newline="") as table:
        reader = csv.reader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert tuple(next(reader)) == REVIEW_COLUMNS
        return [ReviewRow(*row) for row in reader]


def cs_texts(graph, predicate) -> set[str]:
    return {normalise(o) for o in graph.objects(None, predicate) if isinstance(o, Literal) and o.language == "cs"}


def names(graph, node) -> set[str]:
    """Every Czech label of a node (rdfs:label, skos:prefLabel, skos:altLabel), normalised."""
    return {
        normalise(label)
        for predicate in (RDFS.label, SKOS.prefLabel, SKOS.altLabel)
        for label in graph.objects(node, predicate)
        if label.language == "cs"
    }


def test_only_the_websites_furniture_is_left_out():
    assert LEFT_OUT[0].startswith("Zdá se, že používáte prohlížeč")
    assert LEFT_OUT[1:4] == [
        "Nastavení cookies",
        LEFT_OUT[2],
        "Přeskočit navigaci a přesunout k obsahu Přeskočit obsah stránky a přesunout k patičce",
    ]
    assert LEFT_OUT[2].startswith('"Cookies" jsou malé soubory prohlížeče')
    assert LEFT_OUT[4:] == ["Přeskočit patičku a přesunout na konec stránky Zpět na začátek stránky"]


def test_the_page_is_the_source_and_its_title_is_recorded(built_graph):
    assert (SOURCE_PAGE, DCTERMS.title, Literal(TITLE, lang="cs")) in built_graph


@pytest.mark.parametrize("sentence", [s for p in PARAGRAPHS for s in sentences(p)], ids=lambda s: s[:40])
def test_every_sentence_of_the_page_is_quoted_by_a_resource(sentence, built_graph):
    quotations = cs_texts(built_graph, DCTERMS.description) | cs_texts(built_graph, URIRef(RP + "reason"))
    assert any(sentence in quotation for quotation in quotations)


def test_every_reason_quotes_the_page(built_graph):
    page = " ".join(PARAGRAPHS)
    reasons = cs_texts(built_graph, URIRef(RP + "reason"))
    assert len(reasons) >= 10
    for reason in reasons:
        assert reason in page, reason


def test_every_quotation_is_on_the_page(built_graph):
    on_the_page = {s for p in PARAGRAPHS for s in sentences(p)}
    quoting = [
        description
        for node in set(built_graph.subjects(RDF.type, URIRef(RP + "Event")))
        | set(built_graph.subjects(RDF.type, URIRef(RP + "Signing")))
        | set(built_graph.subjects(RDF.type, URIRef(RP + "Visit")))
        | set(built_graph.subjects(RDF.type, URIRef(RP + "Partnership")))
        for description in built_graph.objects(node, DCTERMS.description)
        if description.language == "cs"
    ]
    assert len(quoting) >= len(PARAGRAPHS)
    for description in quoting:
        for sentence in sentences(description):
            assert sentence in on_the_page, sentence


@pytest.mark.parametrize(
    "line", [line for line in CONTENT if PARTNER_HEADING.match(line) and line != TITLE], ids=str
)
def test_every_partner_named_on_the_page_is_a_partner_of_the_region_in_its_country(line, built_graph):
    name, country = PARTNER_HEADING.match(line).group("name", "country")
    regions = [
        partner
        for partnership in built_graph.subjects(URIRef(RP + "partner"), LIBEREC_REGION)
        for partner in built_graph.objects(partnership, URIRef(RP + "partner"))
        if name in names(built_graph, partner)
    ]
    assert len(regions) == 1, name
    (region,) = regions
    assert country in names(built_graph, built_graph.value(region, URIRef(RP + "country")))


def test_the_page_lists_exactly_the_five_regional_partnerships(built_graph):
    listed = [line for line in CONTENT if line.startswith("• ")]
    regional = {
        partnership
        for partnership in built_graph.subjects(URIRef(RP + "partner"), LIBEREC_REGION)
        if all((partner, RDF.type, URIRef(RP + "Region")) in built_graph
               for partner in built_graph.objects(partnership, URIRef(RP + "partner")))
    }
    assert len(listed) == len(regional) == 5


def test_every_official_website_is_a_homepage_with_its_heading_as_label(built_graph):
    headings = [line.rstrip(":") for line in CONTENT if WEBSITE_HEADING.match(line)]
    addresses = [CONTENT[CONTENT.index(heading + ":") + 1] for heading in headings]
    homepages = {
        re.sub(r"^https?://|/$", "", str(page)): page for page in built_graph.objects(None, FOAF.homepage)
    }
    assert len(headings) == len(homepages) == 4
    for heading, address in zip(headings, addresses, strict=True):
        page = homepages[re.sub(r"^https?://|/$", "", address)]
        assert heading in names(built_graph, page)


def test_every_linked_document_is_a_document_of_an_agreement(built_graph):
    documents = {
        normalise(title)
        for document in built_graph.objects(None, URIRef(RP + "document"))
        for title in built_graph.objects(document, DCTERMS.title)
        if title.language == "cs"
    }
    section = CONTENT[CONTENT.index("Vypovězení spolupráce"):]
    links = section[2:5]  # after the heading and its paragraph, before the next partner
    assert links == ["Memorandum o spolupráci", "Návrh na ukončení memoranda", "Ukončení spolupráce"]
    assert set(links) == documents


def test_every_content_line_is_accounted_for():
    """Each line of the page is one of the kinds the tests above check, so none goes unchecked."""
    websites = {CONTENT[number + 1] for number, line in enumerate(CONTENT) if WEBSITE_HEADING.match(line)}
    documents = set(DOCUMENT_LINKS)
    for line in CONTENT:
        assert (
            line == TITLE
            or line in SECTION_HEADINGS
            or PARTNER_HEADING.match(line)
            or WEBSITE_HEADING.match(line)
            or line in websites
            or line in documents
            or line in PARAGRAPHS
        ), line


# --- the review table, both ways ---------------------------------------------------------------

# The kinds of resource every one of which some row of the review must name.
REVIEWED_KINDS = ("rp:Event", "rp:Signing", "rp:Visit", "schema:Event", "rp:Agreement", "rp:StatusPeriod",
                  "rp:Participation", "foaf:Person", "schema:Place", "rp:Delegation", "rp:Partnership", "rp:Region",
                  "rp:Town", "org:Organization", "org:OrganizationalUnit", "org:Post", "foaf:Group", "foaf:Document")
SPARQL_PREFIXES = "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in PREFIXES.items())


def expand(name: str) -> URIRef:
    """An IRI written as <…> or as a prefixed name of the project's table."""
    if name.startswith("<"):
        return URIRef(name[1:-1])
    prefix, local = name.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


def test_the_review_has_a_row_for_each_sentence_and_line_of_the_page_in_order():
    """Each sentence of the page has its row, each row is a sentence (or line) of the page."""
    rows = review_rows()
    assert [(row.section, row.kind, row.text) for row in rows] == review_items()
    assert "unknown" not in {row.kind for row in rows}


def test_every_row_says_what_the_page_leaves_unsaid_and_names_its_carriers():
    for row in review_rows():
        assert row.not_said.strip(), row.text
        # only a section heading ("Geneze spolupráce:") may carry no fact
        assert row.carriers.strip() or row.kind == "section heading", row.text
        for carrier in row.carrier_list():
            assert len(carrier) in (2, 3), (row.text, carrier)


@pytest.mark.parametrize("row", review_rows(), ids=lambda row: f"{row.section[:12]}|{row.text[:30]}")
def test_every_carrier_of_a_row_is_in_the_graph(row, built_graph):
    missing = []
    for subject, path, *value in row.carrier_list():
        obj = value[0] if value else "?value"
        if not built_graph.query(f"{SPARQL_PREFIXES}ASK {{ {subject} {path} {obj} }}").askAnswer:
            missing.append(" ".join([subject, path, *value]))
    assert missing == []


def test_every_resource_of_the_graph_is_named_by_a_row(project_dataset):
    """The other way: no event, agreement, status period, participation, person, place, delegation,
    partnership, body, office or document of ours in the data graph (the facts taken from the page; the
    authority registers have a graph of their own) that no sentence of the page accounts for."""
    named = {expand(name) for row in review_rows() for carrier in row.carrier_list()
             for name in (carrier[0], *carrier[2:]) if ":" in name and not name[0].isdigit()}
    data = project_dataset.dataset.graph(graph_iri(project_dataset.base_iri, "data"))
    ours = CANONICAL_BASE + "id/"
    resources = {
        node
        for kind in REVIEWED_KINDS
        for node in data.subjects(RDF.type, expand(kind))
        if isinstance(node, URIRef) and str(node).startswith(ours)
    }
    assert len(resources) > 100
    assert sorted(resources - named) == []


# (subject, property) pairs of the data graph that no row needs to carry, because they are not facts the
# page states about the subject:
# - rdf:type: what kind of thing a row's resource is; the shapes check each kind against what it carries;
# - rdfs:label: our name for the resource itself (where a name is the page's words, a row carries it, as
#   skos:altLabel, dcterms:title or foaf:name);
# - the description of a time: a time of ours (t:2005-04) is the day, month or interval its IRI spells,
#   with the precision of that form (checked below); a time the page does not give (a blank node) has the
#   precision "unknown", and its order (time:after, time:before) is carried by the rows;
# - provenance: the data graph's derivation and the description of the source page (src:), which say
#   where the facts come from and when our copy was taken, not what the page says.
UNCARRIED = (RDF.type, RDFS.label)
TIME_DESCRIPTION = (URIRef(RP + "precision"), TIME.inXSDDate, TIME.inXSDgYearMonth)
TIME_FORMS = {  # the form of a time's IRI, and the precision it spells
    r"\d{4}-\d{2}-\d{2}": "day", r"\d{4}-\d{2}": "month", r"\d{4}-H[12]": "half-year",
    r"\d{4}-\d{2}-\d{2}--\d{4}-\d{2}-\d{2}": "day-interval"}
CARRIER_PATH = re.compile(r"[\w-]+:[\w-]+(?:/[\w-]+:[\w-]+)*")


def carried_pairs(data: Graph, rows: list[ReviewRow]) -> set[tuple]:
    """The (subject, property) pairs the rows' carriers name, each step of a carrier's path followed in
    `data`: `ev:x time:hasTime/time:after t:2005-04` carries (ev:x, time:hasTime) and (its time, time:after)."""
    pairs: set[tuple] = set()
    for row in rows:
        for subject, path, *_ in row.carrier_list():
            assert CARRIER_PATH.fullmatch(path), (row.text, path)  # a sequence of properties, nothing else
            nodes = {expand(subject)}
            for step in path.split("/"):
                prop = expand(step)
                pairs |= {(node, prop) for node in nodes}
                nodes = {value for node in nodes for value in data.objects(node, prop)}
    return pairs


def needs_a_row(subject, prop, provenance: set[URIRef]) -> bool:
    """Whether the pair states a fact of the page about its subject (see UNCARRIED)."""
    if prop in UNCARRIED or subject in provenance:
        return False
    if isinstance(subject, BNode) or str(subject).startswith(PREFIXES["t"]):
        return prop not in TIME_DESCRIPTION
    return True


def uncarried_pairs(data: Graph, data_iri: URIRef) -> list[tuple]:
    """The pairs of `data` that state a fact of the page and that no row of the review carries."""
    carried = carried_pairs(data, review_rows())
    provenance = {data_iri, SOURCE_PAGE}
    return sorted({(subject, prop) for subject, prop, _ in data
                   if needs_a_row(subject, prop, provenance) and (subject, prop) not in carried})


def data_graph(project_dataset) -> tuple[Graph, URIRef]:
    """The data graph (the facts taken from the page) and its IRI."""
    data_iri = graph_iri(project_dataset.base_iri, "data")
    return project_dataset.dataset.graph(data_iri), data_iri


def test_every_statement_of_the_data_graph_is_carried_by_a_row(project_dataset):
    data, data_iri = data_graph(project_dataset)
    assert len(data) > 1000
    assert uncarried_pairs(data, data_iri) == []


def test_a_statement_no_row_carries_is_found_even_on_a_resource_a_row_names(project_dataset):
    data, data_iri = data_graph(project_dataset)
    invented = Graph()
    invented += data
    bursa, town = expand("reg:bursa"), expand("town:ceska-lipa")
    invented.add((bursa, URIRef(RP + "capital"), town))          # the page names no capital of Bursa
    invented.add((expand("t:2005-04"), RDFS.comment, Literal("x")))
    assert uncarried_pairs(invented, data_iri) == sorted([(bursa, URIRef(RP + "capital")),
                                                         (expand("t:2005-04"), RDFS.comment)])


def test_every_time_of_ours_is_what_its_iri_spells(project_dataset):
    """The exemption of times above holds: a time's value and precision are those its IRI spells."""
    data, _ = data_graph(project_dataset)
    times = {subject for subject in data.subjects() if str(subject).startswith(PREFIXES["t"])}
    assert len(times) > 15
    for time in times:
        name = str(time)[len(PREFIXES["t"]):]
        (precision,) = [spelt for form, spelt in TIME_FORMS.items() if re.fullmatch(form, name)]
        assert data.value(time, URIRef(RP + "precision")) == expand(f"prec:{precision}"), name
        value = data.value(time, TIME.inXSDDate) or data.value(time, TIME.inXSDgYearMonth)
        assert (str(value) == name) if precision in ("day", "month") else value is None, name
