"""What a worker works out once rather than per request: gunicorn's settings, and the Date header.

gunicorn reads a setting through `Config.__getattr__` (a lookup and a `get()` call) each time its
parser, its response or the worker asks, about thirty times a request; a worker's settings never change
while it runs (a reload starts new workers), so `SettledConfig` reads each once. The Date header
(`util.http_date`, through the email package's formatter) is made anew for each response; it changes
once a second, so the worker makes it once a second.
"""

import time
from email.utils import formatdate
from typing import Any

from gunicorn import util

_date: tuple[int, str] = (0, "")  # the second it is made for, and the header's value


class SettledConfig:
    """gunicorn's `Config` `cfg`, each setting (or property, or method) read from it once and kept."""

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._cfg, name)
        setattr(self, name, value)  # found in the instance from now on, without __getattr__
        return value


def http_date(timestamp: float | None = None) -> str:
    """gunicorn's util.http_date: the date and time as a header gives it, made once a second for now."""
    global _date
    if timestamp is not None:
        return formatdate(timestamp, localtime=False, usegmt=True)
    second = int(time.time())
    if _date[0] != second:
        _date = (second, formatdate(second, localtime=False, usegmt=True))
    return _date[1]


def settle_http_date() -> None:
    """Have gunicorn's responses in this process take their Date header from `http_date`."""
    util.http_date = http_date
