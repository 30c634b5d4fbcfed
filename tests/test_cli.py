"""The `lodpub` command run as a real process: its output and exit codes."""

import os
import re
import shutil
import time

import pytest

from lodpub.cli import main


def break_the_data(mini):
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    bursa.write_text(
        bursa.read_text(encoding="utf-8").replace('dcterms:title "Dohoda o spolupráci"@cs , "Cooperation agreement"@en ;', ""),
        encoding="utf-8",
    )


def test_validate_passes_with_warnings(run_lodpub, mini_options):
    result = run_lodpub("validate", *mini_options)

    assert result.returncode == 0, result.stderr
    assert "Warning [shp:Record-description / dcterms:description] agr:bursa-2015: A record should have a description." in result.stdout
    assert result.stdout.splitlines()[-1] == "Summary: 0 Violation, 1 Warning, 0 Info; the dataset conforms."


def test_validate_speaks_czech_on_request(run_lodpub, mini_options):
    result = run_lodpub("validate", *mini_options, "--lang", "cs")

    assert result.returncode == 0, result.stderr
    assert "agr:bursa-2015: Záznam by měl mít popis." in result.stdout


def test_validate_fails_with_exit_code_1_on_violations(run_lodpub, mini_options, mini):
    break_the_data(mini)

    result = run_lodpub("validate", *mini_options)

    assert result.returncode == 1
    assert "bursa.ttl:" in result.stdout
    assert "Violation [shp:Record-title / dcterms:title] agr:bursa-2015: A record must have a title." in result.stdout


