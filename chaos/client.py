#!/usr/bin/env python3
"""Load client for chaos/partition.sh (stdlib only).

  client.py run  --side NAME --targets URL[,URL..] --ids N --out FILE.jsonl [--workers 4] [--pause 0.05]
  client.py read --target URL --ids N --out FILE.json

`run` increments counters c0..c<N-1> (POST /entities/counter/{id} {"op":"increment"}) from --workers
threads, each picking a random id and the next target in turn, until SIGTERM or SIGINT. Every attempt is
one JSON line: t0/t1 (wall-clock seconds when sent / when answered), side, node, id, status (0 = no HTTP
answer), value (on 200), owner (X-Sticky-Owner: URL of the node hosting the entity), outcome, type (the
problem's type) and err.

outcome is "ok" (200), the problem's "outcome" ("not-applied" or "unknown"), "not-applied" when the
connection could not even be opened, and "unknown" when the request may have been sent but no answer came
(timeout, reset) or the answer was not a problem document.

`read` GETs every counter once (retrying non-200 answers for up to --retry-seconds) and writes
{"c0": value, ...}; an id that never answered 200 maps to null. With --where it also writes each counter's
location (shard, node, epoch from GET /cluster/entities/counter/{id}) to that file.
"""
import argparse
import http.client
import json
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse

stop = threading.Event()


def split_url(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


class Conn:
    """One keep-alive HTTP connection to one node, reopened after any error."""

    def __init__(self, url, timeout):
        self.url = url
        self.host, self.port = split_url(url)
        self.timeout = timeout
        self.c = None

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def request(self, method, path, body=None):
        """Returns (status, body bytes, X-Sticky-Owner) or raises RequestError."""
        if self.c is None:
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.c.connect()
            except OSError as e:  # nothing was sent
                self.close()
                raise RequestError("connect", e)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            self.c.request(method, path, body=body, headers=headers)
            r = self.c.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:  # may have been sent
            self.close()
            raise RequestError("send", e)
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        return r.status, data, r.getheader("X-Sticky-Owner")


class RequestError(Exception):
    def __init__(self, stage, cause):
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage


def worker(n, args, ids, out, lock):
    rnd = random.Random(f"{args.side}-{n}-{time.time()}")
    conns = [Conn(t, args.timeout) for t in args.targets]
    i = n
    body = json.dumps({"op": "increment"}).encode()
    while not stop.is_set():
        conn = conns[i % len(conns)]
        i += 1
        cid = rnd.choice(ids)
        rec = {"side": args.side, "node": conn.url, "id": cid, "status": 0, "value": None,
               "outcome": "unknown", "type": None, "err": None}
        rec["t0"] = time.time()
        try:
            status, data, owner = conn.request("POST", f"/entities/counter/{cid}", body)
            rec["status"] = status
            rec["owner"] = owner
            try:
                doc = json.loads(data)
            except ValueError:
                doc = None
            if status == 200 and isinstance(doc, dict) and isinstance(doc.get("value"), int):
                rec["outcome"] = "ok"
                rec["value"] = doc["value"]
            elif isinstance(doc, dict) and doc.get("outcome") in ("not-applied", "unknown"):
                rec["outcome"] = doc["outcome"]
                rec["type"] = doc.get("type")
            else:
                rec["err"] = f"unexpected answer: {data[:200]!r}"
        except RequestError as e:
            rec["outcome"] = "not-applied" if e.stage == "connect" else "unknown"
            rec["err"] = str(e)
        rec["t1"] = time.time()
        line = json.dumps(rec, separators=(",", ":"))
        with lock:
            out.write(line + "\n")
        if rec["outcome"] != "ok" and rec["status"] == 0:
            stop.wait(args.pause * 4)  # no answer at all: back off a little more
        elif args.pause > 0:
            stop.wait(args.pause)
    for c in conns:
        c.close()


def run(args):
    ids = [f"c{k}" for k in range(args.ids)]
    lock = threading.Lock()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    with open(args.out, "a", buffering=1) as out:
        threads = [threading.Thread(target=worker, args=(n, args, ids, out, lock), daemon=True)
                   for n in range(args.workers)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(0.2)
    return 0


def read(args):
    conn = Conn(args.target, args.timeout)
    result = {}
    deadline = time.time() + args.retry_seconds
    for k in range(args.ids):
        cid = f"c{k}"
        result[cid] = None
        while True:
            try:
                status, data, _ = conn.request("GET", f"/entities/counter/{cid}")
                if status == 200:
                    result[cid] = json.loads(data)["value"]
                    break
                err = f"{status} {data[:200]!r}"
            except RequestError as e:
                err = str(e)
            if time.time() > deadline:
                print(f"read {cid}: giving up: {err}", file=sys.stderr)
                break
            time.sleep(0.5)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    if args.where:  # where each counter lives now: shard, node, epoch (never activates it)
        where = {}
        for k in range(args.ids):
            cid = f"c{k}"
            try:
                status, data, _ = conn.request("GET", f"/cluster/entities/counter/{cid}")
                where[cid] = json.loads(data) if status == 200 else {"status": status}
            except (RequestError, ValueError) as e:
                where[cid] = {"error": str(e)}
        with open(args.where, "w") as f:
            json.dump(where, f, indent=1, sort_keys=True)
    return 0 if all(v is not None for v in result.values()) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--side", required=True)
    r.add_argument("--targets", required=True, type=lambda s: s.split(","))
    r.add_argument("--ids", type=int, default=50)
    r.add_argument("--workers", type=int, default=4)
    r.add_argument("--pause", type=float, default=0.05, help="seconds each worker waits between requests")
    r.add_argument("--timeout", type=float, default=10.0, help="socket timeout per request (s)")
    r.add_argument("--out", required=True)
    g = sub.add_parser("read")
    g.add_argument("--target", required=True)
    g.add_argument("--ids", type=int, default=50)
    g.add_argument("--timeout", type=float, default=10.0)
    g.add_argument("--retry-seconds", type=float, default=30.0)
    g.add_argument("--out", required=True)
    g.add_argument("--where", help="also write where each counter lives (GET /cluster/entities/counter/{id}) here")
    args = p.parse_args()
    socket.setdefaulttimeout(args.timeout)
    return run(args) if args.cmd == "run" else read(args)


if __name__ == "__main__":
    sys.exit(main())
