"""A private, throwaway Virtuoso open source (Debian's `virtuoso-opensource`, see .ci/run) for tests.

Each instance gets a temporary folder with its own database and a copy of the packaged virtuoso.ini,
adapted: both listeners (SQL and HTTP) on 127.0.0.1 at free ports, and a row limit above anything
the tests ask for. Virtuoso's default `ResultSetMaxRows` (10 000) cuts every answer at that many
rows, silently for CONSTRUCT, so a store that lodpub serves from needs it above the largest
document and above LODPUB_SPARQL_MAX_ROWS.

Updates need the `dba` login (HTTP digest at /sparql-auth and /sparql-graph-crud-auth; `dba` holds
SPARQL_UPDATE already); the instance gets a password of its own before it first listens.
"""

import configparser
import contextlib
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from served import RemoteStoreServer, free_port, wait_until_up
from tiers import entering

# Where Debian's virtuoso-opensource-7 puts its configuration (the second is the pristine copy).
PACKAGED_INI = (Path("/etc/virtuoso-opensource-7/virtuoso.ini"), Path("/usr/share/virtuoso-opensource-7/virtuoso.ini"))
USER = "dba"
FACTORY_PASSWORD = "dba"  # what a new database starts with
ROW_LIMIT = 1_000_000


def virtuoso_binary() -> str:
    """The path of virtuoso-t; RuntimeError, saying how to install it, when it is missing."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        raise RuntimeError("virtuoso-t not found: apt-get install virtuoso-opensource (as .ci/run does)")
    return binary


def write_ini(folder: Path, sql_port: int, http_port: int) -> Path:
    """A virtuoso.ini in `folder` for a database kept in `folder`, listening on loopback only."""
    packaged = next((path for path in PACKAGED_INI if path.is_file()), None)
    if packaged is None:
        raise RuntimeError(f"no virtuoso.ini at {' or '.join(map(str, PACKAGED_INI))}")
    # The packaged file repeats some keys and comments after values with ';'.
    ini = configparser.ConfigParser(strict=False, inline_comment_prefixes=(";",), interpolation=None)
    ini.optionxform = str  # Virtuoso's keys are case-sensitive
    ini.read(packaged)
    for section, keys in {"Database": ("DatabaseFile", "ErrorLogFile", "LockFile", "TransactionFile",
                                       "xa_persistent_file"),
                          "TempDatabase": ("DatabaseFile", "TransactionFile")}.items():
        for key in keys:
            ini[section][key] = str(folder / Path(ini[section][key]).name)
    ini["Parameters"]["ServerPort"] = f"127.0.0.1:{sql_port}"
    ini["HTTPServer"]["ServerPort"] = f"127.0.0.1:{http_port}"
    ini["SPARQL"]["ResultSetMaxRows"] = str(ROW_LIMIT)
    path = folder / "virtuoso.ini"
    with open(path, "w", encoding="utf-8") as file:
        ini.write(file)
    return path


def set_password(ini: Path, password: str, log: Path) -> None:
    """Create the database of `ini` with `password` for dba: Virtuoso, given +pwddba, changes the
    password and exits without listening."""
    with open(log, "a") as log_file:
        subprocess.run([virtuoso_binary(), "+foreground", "+configfile", str(ini),
                        "+pwdold", FACTORY_PASSWORD, "+pwddba", password],
                       stdout=log_file, stderr=subprocess.STDOUT, check=True, timeout=120)


@contextlib.contextmanager
def running_virtuoso(log_dir: Path) -> Iterator[RemoteStoreServer]:
    """Virtuoso on loopback with an empty database, removed afterwards; its log goes to `log_dir`.
    The store's endpoints are those lodpub reads from (/sparql) and updates through (as dba)."""
    entering("stores", "Virtuoso")
    http_port = sql_port = free_port()
    while sql_port == http_port:
        sql_port = free_port()
    log = log_dir / f"virtuoso-{http_port}.log"
    password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="virtuoso-") as folder:
        ini = write_ini(Path(folder), sql_port, http_port)
        set_password(ini, password, log)
        with open(log, "a") as log_file:
            process = subprocess.Popen([virtuoso_binary(), "+foreground", "+configfile", str(ini)],
                                       cwd=folder, stdout=log_file, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{http_port}/"
        try:
            wait_until_up(base + "sparql?query=ASK%7B%7D", process, log)
            yield RemoteStoreServer(base + "sparql", base + "sparql-auth", base + "sparql-graph-crud-auth",
                                    user=USER, password=password, auth="digest")
        finally:
            process.terminate()
            process.wait(timeout=60)
