"""Every setting of lodpub in one place, with its default, environment variable and help text.

A setting's value comes from, in increasing priority: the default below, the environment variable
named in the field's metadata, and an explicit override passed to `load_settings` (e.g. a
command-line option).
"""

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

PACKAGE_DIR = Path(__file__).resolve().parent
# Our ontology: inside the installed package (lodpub/ontology/, see pyproject.toml), or in a checkout
# beside the package's source folder. A project without an ontology/ of its own is described with it.
OUR_ONTOLOGY_DIR = next((folder for folder in (PACKAGE_DIR / "ontology", PACKAGE_DIR.parent / "ontology")
                         if folder.is_dir()), PACKAGE_DIR / "ontology")


def _setting(default: Any, env: str, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text, "env": env})


@dataclass(frozen=True)
class Settings:
    """The settings of one run; build it with `load_settings`."""

    # Equal to namespaces.CANONICAL_BASE by choice, not by necessity: this is where we publish,
    # that is what the files are written with.
    base_iri: str = _setting(
        "https://data.kraj-lbc.cz/partnerships/",
        "LODPUB_BASE_IRI",
        "base IRI the dataset is published under; must end with '/'",
    )
    project_dir: Path = _setting(
        Path("."),
        "LODPUB_PROJECT_DIR",
        "the project folder, which holds ontology/, data/, shapes/ and dist/ (default: the current folder)",
    )
    # None: the project folder's (see _in_project).
    ontology_dir: Path | None = _setting(
        None,
        "LODPUB_ONTOLOGY_DIR",
        "directory of the ontology; its vocabularies/ subdirectory holds the SKOS schemes "
        "(default: the project's ontology/, else the one lodpub ships)",
    )
    data_dir: Path | None = _setting(
        None,
        "LODPUB_DATA_DIR",
        "directory searched recursively for data files, or a single data file (default: the project's data/)",
    )
    shapes_dir: Path | None = _setting(
        None,
        "LODPUB_SHAPES_DIR",
        "directory of the SHACL shapes (*.ttl), or a single shapes file (default: the project's shapes/)",
    )
    output_dir: Path | None = _setting(
        None,
        "LODPUB_OUTPUT_DIR",
        "directory that receives releases/, the 'current' symlink (built last) and 'served' (what the server "
        "serves) (default: the project's dist/)",
    )
    keep_releases: int = _setting(
        5, "LODPUB_KEEP_RELEASES", "releases a build keeps (the newest; the served one is never deleted)"
    )
    build_jobs: int = _setting(
        os.cpu_count() or 1,
        "LODPUB_BUILD_JOBS",
        "processes that validate the dataset at once when building (default: the number of CPUs); "
        "each holds the data read by the build, so memory grows with them",
    )
    host: str = _setting("127.0.0.1", "LODPUB_HOST", "address the server listens on")
    port: int = _setting(5000, "LODPUB_PORT", "port the server listens on")
    public_base: str = _setting(
        "",
        "LODPUB_PUBLIC_BASE",
        "base IRI the server publishes under: every IRI, link, document, dump and SPARQL answer it serves is "
        "under it, whatever host a request names (the release is mapped to it once, into the output "
        "directory's at/); in production, the canonical base behind the proxy. Empty: http://HOST:PORT/ of "
        "'lodpub serve'. Must be an absolute http(s) IRI ending with '/'",
    )
    workers: int = _setting(2, "LODPUB_WORKERS", "number of server worker processes")
    threads: int = _setting(
        32,
        "LODPUB_THREADS",
        "threads per worker process (requests each serves at once; a SPARQL query waiting for a slot holds one)",
    )
    max_requests: int = _setting(
        5000,
        "LODPUB_MAX_REQUESTS",
        "requests a worker serves before it is replaced by a fresh one (bounds leaks; up to 10% more, "
        "at random, so workers do not restart together); 0 never replaces them",
    )
    recycle_work_ratio: float = _setting(
        20.0,
        "LODPUB_RECYCLE_WORK_RATIO",
        "a worker that has served max_requests is replaced only once the CPU time it has spent serving is this "
        "many times what its start took (loading the release), so that starting workers costs at most about "
        "1/(1 + ratio) of the server's CPU whatever the data's size and the requests' cost; 0 replaces it at "
        "max_requests",
    )
    keepalive: int = _setting(
        5,
        "LODPUB_KEEPALIVE",
        "seconds an idle keep-alive connection is held open; behind a load balancer that reuses "
        "connections, more than its idle timeout",
    )
    header_timeout: float = _setting(
        10.0,
        "LODPUB_HEADER_TIMEOUT",
        "seconds a client has to send a request's head (line and headers), from when it connects, or from its "
        "first byte on a kept-alive connection; a slower one gets 408 and is closed, having held no thread",
    )
    body_timeout: float = _setting(
        30.0,
        "LODPUB_BODY_TIMEOUT",
        "seconds a client has to send a request's body once its head is in; a slower one gets 408",
    )
    connection_max_age: float = _setting(
        5.0,
        "LODPUB_CONNECTION_MAX_AGE",
        "seconds a kept-alive connection is reused: the first response after that closes it, so that clients "
        "reconnect and spread over the workers again; 0 keeps connections as long as the client does",
    )
    worker_timeout: int = _setting(
        15,
        "LODPUB_WORKER_TIMEOUT",
        "seconds a worker that serves may go without a heartbeat (its event loop stuck, or the process "
        "stopped) before the master kills and replaces it; never counted while a worker loads the release",
    )
    access_log: str = _setting(
        "-", "LODPUB_ACCESS_LOG", "file the access log (one JSON object a request) is appended to; '-' is stdout"
    )
    error_log: str = _setting(
        "-", "LODPUB_ERROR_LOG", "file errors, warnings and worker starts and exits are appended to; '-' is stderr"
    )
    health_timeout: float = _setting(
        2.0, "LODPUB_HEALTH_TIMEOUT", "seconds /health waits for a remote store to answer before saying it is down"
    )
    proxy_hops: int = _setting(
        0,
        "LODPUB_PROXY_HOPS",
        "number of reverse proxies in front of the server whose X-Forwarded-* headers are trusted",
    )
    trusted_hosts: str = _setting(
        "",
        "LODPUB_TRUSTED_HOSTS",
        "space-separated host names the server answers to (a leading '.' takes subdomains too); a request "
        "naming another host gets 400. Empty: any host",
    )
    max_body_bytes: int = _setting(
        1_000_000,
        "LODPUB_MAX_BODY_BYTES",
        "largest request body accepted, in bytes; a longer one is refused with 413 before it is read",
    )
    cache_max_age: int = _setting(
        300, "LODPUB_CACHE_MAX_AGE", "seconds caches may keep a page or document (Cache-Control max-age)"
    )
    documents_ahead: bool = _setting(
        True,
        "LODPUB_DOCUMENTS_AHEAD",
        "write every resource's Turtle document of the served release ahead, in a niced process, once the "
        "server answers, so that a first visit costs no query (embedded store only; the writer holds a copy of "
        "an in-memory release while it writes: switch it off where memory is short)",
    )
    allocator: str = _setting(
        "auto",
        "LODPUB_ALLOCATOR",
        "the memory allocator of the server's processes: 'auto' (jemalloc where installed, else the C library's "
        "malloc), 'jemalloc' (refused when not installed) or 'system' (the C library's malloc). jemalloc (Debian's "
        "libjemalloc2) is loaded with LD_PRELOAD as `lodpub serve` starts: Oxigraph evaluates heavy queries "
        "10-20 % faster with it",
    )
    jemalloc_library: str = _setting(
        "",
        "LODPUB_JEMALLOC_LIBRARY",
        "the jemalloc library file to preload (default: the one the dynamic loader finds, e.g. Debian's "
        "libjemalloc.so.2)",
    )
    document_cache_mb: int = _setting(
        64,
        "LODPUB_DOCUMENT_CACHE_MB",
        "megabytes of rendered resource documents each worker keeps for the served release (the least "
        "recently used go first), and as much again of whole answers to repeated requests for them "
        "(mostly the same bytes); 0 renders every request afresh",
    )
    page_size: int = _setting(
        50, "LODPUB_PAGE_SIZE", "partnerships the home page lists per page (its timeline draws the same ones)"
    )
    search_max_hits: int = _setting(
        50, "LODPUB_SEARCH_MAX_HITS", "most hits a search (/search, /search.json) lists; how many matched in all is said"
    )
    sparql_timeout: float = _setting(
        10.0, "LODPUB_SPARQL_TIMEOUT", "seconds a SPARQL query may run before it is stopped"
    )
    sparql_max_rows: int = _setting(
        10000, "LODPUB_SPARQL_MAX_ROWS", "most rows (or triples) a SPARQL answer holds; more are cut off, and said so"
    )
    sparql_max_query_bytes: int = _setting(
        50000, "LODPUB_SPARQL_MAX_QUERY_BYTES", "longest SPARQL query accepted, in bytes"
    )
    sparql_max_nesting: int = _setting(
        30, "LODPUB_SPARQL_MAX_NESTING", "deepest nesting of { } and ( ) accepted in a SPARQL query"
    )
    sparql_slots: int = _setting(
        4, "LODPUB_SPARQL_SLOTS", "SPARQL queries run at once on this machine; a query beyond them waits in the queue"
    )
    sparql_slots_per_client: int = _setting(
        0,
        "LODPUB_SPARQL_SLOTS_PER_CLIENT",
        "slots one client (IP address; an IPv6 /64) may hold at once; 0: all slots but one",
    )
    sparql_queue_length: int = _setting(
        48, "LODPUB_SPARQL_QUEUE_LENGTH", "SPARQL queries that may wait for a slot on this machine; more get 503"
    )
    sparql_queue_seconds: float = _setting(
        15.0, "LODPUB_SPARQL_QUEUE_SECONDS", "seconds a query waits for a slot before it gets 503 with Retry-After"
    )
    sparql_express_slots: int = _setting(
        1,
        "LODPUB_SPARQL_EXPRESS_SLOTS",
        "queries that run beyond the slots, for at most sparql_express_seconds each, while every slot is taken "
        "(so a cheap query is answered whatever the slots are busy with)",
    )
    sparql_express_seconds: float = _setting(
        1.0, "LODPUB_SPARQL_EXPRESS_SECONDS", "seconds a query may run in an express slot before it waits for a slot"
    )
    sparql_in_worker_rows: int = _setting(
        1000,
        "LODPUB_SPARQL_IN_WORKER_ROWS",
        "most rows a query of one triple pattern (bounded by its form) may give to be answered by the worker "
        "itself, without a query runner or a slot; 0: every query goes to a runner",
    )
    sparql_max_answer_mb: int = _setting(
        256, "LODPUB_SPARQL_MAX_ANSWER_MB", "largest SPARQL answer, in megabytes (before compression)"
    )
    sparql_max_memory_mb: int = _setting(
        1024, "LODPUB_SPARQL_MAX_MEMORY_MB", "memory (MB) one SPARQL query may take beyond the server's own"
    )
    sparql_service_allowlist: str = _setting(
        "",
        "LODPUB_SPARQL_SERVICE_ALLOWLIST",
        "space-separated SPARQL endpoints a query may call with SERVICE (none by default)",
    )

    store: str = _setting(
        "embedded",
        "LODPUB_STORE",
        "where the served release is held: 'embedded' (in memory, or on disk beyond memory_store_max_triples; "
        "from output_dir/current) or 'remote' "
        "(a SPARQL 1.1 store, filled by 'lodpub publish')",
    )
    memory_store_max_triples: int = _setting(
        2_000_000,
        "LODPUB_MEMORY_STORE_MAX_TRIPLES",
        "most triples a release may have to be held in each worker's memory by the embedded store; a "
        "larger one is served from an on-disk store that the workers share (0: always on disk)",
    )
    engine: str = _setting(
        "auto",
        "LODPUB_ENGINE",
        "who evaluates queries on the embedded store: 'per-worker' (each worker holds the release, each query "
        "runs in a runner forked from it), 'shared' (one engine process for the whole server; a keeper holds a "
        "second copy, so that a successor serves at once when a query ends the engine), 'shared-one-copy' "
        "(one copy; the successor loads the release first) or 'auto' (per-worker where its copies fit the "
        "memory and the limit of memory_store_max_triples, else shared-one-copy, held in memory if one copy fits)",
    )
    store_query_url: str = _setting("", "LODPUB_STORE_QUERY_URL", "the remote store's SPARQL query endpoint")
    store_update_url: str = _setting(
        "", "LODPUB_STORE_UPDATE_URL", "the remote store's SPARQL update endpoint (for 'lodpub publish')"
    )
    store_graph_store_url: str = _setting(
        "", "LODPUB_STORE_GRAPH_STORE_URL", "the remote store's Graph Store Protocol endpoint (for 'lodpub publish')"
    )
    store_user: str = _setting("", "LODPUB_STORE_USER", "user name for the remote store's updates, if it asks for one")
    store_password: str = field(default="", repr=False, metadata={
        "help": "password for the remote store (environment only: never on a command line)",
        "env": "LODPUB_STORE_PASSWORD"})
    store_auth: str = _setting("basic", "LODPUB_STORE_AUTH", "HTTP authentication the remote store wants: basic or digest")
    store_timeout: float = _setting(30.0, "LODPUB_STORE_TIMEOUT", "seconds to wait for the remote store's answer")

    # --- Editing (/edit/): off unless editors_file or editor_header is given ---
    editors_file: Path | None = _setting(
        None,
        "LODPUB_EDITORS_FILE",
        "the editors who may sign in at /edit/ and their password hashes (JSON), managed with 'lodpub editors'; "
        "editing is off unless this or editor_header is given",
    )
    editor_header: str = _setting(
        "",
        "LODPUB_EDITOR_HEADER",
        "name of the header in which a trusted reverse proxy names the signed-in editor (no passwords then); "
        "only safe when the proxy sets or removes it on every request to /edit/",
    )
    secret_key: str = field(default="", repr=False, metadata={
        "help": "the key that signs editors' sessions and forms (environment only); empty: secret_key_file, else "
                "a new key each time the server starts, so sessions do not survive a restart",
        "env": "LODPUB_SECRET_KEY"})
    secret_key_file: Path | None = _setting(
        None, "LODPUB_SECRET_KEY_FILE", "a file holding the key that signs editors' sessions (used when secret_key is not)"
    )
    edit_session_hours: float = _setting(
        8.0, "LODPUB_EDIT_SESSION_HOURS", "hours an editor's session lasts after its last request"
    )
    login_attempts_per_minute: int = _setting(
        5, "LODPUB_LOGIN_ATTEMPTS_PER_MINUTE",
        "failed sign-ins a minute allowed from one address, and for one editor's name, per worker; then 429",
    )

    @property
    def editing(self) -> bool:
        """Whether /edit/ is on: editors sign in from the editors file, or a trusted proxy names them."""
        return self.editors_file is not None or bool(self.editor_header)

    def __post_init__(self) -> None:
        self._in_project()
        if not self.base_iri.endswith("/"):
            raise ValueError(f"base IRI must end with '/': {self.base_iri!r}")
        if self.public_base and not _is_base(self.public_base):
            raise ValueError(f"public base must be an absolute http(s) IRI ending with '/': {self.public_base!r}")
        if self.store not in ("embedded", "remote"):
            raise ValueError(f"store must be 'embedded' or 'remote', not {self.store!r}")
        if self.allocator not in ("auto", "system", "jemalloc"):
            raise ValueError(f"allocator must be 'auto', 'system' or 'jemalloc', not {self.allocator!r}")
        if self.engine not in ("auto", "per-worker", "shared", "shared-one-copy"):
            raise ValueError(f"engine must be 'auto', 'per-worker', 'shared' or 'shared-one-copy', not {self.engine!r}")
        if self.store == "remote" and not self.store_query_url:
            raise ValueError("a remote store needs LODPUB_STORE_QUERY_URL")
        if self.document_cache_mb < 0:
            raise ValueError(f"document_cache_mb cannot be negative: {self.document_cache_mb}")
        if self.build_jobs < 1:
            raise ValueError(f"build_jobs must be at least 1, not {self.build_jobs}")
        if self.keep_releases < 1:
            raise ValueError(f"keep_releases must be at least 1, not {self.keep_releases}")
        if self.sparql_slots < 0 or self.sparql_slots_per_client < 0 or self.sparql_express_slots < 0:
            raise ValueError("sparql_slots, sparql_slots_per_client and sparql_express_slots cannot be negative")
        if self.sparql_in_worker_rows < 0:
            raise ValueError("sparql_in_worker_rows cannot be negative")
        if self.sparql_max_answer_mb < 1:
            raise ValueError(f"sparql_max_answer_mb must be at least 1, not {self.sparql_max_answer_mb}")
        if self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be at least 1, not {self.max_body_bytes}")
        for name in ("header_timeout", "body_timeout", "worker_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0, not {getattr(self, name)}")
        if self.recycle_work_ratio < 0:
            raise ValueError(f"recycle_work_ratio cannot be negative: {self.recycle_work_ratio}")
        if self.connection_max_age < 0:
            raise ValueError(f"connection_max_age cannot be negative: {self.connection_max_age}")
        if self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {self.page_size}")
        if self.search_max_hits < 1:
            raise ValueError(f"search_max_hits must be at least 1, not {self.search_max_hits}")
        if self.memory_store_max_triples < 0:
            raise ValueError(f"memory_store_max_triples cannot be negative: {self.memory_store_max_triples}")
        if self.store_auth not in ("basic", "digest"):
            raise ValueError(f"store_auth must be 'basic' or 'digest', not {self.store_auth!r}")
        if self.edit_session_hours <= 0 or self.login_attempts_per_minute < 1:
            raise ValueError("edit_session_hours must be above 0 and login_attempts_per_minute at least 1")

    @property
    def public_base_iri(self) -> str:
        """The base the server publishes under: `public_base`, else http://host:port/ of `lodpub serve`."""
        if self.public_base:
            return self.public_base
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def _in_project(self) -> None:
        """Resolve the project folder, and the folders not given to theirs in it (a frozen dataclass
        sets its own fields through object.__setattr__)."""
        project = self.project_dir.resolve()
        own_ontology = project / "ontology"
        defaults = {"ontology_dir": own_ontology if own_ontology.is_dir() else OUR_ONTOLOGY_DIR,
                    "data_dir": project / "data", "shapes_dir": project / "shapes", "output_dir": project / "dist"}
        object.__setattr__(self, "project_dir", project)
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)


