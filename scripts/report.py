#!/usr/bin/env python3
"""How leads ended, and how fast the customer answered, from the plug's own log (SPEC section 9).

    scripts/report.py [LOG_FILE ...] [--html FILE]        (standard input when no file)

Reads the transition log's lines and the metric (EMF) lines, as the plug writes them or as CloudWatch exports
them (scripts/trace.py's reader), and prints leads by state and reason and the customer's response-time
percentiles (p50/p90/p99, nearest rank). `--html FILE` also writes one self-contained page (no network: its
charts are SVG drawn here) with the outcomes over time and a histogram of the response times. On a large
input, progress goes to standard error every second or so. Only states, reasons and times are read and
shown: no lead id, no personal data.
"""

from __future__ import annotations

import argparse
import html
import math
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.trace import is_transition, log_objects

RESPONSE_TIME = "ResponseTime"  # the metric dispatcher/metrics.py writes; kept here so the script runs alone
PERCENTILES = (50, 90, 99)
STATE_ORDER = ("accepted", "refused", "duplicate", "failed")
STATE_COLOURS = {"accepted": "#2e7d32", "refused": "#ef6c00", "duplicate": "#5c6bc0", "failed": "#c62828"}
OTHER_COLOUR = "#757575"
BUCKETS = [timedelta(minutes=minutes) for minutes in (1, 5, 15, 30, 60, 180, 360, 720, 1440, 10080)]
MAX_BARS = 60
HISTOGRAM_BINS = 20
PROGRESS_EVERY_S = 1.0
WIDTH, HEIGHT, LEFT, BOTTOM = 900, 300, 56, 44  # a chart's size and its margins for the axes' labels
PLOT_WIDTH = WIDTH - LEFT - 10


@dataclass
class Report:
    """What the log says, folded as it is read: nothing per lead is kept."""

    ends: Counter[tuple[str, str]] = field(default_factory=Counter)  # (state, reason) -> leads
    per_minute: dict[datetime, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    response_ms: list[float] = field(default_factory=list)
    response_ms_by_state: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, value: dict[str, Any]) -> None:
        if is_transition(value):
            if value.get("reason"):  # only a terminal move carries a reason
                state, reason = str(value["to"]), str(value["reason"])
                self.ends[(state, reason)] += 1
                at = _instant(value.get("ts"))
                if at is not None:
                    self.per_minute[at.replace(second=0, microsecond=0)][state] += 1
            return
        for time_ms in response_times(value):
            self.response_ms.append(time_ms)
            self.response_ms_by_state[str(value.get("State", "?"))].append(time_ms)

    @property
    def leads(self) -> int:
        return sum(self.ends.values())

    def states(self) -> list[str]:
        seen = {state for state, _ in self.ends}
        return [state for state in STATE_ORDER if state in seen] + sorted(seen - set(STATE_ORDER))


def _instant(text: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def is_metric_line(value: dict[str, Any]) -> bool:
    return isinstance(value.get("_aws"), dict)


def response_times(document: dict[str, Any]) -> list[float]:
    """The customer's response times an EMF document declares (a value or an array of values)."""
    directives = document["_aws"].get("CloudWatchMetrics") or []
    declared = any(isinstance(metric, dict) and metric.get("Name") == RESPONSE_TIME
                   for directive in directives if isinstance(directive, dict)
                   for metric in directive.get("Metrics") or [])
    raw = document.get(RESPONSE_TIME) if declared else None
    values = raw if isinstance(raw, list) else [raw]
    return [float(value) for value in values if isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value)]


def percentile(ordered: Sequence[float], rank: float) -> float:
    """Nearest rank: the smallest value with at least `rank` % of the values at or below it."""
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


# --- reading, with progress -----------------------------------------------------------------------------

def _with_progress(lines: Iterable[str], total_bytes: int | None, out: TextIO) -> Iterator[str]:
    """The lines, telling `out` how far the reading is when it takes more than a second."""
    started = last = time.monotonic()
    count = read = 0
    for count, line in enumerate(lines, start=1):
        read += len(line)
        if count % 4096 == 0 and (now := time.monotonic()) - last >= PROGRESS_EVERY_S:
            last = now
            share = f", {min(read / total_bytes, 1):.0%} of {total_bytes / 1e6:,.0f} MB" if total_bytes else ""
            print(f"report: {count:,} lines read{share}", file=out, flush=True)
        yield line
    if last != started:
        print(f"report: {count:,} lines read in {time.monotonic() - started:.1f} s", file=out, flush=True)


def _lines(paths: Sequence[str]) -> Iterator[str]:
    if not paths:
        yield from sys.stdin
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as stream:
            yield from stream


def read_report(paths: Sequence[str], progress: TextIO = sys.stderr) -> Report:
    total = sum(os.path.getsize(path) for path in paths) if paths else None
    report = Report()
    lines = _with_progress(_lines(paths), total, progress)
    for value in log_objects(lines, lambda value: is_transition(value) or is_metric_line(value)):
        report.add(value)
    return report


# --- text ------------------------------------------------------------------------------------------------

