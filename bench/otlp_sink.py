#!/usr/bin/env python3
"""A stand-in OTLP/HTTP collector for bench/tracing.sh: accepts POST /v1/traces, answers 200 at once, and counts
requests and bytes (printed to stdout every 5 s and on SIGTERM). It does not decode the spans."""
import http.server
import signal
import sys
import threading
import time

requests = 0
body_bytes = 0


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global requests, body_bytes
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        requests += 1
        body_bytes += n
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def report():
    print(f"{time.strftime('%H:%M:%S')} exports={requests} bytes={body_bytes}", flush=True)


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink)
    signal.signal(signal.SIGTERM, lambda *a: (report(), sys.exit(0)))

    def tick():
        while True:
            time.sleep(5)
            report()

    threading.Thread(target=tick, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
