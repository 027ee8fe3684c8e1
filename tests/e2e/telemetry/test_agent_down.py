#!/usr/bin/python3
"""A Datadog agent that is down (closed port) or hangs (accepts, never answers) must not slow requests:
200 requests all succeed, in about the time they take with tracing off; the lost spans are counted
(api_gateway_trace_spans_dropped_total); the gateway still exits 0 promptly on SIGTERM.

Usage: /usr/bin/python3 tests/e2e/telemetry/test_agent_down.py [GATEWAY_BIN]
"""
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import telemetry_e2e as t  # noqa: E402

N = 200
PACE = 0.015  # seconds between requests
STOP_BOUND = 8.0  # seconds from SIGTERM to exit; the exporter's own flush deadline is 2 s


class AgentDownOrHanging(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = t.TempDir("gw-tel-agent-")
        cls.backend = t.FastBackend()
        cls.bport = cls.backend.port
        cls.baseline = None

    @classmethod
    def tearDownClass(cls):
        cls.backend.close()
        cls.tmp.cleanup()

    def run_gateway(self, name, tracing_url):
        """Starts a gateway (tracing to tracing_url, or off), sends N requests, returns (summed latency, gateway,
        port, metrics port). The caller stops the gateway."""
        mport = t.free_port()
        config = {
            "version": 3, "timeout": "3s", "host": [f"http://127.0.0.1:{self.bport}"],
            "extra_config": {"telemetry/opentelemetry": {"exporters": {"prometheus": [{"name": "m", "port": mport}]}}},
            "endpoints": [{"endpoint": "/e/{id}", "backend": [{"url_pattern": "/echo/{id}"}]}],
        }
        env = t.gateway_env(DD_SERVICE="gw-e2e", DD_LOGS_INJECTION="true")
        if tracing_url:
            env.update(DD_TRACE_ENABLED="true", DD_TRACE_AGENT_URL=tracing_url)
        gw, port = t.start_gateway(self.tmp, config, env, name=name, wait_ports=(mport,))
        self.addCleanup(gw.stop)
        # Warm up (connections to the backend), then time N requests on fresh client connections.
        for i in range(5):
            t.request(port, f"/e/warm{i}")
        # Paced over ~3 s so that several exporter flushes (every 1 s, 2 s deadline) overlap the requests;
        # the time compared is the sum of the requests' own latencies.
        statuses = []
        slowest = elapsed = 0.0
        for i in range(N):
            t0 = time.monotonic()
            st, _, _ = t.request(port, f"/e/{i}", headers={"x-datadog-trace-id": str(1000 + i),
                                                          "x-datadog-parent-id": "42"}, timeout=10)
            took = time.monotonic() - t0
            slowest, elapsed = max(slowest, took), elapsed + took
            statuses.append(st)
            time.sleep(PACE)
        self.slowest = slowest
        bad = [s for s in statuses if s != 200]
        self.assertFalse(bad, f"{len(bad)} of {N} requests failed ({set(bad)}) with agent {tracing_url}:\n{gw.logs()}")
        return elapsed, gw, port, mport

    def baseline_seconds(self):
        if AgentDownOrHanging.baseline is None:
            elapsed, gw, _, _ = self.run_gateway("gw-off", None)
            rc, _ = gw.stop()
            self.assertEqual(rc, 0, gw.logs())
            AgentDownOrHanging.baseline = elapsed
        return AgentDownOrHanging.baseline

    def dropped(self, mport):
        _, _, raw = t.request(mport, "/metrics")
        m = re.search(rb"^api_gateway_trace_spans_dropped_total (\S+)$", raw, re.M)
        return float(m.group(1)) if m else None

    def check(self, name, url):
        base = self.baseline_seconds()
        elapsed, gw, port, mport = self.run_gateway(name, url)
        bound = 3 * base + 1.0
        print(f"\n  {name}: {N} requests in {elapsed:.3f}s, slowest {self.slowest * 1000:.1f} ms "
              f"(tracing off: {base:.3f}s; bound {bound:.3f}s)", file=sys.stderr)
        # No single request waited for the agent (the exporter's deadline is 2 s).
        self.assertLess(self.slowest, 1.0, f"a request took {self.slowest:.2f}s with agent {url}")
        self.assertLess(elapsed, bound, f"{N} requests took {elapsed:.2f}s with agent {url}, "
                                        f"{base:.2f}s with tracing off")
        # The spans are lost, and counted: 3 spans per request (server, proxy, backend) once flushes fail.
        got = t.wait_until(lambda: (self.dropped(mport) or 0) >= 3 * N, 15, interval=0.25,
                           what="api_gateway_trace_spans_dropped_total to count the lost spans")
        self.assertTrue(got)
        # Still serving while the exporter keeps failing.
        st, _, _ = t.request(port, "/e/after")
        self.assertEqual(st, 200)
        rc, secs = gw.stop(timeout=20)
        self.assertEqual(rc, 0, f"exit status after SIGTERM\n{gw.logs()}")
        self.assertLess(secs, STOP_BOUND, f"SIGTERM to exit took {secs:.1f}s\n{gw.logs()}")
        return gw

    def test_agent_port_closed(self):
        self.check("gw-closed", f"http://127.0.0.1:{t.closed_port()}")

    def test_agent_hangs(self):
        hang = t.HangingListener()
        self.addCleanup(hang.close)
        self.check("gw-hang", f"http://127.0.0.1:{hang.port}")
        self.assertGreater(hang.accepted, 0, "the exporter never connected to the hanging agent")


if __name__ == "__main__":
    t.main()
