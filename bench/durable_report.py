#!/usr/bin/env python3
"""Table and plot for bench/durable.sh (standard library only).

    python3 bench/durable_report.py OUT_DIR [SUBTITLE]

Reads OUT_DIR/runs.tsv (one row per run), writes OUT_DIR/summary.txt (printed too) and OUT_DIR/durable.svg:
one bar per system (median increments/s, each run a dot on it) and its median p99 as a red dot on the right axis.
"""
import csv
import math
import statistics
import sys
from html import escape
from pathlib import Path

REFS = [("pg-upsert", "x pg-upsert"), ("redis-aof", "x redis-aof"), ("redis-nopersist", "x redis-nopersist")]
P99_REF = "pg-upsert"


def load(path):
    systems = {}  # name -> dict, in order of first appearance
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            s = systems.setdefault(row["system"], {"name": row["system"], "kind": row["kind"], "runs": []})
            s["runs"].append(row)
    for s in systems.values():
        ok = [r for r in s["runs"] if r["status"] == "ok"]
        s["ok"] = ok
        s["rps"] = [float(r["rps"]) for r in ok]
        s["p99"] = [float(r["p99_ms"]) for r in ok]
        s["med_rps"] = statistics.median(s["rps"]) if ok else None
        s["med_p99"] = statistics.median(s["p99"]) if ok else None
        s["non2xx"] = sum(int(r["non2xx"] or 0) + int(r["socket_errors"] or 0) for r in ok)
        checks = [r["check"] for r in ok if r["check"] not in ("", "-")]
        if not ok:
            s["check"] = "-"
        elif not checks:
            s["check"] = "not checked"
        elif all(c.startswith("PASS") for c in checks):
            s["check"] = f"PASS {len(checks)}/{len(ok)}"
        else:
            s["check"] = f"FAIL {sum(not c.startswith('PASS') for c in checks)}/{len(ok)}"
        s["errors"] = [f"round {r['round']}: {r['detail']}" for r in s["runs"] if r["status"] != "ok"]
    return list(systems.values())