def text_report(report: Report) -> str:
    minutes = sorted(report.per_minute)
    span = f", {minutes[0]:%Y-%m-%d %H:%M} to {minutes[-1]:%Y-%m-%d %H:%M} UTC" if minutes else ""
    lines = [f"Lead Plug report: {report.leads:,} leads ended{span}", "", "Leads by state and reason"]
    for state in report.states():
        reasons = sorted(((count, reason) for (each, reason), count in report.ends.items() if each == state),
                         key=lambda item: (-item[0], item[1]))
        total = sum(count for count, _ in reasons)
        lines.append(f"  {state:<40} {total:>9,}  {total / report.leads:6.1%}")
        lines += [f"    {reason:<38} {count:>9,}" for count, reason in reasons]
    lines += ["", f"Customer response time (ms), {len(report.response_ms):,} requests sent"]
    if not report.response_ms:
        lines.append("  no response time in the log (no request left, or the log has no metric lines)")
        return "\n".join(lines)
    header = "".join(f"{f'p{rank}':>10}" for rank in PERCENTILES)
    lines.append(f"  {'':<10}{'count':>9}{header}{'max':>10}")
    rows = [("all", report.response_ms)]
    rows += [(state, report.response_ms_by_state[state]) for state in [*STATE_ORDER, *sorted(
        set(report.response_ms_by_state) - set(STATE_ORDER))] if report.response_ms_by_state.get(state)]
    for name, values in rows:
        ordered = sorted(values)
        figures = "".join(f"{percentile(ordered, rank):>10.1f}" for rank in PERCENTILES)
        lines.append(f"  {name:<10}{len(ordered):>9,}{figures}{ordered[-1]:>10.1f}")
    return "\n".join(lines)


# --- the HTML page: SVG drawn here, nothing fetched ------------------------------------------------------

