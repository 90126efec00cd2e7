#!/usr/bin/env python3
"""Checks the history of one or more partition runs written by chaos/partition.sh (stdlib only).

  check.py SCENARIO_DIR [SCENARIO_DIR ...]

Each directory holds events.json (sides, split and heal times), client-*.jsonl (every attempt, see
client.py), final.json (every counter read back from a majority node after the heal) and, optionally,
health.tsv (readiness of each node once a second). For each scenario it prints the details, then one
summary table of all of them. Exit status 1 if any check failed, 2 if an input is missing.

Checks (per counter id; "acknowledged" = increments answered 200, "unknown" = attempts whose outcome is
unknown: 500/504 problems, or no answer after the request may have been sent):
  lost        sum over ids of max(0, acknowledged - final)                                 must be 0
  dup values  200 replies that repeat a value already returned for the same id (two writers) must be 0
  range       acknowledged <= final <= acknowledged + unknown, for every id                  must hold
  unreadable  ids that could not be read back after the heal                                 must be 0
  stale       200 replies whose value is not above that of a 200 that completed before the
              request was sent (the counter went back: lost state or a second writer)       must be 0
  min. acks   200s from minority-side clients answered after split + deadline, before the heal must be 0
Time to fence = time of the minority's last 200 after the split, minus the split time. "minority ready DOWN"
(from health.tsv) = when the last minority node's /health/ready stopped answering 200 after the split.
"""
import collections
import glob
import json
import os
import sys


