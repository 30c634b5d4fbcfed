"""Documents written ahead (web/documents_ahead.py): the same documents, triple for triple and byte for byte,
whether written ahead or asked of the store; served from the written folder only when it is whole, of the
release served and undamaged."""

import dataclasses
import gzip
import hashlib
import json
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from werkzeug.test import Client

from lodpub import create_app
from lodpub.web.documents_ahead import DATA, INDEX, LOOK_EVERY, MANIFEST, RECORD, WrittenDocuments, write_documents
from lodpub.web.written_answers import WrittenAnswers

FORMATS = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "text/html")


@pytest.fixture(scope="module")
def apps(project_release, project_settings, tmp_path_factory):
    """Two apps on the project's release: `asking` asks the store for every document, `written` reads the
    documents written ahead (into a folder of their own, which the other tests' apps do not read)."""
    settings = dataclasses.replace(project_settings, output_dir=project_release.path.parent.parent,
                                   public_base=project_settings.base_iri)
    asking, written = create_app(settings), create_app(settings)
    folder = tmp_path_factory.mktemp("ahead")
    asking.extensions["lodpub"].written = WrittenDocuments(None)
    written.extensions["lodpub"].written = WrittenDocuments(folder)
    written_to = write_documents(written.extensions["lodpub"].store, folder)
    return asking, written, written_to


def _subjects(app) -> list[str]:
    store = app.extensions["lodpub"].store
    return sorted(row[0] for row in store.select_values("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) }"))


def _path(app, iri: str) -> str:
    base = app.extensions["lodpub"].store.base_iri
    return "/doc/" + iri[len(base):] if iri.startswith(base) else "/doc?" + urlencode({"iri": iri})


def test_every_resource_has_its_document_written_the_same_as_the_store_gives_it(apps):
    asking, written, folder = apps
    subjects = _subjects(asking)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["documents"] == len(subjects) > 500
    client_asking, client_written = asking.test_client(), written.test_client()
    store, served = asking.extensions["lodpub"].store, 0
    for iri in subjects:
        headers = {"Accept": "text/turtle"}
        ours, theirs = client_written.get(_path(written, iri), headers=headers), client_asking.get(_path(asking, iri), headers=headers)
        assert (ours.status_code, ours.data) == (theirs.status_code, theirs.data), iri
        if ours.status_code == 200:  # (the base itself is the home page, not a document)
            served += 1
            assert len(set(ox.parse(ours.data, format=ox.RdfFormat.TURTLE))) == len(store.document_triples(iri)), iri
    assert served == len(subjects) - 1


def test_every_format_of_a_written_document_is_the_one_rendered_from_the_store(apps):
    asking, written, _ = apps
    client_asking, client_written = asking.test_client(), written.test_client()
    for iri in _subjects(asking)[::25]:
        for media_type in FORMATS:
            for encoding in ("gzip", "identity"):
                headers = {"Accept": media_type, "Accept-Encoding": encoding}
                ours = client_written.get(_path(written, iri), headers=headers)
                theirs = client_asking.get(_path(asking, iri), headers=headers)
                assert (ours.status_code, ours.data) == (theirs.status_code, theirs.data), (iri, media_type)
                assert _headers(ours) == _headers(theirs), (iri, media_type)


ASKED = ({"Accept": "text/turtle"}, {"Accept": "text/turtle", "Accept-Encoding": "gzip, deflate"}, {},
         {"Accept": "*/*", "Accept-Encoding": "identity"}, {"Accept": "text/n3"}, {"Accept": "application/trig"},
         {"Accept": "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", "User-Agent": "nkod/0.0.1"},
         {"Accept": "text/turtle", "X-Request-ID": "abc-123"})


def test_a_first_visit_answered_before_flask_is_the_answer_flask_gives(apps):
    asking, written, _ = apps
    client_asking, client_written = asking.test_client(), written.test_client()
    for n, iri in enumerate(_subjects(asking)):
        path = _path(asking, iri)
        for asked in ASKED[n % len(ASKED):] + ASKED[:1]:
            for suffix in ("", ".ttl") if "?" not in path else ("",):
                ours, theirs = client_written.get(path + suffix, headers=asked), client_asking.get(path + suffix, headers=asked)
                assert (ours.status_code, ours.data) == (theirs.status_code, theirs.data), (iri, asked)
                assert _headers(ours) == _headers(theirs), (iri, asked)
                if "X-Request-ID" in asked:
                    assert ours.headers["X-Request-ID"] == "abc-123"


def test_the_first_visits_flask_would_give_a_turtle_document_never_reach_flask(apps):
    asking, written, _ = apps

    def flask_not_there(environ, start_response):
        start_response("599 Flask asked", [("Content-Type", "text/plain")])
        return [b""]

    publisher = written.extensions["lodpub"]
    before_flask = Client(WrittenAnswers(flask_not_there, lambda: publisher))
    base = publisher.store.base_iri
    ours = [iri[len(base):] for iri in _subjects(asking) if iri.startswith(base) and iri != base]
    for path in ours:
        assert before_flask.get("/doc/" + path, headers={"Accept": "text/turtle"}).status_code == 200, path
        assert before_flask.get("/doc/" + path + ".ttl").status_code == 200, path
    for path, asked in ((ours[0], {"Accept": "application/ld+json"}), (ours[0] + ".nt", {}), (ours[0] + "?x=1", {}),
                        (ours[0], {"If-None-Match": '"x"'}), (ours[0], {"Range": "bytes=0-1"}), ("id/nothing", {}),
                        ("id/release/x", {}), ("shapes", {})):
        assert before_flask.get("/doc/" + path, headers=asked).status_code == 599, (path, asked)
    assert before_flask.head("/doc/" + ours[0]).status_code == 599


