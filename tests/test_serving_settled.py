"""What a worker works out once (serving/settled.py), and the access log written without logging's
records (wsgi._written_plainly): the same values and bytes as gunicorn's and logging's own way."""

import logging
import time
from email.utils import formatdate
from pathlib import Path

from gunicorn.config import Config
from gunicorn.glogging import Logger

from lodpub.serving.settled import SettledConfig, http_date
from lodpub.wsgi import _written_plainly


def test_a_settled_config_gives_every_setting_and_property_of_gunicorns():
    cfg = Config()
    cfg.set("keepalive", 7)
    settled = SettledConfig(cfg)
    for name in sorted(cfg.settings):
        assert getattr(settled, name) == getattr(cfg, name), name
    assert (settled.is_ssl, settled.address, settled.forwarded_allow_networks()) == \
        (cfg.is_ssl, cfg.address, cfg.forwarded_allow_networks())
    assert "keepalive" in vars(settled) and settled.keepalive == 7  # read once, then kept


def test_the_date_header_is_gunicorns_for_now_and_for_any_time():
    before = formatdate(time.time(), localtime=False, usegmt=True)
    made = http_date()
    after = formatdate(time.time(), localtime=False, usegmt=True)
    assert made in (before, after) and http_date() in (made, after)
    for timestamp in (0, 1e9, 1_800_000_000.75):
        assert http_date(timestamp) == formatdate(timestamp, localtime=False, usegmt=True)


def _access_log(path: Path, name: str) -> logging.Logger:
    """A logger set up as gunicorn sets up its access log on a file."""
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.INFO)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(Logger.access_fmt))
    log.addHandler(handler)
    return log


def test_access_log_lines_are_written_as_logging_writes_them(tmp_path):
    plain, logged = _access_log(tmp_path / "plain.log", "test.plain"), _access_log(tmp_path / "logged.log", "test.logged")
    lines = ['{"path": "/sparql", "query": "a\\u00e9"}', '{"status": 200}']
    for line in lines:
        assert _written_plainly(plain, line)
        logged.info(line)
    assert (tmp_path / "plain.log").read_bytes() == (tmp_path / "logged.log").read_bytes()


def test_an_access_log_set_up_otherwise_goes_through_logging(tmp_path):
    log = _access_log(tmp_path / "filtered.log", "test.filtered")
    log.handlers[0].addFilter(lambda record: "secret" not in record.getMessage())
    assert not _written_plainly(log, '{"secret": 1}')
    log.handlers[0].filters.clear()
    log.handlers[0].setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    assert not _written_plainly(log, "{}")
    log.propagate = True
    assert not _written_plainly(log, "{}")
    assert (tmp_path / "filtered.log").read_text() == ""
