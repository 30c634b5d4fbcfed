"""Rendered resource documents, kept per worker for the release they were rendered from.

A release never changes once built, so the document about an IRI, in one format, language and at
one base, is the same bytes for every request until another release is served. Rendering it takes
several store queries and an rdflib serialisation (about 10 ms); sending kept bytes takes well under
one. Each worker keeps the most recently used documents up to a size in bytes
(settings.document_cache_mb); the least recently used go first.

The key holds the release's version, so a reload or a remote store switching releases makes every
kept document unreachable, and they are pushed out as new ones come.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class RenderedDocuments:
    """A thread-safe least-recently-used map from a key to a value (rendered bytes, or anything
    whose size in bytes is given when it is kept), bounded by their total size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._kept: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value kept for `key`, if any (counted as a hit or a miss)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                self.misses += 1
                return None
            self._kept.move_to_end(key)
            self.hits += 1
            return kept[0]

    def get_or_render(self, key: Hashable, render: Callable[[], bytes], still_valid: Callable[[], bool]) -> bytes:
        """The bytes kept for `key`, else `render()`'s, kept if `still_valid()` says the key still
        describes them (the release may have changed while rendering)."""
        body = self.get(key)
        if body is not None:
            return body
        body = render()  # outside the lock: other threads go on meanwhile (two may render one key)
        if still_valid():
            self.keep(key, body, len(body))
        return body

    def keep(self, key: Hashable, value: Any, size: int) -> None:
        """Keep `value` (of `size` bytes) for `key`, pushing out the least recently used beyond the
        bound; a value larger than the whole bound is not kept."""
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, oldest) = self._kept.popitem(last=False)
                self.size -= oldest

    def __len__(self) -> int:
        return len(self._kept)
