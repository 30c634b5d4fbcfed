"""Documents written ahead: every resource's Turtle document of a release, written once, after the server
has started answering, so that a document asked for the first time costs no store query and no rendering.

A process the master starts (`start_writing`, niced, stopped with the master) opens the served release as a
worker does, asks the store for every subject's document (`Store.document_triples`, the very code a worker
runs) and writes it as the worker would (`serialise_triples`), gzipped as the worker's compression would
(`compression.gzipped_body`), into `<output>/documents/<name>/`: `documents.gz` (the
documents one after the other), `index` (one record per document, sorted by a digest of its IRI: where it is,
its sizes and a digest of its bytes) and `manifest.json` (the release, the base, the count, and the
SHA-256 of the index). The folder is written under a hidden name and renamed into place when whole.

A worker (`WrittenDocuments`) looks for the folder of the release it serves (at most every few seconds until it
is there), opens it only when its manifest names that release and base and its index has the recorded SHA-256,
and checks each document's digest as it reads it; anything missing, damaged or other falls back to asking the
store. A remote store has no release of ours to write from: its documents are asked for as before.
"""

import gzip
import hashlib
import json
import logging
import mmap
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

from ..config import Settings
from ..formats import TURTLE
from ..store.processes import payload_from_parent, start_in_background, stop_session

FOLDER = "documents"
# Part of the folder's name: documents written by other code (another layout) are not read.
FORMAT = 1
DATA, INDEX, MANIFEST = "documents.gz", "index", "manifest.json"
# An index record: digest of the IRI, offset of the gzipped document, its length, the Turtle's length,
# digest of the gzipped bytes.
RECORD = struct.Struct("<16sQII8s")
# How often a worker looks for documents not yet written (a stat of one file), and again for documents
# found damaged (each look is logged).
LOOK_EVERY = 2.0
LOOK_AGAIN_AFTER_DAMAGE = 300.0
_NICENESS = 19

log = logging.getLogger(__name__)


class WrittenDocument(NamedTuple):
    """One document as written ahead: its Turtle, gzipped."""

    gzipped: bytes
    size: int

    def turtle(self) -> bytes:
        """The Turtle document itself."""
        return gzip.decompress(self.gzipped)


def folder_for(output_dir: Path, base: str, version: str) -> Path:
    """Where the documents of release `version` published under `base` are written."""
    name = hashlib.sha256(f"{FORMAT}\n{base}\n{version}".encode()).hexdigest()[:32]
    return output_dir / FOLDER / name


def _iri_key(iri: str) -> bytes:
    return hashlib.blake2b(iri.encode("utf-8"), digest_size=16).digest()


def _bytes_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=8).digest()


# --- writing ------------------------------------------------------------------------------------------


def write_documents(store, output_dir: Path) -> Path:
    """Write the Turtle document of every IRI `store` holds triples about into its folder under
    `output_dir`, unless it is there already; the folder. A document the store cannot give is left out
    (asked of the store when it is visited, as before)."""
    from ..store import QueryError
    from .compression import gzipped_body
    from .negotiation import serialise_triples

    folder = folder_for(output_dir, store.base_iri, store.version)
    if (folder / MANIFEST).is_file():
        return folder
    temporary = folder.parent / f".{folder.name}-{os.getpid()}"
    temporary.mkdir(parents=True)
    try:
        iris = sorted(row[0] for row in store.select_values("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) }"))
        records = []
        with open(temporary / DATA, "wb") as data:
            for iri in iris:
                try:
                    turtle = serialise_triples(store.document_triples(iri), TURTLE, store.base_iri)
                except QueryError as error:
                    log.warning("lodpub: the document about %s is not written ahead: %s", iri, error)
                    continue
                gzipped = gzipped_body(turtle)  # as the answer rendered now is gzipped
                records.append(RECORD.pack(_iri_key(iri), data.tell(), len(gzipped), len(turtle), _bytes_digest(gzipped)))
                data.write(gzipped)
        index = b"".join(sorted(records))
        (temporary / INDEX).write_bytes(index)
        manifest = {"format": FORMAT, "base": store.base_iri, "version": store.version, "documents": len(records),
                    "data_bytes": (temporary / DATA).stat().st_size, "index_sha256": hashlib.sha256(index).hexdigest()}
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, folder)
        _remove_others(folder)
    except OSError as error:
        if folder.is_dir():  # another process finished first (rename onto a folder that is not empty)
            return folder
        raise error
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return folder


def start_writing(settings: Settings) -> subprocess.Popen | None:
    """Start writing the served release's documents ahead in a niced process of its own (it opens the
    release as a worker does), stopped when the caller exits; None for a remote store, or when the
    settings say not to (documents_ahead)."""
    if settings.store == "remote" or not settings.documents_ahead:
        return None
    return start_in_background(__name__, "write_served_from_stdin", settings)


def stop_writing(process: subprocess.Popen | None) -> None:
    """Stop a writer (and its session) that still runs: its half-written folder is removed at its next start."""
    if process is not None and process.poll() is None:
        stop_session(process.pid)


def _write_served(settings: Settings) -> None:
    """The writer process: the documents of the release the server serves, written and logged."""
    from ..store import StoreUnavailable, open_store

    logging.basicConfig(format="%(message)s", level=logging.INFO)
    os.nice(_NICENESS)  # the workers come first
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that `finally` removes a half-written folder
    _remove_abandoned(settings.output_dir / FOLDER)
    if _written_already(settings):
        return
    _wait_for_first_answer(settings)
    started = time.monotonic()
    try:
        store = open_store(settings)
        folder = write_documents(store, settings.output_dir)
    except (StoreUnavailable, OSError) as error:
        log.warning("lodpub: documents not written ahead: %s", error)
        return
    log.info("lodpub: the documents of release %s are written ahead in %s (%.0f s)", store.version, folder,
             time.monotonic() - started)


