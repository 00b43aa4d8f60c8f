"""A latency chart drawn on the server as inline SVG: the average and p95 per time bucket.

Drawn here rather than by a charting library in the browser: the page needs no JavaScript,
no CDN (agents run where there is no internet) and no new dependency, and a strict CSP can
forbid every script. Screen readers get a ``<title>`` and an ``aria-label`` that say what
the chart shows in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from checkout_monitor.history import DurationBucket

WIDTH, HEIGHT = 640, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 12, 28  # room for the axis labels


def _time_label(moment: datetime, span_seconds: float) -> str:
    return moment.strftime("%H:%M" if span_seconds < 86_400 else "%d %b %H:%M")


def latency_chart(
    buckets: Sequence[DurationBucket],
    since: datetime,
    until: datetime,
    bucket_seconds: float,
    title: str,
) -> str:
    """The SVG element; with no bucket, a chart that says there is nothing to draw."""
    span = max((until - since).total_seconds(), 1.0)
    top = max((bucket.p95 for bucket in buckets), default=0.0)
    top = max(top * 1.1, 0.1)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(moment: datetime) -> float:
        # a bucket is drawn at its middle: the runs in it finished around then
        offset = (moment - since).total_seconds() + bucket_seconds / 2
        return _LEFT + plot_w * min(max(offset / span, 0.0), 1.0)

    def y(seconds: float) -> float:
        return _TOP + plot_h * (1 - seconds / top)

    def line(values: Sequence[tuple[datetime, float]]) -> str:
        points = [f"{x(moment):.1f},{y(value):.1f}" for moment, value in values]
        return "M" + " L".join(points) if points else ""

    average = line([(b.start, b.average) for b in buckets])
    p95 = line([(b.start, b.p95) for b in buckets])
    runs = sum(bucket.count for bucket in buckets)
    if buckets:
        worst = max(bucket.p95 for bucket in buckets)
        summary = f"{title}: {runs} runs, p95 up to {worst:.2f} s"
    else:
        summary = f"{title}: no runs in this range"
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(summary)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(summary)}</title>",
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" '
        f'y2="{_TOP + plot_h}"/>',
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        seconds = top * fraction
        parts.append(
            f'<text class="label" x="{_LEFT - 6}" y="{y(seconds) + 4:.1f}" '
            f'text-anchor="end">{seconds:.1f} s</text>'
        )
    for fraction, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        moment = since + (until - since) * fraction
        parts.append(
            f'<text class="label" x="{_LEFT + plot_w * fraction:.1f}" y="{HEIGHT - 8}" '
            f'text-anchor="{anchor}">{_time_label(moment, span)} UTC</text>'
        )
    if buckets:
        parts.append(f'<path class="average" d="{average}"/>')
        parts.append(f'<path class="p95" d="{p95}"/>')
        parts.extend(
            f'<circle class="point" cx="{x(b.start):.1f}" cy="{y(b.average):.1f}" r="2.5"/>'
            for b in buckets
        )
        # a tick per bucket: a line through one point draws nothing, a tick always shows
        ticks = " ".join(f"M{x(b.start) - 5:.1f},{y(b.p95):.1f} h10" for b in buckets)
        parts.append(f'<path class="p95-mark" d="{ticks}"/>')
    else:
        parts.append(
            f'<text class="label" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            "no runs in this range</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