def test_syntax_error_gives_exit_code_2_and_a_location_without_traceback(run_lodpub, mini_options, mini):
    broken = mini / "data" / "broken.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "x" ex:c .\n', encoding="utf-8")

    result = run_lodpub("validate", *mini_options)

    assert result.returncode == 2
    assert result.stderr.startswith(f"{broken}:2:15: syntax error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["validate", "build"])
def test_an_iri_with_a_space_is_one_line_with_its_place_and_exit_code_2(run_lodpub, mini_options, mini, tmp_path,
                                                                        command):
    """It was a traceback of the pool, exit code 1, and no place in the file."""
    path = mini / "data" / "space.ttl"
    path.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b <https://example.org/a b> .\n", encoding="utf-8")
    output = ["--output", str(tmp_path / "dist")] if command == "build" else []

    result = run_lodpub(command, *mini_options, *output)

    assert result.returncode == 2
    assert result.stderr == (f"{path}:3:11: syntax error: the IRI <https://example.org/a b> contains a space, which no "
                             "IRI may contain. Remove that character, or write it as %20: <https://example.org/a%20b>.\n")
    assert result.stdout == ""
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_link_to_a_missing_file_fails_with_one_line_naming_it(run_lodpub, mini_options, mini, tmp_path, command):
    """It was skipped without a word, and the data published without the file."""
    link = mini / "data" / "partnerships" / "dresden.ttl"
    link.symlink_to(tmp_path / "share" / "dresden.ttl")
    output = ["--output", str(tmp_path / "dist")] if command == "build" else []

    result = run_lodpub(command, *mini_options, *output)

    assert result.returncode == 2
    assert result.stderr == (f"{link}: missing file: this is a link to {tmp_path / 'share' / 'dresden.ttl'}, which "
                             "does not exist. Restore that file (or correct the link), or delete the link if its data "
                             "is no longer to be published.\n")
    assert result.stdout == ""
    assert not (tmp_path / "dist").exists()


def test_a_file_saved_with_a_byte_order_mark_validates_as_without_it(run_lodpub, mini_options, mini):
    """It was "syntax error: expected directive or statement" at 1:1."""
    expected = run_lodpub("validate", *mini_options)
    for path in (mini / "data").rglob("*.ttl"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    result = run_lodpub("validate", *mini_options)

    assert (result.returncode, result.stdout, result.stderr) == (0, expected.stdout, "")


@pytest.mark.parametrize(("name", "content", "place"), [
    ("broken.nt", '<http://example.org/a> <http://example.org/b> "x" .\n<http://example.org/a> <http://example.org/b> .\n',
     "2:47"),
    ("space.nt", "<http://example.org/a> <http://example.org/b> <https://example.org/a b> .\n", "1:47"),
    ("broken.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                   '  <rdf:Description rdf:about="http://example.org/a">\n    <oops\n</rdf:RDF>\n', "5:1"),
    ("space.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                  'xmlns:ex="http://example.org/">\n  <rdf:Description rdf:about="https://example.org/a b">\n'
                  "    <ex:p>x</ex:p>\n  </rdf:Description>\n</rdf:RDF>\n", "3:31"),
    ("broken.jsonld", '{\n  "@id": "http://example.org/a",\n  "http://example.org/p": [1,\n}\n', "4:1"),
    ("space.jsonld", '{\n  "@id": "https://example.org/a b",\n  "http://example.org/p": "x"\n}\n', "2:11"),
])
def test_a_bad_file_in_any_format_is_one_line_with_its_place_and_exit_code_2(run_lodpub, mini_options, mini, name,
                                                                             content, place):
    path = mini / "data" / name
    path.write_text(content, encoding="utf-8")

    result = run_lodpub("validate", *mini_options)

    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:{place}: syntax error: ")
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n")
    assert result.stdout == ""


def test_an_invalid_date_is_reported_without_rdflib_logging_tracebacks(run_lodpub, project_settings, tmp_path):
    """rdflib logged four tracebacks ("Failed to convert Literal lexical form to value") before the report."""
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(getattr(project_settings, f"{part}_dir"), tmp_path / part)
    bursa = tmp_path / "data" / "partnerships" / "bursa.ttl"
    text = bursa.read_text(encoding="utf-8")
    assert '"2010-10-06"^^xsd:date' in text
    bursa.write_text(text.replace('"2010-10-06"^^xsd:date', '"2005-13-45"^^xsd:date', 1), encoding="utf-8")
    line = next(number for number, written in enumerate(bursa.read_text(encoding="utf-8").splitlines(), start=1)
                if written.startswith("t:2010-10-06"))

    result = run_lodpub("validate", *(f"--{part}={tmp_path / part}" for part in ("ontology", "data", "shapes")))

    assert result.returncode == 1
    assert result.stderr == ""
    assert (f'{bursa}:{line}: Violation [shp:Time-day / time:inXSDDate] t:2010-10-06: A day (time:inXSDDate) is one '
            'valid xsd:date, e.g. "2007-10-11"^^xsd:date. (value: "2005-13-45"^^xsd:date)') in result.stdout.splitlines()


def test_a_build_of_an_invalid_date_the_shapes_allow_says_nothing_of_it_on_stderr(run_lodpub, mini_options, mini,
                                                                                    tmp_path):
    bursa = mini / "data" / "partnerships" / "bursa.ttl"
    bursa.write_text(bursa.read_text(encoding="utf-8").replace('"2011-05-12"^^xsd:date', '"2005-13-45"^^xsd:date'),
                     encoding="utf-8")

    result = run_lodpub("build", *mini_options, "--output", str(tmp_path / "dist"))

    assert (result.returncode, result.stderr) == (0, "")


def test_bad_base_iri_is_a_usage_error(run_lodpub, mini_options):
    result = run_lodpub("validate", *mini_options, "--base-iri", "https://example.org/lod")

    assert result.returncode == 2
    assert "must end with '/'" in result.stderr


def test_environment_variables_are_settings_too(run_lodpub, mini_options):
    result = run_lodpub("validate", *mini_options, LODPUB_BASE_IRI="https://example.org/no-slash")

    assert result.returncode == 2
    assert "must end with '/'" in result.stderr


def test_missing_data_directory_is_an_error(run_lodpub, mini_options, tmp_path):
    result = run_lodpub("validate", *mini_options, "--data", str(tmp_path / "nowhere"))

    assert result.returncode == 2
    assert "nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_or_option_is_a_usage_error(run_lodpub):
    assert run_lodpub("publish").returncode == 2
    assert run_lodpub("validate", "--frobnicate").returncode == 2
    assert run_lodpub().returncode == 2


def test_build_prints_the_release_its_files_and_current(run_lodpub, mini_options, tmp_path):
    output = tmp_path / "dist"

    result = run_lodpub("build", *mini_options, "--output", str(output))

    assert result.returncode == 0, result.stderr
    version = os.readlink(output / "current").removeprefix("releases/")
    lines = result.stdout.splitlines()
    assert lines[0] == f"Release {version} written to {output / 'releases' / version}"
    table = [line.split() for line in lines if line.startswith("  ")]
    assert [row[0] for row in table] == sorted(path.name for path in (output / "releases" / version).glob("partnerships.*"))
    for name, size, digest in table:
        assert int(size) == (output / "releases" / version / name).stat().st_size
        assert re.fullmatch(r"[0-9a-f]{12}", digest)
    assert lines[-1] == f"{output / 'current'} -> releases/{version}"


def test_build_with_violations_exits_1_and_writes_nothing(run_lodpub, mini_options, mini, tmp_path):
    break_the_data(mini)
    output = tmp_path / "dist"

    result = run_lodpub("build", *mini_options, "--output", str(output))

    assert result.returncode == 1
    assert "A record must have a title." in result.stdout
    assert "nothing was written" in result.stderr
    assert not output.exists()


def test_main_returns_exit_codes_instead_of_exiting(capsys):
    assert main(["--help"]) == 0
    assert main(["validate", "--lang", "de"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# --- The real data, broken as in tests/fixtures/invalid/, through the command line -------------

from pathlib import Path  # noqa: E402

from rdflib import Graph  # noqa: E402

from lodpub.rdf_files import parse_rdf_file  # noqa: E402

CHECKOUT = Path(__file__).resolve().parent.parent
FIXTURES = CHECKOUT / "tests" / "fixtures" / "invalid"


def write_broken_copy(fixture: Path, project_dataset, target: Path) -> None:
    """Copy ontology/ and data/ into `target` with the fixture's change made in the files it touches.

    Removed triples leave the files that hold them; added ones go to the file that describes
    their subject. Files the fixture does not touch are copied byte for byte.
    """
    before = project_dataset.union()
    after = Graph()
    after += before
    after.update((FIXTURES / "prefixes.rq").read_text(encoding="utf-8") + fixture.read_text(encoding="utf-8"))
    removed, added = before - after, after - before
    for folder in ("ontology", "data"):
        for path in sorted((CHECKOUT / folder).rglob("*")):
            copy = target / path.relative_to(CHECKOUT)
            if path.is_dir():
                continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            graph = parse_rdf_file(path) if path.suffix == ".ttl" else None
            home = [t for t in added if project_dataset.index.location_of(t[0]).path == path]
            if graph is None or (not home and not any(t in graph for t in removed)):
                copy.write_bytes(path.read_bytes())
                continue
            graph -= removed
            for triple in home:
                graph.add(triple)
            copy.write_bytes(graph.serialize(format="turtle", encoding="utf-8"))


@pytest.mark.parametrize("name, file", [
    ("agreement-party", "data/partnerships/bursa.ttl"),
    ("time-value-day-for-month", "data/partnerships/valle-d-aosta.ttl"),
    ("signing-signatory-acts-for-party", "data/partnerships/bursa.ttl"),
    ("planned-meeting", "data/partnerships/bursa.ttl"),
    ("ontology-term-label-cs", "ontology/partnerships.ttl"),
])
def test_validate_names_file_line_rule_and_message_for_broken_real_data(
    name, file, project_dataset, run_lodpub, tmp_path
):
    fixture = FIXTURES / f"{name}.ru"
    write_broken_copy(fixture, project_dataset, tmp_path)
    rule, focus, path = re.search(r"^# expect: (\S+) (\S+) (\S+)", fixture.read_text(encoding="utf-8"), re.M).groups()

    results = {lang: run_lodpub("validate", "--ontology", str(tmp_path / "ontology"), "--data",
                                str(tmp_path / "data"), "--lang", lang) for lang in ("cs", "en")}

    for result in results.values():
        assert result.returncode == 1, result.stderr
        rule_text = f"[{rule} / {path}]" if path != "-" else f"[{rule}]"
        lines = [line for line in result.stdout.splitlines() if rule_text in line]
        assert lines, result.stdout
        file_and_line = re.fullmatch(re.escape(str(tmp_path / file)) + r":(\d+)", lines[0].split(": Violation")[0])
        assert file_and_line, lines[0]
        # the line is where the broken resource is written
        written = (tmp_path / file).read_text(encoding="utf-8").splitlines()[int(file_and_line.group(1)) - 1]
        assert written.startswith(focus), written
    assert results["cs"].stdout != results["en"].stdout


def test_build_says_where_the_data_came_from_and_that_the_server_keeps_its_release(lodpub, mini_options, tmp_path):
    output = tmp_path / "dist"
    assert lodpub("build", *mini_options, "--output", str(output)).returncode == 0
    (output / "served").symlink_to(os.readlink(output / "current"))
    served = os.readlink(output / "served").removeprefix("releases/")
    time.sleep(1.1)  # another second, another version

    result = lodpub("build", *mini_options, "--output", str(output))

    assert result.returncode == 0, result.stderr
    assert "Source commit: none (the data is not in a git checkout)" in result.stdout
    assert f"Release {served} is still served: 'lodpub reload' serves this one" in result.stdout
