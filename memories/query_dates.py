"""The period a search query names: "in May", "on 9 July 2022", "last week", "3 days ago".

A memory is written when it is learnt (`Memory.created_at`: the conversation it came
from, the document, the day a person typed it), so "what did Kai say last week?" or
"what happened in May 2023?" is best answered by memories written then; ranking
(`memories.selectors`) weighs those up. Only English expressions are recognised, by
patterns: a query parser must cost microseconds, as it runs on every prompt.

Dates without a year ("in May", "on 9 July") mean their latest occurrence up to
`today`; a bare month needs a word before it ("in May", "last March") so that "may"
and "march" as verbs are not read as months. Several expressions give the period
from the first to the last.
"""

import calendar
import re
from datetime import date, timedelta
from typing import NamedTuple


class DateSpan(NamedTuple):
    """Inclusive local dates."""

    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NUMBERS |= {"seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}

_FULL_MONTH = "|".join(name.lower() for name in calendar.month_name if name)
_ANY_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_MONTH = rf"(?P<month>{_ANY_MONTH})\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_COUNT = r"(?P<count>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)"
_UNIT = r"(?P<unit>minute|hour|day|week|month|year)s?"

# Tried in order; a span of the text matched once is not matched again.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        name,
        re.compile(r"(?<!\w)" + pattern + r"(?!\w)", re.IGNORECASE),
    )
    for name, pattern in [
        ("day", rf"{_DAY}(?: of)? {_MONTH},? {_YEAR}"),
        ("day", rf"{_MONTH} {_DAY},? {_YEAR}"),
        ("day", rf"{_YEAR}-(?P<month_number>[01]\d)-(?P<day>[0-3]\d)"),
        ("month", rf"{_MONTH},?(?: of)? {_YEAR}"),
        ("day", rf"{_DAY}(?: of)? {_MONTH}"),
        ("day", rf"{_MONTH} {_DAY}"),
        (
            "month",
            r"(?:in|on|during|since|from|until|of|last|this|early|late|mid|mid-)\s+"
            rf"(?:early |late |mid-?)?(?P<month>{_FULL_MONTH})",
        ),
        ("year", rf"(?:in|during|since|from|of|year)\s+{_YEAR}"),
        ("ago", rf"{_COUNT} {_UNIT} (?:ago|back)"),
        ("past", rf"(?:past|last) (?P<count>\d{{1,3}}|two|three|four|five|six|few) {_UNIT}"),
        ("relative", r"(?P<which>last|this|past|previous) (?P<unit>week|weekend|month|year)"),
        ("weekday", rf"(?P<which>last|on|this) (?P<weekday>{'|'.join(_WEEKDAYS)})"),
        ("named", r"(?P<named>the day before yesterday|yesterday|today|tonight|this morning)"),
    ]
]


def query_dates(text: str, *, today: date) -> DateSpan | None:
    """The period `text` names, or None when it names none (see the module docstring)."""
    spans: list[DateSpan] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            # Taken even when it names no real date ("31 February"): not read again.
            taken.append(match.span())
            span = _span(kind, match, today)
            if span is not None:
                spans.append(span)
    if not spans:
        return None
    return DateSpan(min(span.first for span in spans), max(span.last for span in spans))


def _span(kind: str, match: re.Match[str], today: date) -> DateSpan | None:
    parts = match.groupdict()
    if kind == "day":
        return _day_span(parts, today)
    if kind == "month":
        month = _MONTHS[parts["month"].lower()]
        year = int(parts["year"]) if parts.get("year") else _latest_year(month, 1, today)
        span = _month_span(year, month)
        return DateSpan(span.first, today) if match[0].lower().startswith("since") else span
    if kind == "year":
        year = int(parts["year"])
        last = today if match[0].lower().startswith("since") else date(year, 12, 31)
        return DateSpan(date(year, 1, 1), last)
    if kind in ("ago", "past"):
        count = parts["count"].lower()
        return _ago_span(kind, _NUMBERS.get(count) or int(count), parts["unit"].lower(), today)
    if kind == "relative":
        return _relative_span(parts["which"].lower(), parts["unit"].lower(), today)
    if kind == "weekday":
        weekday = _WEEKDAYS[parts["weekday"].lower()]
        back = (today.weekday() - weekday) % 7 or (7 if parts["which"].lower() == "last" else 0)
        day = today - timedelta(days=back)
        return DateSpan(day, day)
    named = parts["named"].lower()
    day = today - timedelta(days={"yesterday": 1, "the day before yesterday": 2}.get(named, 0))
    return DateSpan(day, day)


def _day_span(parts: dict[str, str | None], today: date) -> DateSpan | None:
    number = parts.get("month_number")
    month = int(number) if number else _MONTHS[(parts.get("month") or "").lower()]
    day = int(parts["day"] or 0)
    year = int(parts["year"]) if parts.get("year") else _latest_year(month, day, today)
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return DateSpan(found, found)


def _latest_year(month: int, day: int, today: date) -> int:
    """The year of the latest `month`/`day` up to today."""
    return today.year if (month, min(day, 28)) <= (today.month, today.day) else today.year - 1


def _month_span(year: int, month: int) -> DateSpan:
    return DateSpan(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def _ago_span(kind: str, count: int, unit: str, today: date) -> DateSpan | None:
    """A count of days back is that day, of weeks that week, of months that month;
    "the past 3 days" (`kind` past) runs from then to today."""
    if count > 400:
        return None
    if unit in ("minute", "hour"):
        return DateSpan(today, today)
    then = today - timedelta(days={"day": 1, "week": 7, "month": 30, "year": 365}[unit] * count)
    if kind == "past":
        return DateSpan(then, today)
    if unit == "day":
        return DateSpan(then, then)
    if unit == "week":
        start = then - timedelta(days=then.weekday())
        return DateSpan(start, start + timedelta(days=6))
    if unit == "month":
        return _month_span(then.year, then.month)
    return DateSpan(date(then.year, 1, 1), date(then.year, 12, 31))


def _relative_span(which: str, unit: str, today: date) -> DateSpan:
    back = 0 if which == "this" else 1
    if unit in ("week", "weekend"):
        monday = today - timedelta(days=today.weekday() + 7 * back)
        if unit == "weekend":
            saturday = monday + timedelta(days=5)
            return DateSpan(saturday, saturday + timedelta(days=1))
        return DateSpan(monday, monday + timedelta(days=6))
    if unit == "month":
        first = today.replace(day=1)
        for _ in range(back):
            first = (first - timedelta(days=1)).replace(day=1)
        return _month_span(first.year, first.month)
    return DateSpan(date(today.year - back, 1, 1), date(today.year - back, 12, 31))
