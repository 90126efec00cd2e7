#!/usr/bin/env python3
"""Latency probe for bench/rebalance.sh.

One keep-alive HTTP connection sends GET /entities/counter/<random id in 0..9999> at most every INTERVAL_MS
(or as soon as the previous answer arrives, if it took longer), until DURATION_S have passed. Unlike wrk's
fixed windows, it never drops a slow request: a request stuck behind a hand-off for 10 s is recorded as
taking 10 s. GETs do not change the counters, so the consistency check is unaffected.

  bench/probe.py HOST PORT DURATION_S INTERVAL_MS OUT_FILE

OUT_FILE gets one line per request: <start, seconds since local midnight (the JVM logs' clock)> <latency ms>
<HTTP status>, and for a status other than 200 the start of the body (or the error). Status 0 is a
connection error or a timeout (60 s); -1 is a request still unanswered when the probe was stopped (SIGTERM),
with the time it had waited so far.
"""
import http.client
import random
import signal
import sys
import time


def main():
    host, port, duration, interval_ms, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    current = {}  # the request in flight: its start times

    def since_midnight(t):
        lt = time.localtime(t)
        return lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + (t % 1)

    def stop(signum, frame):
        if current:
            f.write("%.3f %.3f -1\n" % (since_midnight(current["wall"]), (time.perf_counter() - current["mono"]) * 1000))
        f.close()
        sys.exit(0)

    with open(out, "w") as f:
        signal.signal(signal.SIGTERM, stop)
        end = time.perf_counter() + duration
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while time.perf_counter() < end:
            current["wall"], current["mono"] = time.time(), time.perf_counter()
            try:
                conn.request("GET", "/entities/counter/%d" % random.randint(0, 9999))
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                detail = "" if status == 200 else body[:300].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as e:
                status = 0
                detail = repr(e)[:300]
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            took = time.perf_counter() - current["mono"]
            detail = " ".join(detail.split())
            f.write("%.3f %.3f %d%s\n" % (since_midnight(current["wall"]), took * 1000, status, " " + detail if detail else ""))
            current.clear()
            pause = interval_ms / 1000 - took
            if pause > 0:
                time.sleep(pause)


if __name__ == "__main__":
    main()
