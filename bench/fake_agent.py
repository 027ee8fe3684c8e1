#!/usr/bin/env python3
"""Stand-in for the Datadog agent's trace intake, for bench/telemetry.sh (stdlib only).

Answers 200 {"rate_by_service": {}} to PUT/POST /v0.3|v0.4|v0.5/traces, discarding the payload, and
GET /stats with what it received: {"payloads", "bytes", "traces" (sum of X-Datadog-Trace-Count), "other"}.
Usage: fake_agent.py PORT | unix:/path/to.sock   (127.0.0.1 only, or a unix socket like the agent's
/var/run/datadog/apm.socket; stop it with SIGTERM)
"""
import json
import os
import signal
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"payloads": 0, "bytes": 0, "traces": 0, "other": 0}
LOCK = threading.Lock()


class Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive when the client wants it

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _intake(self):
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining > 0:  # read and drop
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)
        if self.path.split("?")[0] not in ("/v0.3/traces", "/v0.4/traces", "/v0.5/traces"):
            with LOCK:
                STATS["other"] += 1
            return self._reply(404, {"error": "not found"})
        try:
            traces = int(self.headers.get("X-Datadog-Trace-Count") or 0)
        except ValueError:
            traces = 0
        with LOCK:
            STATS["payloads"] += 1
            STATS["bytes"] += length
            STATS["traces"] += traces
        self._reply(200, {"rate_by_service": {}})

    do_PUT = _intake
    do_POST = _intake

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                return self._reply(200, dict(STATS))
        with LOCK:
            STATS["other"] += 1
        self._reply(404, {"error": "not found"})

    def log_message(self, *args):  # quiet
        pass


class UnixAgentServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):  # http.server expects a (host, port) client address
        conn, _ = super().get_request()
        return conn, ("unix", 0)


def main():
    where = sys.argv[1]
    if where.startswith("unix:"):
        path = where[len("unix:"):]
        if os.path.exists(path):
            os.unlink(path)
        server = UnixAgentServer(path, Agent)
    else:
        server = ThreadingHTTPServer(("127.0.0.1", int(where)), Agent)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    main()
