"""Generate synthetic partnership data, shaped like data/, for benchmarks.

    python3 bench/generate.py --agreements 10000 --out /tmp/bench-10k [--seed 1]

The output folder is a data folder that `lodpub validate --data DIR` (and build and serve) accept
with the project's own ontology and shapes:

    DIR/liberec-region.ttl, DIR/authorities/, ...      copied unchanged from the real data folder:
                                                        every RDF file except partnerships/,
                                                        catalogue/ and provenance.ttl (the home
                                                        region, its offices, its organs, the source
                                                        page, the countries; in authorities/, the
                                                        register entries and links, which go to the
                                                        authorities graph: those of the real
                                                        partners come along, unused)
    DIR/synthetic-shared.ttl                            the synthetic source, the data graph's
                                                        provenance, the countries the
                                                        copied files lack, the home region's
                                                        synthetic office holders and the Czech
                                                        embassies
    DIR/partnerships/NNN/synthetic-region-NNNNN.ttl     one file per partnership of the Liberec
                                                        Region (with its town partnership, if any)
    DIR/generation.json                                 what was generated: seed, counts, triples

Every partnership is between the real Liberec Region and a synthetic partner, so the competency
queries find it. Everything generated is named `synthetic-...` and labelled as synthetic; the data
graph is derived from one resource, `id/source/synthetic-benchmark-data`, which says that it is
generated benchmark data and not facts (and from the Region's page, for the copied files). The files are written as Turtle text directly (no rdflib graph), one
partnership at a time, so that 100k agreements take minutes and little memory; the same seed
gives byte-identical files.

How many partnerships: each partnership of the Liberec Region has one agreement; some have a
renewed second agreement, and some have a precursor town partnership with its own agreement. The
agreements add up to exactly --agreements; generation.json says how many partnerships that made.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import NamedTuple

from rdflib import Graph, URIRef

CHECKOUT = Path(__file__).resolve().parent.parent
from lodpub.editing.times import day_interval_labels, day_labels, half_year_labels, month_labels  # noqa: E402
from lodpub.namespaces import PREFIXES as NAMESPACES  # noqa: E402 (lodpub installed: pip install -e .)

COUNTRY_TABLE = "http://publications.europa.eu/resource/authority/country"

# What the real data folder holds besides the partnerships; catalogue/ is the catalogue record.
NOT_SHARED = ("partnerships", "catalogue", "provenance.ttl")
RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".rdf": "xml", ".owl": "xml"}

# The project's prefix table: the generated Turtle uses its prefixes, like data/ does.
PREFIXES = NAMESPACES


SOURCE = "src:synthetic-benchmark-data"
GENERATOR = "src:synthetic-benchmark-generator"
DATA_GRAPH = "https://data.kraj-lbc.cz/partnerships/graph/data"
HOME = "reg:liberec-region"

# What the copied files must describe, because the generated data refers to it.
HOME_RESOURCES = (
    HOME, "post:liberec-region-head", "post:liberec-region-deputy-head",
    "post:liberec-region-statutory-deputy-head", "post:liberec-region-council-member",
    "orgn:liberec-region-council", "orgn:liberec-region-press-department", "orgn:liberec-region-entrepreneurs",
)

FIRST_YEAR, LAST_DAY = 2001, date(2024, 12, 31)
PARTNERSHIPS_PER_FOLDER = 1000
RENEWAL_SHARE = 0.15    # partnerships with a second, renewed agreement
PRECURSOR_SHARE = 0.25  # partnerships that grew out of a town partnership


# =============================================================================================
# Turtle text
# =============================================================================================

UNKNOWN_TERM = "[ a time:Instant ; rp:precision prec:unknown"  # how an inline unknown time begins


def inline_triples(term: str) -> int:
    """How many triples an inline unknown time holds (its type, precision and order), 0 for another term."""
    return term.count(" ; ") + 1 if term.startswith(UNKNOWN_TERM) else 0


def lit(text: str, lang: str | None = None) -> str:
    """A Turtle string literal, with a language tag if given."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def typed(value: str, datatype: str) -> str:
    """A Turtle literal of `datatype` (a prefixed name)."""
    return f'"{value}"^^{datatype}'


def labels(cs: str, en: str) -> list[str]:
    """A Czech and an English literal, in that order."""
    return [lit(cs, "cs"), lit(en, "en")]


@dataclass
class Block:
    """The description of one subject: its types and (predicate, objects) pairs, objects as Turtle terms."""

    subject: str
    types: list[str]
    properties: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, predicate: str, *objects: str) -> Block:
        """Add `predicate` with `objects` (none: nothing is added); return the block."""
        if objects:
            self.properties.append((predicate, list(objects)))
        return self

    def triples(self) -> int:
        """How many triples the block holds, those of an inline unknown time included."""
        objects = [obj for _, values in self.properties for obj in values]
        return len(self.types) + len(objects) + sum(inline_triples(obj) for obj in objects)

    def render(self) -> str:
        """The block as Turtle: the subject, then one predicate a line."""
        lines = [f"    a {' , '.join(self.types)}"] if self.types else []
        lines += [f"    {predicate} {' , '.join(objects)}" for predicate, objects in self.properties]
        return f"{self.subject}\n" + " ;\n".join(lines) + " .\n"


def prefix_header() -> str:
    """The @prefix lines every generated file starts with."""
    return "".join(f"@prefix {prefix + ':':<9}<{namespace}> .\n" for prefix, namespace in PREFIXES.items())


# =============================================================================================
# Times at a precision, written the way data/ writes them
# =============================================================================================

# The labels are the editor's (server/editing/times.py), so that a generated time is labelled as data/ labels it.


@dataclass(frozen=True)
class Time:
    """A time as an event or a status period refers to it, with the blocks that describe it.

    `term` is what follows time:hasTime; `cs` and `en` are how a text names it; `blocks` describe
    the time and the instants it is made of (none for an unknown time, which is a blank node).
    """

    term: str
    precision: str
    cs: str
    en: str
    blocks: tuple[Block, ...] = ()


def unknown_time(near: date) -> Time:
    """A time the source does not give, placed as the source would place it: after the month before
    `near` (time:after), so that a chronology can place it (shp:Time-unknown-ordered)."""
    earlier = near.replace(day=1) - timedelta(days=1)
    month = month_time(earlier.year, earlier.month)
    return Time(f"{UNKNOWN_TERM} ; time:after {month.term} ]", "unknown", "datum neuvedeno", "date not given",
                month.blocks)


def day_time(day: date) -> Time:
    """A day: `t:2011-11-01` with time:inXSDDate."""
    cs, en = day_labels(day)
    block = Block(f"t:{day.isoformat()}", ["time:Instant"]).add("rp:precision", "prec:day")
    block.add("time:inXSDDate", typed(day.isoformat(), "xsd:date")).add("rdfs:label", *labels(cs, en))
    return Time(block.subject, "day", cs, en, (block,))


def month_time(year: int, month: int) -> Time:
    """A month: `t:2005-04` with time:inXSDgYearMonth, never a day of it."""
    value = f"{year:04d}-{month:02d}"
    cs, en = month_labels(year, month)
    block = Block(f"t:{value}", ["time:Instant"]).add("rp:precision", "prec:month")
    block.add("time:inXSDgYearMonth", typed(value, "xsd:gYearMonth")).add("rdfs:label", *labels(cs, en))
    return Time(block.subject, "month", cs, en, (block,))


def half_year_time(year: int, half: int) -> Time:
    """A half-year: `t:2011-H1`, an interval from its first month to its last."""
    first, last = month_time(year, 6 * half - 5), month_time(year, 6 * half)
    cs, en = half_year_labels(year, half)
    block = Block(f"t:{year}-H{half}", ["time:ProperInterval"]).add("rp:precision", "prec:half-year")
    block.add("time:hasBeginning", first.term).add("time:hasEnd", last.term).add("rdfs:label", *labels(cs, en))
    return Time(block.subject, "half-year", cs, en, (block, *first.blocks, *last.blocks))


