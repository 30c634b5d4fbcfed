"""The formats the publisher reads and writes: one table of RDF formats and one of SPARQL results formats.

Content negotiation of documents (web/negotiation.py), the SPARQL endpoint (web/sparql.py), the
stores' writers (store/sparql_store.py), the dumps and their catalogue entries (dumps.py,
describe/dcat.py) and the reading of data files (rdf_files.py) all take a format from here: its
media type, the names a client may give it (`?format=ttl`, `Accept: text/n3`), its file suffix, and
what rdflib and Oxigraph call it.
"""

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One representation of RDF (or the HTML page, which is rendered, not serialised)."""

    key: str
    media_type: str
    suffix: str
    serializer: str | None  # rdflib's name of the format; None: rendered from a template, not serialised
    label: str
    aliases: tuple[str, ...] = ()  # other names and media types clients use for it
    oxigraph: ox.RdfFormat | None = None
    eu_file_type: str | None = None  # its code in the EU's file-type table, for the catalogue

    def named(self, name: str) -> bool:
        """Whether `name` (lower case) names this format: its key, media type, suffix or an alias."""
        return name in (self.key, self.media_type, self.suffix.lstrip("."), *self.aliases)


HTML = Format("html", "text/html", ".html", None, "HTML")
TURTLE = Format("ttl", "text/turtle", ".ttl", "turtle", "Turtle", ("turtle", "n3", "application/x-turtle", "text/n3"),
                ox.RdfFormat.TURTLE, "RDF_TURTLE")
JSONLD = Format("jsonld", "application/ld+json", ".jsonld", "json-ld", "JSON-LD", ("json-ld", "json", "application/json"),
                ox.RdfFormat.JSON_LD, "JSON_LD")
RDFXML = Format("rdf", "application/rdf+xml", ".rdf", "xml", "RDF/XML",
                ("rdfxml", "xml", "rdf+xml", "application/xml", "text/xml"), ox.RdfFormat.RDF_XML, "RDF_XML")
NTRIPLES = Format("nt", "application/n-triples", ".nt", "nt", "N-Triples", ("ntriples", "n-triples", "text/plain"),
                  ox.RdfFormat.N_TRIPLES, "RDF_N_TRIPLES")
# The formats with named graphs: the dumps of the whole dataset are also written in them.
NQUADS = Format("nq", "application/n-quads", ".nq", "nquads", "N-Quads", ("nquads", "n-quads"),
                ox.RdfFormat.N_QUADS, "RDF_N_QUADS")
TRIG = Format("trig", "application/trig", ".trig", "trig", "TriG", (), ox.RdfFormat.TRIG, "RDF_TRIG")

# What a document is offered in, the first being what a client gets that accepts anything.
DOCUMENT_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSONLD, RDFXML, NTRIPLES)
# What a CONSTRUCT or DESCRIBE answer is offered in, the first being the default.
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, RDFXML, JSONLD)
# Every RDF format, by suffix: the dumps of the dataset are written in each.
BY_SUFFIX: dict[str, Format] = {fmt.suffix: fmt for fmt in (TURTLE, NTRIPLES, JSONLD, RDFXML, NQUADS, TRIG)}
# The files of RDF read as data, by suffix (an ontology may come as .owl, in RDF/XML).
READ_SUFFIXES: dict[str, Format] = {fmt.suffix: fmt for fmt in (TURTLE, NTRIPLES, JSONLD, RDFXML)} | {".owl": RDFXML}


@dataclass(frozen=True)
class ResultsFormat:
    """One format of SPARQL SELECT and ASK results."""

    key: str
    media_type: str
    oxigraph: ox.QueryResultsFormat
    aliases: tuple[str, ...] = ()
    booleans: bool = True  # whether it can hold an ASK answer (CSV and TSV cannot)

    def named(self, name: str) -> bool:
        """Whether `name` (lower case) names this format: its key, media type or an alias."""
        return name in (self.key, self.media_type, *self.aliases)


RESULTS_JSON = ResultsFormat("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON,
                             ("application/json", "text/javascript", "application/javascript"))
RESULTS_XML = ResultsFormat("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML,
                            ("application/xml", "text/xml"))
RESULTS_CSV = ResultsFormat("csv", "text/csv", ox.QueryResultsFormat.CSV, booleans=False)
RESULTS_TSV = ResultsFormat("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV, booleans=False)

# What SELECT and ASK answers are offered in, the first being the default.
RESULTS_FORMATS: tuple[ResultsFormat, ...] = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV)


def rdf_format_of(media_type: str) -> Format:
    """The RDF format of `media_type` (KeyError if there is none)."""
    return _BY_MEDIA_TYPE[media_type]


def results_format_of(media_type: str) -> ResultsFormat:
    """The results format of `media_type` (KeyError if there is none)."""
    return _RESULTS_BY_MEDIA_TYPE[media_type]


_BY_MEDIA_TYPE = {fmt.media_type: fmt for fmt in (HTML, *BY_SUFFIX.values())}
_RESULTS_BY_MEDIA_TYPE = {fmt.media_type: fmt for fmt in RESULTS_FORMATS}
