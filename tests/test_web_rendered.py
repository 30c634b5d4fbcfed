"""Rendered documents kept per worker: what is kept, what pushes it out, and that a kept document
is never served to a request it was not rendered for (another language, host or format)."""

import threading

import pytest
import requests
from conftest import running_server
from rdflib import Graph

from lodpub.web.rendered import RenderedDocuments

BURSA = "doc/id/region/bursa"


def test_a_kept_document_is_given_back_without_rendering_again():
    kept, renders = RenderedDocuments(1000), []
    render = lambda: renders.append(1) or b"body"  # noqa: E731
    assert kept.get_or_render("k", render, still_valid=lambda: True) == b"body"
    assert kept.get_or_render("k", render, still_valid=lambda: True) == b"body"
    assert len(renders) == 1 and (kept.hits, kept.misses) == (1, 1)


def test_the_least_recently_used_go_first_when_the_bytes_are_full():
    kept = RenderedDocuments(10)
    for key in "abc":
        kept.get_or_render(key, lambda: b"1234", still_valid=lambda: True)
    assert len(kept) == 2 and kept.size == 8  # "a" went to make room for "c"
    kept.get_or_render("b", lambda: b"new!", still_valid=lambda: True)  # used: now the newest
    kept.get_or_render("d", lambda: b"1234", still_valid=lambda: True)
    assert kept.get_or_render("b", lambda: b"fresh", still_valid=lambda: True) == b"1234"
    assert kept.get_or_render("c", lambda: b"fresh", still_valid=lambda: True) == b"fresh"


def test_nothing_is_kept_when_the_release_changed_while_rendering_or_when_it_is_too_big():
    kept = RenderedDocuments(4)
    assert kept.get_or_render("k", lambda: b"old", still_valid=lambda: False) == b"old"
    assert kept.get_or_render("big", lambda: b"12345", still_valid=lambda: True) == b"12345"
    assert len(kept) == 0 and kept.size == 0


def test_threads_share_one_cache_safely():
    kept = RenderedDocuments(50)
    keys = [str(n % 20) for n in range(2000)]

    def use(part: list[str]) -> None:
        for key in part:
            assert kept.get_or_render(key, lambda key=key: key.encode() * 3, still_valid=lambda: True) == key.encode() * 3

    threads = [threading.Thread(target=use, args=(keys[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kept.size == sum(size for _, size in kept._kept.values()) <= 50


def test_a_document_comes_back_the_same_bytes(server):
    first, again = (requests.get(server + BURSA, headers={"Accept": "text/turtle"}, timeout=30) for _ in range(2))
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["ETag"] == again.headers["ETag"]


def test_a_page_kept_in_one_language_is_not_served_in_the_other(server):
    for _ in range(3):  # each worker in turn: cs and en alternate after both were kept
        czech = requests.get(server + BURSA, headers={"Accept": "text/html", "Accept-Language": "cs"}, timeout=30)
        english = requests.get(server + BURSA, headers={"Accept": "text/html", "Accept-Language": "en"}, timeout=30)
        assert '<html lang="cs">' in czech.text and czech.headers["Content-Language"] == "cs"
        assert '<html lang="en">' in english.text and english.headers["Content-Language"] == "en"


def test_a_document_is_the_same_at_every_host_under_the_public_base(server):
    port = server.rstrip("/").rsplit(":", 1)[1]
    bodies = set()
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "elsewhere.example", f"127.0.0.1:{port}"):
        body = requests.get(server + BURSA + ".nt", headers={"Host": host}, timeout=30).text
        subjects = {line.split(" ", 1)[0] for line in body.splitlines() if line}
        assert f"<{server}id/region/bursa>" in subjects, (host, sorted(subjects)[:3])
        bodies.add(body)
    assert len(bodies) == 1


@pytest.mark.served
def test_with_the_cache_off_every_request_is_rendered_alike(tmp_path, project_release):
    with running_server(project_release.path.parent.parent, tmp_path, DOCUMENT_CACHE_MB="0") as server:
        bodies = [requests.get(server + BURSA + ".ttl", timeout=30) for _ in range(3)]
    assert all(body.status_code == 200 for body in bodies)
    assert len({body.content for body in bodies}) == 1
    assert len(Graph().parse(data=bodies[0].text, format="turtle")) > 10