def fmt_num(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def table(systems, subtitle):
    by_name = {s["name"]: s for s in systems}
    head = ["system", "kind", "runs ok", "median inc/s", "median p99 ms"] + [h for _, h in REFS] + \
        [f"p99 <= {P99_REF}", "non-2xx+errors", "counters"]
    rows = []
    for s in systems:
        row = [s["name"], s["kind"], f"{len(s['ok'])}/{len(s['runs'])}", fmt_num(s["med_rps"]), fmt_ms(s["med_p99"])]
        for ref, _ in REFS:
            r = by_name.get(ref)
            if s["med_rps"] is None or r is None or not r["med_rps"]:
                row.append("-")
            else:
                row.append(f"{s['med_rps'] / r['med_rps']:.2f}")
        r = by_name.get(P99_REF)
        if s["med_p99"] is None or r is None or r["med_p99"] is None:
            row.append("-")
        else:
            row.append("yes" if s["med_p99"] <= r["med_p99"] else "no")
        row += [str(s["non2xx"]) if s["ok"] else "-", s["check"]]
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = [f"durable increments ({subtitle})" if subtitle else "durable increments", ""]
    for i, r in enumerate([head] + rows):
        lines.append("  ".join(str(x).ljust(w) if j < 2 else str(x).rjust(w) for j, (x, w) in enumerate(zip(r, widths))).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["",
              "median inc/s and p99: medians over the system's successful runs; x REF: median inc/s / REF's median inc/s;",
              f"p99 <= {P99_REF}: median p99 at most {P99_REF}'s; non-2xx+errors: wrk's non-2xx responses and socket errors,",
              "summed over the runs; counters: the anchors' exact check (run.sh), Sticky's are not checked."]
    failed = [(s["name"], e) for s in systems for e in s["errors"]]
    if failed:
        lines += ["", "failed runs:"] + [f"  {n} {e}" for n, e in failed]
    return "\n".join(lines) + "\n"


def nice_max(v):
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def short(v):
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def svg(systems, subtitle):
    slot, left, right, top, plot_h, bottom = 96, 78, 74, 74, 300, 96
    width = max(660, left + right + slot * max(1, len(systems)))
    slot = (width - left - right) / max(1, len(systems))
    height = top + plot_h + bottom
    ymax = nice_max(1.08 * max([v for s in systems for v in s["rps"]] or [1]))
    pmax = nice_max(1.15 * max([s["med_p99"] for s in systems if s["med_p99"] is not None] or [1]))
    y = lambda v: top + plot_h - plot_h * v / ymax
    yp = lambda v: top + plot_h - plot_h * v / pmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">Durable increments: Sticky vs. stateless anchors</text>',
           f'<text x="{left}" y="40" fill="#555">{escape(subtitle)}</text>']
    for i in range(6):  # grid and both axes' ticks
        v, p = ymax * i / 5, pmax * i / 5
        yy = y(v)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{short(v)}</text>')
        out.append(f'<text x="{width - right + 6}" y="{yy + 4:.1f}" fill="#c0392b">{p:g}</text>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>')
    out.append(f'<line x1="{width - right}" y1="{top}" x2="{width - right}" y2="{top + plot_h}" stroke="#c0392b"/>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#333"/>')
    out.append(f'<text transform="translate(18 {top + plot_h / 2}) rotate(-90)" text-anchor="middle">increments/s (median)</text>')
    out.append(f'<text transform="translate({width - 18} {top + plot_h / 2}) rotate(90)" text-anchor="middle" '
               f'fill="#c0392b">p99 latency, ms (median)</text>')
    for i, s in enumerate(systems):
        cx = left + slot * i + slot / 2
        colour = "#9aa5b1" if s["kind"] == "anchor" else "#3b78b5"
        if s["med_rps"] is None:
            out.append(f'<text x="{cx:.1f}" y="{top + plot_h - 8}" text-anchor="middle" fill="#c0392b">failed</text>')
        else:
            bw = slot * 0.56
            out.append(f'<rect x="{cx - bw / 2:.1f}" y="{y(s["med_rps"]):.1f}" width="{bw:.1f}" '
                       f'height="{top + plot_h - y(s["med_rps"]):.1f}" fill="{colour}"/>')
            out.append(f'<text x="{cx:.1f}" y="{y(max(s["rps"])) - 6:.1f}" text-anchor="middle">{short(s["med_rps"])}</text>')
            n = len(s["rps"])
            for j, v in enumerate(s["rps"]):
                dx = (j - (n - 1) / 2) * 7
                out.append(f'<circle cx="{cx + dx:.1f}" cy="{y(v):.1f}" r="2.5" fill="#222" fill-opacity="0.7"/>')
            py = yp(s["med_p99"])
            out.append(f'<circle cx="{cx + slot * 0.36:.1f}" cy="{py:.1f}" r="5" fill="#c0392b"/>')
            out.append(f'<text x="{cx + slot * 0.36:.1f}" y="{py - 8:.1f}" text-anchor="middle" fill="#c0392b" '
                       f'font-size="11">{fmt_ms(s["med_p99"])} ms</text>')
        out.append(f'<text transform="translate({cx + 4:.1f} {top + plot_h + 14}) rotate(-30)" text-anchor="end">'
                   f'{escape(s["name"])}</text>')
    ly = height - 18
    out.append(f'<rect x="{left}" y="{ly - 10}" width="12" height="12" fill="#9aa5b1"/>'
               f'<text x="{left + 17}" y="{ly}">anchor: median inc/s</text>')
    out.append(f'<rect x="{left + 160}" y="{ly - 10}" width="12" height="12" fill="#3b78b5"/>'
               f'<text x="{left + 177}" y="{ly}">Sticky: median inc/s</text>')
    out.append(f'<circle cx="{left + 340}" cy="{ly - 4}" r="2.5" fill="#222"/>'
               f'<text x="{left + 348}" y="{ly}">a run</text>')
    out.append(f'<circle cx="{left + 402}" cy="{ly - 4}" r="5" fill="#c0392b"/>'
               f'<text x="{left + 412}" y="{ly}">median p99 (right axis)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    subtitle = sys.argv[2] if len(sys.argv) > 2 else ""
    systems = load(out / "runs.tsv")
    text = table(systems, subtitle)
    (out / "summary.txt").write_text(text)
    (out / "durable.svg").write_text(svg(systems, subtitle))
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
