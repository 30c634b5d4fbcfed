"""The timeline picture: times drawn at their precision, unknown starts hatched, valid SVG."""

import html
import re
import xml.etree.ElementTree as ElementTree
from datetime import date

from lodpub.web.i18n import words
from lodpub.web.timeline import Mark, Period, Span, TimelineRow, span_of, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_a_time_spans_what_its_precision_says():
    assert span_of(day="2007-10-11") == Span(date(2007, 10, 11), date(2007, 10, 11))
    assert span_of(month="2005-04") == Span(date(2005, 4, 1), date(2005, 4, 30))
    assert span_of(month="2008-12") == Span(date(2008, 12, 1), date(2008, 12, 31))
    half_year = span_of(begin=span_of(month="2011-01"), end=span_of(month="2011-06"))
    assert half_year == Span(date(2011, 1, 1), date(2011, 6, 30))
    assert span_of() is None


def row(periods, marks=()) -> TimelineRow:
    return TimelineRow("Partner", "http://example.org/p", list(periods), list(marks))


def draw(*rows) -> ElementTree.Element:
    return ElementTree.fromstring(timeline_svg(list(rows), date(2026, 11, 27), words("en")))


def test_each_status_is_a_bar_in_its_colour_until_the_next_begins():
    svg = draw(row([Period("signed", "signed", span_of(day="2012-05-24")),
                    Period("notice-given", "notice given", span_of(day="2022-03-01"))]))
    bars = svg.findall(f"{SVG}rect[@class]")
    signed, notice = [bar for bar in bars if "status" in bar.get("class")]
    assert signed.get("fill") == "#1565c0" and notice.get("fill") == "#c62828"
    assert abs(float(signed.get("x")) + float(signed.get("width")) - float(notice.get("x"))) < 0.2


def test_a_status_whose_start_is_unknown_is_hatched_from_the_previous_start():
    svg = draw(row([Period("signed", "signed", span_of(day="2009-04-22")), Period("stagnating", "stagnating", None)]))
    signed, stagnating = [bar for bar in svg.iter(f"{SVG}rect") if "status" in (bar.get("class") or "")]
    assert stagnating.get("fill") == "url(#hatch-signed-stagnating)"
    assert stagnating.get("x") == signed.get("x")
    assert svg.find(f".//{SVG}pattern[@id='hatch-signed-stagnating']") is not None


def test_a_month_is_as_wide_as_the_month_and_a_day_is_a_dot():
    svg = draw(row([], [Mark(span_of(month="2005-04"), "April 2005: offer", "event", "http://example.org/e1"),
                        Mark(span_of(day="2010-05-17"), "17 May 2010: letter", "event", "http://example.org/e2"),
                        Mark(span_of(day="2007-10-11"), "signing", "signing", "http://example.org/e3")]))
    month = svg.find(f".//{SVG}rect[@class='mark event']")
    assert 2 < float(month.get("width")) < 5  # about a month at this scale
    assert svg.find(f".//{SVG}circle[@class='mark event']") is not None
    assert svg.find(f".//{SVG}path[@class='mark signing']") is not None
    titles = {title.text for title in svg.iter(f"{SVG}title")}
    assert {"April 2005: offer", "17 May 2010: letter", "signing"} <= titles
    links = {link.get("href"): link.get("aria-label") for link in svg.iter(f"{SVG}a") if link.find(f"{SVG}title") is None
             and any("mark" in (shape.get("class") or "") for shape in link)}
    assert links == {"http://example.org/e1": "April 2005: offer", "http://example.org/e2": "17 May 2010: letter",
                     "http://example.org/e3": "signing"}


def test_every_mark_of_the_home_timeline_leads_to_the_page_of_its_event(in_process):
    page = in_process.http.get(in_process, headers={"Accept": "text/html"}, timeout=30)
    svg = ElementTree.fromstring(re.search(r"<svg.*?</svg>", page.text, re.S).group())
    marks = [(link.get("href"), shape) for link in svg.iter(f"{SVG}a") for shape in link
             if "mark" in (shape.get("class") or "").split()]
    kinds = [shape.get("class") for _, shape in marks]
    assert kinds.count("mark signing") >= 5 and "mark event" in kinds  # a signing in each of the five partnerships
    for href, shape in marks:
        assert href.startswith(in_process + "id/event/"), href
        event = in_process.http.get(href, headers={"Accept": "text/html"}, timeout=30)
        assert event.status_code == 200 and event.url.startswith(in_process + "doc/id/event/"), href
        # The page names the event the mark's title names (its label, after the date).
        assert shape.find(f"{SVG}title").text.split(": ", 1)[1] in html.unescape(event.text), href


def test_years_run_from_2001_to_today():
    years = [text.text for text in draw(row([])).iter(f"{SVG}text") if text.get("class") == "year"]
    assert years[0] == "2001" and years[-1] == "2026"
