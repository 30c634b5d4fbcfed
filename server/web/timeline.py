"""The timeline picture of the home page: one row per partnership, its status over time as a
coloured bar, its agreements and events as marks, from 2001 to today. Plain SVG, drawn on the
server, no script.

A time is drawn at the precision the source gives: a day as a dot, a month as a mark as wide as
the month, a half-year or an interval as a bar over its span. A status whose start the source
does not give is hatched over the whole span in which it may have begun.
"""

from dataclasses import dataclass, field
from datetime import date
from html import escape

# Status colours (also used by the home page's table and legend), by the status concept's last path
# segment: the statuses of ontology/vocabularies/statuses.ttl that are not deprecated.
STATUS_COLOURS = {
    "signed": "#1565c0",
    "signed-and-initialled": "#64b5f6",
    "stagnating": "#e0a000",
    "ended": "#757575",
    "notice-given": "#c62828",
}
UNKNOWN_COLOUR = "#9e9e9e"

WIDTH, LEFT, RIGHT, TOP, ROW, BAR = 960, 210, 20, 30, 46, 12
FIRST_YEAR = 2001


@dataclass(frozen=True)
class Span:
    """A stretch of time: from `start` to `end` (both dates; equal for a day)."""

    start: date
    end: date


@dataclass
class Mark:
    """An event on a row, linked to the event's page."""

    span: Span
    title: str
    kind: str  # "signing", "event" or "not-held"
    href: str


@dataclass
class Period:
    """A status period; `start` is None when the source does not give it."""

    status: str
    title: str
    start: Span | None


@dataclass
class TimelineRow:
    """One partnership."""

    label: str
    href: str
    periods: list[Period] = field(default_factory=list)  # in order
    marks: list[Mark] = field(default_factory=list)


def span_of(day: str | None = None, month: str | None = None, begin: "Span | None" = None,
            end: "Span | None" = None) -> Span | None:
    """The span of a time from its OWL-Time values (xsd:date, xsd:gYearMonth, or bounds)."""
    if day:
        value = date.fromisoformat(day[:10])
        return Span(value, value)
    if month:
        year, number = int(month[:4]), int(month[5:7])
        following = date(year + number // 12, number % 12 + 1, 1)
        return Span(date(year, number, 1), date.fromordinal(following.toordinal() - 1))
    if begin and end:
        return Span(begin.start, end.end)
    return None


def timeline_svg(rows: list[TimelineRow], today: date, words: dict[str, str]) -> str:
    """Draw the rows as an SVG document (a string)."""
    last_year = today.year
    height = TOP + ROW * len(rows) + 70

    def x(day: date) -> float:
        first = date(FIRST_YEAR, 1, 1).toordinal()
        return LEFT + (day.toordinal() - first) / (today.toordinal() - first) * (WIDTH - LEFT - RIGHT)

    # A group, not an image: an image's content is presentational, which would hide the links of its marks.
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="group" aria-labelledby="timeline-title" class="timeline">',
        f'<title id="timeline-title">{escape(words["timeline"])}</title>',
        _hatch_patterns(rows),
    ]
    for year in range(FIRST_YEAR, last_year + 1):
        left = x(date(year, 1, 1))
        parts.append(f'<line x1="{left:.1f}" y1="{TOP - 8}" x2="{left:.1f}" y2="{TOP + ROW * len(rows)}" class="grid"/>')
        if (year - FIRST_YEAR) % 5 == 0 or year == last_year:
            parts.append(f'<text x="{left:.1f}" y="{TOP - 12}" class="year">{year}</text>')
    for number, row in enumerate(rows):
        top = TOP + number * ROW
        parts.append(f'<a href="{escape(row.href)}"><text x="8" y="{top + BAR + 4}" class="row-label">'
                     f'{escape(row.label)}</text></a>')
        parts += _periods(row, top, today, x)
        parts += _marks(row, top, x)
    parts.append(_legend(TOP + ROW * len(rows) + 20, words))
    parts.append("</svg>")
    return "\n".join(parts)


