"""README.md is the front door: its Quick start (two commands, the first one works as written) and its
links to the docs by audience; the docs' links resolve, and they describe every command of `lodpub`."""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import CHECKOUT, wait_until_up

README = CHECKOUT / "README.md"
DOCS = CHECKOUT / "docs"
AUDIENCE_PAGES = ["consumers.md", "operators.md", "editors.cs.md", "editors.en.md", "developers.md"]
FENCED_BLOCK = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def quick_start_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_quick_start_has_exactly_two_commands_the_second_running_the_tests():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "pytest" in commands[1] and "[test]" in commands[1]


def test_ci_runs_the_readmes_test_command():
    ci = (CHECKOUT / ".ci" / "run").read_text(encoding="utf-8")
    assert "README.md" in ci and "commands[1]" in ci and 'eval "$test_command"' in ci


@pytest.mark.served
def test_the_first_command_installs_and_starts_the_publisher_on_port_5000(tmp_path: Path):
    """Run it word for word, with the release built into a temporary folder; it must answer on
    http://127.0.0.1:5000/ (on the embedded store) until stopped. Its `python3` is a fresh virtual
    environment's (seeing the packages installed here): reinstalling lodpub in the one the other
    tests run would leave it missing for a moment, under their feet."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment |= {"PATH": str(venv / "bin") + os.pathsep + os.environ["PATH"], "LODPUB_OUTPUT_DIR": str(tmp_path / "dist")}
    log = tmp_path / "quick-start.log"
    with open(log, "w") as output:
        process = subprocess.Popen(quick_start_commands()[0], shell=True, cwd=CHECKOUT, env=environment,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up("http://127.0.0.1:5000/health", process, log, seconds=600)
        with urllib.request.urlopen("http://127.0.0.1:5000/", timeout=30) as home:
            assert home.status == 200 and "Liberec" in home.read().decode("utf-8")
        health = json.loads(urllib.request.urlopen("http://127.0.0.1:5000/health", timeout=30).read())
        assert health["version"] == os.readlink(tmp_path / "dist" / "current").split("/")[-1]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def test_the_readme_stays_a_short_front_door_that_links_every_audience_page():
    readme = README.read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 120
    linked = set(relative_links(README))
    for page in AUDIENCE_PAGES:
        assert f"docs/{page}" in linked, page
    assert "docs/img/home.png" in linked


def test_the_screenshot_is_a_small_png():
    screenshot = DOCS / "img" / "home.png"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size < 200_000


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def relative_links(page: Path) -> list[str]:
    """The targets of the page's links and images that are not URLs, outside fenced code blocks."""
    text = FENCED_BLOCK.sub("", page.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces to hyphens,
    a repeated one numbered."""
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", FENCED_BLOCK.sub("", page.read_text(encoding="utf-8")), re.M):
        text = re.sub(r"[`*]|\[([^]]*)\]\([^)]*\)", lambda match: match.group(1) or "", heading)
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        result.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return result


def test_anchors_are_made_as_github_makes_them(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text("# The catalogue for NKOD (DCAT-AP-CZ)\n## `lodpub` and you\n## Přidání partnerství\n"
                    "## Notes\n## Notes\n```\n# not a heading\n```\n", encoding="utf-8")
    assert anchors(page) == {"the-catalogue-for-nkod-dcat-ap-cz", "lodpub-and-you", "přidání-partnerství",
                             "notes", "notes-1"}


@pytest.mark.parametrize("page", markdown_files(), ids=lambda page: page.name)
def test_every_relative_link_points_at_an_existing_file_and_anchor(page: Path):
    links = relative_links(page)
    assert links, f"{page.name} links nowhere"
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link} leads to no file"
        if anchor:
            assert anchor in anchors(target), f"{page.name}: {link} leads to no heading of {target.name}"


def lodpub_help(*command: str) -> str:
    result = subprocess.run([sys.executable, "-m", "lodpub.cli", *command, "--help"], cwd=CHECKOUT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def lodpub_commands() -> list[str]:
    return re.findall(r"^    ([a-z]+) ", lodpub_help(), re.M)


def test_the_docs_describe_every_command_and_option_of_lodpub():
    docs = "\n".join(page.read_text(encoding="utf-8") for page in markdown_files())
    commands = lodpub_commands()
    assert {"validate", "build", "serve", "publish", "releases", "reload", "rollback"} <= set(commands)
    for command in commands:
        assert f"lodpub {command}" in docs, command
        for option in set(re.findall(r"(--[a-z][a-z-]+)", lodpub_help(command))) - {"--help"}:
            assert re.search(rf"{option}\b", docs), f"lodpub {command} {option}"
