"""Check the loaded dataset against the SHACL shapes: load the shapes, run them, add lodpub's own rules.

`load_shapes` reads the shapes (moved to the base IRI like the data), `validate` checks the whole
dataset and `validate_graph` one graph. The shapes run in shacl_runner.py: on pyshacl-turbo where it is proven
to report what pySHACL reports (shacl_turbo.py), else on pySHACL (in a pool of processes when there are jobs
for one); validation_report.py holds the report, and the words it is printed in.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, SH

from .config import Settings
from .dataset import LoadedDataset, described_more_than_once
from .namespaces import CANONICAL_BASE, prefixes_for, rebase
from .rdf_files import SourceIndex, find_rdf_files, parse_rdf_file
from .shacl_runner import run_shacl
from .shacl_turbo import FastData, union_data, usable
from .terms import to_rdflib
from .validation_report import ValidationReport, ValidationResult, canonical_order, lodpub_result, render_term

# Where a shape writes "the day of the build" (shp:build-date, under whatever base IRI the shapes
# were moved to); `validate` puts the date in its place. The data's dates are days in the Region.
BUILD_DATE_PATH = "shapes/build-date"
_REGION_TIME_ZONE = ZoneInfo("Europe/Prague")


def load_shapes(settings: Settings, *parts: str) -> Graph:
    """Load the .ttl files directly in settings.shapes_dir (the data's shapes), or those of `parts`:
    folders or files below it (e.g. "catalogue"), moved to settings.base_iri like the data.

    The shapes name our classes and properties by their canonical IRIs, so without rebasing
    they would target nothing in a dataset published under another base IRI.
    """
    shapes = Graph(bind_namespaces="none")
    roots = [settings.shapes_dir / part for part in parts] or [settings.shapes_dir]
    # A part may be missing; a link to nothing is an error (find_rdf_files), not a part left out.
    paths = [path for root in roots if root.exists() or root.is_symlink()
             for path in find_rdf_files(root, recursive=False)]
    for path in paths:
        if path.suffix != ".ttl":
            continue
        parsed = parse_rdf_file(path)
        shapes += parsed
        for prefix, namespace in parsed.namespaces():
            shapes.bind(prefix, namespace, override=False)
    return rebase(shapes, CANONICAL_BASE, settings.base_iri)


def validate(dataset: LoadedDataset, shapes: Graph, now: datetime | None = None, jobs: int = 1,
             union: Graph | None = None, fast: bool = True) -> ValidationReport:
    """Validate the union of all named graphs against `shapes` with SHACL (and SHACL-AF).

    The union includes the ontology, so rdfs:subClassOf is visible to sh:targetClass; nothing
    is inferred beyond that. `now` (timezone-aware; default: the current time) is the build time
    that nothing which happened may come after. `jobs` processes share the shapes (see
    `validate_graph`); `union` is dataset.union(), when the caller has it already. The fast engine
    (shacl_turbo.py; `fast=False` leaves it out) reads the lines as N-Triples text, and the SPARQL constraints and
    lodpub's own checks an Oxigraph store of them, made while the engine works: no rdflib graph of the data is made
    for them.
    """
    prefixes = _report_prefixes(dataset, shapes)
    data = union_data(dataset.lines_read)
    if not (fast and usable(shapes)):
        # pySHACL reads rdflib's graph, in processes forked from this one: no thread runs beside it.
        report = validate_graph(union if union is not None else dataset.union(), shapes, dataset.index, prefixes, now, jobs, fast)
        checked = _own_checks(data, dataset, shapes, prefixes)
        return ValidationReport(sorted(report.results + checked, key=canonical_order), prefixes)
    # lodpub's own checks read the Oxigraph store, made (by whichever asks first) while the engine validates.
    with ThreadPoolExecutor(max_workers=1) as beside:
        own = beside.submit(_own_checks, data, dataset, shapes, prefixes)
        report = validate_graph(data, shapes, dataset.index, prefixes, now, jobs, fast)
        checked = own.result()
    return ValidationReport(sorted(report.results + checked, key=canonical_order), prefixes)


def _own_checks(data: FastData, dataset: LoadedDataset, shapes: Graph,
                prefixes: dict[str, str]) -> list[ValidationResult]:
    """The results of the rules lodpub checks itself, for those the shapes give messages to."""
    return [
        result
        for rule, check in ((DESCRIBED_ONCE_RULE, _described_more_than_once), (LINK_TARGET_RULE, _links_to_nothing))
        if (URIRef(dataset.base_iri + rule), SH.message, None) in shapes
        for result in check(URIRef(dataset.base_iri + rule), data.store, dataset, shapes, prefixes)
    ]


# The rules lodpub checks itself, below the shapes' namespace. Shapes that give a rule its messages
# (as shapes/partnerships.ttl does) have it checked; another dataset's shapes need not.
DESCRIBED_ONCE_RULE = "shapes/Resource-described-once"
LINK_TARGET_RULE = "shapes/Resource-link-target"


def _described_more_than_once(rule: URIRef, store: ox.Store, dataset: LoadedDataset, shapes: Graph,
                              prefixes: dict[str, str]) -> list[ValidationResult]:
    """One Violation per IRI described in several blocks, placed at the second block."""
    return [
        lodpub_result(rule, subject, shapes, {"places": ", ".join(map(str, blocks))}, None, None, blocks[1])
        for subject, blocks in described_more_than_once(dataset).items()
    ]


def _links_to_nothing(rule: URIRef, store: ox.Store, dataset: LoadedDataset, shapes: Graph,
                      prefixes: dict[str, str]) -> list[ValidationResult]:
    """One Violation per link to an IRI under the base IRI that is the subject of no triple.

    A version IRI (owl:versionIRI) is left alone: the ontology describes its versions itself.
    """
    links = store.query(_LINKS_TO_NOTHING.replace("$base", str(ox.Literal(dataset.base_iri))))
    return [
        lodpub_result(rule, subject, shapes, {"value": render_term(obj, prefixes)}, render_term(predicate, prefixes),
                      obj, dataset.index.location_of(subject))
        for subject, predicate, obj in (tuple(map(to_rdflib, row)) for row in links)
    ]


# $base is replaced by the base IRI, as a string.
_LINKS_TO_NOTHING = f"""
SELECT ?subject ?predicate ?object WHERE {{
    ?subject ?predicate ?object .
    FILTER (isIRI(?object) && STRSTARTS(STR(?object), $base) && ?predicate != <{OWL.versionIRI}>)
    FILTER NOT EXISTS {{ ?object ?any ?thing }}
}}"""


def validate_graph(
    graph: Graph | ox.Store | FastData,
    shapes: Graph,
    index: SourceIndex | None = None,
    prefixes: dict[str, str] | None = None,
    now: datetime | None = None,
    jobs: int = 1,
    fast: bool = True,
) -> ValidationReport:
    """Validate one graph (rdflib's, or the default graph of an Oxigraph store, which only the fast engine
    reads: see `validate`) against `shapes`; `index` says where its subjects were written, if known.

    The graph is validated in place (nothing is inferred, so nothing is added to it). `now` is
    the build time, as in `validate`. The fast engine validates where it may, unless `fast` is False
    (shacl_runner.run_shacl). pySHACL shares the shapes out among `jobs` processes, each validating the whole
    graph against its shapes (see shacl_runner.shape_partitions); the report is the same as one process's,
    in the same order.
    """
    shapes = on_build_date(shapes, build_date(now))
    prefixes = prefixes if prefixes is not None else {**prefixes_for(CANONICAL_BASE), "sh": str(SH)}
    results = run_shacl(graph, shapes, index or SourceIndex(), prefixes, jobs, fast)
    return ValidationReport(sorted(results, key=canonical_order), prefixes)


def build_date(now: datetime | None = None) -> date:
    """The day of the build in the Region (Europe/Prague), whose days the data's dates are."""
    return (now or datetime.now(UTC)).astimezone(_REGION_TIME_ZONE).date()


def on_build_date(shapes: Graph, day: date) -> Graph:
    """Return `shapes`, or a copy of it in which every shp:build-date is the date `day`."""
    placeholders = [
        (subject, predicate, obj)
        for subject, predicate, obj in shapes
        if isinstance(obj, URIRef) and obj.endswith("/" + BUILD_DATE_PATH)
    ]
    if not placeholders:
        return shapes
    dated = Graph(bind_namespaces="none")
    dated += shapes
    for subject, predicate, obj in placeholders:
        dated.remove((subject, predicate, obj))
        dated.add((subject, predicate, Literal(day)))
    return dated


def _report_prefixes(dataset: LoadedDataset, shapes: Graph) -> dict[str, str]:
    """The prefix table, completed by the prefixes the data and shape files declare."""
    declared = {prefix: str(namespace) for prefix, namespace in shapes.namespaces()}
    return {**declared, **dataset.prefixes, **prefixes_for(dataset.base_iri), "sh": str(SH)}
