#!/usr/bin/env python3
"""How leads ended, and how fast the customer answered, from the plug's own log.

    scripts/report.py [LOG_FILE ...] [--html FILE]        (standard input when no file)

Reads the transition log's lines and the metric (EMF) lines, as the plug writes them or as CloudWatch exports
them (scripts/trace.py's reader), and prints leads by state and reason and the customer's response-time
percentiles (p50/p90/p99, nearest rank), overall and by kind of end. A failed lead is told apart by what it
says about the customer: an invalid lead (400: the platform's), a customer failure (502: timeout, 5xx,
unreachable), a lead held back while delivery was paused (502, never sent), a plug or set-up error. Replays
(a lead the ledger had delivered already: answered again, the customer not called) and the customer's pause
windows (the health lines) are counted and drawn on the time axis.

`--html FILE` also writes one self-contained page (no network: its charts are SVG drawn here, readable at
phone width) with the outcomes over time, the response times on a log scale with the timeouts counted apart,
and the tables. On a large input, progress goes to standard error every second or so. Only states, reasons
and times are read and shown: no lead id, no personal data.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dispatcher.reasons import ENDINGS  # the standard library only: the script runs with any Python 3.11
from scripts.trace import is_transition, log_objects, quiet_on_closed_pipe

RESPONSE_TIME = "ResponseTime"  # the metric dispatcher/metrics.py writes; kept here so the script runs alone
PERCENTILES = (50, 90, 99)
STATE_ORDER = ("accepted", "refused", "duplicate", "failed")
# How a lead ended, as on-call reads it: (kind, label, colour), in the order of the charts and tables.
KINDS = (
    ("accepted", "accepted", "#2e7d32"),
    ("refused", "refused (406)", "#ef6c00"),
    ("duplicate", "duplicate (409)", "#5c6bc0"),
    ("invalid", "invalid lead (400)", "#8d6e63"),
    ("customer", "customer failed (502)", "#c62828"),
    ("paused", "held back, paused (502)", "#f06292"),
    ("plug", "plug or set-up error", "#212121"),
    ("other", "other", "#9e9e9e"),
)
KIND_LABELS = {kind: label for kind, label, _ in KINDS}
KIND_COLOURS = {kind: colour for kind, _, colour in KINDS}
TIMEOUT = "customer_timeout"
# Time slots are kept at the finest of these resolutions (s) that holds the log in MAX_SLOTS slots.
RESOLUTIONS_S = (1, 10, 60, 600, 3600)
MAX_SLOTS = 20_000
BUCKETS_S = (1, 2, 5, 10, 15, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 604800)
MAX_BARS = 60
BINS_PER_DECADE = 4
PROGRESS_EVERY_S = 1.0
WIDTH, HEIGHT, LEFT, BOTTOM = 640, 320, 48, 64  # a chart's size and its margins for the axes' labels
PLOT_WIDTH = WIDTH - LEFT - 10


def kind_of(state: str, reason: str) -> str:
    """The kind of end of a (state, reason): the failed ones by the status the platform got."""
    if state in ("accepted", "refused", "duplicate"):
        return state
    ending = ENDINGS.get(reason)  # type: ignore[call-overload]  # a str finds its Reason
    if state != "failed" or ending is None:
        return "other"
    if reason == "customer_paused":
        return "paused"
    if ending.status == 400:
        return "invalid"
    if ending.status == 502 and reason != "in_progress":
        return "customer"
    if ending.status in (401, 404, 405, 500):
        return "plug"
    return "other"


def is_health_line(value: dict[str, Any]) -> bool:
    """A customer's pause or resume (dispatcher/health.py's line): no lead id, a customer and a trigger."""
    return "customer" in value and value.get("trigger") in ("pause", "resume") and "lead_id" not in value


@dataclass(frozen=True)
class Pause:
    start: datetime
    until: datetime | None
    reason: str


@dataclass
class Report:
    """What the log says, folded as it is read: nothing per lead is kept."""

    ends: Counter[tuple[str, str]] = field(default_factory=Counter)  # (state, reason) -> leads
    resolution_s: int = RESOLUTIONS_S[0]
    slots: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # epoch slot -> kinds
    replays: int = 0
    pauses: list[Pause] = field(default_factory=list)
    resumes: list[datetime] = field(default_factory=list)
    response_ms: list[float] = field(default_factory=list)
    response_ms_by_state: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    response_ms_by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeouts_ms: list[float] = field(default_factory=list)

    def add(self, value: dict[str, Any]) -> None:
        if is_transition(value):
            if value.get("reason"):  # only a terminal move carries a reason
                state, reason = str(value["to"]), str(value["reason"])
                self.ends[(state, reason)] += 1
                replayed = value.get("trigger") == "replay" or bool(value.get("replay_of"))
                self.replays += replayed
                at = _instant(value.get("ts"))
                if at is not None:
                    slot = self._slot(at)
                    slot[kind_of(state, reason)] += 1
                    slot["replayed"] += replayed
            return
        if is_health_line(value):
            at = _instant(value.get("ts"))
            if at is None:
                return
            if value.get("trigger") == "pause":
                self.pauses.append(Pause(at, _instant(value.get("paused_until")), str(value.get("reason") or "")))
            else:
                self.resumes.append(at)
            self._slot(at)  # the time axis spans it
            return
        for time_ms in response_times(value):
            state, reason = str(value.get("State", "?")), str(value.get("Reason", "?"))
            self.response_ms.append(time_ms)
            self.response_ms_by_state[state].append(time_ms)
            self.response_ms_by_kind[kind_of(state, reason)].append(time_ms)
            if reason == TIMEOUT:
                self.timeouts_ms.append(time_ms)

    def _slot(self, at: datetime) -> Counter[str]:
        key = int(at.timestamp()) // self.resolution_s * self.resolution_s
        if key not in self.slots and len(self.slots) >= MAX_SLOTS and self.resolution_s < RESOLUTIONS_S[-1]:
            self._coarsen()
            key = int(at.timestamp()) // self.resolution_s * self.resolution_s
        return self.slots[key]

    def _coarsen(self) -> None:
        """Fold the slots into the next coarser resolution: a long log keeps a bounded number of them."""
        self.resolution_s = next(size for size in RESOLUTIONS_S if size > self.resolution_s)
        folded: dict[int, Counter[str]] = defaultdict(Counter)
        for key, counts in self.slots.items():
            folded[key // self.resolution_s * self.resolution_s].update(counts)
        self.slots = folded

    @property
    def leads(self) -> int:
        return sum(self.ends.values())

    def kinds(self) -> Counter[str]:
        counted: Counter[str] = Counter()
        for (state, reason), count in self.ends.items():
            counted[kind_of(state, reason)] += count
        return counted

    @property
    def sent(self) -> int:
        """Requests that reached the customer: one response time each."""
        return len(self.response_ms)

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
    for value in log_objects(lines, lambda value: is_transition(value) or is_metric_line(value)
                             or is_health_line(value)):
        report.add(value)
    return report


# --- text ------------------------------------------------------------------------------------------------

def text_report(report: Report) -> str:
    slots = sorted(report.slots)
    span = (f", {_utc(slots[0]):%Y-%m-%d %H:%M:%S} to {_utc(slots[-1] + report.resolution_s):%Y-%m-%d %H:%M:%S} UTC"
            if slots else "")
    lines = [f"Lead Plug report: {report.leads:,} leads ended{span}", "", "Leads by state and reason"]
    for state in report.states():
        reasons = sorted(((count, reason) for (each, reason), count in report.ends.items() if each == state),
                         key=lambda item: (-item[0], item[1]))
        total = sum(count for count, _ in reasons)
        lines.append(f"  {state:<40} {total:>9,}  {total / report.leads:6.1%}")
        lines += [f"    {reason:<38} {count:>9,}" for count, reason in reasons]
    kinds = report.kinds()
    lines += ["", "Leads by kind of end"]
    lines += [f"  {label:<46} {kinds[kind]:>9,}" for kind, label, _ in KINDS if kinds[kind]]
    lines += ["", f"Replayed from the ledger (answered again, the customer not called): {report.replays:,}",
              f"Customer paused: {len(report.pauses):,} time(s), resumed {len(report.resumes):,} time(s)"]
    lines += [f"  paused {_utc_text(pause.start)} until {_utc_text(pause.until)} after {pause.reason or '?'}"
              for pause in report.pauses]
    lines += ["", f"Customer response time (ms), {len(report.response_ms):,} requests sent"]
    if not report.response_ms:
        lines.append("  no response time in the log (no request left, or the log has no metric lines)")
        return "\n".join(lines)
    header = "".join(f"{f'p{rank}':>10}" for rank in PERCENTILES)
    lines.append(f"  {'':<10}{'count':>9}{header}{'max':>10}")
    for name, values in _timed_rows(report):
        ordered = sorted(values)
        figures = "".join(f"{percentile(ordered, rank):>10.1f}" for rank in PERCENTILES)
        lines.append(f"  {name:<10}{len(ordered):>9,}{figures}{ordered[-1]:>10.1f}")
    if report.timeouts_ms:
        lines.append(f"  {len(report.timeouts_ms):,} of them timed out (reason {TIMEOUT})")
    return "\n".join(lines)


def _timed_rows(report: Report) -> list[tuple[str, list[float]]]:
    """The response times overall, then by kind of end."""
    return [("all", report.response_ms)] + [(kind, report.response_ms_by_kind[kind]) for kind, _, _ in KINDS
                                             if report.response_ms_by_kind.get(kind)]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _utc_text(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S} UTC" if at else "?"


# --- the HTML page: SVG drawn here, nothing fetched ------------------------------------------------------

def _nice(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (a readable axis maximum or step)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _chart(chart_id: str, label: str, top: int, top_value: float) -> list[str]:
    """A chart's opening <svg> tag (it scales to the page's width) and its horizontal grid: 0, half, top."""
    plot_h = HEIGHT - top - BOTTOM
    parts = [f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMinYMin meet" role="img" aria-label="{label}">']
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + PLOT_WIDTH}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{top_value * fraction:g}</text>')
    return parts


def _clock(at: datetime, bucket_s: int) -> str:
    return f"{at:%H:%M:%S}" if bucket_s < 60 else f"{at:%m-%d %H:%M}"


def outcomes_svg(report: Report) -> str:
    """Stacked bars of the leads that ended in each period by kind of end, the pause windows shaded behind
    them, and the replays in a strip under the axis."""
    top = 16
    if not report.slots:
        return '<p class="empty">No timed transition in the log.</p>'
    first = min(report.slots)
    last = max([*report.slots, *(int(p.until.timestamp()) for p in report.pauses if p.until)])
    span = last + report.resolution_s - first
    bucket = next((size for size in BUCKETS_S if size >= report.resolution_s and span / size <= MAX_BARS),
                  BUCKETS_S[-1])
    start = first // bucket * bucket
    bars: dict[int, Counter[str]] = defaultdict(Counter)
    for key, counts in report.slots.items():
        bars[(key - start) // bucket].update(counts)
    count = (last - start) // bucket + 1
    kinds = [kind for kind, _, _ in KINDS]
    top_value = _nice(max([sum(counts[kind] for kind in kinds) for counts in bars.values()] + [1]))
    plot_h = HEIGHT - top - BOTTOM
    slot = PLOT_WIDTH / count

    def x_of(at: datetime) -> float:
        return LEFT + min(max((at.timestamp() - start) / bucket, 0), count) * slot

    parts = _chart("outcomes-over-time", "Leads ended per period, by kind of end", top, top_value)
    for pause in report.pauses:  # behind the bars
        x1 = x_of(pause.start)
        x2 = max(x_of(pause.until) if pause.until else x1, x1 + 3)
        parts.append(f'<rect class="pause" data-from="{pause.start:%H:%M:%S}" '
                     f'data-until="{pause.until:%H:%M:%S}" x="{x1:.1f}" y="{top}" width="{x2 - x1:.1f}" '
                     f'height="{plot_h}"><title>customer paused {_utc_text(pause.start)} to '
                     f'{_utc_text(pause.until)} after {html.escape(pause.reason)}</title></rect>'
                     if pause.until else "")
    for at in report.resumes:
        x = x_of(at)
        parts.append(f'<line class="resume" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}">'
                     f'<title>delivery resumed {_utc_text(at)}</title></line>')
    bar_w = min(slot * 0.8, 40.0)  # a few periods make bars, not walls
    strip_y = HEIGHT - BOTTOM + 22
    most_replays = max([counts["replayed"] for counts in bars.values()] + [1])
    for index in range(count):
        x, y = LEFT + (index + 0.5) * slot - bar_w / 2, float(top + plot_h)
        at = _utc(start + bucket * index)
        for kind in kinds:
            value = bars[index][kind]
            if not value:
                continue
            bar_h = plot_h * value / top_value
            y -= bar_h
            parts.append(f'<rect class="bar" data-kind="{kind}" data-count="{value}" x="{x:.1f}" y="{y:.1f}" '
                         f'width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{KIND_COLOURS[kind]}">'
                         f'<title>{at:%Y-%m-%d %H:%M:%S} {html.escape(KIND_LABELS[kind])}: {value:,}</title></rect>')
        replayed = bars[index]["replayed"]
        if replayed:
            height = 4 + 10 * replayed / most_replays
            parts.append(f'<rect class="replay" data-count="{replayed}" x="{x:.1f}" y="{strip_y + 14 - height:.1f}" '
                         f'width="{bar_w:.1f}" height="{height:.1f}"><title>{at:%Y-%m-%d %H:%M:%S} replayed from '
                         f'the ledger, the customer not called: {replayed:,}</title></rect>')
    for index in sorted({0, count // 2, count - 1}):
        at = _utc(start + bucket * index)
        parts.append(f'<text class="axis" x="{LEFT + (index + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="middle">{_clock(at, bucket)}</text>')
    parts.append(f'<text class="axis" x="2" y="{strip_y + 12}">replays</text>')
    parts.append(f'<text class="axis" x="{LEFT}" y="{HEIGHT - 6}">one bar per {_duration(bucket)}, UTC; '
                 f'shaded: customer paused</text>')
    parts.append("</svg>")
    shown = report.kinds()
    legend = "".join(f'<span class="key"><i style="background:{colour}"></i>{html.escape(label)}</span>'
                     for kind, label, colour in KINDS if shown[kind])
    legend += ('<span class="key"><i class="pause"></i>customer paused</span>'
               '<span class="key"><i class="replay"></i>replayed, not sent</span>')
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _duration(seconds: int) -> str:
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds % size == 0:
            return f"{seconds // size} {unit}" + ("s" if unit == "day" and seconds > size else "")
    return f"{seconds} s"


def histogram_svg(report: Report) -> str:
    """How many answers took how long, on a log scale (BINS_PER_DECADE bins a decade); the timeouts in a bar of
    their own at the right, with p50/p90/p99 marked."""
    values = report.response_ms
    if not values:
        return '<p class="empty">No response time in the log.</p>'
    top = 52
    timed_out = len(report.timeouts_ms)
    answered = sorted(value for value in _without(values, report.timeouts_ms) if value > 0) or [0.1]
    low = math.floor(math.log10(answered[0]) * BINS_PER_DECADE)
    high = max(math.floor(math.log10(answered[-1]) * BINS_PER_DECADE) + 1, low + 1)
    counts = [0] * (high - low)
    zero = 0
    for value in _without(values, report.timeouts_ms):
        if value <= 0:
            zero += 1
            continue
        counts[min(max(math.floor(math.log10(value) * BINS_PER_DECADE) - low, 0), high - low - 1)] += 1
    counts[0] += zero  # a 0 ms answer (a clock's rounding) is in the first bin
    columns = len(counts) + (1 if timed_out else 0)
    top_value = _nice(max([*counts, timed_out]))
    plot_h = HEIGHT - top - BOTTOM
    slot = PLOT_WIDTH / (columns + (0.5 if timed_out else 0))  # half a slot of gap before the timeouts' bar
    parts = _chart("response-time-histogram", "Customer response times, log scale", top, top_value)

    def edge(index: int) -> float:
        return 10 ** ((low + index) / BINS_PER_DECADE)

    for index, value in enumerate(counts):
        bar_h = plot_h * value / top_value
        parts.append(f'<rect class="bar" data-count="{value}" data-from="{edge(index):.3g}" '
                     f'data-to="{edge(index + 1):.3g}" x="{LEFT + index * slot + 1:.1f}" '
                     f'y="{top + plot_h - bar_h:.1f}" width="{max(slot - 2, 1):.1f}" height="{bar_h:.1f}" '
                     f'fill="#1565c0"><title>{edge(index):.3g} to {edge(index + 1):.3g} ms: {value:,}</title></rect>')
    if timed_out:
        x = LEFT + (len(counts) + 0.5) * slot
        bar_h = plot_h * timed_out / top_value
        parts.append(f'<rect class="bar timeout" data-count="{timed_out}" x="{x + 1:.1f}" '
                     f'y="{top + plot_h - bar_h:.1f}" width="{max(slot - 2, 1):.1f}" height="{bar_h:.1f}" '
                     f'fill="#c62828"><title>timed out: {timed_out:,}</title></rect>'
                     f'<text class="axis" x="{x + slot / 2:.1f}" y="{top + plot_h - bar_h - 4:.1f}" '
                     f'text-anchor="middle">{timed_out:,}</text>'
                     f'<text class="axis" x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                     f'text-anchor="middle">timeout</text>')
    for index in range(0, len(counts) + 1):
        if (low + index) % BINS_PER_DECADE == 0:  # a label at each power of ten
            parts.append(f'<text class="axis" x="{LEFT + index * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                         f'text-anchor="middle">{_ms(edge(index))}</text>')
    ordered = sorted(values)
    for row, rank in enumerate(PERCENTILES):  # one label row each: close percentiles stay legible
        value = percentile(ordered, rank)
        position = (math.log10(max(value, edge(0))) * BINS_PER_DECADE - low) if value < edge(len(counts)) \
            else len(counts) + (1.0 if timed_out else 0)
        x = LEFT + min(position, columns) * slot
        parts.append(f'<line class="mark" data-percentile="p{rank}" x1="{x:.1f}" y1="{top - 46 + 16 * row}" '
                     f'x2="{x:.1f}" y2="{top + plot_h}"/><text class="axis" '
                     f'x="{x + 3 if x < LEFT + PLOT_WIDTH * 0.7 else x - 3:.1f}" y="{top - 36 + 16 * row}" '
                     f'text-anchor="{"start" if x < LEFT + PLOT_WIDTH * 0.7 else "end"}">p{rank} '
                     f'{value:.{0 if value >= 10 else 1}f} ms</text>')
    parts.append(f'<text class="axis" x="{LEFT}" y="{HEIGHT - 6}">milliseconds (log scale), from the request '
                 f'leaving to the answer</text></svg>')
    return "".join(parts)


def _without(values: Sequence[float], removed: Sequence[float]) -> list[float]:
    left = Counter(removed)
    kept = []
    for value in values:
        if left[value]:
            left[value] -= 1
        else:
            kept.append(value)
    return kept


def _ms(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lead Plug report</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 12px auto; padding: 0 12px; color: #212121;
  max-width: 960px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-top: 28px; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 10px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} tr.kind td {{ font-weight: 600; border-top: 1px solid #ddd; }}
#facts {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; padding: 0;
  list-style: none; }}
#facts li {{ border: 1px solid #e0e0e0; border-radius: 6px; padding: 6px 10px; }}
#facts b {{ display: block; font-size: 22px; }}
svg.chart {{ width: 100%; height: auto; display: block; }}
.chart .grid {{ stroke: #e0e0e0; }} .chart .axis {{ font-size: 15px; fill: #616161; }}
.chart .mark {{ stroke: #212121; stroke-dasharray: 4 3; }}
.chart .pause {{ fill: #b0bec5; fill-opacity: 0.45; }} .chart .resume {{ stroke: #2e7d32; stroke-dasharray: 2 2; }}
.chart .replay {{ fill: #6a1b9a; }}
.legend .key {{ margin-right: 14px; white-space: nowrap; display: inline-block; }}
.legend i {{ display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }}
.legend i.pause {{ background: #cfd8dc; }} .legend i.replay {{ background: #6a1b9a; }}
</style></head><body>
<h1>Lead Plug report</h1>
<p>{span}</p>
<ul id="facts">{facts}</ul>
<h2>Outcomes over time</h2>
{outcomes}
<h2>Customer response time</h2>
{histogram}
<div class="scroll">{percentiles}</div>
<h2>Leads by kind of end and reason</h2>
<div class="scroll">{table}</div>
<p>Written {written} UTC by scripts/report.py.</p>
</body></html>
"""