def _written_already(settings: Settings) -> bool:
    """Whether the documents of the release decided on are there already (then the release need not be
    loaded to learn its version; when this cannot tell, the release is loaded and asked)."""
    from ..store.served_release import decision_in_force

    with suppress(Exception):  # any doubt: load the release and see
        version = decision_in_force(settings.output_dir).serving
        return version is not None and (folder_for(settings.output_dir, settings.public_base_iri, version) / MANIFEST).is_file()
    return False


def _wait_for_first_answer(settings: Settings, at_most: float = 600.0) -> None:
    """Wait until the server answers (its workers have loaded the release), at most `at_most` seconds:
    the writer loads the release too, and must not delay the first answer."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(settings.host, settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{settings.port}/health"
    give_up = time.monotonic() + at_most
    while time.monotonic() < give_up:
        with suppress(OSError, ValueError):
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        time.sleep(1.0)


def _remove_others(folder: Path) -> None:
    """Remove the documents of other releases: only the served release's are read (a release served
    again has its documents written again)."""
    for other in folder.parent.iterdir():
        if other != folder and not other.name.startswith("."):
            shutil.rmtree(other, ignore_errors=True)


def _remove_abandoned(documents: Path) -> None:
    """Remove the half-written folders of writers that are gone (killed with the server)."""
    for folder in documents.glob(".*-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


# --- reading ------------------------------------------------------------------------------------------


class DocumentsFolder:
    """The documents written ahead in one folder, checked against the release they must be of."""

    def __init__(self, folder: Path, base: str, version: str) -> None:
        """Raise ValueError (or OSError) unless `folder` holds the whole of the documents of `version` under `base`."""
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if (manifest.get("format"), manifest.get("base"), manifest.get("version")) != (FORMAT, base, version):
            raise ValueError(f"{folder} holds other documents than those of release {version} under {base}")
        index = (folder / INDEX).read_bytes()
        if hashlib.sha256(index).hexdigest() != manifest["index_sha256"] or len(index) != manifest["documents"] * RECORD.size:
            raise ValueError(f"{folder / INDEX} is damaged")
        with open(folder / DATA, "rb") as data:
            if os.fstat(data.fileno()).st_size != manifest["data_bytes"]:
                raise ValueError(f"{folder / DATA} is not of the size written")
            self._data = mmap.mmap(data.fileno(), 0, access=mmap.ACCESS_READ) if manifest["data_bytes"] else b""
        self._index = index
        self._count = manifest["documents"]
        self.folder = folder

    def get(self, iri: str) -> WrittenDocument | None:
        """The document about `iri`, None when none was written or its bytes are not those written."""
        found = self._find(_iri_key(iri))
        if found is None:
            return None
        _, offset, length, size, digest = found
        gzipped = self._data[offset:offset + length]
        if _bytes_digest(gzipped) != digest:
            log.warning("the document about %s in %s is damaged: asked of the store instead", iri, self.folder)
            return None
        return WrittenDocument(gzipped, size)

    def _find(self, key: bytes) -> tuple | None:
        """The index record of `key` (binary search over the sorted records)."""
        low, high = 0, self._count
        index, size = self._index, RECORD.size
        while low < high:
            middle = (low + high) // 2
            at = index[middle * size:middle * size + 16]
            if at < key:
                low = middle + 1
            elif at > key:
                high = middle
            else:
                return RECORD.unpack_from(index, middle * size)
        return None


class WrittenDocuments:
    """A worker's view of the documents written ahead for the release it serves (see the module's docstring)."""

    def __init__(self, output_dir: Path | None) -> None:
        self.output_dir = output_dir
        self._lock = threading.Lock()
        self._release: tuple[str, str] | None = None
        self._folder: DocumentsFolder | None = None
        self._next_look = 0.0

    def get(self, base: str, version: str, iri: str) -> WrittenDocument | None:
        """The document about `iri` in release `version` under `base`, if it was written ahead (and is whole)."""
        folder = self._opened(base, version)
        return folder.get(iri) if folder is not None else None

    def _opened(self, base: str, version: str) -> DocumentsFolder | None:
        if self._release == (base, version) and (self._folder is not None or time.monotonic() < self._next_look):
            return self._folder
        if self.output_dir is None:
            return None
        with self._lock:
            if self._release != (base, version) or (self._folder is None and time.monotonic() >= self._next_look):
                self._release = (base, version)
                self._folder, wait = self._open(base, version)
                self._next_look = time.monotonic() + wait
            return self._folder

    def _open(self, base: str, version: str) -> tuple[DocumentsFolder | None, float]:
        """The checked folder of the release, if it is there; and when to look again if not."""
        folder = folder_for(self.output_dir, base, version)
        if not (folder / MANIFEST).is_file():
            return None, LOOK_EVERY
        try:
            return DocumentsFolder(folder, base, version), 0.0
        except (OSError, ValueError, KeyError) as error:
            log.warning("documents written ahead not used: %s", error)
            return None, LOOK_AGAIN_AFTER_DAMAGE


def write_served_from_stdin() -> None:
    """The writer process's start: its settings come from the master (start_writing), which it does not
    outlive (a folder it leaves half-written goes at the next start)."""
    settings, _ = payload_from_parent()
    _write_served(settings)
