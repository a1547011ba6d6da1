"""Charts as SVG geometry: bars per week, lines per topic, sparklines. The templates draw what these return.

Drawn on the server, so the pages need no JavaScript and no charting library: a chart is a few dozen
shapes whose coordinates are computed here from the analytics views' counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tubescribe.catalog.browse import Series

PALETTE = ("#3b6fb6", "#d9822b", "#3d9a5b", "#b8445a", "#7a5cb0", "#5b8f99")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the period it counts, as text for its tooltip
    value: int


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # "x,y x,y ..." for an SVG polyline
    colour: str
    total: int

    @property
    def dots(self) -> list[tuple[str, str]]:
        """The line's points, each drawn as a dot too: a month alone, or one hidden under another line, still shows."""
        return [(x, y) for x, y in (point.split(",") for point in self.points.split())]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...] = ()
    lines: tuple[Line, ...] = ()
    first: str = ""  # the first and last periods, for the axis
    last: str = ""
    peak: int = 0

    @property
    def empty(self) -> bool:
        return not self.bars and not self.lines


def bars(series: Series, width: int = 640, height: int = 140) -> Chart:
    """One bar per period, scaled to the busiest one."""
    if not series.points:
        return Chart(width, height)
    peak = max(value for _, value in series.points) or 1
    step = width / len(series.points)
    drawn = tuple(
        Bar(
            x=round(i * step + step * 0.1, 1),
            y=round(height - value / peak * height, 1),
            width=round(step * 0.8, 1),
            height=round(value / peak * height, 1),
            label=period.isoformat(),
            value=value,
        )
        for i, (period, value) in enumerate(series.points)
    )
    return Chart(width, height, bars=drawn, first=drawn[0].label, last=drawn[-1].label, peak=peak)


def lines(series: list[Series], width: int = 640, height: int = 140) -> Chart:
    """One line per series over the months from the first to the last any of them has, scaled to the highest."""
    periods = _months({period for s in series for period, _ in s.points})
    if not periods:
        return Chart(width, height)
    peak = max(value for s in series for _, value in s.points) or 1
    drawn = tuple(
        Line(s.name, _polyline(dict(s.points), periods, peak, width, height), PALETTE[i % len(PALETTE)],
             sum(v for _, v in s.points))
        for i, s in enumerate(series)
    )  # fmt: skip
    return Chart(width, height, lines=drawn, first=periods[0].isoformat(), last=periods[-1].isoformat(), peak=peak)


def sparkline(series: Series, periods: list[date] | None = None, width: int = 120, height: int = 24) -> Chart:
    """A small line of one series (its own months unless `periods` is given), for tables."""
    months = periods or _months({period for period, _ in series.points})
    if not months:
        return Chart(width, height)
    peak = max((value for _, value in series.points), default=0) or 1
    line = Line(series.name, _polyline(dict(series.points), months, peak, width, height), PALETTE[0],
                sum(v for _, v in series.points))  # fmt: skip
    return Chart(width, height, lines=(line,), first=months[0].isoformat(), last=months[-1].isoformat(), peak=peak)


def span(series: Iterable[Series]) -> list[date]:
    """Every month from the first to the last of any series: one axis for a table of sparklines, so they compare."""
    return _months({period for s in series for period, _ in s.points})


def _months(seen: set[date]) -> list[date]:
    """Every first-of-month from the earliest to the latest of `seen`: a month without videos is a 0, not skipped."""
    if not seen:
        return []
    month, last = min(seen), max(seen)
    months = []
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _polyline(values: dict[date, int], periods: list[date], peak: int, width: int, height: int) -> str:
    step = width / max(1, len(periods) - 1)
    pad = 2  # keeps the stroke inside the box at the top and bottom
    points = [
        (round(i * step, 1), round(pad + (height - 2 * pad) * (1 - values.get(p, 0) / peak), 1))
        for i, p in enumerate(periods)
    ]
    if len(points) == 1:  # one month: a level line across the box (a polyline of one point draws nothing)
        points.append((float(width), points[0][1]))
    return " ".join(f"{x},{y}" for x, y in points)
