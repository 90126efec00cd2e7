#!/usr/bin/env python3
"""Where the CPU goes, from JFR recordings: execution samples by thread group and by the leaf frame's library.

    python3 bench/jfr_top.py FILE.jfr [FILE.jfr ...]      (one recording per node; totals over all of them)

Uses the JDK's `jfr print` (on the PATH next to java). Prints shares of samples, not absolute time: JFR samples
running Java threads every 10-20 ms, so the shares say where a busy node spends its CPU."""
import collections
import re
import subprocess
import sys

THREADS = [  # (label, regex on the thread name), first match wins
    ("vert.x event loops", r"^vert\.x-eventloop"),
    ("vert.x workers / internal blocking", r"^vert\.x-(worker|internal-blocking)"),
    ("hazelcast partition threads", r"partition-operation"),
    ("hazelcast I/O", r"\.IO\.thread|\.io\."),
    ("hazelcast other", r"^hz\."),
    ("JIT / GC / other", r""),
]
LIBS = [  # (label, frame prefix)
    ("hazelcast", "com.hazelcast."), ("netty", "io.netty."), ("vert.x", "io.vertx."), ("sticky", "io.sticky."),
    ("jackson", "com.fasterxml."), ("micrometer", "io.micrometer."), ("jdk", "java."), ("jdk", "jdk."), ("jdk", "sun."),
]


def lib_of(frame):
    for label, prefix in LIBS:
        if frame.startswith(prefix):
            return label
    return "other"


def main(files):
    by_thread = collections.Counter()
    by_lib = collections.Counter()
    by_method = collections.Counter()
    inclusive = collections.Counter()  # samples whose stack contains a frame of the library
    total = 0
    for f in files:
        out = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", f],
                             capture_output=True, text=True, check=True).stdout
        for event in out.split("jdk.ExecutionSample")[1:]:
            thread = re.search(r'sampledThread = "([^"]*)"', event)
            frames = re.findall(r"^\s+([\w$.<>]+)\(", event, re.M)
            if not thread or not frames:
                continue
            total += 1
            name = thread.group(1)
            by_thread[next(label for label, rx in THREADS if re.search(rx, name))] += 1
            by_lib[lib_of(frames[0])] += 1
            by_method[frames[0]] += 1
            for lib in {lib_of(fr) for fr in frames}:
                inclusive[lib] += 1
    if not total:
        sys.exit("no execution samples in " + " ".join(files))
    print(f"{total} execution samples in {len(files)} recording(s)")
    for title, counter in (("by thread", by_thread), ("by leaf frame's library (self time)", by_lib),
                           ("by library anywhere on the stack (inclusive)", inclusive)):
        print(f"\n{title}:")
        for label, n in counter.most_common():
            print(f"  {100.0 * n / total:5.1f}%  {label}")
    print("\ntop 15 leaf methods:")
    for method, n in by_method.most_common(15):
        print(f"  {100.0 * n / total:5.1f}%  {method}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
