"""Validation alone, side by side: lodpub's (pyshacl, as `lodpub validate` runs it) and Jena's SHACL
validator (Debian's libapache-jena-java) on the same data and the same shapes.

    python3 bench/jena.py --data /tmp/v6k/data --release /tmp/v6k/dist/current [--runs 3]

`--data` is a generated data folder (bench/generate.py), `--release` a release built from it (its
`partnerships.nt` holds the ontology, vocabularies and data: what lodpub validates). The two run in turn
(Jena, lodpub, Jena, ...), so that a machine shared with others loads both alike. Prints, and writes
to bench/results/results-validation-<triples>.json, wall time, CPU time (user + system) and peak memory
(GNU time) of each, the ratios, and how many results of each severity each reports.

Two things make Debian's Jena 4.5.0 run here:
- its jena-core.jar moved the Xerces classes it bundles to package `xerces.*` but left their message
  files under `org/apache/jena/ext/xerces/`; without them every XSD datatype fails at class
  initialisation ("internal error"). They are copied beside the classes' package, into a folder put
  first on the class path;
- Jena 4.5 refuses a SPARQL constraint with more than one `sh:message` (ours have cs and en): Jena is
  given the shapes with the English message only. Messages do not change what is checked.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
JARS = Path("/usr/share/java")
# Jena's jars and what they need, by name (a name without a version is Debian's link to the current jar).
CLASS_PATH = ("jena-arq jena-base jena-cmds jena-core jena-dboe-base jena-dboe-index jena-dboe-storage "
              "jena-dboe-trans-data jena-dboe-transaction jena-iri jena-rdfconnection jena-shacl jena-shex jena-tdb "
              "commons-cli commons-codec commons-compress commons-csv commons-io commons-lang3 dexx.collection gson "
              "guava httpclient httpcore jackson-core jackson-databind jackson-annotations jsonld-java protobuf thrift "
              "slf4j-api slf4j-simple titanium-json-ld jakarta.json-api").split()
MESSAGES = re.compile(r"org/apache/jena/ext/(xerces/.*\.properties)")


def jena_class_path(folder: Path) -> str:
    """The class path: the Xerces message files, copied to where the classes look, then the jars."""
    with zipfile.ZipFile(JARS / "jena-core.jar") as core:
        for name in core.namelist():
            if match := MESSAGES.fullmatch(name):
                (folder / match.group(1)).parent.mkdir(parents=True, exist_ok=True)
                (folder / match.group(1)).write_bytes(core.read(name))
    jars = [JARS / f"{name}.jar" if (JARS / f"{name}.jar").exists() else sorted(JARS.glob(f"{name}*.jar"))[0]
            for name in CLASS_PATH]
    return ":".join([str(folder), *map(str, jars)])


def shapes_for_jena(data: Path, folder: Path) -> Path:
    """Our shapes (as `lodpub validate` loads them) in one Turtle file, one sh:message per subject."""
    from rdflib.namespace import SH

    from lodpub.config import load_settings
    from lodpub.validate import load_shapes

    shapes = load_shapes(load_settings(data_dir=data))
    for subject in set(shapes.subjects(SH.message)):
        messages = sorted(shapes.objects(subject, SH.message), key=lambda m: getattr(m, "language", None) != "en")
        for message in messages[1:]:  # the English one first, kept
            shapes.remove((subject, SH.message, message))
    path = folder / "shapes.ttl"
    shapes.serialize(path, format="turtle")
    return path


def timed(command: list[str], **options) -> tuple[float, float, str, float]:
    """Wall seconds, peak MB, standard output and CPU seconds (user + system) of `command` under GNU time."""
    finished = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", *command], capture_output=True, text=True,
                              **options)
    seconds, kilobytes, user, system = finished.stderr.strip().splitlines()[-1].split()
    if finished.returncode not in (0, 1):  # lodpub validate exits 1 on violations
        raise RuntimeError(finished.stderr[-2000:])
    return float(seconds), int(kilobytes) / 1024, finished.stdout, float(user) + float(system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--release", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=1, help="runs of each (the median is reported)")
    args = parser.parse_args()
    triples = json.loads((args.release / "manifest.json").read_text())["triples"]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        class_path, shapes = jena_class_path(folder / "classes"), shapes_for_jena(args.data, folder)
        jena, ours = [], []
        for _ in range(args.runs):
            jena.append(timed(["java", "-Xmx8g", "-cp", class_path, "shacl.shacl_validate", "--shapes", str(shapes),
                               "--data", str(args.release / "partnerships.nt")]))
            ours.append(timed([sys.executable, "-m", "lodpub.cli", "validate", "--data", str(args.data)], cwd=CHECKOUT))
    result = {
        "triples": triples,
        "jena": {"seconds": statistics.median(r[0] for r in jena), "peak_mb": max(r[1] for r in jena),
                 "cpu_seconds": statistics.median(r[3] for r in jena), "runs": [r[0] for r in jena],
                 "results": {level: jena[-1][2].count(f"sh:{level}") for level in ("Violation", "Warning", "Info")}},
        "lodpub": {"seconds": statistics.median(r[0] for r in ours), "peak_mb": max(r[1] for r in ours),
                   "cpu_seconds": statistics.median(r[3] for r in ours), "runs": [r[0] for r in ours],
                   "summary": ours[-1][2].strip().splitlines()[-1]},
    }
    result["ratio"] = round(result["lodpub"]["seconds"] / result["jena"]["seconds"], 2)
    result["cpu_ratio"] = round(result["lodpub"]["cpu_seconds"] / result["jena"]["cpu_seconds"], 2)
    out = CHECKOUT / "bench" / "results" / f"results-validation-{triples}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
