"""Small inline SVG charts for the auditor's report: lines, stacked bars, a filled area, with axes and a legend.

The report must be one self-contained file that opens anywhere and is written in a fraction of the time it takes
to fetch the history it describes; plain SVG does both (a plotting library costs more than the rest of the replay).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 36, 58


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]
    color: str
    dashed: bool = False


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < high:  # the top tick is the first at or above the highest value
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


class _Frame:
    def __init__(self, title: str, xs: Sequence[int], low: float, high: float, y_label: str) -> None:
        self.xs = list(xs)
        self.ticks = _nice_ticks(min(low, 0.0) if low >= 0 else low, high)
        self.low, self.high = self.ticks[0], self.ticks[-1]
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
            f'height="{HEIGHT}" font-family="sans-serif" font-size="11">',
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
            f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
            f'<text x="14" y="{TOP + self.plot_h / 2}" transform="rotate(-90 14 {TOP + self.plot_h / 2})" '
            f'text-anchor="middle">{html.escape(y_label)}</text>',
        ]
        for tick in self.ticks:
            y = self.y(tick)
            self.parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
            self.parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
        step = max(1, math.ceil(len(self.xs) / 12))
        for i, x in enumerate(self.xs):
            if i % step == 0 or i == len(self.xs) - 1:
                self.parts.append(
                    f'<text x="{self.x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{x}</text>'
                )
        self.parts.append(
            f'<text x="{LEFT + self.plot_w / 2}" y="{HEIGHT - BOTTOM + 32}" text-anchor="middle">period</text>'
        )
        self.parts.append(
            f'<rect x="{LEFT}" y="{TOP}" width="{self.plot_w}" height="{self.plot_h}" fill="none" stroke="#888"/>'
        )

    @property
    def plot_w(self) -> float:
        return WIDTH - LEFT - RIGHT

    @property
    def plot_h(self) -> float:
        return HEIGHT - TOP - BOTTOM

    def x(self, i: int) -> float:
        n = max(len(self.xs), 1)
        return LEFT + (i + 0.5) * self.plot_w / n

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return TOP + self.plot_h * (1 - (value - self.low) / span)

    def legend(self, entries: Sequence[tuple[str, str, bool]]) -> None:
        x = LEFT
        for label, color, dashed in entries:
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            self.parts.append(
                f'<line x1="{x}" x2="{x + 22}" y1="{HEIGHT - 12}" y2="{HEIGHT - 12}" stroke="{color}" '
                f'stroke-width="4"{dash}/>'
            )
            self.parts.append(f'<text x="{x + 27}" y="{HEIGHT - 8}">{html.escape(label)}</text>')
            x += 34 + 7 * len(label)

    def svg(self) -> str:
        return "".join(self.parts) + "</svg>"


def line_chart(title: str, xs: Sequence[int], series: Sequence[Series], y_label: str,
               hline: tuple[float, str, str] | None = None, fill: bool = False) -> str:
    values = [v for s in series for v in s.values] + ([hline[0]] if hline else [])
    frame = _Frame(title, xs, min(values, default=0.0), max(values, default=1.0), y_label)
    for s in series:
        points = " ".join(f"{frame.x(i):.1f},{frame.y(v):.1f}" for i, v in enumerate(s.values))
        if fill and s.values:
            base = frame.y(max(frame.low, 0.0))
            area = f"{frame.x(0):.1f},{base:.1f} {points} {frame.x(len(s.values) - 1):.1f},{base:.1f}"
            frame.parts.append(f'<polygon points="{area}" fill="{s.color}" fill-opacity="0.45" stroke="none"/>')
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        frame.parts.append(
            f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="2.5"{dash}/>'
        )
        if len(s.values) == 1:  # a line needs two points: one period is a marked point with its value
            x, y = frame.x(0), frame.y(s.values[0])
            frame.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{s.color}"/>')
            frame.parts.append(f'<text x="{x + 9:.1f}" y="{y - 6:.1f}" fill="{s.color}">{_fmt(s.values[0])}</text>')
    entries = [(s.label, s.color, s.dashed) for s in series]
    if hline:
        value, label, color = hline
        y = frame.y(value)
        frame.parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="2.5" '
            f'stroke-dasharray="6 4"/>'
        )
        entries.append((label, color, True))
    frame.legend(entries)
    return frame.svg()


def stacked_bars(title: str, xs: Sequence[int], series: Sequence[Series], y_label: str) -> str:
    totals = [sum(s.values[i] for s in series) for i in range(len(xs))]
    frame = _Frame(title, xs, 0.0, max(totals, default=1.0), y_label)
    width = frame.plot_w / max(len(xs), 1) * 0.8
    for i in range(len(xs)):
        bottom = 0.0
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            y_top, y_bottom = frame.y(bottom + value), frame.y(bottom)
            frame.parts.append(
                f'<rect x="{frame.x(i) - width / 2:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{s.color}"/>'
            )
            bottom += value
    frame.legend([(s.label, s.color, False) for s in series])
    return frame.svg()