def _is_base(iri: str) -> bool:
    """Whether `iri` is an absolute http(s) IRI with a host, ending with '/' (and no query or fragment)."""
    scheme, _, rest = iri.partition("://")
    host = rest.split("/", 1)[0]
    return (scheme in ("http", "https") and bool(host) and iri.endswith("/")
            and not any(character in iri for character in "?#<> \"\\{}|^`"))


class SettingInfo(NamedTuple):
    """What the documentation says about one setting."""

    name: str
    default: Any
    env: str
    help: str


def describe_settings() -> list[SettingInfo]:
    """List (name, default, environment variable, help) for every setting, in declaration order."""
    return [
        SettingInfo(setting.name, setting.default, setting.metadata["env"], setting.metadata["help"])
        for setting in dataclasses.fields(Settings)
    ]


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the defaults, then the environment, then `overrides` (None = not given).

    Raises TypeError for an unknown setting name and ValueError for an invalid value.
    """
    settings = {setting.name: setting for setting in dataclasses.fields(Settings)}
    unknown = set(overrides) - set(settings)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, setting in settings.items():
        value = overrides.get(name)
        if value is None:
            # An empty variable counts as unset, as `VAR= lodpub ...` is a common way to clear one.
            value = os.environ.get(setting.metadata["env"]) or None
        if value is not None:
            values[name] = _coerce(setting, value)
    return Settings(**values)


def _coerce(setting: dataclasses.Field, value: Any) -> Any:
    """Convert a value from the environment or the command line to the setting's type."""
    if setting.type in (Path, Path | None):
        return Path(value)
    if setting.type in (int, float):
        return setting.type(value)
    if setting.type is bool and isinstance(value, str):
        return _yes_or_no(setting.metadata["env"], value)
    return value


def _yes_or_no(env: str, value: str) -> bool:
    """A switch as the environment gives it: 1/true/yes/on or 0/false/no/off (any case)."""
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{env} is a switch: give 1, true, yes or on, or 0, false, no or off, not {value!r}")