def _nice(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (a readable axis maximum or step)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _chart(chart_id: str, label: str, top: int, top_value: float) -> list[str]:
    """A chart's opening <svg> tag and its horizontal grid, labelled 0, half and `top_value`."""
    plot_h = HEIGHT - top - BOTTOM
    parts = [f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
             f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">']
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + PLOT_WIDTH}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{top_value * fraction:g}</text>')
    return parts


def _colour(state: str) -> str:
    return STATE_COLOURS.get(state, OTHER_COLOUR)


def outcomes_svg(report: Report) -> str:
    """Stacked bars of the leads that ended in each period, by state."""
    top = 16
    minutes = sorted(report.per_minute)
    if not minutes:
        return '<p class="empty">No timed transition in the log.</p>'
    span = minutes[-1] - minutes[0]
    bucket = next((size for size in BUCKETS if span / size < MAX_BARS), BUCKETS[-1])
    start = minutes[0]
    bars: dict[int, Counter[str]] = defaultdict(Counter)
    for minute, counts in report.per_minute.items():
        bars[int((minute - start) / bucket)].update(counts)
    count = max(bars) + 1
    top_value = _nice(max(sum(counts.values()) for counts in bars.values()))
    plot_h = HEIGHT - top - BOTTOM
    slot = PLOT_WIDTH / count
    parts = _chart("outcomes-over-time", "Leads ended per period, by state", top, top_value)
    bar_w = min(slot * 0.8, 40.0)  # a few periods make bars, not walls
    for index in range(count):
        x, y = LEFT + (index + 0.5) * slot - bar_w / 2, top + plot_h
        at = start + bucket * index
        for state in report.states():
            value = bars[index][state]
            if not value:
                continue
            bar_h = plot_h * value / top_value
            y -= bar_h
            parts.append(f'<rect class="bar" data-state="{html.escape(state)}" data-count="{value}" x="{x:.1f}" '
                         f'y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{_colour(state)}">'
                         f'<title>{at:%Y-%m-%d %H:%M} {html.escape(state)}: {value:,}</title></rect>')
    for index in sorted({0, count // 2, count - 1}):
        at = start + bucket * index
        parts.append(f'<text class="axis" x="{LEFT + (index + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 18}" '
                     f'text-anchor="middle">{at:%m-%d %H:%M}</text>')
    parts.append(f'<text class="axis" x="{LEFT}" y="{HEIGHT - 6}">one bar per {_duration(bucket)}, UTC</text>')
    parts.append("</svg>")
    legend = "".join(f'<span class="key"><i style="background:{_colour(state)}"></i>{html.escape(state)}</span>'
                     for state in report.states())
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _duration(size: timedelta) -> str:
    minutes = int(size.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day" + ("s" if minutes > 1440 else "")
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def histogram_svg(values: Sequence[float]) -> str:
    """How many answers took how long: equal bins up to the 99th percentile (the last bin holds the rest)."""
    if not values:
        return '<p class="empty">No response time in the log.</p>'
    top = 24
    ordered = sorted(values)
    marks = {rank: percentile(ordered, rank) for rank in PERCENTILES}
    upper = ordered[-1] if ordered[-1] <= 2 * marks[99] else marks[99]
    step = _nice(max(upper, 1e-3) / HISTOGRAM_BINS)
    bins = max(1, math.ceil(upper / step) if upper % step else int(upper / step) + 1)
    overflow = ordered[-1] >= bins * step  # the last bin then holds every slower answer too
    counts = [0] * bins
    for value in ordered:
        counts[min(int(value // step), bins - 1)] += 1
    top_value = _nice(max(counts))
    plot_h = HEIGHT - top - BOTTOM
    slot = PLOT_WIDTH / bins
    parts = _chart("response-time-histogram", "Customer response times", top, top_value)
    for index, value in enumerate(counts):
        low, high = index * step, (index + 1) * step
        label = f"{low:g} ms and more" if overflow and index == bins - 1 else f"{low:g} to {high:g} ms"
        bar_h = plot_h * value / top_value
        parts.append(f'<rect class="bar" data-count="{value}" data-from="{low:g}" x="{LEFT + index * slot + 1:.1f}" '
                     f'y="{top + plot_h - bar_h:.1f}" width="{slot - 2:.1f}" height="{bar_h:.1f}" fill="#1565c0">'
                     f'<title>{label}: {value:,}</title></rect>')
    for index in sorted({0, bins // 2, bins}):
        anchor = "end" if index == bins else "middle"  # the last tick is the plot's right edge
        parts.append(f'<text class="axis" x="{LEFT + index * slot:.1f}" y="{HEIGHT - BOTTOM + 18}" '
                     f'text-anchor="{anchor}">{index * step:g}{"+" if overflow and index == bins else ""} '
                     f'{"ms" if index == bins else ""}</text>')
    for row, (rank, value) in enumerate(marks.items()):  # one label row each: close percentiles stay legible
        x = LEFT + min(value / step, bins) * slot
        parts.append(f'<line class="mark" data-percentile="p{rank}" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" '
                     f'y2="{top + plot_h}"/><text class="axis" x="{x + 3:.1f}" y="{top + 6 + 13 * row}">p{rank} '
                     f'{value:.{0 if value >= 10 else 1}f} ms</text>')
    parts.append(f'<text class="axis" x="{LEFT}" y="{HEIGHT - 6}">milliseconds, from the request leaving to the '
                 f'answer</text></svg>')
    return "".join(parts)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Lead Plug report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212121; max-width: 960px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-top: 28px; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 12px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} tr.state td {{ font-weight: 600; border-top: 1px solid #ddd; }}
.chart .grid {{ stroke: #e0e0e0; }} .chart .axis {{ font-size: 11px; fill: #616161; }}
.chart .mark {{ stroke: #212121; stroke-dasharray: 4 3; }}
.legend .key {{ margin-right: 16px; }} .legend i {{ display: inline-block; width: 12px; height: 12px;
  margin-right: 4px; vertical-align: -1px; }}
</style></head><body>
<h1>Lead Plug report</h1>
<p>{summary}</p>
<h2>Outcomes over time</h2>
{outcomes}
<h2>Customer response time</h2>
{histogram}
{percentiles}
<h2>Leads by state and reason</h2>
{table}
</body></html>
"""


def html_report(report: Report) -> str:
    rows = []
    for state in report.states():
        reasons = sorted(((count, reason) for (each, reason), count in report.ends.items() if each == state),
                         key=lambda item: (-item[0], item[1]))
        total = sum(count for count, _ in reasons)
        rows.append(f'<tr class="state"><td>{html.escape(state)}</td><td>{total:,}</td>'
                    f"<td>{total / report.leads:.1%}</td></tr>")
        rows += [f"<tr><td>&nbsp;&nbsp;{html.escape(reason)}</td><td>{count:,}</td><td></td></tr>"
                 for count, reason in reasons]
    table = f"<table><tr><th>state / reason</th><th>leads</th><th>share</th></tr>{''.join(rows)}</table>"
    percentiles = ""
    if report.response_ms:
        ordered = sorted(report.response_ms)
        cells = "".join(f"<td>{percentile(ordered, rank):.1f}</td>" for rank in PERCENTILES)
        heads = "".join(f"<th>p{rank}</th>" for rank in PERCENTILES)
        percentiles = (f'<table id="percentiles"><tr><th></th><th>requests</th>{heads}<th>max</th></tr>'
                       f"<tr><td>ms</td><td>{len(ordered):,}</td>{cells}<td>{ordered[-1]:.1f}</td></tr></table>")
    summary = (f"{report.leads:,} leads ended; {len(report.response_ms):,} requests reached the customer. "
               f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by scripts/report.py.")
    return PAGE.format(summary=html.escape(summary), outcomes=outcomes_svg(report),
                       histogram=histogram_svg(report.response_ms), percentiles=percentiles, table=table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log_files", nargs="*", help="log files or CloudWatch exports (default: standard input)")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained page with charts")
    args = parser.parse_args(argv)
    try:
        report = read_report(args.log_files)
    except OSError as exc:
        print(f"report: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    if not report.leads:
        print("report: no lead ended in the log", file=sys.stderr)
        return 1
    print(text_report(report))
    if args.html:
        Path(args.html).write_text(html_report(report), encoding="utf-8")
        print(f"\nreport: page written to {args.html}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