def day_interval_time(first: date, last: date) -> Time:
    """An interval of days: `t:2011-10-31--2011-11-01`, from one day to another."""
    start, end = day_time(first), day_time(last)
    cs, en = day_interval_labels(first, last)
    block = Block(f"t:{first.isoformat()}--{last.isoformat()}", ["time:ProperInterval"])
    block.add("rp:precision", "prec:day-interval").add("time:hasBeginning", start.term).add("time:hasEnd", end.term)
    block.add("rdfs:label", *labels(cs, en))
    return Time(block.subject, "day-interval", cs, en, (block, *start.blocks, *end.blocks))


def time_at(precision: str, when: date, rng: Random) -> Time:
    """The time `when` as a source might give it, at `precision`."""
    if precision == "day":
        return day_time(when)
    if precision == "month":
        return month_time(when.year, when.month)
    if precision == "half-year":
        return half_year_time(when.year, 1 if when.month <= 6 else 2)
    if precision == "day-interval":
        return day_interval_time(when, when + timedelta(days=rng.randint(1, 4)))
    return unknown_time(when)


# =============================================================================================
# What partners look like: countries and kinds of territorial body
# =============================================================================================


@dataclass(frozen=True)
class Country:
    """An entry of the EU country table: its code, ISO 3166-1 alpha-2 code, names, and the usual
    kind of its regions (a key of BODY_KINDS)."""

    code: str
    alpha2: str
    cs: str
    en: str
    body_kind: str


COUNTRIES = (
    Country("DEU", "DE", "Německo", "Germany", "region"),
    Country("POL", "PL", "Polsko", "Poland", "region"),
    Country("SVK", "SK", "Slovensko", "Slovakia", "region"),
    Country("AUT", "AT", "Rakousko", "Austria", "region"),
    Country("FRA", "FR", "Francie", "France", "region"),
    Country("ITA", "IT", "Itálie", "Italy", "autonomous-region"),
    Country("ESP", "ES", "Španělsko", "Spain", "autonomous-region"),
    Country("PRT", "PT", "Portugalsko", "Portugal", "region"),
    Country("NLD", "NL", "Nizozemsko", "Netherlands", "province"),
    Country("BEL", "BE", "Belgie", "Belgium", "province"),
    Country("DNK", "DK", "Dánsko", "Denmark", "region"),
    Country("SWE", "SE", "Švédsko", "Sweden", "region"),
    Country("NOR", "NO", "Norsko", "Norway", "region"),
    Country("FIN", "FI", "Finsko", "Finland", "region"),
    Country("HUN", "HU", "Maďarsko", "Hungary", "region"),
    Country("SVN", "SI", "Slovinsko", "Slovenia", "region"),
    Country("HRV", "HR", "Chorvatsko", "Croatia", "region"),
    Country("ROU", "RO", "Rumunsko", "Romania", "region"),
    Country("BGR", "BG", "Bulharsko", "Bulgaria", "province"),
    Country("GRC", "GR", "Řecko", "Greece", "region"),
    Country("LTU", "LT", "Litva", "Lithuania", "region"),
    Country("UKR", "UA", "Ukrajina", "Ukraine", "oblast"),
    Country("RUS", "RU", "Rusko", "Russia", "oblast"),
    Country("KAZ", "KZ", "Kazachstán", "Kazakhstan", "oblast"),
    Country("TUR", "TR", "Turecko", "Turkey", "province"),
    Country("VNM", "VN", "Vietnam", "Vietnam", "province"),
    Country("CHN", "CN", "Čína", "China", "province"),
    Country("JPN", "JP", "Japonsko", "Japan", "province"),
    Country("CAN", "CA", "Kanada", "Canada", "province"),
    Country("BRA", "BR", "Brazílie", "Brazil", "region"),
)
CZECHIA = Country("CZE", "CZ", "Česko", "Czechia", "region")


@dataclass(frozen=True)
class BodyKind:
    """How a synthetic body of one kind is named (cs nominative, genitive, instrumental; en) and
    what its head's office is called."""

    cs: str
    cs_genitive: str
    cs_instrumental: str
    en: str
    head_office: str
    head_cs: str
    head_en: str


BODY_KINDS = {
    "region": BodyKind("Syntetický kraj", "syntetického kraje", "syntetickým krajem", "Synthetic Region",
                       "head-of-region", "Hejtman", "Head"),
    "autonomous-region": BodyKind("Syntetický autonomní region", "syntetického autonomního regionu",
                                  "syntetickým autonomním regionem", "Synthetic Autonomous Region",
                                  "region-president", "Prezident", "President"),
    "oblast": BodyKind("Syntetická oblast", "syntetické oblasti", "syntetickou oblastí", "Synthetic Oblast",
                       "head-of-region", "Gubernátor", "Governor"),
    "province": BodyKind("Syntetická provincie", "syntetické provincie", "syntetickou provincií",
                         "Synthetic Province", "provincial-governor", "Guvernér", "Governor"),
}

AREAS = ("structural-funds", "interreg", "pre-accession-funds", "tourism", "euroregion-experience",
         "regional-economy", "heritage-care", "archaeology", "culture", "education", "youth",
         "physical-education-and-sport", "palliative-and-hospice-care", "environment",
         "textiles-and-nanofibres", "spa")

# What kind of agreement: (kind, cs title start, en title start, cs label start, en label start)
AGREEMENT_KINDS = (
    ("cooperation-agreement",
     "Dohoda o spolupráci mezi Libereckým krajem a", "Cooperation Agreement between the Liberec Region and",
     "Dohoda o spolupráci se", "Cooperation agreement with"),
    ("memorandum",
     "Memorandum o spolupráci mezi Libereckým krajem a", "Memorandum of Cooperation between the Liberec Region and",
     "Memorandum o spolupráci se", "Memorandum of cooperation with"),
    ("agreement",
     "Dohoda o regionální spolupráci mezi Libereckým krajem a",
     "Agreement on Regional Cooperation between the Liberec Region and",
     "Dohoda o regionální spolupráci se", "Agreement on regional cooperation with"),
)

# The Liberec Region's terms of office start in these years; each has its own office holders.
HOME_TERMS = (2000, 2004, 2008, 2012, 2016, 2020, 2024)
HOME_OFFICES = (  # (number, cs, en); the posts are those of liberec-region.ttl
    (1, "hejtman", "Governor"),
    (2, "náměstek hejtmana", "Deputy Governor"),
    (3, "statutární náměstek hejtmana", "Statutory Deputy Governor"),
    (4, "člen rady kraje", "member of the Regional Council"),
)


def home_person(when: date, office: int) -> str:
    """The synthetic holder of the home office number `office` (see HOME_OFFICES) on `when`."""
    term = max(year for year in HOME_TERMS if year <= when.year)
    return f"person:synthetic-person-l{term}-{office}"


def person_name(code: str) -> str:
    """The name of a synthetic person: it says it is synthetic."""
    return f"Synthetic Person {code.upper()}"


def embassy(country: Country) -> str:
    """The synthetic Czech embassy in `country`."""
    return f"orgn:synthetic-embassy-{country.code.lower()}"


def iso_code(country: Country, number: int) -> str:
    """A code in the form of ISO 3166-2 for the synthetic region `number`.

    No ISO 3166-2 code has "Q" and a digit after the hyphen (checked against Debian's iso-codes),
    so a synthetic code cannot be mistaken for a real one; the codes repeat every 360 regions.
    """
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    index = number % 360
    return f"{country.alpha2}-Q{index // 36}{digits[index % 36]}"


# =============================================================================================
# A file of blocks
# =============================================================================================


@dataclass
class Counts:
    """What was written: resources by class, and triples (written, and distinct once loaded)."""

    agreements: int = 0
    partnerships: int = 0
    town_partnerships: int = 0
    files: int = 0
    triples_written: int = 0
    unique_triples: int = 0
    time_triples: dict[str, int] = field(default_factory=dict)

    @property
    def triples(self) -> int:
        """Distinct triples the generated files hold (times are described in every file that uses them)."""
        return self.unique_triples + sum(self.time_triples.values())


class TurtleFile:
    """The blocks of one output file, in sections, plus the times they use (described once at the end)."""

    def __init__(self, title: str) -> None:
        self.parts: list[str] = [f"# {title}\n# Synthetic benchmark data written by bench/generate.py: not facts.\n\n",
                                 prefix_header()]
        self.times: dict[str, Block] = {}
        self.names: set[str] = set()
        self.triples = 0

    def section(self, title: str) -> None:
        """Start a section, headed like those of data/."""
        self.parts.append(f"\n# {'-' * 93}\n# {title}\n# {'-' * 93}\n")

    def add(self, block: Block) -> Block:
        """Write `block` (its subject must be new in this file); return it."""
        self.parts.append("\n" + block.render())
        self.triples += block.triples()
        return block

    def use(self, when: Time) -> str:
        """Remember that `when` is used; return the term that refers to it."""
        for block in when.blocks:
            self.times.setdefault(block.subject, block)
        return when.term

    def unique(self, name: str) -> str:
        """`name` (a prefixed name), or `name-2`, `name-3`... if this file already gave it out."""
        candidate, number = name, 1
        while candidate in self.names:
            number += 1
            candidate = f"{name}-{number}"
        self.names.add(candidate)
        return candidate

    def write(self, path: Path, counts: Counts) -> None:
        """Write the file, its times last, and add what it holds to `counts`."""
        parts = list(self.parts)
        if self.times:
            parts.append(f"\n# {'-' * 93}\n# Times, at their precision\n# {'-' * 93}\n")
            parts += ["\n" + self.times[subject].render() for subject in sorted(self.times)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(parts), encoding="utf-8")
        time_triples = {subject: block.triples() for subject, block in self.times.items()}
        counts.files += 1
        counts.unique_triples += self.triples
        counts.triples_written += self.triples + sum(time_triples.values())
        counts.time_triples.update(time_triples)


def resource(subject: str, types: Iterable[str], cs: str, en: str) -> Block:
    """A block for a resource labelled in Czech and English."""
    return Block(subject, list(types)).add("rdfs:label", *labels(cs, en))


# =============================================================================================
# The plan: how the agreements are shared among partnerships
# =============================================================================================


@dataclass(frozen=True)
class PartnershipPlan:
    """One partnership of the Liberec Region: its number, whether it has a renewed second
    agreement and a precursor town partnership, and whether it shows every pattern (the first)."""

    number: int
    renewal: bool
    precursor: bool
    showcase: bool

    @property
    def agreements(self) -> int:
        """The agreements this plan writes, the town partnership's included."""
        return 1 + self.renewal + self.precursor


def plan_partnerships(agreements: int, seed: int) -> list[PartnershipPlan]:
    """Share exactly `agreements` agreements among partnerships; the first one has everything it can."""
    rng = Random(f"{seed}/plan")
    plans: list[PartnershipPlan] = []
    remaining = agreements
    while remaining > 0:
        showcase = not plans
        renewal = remaining > 1 and (showcase or rng.random() < RENEWAL_SHARE)
        precursor = remaining > 1 + renewal and (showcase or rng.random() < PRECURSOR_SHARE)
        plan = PartnershipPlan(len(plans) + 1, renewal, precursor, showcase)
        plans.append(plan)
        remaining -= plan.agreements
    return plans


# =============================================================================================
# One partnership of the Liberec Region
# =============================================================================================

# The statuses of ontology/vocabularies/statuses.ttl, in Czech and English (as the period labels write them).
STATUSES = {"signed": ("podepsáno", "signed"), "signed-and-initialled": ("podepsáno a parafováno", "signed and initialled"),
            "stagnating": ("stagnuje", "stagnating"), "ended": ("ukončeno", "ended"),
            "notice-given": ("výpověď dána", "notice given")}
OUTSIDE_REASON = ("Z důvodu vnější události (syntetická data)", "Because of an outside event (synthetic data)")
POLICY_REASON = ("Partner uplatňuje jinou zahraniční politiku (syntetická data)",
                 "The partner pursues a different foreign policy (synthetic data)")


class Part(NamedTuple):
    """A participation in an event: its name suffix, role, labels and who took part, as far as known."""

    suffix: str
    role: str
    cs: str
    en: str
    agent: str | None = None
    post: str | None = None
    acted_for: str | None = None
    on_behalf_of: str | None = None


class PartnershipWriter:
    """Writes the file of one partnership: partner, agreements, people, events and status over time.

    Each kind of thing has its own method; `write` decides, with the partnership's own random
    generator, which of them happen and when, in the order of a real file. The showcase (the
    first partnership) has every kind of event and every date precision.
    """

    def __init__(self, plan: PartnershipPlan, seed: int, counts: Counts) -> None:
        self.plan = plan
        self.counts = counts
        self.rng = Random(f"{seed}/partnership/{plan.number}")
        self.code = f"{plan.number:05d}"
        self.name = f"synthetic-region-{self.code}"
        self.country = self.rng.choice(COUNTRIES)
        self.kind_key = self.country.body_kind if self.rng.random() < 0.8 else self.rng.choice(sorted(BODY_KINDS))
        self.kind = BODY_KINDS[self.kind_key]
        self.partner = f"reg:{self.name}"
        self.partnership = f"ptn:{self.name}"
        self.head_post = f"post:{self.name}-head"
        self.head: str | None = None  # the partner's head, once someone has met them
        self.people = 0
        self.out = TurtleFile(f"Partnership of the Liberec Region with {self.en} (synthetic)")

    # --- names and chances --------------------------------------------------------------------

    @property
    def cs(self) -> str:
        return f"{self.kind.cs} {self.code}"

    @property
    def en(self) -> str:
        return f"{self.kind.en} {self.code}"

    @property
    def with_cs(self) -> str:
        """"se" and the partner in the instrumental, as in "dohoda se syntetickým krajem 00042"."""
        return f"se {self.kind.cs_instrumental} {self.code}"

    def chance(self, share: float) -> bool:
        """True with probability `share`, and always for the showcase."""
        return self.plan.showcase or self.rng.random() < share

    def time(self, weights: dict[str, float], showcase: str, when: date) -> Time:
        """`when` at a precision drawn by `weights`, or at `showcase` in the showcase."""
        precision = showcase if self.plan.showcase else self.rng.choices(list(weights), list(weights.values()))[0]
        return time_at(precision, when, self.rng)

    def between(self, low: date, high: date) -> date:
        """A day from `low` to `high` (`low` when `high` is earlier)."""
        return low + timedelta(days=self.rng.randint(0, max((high - low).days, 0)))

    def areas(self, low: int, high: int) -> list[str]:
        """Between `low` and `high` cooperation areas."""
        return [f"area:{area}" for area in self.rng.sample(AREAS, self.rng.randint(low, high))]

    def add(self, block: Block) -> str:
        """Write `block`; return its subject."""
        return self.out.add(block).subject

    # --- the whole file -----------------------------------------------------------------------

    def write(self, path: Path) -> None:
        """Write the partnership's file to `path` and count what it holds."""
        signed_on = date(self.rng.randint(FIRST_YEAR, 2016), self.rng.randint(1, 12), self.rng.randint(1, 28))
        renewed_on = min(signed_on + timedelta(days=self.rng.randint(3 * 365, 8 * 365)), LAST_DAY)
        ending = "notice-given" if self.plan.showcase else self.rng.choices(["none", "ended", "notice-given"], [6, 2, 2])[0]
        self.out.section("The partnership, the partner and its agreements")
        precursor = self.town_partnership(signed_on) if self.plan.precursor else None
        self.partnership_block(precursor)
        self.partner_blocks()
        agreements = [(self.agreement(signed_on.year, ending == "notice-given" and not self.plan.renewal), signed_on)]
        if self.plan.renewal:
            agreements.append((self.agreement(renewed_on.year, ending == "notice-given"), renewed_on))
        self.out.section("Before the first signing")
        visit = self.events_before(signed_on)
        self.out.section("Signings, what followed, and status over time")
        self.history(agreements, visit, ending)
        self.out.write(path, self.counts)
        self.counts.partnerships += 1

    # --- the partner and its partnership -------------------------------------------------------

    def partnership_block(self, precursor: str | None) -> None:
        block = resource(self.partnership, ["rp:Partnership"],
                         f"Partnerství Libereckého kraje a {self.kind.cs_genitive} {self.code}",
                         f"Partnership of the Liberec Region and {self.en}")
        block.add("rp:partner", HOME, self.partner)
        if precursor:
            block.add("rp:precursor", precursor).add("dcterms:description", *labels(
                "Spolupráce vznikla z partnerství měst a rozšířila se na úroveň regionů (syntetická data).",
                "The cooperation grew out of a town partnership to the level of regions (synthetic data)."))
        self.add(block)

    def partner_blocks(self) -> None:
        """The partner region, its website, capital and its head's office."""
        block = resource(self.partner, ["rp:Region"], self.cs, self.en)
        block.add("dcterms:type", f"bk:{self.kind_key}").add("rp:country", f"country:{self.country.code}")
        if self.rng.random() < 0.3:
            block.add("skos:altLabel", lit(f"{self.kind.cs} č. {self.code}", "cs"))
        if self.chance(0.4):
            block.add("rp:capital", self.town(1))
        if self.chance(0.8):
            block.add("skos:notation", typed(iso_code(self.country, self.plan.number), "rp:ISO3166-2"))
        homepage = f"<https://{self.name}.example/>" if self.chance(0.6) else None
        self.add(block.add("foaf:homepage", *([homepage] if homepage else [])))
        if homepage:
            self.add(resource(homepage, ["foaf:Document"], f"Oficiální webové stránky: {self.cs}",
                              f"Official website of {self.en}"))
        post = Block(self.head_post, ["org:Post"]).add("org:postIn", self.partner)
        post.add("org:role", f"office:{self.kind.head_office}")
        self.add(post.add("rdfs:label", *labels(f"{self.kind.head_cs} {self.kind.cs_genitive} {self.code}",
                                                f"{self.kind.head_en} of {self.en}")))

    def town(self, number: int) -> str:
        """Describe the synthetic town `number` of the partner region; return it."""
        block = resource(f"town:synthetic-town-{self.code}-{number}", ["rp:Town"],
                         f"Syntetické město {self.code}-{number}", f"Synthetic Town {self.code}-{number}")
        block.add("dcterms:type", "bk:town").add("rp:country", f"country:{self.country.code}")
        return self.add(block.add("schema:containedInPlace", self.partner))

    def new_person(self, what_cs: str, what_en: str) -> str:
        """Describe a new synthetic person of this partnership, who is `what`; return them."""
        self.people += 1
        code = f"{self.code}-{self.people}"
        name = person_name(code)
        block = resource(f"person:synthetic-person-{code}", ["foaf:Person"], name, name).add("foaf:name", lit(name))
        if self.rng.random() < 0.3:
            block.add("foaf:title", *(labels("pan", "Mr") if self.rng.random() < 0.5 else labels("paní", "Ms")))
        block.add("rdfs:comment", *labels(f"Smyšlená osoba: {what_cs}.", f"A made-up person: {what_en}."))
        return self.add(block)

    def partner_head(self) -> str:
        """The person heading the partner region (described when first needed)."""
        if self.head is None:
            self.head = self.new_person(f"{self.kind.head_cs} {self.kind.cs_genitive} {self.code}",
                                        f"{self.kind.head_en} of {self.en}")
        return self.head

    # --- agreements and documents --------------------------------------------------------------

    def agreement(self, year: int, terminated: bool) -> str:
        """Describe an agreement of the partnership signed in `year`, with its documents; return it."""
        kind, title_cs, title_en, label_cs, label_en = self.rng.choice(AGREEMENT_KINDS)
        subject = self.out.unique(f"agr:{self.name}-{year}")
        block = resource(subject, ["rp:Agreement"], f"{label_cs} {self.kind.cs_instrumental} {self.code} ({year})",
                         f"{label_en} {self.en} ({year})")
        also_memorandum = kind != "memorandum" and self.rng.random() < 0.1
        block.add("dcterms:type", f"agk:{kind}", *(["agk:memorandum"] if also_memorandum else []))
        title = (f"{title_cs} {self.kind.cs_instrumental} {self.code}", f"{title_en} {self.en}")
        if self.rng.random() < 0.9:
            block.add("dcterms:title", *labels(*title))
        block.add("rp:party", HOME, self.partner).add("rp:establishes", self.partnership)
        documents = [("agreement-text", *title)] if self.chance(0.5) else []
        if terminated:
            documents += [("termination-proposal", "Návrh na ukončení dohody", "Proposal to terminate the agreement"),
                          ("termination-notice", "Ukončení spolupráce", "Termination of cooperation")]
        block.add("rp:document", *(self.document(subject, *document) for document in documents))
        self.counts.agreements += 1
        return self.add(block)

    def document(self, agreement: str, kind: str, title_cs: str, title_en: str) -> str:
        block = resource(f"doc:{agreement.removeprefix('agr:')}-{kind}", ["foaf:Document"],
                         f"{title_cs} (dokument)", f"{title_en} (document)")
        return self.add(block.add("dcterms:type", f"dk:{kind}").add("dcterms:title", *labels(title_cs, title_en)))

    # --- events ---------------------------------------------------------------------------------

    def event(self, slug: str, when: Time, kinds: Iterable[str], label: tuple[str, str],
              description: tuple[str, str], cls: str = "rp:Event", partnerships: tuple[str, ...] = ()) -> Block:
        """Start an event (the caller adds to it and writes it): its kinds, partnership, time and texts.

        It is named like those of data/: partner, then the date if known, then what happened.
        """
        date_token = "" if when.precision == "unknown" else when.term.removeprefix("t:").split("--")[0].lower()
        subject = self.out.unique("ev:" + "-".join(part for part in (self.name, date_token, slug) if part))
        block = resource(subject, [cls], *label).add("dcterms:type", *(f"evk:{kind}" for kind in kinds))
        block.add("rp:partnership", *(partnerships or (self.partnership,))).add("time:hasTime", self.out.use(when))
        return block.add("dcterms:description", *labels(*description))

    def participations(self, event: Block, *parts: Part) -> None:
        """Describe `parts` as participations in `event` and link them to it."""
        subjects = []
        for part in parts:
            block = Block(f"part:{event.subject.removeprefix('ev:')}-{part.suffix}", ["rp:Participation"])
            for predicate, value in (("prov:agent", part.agent), ("prov:hadRole", f"role:{part.role}"),
                                     ("rp:heldPost", part.post), ("rp:actedFor", part.acted_for),
                                     ("rp:onBehalfOf", part.on_behalf_of)):
                block.add(predicate, *([value] if value else []))
            subjects.append(self.add(block.add("rdfs:label", *labels(part.cs, part.en))))
        event.add("rp:participation", *subjects)

    def events_before(self, signed_on: date) -> Block | None:
        """The events that led to the first agreement; return the visit it was signed during (unwritten)."""
        def before(days: int) -> date:
            return signed_on - timedelta(days=self.rng.randint(days // 3, days))

        for share, days, write in ((0.35, 900, self.offer), (0.3, 700, self.decision), (0.2, 600, self.selection),
                                   (0.4, 500, self.first_contact), (0.15, 400, self.delegation_formed)):
            if self.chance(share):
                write(before(days))
        return self.visit(signed_on) if self.chance(0.4) else None

    def offer(self, when: date) -> None:
        time_ = self.time({"month": 6, "day": 3, "unknown": 1}, "month", when)
        event = self.event("offer", time_, ["offer"], (f"Nabídka spolupráce {self.with_cs}",
                                                       f"Offer of cooperation with {self.en}"), (
            f"Liberecký kraj obdržel nabídku na spolupráci {self.with_cs} ({time_.cs}) prostřednictvím "
            f"velvyslanectví ČR, země: {self.country.cs}.",
            f"The Liberec Region received an offer of cooperation with {self.en} ({time_.en}) through the Czech "
            f"embassy, country: {self.country.en}."))
        posts = embassy(self.country).replace("orgn:", "post:")
        counsellor = self.new_person("rada velvyslanectví", "embassy counsellor")
        ambassador = self.new_person("velvyslanec", "ambassador")
        self.participations(
            event,
            Part("recipient", "recipient", "Liberecký kraj – příjemce nabídky",
                 "Liberec Region – recipient of the offer", agent=HOME),
            Part("counsellor", "intermediary", "Rada velvyslanectví – zprostředkovatel nabídky",
                 "Embassy counsellor – intermediary of the offer", agent=counsellor, post=f"{posts}-counsellor"),
            Part("ambassador", "co-intermediary", "Velvyslanec – spolupráce na zprostředkování nabídky",
                 "Ambassador – co-operated in passing on the offer", agent=ambassador, post=f"{posts}-ambassador"))
        self.add(event)

    def decision(self, when: date) -> None:
        time_ = self.time({"unknown": 7, "month": 2, "half-year": 1}, "unknown", when)
        event = self.event("council-decision", time_, ["decision"], (
            f"Rozhodnutí Rady kraje zahájit komunikaci {self.with_cs}",
            f"Decision of the Regional Council to start communicating with {self.en}"), (
            f"Rada kraje se rozhodla zahájit komunikaci {self.with_cs}.",
            f"The Regional Council decided to start communicating with {self.en}."))
        self.participations(event, Part("council", "decision-maker", "Rada Libereckého kraje – rozhodnutí",
                                        "Council of the Liberec Region – decision",
                                        agent="orgn:liberec-region-council"))
        self.add(event)

    def selection(self, when: date) -> None:
        alternatives = [self.alternative_region(number) for number in range(1, self.rng.randint(1, 3) + 1)]
        time_ = self.time({"unknown": 6, "half-year": 3, "month": 1}, "unknown", when)
        event = self.event("partner-selection", time_, ["partner-selection"], (
            f"Výběr partnera: {self.cs}", f"Selection of {self.en} as partner"), (
            f"Po srovnání {len(alternatives) + 1} regionů (země: {self.country.cs}) byl pro spolupráci vybrán "
            f"partner {self.cs}.",
            f"After comparing {len(alternatives) + 1} regions of {self.country.en}, {self.en} was chosen."))
        self.add(event.add("rp:consideredAlternative", *alternatives).add("rp:selected", self.partner))

    def alternative_region(self, number: int) -> str:
        """Describe a region of the partner's country that was considered instead of it; return it."""
        block = resource(f"reg:{self.name}-alt-{number}", ["rp:Region"], f"{self.cs} (alternativa {number})",
                         f"{self.en} (alternative {number})")
        block.add("dcterms:type", f"bk:{self.kind_key}")
        return self.add(block.add("rp:country", f"country:{self.country.code}"))

    def first_contact(self, when: date) -> None:
        time_ = self.time({"month": 5, "day": 4, "unknown": 1}, "day", when)
        event = self.event("first-contact", time_, ["first-contact", "correspondence"], (
            f"První kontakt {self.with_cs}: korespondence s návrhy",
            f"First contact with {self.en}: correspondence with proposals"), (
            f"Liberecký kraj obdržel ({time_.cs}) korespondenci s návrhy na první setkání a na spolupráci.",
            f"The Liberec Region received ({time_.en}) correspondence with proposals for a first meeting and for "
            "cooperation."))
        event.add("rp:proposedArea", *self.areas(2, 6))
        self.participations(
            event, Part("sender", "sender", f"{self.cs} – odesílatel korespondence",
                        f"{self.en} – sender of the correspondence", agent=self.partner),
            Part("recipient", "recipient", "Liberecký kraj – příjemce korespondence",
                 "Liberec Region – recipient of the correspondence", agent=HOME))
        self.add(event)

    def delegation(self, sent_by: str | None, year: int, members: Iterable[str] = ()) -> str:
        """Describe a delegation sent by `sent_by` (None: not said) in `year`; return it."""
        home = sent_by == HOME
        subject = self.out.unique(f"dlg:{self.name}-{'home-' if home else ''}{year}")
        cs, en = (("Delegace Libereckého kraje", "Delegation of the Liberec Region") if home
                  else (f"Delegace: {self.cs}", f"Delegation of {self.en}"))
        block = resource(subject, ["rp:Delegation"], f"{cs} ({year}, {self.code})", f"{en} ({year}, {self.code})")
        return self.add(block.add("rp:sentBy", *([sent_by] if sent_by else [])).add("foaf:member", *members))

    def delegation_formed(self, when: date) -> None:
        time_ = self.time({"unknown": 8, "month": 2}, "unknown", when)
        event = self.event("delegation", time_, ["delegation"], (
            f"Sestavení delegace Libereckého kraje na pozvání partnera ({self.code})",
            f"A Liberec Region delegation formed at the invitation of {self.en}"), (
            "Na pozvání partnera byla sestavena delegace zástupců Libereckého kraje.",
            "At the partner's invitation, a delegation of representatives of the Liberec Region was formed."))
        event.add("rp:delegation", self.delegation(HOME, when.year))
        self.participations(event, Part("inviter", "inviter", f"{self.cs} – pozvání", f"{self.en} – invitation",
                                        agent=self.partner))
        self.add(event)

    def visit(self, signed_on: date) -> Block:
        """A visit of the partner's delegation ending on the day of the signing; return it (unwritten)."""
        interval = self.plan.showcase or self.rng.random() < 0.5
        first = signed_on - timedelta(days=self.rng.randint(1, 3))
        time_ = day_interval_time(first, signed_on) if interval else day_time(signed_on)
        head = self.partner_head()
        event = self.event("visit", time_, ["visit"], (
            f"Návštěva delegace v Libereckém kraji: {self.cs}",
            f"Visit of the delegation of {self.en} to the Liberec Region"), (
            f"Delegace (partner: {self.cs}) navštívila Liberecký kraj ({time_.cs}) a jednala o spolupráci.",
            f"A delegation of {self.en} visited the Liberec Region ({time_.en}) and held talks on cooperation."),
            cls="rp:Visit")
        event.add("prov:atLocation", HOME).add("rp:delegation", self.delegation(self.partner, signed_on.year, [head]))
        event.add("rp:placeVisited", *self.places()).add("rp:pursuedArea", *self.areas(1, 3))
        self.participations(
            event, Part("leader", "delegation-leader", f"{self.kind.head_cs} – vedoucí delegace",
                        f"{self.kind.head_en} – leader of the delegation", head, self.head_post, self.partner),
            Part("interlocutor", "interlocutor", "Člen rady kraje – jednání s delegací",
                 "Member of the Regional Council – talks with the delegation", home_person(signed_on, 4),
                 "post:liberec-region-council-member", HOME))
        return event

    def places(self) -> list[str]:
        """Describe up to three places a delegation visited; return them."""
        return [self.add(resource(f"place:synthetic-place-{self.code}-{number}", ["schema:Place"],
                                  f"Syntetické místo {self.code}-{number}", f"Synthetic Place {self.code}-{number}")
                         .add("schema:containedInPlace", HOME))
                for number in range(1, self.rng.randint(1 if self.plan.showcase else 0, 3) + 1)]

    # --- signings -------------------------------------------------------------------------------

    def signatories(self, when: date) -> list[Part]:
        """Who signed on `when`: named people in their offices, bodies without names, or nobody recorded."""
        mode = "named" if self.plan.showcase else self.rng.choices(["named", "unnamed", "none"], [7, 2, 1])[0]
        partner_role = "initialler" if not self.plan.showcase and self.rng.random() < 0.1 else "signatory"
        if mode == "none":
            return []
        if mode == "unnamed":
            return [Part("home", "signatory", "Podpis za Liberecký kraj (signatář neuveden)",
                         "Signed for the Liberec Region (signatory not named)", acted_for=HOME),
                    Part("partner", partner_role, f"Podpis za partnera {self.code} (signatář neuveden)",
                         f"Signed for {self.en} (signatory not named)", acted_for=self.partner)]
        if self.plan.showcase or self.rng.random() < 0.2:  # a deputy signs on behalf of the Governor
            home = Part("home", "signatory", "Náměstek hejtmana – podpis za Liberecký kraj v zastoupení hejtmana",
                        "Deputy Governor – signed for the Liberec Region on behalf of the Governor",
                        home_person(when, 2), "post:liberec-region-deputy-head", HOME, "post:liberec-region-head")
        else:
            home = Part("home", "signatory", "Hejtman – podpis za Liberecký kraj",
                        "Governor – signed for the Liberec Region", home_person(when, 1), "post:liberec-region-head",
                        HOME)
        return [home, Part("partner", partner_role, f"{self.kind.head_cs} – podpis za partnera {self.code}",
                           f"{self.kind.head_en} – signed for {self.en}", self.partner_head(), self.head_post,
                           self.partner)]

    def signing(self, agreement: str, when: date, visit: Block | None) -> tuple[Time, str, bool]:
        """Describe the signing of `agreement` on `when`, during `visit` if any; return its time, itself,
        and whether a party only initialled it."""
        time_ = day_time(when) if visit else self.time({"day": 17, "month": 2, "unknown": 1}, "day", when)
        event = self.event("signing", time_, ["signing"], (
            f"Podpis dohody {self.with_cs}", f"Signing of the agreement with {self.en}"), (
            f"Dohodu mezi Libereckým krajem a {self.kind.cs_instrumental} {self.code} podepsali zástupci obou stran "
            f"({time_.cs}).",
            f"The agreement between the Liberec Region and {self.en} was signed by representatives of both sides "
            f"({time_.en})."), cls="rp:Signing")
        event.add("rp:agreement", agreement)
        if visit is not None:
            event.add("prov:atLocation", HOME).add("schema:superEvent", visit.subject)
        else:
            event.add("prov:atLocation", *([self.rng.choice([HOME, self.partner])] if self.chance(0.7) else []))
            event.add("schema:superEvent", *([self.occasion()] if self.chance(0.1) else []))
        signatories = self.signatories(when)
        self.participations(event, *signatories)
        return time_, self.add(event), any(part.role == "initialler" for part in signatories)

    def occasion(self) -> str:
        """Describe a synthetic occasion (without a date) a signing took place at; return it."""
        block = resource(self.out.unique(f"ev:synthetic-occasion-{self.code}"), ["schema:Event"],
                         f"Syntetická akce {self.code}", f"Synthetic Event {self.code}")
        block.add("dcterms:description", *labels("Akce, při které byla dohoda podepsána (syntetická data).",
                                                 "The event at which the agreement was signed (synthetic data)."))
        return self.add(block.add("prov:atLocation", self.partner))

    def approval(self, agreement: str, when: date) -> None:
        time_ = day_time(when)
        event = self.event("approval", time_, ["approval"], (
            f"Schválení dohody {self.with_cs}", f"Approval of the agreement with {self.en}"), (
            f"Dohoda byla schválena na obou stranách ({time_.cs}).",
            f"The agreement was approved on both sides ({time_.en})."))
        self.participations(
            event.add("rp:agreement", agreement),
            Part("home", "approving-party", "Liberecký kraj – schválení dohody",
                 "Liberec Region – approved the agreement", agent=HOME),
            Part("partner", "approving-party", f"{self.cs} – schválení dohody", f"{self.en} – approved the agreement",
                 agent=self.partner))
        self.add(event)

    # --- the history after the first signing ----------------------------------------------------

    def history(self, agreements: list[tuple[str, date]], visit: Block | None, ending: str) -> None:
        """The signings of `agreements` (each with its day), what happened after them, and the chain of
        status periods they caused, which ends as `ending` says ("none", "ended" or "notice-given")."""
        first, when = agreements[0]
        if visit is not None:
            self.add(visit)
        if self.chance(0.25):
            self.approval(first, when)
        periods = [self.signed(1, *self.signing(first, when, visit), None)]
        if len(agreements) > 1 or self.chance(0.45):
            latest = agreements[1][1] if len(agreements) > 1 else LAST_DAY
            when = self.between(min(when + timedelta(days=200), latest), min(when + timedelta(days=3 * 365), latest))
            periods.append(self.stagnation(len(periods) + 1, when, periods[-1]))
        for agreement, when in agreements[1:]:
            periods.append(self.signed(len(periods) + 1, *self.signing(agreement, when, None), periods[-1]))
        ends_on = min(when + timedelta(days=self.rng.randint(100, 4 * 365)), LAST_DAY)
        self.activities(when, ends_on)
        if ending != "none":
            periods.append(self.end(ending, len(periods) + 1, ends_on, agreements[-1][0], periods[-1]))
        if self.plan.showcase:
            self.end_of_cooperation(ends_on)
        for block in periods:
            self.add(block)

    def period(self, number: int, status: str, begins: Time, previous: Block | None,
               reason: tuple[str, str], caused_by: str | None) -> Block:
        """A status period (unwritten): status, beginning, cause, reason, and the period it follows."""
        status_cs, status_en = STATUSES[status]
        since_cs, since_en = (("(od neuvedeného data)", "(since a date not given)") if begins.precision == "unknown"
                              else (f"od {begins.cs}", f"from {begins.en}"))
        block = resource(f"stp:{self.name}-{number}-{status}", ["rp:StatusPeriod"],
                         f"{self.cs}: {status_cs} {since_cs}", f"{self.en}: {status_en} {since_en}")
        block.add("rp:partnership", self.partnership).add("rp:status", f"st:{status}")
        block.add("time:intervalMetBy", *([previous.subject] if previous else []))
        block.add("time:hasBeginning", self.out.use(begins)).add("rp:causedBy", *([caused_by] if caused_by else []))
        return block.add("rp:reason", *labels(*reason))

    def signed(self, number: int, signed: Time, signing: str, initialled: bool, previous: Block | None) -> Block:
        """The period that began with a signing: signed, or signed and initialled where the partner only
        initialled (the source says no more of it than that)."""
        reason = (f"Dohoda {self.with_cs} byla podepsána ({signed.cs}).",
                  f"The agreement with {self.en} was signed ({signed.en}).")
        return self.period(number, "signed-and-initialled" if initialled else "signed", signed, previous, reason,
                           signing)

    def stagnation(self, number: int, when: date, previous: Block) -> Block:
        """Stagnation: after a change in the partner's office (from that month), or from a date not given."""
        if self.chance(0.5):
            changed, event = self.change_in_office(when)
            reason = ("Po nástupu nového představitele partnera spolupráce začala stagnovat.",
                      "After the partner's new head took office, the cooperation began to stagnate.")
            return self.period(number, "stagnating", changed, previous, reason, event)
        reason = ("Rozvíjení spolupráce je vzhledem ke vzdálenosti regionů složité, proto nastala stagnace.",
                  "Developing the cooperation is difficult given the distance between the regions, "
                  "so it has stagnated.")
        return self.period(number, "stagnating", unknown_time(when), previous, reason, None)

    def change_in_office(self, when: date) -> tuple[Time, str]:
        time_ = month_time(when.year, when.month)
        event = self.event("new-head", time_, ["change-in-office"], (
            f"Nástup nového představitele: {self.cs}", f"A new head of {self.en} takes office"), (
            f"Změna nastala nástupem nového představitele partnera ({time_.cs}).",
            f"A change came when a new head of the partner took office ({time_.en})."))
        named = self.rng.random() < 0.5
        holder = self.new_person("nový představitel partnera", "the partner's new head") if named else None
        self.participations(event, Part("new-head", "new-office-holder", f"Nový představitel: {self.cs}",
                                        f"New head of {self.en}", holder, self.head_post, self.partner))
        return time_, self.add(event)

    def activities(self, after: date, until: date) -> None:
        """Meetings, letters and planned meetings while the partnership lives (from `after` to `until`)."""
        for share, write in ((0.3, self.meetings), (0.3, self.letter), (0.2, self.planned_meeting)):
            if self.chance(share):
                write(self.between(min(after + timedelta(days=30), until), until))

    def meetings(self, when: date) -> None:
        time_ = self.time({"unknown": 6, "half-year": 3, "month": 1}, "unknown", when)
        event = self.event("meetings", time_, ["meeting"], (
            f"Setkání s podnikateli ({self.code})", f"Meetings with entrepreneurs ({self.en})"), (
            "Na setkáních s podnikateli se ukázalo, že spolupráce může být oboustranně výhodná.",
            "The meetings with entrepreneurs showed that cooperation could benefit both sides."))
        event.add("rp:proposedArea", *self.areas(1, 4))
        if self.chance(0.5):
            self.participations(event, Part("entrepreneurs", "participant", "Podnikatelé Libereckého kraje – účast",
                                            "Entrepreneurs of the Liberec Region – took part",
                                            agent="orgn:liberec-region-entrepreneurs"))
        self.add(event)

    def letter(self, when: date) -> None:
        time_ = day_time(when)
        answered = not self.plan.showcase and self.rng.random() < 0.4
        event = self.event("letter", time_, ["letter"], (
            f"Dopis hejtmana s návrhy další spolupráce ({self.code})",
            f"Governor's letter to {self.en} with proposals for further cooperation"), (
            f"Oddělení tiskové a vnějších vztahů oslovilo partnera dopisem hejtmana ({time_.cs}). "
            + ("Partner odpověděl." if answered else "Partner nereagoval."),
            f"The Press and External Relations Department approached the partner with a letter from the Governor "
            f"({time_.en}). " + ("The partner replied." if answered else "The partner did not respond.")))
        event.add("rp:proposedArea", *self.areas(3, 9)).add("rp:responseReceived", "true" if answered else "false")
        self.participations(
            event, Part("sender", "sender", "Oddělení tiskové a vnějších vztahů – odesílatel dopisu",
                        "Press and External Relations Department – sender of the letter",
                        agent="orgn:liberec-region-press-department", acted_for=HOME),
            Part("author", "author", "Hejtman Libereckého kraje – autor dopisu (jméno neuvedeno)",
                 "Governor of the Liberec Region – author of the letter (name not given)",
                 post="post:liberec-region-head", acted_for=HOME),
            Part("recipient", "recipient", f"{self.cs} – adresát dopisu", f"{self.en} – addressee of the letter",
                 agent=self.partner))
        self.add(event)

    def planned_meeting(self, when: date) -> None:
        time_ = self.time({"half-year": 5, "unknown": 5}, "half-year", when)
        took_place = not self.plan.showcase and self.rng.random() < 0.15
        delegation = self.delegation(self.partner if self.rng.random() < 0.5 else None, when.year)
        event = self.event("planned-meeting", time_, ["planned-meeting"], (
            f"Plánované pozvání delegace partnera ({self.code})",
            f"Planned invitation of a delegation of {self.en}"), (
            f"Bylo plánováno pozvání delegace partnera do Libereckého kraje ({time_.cs}). "
            + ("Setkání se konalo." if took_place else "Setkání se nekonalo."),
            f"An invitation of the partner's delegation to the Liberec Region was planned ({time_.en}). "
            + ("The meeting took place." if took_place else "The meeting did not take place.")))
        # PROV's location is for what happened; where a meeting that never did was to be is schema's.
        event.add("rp:tookPlace", "true" if took_place else "false")
        event.add("prov:atLocation" if took_place else "schema:location", HOME)
        self.participations(event.add("rp:delegation", delegation),
                            Part("invitee", "invitee", "Delegace partnera – pozvaní",
                                 "The partner's delegation – invited", agent=delegation))
        self.add(event)

    # --- the end --------------------------------------------------------------------------------

    def end(self, status: str, number: int, when: date, agreement: str, previous: Block) -> Block:
        """The last period: notice given on a day (after an outside event), or ended on a date not given."""
        if status == "notice-given":
            cause = self.outside_event(when - timedelta(days=self.rng.randint(1, 60)))
            self.suspension(cause, when)
            return self.notice(number, when, agreement, cause, previous)
        return self.period(number, status, unknown_time(when), previous, POLICY_REASON, self.end_of_cooperation(when))

    def notice(self, number: int, when: date, agreement: str, cause: str, previous: Block) -> Block:
        """The notice of termination the Region gave on `when`, and the period it began."""
        time_ = day_time(when)
        event = self.event("notice", time_, ["notice-of-termination"], (
            f"Vypovězení dohody ({self.code})", f"Notice of termination of the agreement with {self.en}"), (
            f"Liberecký kraj dohodu vypověděl ({time_.cs}).",
            f"The Liberec Region gave notice of termination of the agreement ({time_.en})."))
        event.add("rp:agreement", agreement).add("rp:causedBy", cause).add("rp:reason", *labels(*OUTSIDE_REASON))
        self.participations(event, Part("home", "party-giving-notice", "Liberecký kraj – vypovězení dohody",
                                        "Liberec Region – gave notice of termination of the agreement", agent=HOME))
        return self.period(number, "notice-given", time_, previous, OUTSIDE_REASON, self.add(event))

    def outside_event(self, when: date) -> str:
        """Describe a synthetic outside event that led to a notice of termination; return it."""
        block = resource(f"ev:synthetic-outside-event-{self.code}", ["schema:Event"],
                         f"Syntetická vnější událost {self.code}", f"Synthetic Outside Event {self.code}")
        block.add("time:hasTime", self.out.use(day_time(when)))
        return self.add(block.add("prov:atLocation", f"country:{self.country.code}"))

    def suspension(self, cause: str, near: date) -> None:
        event = self.event("suspension-of-contacts", unknown_time(near), ["suspension-of-contacts"], (
            f"Přerušení kontaktů ({self.code})", f"Contacts with {self.en} broken off"), (
            "Liberecký kraj z důvodu vnější události přerušil kontakty s partnerem.",
            "Because of an outside event, the Liberec Region broke off contacts with the partner."))
        event.add("rp:causedBy", cause).add("rp:reason", *labels(*OUTSIDE_REASON))
        self.participations(event, Part("home", "party-breaking-off-contacts", "Liberecký kraj – přerušení kontaktů",
                                        "Liberec Region – broke off contacts", agent=HOME))
        self.add(event)

    def end_of_cooperation(self, near: date) -> str:
        """Describe the end of the cooperation (on a date not given); return it."""
        event = self.event("end-of-cooperation", unknown_time(near), ["end-of-cooperation"], (
            f"Ukončení spolupráce ({self.code})", f"End of the cooperation with {self.en}"), (
            "Partner uplatňuje jinou zahraniční politiku, proto byla spolupráce ukončena.",
            "The partner pursues a different foreign policy; the cooperation was therefore ended."))
        return self.add(event.add("rp:reason", *labels(*POLICY_REASON)))

    # --- the town partnership that preceded it -------------------------------------------------

    def town_partnership(self, before: date) -> str:
        """Describe the town partnership that preceded this one, with its agreement and signing; return it."""
        czech = self.add(resource(f"town:synthetic-town-{self.code}-cz", ["rp:Town"],
                                  f"Syntetické české město {self.code}", f"Synthetic Czech Town {self.code}")
                         .add("dcterms:type", "bk:town").add("rp:country", f"country:{CZECHIA.code}")
                         .add("schema:containedInPlace", HOME))
        foreign = self.town(2)
        partnership = self.add(resource(f"ptn:synthetic-town-partnership-{self.code}", ["rp:Partnership"],
                                        f"Syntetické partnerství měst {self.code}",
                                        f"Synthetic Town Partnership {self.code}").add("rp:partner", czech, foreign))
        signed_on = self.between(max(before - timedelta(days=5 * 365), date(FIRST_YEAR, 1, 1)),
                                 before - timedelta(days=180))
        agreement = self.add(resource(f"agr:synthetic-town-partnership-{self.code}-{signed_on.year}", ["rp:Agreement"],
                                      f"Dohoda měst ({self.code}, {signed_on.year})",
                                      f"Agreement of the towns ({self.code}, {signed_on.year})")
                             .add("dcterms:type", "agk:agreement").add("rp:party", czech, foreign)
                             .add("rp:establishes", partnership))
        time_ = self.time({"day": 7, "month": 3}, "day", signed_on)
        event = self.event("town-signing", time_, ["signing"], (
            f"Podpis dohody měst ({self.code})", f"Signing of the agreement of the towns ({self.code})"), (
            f"Podpis dohody obou měst se uskutečnil ({time_.cs}).",
            f"The agreement of the two towns was signed ({time_.en})."),
            cls="rp:Signing", partnerships=(partnership, self.partnership))
        event.add("rp:agreement", agreement).add("prov:atLocation", foreign)
        if self.rng.random() < 0.5:
            self.participations(event, Part("czech-town", "signatory", "Podpis za české město (signatář neuveden)",
                                            "Signed for the Czech town (signatory not named)", acted_for=czech),
                                Part("foreign-town", "signatory", "Podpis za partnerské město (signatář neuveden)",
                                     "Signed for the partner town (signatory not named)", acted_for=foreign))
        self.add(event)
        self.counts.agreements += 1
        self.counts.town_partnerships += 1
        return partnership


# =============================================================================================
# The shared file: the synthetic source, countries, home office holders, embassies
# =============================================================================================


def source_blocks(seed: int) -> list[Block]:
    """The synthetic source every generated resource is derived from, and the program that made it."""
    source = Block(SOURCE, ["foaf:Document", "prov:Entity"]).add("rdfs:label", *labels(
        "Syntetická data pro testy výkonu (nejde o skutečnost)", "Synthetic benchmark data (not facts)"))
    source.add("rdfs:comment", *labels(
        "Vygenerovaná data pro měření výkonu: všechna partnerství, regiony, osoby, události a data, která z tohoto "
        "zdroje pocházejí, jsou smyšlená. Nejsou to fakta a nesmějí se zveřejnit jako data Libereckého kraje.",
        "Generated data for benchmarks: every partnership, region, person, event and date derived from this source "
        "is made up. They are not facts and must not be published as the Liberec Region's data."))
    source.add("dcterms:title", *labels("Syntetická data pro testy výkonu", "Synthetic benchmark data"))
    source.add("dcterms:description", *labels(f"Vygenerováno programem bench/generate.py se semínkem {seed}.",
                                              f"Generated by bench/generate.py with seed {seed}."))
    source.add("prov:wasAttributedTo", GENERATOR)
    generator = Block(GENERATOR, ["prov:SoftwareAgent"]).add("rdfs:label", *labels(
        "Generátor syntetických dat pro testy výkonu (bench/generate.py)",
        "Generator of synthetic benchmark data (bench/generate.py)"))
    # The data graph holds the copied files, taken from the Region's page, and the generated ones.
    data_graph = Block(f"<{DATA_GRAPH}>", ["prov:Entity"]).add("rdfs:label", *labels(
        "Syntetická data pro testy výkonu a data o Libereckém kraji", "Synthetic benchmark data and data on the Liberec Region"))
    data_graph.add("prov:wasDerivedFrom", SOURCE, "src:uzavrene-dohody")
    return [source, generator, data_graph]


def country_block(country: Country) -> Block:
    """An entry of the EU country table, as data/authorities/eu-tables.ttl writes one (labels ours, not the table's)."""
    block = Block(f"country:{country.code}", ["skos:Concept", "dcterms:Location"])
    block.add("skos:inScheme", f"<{COUNTRY_TABLE}>").add("skos:prefLabel", *labels(country.cs, country.en))
    return block


def home_people_blocks() -> Iterator[Block]:
    """The synthetic holders of the Liberec Region's offices, one set per term of office."""
    for term in HOME_TERMS:
        for number, office_cs, office_en in HOME_OFFICES:
            code = f"L{term}-{number}"
            subject = f"person:synthetic-person-{code.lower()}"
            block = resource(subject, ["foaf:Person"], person_name(code), person_name(code))
            block.add("foaf:name", lit(person_name(code)))
            block.add("rdfs:comment", *labels(f"Smyšlená osoba: {office_cs} Libereckého kraje od roku {term}.",
                                              f"A made-up person: {office_en} of the Liberec Region from {term}."))
            yield block


def embassy_blocks(country: Country) -> Iterator[Block]:
    """A synthetic Czech embassy in `country` and its two offices."""
    subject = embassy(country)
    yield resource(subject, ["org:Organization"], f"Syntetické velvyslanectví ČR, země: {country.cs}",
                   f"Synthetic Czech Embassy, country: {country.en}")
    for office, cs, en in (("ambassador", "Velvyslanec", "Ambassador"),
                           ("embassy-counsellor", "Rada velvyslanectví", "Embassy counsellor")):
        post = Block(f"post:{subject.removeprefix('orgn:')}-{office.removeprefix('embassy-')}", ["org:Post"])
        post.add("org:postIn", subject).add("org:role", f"office:{office}")
        yield post.add("rdfs:label", *labels(f"{cs} (syntetické velvyslanectví, {country.cs})",
                                             f"{en} (synthetic embassy, {country.en})"))


def write_shared(out_dir: Path, seed: int, described: set[str], counts: Counts) -> None:
    """Write synthetic-shared.ttl: the source, the countries not in `described`, home people, embassies."""
    shared = TurtleFile("What the synthetic partnerships share")
    sections = (
        ("The synthetic source", source_blocks(seed)),
        ("Countries the copied files do not describe",
         [country_block(country) for country in (CZECHIA, *COUNTRIES) if f"country:{country.code}" not in described]),
        ("Synthetic holders of the Liberec Region's offices", list(home_people_blocks())),
        ("Synthetic Czech embassies", [block for country in COUNTRIES for block in embassy_blocks(country)]),
    )
    for title, blocks in sections:
        shared.section(title)
        for block in blocks:
            shared.add(block)
    shared.write(out_dir / "synthetic-shared.ttl", counts)


# =============================================================================================
# The copied files and the whole run
# =============================================================================================


def copy_home_data(home_data: Path, out_dir: Path) -> tuple[set[str], int]:
    """Copy the real data's shared RDF files (not partnerships/, not catalogue/) into `out_dir`.

    Return the subjects they describe, as prefixed names where a prefix fits, and their triples.
    Raises ValueError when they lack a resource the generated data refers to.
    """
    graph = Graph()
    for path in sorted(home_data.rglob("*")):
        relative = path.relative_to(home_data)
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.suffix in RDF_SUFFIXES and path.is_file() and relative.parts[0] not in NOT_SHARED and not hidden:
            (out_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out_dir / relative)
            graph.parse(path, format=RDF_SUFFIXES[path.suffix])
    described = {shorten(str(subject)) for subject in graph.subjects() if isinstance(subject, URIRef)}
    missing = [name for name in HOME_RESOURCES if name not in described]
    if missing:
        raise ValueError(f"{home_data} does not describe {', '.join(missing)}, which the generated data refers to")
    return described, len(graph)


def shorten(iri: str) -> str:
    """`iri` as a prefixed name of PREFIXES (the longest namespace that fits), else unchanged."""
    fitting = [(len(namespace), prefix) for prefix, namespace in PREFIXES.items() if iri.startswith(namespace)]
    if not fitting:
        return iri
    length, prefix = max(fitting)
    return f"{prefix}:{iri[length:]}"


def partnership_path(out_dir: Path, plan: PartnershipPlan) -> Path:
    """Where a partnership's file goes: a thousand files a folder."""
    folder = f"{(plan.number - 1) // PARTNERSHIPS_PER_FOLDER:03d}"
    return out_dir / "partnerships" / folder / f"synthetic-region-{plan.number:05d}.ttl"


def generate(agreements: int, out_dir: Path, seed: int = 1, home_data: Path = CHECKOUT / "data") -> dict[str, int]:
    """Write a data folder with exactly `agreements` synthetic agreements into `out_dir` (new or empty).

    Return the summary also written to generation.json: seed, agreements, partnerships (those of
    the Liberec Region, and town partnerships), files, and triples (distinct, and as written; those
    of the copied authorities/ files count too, though they load into the authorities graph).
    """
    if agreements < 1:
        raise ValueError("at least one agreement is needed")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    described, copied_triples = copy_home_data(home_data, out_dir)
    counts = Counts()
    write_shared(out_dir, seed, described, counts)
    for plan in plan_partnerships(agreements, seed):
        PartnershipWriter(plan, seed, counts).write(partnership_path(out_dir, plan))
    summary = {
        "seed": seed,
        "agreements": counts.agreements,
        "partnerships": counts.partnerships + counts.town_partnerships,
        "regional_partnerships": counts.partnerships,
        "town_partnerships": counts.town_partnerships,
        "generated_files": counts.files,
        "generated_triples": counts.triples,
        "generated_triples_written": counts.triples_written,
        "copied_triples": copied_triples,
        "triples": counts.triples + copied_triples,
    }
    (out_dir / "generation.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    """The command line: generate, then print the summary and the time it took."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, required=True, help="how many agreements to generate")
    parser.add_argument("--out", type=Path, required=True, help="output data folder (new or empty)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same files")
    parser.add_argument("--home-data", type=Path, default=CHECKOUT / "data",
                        help="the real data folder whose shared files are copied (default: the checkout's data/)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        summary = generate(args.agreements, args.out, args.seed, args.home_data)
    except (ValueError, FileExistsError) as error:
        parser.error(str(error))
    print(json.dumps(summary, indent=2))
    print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
