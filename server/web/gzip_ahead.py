"""An answer gzipped in its query runner, ahead of the worker, when the client takes gzip.

The worker gzips an answer it sends from memory (compression.py) on the thread that serves the
request, beside its other clients' requests; the runner has nothing else to do. So a runner gives an
answer that comes back through its pipe (answer_files.INLINE_BYTES) with its gzip
(SparqlAnswer.gzipped) when the worker would gzip it (compression.MIN_BYTES, a compressible type),
and the worker sends those bytes as it would its own: they are compression.gzipped_body at
ANSWER_LEVEL, the worker's own function. The body then stays in the runner unless the worker may need
it (`without_body`). A larger answer is streamed from its file and gzipped as it streams, as before.

The answer is gzipped once it is whole, on the thread that wrote it. Until session 21 a thread of the
runner gzipped each part as the engine wrote it, beside the evaluation: each part handed over woke that
thread, which then waited for a core and for the GIL, and the query waited for it at the end. On the
shared 2-core machine (load 7) that made the answers later, not earlier (p50 in process, the same
query alternating: a 94 KB JSON answer 6.5-9.7 ms against 2.9, 395 KB of N-Triples 10.8-11.7 against
8.5), for a quarter more CPU; on an idle machine it could have saved at most the gzip itself (0.5 ms
for 400 KB at level 1). See bench/README.md, "Session 21: runner".
"""

from collections.abc import Callable

from ..store import SparqlAnswer
from .answer_files import INLINE_BYTES
from .compression import ANSWER_LEVEL, MIN_BYTES, gzip_choice, gzipped_body


def answer_gzipped_ahead(sparql: Callable[..., SparqlAnswer], arguments: tuple) -> SparqlAnswer:
    """`sparql(*arguments)` (Store.sparql), with its body's gzip when the worker would gzip it
    (compression.compress) and it comes back through the pipe."""
    answered = sparql(*arguments)
    if not worth_gzipping_ahead(answered):
        return answered
    gzipped = gzipped_body(answered.body, ANSWER_LEVEL)
    return SparqlAnswer(answered.kind, answered.body, answered.media_type, answered.truncated, gzipped)


def without_body(answered: SparqlAnswer) -> SparqlAnswer:
    """The answer as it goes back through the pipe: without its body when the worker will send only its
    gzip (pickling a 395 KB body, the pipe and unpickling it cost 0.3 ms of CPU and twice that in wall time,
    for bytes the worker then dropped). The worker's response then holds the gzip (`sent_body`), which
    compression.compress sends as the gzip it was given: it gzips a body of MIN_BYTES or more, and reads
    the length of what the response holds, so only a gzip of that length comes alone."""
    if answered.gzipped is None or len(answered.gzipped) < MIN_BYTES:
        return answered
    return SparqlAnswer(answered.kind, b"", answered.media_type, answered.truncated, answered.gzipped)


def sent_body(answered: SparqlAnswer) -> bytes:
    """What the worker's response to `answered` holds before compression.compress: its body, or its
    gzip when it came without its body (`without_body`)."""
    return answered.gzipped if answered.gzipped is not None and not answered.body else answered.body


def worth_gzipping_ahead(answered: SparqlAnswer) -> bool:
    """Whether the worker would gzip `answered` from memory (for a client that takes gzip), by the worker's
    own decision (compression.gzip_choice)."""
    if len(answered.body) > INLINE_BYTES:
        return False
    return gzip_choice(answered.media_type, len(answered.body), "gzip", per_request=True).level == ANSWER_LEVEL
