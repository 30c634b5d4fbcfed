"""The search index as one file that every worker maps, so that the kernel holds its pages once for the
whole server (search_index.py holds the index; kept_search_index.py decides where the file is kept).

An index is arrays of numbers and buffers of UTF-8 (search_index.SearchIndex.parts); the file is them,
each at an offset aligned to 8 bytes, after a header that names them. Read back (`read`), each part is a
memoryview of a read-only map of the file: nothing is copied, and a worker holds only the pages its
searches touch, shared with every other worker that maps the same file.

    MAGIC, the header's length (8 bytes, little-endian), the header (JSON), padding, the parts.

The header records, for each part, its offset, its length in bytes and its type (an `array` typecode),
besides what is not an array (`meta`: the kinds' names, the languages). A file that is not whole, or not
of this format, raises FileFormatError: it is a cache, made again.
"""

import json
import mmap
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"lodpub search 1\n"
ALIGNMENT = 8
# Types a part may have: those of the index's arrays ("B" for a buffer of bytes).
TYPECODES = frozenset("BbHIiQ")

Part = array | bytearray | memoryview


class FileFormatError(ValueError):
    """The file is not a whole search index of this format."""


class Strings:
    """Many strings, numbered in the order added, in one UTF-8 buffer: a tenth of the memory of as
    many str objects (a str costs 50 to 75 bytes besides its text). Also a view of a mapped file's
    buffer and ends (`over`), read only."""

    def __init__(self) -> None:
        self.buffer: bytearray | memoryview = bytearray()
        self.ends: array | memoryview = array("Q")

    @classmethod
    def over(cls, buffer: memoryview, ends: memoryview) -> "Strings":
        """The strings of a buffer and the end of each in it (as `buffer` and `ends` are kept)."""
        strings = cls.__new__(cls)
        strings.buffer, strings.ends = buffer, ends
        return strings

    @classmethod
    def of(cls, texts: Iterable[str]) -> "Strings":
        """`texts`, kept."""
        strings = cls()
        for text in texts:
            strings.append(text)
        return strings

    def append(self, text: str) -> int:
        """Keep `text`; returns its number."""
        self.buffer += text.encode()
        self.ends.append(len(self.buffer))
        return len(self.ends) - 1

    def __getitem__(self, number: int) -> str:
        start = self.ends[number - 1] if number else 0
        return str(self.buffer[start:self.ends[number]], "utf-8")

    def __len__(self) -> int:
        return len(self.ends)


class Postings:
    """For each word, the numbers of the texts that hold it (as a dict of arrays answers `get` and
    `in`): a part of the words' offsets into a part of numbers, over the sorted words of the index."""

    def __init__(self, words: Sequence[str], offsets: memoryview, numbers: memoryview) -> None:
        self._words, self._offsets, self._numbers = words, offsets, numbers

    def get(self, word: str, default: Any = None) -> Any:
        """The numbers of the texts that hold `word`, else `default`."""
        position = bisect_left(self._words, word)
        if position == len(self._words) or self._words[position] != word:
            return default
        start, end = self._offsets[position], self._offsets[position + 1]
        return self._numbers[start:end] if end > start else default

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None


def posting_parts(postings: Mapping[str, array], words: Sequence[str]) -> tuple[array, array]:
    """`postings` as the parts Postings reads: the offsets of each of `words` (sorted; every word of
    `postings` among them) into the numbers of all."""
    offsets, numbers = array("Q", [0]), array("I")
    for word in words:
        numbers.extend(postings.get(word, ()))
        offsets.append(len(numbers))
    return offsets, numbers


def write(file: BinaryIO, meta: dict[str, Any], parts: Mapping[str, Part]) -> None:
    """Write the index of `meta` and `parts` to `file` (at its start)."""
    write_pieces(file, meta, layout_of(parts), lambda name, start: memoryview(parts[name]).cast("B")[start:])


def layout_of(parts: Mapping[str, Part]) -> dict[str, tuple[int, str]]:
    """The size in bytes and the type of each of `parts`: what the file's header says of them."""
    return {name: (memoryview(part).nbytes, _typecode(part)) for name, part in parts.items()}


def write_pieces(file: BinaryIO, meta: dict[str, Any], layout: Mapping[str, tuple[int, str]],
                 piece: Callable[[str, int], bytes | memoryview]) -> None:
    """Write to `file` (at its start) the index of `meta` and of parts of `layout` (layout_of), each given
    in pieces by `piece(name, start)`: its bytes from `start`, as many as it gives at once (at least one)."""
    where, offset = {}, 0
    for name, (size, typecode) in layout.items():
        where[name] = [offset, size, typecode]
        offset = _aligned(offset + size)
    header = json.dumps({"meta": meta, "parts": where, "size": offset}, ensure_ascii=False).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    file.write(MAGIC + len(header).to_bytes(8, "little") + header + bytes(start - len(MAGIC) - 8 - len(header)))
    for name, (size, _) in layout.items():
        written = 0
        while written < size:
            chunk = piece(name, written)
            if not len(chunk):
                raise ValueError(f"part {name} of the search index ended at {written} of {size} bytes")
            file.write(chunk)
            written += len(chunk)
        file.write(bytes(_aligned(size) - size))


def read(path: Path) -> tuple[dict[str, Any], dict[str, memoryview]]:
    """The `meta` and parts of the index in the file `path`, each part a view of the file mapped read
    only. Raises FileFormatError if the file is not a whole index of this format, OSError if it
    cannot be read."""
    with open(path, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else None
    if mapped is None or mapped[:len(MAGIC)] != MAGIC:
        raise FileFormatError(f"{path} is not a search index of this format")
    length = int.from_bytes(mapped[len(MAGIC):len(MAGIC) + 8], "little")
    try:
        header = json.loads(mapped[len(MAGIC) + 8:len(MAGIC) + 8 + length])
        start = _aligned(len(MAGIC) + 8 + length)
        if start + header["size"] != len(mapped):
            raise FileFormatError(f"{path} is not whole: {len(mapped)} bytes, not {start + header['size']}")
        whole = memoryview(mapped)
        return header["meta"], {name: _part(whole, start, *where) for name, where in header["parts"].items()}
    except (ValueError, KeyError, TypeError) as error:  # FileFormatError is a ValueError
        raise FileFormatError(f"{path} is not a whole search index: {error}") from error


def _part(whole: memoryview, start: int, offset: int, size: int, typecode: str) -> memoryview:
    if typecode not in TYPECODES or offset < 0 or size < 0 or start + offset + size > len(whole):
        raise FileFormatError(f"a part out of the file or of an unknown type ({typecode})")
    return whole[start + offset:start + offset + size].cast(typecode)


def _typecode(part: Part) -> str:
    return part.typecode if isinstance(part, array) else "B"


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT
