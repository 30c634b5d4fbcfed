"""The competency questions (server/queries/*.rq) run on the built dataset give the answers read,
by hand, off the source page (data/source/uzavrene-dohody.txt)."""

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from lodpub.namespaces import PREFIXES

QUERIES = Path(__file__).resolve().parent.parent / "server" / "queries"


def iri(prefixed_name: str) -> URIRef:
    prefix, local = prefixed_name.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


def run(graph, name: str, **replacements: str) -> list[dict[str, object]]:
    """Run the query whose file name starts with `name`; replacements edit its text first."""
    (path,) = QUERIES.glob(f"{name}*.rq")
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    return [{str(var): row[var] for var in row.labels if row[var] is not None} for row in graph.query(text)]


def values(rows, *columns: str) -> set[tuple]:
    return {tuple(row.get(column) for column in columns) for row in rows}


def test_every_query_is_titled_in_czech_and_english():
    paths = sorted(QUERIES.glob("*.rq"))
    assert len(paths) == 12
    for path in paths:
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert re.match(r"# cs: \S", head[0]) and re.match(r"# en: \S", head[1]), path.name


def test_01_partners_their_countries_and_status_today(built_graph):
    rows = run(built_graph, "01")
    assert values(rows, "region", "country", "status") == {
        (iri("reg:valle-d-aosta"), iri("country:ITA"), iri("st:stagnating")),       # since May 2008
        (iri("reg:orenburg-oblast"), iri("country:RUS"), iri("st:notice-given")),   # 1 March 2022
        (iri("reg:more-og-romsdal"), iri("country:NOR"), iri("st:ended")),          # date not given
        (iri("reg:ha-tinh"), iri("country:VNM"), iri("st:stagnating")),             # date not given
        (iri("reg:bursa"), iri("country:TUR"), iri("st:stagnating")),               # date not given
    }
    since = {row["region"]: (row.get("since"), row.get("sinceAfter")) for row in rows}
    assert since[iri("reg:valle-d-aosta")] == (Literal("May 2008", lang="en"), None)
    assert since[iri("reg:orenburg-oblast")] == (Literal("1 March 2022", lang="en"), None)
    # undated changes, placed after the dated event the page tells before them
    assert since[iri("reg:bursa")] == (None, Literal("1 November 2011", lang="en"))
    assert since[iri("reg:ha-tinh")] == (None, Literal("22 April 2009", lang="en"))
    assert since[iri("reg:more-og-romsdal")] == (None, Literal("28 November 2001", lang="en"))


def test_01_no_partnership_is_called_active(built_graph):
    """The page never says a cooperation was active: no status period, current or past, says so."""
    statuses = {row.status for row in built_graph.query(
        f"SELECT DISTINCT ?status WHERE {{ ?period a <{PREFIXES['rp']}StatusPeriod> ; <{PREFIXES['rp']}status> ?status }}")}
    assert statuses == {iri(f"st:{name}") for name in
                        ("signed", "signed-and-initialled", "stagnating", "ended", "notice-given")}


def test_02_when_where_and_by_whom_each_agreement_was_signed(built_graph):
    rows = run(built_graph, "02")
    signatures = {
        (str(row["date"]), row.get("name") and str(row["name"]), str(row["roleLabel"]),
         row.get("officeLabel") and str(row["officeLabel"]), str(row.get("actedForLabel")),
         row.get("onBehalfOfLabel") and str(row["onBehalfOfLabel"]))
        for row in rows if "roleLabel" in row
    }
    assert signatures == {
        ("2001-11-28", "Pavel Pavlík", "signatory", "Governor of the Liberec Region", "Liberec Region", None),
        ("2001-11-28", "Ole Eimund Øverland", "signatory", "County Mayor of Møre og Romsdal", "Møre og Romsdal", None),
        ("2007-10-11", "Petr Skokan", "signatory", "Governor of the Liberec Region", "Liberec Region", None),
        ("2007-10-11", "Luciano Caveri", "signatory", "President of the Aosta Valley", "Aosta Valley", None),
        # "schválen a podepsán na obou stranách": signed for both, the signatories not named
        ("2009-04-22", None, "signatory", None, "Liberec Region", None),
        ("2009-04-22", None, "signatory", None, "Ha Tinh Province", None),
        # signed by the deputy on behalf of the governor; initialled, not signed, for Bursa
        ("2011-11-01", "Lidie Vajnerová", "signatory", "Deputy Governor of the Liberec Region", "Liberec Region",
         "Governor of the Liberec Region"),
        ("2011-11-01", "Şahabettin Harput", "initialler", "Governor of Bursa Province", "Bursa Province", None),
    }
    places = {str(row["date"]): (row.get("placeLabel"), row.get("occasionLabel")) for row in rows}
    assert places["2007-10-11"] == (Literal("Brussels", lang="en"), Literal("Open Days (Brussels, 2007)", lang="en"))
    assert places["2007-06-16"][0] == Literal("Mednogorsk", lang="en")
    assert places["2011-11-01"][0] == Literal("Liberec Region", lang="en")
    # Agreements whose signing the page dates but whose signatories it does not name
    unnamed = {row["agreement"] for row in rows if "roleLabel" not in row}
    assert unnamed == {iri("agr:orenburg-oblast-2012"), iri("agr:novy-bor-mednogorsk-2007")}


@pytest.mark.parametrize(
    "date, in_force",
    [
        ("2001-11-27", {}),
        # Møre og Romsdal was signed that day; its cooperation ended after the signing, the page does not
        # say when: never certain, not even on the day of the signing.
        ("2001-11-28", {"agr:more-og-romsdal-2001": False}),
        ("2005-01-01", {"agr:more-og-romsdal-2001": False}),
        # Bursa: the Turkish side only initialled the memorandum. Orenburg: the end of effect follows the
        # notice of 1 March 2022, so it is certain before that day. Stagnation ends no agreement.
        ("2015-01-01", {"agr:more-og-romsdal-2001": False, "agr:valle-d-aosta-2007": True, "agr:ha-tinh-2009": True,
                        "agr:bursa-2011": False, "agr:orenburg-oblast-2012": True}),
        ("2022-02-28", {"agr:more-og-romsdal-2001": False, "agr:valle-d-aosta-2007": True, "agr:ha-tinh-2009": True,
                        "agr:bursa-2011": False, "agr:orenburg-oblast-2012": True}),
        # Notice given on 1 March 2022; when the memorandum ceased to have effect the page does not say.
        ("2022-03-01", {"agr:more-og-romsdal-2001": False, "agr:valle-d-aosta-2007": True, "agr:ha-tinh-2009": True,
                        "agr:bursa-2011": False, "agr:orenburg-oblast-2012": False}),
        # The page tells the state as of its capture, whose day is not recorded: no earlier than 1 March 2022,
        # the latest day it gives. After that day nothing is certain: an agreement may have ended unreported.
        ("2022-03-02", {"agr:more-og-romsdal-2001": False, "agr:valle-d-aosta-2007": False, "agr:ha-tinh-2009": False,
                        "agr:bursa-2011": False, "agr:orenburg-oblast-2012": False}),
        ("2023-01-01", {"agr:more-og-romsdal-2001": False, "agr:valle-d-aosta-2007": False, "agr:ha-tinh-2009": False,
                        "agr:bursa-2011": False, "agr:orenburg-oblast-2012": False}),
        ("2100-01-01", {"agr:more-og-romsdal-2001": False, "agr:valle-d-aosta-2007": False, "agr:ha-tinh-2009": False,
                        "agr:bursa-2011": False, "agr:orenburg-oblast-2012": False}),
    ],
)
def test_03_agreements_in_force_on_a_date(built_graph, date, in_force):
    rows = run(built_graph, "03", **{'"2015-01-01"^^xsd:date': f'"{date}"^^xsd:date'})
    assert {row["agreement"]: row["certain"].toPython() for row in rows} == {
        iri(agreement): certain for agreement, certain in in_force.items()
    }


def in_force_over(graph, date: str, update: str) -> dict[URIRef, bool]:
    """Question 3's answer for `date` over a copy of `graph` changed by the SPARQL Update `update`."""
    changed = Graph()
    changed += graph
    changed.update("".join(f"PREFIX {prefix}: <{PREFIXES[prefix]}>\n" for prefix in ("rp", "time", "xsd", "t", "agr", "ev"))
                   + update)
    rows = run(changed, "03", **{'"2015-01-01"^^xsd:date': f'"{date}"^^xsd:date'})
    return {row["agreement"]: row["certain"].toPython() for row in rows}


# The Aosta Valley's signing, had the page given only its month, and its end of effect on a known day.
SIGNED_IN_A_MONTH = """
DELETE { ?signing time:hasTime t:2007-10-11 } INSERT { ?signing time:hasTime t:2007-10 .
    t:2007-10 a time:Instant ; time:inXSDgYearMonth "2007-10"^^xsd:gYearMonth }
WHERE { ?signing rp:agreement agr:valle-d-aosta-2007 }"""
ENDED_ON_A_DAY = f"""
INSERT DATA {{ ev:valle-d-aosta-end rp:partnership <{PREFIXES["ptn"]}valle-d-aosta> ;
    <http://purl.org/dc/terms/type> <{PREFIXES["evk"]}end-of-effect> ; time:hasTime t:2012-06-30 .
    t:2012-06-30 a time:Instant ; time:inXSDDate "2012-06-30"^^xsd:date }}"""


# The page's capture, had it been recorded on a day (27 November 2026, the day the copy entered the repository).
CAPTURED_ON_A_DAY = """
DELETE { ?source rp:captured ?unknown . ?unknown ?p ?o }
INSERT { ?source rp:captured t:2026-11-27 }
WHERE { ?source rp:captured ?unknown . ?unknown ?p ?o }"""


@pytest.mark.parametrize(
    "update, date, certain",
    [
        # certain up to the day the page was read, and not after it
        (CAPTURED_ON_A_DAY, "2023-01-01", True),
        (CAPTURED_ON_A_DAY, "2026-11-27", True),
        (CAPTURED_ON_A_DAY, "2026-11-28", False),
        # signed in October 2007: on a day in October it may not yet have been signed
        (SIGNED_IN_A_MONTH, "2007-10-15", False),
        (SIGNED_IN_A_MONTH, "2007-11-01", True),
        (SIGNED_IN_A_MONTH, "2007-09-30", None),
        # ceased to have effect on 30 June 2012: open on that day, not listed after it
        (ENDED_ON_A_DAY, "2012-06-29", True),
        (ENDED_ON_A_DAY, "2012-06-30", False),
        (ENDED_ON_A_DAY, "2012-07-01", None),
    ],
)
def test_03_certain_only_where_the_dates_at_their_precision_decide(built_graph, update, date, certain):
    assert in_force_over(built_graph, date, update).get(iri("agr:valle-d-aosta-2007")) is certain


def test_04_partnerships_that_ended_or_had_notice_given_when_and_why(built_graph):
    rows = run(built_graph, "04")
    assert values(rows, "partnership", "status", "whenLabel", "precisionLabel") == {
        (iri("ptn:more-og-romsdal"), iri("st:ended"), None, Literal("unknown", lang="en")),
        (iri("ptn:orenburg-oblast"), iri("st:notice-given"), Literal("1 March 2022", lang="en"),
         Literal("day", lang="en")),
    }
    # Notice given on 1 March 2022; the page does not say when the memorandum ceased to have effect.
    effect = {row["partnership"]: (row.get("effectEndedLabel"), row.get("effectEndedPrecisionLabel")) for row in rows}
    assert effect == {iri("ptn:more-og-romsdal"): (None, None),
                      iri("ptn:orenburg-oblast"): (None, Literal("unknown", lang="en"))}
    why = {row["partnership"]: row for row in rows}
    assert "different foreign policy" in why[iri("ptn:more-og-romsdal")]["reason"]
    assert "attack on Ukraine" in why[iri("ptn:orenburg-oblast")]["reason"]
    assert why[iri("ptn:orenburg-oblast")]["causeLabel"] == Literal(
        "Attack on Ukraine by the armed forces of the Russian Federation", lang="en")


def test_05_cooperation_areas_proposed_or_pursued_with_each_partner(built_graph):
    rows = run(built_graph, "05")
    areas = lambda *names: {iri(f"area:{name}") for name in names}  # noqa: E731
    found: dict[tuple, set] = {}
    for row in rows:
        found.setdefault((row["partner"], str(row["how"])), set()).add(row["area"])
    assert found == {
        # August 2005 correspondence, and the letter of 17 May 2010
        (iri("reg:valle-d-aosta"), "proposed"): areas(
            "structural-funds", "interreg", "pre-accession-funds", "tourism", "euroregion-experience",
            "regional-economy", "heritage-care", "archaeology", "culture", "education", "youth",
            "physical-education-and-sport", "palliative-and-hospice-care", "environment"),
        # the delegation of 6 October 2010 talked "mainly about tourism and culture"
        (iri("reg:bursa"), "pursued"): areas("tourism", "culture"),
        # the first meetings with entrepreneurs
        (iri("reg:bursa"), "proposed"): areas("textiles-and-nanofibres", "spa", "tourism"),
        # the title of the 2001 agreement: "o regionální spolupráci a přenosu know – how"
        (iri("reg:more-og-romsdal"), "subject of agreement"): areas("regional-cooperation", "know-how-transfer"),
    }


def test_06_town_partnerships_before_or_beside_the_regional_ones(built_graph):
    rows = run(built_graph, "06")
    assert values(rows, "regional", "town", "signedLabel", "placeLabel") == {
        (iri("ptn:more-og-romsdal"), iri("ptn:molde-ceska-lipa"), None, None),
        (iri("ptn:orenburg-oblast"), iri("ptn:novy-bor-mednogorsk"), Literal("16 June 2007", lang="en"),
         Literal("Mednogorsk", lang="en")),
    }


def test_07_intermediaries_and_their_roles(built_graph):
    rows = run(built_graph, "07")
    assert values(rows, "person", "role", "officeLabel") == {
        (iri("person:j-slavik"), iri("role:intermediary"), Literal("Counsellor of the Czech Embassy in Rome", lang="en")),
        (iri("person:l-secka"), iri("role:co-intermediary"), Literal("Czech Ambassador to Italy", lang="en")),
    }


def test_08_planned_meetings_that_never_took_place(built_graph):
    rows = run(built_graph, "08")
    assert values(rows, "event", "whenLabel", "precisionLabel", "afterLabel") == {
        (iri("ev:ha-tinh-2011-h1-planned-meeting"), Literal("first half of 2011", lang="en"),
         Literal("half-year", lang="en"), None),
        # "Naposledy bylo plánováno …": undated, after the memorandum of 1 November 2011
        (iri("ev:bursa-planned-meeting"), None, Literal("unknown", lang="en"), Literal("1 November 2011", lang="en")),
    }


def test_09_documents_of_each_agreement(built_graph):
    rows = run(built_graph, "09")
    assert values(rows, "agreement", "document", "kind") == {
        (iri("agr:orenburg-oblast-2012"), iri("doc:orenburg-oblast-memorandum"), iri("dk:agreement-text")),
        (iri("agr:orenburg-oblast-2012"), iri("doc:orenburg-oblast-termination-proposal"), iri("dk:termination-proposal")),
        (iri("agr:orenburg-oblast-2012"), iri("doc:orenburg-oblast-termination"), iri("dk:termination-notice")),
    }


def test_10_delegation_visits_when_who_led_and_where(built_graph):
    rows = run(built_graph, "10")
    visits: dict[URIRef, dict] = {}
    for row in rows:
        visit = visits.setdefault(row["visit"], {"places": set()})
        visit["when"] = str(row["whenLabel"])
        visit["precision"] = str(row["precisionLabel"])
        visit["leader"] = row.get("leaderName") and str(row["leaderName"])
        visit["places"].add(row["place"])
    assert visits == {
        iri("ev:orenburg-oblast-2007-02-visit"): {
            "when": "February 2007", "precision": "month", "leader": None, "places": {iri("country:CZE")}},
        iri("ev:bursa-2010-10-06-visit"): {
            "when": "6 October 2010", "precision": "day", "leader": "Şahabettin Harput",
            "places": {iri("place:jested"), iri("place:institute-of-health-studies"),
                       iri("place:trauma-centre-liberec"), iri("place:glass-school-zelezny-brod")}},
        iri("ev:bursa-2011-visit"): {
            "when": "31 October – 1 November 2011", "precision": "interval of days", "leader": None,
            "places": {iri("reg:liberec-region")}},
    }
    # in time order, not in the order of the labels' text ("31 October" before "6 October")
    order = list(dict.fromkeys(row["visit"] for row in rows))
    assert order == [iri("ev:orenburg-oblast-2007-02-visit"), iri("ev:bursa-2010-10-06-visit"),
                     iri("ev:bursa-2011-visit")]


def test_11_regions_considered_before_a_partner_was_chosen(built_graph):
    rows = run(built_graph, "11")
    assert values(rows, "chosen", "alternative", "countryLabel") == {
        (iri("reg:valle-d-aosta"), iri("reg:liguria"), Literal("Italy", lang="en")),
        (iri("reg:valle-d-aosta"), iri("reg:trentino-alto-adige"), Literal("Italy", lang="en")),
    }


def test_12_every_event_in_order_with_its_precision(built_graph):
    rows = run(built_graph, "12")
    undated = "unknown"
    assert [(row["event"], str(row["precisionLabel"])) for row in rows] == [
        (iri("ev:molde-ceska-lipa-contacts"), undated),                     # the cooperation arose from them
        (iri("ev:more-og-romsdal-2001-11-28-signing"), "day"),
        (iri("ev:more-og-romsdal-end-of-cooperation"), undated),            # after the signing, no later bound
        (iri("ev:valle-d-aosta-2005-04-offer"), "month"),
        (iri("ev:valle-d-aosta-council-decision"), undated),                # between the offer and the first contact,
        (iri("ev:valle-d-aosta-partner-selection"), undated),               # in no order the page gives (by label)
        (iri("ev:valle-d-aosta-2005-08-first-contact"), "month"),
        (iri("ev:valle-d-aosta-meetings"), undated),                        # led to the signing of 11 October 2007
        (iri("ev:valle-d-aosta-proposed-first-official-meeting"), undated),
        (iri("ev:orenburg-oblast-2007-02-visit"), "month"),
        (iri("ev:orenburg-oblast-delegation"), undated),                    # before the signing of 24 May 2012
        (iri("ev:novy-bor-mednogorsk-2007-06-16-signing"), "day"),
        (iri("ev:valle-d-aosta-2007-10-11-signing"), "day"),
        (iri("ev:valle-d-aosta-2008-05-new-president"), "month"),
        (iri("ev:ha-tinh-2009-04-22-approval"), "day"),
        (iri("ev:ha-tinh-2009-04-22-signing"), "day"),
        (iri("stp:ha-tinh-2-stagnating"), undated),                         # "nastala stagnace"
        (iri("ev:valle-d-aosta-2010-05-17-letter"), "day"),
        (iri("ev:bursa-2010-10-06-visit"), "day"),
        (iri("ev:bursa-entrepreneur-meetings"), undated),
        (iri("ev:ha-tinh-2011-h1-planned-meeting"), "half-year"),
        (iri("ev:bursa-2011-visit"), "interval of days"),
        (iri("ev:bursa-2011-11-01-signing"), "day"),
        (iri("stp:bursa-2-stagnating"), undated),
        (iri("ev:bursa-planned-meeting"), undated),                         # "Naposledy bylo plánováno …"
        (iri("ev:orenburg-oblast-2012-05-24-signing"), "day"),
        (iri("ev:russian-invasion-of-ukraine-2022"), "day"),
        (iri("ev:orenburg-oblast-suspension-of-contacts"), undated),        # caused by the attack, told before the notice
        (iri("ev:orenburg-oblast-2022-03-01-notice"), "day"),
        (iri("ev:orenburg-oblast-end-of-effect"), undated),                 # follows the notice, day not given
    ]
    # months stay months: nothing on a made-up first day of the month
    starts = {row["event"]: row.get("start") and str(row["start"]) for row in rows}
    assert starts[iri("ev:valle-d-aosta-2005-04-offer")] == "2005-04"
    assert starts[iri("ev:ha-tinh-2011-h1-planned-meeting")] == "2011-01"
    # an undated event is placed between the dated times around it, and says which
    bounds = {row["event"]: (row.get("notBeforeLabel"), row.get("notAfterLabel")) for row in rows
              if "start" not in row}
    assert bounds[iri("ev:valle-d-aosta-council-decision")] == (Literal("April 2005", lang="en"),
                                                                Literal("August 2005", lang="en"))
    assert bounds[iri("ev:orenburg-oblast-suspension-of-contacts")] == (Literal("24 February 2022", lang="en"),
                                                                        Literal("1 March 2022", lang="en"))
    assert bounds[iri("ev:orenburg-oblast-end-of-effect")] == (Literal("1 March 2022", lang="en"), None)
    assert bounds[iri("ev:molde-ceska-lipa-contacts")] == (None, Literal("28 November 2001", lang="en"))
    assert all(before is not None or after is not None for before, after in bounds.values())
