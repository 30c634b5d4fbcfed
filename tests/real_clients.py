"""What real clients send, and the ones that run here.

The Accept headers are the clients' own, captured on this machine by pointing each client at a
server that logged its requests (Jena 4.5.0 from Debian, Comunica 4.4.1 from tests/clients, rdflib
7.6, SPARQLWrapper 2.0, curl 7.88, Chromium 156). The tests send them literally, and run the
clients themselves where that is cheap.
"""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import require
from tiers import entering, tiered

from bench.jena import JARS, jena_class_path

ANY = "*/*"  # curl, Chromium's fetch(), requests
CHROMIUM_NAVIGATION = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/jxl,image/avif,image/webp,"
                       "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
FIREFOX_NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JAVA_DEFAULT = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"  # NKOD's harvester
# Jena: RDFDataMgr reading a URL (riot, arq --data), and ARQ's remote query (rsparql, SERVICE).
JENA_RDF = ("text/turtle,application/n-triples;q=0.9,application/rdf+xml;q=0.7,application/trig,"
            "application/n-quads;q=0.9,application/ld+json;q=0.8,*/*;q=0.5")
JENA_SELECT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
               "text/tab-separated-values;q=0.7, text/csv;q=0.5,application/json;q=0.2,application/xml;q=0.2,"
               "*/*;q=0.1")
JENA_ASK = "application/sparql-results+json, application/sparql-results+xml;q=0.9,application/json;q=0.2," \
           "application/xml;q=0.2,*/*;q=0.1"
JENA_GRAPH = "text/turtle,application/n-triples;q=0.9,application/ld+json;q=0.8,application/rdf+xml;q=0.7,*/*;q=0.3"
# Comunica: dereferencing a document (a link-traversal source), and querying a SPARQL endpoint.
COMUNICA_DOCUMENT = ("application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
                     "application/n-triples;q=0.8,text/turtle;q=0.6,application/rdf+xml;q=0.5,text/n3;q=0.35,"
                     "application/xml;q=0.3,image/svg+xml;q=0.3,text/xml;q=0.3,text/html;q=0.2,"
                     "application/xhtml+xml;q=0.18,application/json;q=0.135,text/shaclc;q=0.1,"
                     "text/shaclc-ext;q=0.05")
COMUNICA_RESULTS = "application/sparql-results+json;q=1.0,application/sparql-results+xml;q=0.7"
COMUNICA_GRAPH = "text/turtle"
# rdflib: Graph().parse(url) without a format, and with one; its SPARQLStore for every query.
RDFLIB_PARSE = ("application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
                "application/n-quads, application/trix, application/trig")
RDFLIB_PARSE_AS = {"turtle": "text/turtle, application/x-turtle, */*;q=0.1", "n3": "text/n3, */*;q=0.1",
                   "nt": "text/plain, */*;q=0.1", "json-ld": "application/ld+json, application/json;q=0.9, */*;q=0.1",
                   "xml": "application/rdf+xml, */*;q=0.1"}
RDFLIB_SPARQLSTORE = "application/sparql-results+xml, application/rdf+xml"
# SPARQLWrapper's setReturnFormat(...) for a query of the right form (it also sends format= and output=).
SPARQLWRAPPER_JSON = "application/sparql-results+json,application/json,text/javascript,application/javascript"
SPARQLWRAPPER_N3 = "application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3"
SPARQLWRAPPER_JSONLD = "application/ld+json,application/x-json+ld"

COMUNICA = Path(__file__).resolve().parent / "clients" / "node_modules" / ".bin" / "comunica-sparql"


@pytest.fixture(scope="session")
@tiered("clients")
def jena(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess]:
    """Run one of Debian's Jena commands (`riotcmd.riot`, `arq.rsparql`, `arq.sparql`) with `args`."""
    entering("clients", "Jena")
    require(shutil.which("java") is not None and (JARS / "jena-core.jar").is_file(),
            "Java and Debian's Jena (apt-get install libapache-jena-java; .ci/run does)")
    # With the HTTP cache and logging jars its JSON-LD 1.0 reader (jsonld-java) loads with.
    class_path = ":".join([jena_class_path(tmp_path_factory.mktemp("jena")),
                           *(str(JARS / name) for name in ("httpclient-cache.jar", "commons-logging.jar"))])

    def run(command: str, *args: str, succeeds: bool = True) -> subprocess.CompletedProcess:
        """The finished command; unless `succeeds` is False, it must have exited with 0."""
        finished = subprocess.run(["java", "-cp", class_path, command, *args], capture_output=True, text=True,
                                  timeout=120)
        assert finished.returncode == 0 or not succeeds, finished.stderr[-2000:]
        return finished

    return run
