"""The `lodpub` command run as a real process: its output and exit codes."""

import os
import re

from server.cli import main


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
