"""Load the RDF files of the dataset into named graphs and remember where each subject was written.

The dataset has four named graphs under the base IRI:

    {base}graph/ontology      RDF files directly in ontology_dir
    {base}graph/vocabularies  RDF files directly in ontology_dir/vocabularies/
    {base}graph/data          RDF files anywhere under data_dir (or data_dir itself, if a file),
                              except data_dir/catalogue/ and data_dir/authorities/
    {base}graph/authorities   RDF files anywhere under data_dir/authorities/: the facts of public
                              registers (their entries, and the links and codes that identify our
                              resources in them), kept apart from the page's facts in graph/data so
                              that each graph's provenance can be said of the graph

The graphs share no triple: a triple that files of two graphs state is kept in the first of them in
the order above (GRAPH_ORDER). A SPARQL store's default graph, the union of the named graphs, must be
their RDF merge, a set; engines that do not merge (Oxigraph 0.5, Virtuoso) would return such a
triple once per graph, so the release never gives them one (see one_graph_per_triple).

A file is an RDF file when its suffix is one of RDF_FORMATS; anything else (e.g. the source
texts in data/source/) is ignored. The files are written with IRIs under CANONICAL_BASE and are
moved to the configured base IRI while loading. rdf_files.py finds and reads the files; this module
puts them into their named graphs. Loading does not validate: see validate.py.

data_dir/catalogue/ holds what catalogues need to know of the dataset (titles, publisher, contact,
themes...). It is not part of the data: the build completes it into the catalogue record
(describe/dcat.py), which describes the dumps and so cannot be inside them.
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from operator import eq

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef

from .config import Settings
from .namespaces import CANONICAL_BASE, prefixes_for, rebase
from .pool import map_in_forked_pool
from .rdf_files import SourceFile, SourceIndex, SourceLocation, find_rdf_files, parse_rdf_file, read_source
from .terms import to_rdflib


@dataclass
class LoadedDataset:
    """The dataset as N-Quads lines, where its subjects came from, and the prefixes the files declare.

    `quad_lines` are sorted and distinct, each ending in a newline, with blank nodes labelled
    stably: they are the N-Quads dump. They are sorted from `lines_read` when first asked for: validation
    reads the union of the graphs, for which the lines as read will do. The rdflib graphs of it (`dataset`,
    `union()`) are made only when asked for: pySHACL needs them, but a release of millions of triples built
    without shapes does not, and rdflib would hold such a graph in many gigabytes.
    """

    # The distinct N-Quads lines of the files, in no order (a triple that files of two graphs state is in both);
    # once `quad_lines` are made, those (not kept twice).
    lines_read: Collection[bytes]
    index: SourceIndex
    base_iri: str
    prefixes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def quad_lines(self) -> list[bytes]:
        """The lines sorted, each triple in one graph only (see one_graph_per_triple)."""
        self.lines_read = one_graph_per_triple(sorted(self.lines_read),
                                               [str(graph_iri(self.base_iri, graph)) for graph in GRAPH_ORDER])
        return self.lines_read

    @cached_property
    def dataset(self) -> Dataset:
        """The named graphs as an rdflib Dataset, bound to the prefix table (made on first use)."""
        dataset = bind_prefix_table(Dataset(), self.base_iri)
        graphs: dict[ox.NamedNode, Graph] = {}
        for quad in ox.parse(b"".join(self.quad_lines), format=ox.RdfFormat.N_QUADS):
            if quad.graph_name not in graphs:
                graphs[quad.graph_name] = dataset.graph(to_rdflib(quad.graph_name))
            graphs[quad.graph_name].add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return dataset

    def union(self) -> Graph:
        """Return a new graph holding the triples of all named graphs, bound to the prefix table."""
        union = bind_prefix_table(Graph(bind_namespaces="none"), self.base_iri)
        for graph in self.dataset.graphs():
            union += graph
        return union

    def triple_lines(self) -> list[bytes]:
        """The union of the named graphs as sorted, distinct N-Triples lines: the N-Triples dump.

        `quad_lines` hold each triple once (one_graph_per_triple) and are sorted, so their triples are too,
        without a sort (see union_of_sorted_quads)."""
        return union_of_sorted_quads(self.quad_lines)

    def graph_sizes(self) -> dict[str, int]:
        """{named graph IRI: triples in it}, for the graphs that hold any."""
        ends = Counter(line[line.rindex(b" <"):] for line in self.quad_lines)  # b" <graph> .\n"
        return {_graph_of_line(end): count for end, count in ends.items()}


def _graph_of_line(quad_line: bytes) -> str:
    """The graph IRI of an N-Quads line (the last term: an IRI holds neither a space nor a '<')."""
    return quad_line[quad_line.rindex(b" <") + 2:quad_line.rindex(b">")].decode("utf-8")


def union_of_sorted_quads(quad_lines: list[bytes]) -> list[bytes]:
    """The N-Triples lines of sorted N-Quads lines that hold each triple once (each in a named graph): in
    the same order, which is theirs sorted.

    Two lines of different triples compare as their triples do: where one triple's text is a prefix of
    the other's, the shorter is followed by a space in both forms (" <graph> ." and " ."), while the longer
    goes on with a term's character (a digit of a blank node's label, "@" or "^" after a literal), each
    greater than a space; a triple of three terms cannot go on with a space."""
    return [line[:line.rindex(b" <")] + b" .\n" for line in quad_lines]  # without_graph, without a call per line


def without_graph(quad_line: bytes) -> bytes:
    """An N-Quads line (of a quad in a named graph) as the N-Triples line of its triple."""
    return quad_line[:quad_line.rindex(b" <")] + b" .\n"


def graph_iri(base_iri: str, graph: str) -> URIRef:
    """Return the name of one of the graphs "ontology", "vocabularies", "data" or "authorities", or of
    those the server loads a release's VoID ("description") and catalogue record ("catalogue") into."""
    return URIRef(f"{base_iri}graph/{graph}")