def _periods(row: TimelineRow, top: int, today: date, x) -> list[str]:
    shapes = []
    y = top + 6
    for index, period in enumerate(row.periods):
        following = next((p.start for p in row.periods[index + 1:] if p.start), None)
        end = following.start if following else today
        if period.start:
            begin, fill = period.start.start, STATUS_COLOURS.get(period.status, UNKNOWN_COLOUR)
        else:
            # Began at a date not given: somewhere after the previous status began.
            previous = _last_dated_before(row, index)
            if previous is None:
                continue
            begin, fill = previous.start.start, f"url(#{_hatch_id(previous.status, period.status)})"
        width = max(x(end) - x(begin), 1.5)
        shapes.append(f'<rect x="{x(begin):.1f}" y="{y}" width="{width:.1f}" height="{BAR}" fill="{fill}" '
                      f'class="status status-{escape(period.status)}"><title>{escape(period.title)}</title></rect>')
    return shapes


def _marks(row: TimelineRow, top: int, x) -> list[str]:
    shapes = []
    y = top + 6 + BAR + 11
    for mark in row.marks:
        left, right = x(mark.span.start), x(mark.span.end)
        title = f"<title>{escape(mark.title)}</title>"
        if mark.kind == "signing":
            cx = (left + right) / 2
            shape = f'<path d="M{cx:.1f} {y - 6} l6 6 l-6 6 l-6 -6 z" class="mark signing">{title}</path>'
        elif mark.span.end > mark.span.start:  # a month, a half-year, an interval: as wide as it is
            shape = (f'<rect x="{left:.1f}" y="{y - 4}" width="{max(right - left, 3):.1f}" height="8" rx="1.5" '
                     f'class="mark {mark.kind}">{title}</rect>')
        else:
            shape = f'<circle cx="{(left + right) / 2:.1f}" cy="{y}" r="4.5" class="mark {mark.kind}">{title}</circle>'
        # Each mark is a link to its event, named by its title for those who do not see it.
        shapes.append(f'<a href="{escape(mark.href)}" aria-label="{escape(mark.title)}">{shape}</a>')
    return shapes


def _last_dated_before(row: TimelineRow, index: int) -> Period | None:
    """The last period before `index` whose start the source gives."""
    return next((period for period in reversed(row.periods[:index]) if period.start), None)


def _hatch_id(before: str, after: str) -> str:
    return f"hatch-{before}-{after}"


def _hatch_patterns(rows: list[TimelineRow]) -> str:
    """Stripes of two statuses' colours: the status changed from one to the other somewhere in the span."""
    pairs = {
        (previous.status, period.status)
        for row in rows
        for index, period in enumerate(row.periods)
        if period.start is None and (previous := _last_dated_before(row, index)) is not None
    }
    patterns = [
        f'<pattern id="{_hatch_id(before, after)}" width="10" height="10" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="10" height="10" fill="{STATUS_COLOURS.get(before, UNKNOWN_COLOUR)}"/>'
        f'<rect width="5" height="10" fill="{STATUS_COLOURS.get(after, UNKNOWN_COLOUR)}"/></pattern>'
        for before, after in sorted(pairs)
    ]
    return "<defs>" + "".join(patterns) + "</defs>"


def _legend(y: int, words: dict[str, str]) -> str:
    items = [
        f'<path d="M{LEFT + 6} {y - 6} l6 6 l-6 6 l-6 -6 z" class="mark signing"/>'
        f'<text x="{LEFT + 18}" y="{y + 4}" class="legend">{escape(words["legend_signing"])}</text>',
        f'<circle cx="{LEFT + 170}" cy="{y}" r="4.5" class="mark event"/>'
        f'<text x="{LEFT + 180}" y="{y + 4}" class="legend">{escape(words["legend_event"])}</text>',
        f'<circle cx="{LEFT + 300}" cy="{y}" r="4.5" class="mark not-held"/>'
        f'<text x="{LEFT + 310}" y="{y + 4}" class="legend">{escape(words["legend_not_held"])}</text>',
    ]
    return "".join(items)
