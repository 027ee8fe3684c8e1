#!/usr/bin/python3
"""Prometheus end to end: the gateway's prometheus exporter scraped by a real Prometheus server
(/usr/bin/prometheus, Debian package), checked through Prometheus' HTTP API; the raw /metrics text
checked with `promtool check metrics`.

Usage: /usr/bin/python3 tests/e2e/telemetry/test_prometheus.py [GATEWAY_BIN]
"""
import json
import os
import shutil
import subprocess
import sys
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import telemetry_e2e as t  # noqa: E402

PROMETHEUS = shutil.which("prometheus", path="/usr/bin:/usr/local/bin") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool", path="/usr/bin:/usr/local/bin") or "/usr/bin/promtool"

ROUTES = {"/e/:id", "/fail", "/dead", "404 Not Found"}


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class PrometheusEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (os.access(PROMETHEUS, os.X_OK) and os.access(PROMTOOL, os.X_OK)):
            raise unittest.SkipTest("prometheus/promtool not installed (Debian package prometheus)")
        cls.tmp = t.TempDir("gw-tel-prom-")
        cls.procs = []
        try:
            cls._start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        backend, bport = t.start_backend(cls.tmp)
        cls.procs.append(backend)
        cls.metrics_port = t.free_port()
        dead = t.closed_port()
        config = {
            "version": 3, "timeout": "3s", "host": [f"http://127.0.0.1:{bport}"],
            "extra_config": {
                "telemetry/opentelemetry": {
                    "service_name": "gw-e2e", "service_version": "9.9.9",
                    "exporters": {"prometheus": [{"name": "local", "port": cls.metrics_port}]},
                    "layers": {"backend": {"metrics": {"detailed_connection": True}}},
                },
                "telemetry/logging": {"level": "INFO", "stdout": True},
            },
            "endpoints": [
                {"endpoint": "/e/{id}", "backend": [{"url_pattern": "/echo/{id}"}]},
                {"endpoint": "/fail", "backend": [{"url_pattern": "/status/500"}]},
                {"endpoint": "/dead", "backend": [{"host": [f"http://127.0.0.1:{dead}"], "url_pattern": "/down"}]},
            ],
        }
        gw, cls.port = t.start_gateway(cls.tmp, config, t.gateway_env(), wait_ports=(cls.metrics_port,))
        cls.procs.append(gw)
        cls.gw = gw

        # Traffic: 200s on several raw paths of one template, a 404, a backend answering 500, a dead backend.
        cls.statuses = {}
        for path in ["/e/1", "/e/2", "/e/abc", "/e/1", "/nope/x", "/fail", "/fail", "/dead"]:
            st, _, _ = t.request(cls.port, path)
            cls.statuses.setdefault(path, set()).add(st)

        _, _, raw = t.request(cls.metrics_port, "/metrics")
        cls.raw_metrics = raw

        cls.prom_port = t.free_port()
        prom_cfg = cls.tmp.file("prometheus.yml", (
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: gateway\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{cls.metrics_port}']\n"))
        tsdb = os.path.join(cls.tmp.path, "tsdb")
        prom = t.Proc("prometheus", [PROMETHEUS, f"--config.file={prom_cfg}", f"--storage.tsdb.path={tsdb}",
                                     f"--web.listen-address=127.0.0.1:{cls.prom_port}"], cls.tmp.path)
        cls.procs.append(prom)
        cls.prom = prom
        prom.wait_port(cls.prom_port, timeout=30)

        def scraped():
            try:
                res = cls.query('up{job="gateway"}')
            except OSError:
                return False
            if not res or res[0]["value"][1] != "1":
                return False
            # The families of interest are in the head block once a scrape after the traffic landed.
            return cls.series("http_client_duration_count")
        t.wait_until(scraped, 60, interval=0.5, what="Prometheus to scrape the gateway")

    @classmethod
    def tearDownClass(cls):
        for p in reversed(getattr(cls, "procs", [])):
            p.stop()
        if hasattr(cls, "tmp"):
            cls.tmp.cleanup()

    @classmethod
    def api(cls, path, **params):
        url = f"http://127.0.0.1:{cls.prom_port}/api/v1/{path}?" + urllib.parse.urlencode(params, doseq=True)
        doc = http_json(url)
        if doc.get("status") != "success":
            raise AssertionError(f"{url}: {doc}")
        return doc["data"]

    @classmethod
    def query(cls, q):
        return cls.api("query", query=q)["result"]

    @classmethod
    def series(cls, match):
        return cls.api("series", **{"match[]": [match]})

    def labelsets(self, name):
        s = self.series(name)
        self.assertTrue(s, f"Prometheus has no series {name}; gateway /metrics had:\n"
                           + "\n".join(sorted({ln.split("{")[0] for ln in self.raw_metrics.decode().splitlines()
                                               if ln and not ln.startswith("#")})))
        return s

    def test_traffic_answers(self):
        self.assertEqual(self.statuses["/e/1"], {200})
        self.assertEqual(self.statuses["/nope/x"], {404})
        self.assertEqual(self.statuses["/fail"], {500})
        self.assertEqual(self.statuses["/dead"], {500})

    def test_http_server_duration_bucket(self):
        s = self.labelsets("http_server_duration_bucket")
        routes = {x["http_route"] for x in s}
        self.assertTrue(routes <= ROUTES, f"raw paths leaked into http_route: {routes - ROUTES}")
        self.assertIn("/e/:id", routes)
        self.assertIn("404 Not Found", routes)
        for x in s:
            for label in ("http_request_method", "http_response_status_code", "http_route", "otel_scope_name",
                          "url_scheme", "le", "job", "instance"):
                self.assertIn(label, x, x)
        by_route = {(x["http_route"], x["http_response_status_code"]) for x in s}
        self.assertIn(("/e/:id", "200"), by_route)
        self.assertIn(("404 Not Found", "404"), by_route)
        self.assertIn(("/fail", "500"), by_route)
        # The four /e/* requests are one series per bucket: count 4 at le=+Inf.
        res = self.query('http_server_duration_bucket{http_route="/e/:id",le="+Inf"}')
        self.assertEqual([r["value"][1] for r in res], ["4"], res)
        # Bucket boundaries as KrakenD's (seconds).
        les = {x["le"] for x in s if x["http_route"] == "/e/:id"}
        for le in ("0.01", "0.1", "0.5", "1", "10", "+Inf"):
            self.assertIn(le, les)

    def test_krakend_proxy_duration_count(self):
        s = self.labelsets("krakend_proxy_duration_count")
        routes = {x["http_route"] for x in s}
        self.assertTrue(routes <= ROUTES - {"404 Not Found"}, routes)
        want = {"canceled", "complete", "error", "http_request_method", "http_route", "otel_scope_name"}
        for x in s:
            self.assertTrue(want <= set(x), x)
        errors = {x["http_route"]: x["error"] for x in s}
        self.assertEqual(errors.get("/e/:id"), "false", s)
        self.assertEqual(errors.get("/fail"), "true", s)
        self.assertEqual(errors.get("/dead"), "true", s)

    def test_krakend_backend_duration_count(self):
        s = self.labelsets("krakend_backend_duration_count")
        want = {"canceled", "complete", "error", "http_request_method", "http_route", "krakend_endpoint_method",
                "krakend_endpoint_route", "otel_scope_name"}
        for x in s:
            self.assertTrue(want <= set(x), x)
        by_endpoint = {x["krakend_endpoint_route"]: x for x in s}
        self.assertEqual(set(by_endpoint), {"/e/:id", "/fail", "/dead"}, s)
        self.assertEqual(by_endpoint["/e/:id"]["http_route"], "/echo/:id")  # backend url_pattern, normalised
        self.assertEqual(by_endpoint["/e/:id"]["error"], "false")
        self.assertEqual(by_endpoint["/fail"]["error"], "true")
        self.assertEqual(by_endpoint["/dead"]["error"], "true")
        res = self.query('krakend_backend_duration_count{krakend_endpoint_route="/e/:id"}')
        self.assertEqual([r["value"][1] for r in res], ["4"], res)

    def test_http_client_duration_count(self):
        s = self.labelsets("http_client_duration_count")
        want = {"clientname", "http_request_method", "http_response_status_code", "http_route",
                "krakend_endpoint_method", "krakend_endpoint_route", "otel_scope_name", "server_address",
                "server_port"}
        for x in s:
            self.assertTrue(want <= set(x), x)
        codes = {(x["krakend_endpoint_route"], x["http_response_status_code"]) for x in s}
        self.assertIn(("/e/:id", "200"), codes)
        self.assertIn(("/fail", "500"), codes)
        self.assertIn(("/dead", "0"), codes)  # no response: KrakenD records status "0"
        self.assertEqual({x["http_route"] for x in s if x["krakend_endpoint_route"] == "/e/:id"}, {"/echo/:id"})

    def test_http_client_get_conn_duration_count(self):
        # detailed_connection: the time to get a connection, per backend call that got one (not /dead).
        s = self.labelsets("http_client_request_get_conn_duration_count")
        routes = {x["krakend_endpoint_route"] for x in s}
        self.assertIn("/e/:id", routes)
        self.assertNotIn("/dead", routes)
        # Backends on IP literals are never resolved: no DNS series.
        self.assertEqual(self.series("http_client_request_dns_duration_count"), [])

    def test_promtool_accepts_raw_metrics(self):
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=self.raw_metrics, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, f"promtool check metrics:\n{r.stdout.decode()}{r.stderr.decode()}")

    def test_gateway_still_healthy(self):
        self.assertTrue(self.gw.alive(), self.gw.logs())


if __name__ == "__main__":
    t.main()