def _headers(response) -> dict:
    return {name: value for name, value in response.headers.items() if name not in ("X-Request-ID", "Date")}


@pytest.fixture
def reading(apps):
    """A function that makes the `written` app read the documents written under an output folder, until the test ends."""
    written = apps[1].extensions["lodpub"]
    before = written.written

    def read_from(output_dir):
        written.written = WrittenDocuments(output_dir)
        return apps[1].test_client()

    yield read_from
    written.written = before


def test_a_written_document_is_sent_as_written_and_gzipped_as_written(apps, reading, tmp_path):
    asking, _, folder = apps
    iri = asking.extensions["lodpub"].store.base_iri + "id/region/bursa"
    _replace_document(_copy(folder, tmp_path), iri, b"# written ahead\n" * 100)
    client = reading(tmp_path)
    sent = client.get("/doc/id/region/bursa", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert sent.headers["Content-Encoding"] == "gzip"  # (the test client does not decode it)
    assert sent.data == gzip.compress(b"# written ahead\n" * 100, compresslevel=6, mtime=0)
    sent = client.get("/doc/id/region/bursa", headers={"Accept": "text/turtle", "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in sent.headers and sent.data == b"# written ahead\n" * 100
    sent = client.get("/doc/id/region/bursa", headers={"Accept": "application/n-triples"})
    assert sent.status_code == 200 and sent.data == b""  # the other formats are written from its triples


def test_a_damaged_document_or_index_or_another_release_falls_back_to_the_store(apps, reading, tmp_path):
    asking, _, folder = apps
    iri = asking.extensions["lodpub"].store.base_iri + "id/region/bursa"
    expected = asking.test_client().get("/doc/id/region/bursa", headers={"Accept": "text/turtle"}).data
    for damage in (_unsigned, _damage_index, _other_release):
        damaged = _copy(folder, tmp_path / damage.__name__)
        _replace_document(damaged, iri, b"# written ahead\n")
        damage(damaged, iri)
        sent = reading(tmp_path / damage.__name__).get("/doc/id/region/bursa", headers={"Accept": "text/turtle"})
        assert sent.data == expected, damage.__name__


def _copy(folder, output_dir):
    """A copy of the written `folder` where a reader with `output_dir` looks for it."""
    target = output_dir / "documents" / folder.name
    target.mkdir(parents=True)
    for name in (DATA, INDEX, MANIFEST):
        (target / name).write_bytes((folder / name).read_bytes())
    return target


def _replace_document(folder, iri: str, turtle: bytes, sign: bool = True) -> None:
    """Make the document about `iri` in `folder` `turtle` (appended to the data), its digest recorded
    only with `sign`, and the index's SHA-256 recorded again."""
    index = bytearray((folder / INDEX).read_bytes())
    key = hashlib.blake2b(iri.encode(), digest_size=16).digest()
    at = next(n for n in range(0, len(index), RECORD.size) if index[n:n + 16] == key)
    data = (folder / DATA).read_bytes()
    gzipped = gzip.compress(turtle, compresslevel=6, mtime=0)
    digest = hashlib.blake2b(gzipped, digest_size=8).digest() if sign else b"\0" * 8
    RECORD.pack_into(index, at, key, len(data), len(gzipped), len(turtle), digest)
    (folder / DATA).write_bytes(data + gzipped)
    (folder / INDEX).write_bytes(bytes(index))
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest.update(data_bytes=len(data) + len(gzipped), index_sha256=hashlib.sha256(bytes(index)).hexdigest())
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _unsigned(folder, iri: str) -> None:
    _replace_document(folder, iri, b"# not what was written\n", sign=False)


def _damage_index(folder, iri: str) -> None:
    index = bytearray((folder / INDEX).read_bytes())
    index[5] ^= 1
    (folder / INDEX).write_bytes(bytes(index))


def _other_release(folder, iri: str) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps(manifest | {"version": "another"}))


def test_a_remote_store_or_no_output_folder_has_no_documents_written(tmp_path):
    assert WrittenDocuments(None).get("http://example.org/", "v1", "http://example.org/a") is None
    assert WrittenDocuments(tmp_path).get("http://example.org/", "v1", "http://example.org/a") is None


def test_a_server_writes_its_documents_ahead_once_it_answers_and_sends_the_same_documents(mini_server, mini_settings):
    import time

    import requests

    url = mini_server + "doc/id/region/bursa"
    before = requests.get(url, headers={"Accept": "text/turtle", "User-Agent": "before"}, timeout=30)
    manifests = mini_server.output / "documents"
    deadline = time.monotonic() + 120
    while not list(manifests.glob("*/manifest.json")):
        assert time.monotonic() < deadline, "no documents written ahead within 2 minutes"
        time.sleep(0.5)
    time.sleep(LOOK_EVERY + 0.5)  # the workers look for them every LOOK_EVERY seconds
    after = requests.get(url, headers={"Accept": "text/turtle", "User-Agent": "after"}, timeout=30)
    assert (after.status_code, after.content, after.headers["ETag"]) == (before.status_code, before.content, before.headers["ETag"])
    assert not list(manifests.glob(".*")), "a half-written folder is left"


def test_the_shared_engine_writes_the_same_documents(apps, shared_engine_app, tmp_path):
    folder = write_documents(shared_engine_app.extensions["lodpub"].store, tmp_path)
    for name in (DATA, INDEX, MANIFEST):
        assert (folder / name).read_bytes() == (apps[2] / name).read_bytes(), name