# Times are shared: each file describes the times it uses (the same description in each).
TIME_PATH = "id/time/"
# The folder of data_dir whose files go to the authorities graph, not the data graph; those files
# identify resources described elsewhere (see described_more_than_once).
AUTHORITIES_FOLDER = "authorities"
AUTHORITIES_GRAPH = "authorities"


def described_more_than_once(loaded: LoadedDataset) -> dict[URIRef, list[SourceLocation]]:
    """Our IRIs (under the base IRI) whose description begins in more than one block, with every
    place one begins: an IRI minted twice for two things, or one thing described in two places.

    A time (id/time/...) may begin one block in each file, as every file describes the times it uses.
    A file of the authorities graph may begin one block about any IRI: there each register's file
    identifies our resources in that register (data/authorities/wikidata.ttl says which Wikidata item
    the Liberec Region is), which is not a second description of them.
    """
    return {subject: blocks for subject, blocks in loaded.index.blocks.items()
            if subject.startswith(loaded.base_iri) and _described_twice(subject, blocks, loaded)}


def _described_twice(subject: URIRef, blocks: list[SourceLocation], loaded: LoadedDataset) -> bool:
    """True when `blocks` begin more descriptions of `subject` than described_more_than_once allows."""
    if subject.startswith(loaded.base_iri + TIME_PATH):
        return _most_in_one_file(blocks) > 1
    identifying = [block for block in blocks if loaded.index.graphs.get(block.path) == AUTHORITIES_GRAPH]
    described = [block for block in blocks if block not in identifying]
    return len(described) > 1 or _most_in_one_file(identifying) > 1


def _most_in_one_file(blocks: list[SourceLocation]) -> int:
    """The largest number of `blocks` that begin in one file."""
    return max(Counter(block.path for block in blocks).values(), default=0)


def load_dataset(settings: Settings, locate: bool = True) -> LoadedDataset:
    """Load the ontology, vocabulary and data files into named graphs under settings.base_iri.

    Up to settings.build_jobs processes read the files at once. Without `locate` (a build that
    validates nothing), where each subject was written is not looked up: `index` is left empty.
    Raises FileNotFoundError when ontology_dir or data_dir is missing and DataFileError for a
    file that is not UTF-8 or not valid RDF.
    """
    # Distinct, in the order read: a file's lines come in runs of its subjects' order, which sorts faster
    # than a set's order (0.2 against 0.6 s of CPU at 6 000 agreements).
    lines: dict[bytes, None] = {}
    loaded = LoadedDataset(lines.keys(), SourceIndex(), settings.base_iri)
    sources = source_files(settings)
    for source, (quad_lines, subjects, prefixes) in zip(
            sources, map_in_forked_pool(_read_file, sources, settings.build_jobs, (settings.base_iri, locate)), strict=True):
        lines.update(dict.fromkeys(quad_lines))
        for subject, line, blocks in subjects:
            loaded.index.add(subject, source.path, line, blocks, source.graph)
        for prefix, namespace in prefixes:
            loaded.prefixes.setdefault(prefix, namespace)
    return loaded


