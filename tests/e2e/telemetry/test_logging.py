#!/usr/bin/python3
"""Logging: `telemetry/logging` level WARNING suppresses the (INFO) access log; at INFO there is one access
line per request; in both cases every stdout line is a valid JSON object (UTF-8), also for requests whose
path and User-Agent carry quotes, backslashes, control characters and bytes that are not UTF-8.

Usage: /usr/bin/python3 tests/e2e/telemetry/test_logging.py [GATEWAY_BIN]
"""
import os
import re
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import telemetry_e2e as t  # noqa: E402

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# Header value bytes a client may send (obs-text is legal in HTTP/1.1 field values).
HOSTILE_UA = b'ua "quoted" back\\slash \ttab caf\xc3\xa9 latin1-\xe9 bad-\xff\xfe end'
HOSTILE_PATH = "/e/%22q%22%5Cb%0A"


def raw_request(port, path: str, user_agent: bytes, timeout=5):
    """A GET with a raw User-Agent; returns the status code."""
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n").encode() \
        + b"User-Agent: " + user_agent + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


class Logging(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = t.TempDir("gw-tel-log-")
        cls.backend, cls.bport = t.start_backend(cls.tmp)
        cls.agent = t.FakeAgent()

    @classmethod
    def tearDownClass(cls):
        cls.backend.stop()
        cls.agent.close()
        cls.tmp.cleanup()

    def run_with_level(self, level):
        """Gateway with telemetry/logging at `level`, tracing + log injection on; sends traffic, stops the
        gateway (SIGTERM flushes the log) and returns (stdout bytes, the paths requested)."""
        config = {
            "version": 3, "timeout": "3s", "host": [f"http://127.0.0.1:{self.bport}"],
            "extra_config": {"telemetry/logging": {"level": level, "stdout": True}},
            "endpoints": [{"endpoint": "/e/{id}", "backend": [{"url_pattern": "/echo/{id}"}]},
                          {"endpoint": "/fail", "backend": [{"url_pattern": "/status/500"}]}],
        }
        env = t.gateway_env(DD_TRACE_ENABLED="true", DD_TRACE_AGENT_URL=f"http://127.0.0.1:{self.agent.port}",
                            DD_SERVICE="gw-e2e", DD_ENV="e2e", DD_VERSION="1", DD_LOGS_INJECTION="true")
        gw, port = t.start_gateway(self.tmp, config, env, name=f"gw-{level.lower()}")
        self.addCleanup(gw.stop)
        paths = []
        for path, want in (("/e/1", 200), ("/e/2", 200), ("/nope", 404), ("/fail", 500)):
            st, _, _ = t.request(port, path, headers={"User-Agent": "e2e"})
            self.assertEqual(st, want, path)
            paths.append(path)
        self.assertEqual(raw_request(port, HOSTILE_PATH, HOSTILE_UA), 200)
        paths.append(HOSTILE_PATH)
        rc, _ = gw.stop()
        self.assertEqual(rc, 0, gw.logs())
        return gw.stdout_bytes(), paths

    def check_shape(self, records):
        for rec in records:
            self.assertIn(rec.get("level"), LEVELS, rec)
            self.assertIsInstance(rec.get("message"), str, rec)
            self.assertRegex(rec.get("timestamp", ""), TIMESTAMP)

    def test_info_level_has_access_log_and_only_json(self):
        out, paths = self.run_with_level("INFO")
        records = t.json_lines(out)
        self.check_shape(records)
        access = [r for r in records if "http.url" in r]
        self.assertEqual(sorted(r["http.url"] for r in access), sorted(paths), access)
        for r in access:
            self.assertEqual(r["level"], "INFO")
            self.assertIn("dd.trace_id", r)
        hostile = [r for r in access if r["http.url"] == HOSTILE_PATH]
        self.assertEqual(len(hostile), 1)
        ua = hostile[0].get("http.useragent", "")
        for part in ('"quoted"', "back\\slash", "\ttab", "café", " end"):
            self.assertIn(part, ua, "the User-Agent survives JSON escaping")

    def test_warning_level_drops_info_lines(self):
        out, _ = self.run_with_level("WARNING")
        records = t.json_lines(out)
        self.check_shape(records)
        below = [r for r in records if LEVELS.index(r["level"]) < LEVELS.index("WARNING")]
        self.assertFalse(below, f"lines below WARNING were written: {below}")
        self.assertFalse([r for r in records if "http.url" in r], "access log lines at level WARNING")


if __name__ == "__main__":
    t.main()