def _fact(fact_id: str, count: int, label: str) -> str:
    return f'<li id="{fact_id}" data-count="{count}"><b>{count:,}</b>{html.escape(label)}</li>'


def html_report(report: Report) -> str:
    kinds = report.kinds()
    rows = []
    for kind, label, _ in KINDS:
        reasons = sorted(((count, f"{state} / {reason}" if kind == "other" else reason)
                          for (state, reason), count in report.ends.items()
                          if kind_of(state, reason) == kind), key=lambda item: (-item[0], item[1]))
        if not reasons:
            continue
        rows.append(f'<tr class="kind" data-kind="{kind}" data-count="{kinds[kind]}"><td>{html.escape(label)}</td>'
                    f"<td>{kinds[kind]:,}</td><td>{kinds[kind] / report.leads:.1%}</td></tr>")
        rows += [f"<tr><td>&nbsp;&nbsp;{html.escape(reason)}</td><td>{count:,}</td><td></td></tr>"
                 for count, reason in reasons]
    table = f"<table><tr><th>kind / reason</th><th>leads</th><th>share</th></tr>{''.join(rows)}</table>"
    percentiles = ""
    if report.response_ms:
        heads = "".join(f"<th>p{rank}</th>" for rank in PERCENTILES)
        lines = []
        for name, values in _timed_rows(report):
            ordered = sorted(values)
            cells = "".join(f'<td data-percentile="p{rank}">{percentile(ordered, rank):.1f}</td>'
                            for rank in PERCENTILES)
            label = html.escape(KIND_LABELS.get(name, name))
            lines.append(f'<tr data-kind="{name}" data-count="{len(ordered)}"><td>{label}</td>'
                         f"<td>{len(ordered):,}</td>{cells}<td>{ordered[-1]:.1f}</td></tr>")
        percentiles = (f'<table id="percentiles"><tr><th>ms, by kind of end</th><th>requests</th>{heads}'
                       f"<th>max</th></tr>{''.join(lines)}</table>")
    slots = sorted(report.slots)
    span = (f"From {_utc_text(_utc(slots[0]))} to {_utc_text(_utc(slots[-1] + report.resolution_s))}."
            if slots else "No timed line in the log.")
    facts = "".join([
        _fact("leads", report.leads, "leads ended"),
        _fact("sent", report.sent, "requests reached the customer"),
        _fact("replays", report.replays, "replayed from the ledger (not sent again)"),
        _fact("invalid", kinds["invalid"], "invalid leads (400, not sent)"),
        _fact("customer-failures", kinds["customer"], "customer failures (502)"),
        _fact("paused-leads", kinds["paused"], "held back while paused (not sent)"),
        _fact("pauses", len(report.pauses), "customer pauses"),
        _fact("timeouts", len(report.timeouts_ms), "requests timed out"),
    ])
    return PAGE.format(span=html.escape(span), facts=facts, outcomes=outcomes_svg(report),
                       histogram=histogram_svg(report), percentiles=percentiles, table=table,
                       written=f"{datetime.now(UTC):%Y-%m-%d %H:%M}")


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
    if args.html:
        try:
            Path(args.html).write_text(html_report(report), encoding="utf-8")
        except OSError as exc:
            print(f"report: cannot write {args.html}: {exc.strerror}", file=sys.stderr)
            return 2
    print(text_report(report))
    if args.html:
        print(f"\nreport: page written to {args.html}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(quiet_on_closed_pipe(main))