# The named graphs of the loaded files, in the order in which a triple that two of them state is kept.
GRAPH_ORDER = ("ontology", "vocabularies", "data", AUTHORITIES_GRAPH)


def one_graph_per_triple(sorted_lines: list[bytes], graph_order: list[str]) -> list[bytes]:
    """`sorted_lines` (N-Quads lines) with each triple in one graph only: the first of `graph_order`
    that holds it (a line given twice is kept once).

    Sorted, the lines of one triple are neighbours: a triple's text is followed by a space and its
    graph, and a space sorts before every character that can continue another term. The neighbours
    are compared in C (map, compress): only the few lines of a repeated triple are looked at one by one.
    """
    rank = {graph: position for position, graph in enumerate(graph_order)}

    def place(line: bytes) -> int:
        return rank.get(_graph_of_line(line), len(rank))

    triples = [line[:line.rindex(b" <")] for line in sorted_lines]
    keep = [True] * len(triples)
    best = -1  # the line kept so far of the triple repeated
    for repeated in compress(range(1, len(triples)), map(eq, triples[1:], triples)):
        if best < 0 or triples[best] != triples[repeated]:
            best = repeated - 1
        if place(sorted_lines[repeated]) < place(sorted_lines[best]):
            keep[best], best = False, repeated
        else:
            keep[repeated] = False
    return list(compress(sorted_lines, keep))


CATALOGUE_FOLDER = "catalogue"


def load_catalogue_metadata(settings: Settings) -> Graph:
    """The catalogue metadata written in data_dir/catalogue/ (empty if there is none), rebased."""
    metadata = bind_prefix_table(Graph(bind_namespaces="none"), settings.base_iri)
    folder = settings.data_dir / CATALOGUE_FOLDER
    if settings.data_dir.is_dir() and folder.is_dir():
        for path in find_rdf_files(folder):
            metadata += parse_rdf_file(path)
    return rebase(metadata, CANONICAL_BASE, settings.base_iri)


def bind_prefix_table(graph: Graph, base_iri: str) -> Graph:
    """Bind the prefix table to `graph` (and return it), so that its serialisations use our prefixes."""
    for prefix, namespace in prefixes_for(base_iri).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def source_files(settings: Settings) -> list[SourceFile]:
    """The RDF files to load, each with its named graph, in the order of GRAPH_ORDER."""
    roots = [("ontology", settings.ontology_dir, False)]
    if (settings.ontology_dir / "vocabularies").is_dir():
        roots.append(("vocabularies", settings.ontology_dir / "vocabularies", False))
    roots.append(("data", settings.data_dir, True))
    authorities = settings.data_dir / AUTHORITIES_FOLDER
    if settings.data_dir.is_dir() and authorities.is_dir():
        roots.append((AUTHORITIES_GRAPH, authorities, True))
    catalogue = settings.data_dir / CATALOGUE_FOLDER
    return [
        SourceFile(graph, path, path.name if path == root else path.relative_to(root).as_posix())
        for graph, root, recursive in roots
        for path in find_rdf_files(root, recursive)
        if not path.is_relative_to(catalogue) and (graph == AUTHORITIES_GRAPH or not path.is_relative_to(authorities))
    ]


def _read_file(reading: tuple[str, bool], source: SourceFile) -> tuple[
        list[bytes], list[tuple[URIRef, int | None, tuple[int, ...]]], list[tuple[str, str]]]:
    """Read one file (see read_source) under the base IRI, locating its subjects or not (`reading`):
    its triples as N-Quads lines in its named graph, where each subject was written, and the
    prefixes it declares."""
    base_iri, locate = reading
    triples, subjects, prefixes = read_source(base_iri, source, locate)
    graph = b" <" + graph_iri(base_iri, source.graph).encode("utf-8") + b"> .\n"
    # An N-Triples line ends in " .": the graph goes before the full stop.
    return [line[:-2] + graph for line in triples], subjects, prefixes