def load(d):
    with open(os.path.join(d, "events.json")) as f:
        ev = json.load(f)
    recs = []
    for path in sorted(glob.glob(os.path.join(d, "client-*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        recs.append(json.loads(line))
                    except ValueError:
                        pass  # a line cut short by a killed client
    with open(os.path.join(d, "final.json")) as f:
        final = json.load(f)
    where = {}
    wp = os.path.join(d, "where.json")
    if os.path.exists(wp):
        with open(wp) as f:
            where = json.load(f)
    health = []
    hp = os.path.join(d, "health.tsv")
    if os.path.exists(hp):
        with open(hp) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    health.append((float(parts[0]), parts[1], parts[2]))
    return ev, recs, final, health, where


def fmt_s(x):
    return "-" if x is None else f"{x:.2f} s"


def check(d):
    ev, recs, final, health, where = load(d)
    split, heal = ev["split"], ev["heal"]
    deadline = float(ev.get("deadline", 5))
    ack = collections.Counter()
    unknown = collections.Counter()
    values = collections.defaultdict(list)  # id -> [(t0, t1, value, side, node)]
    by_side = collections.defaultdict(collections.Counter)
    for r in recs:
        key = str(r["status"]) if r["status"] else ("no-answer/" + r["outcome"])
        by_side[r["side"]][key] += 1
        if r["outcome"] == "ok":
            ack[r["id"]] += 1
            values[r["id"]].append((r["t0"], r["t1"], r["value"], r["side"], r["node"], r.get("owner")))
        elif r["outcome"] == "unknown":
            unknown[r["id"]] += 1

    ids = sorted(set(final) | set(ack) | set(unknown), key=lambda s: (len(s), s))
    names = ev.get("nodes_by_url", {})
    name = lambda url: names.get(url, url or "?")

    def hosts(i):
        """Where id i lived: the owner of its last 200 before the split and of its first one after."""
        vs = sorted(values.get(i, []), key=lambda v: v[1])
        before = [v for v in vs if v[1] < split]
        after = [v for v in vs if v[1] >= split]
        b = f"{name(before[-1][5])} (value {before[-1][2]})" if before else "-"
        a = f"{name(after[0][5])} (value {after[0][2]} at +{after[0][1] - split:.2f} s)" if after else "-"
        w = where.get(i) or {}
        now_at = f"; now shard {w.get('shard')} at epoch {w.get('epoch')}" if "epoch" in w else ""
        return f"hosted before the split on {b}, first 200 after the split from {a}{now_at}"

    lost, lost_ids, range_bad, unreadable = 0, [], [], []
    for i in ids:
        fv = final.get(i)
        if fv is None:
            unreadable.append(i)
            continue
        if fv < ack[i]:
            lost += ack[i] - fv
            lost_ids.append(f"{i}: acknowledged {ack[i]}, final {fv}; {hosts(i)}")
        if not (ack[i] <= fv <= ack[i] + unknown[i]):
            range_bad.append(f"{i}: final {fv} not in [{ack[i]}, {ack[i] + unknown[i]}]")

    dups = []
    stale = []
    for i, vs in values.items():
        seen = collections.defaultdict(list)
        for v in vs:
            seen[v[2]].append(v)
        for val, hits in seen.items():
            if len(hits) > 1:
                dups.append((i, val, hits))
        # stale: a reply must be above every value answered before this request was sent
        done = sorted(vs, key=lambda v: v[1])
        best, bi = None, 0
        for v in sorted(vs, key=lambda v: v[0]):
            while bi < len(done) and done[bi][1] < v[0]:
                if best is None or done[bi][2] > best[2]:
                    best = done[bi]
                bi += 1
            if best is not None and v[2] <= best[2]:
                stale.append((i, v, best))

    minority = set(ev["minority_urls"])
    # While the split lasts: after the heal the minority's nodes rejoin the cluster and serve again, rightly.
    min_acks_after = [r for r in recs if r["outcome"] == "ok" and r["node"] in minority and split + deadline < r["t1"] < heal]
    min_acks_split = [r for r in recs if r["outcome"] == "ok" and r["node"] in minority and split <= r["t1"] < heal]
    fence = max(r["t1"] for r in min_acks_split) - split if min_acks_split else None
    first_min_refusal = min((r["t1"] for r in recs if r["node"] in minority and r["t0"] >= split
                             and r["outcome"] != "ok"), default=None)
    maj_acks_split = sum(1 for r in recs if r["outcome"] == "ok" and r["node"] not in minority and split <= r["t1"] < heal)
    min_acks_after_heal = sum(1 for r in recs if r["outcome"] == "ok" and r["node"] in minority and r["t1"] >= heal)

    # longest time without any majority-side 200 from the split on (the majority's unavailability)
    maj_t = sorted(r["t1"] for r in recs if r["outcome"] == "ok" and r["node"] not in minority and r["t1"] >= split)
    gap, gap_at, prev = 0.0, None, split
    for t in maj_t + [ev.get("stop", heal)]:
        if t - prev > gap:
            gap, gap_at = t - prev, prev
        prev = t

    failures = []
    if lost:
        failures.append(f"lost {lost} acknowledged increment(s)")
    if dups:
        failures.append(f"{len(dups)} duplicated value(s)")
    if range_bad:
        failures.append(f"{len(range_bad)} id(s) out of range")
    if unreadable:
        failures.append(f"{len(unreadable)} id(s) unreadable")
    if stale:
        failures.append(f"{len(stale)} stale repl(ies)")
    if min_acks_after:
        failures.append(f"{len(min_acks_after)} minority ack(s) after {deadline:g} s")

    t = lambda x: f"+{x - split:.2f} s" if x is not None else "-"
    out = []
    out.append(f"== {ev['scenario']}: majority {','.join(ev['majority'])} | minority {','.join(ev['minority'])}"
               f" (cut={ev.get('cut')}, split {heal - split:.1f} s, settle {ev.get('stop', heal) - heal:.1f} s) [{d}]")
    for side in sorted(by_side):
        c = by_side[side]
        out.append(f"  {side:9s} attempts {sum(c.values()):6d}: " + ", ".join(f"{k}={v}" for k, v in sorted(c.items())))
    out.append(f"  acknowledged {sum(ack.values())}, unknown outcome {sum(unknown.values())}, ids {len(ids)}, "
               f"final sum {sum(v for v in final.values() if v is not None)}")
    out.append(f"  lost {lost}; duplicated values {len(dups)}; out of range {len(range_bad)}; unreadable {len(unreadable)}; "
               f"stale replies {len(stale)}")
    out.append(f"  minority: 200s after the split {len(min_acks_split)}, after split+{deadline:g} s {len(min_acks_after)}, "
               f"last 200 at {t(max((r['t1'] for r in min_acks_split), default=None))} (time to fence {fmt_s(fence)}), "
               f"first refusal at {t(first_min_refusal)}, 200s after the heal {min_acks_after_heal}")
    # readiness as seen by the harness's poller
    ready_down = None
    if health:
        downs = [min((h[0] for h in health if h[1] == node and h[0] >= split and h[2] != "200"), default=None)
                 for node in ev["minority"]]
        if downs and all(x is not None for x in downs):
            ready_down = max(downs) - split
        for node in ev["minority"]:
            down = min((h[0] for h in health if h[1] == node and h[0] >= split and h[2] != "200"), default=None)
            last = [h[2] for h in health if h[1] == node]
            out.append(f"  {node} readiness: first non-200 after the split at {t(down)}; last probe {last[-1] if last else '-'}")
        for node in ev["majority"]:
            bad = [h for h in health if h[1] == node and h[0] >= split and h[2] != "200"]
            if bad:
                out.append(f"  {node} (majority) readiness non-200 {len(bad)} time(s), first at {t(bad[0][0])}, last at {t(bad[-1][0])}")
    out.append(f"  majority: 200s during the split {maj_acks_split}; longest gap without a majority 200 from the split on "
               f"{gap:.2f} s (from {t(gap_at)})")
    for s in lost_ids[:20]:
        out.append(f"  LOST {s}")
    for s in range_bad[:20]:
        out.append(f"  RANGE {s}")
    for i, val, hits in dups[:10]:
        out.append(f"  DUP {i} value {val}: " + "; ".join(f"{h[3]} via {h[4]} sent {t(h[0])} answered {t(h[1])}" for h in hits))
    for i, v, best in stale[:10]:
        out.append(f"  STALE {i}: value {v[2]} ({v[3]} via {v[4]}, sent {t(v[0])}) after {best[2]} "
                   f"({best[3]} via {best[4]}, answered {t(best[1])})")
    for r in min_acks_after[:10]:
        out.append(f"  LATE minority ack {r['id']}={r['value']} via {r['node']} sent {t(r['t0'])} answered {t(r['t1'])}")
    out.append("  result: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    row = {
        "scenario": ev["scenario"],
        "acked": sum(ack.values()),
        "unknown": sum(unknown.values()),
        "lost": lost,
        "dup": len(dups),
        "range": "ok" if not range_bad and not unreadable else f"{len(range_bad) + len(unreadable)} bad",
        "stale": len(stale),
        "late": len(min_acks_after),
        "fence": fmt_s(fence) if fence is not None else "no 200 after split",
        "down": fmt_s(ready_down),
        "result": "PASS" if not failures else "FAIL",
    }
    return "\n".join(out), row, not failures


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    rows, ok = [], True
    for d in argv[1:]:
        try:
            text, row, passed = check(d)
        except (OSError, ValueError, KeyError) as e:
            print(f"== {d}: cannot check: {e}")
            rows.append({"scenario": os.path.basename(d.rstrip("/")), "result": "ERROR"})
            ok = False
            continue
        print(text)
        rows.append(row)
        ok = ok and passed
    cols = [("scenario", "scenario"), ("acked", "acknowledged"), ("unknown", "unknown"), ("lost", "lost"),
            ("dup", "dup values"), ("range", "acked<=final<=acked+unknown"), ("stale", "stale"),
            ("late", "minority acks >deadline"), ("fence", "time to fence"),
            ("down", "minority ready DOWN"), ("result", "result")]
    widths = [max(len(h), *(len(str(r.get(k, ""))) for r in rows)) for k, h in cols]
    print()
    print(" | ".join(h.ljust(w) for (k, h), w in zip(cols, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(r.get(k, "")).ljust(w) for (k, h), w in zip(cols, widths)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
