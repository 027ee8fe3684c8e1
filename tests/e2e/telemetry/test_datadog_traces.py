#!/usr/bin/python3
"""Datadog traces end to end: a fake agent (PUT /v0.4/traces, msgpack decoded here) stands in for the
Datadog agent; the echo backend reports the propagation headers it received; the gateway's stdout
carries the access log with dd.* correlation ids.

Usage: /usr/bin/python3 tests/e2e/telemetry/test_datadog_traces.py [GATEWAY_BIN]
"""
import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import telemetry_e2e as t  # noqa: E402
from telemetry_e2e import MsgpackDecoderSelfTest  # noqa: E402,F401  (runs with this file)

SERVICE, ENV, VERSION = "gw-e2e-svc", "e2e-test", "1.2.3"
WAIT = 15  # seconds: the exporter flushes every second, the logger every 100 ms


class DatadogTraces(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = t.TempDir("gw-tel-dd-")
        cls.procs = []
        cls.agent = t.FakeAgent()
        try:
            backend, bport = t.start_backend(cls.tmp)
            cls.backend_port = bport
            cls.procs.append(backend)
            config = {
                "version": 3, "timeout": "3s", "host": [f"http://127.0.0.1:{bport}"],
                "endpoints": [{"endpoint": "/e/{id}", "backend": [{"url_pattern": "/echo/{id}"}]},
                              {"endpoint": "/fail", "backend": [{"url_pattern": "/status/503"}]},
                              {"endpoint": "/dead", "backend": [{"host": [f"http://127.0.0.1:{t.closed_port()}"],
                                                                 "url_pattern": "/x"}]},
                              {"endpoint": "/noop/{id}", "output_encoding": "no-op",
                               "backend": [{"url_pattern": "/echo/{id}", "encoding": "no-op"}]},
                              # a redirect, then a backend slower than the endpoint's timeout
                              {"endpoint": "/noop-late", "output_encoding": "no-op", "timeout": "300ms",
                               "backend": [{"url_pattern": "/redirect?to=%2Fslow%3Fms%3D1000",
                                            "encoding": "no-op"}]}],
            }
            env = t.gateway_env(DD_TRACE_ENABLED="true", DD_TRACE_AGENT_URL=f"http://127.0.0.1:{cls.agent.port}",
                                DD_SERVICE=SERVICE, DD_ENV=ENV, DD_VERSION=VERSION, DD_LOGS_INJECTION="true")
            cls.gw, cls.port = t.start_gateway(cls.tmp, config, env)
            cls.procs.append(cls.gw)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in reversed(getattr(cls, "procs", [])):
            p.stop()
        cls.agent.close()
        cls.tmp.cleanup()

    # -- helpers ---------------------------------------------------------------------------------------

    def call(self, headers):
        """GET /e/<unique id> with `headers`; returns (unique id, headers the backend received, lowercased)."""
        rid = uuid.uuid4().hex
        st, _, body = t.request(self.port, f"/e/{rid}", headers=headers)
        self.assertEqual(st, 200, body)
        echo = json.loads(body)
        self.assertEqual(echo["path"], f"/echo/{rid}")
        return rid, {k.lower(): v[0] for k, v in echo["headers"].items()}

    def spans_of(self, trace_id, n=3):
        """The spans the agent received with trace_id (low 64 bits), waiting until there are n."""
        def got():
            s = [x for x in self.agent.spans() if x.get("trace_id") == trace_id]
            return s if len(s) >= n else None
        try:
            return t.wait_until(got, WAIT, interval=0.1, what=f"{n} spans of trace {trace_id} at the fake agent")
        except AssertionError as e:
            seen = sorted({(x.get("trace_id"), x.get("name")) for x in self.agent.spans()})
            raise AssertionError(f"{e}; agent saw {len(self.agent.snapshot())} requests, spans: {seen[:20]}\n"
                                 f"{self.gw.logs()}")

    def by_name(self, spans):
        out = {}
        for s in spans:
            self.assertNotIn(s["name"], out, f"two spans named {s['name']}: {spans}")
            out[s["name"]] = s
        return out

    def server_proxy_backend(self, spans):
        """Identifies the three spans by shape: the server span has type web; the backend call type http."""
        self.assertEqual(len(spans), 3, json.dumps(spans, indent=1, default=str))
        server = [s for s in spans if s.get("type") == "web"]
        backend = [s for s in spans if s.get("type") == "http"]
        self.assertEqual(len(server), 1, spans)
        self.assertEqual(len(backend), 1, spans)
        proxy = [s for s in spans if s is not server[0] and s is not backend[0]]
        return server[0], proxy[0], backend[0]

    def access_line(self, rid):
        def find():
            for rec in t.json_lines(self.gw.stdout_bytes()):
                if rec.get("http.url") == f"/e/{rid}":
                    return rec
            return None
        return t.wait_until(find, WAIT, interval=0.1, what=f"the access log line of /e/{rid}")

    def check_span_common(self, spans, trace_id):
        for s in spans:
            for key, kind in (("service", str), ("name", str), ("resource", str), ("trace_id", int),
                              ("span_id", int), ("parent_id", int), ("start", int), ("duration", int),
                              ("error", int), ("meta", dict), ("metrics", dict), ("type", str)):
                self.assertIsInstance(s.get(key), kind, f"{key} of {s}")
            self.assertEqual(s["trace_id"], trace_id)
            self.assertEqual(s["service"], SERVICE)
            self.assertEqual(s["meta"].get("env"), ENV, s)
            self.assertEqual(s["meta"].get("version"), VERSION, s)
            self.assertNotEqual(s["span_id"], 0)
            self.assertGreater(s["start"], 1_600_000_000 * 10**9, "start is Unix epoch ns")
            self.assertGreaterEqual(s["duration"], 0)
        self.assertEqual(len({s["span_id"] for s in spans}), len(spans), "span ids are unique")

    def check_nesting(self, server, proxy, backend):
        self.assertEqual(proxy["parent_id"], server["span_id"], "proxy span's parent is the server span")
        self.assertEqual(backend["parent_id"], proxy["span_id"], "backend span's parent is the proxy span")
        # Children lie inside their parents in time.
        for outer, inner in ((server, proxy), (proxy, backend)):
            self.assertLessEqual(outer["start"], inner["start"])
            self.assertLessEqual(inner["start"] + inner["duration"], outer["start"] + outer["duration"])

    def check_log(self, rid, server):
        rec = self.access_line(rid)
        self.assertEqual(rec.get("dd.trace_id"), str(server["trace_id"]), rec)
        self.assertEqual(rec.get("dd.span_id"), str(server["span_id"]), rec)
        self.assertEqual(rec.get("dd.service"), SERVICE, rec)
        self.assertEqual(rec.get("dd.env"), ENV, rec)
        self.assertEqual(rec.get("dd.version"), VERSION, rec)

    # -- tests -----------------------------------------------------------------------------------------

    def test_1_datadog_headers(self):
        trace_id, parent_id = 1234567890123456789, 987654321987654321
        rid, got = self.call({"x-datadog-trace-id": str(trace_id), "x-datadog-parent-id": str(parent_id),
                              "x-datadog-sampling-priority": "1"})
        spans = self.spans_of(trace_id)
        self.check_span_common(spans, trace_id)
        server, proxy, backend = self.server_proxy_backend(spans)
        self.assertEqual(server["parent_id"], parent_id, "server span continues the incoming parent")
        self.check_nesting(server, proxy, backend)
        self.assertEqual(server["meta"].get("http.url"), f"/e/{rid}")
        self.assertEqual(server["meta"].get("http.status_code"), "200")
        self.assertEqual(server["resource"], "GET /e/:id")
        for span, kind in ((server, "server"), (backend, "client")):
            self.assertEqual(span["meta"].get("span.kind"), kind, span["meta"])
            self.assertEqual(span["meta"].get("http.method"), "GET", span["meta"])
        self.assertEqual(server["meta"].get("http.route"), "/e/:id", server["meta"])
        self.assertEqual(server["metrics"].get("_sampling_priority_v1"), 1.0, server["metrics"])
        self.assertEqual(backend["meta"].get("http.status_code"), "200")
        self.assertEqual(backend["meta"].get("http.url"), f"http://127.0.0.1:{self.backend_port}/echo/{rid}")

        # Propagation into the backend's request.
        self.assertEqual(got.get("x-datadog-trace-id"), str(trace_id), got)
        self.assertEqual(got.get("x-datadog-parent-id"), str(backend["span_id"]), got)
        self.assertEqual(got.get("x-datadog-sampling-priority"), "1", got)
        tp = got.get("traceparent", "")
        parts = tp.split("-")
        self.assertEqual(len(parts), 4, f"traceparent {tp!r}")
        self.assertEqual(parts[0], "00")
        self.assertEqual(int(parts[1], 16) & (2**64 - 1), trace_id, f"traceparent {tp!r}")
        self.assertEqual(int(parts[2], 16), backend["span_id"], f"traceparent {tp!r}")
        self.assertEqual(parts[3], "01")
        self.assertIn(f"p:{backend['span_id']:016x}", got.get("tracestate", ""), got)

        self.check_log(rid, server)

        # What the agent expects on the intake request.
        puts = [r for r in self.agent.snapshot() if r["path"] == "/v0.4/traces"]
        self.assertTrue(puts)
        for r in puts:
            self.assertEqual(r["method"], "PUT")
            h = r["headers"]
            self.assertEqual(h.get("content-type"), "application/msgpack", h)
            self.assertTrue(h.get("datadog-meta-lang"), h)
            self.assertTrue(h.get("datadog-meta-tracer-version"), h)
            traces = t.msgpack_decode(r["body"])
            self.assertIsInstance(traces, list)
            self.assertEqual(h.get("x-datadog-trace-count"), str(len(traces)), h)

    def test_2_w3c_traceparent(self):
        high, low, parent = 0x4bf92f3577b34da6, 0xa3ce929d0e0e4736, 0x00f067aa0ba902b7
        tp_in = f"00-{high:016x}{low:016x}-{parent:016x}-01"
        rid, got = self.call({"traceparent": tp_in, "tracestate": "rojo=00f067aa0ba902b7"})
        spans = self.spans_of(low)
        self.check_span_common(spans, low)
        server, proxy, backend = self.server_proxy_backend(spans)
        self.assertEqual(server["parent_id"], parent)
        self.assertEqual(server["meta"].get("_dd.p.tid"), f"{high:016x}", server["meta"])
        self.check_nesting(server, proxy, backend)

        tp = got.get("traceparent", "")
        self.assertTrue(tp.startswith(f"00-{high:016x}{low:016x}-"), f"traceparent {tp!r}")
        self.assertEqual(tp.split("-")[2], f"{backend['span_id']:016x}")
        self.assertEqual(got.get("x-datadog-trace-id"), str(low), got)
        self.assertEqual(got.get("x-datadog-parent-id"), str(backend["span_id"]), got)
        self.assertIn(f"_dd.p.tid={high:016x}", got.get("x-datadog-tags", ""), got)
        self.assertIn("rojo=00f067aa0ba902b7", got.get("tracestate", ""), "other vendors' tracestate is kept")

        self.check_log(rid, server)

    def test_3_new_trace_without_headers(self):
        rid, got = self.call({})
        trace_id = int(got["x-datadog-trace-id"])
        spans = self.spans_of(trace_id)
        self.check_span_common(spans, trace_id)
        server, proxy, backend = self.server_proxy_backend(spans)
        self.assertEqual(server["parent_id"], 0, "a new trace's root has no parent")
        self.check_nesting(server, proxy, backend)
        self.assertEqual(got.get("x-datadog-parent-id"), str(backend["span_id"]))
        self.check_log(rid, server)

    def test_5_failed_backend_calls_say_why(self):
        # Datadog's error tracking reads error.type and error.message of spans with error=1.
        for path, trace_id, kind, text in (("/fail", 555000111, "status", "invalid status code 503"),
                                           ("/dead", 555000222, "transport", "onnection refused")):
            st, _, _ = t.request(self.port, path, headers={"x-datadog-trace-id": str(trace_id),
                                                           "x-datadog-parent-id": "1"})
            self.assertEqual(st, 500, path)
            server, proxy, backend = self.server_proxy_backend(self.spans_of(trace_id))
            self.assertEqual(backend["error"], 1, backend)
            self.assertEqual(backend["meta"].get("error.type"), kind, backend["meta"])
            self.assertIn(text, backend["meta"].get("error.message", ""), backend["meta"])
            self.assertEqual(server["error"], 1, server)

    def test_6_noop_endpoint_spans(self):
        # A no-op endpoint's backend call starts with the proxy stage and ends at the client's reading when
        # it releases the connection (one clock read each, shared): equal starts, nested ends.
        st, _, _ = t.request(self.port, "/noop/abc", headers={"x-datadog-trace-id": "555000333",
                                                              "x-datadog-parent-id": "1"})
        self.assertEqual(st, 200)
        server, proxy, backend = self.server_proxy_backend(self.spans_of(555000333))
        self.check_nesting(server, proxy, backend)
        self.assertEqual(backend["start"], proxy["start"])
        self.assertEqual(backend["error"], 0, backend)
        # The redirect's hop released its connection: that reading must not end the call that then timed
        # out on the next hop (the span covers the whole 300 ms).
        st, _, _ = t.request(self.port, "/noop-late", headers={"x-datadog-trace-id": "555000444",
                                                              "x-datadog-parent-id": "1"})
        self.assertGreaterEqual(st, 500)
        server, proxy, backend = self.server_proxy_backend(self.spans_of(555000444))
        self.check_nesting(server, proxy, backend)
        self.assertEqual(backend["error"], 1, backend)
        self.assertGreaterEqual(backend["duration"], 250_000_000, backend)
        self.assertGreaterEqual(proxy["duration"], backend["duration"], proxy)

    def test_4_stdout_is_json_lines(self):
        t.json_lines(self.gw.stdout_bytes())


if __name__ == "__main__":
    t.main()
