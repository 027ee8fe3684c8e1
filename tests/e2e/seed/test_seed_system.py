#!/usr/bin/python3
"""End-to-end test of the seed system: the real gateway binary with deploy/krakend.json in front of the real
auth-python-svc (Python), chat-node-svc (Node) and ranking-java-svc (Java) processes, all on 127.0.0.1.

Every seed route is called through the gateway; each answer must come from the right service, which must have
received the right backend path. /api/status must aggregate the three groups, and with one service stopped it
must still answer 200 with X-Krakend-Completed: false.

Usage:
  /usr/bin/python3 tests/e2e/seed/test_seed_system.py [GATEWAY_BIN]     (or env GATEWAY_BIN)
Environment:
  GATEWAY_BIN       gateway binary (default: build/bin/api-gateway)
  RANKING_CLASSES   compiled ranking-java-svc classes (default: compiled with javac into a temp dir)
  SEED_CONFIG       gateway config (default: deploy/krakend.json)
  E2E_KEEP=1        keep the temp dir with every process's log

What the gateway must provide: `run -c FILE -p PORT`; env GATEWAY_HOST_OVERRIDES (name:port=host:port,...)
rewriting backend hosts at load time. The config's prometheus exporter port (9090) is moved to a free port by
writing a derived copy of the config into the temp dir (only that one value changes), so the test never collides
with a gateway already running on 9090.
"""
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SERVICES = os.path.join(ROOT, "services")
GATEWAY_BIN = os.environ.get("GATEWAY_BIN") or os.path.join(ROOT, "build", "bin", "api-gateway")
CONFIG = os.environ.get("SEED_CONFIG") or os.path.join(ROOT, "deploy", "krakend.json")
JWT_SECRET = "e2e-" + uuid.uuid4().hex
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: str, n: int = 40) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


class Proc:
    """A child process whose stdout+stderr go to a log file; stopped by PID with SIGTERM (then SIGKILL)."""

    def __init__(self, name, argv, env, logdir):
        self.name = name
        self.log = os.path.join(logdir, f"{name}.log")
        self.fh = open(self.log, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.fh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def listening_port(self, timeout=START_TIMEOUT) -> int:
        """Services started with PORT=0 print {"event":"listening","port":N} once they are ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail(self.log)}")
            with open(self.log, errors="replace") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(rec, dict) and rec.get("event") == "listening":
                        return int(rec["port"])
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not report its port:\n{tail(self.log)}")

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.fh.close()
        return self.proc.returncode


def request(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    parsed = None
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
    return resp.status, resp.headers, parsed


class SeedSystemTest(unittest.TestCase):
    procs: dict = {}

    @classmethod
    def setUpClass(cls):
        if not os.access(GATEWAY_BIN, os.X_OK):
            raise RuntimeError(f"gateway binary not found: {GATEWAY_BIN} (pass it as argv[1] or GATEWAY_BIN)")
        cls.tmp = tempfile.mkdtemp(prefix="seed-e2e-")
        cls.failed = False
        try:
            cls._start()
        except BaseException:
            cls._dump_logs()
            cls._stop_all()
            raise

    @classmethod
    def _start(cls):
        classes = os.environ.get("RANKING_CLASSES")
        if not classes or not os.path.exists(os.path.join(classes, "RankingService.class")):
            classes = os.path.join(cls.tmp, "ranking-classes")
            srcs = [os.path.join(SERVICES, "ranking-java-svc", "src", f)
                    for f in sorted(os.listdir(os.path.join(SERVICES, "ranking-java-svc", "src"))) if f.endswith(".java")]
            subprocess.run([shutil.which("javac") or "javac", "-nowarn", "-d", classes, *srcs], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        base_env = dict(os.environ, PORT="0", BIND="127.0.0.1", JWT_SECRET=JWT_SECRET)
        base_env.pop("GATEWAY_HOST_OVERRIDES", None)
        node = shutil.which("node") or "node"
        java = shutil.which("java") or "java"
        specs = {
            "auth-python-svc": [sys.executable, os.path.join(SERVICES, "auth-python-svc", "auth_service.py")],
            "chat-node-svc": [node, os.path.join(SERVICES, "chat-node-svc", "server.js")],
            "ranking-java-svc": [java, "-cp", classes, "RankingService"],
        }
        for name, argv in specs.items():
            cls.procs[name] = Proc(name, argv, base_env, cls.tmp)
        cls.ports = {name: p.listening_port() for name, p in cls.procs.items()}

        # Derived config: identical to deploy/krakend.json except the metrics exporter's port.
        with open(CONFIG) as f:
            config = json.load(f)
        cls.metrics_port = free_port()
        for exporter in config["extra_config"]["telemetry/opentelemetry"]["exporters"]["prometheus"]:
            exporter["port"] = cls.metrics_port
        cfg_path = os.path.join(cls.tmp, "krakend.json")
        with open(cfg_path, "w") as f:
            json.dump(config, f, indent=2)

        seed_ports = {"auth-python-svc": 8000, "chat-node-svc": 8080, "ranking-java-svc": 8081}
        overrides = ",".join(f"{n}:{seed_ports[n]}=127.0.0.1:{cls.ports[n]}" for n in seed_ports)
        cls.gw_port = free_port()
        # As the seed's manifests run it: the WAF on (DD_APPSEC_ENABLED), built-in ruleset. The seed's own
        # traffic (JWTs, JSON bodies) must pass untouched; test_07 checks an attack is seen.
        gw_env = dict(os.environ, GATEWAY_HOST_OVERRIDES=overrides, DD_APPSEC_ENABLED="true")
        cls.procs["api-gateway"] = Proc("api-gateway", [GATEWAY_BIN, "run", "-c", cfg_path, "-p", str(cls.gw_port)],
                                        gw_env, cls.tmp)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            gw = cls.procs["api-gateway"].proc
            if gw.poll() is not None:
                raise RuntimeError(f"gateway exited with {gw.returncode}:\n{tail(cls.procs['api-gateway'].log)}")
            try:
                if request(cls.gw_port, "GET", "/__health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gateway not healthy in time:\n" + tail(cls.procs["api-gateway"].log))
            time.sleep(0.1)

    @classmethod
    def _stop_all(cls):
        for name in ["api-gateway", "auth-python-svc", "chat-node-svc", "ranking-java-svc"]:
            p = cls.procs.pop(name, None)
            if p:
                p.stop()

    @classmethod
    def _dump_logs(cls):
        for name, p in cls.procs.items():
            sys.stderr.write(f"\n----- {name} ({p.log}) -----\n{tail(p.log)}\n")

    @classmethod
    def tearDownClass(cls):
        if cls.failed:
            cls._dump_logs()
        cls._stop_all()
        if os.environ.get("E2E_KEEP") or cls.failed:
            sys.stderr.write(f"logs kept in {cls.tmp}\n")
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            type(self).failed = True
        return out

    # --- helpers ---------------------------------------------------------------------------------------
    def gw(self, method, path, body=None, headers=None):
        return request(self.gw_port, method, path, body, headers)

    def assertFrom(self, service, backend_path, status, headers, body, want_status=200):
        self.assertEqual(status, want_status, f"{body}")
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body.get("service"), service, body)
        self.assertEqual(body.get("path"), backend_path, body)
        # Service proxies are no-op: the backend's own headers pass through.
        self.assertEqual(headers.get("X-Service"), service)

    def login(self, user):
        st, _, body = self.gw("POST", "/api/auth/register", {"username": user, "password": "pw-" + user * 2})
        self.assertIn(st, (201, 409), body)
        st, h, body = self.gw("POST", "/api/auth/login", {"username": user, "password": "pw-" + user * 2})
        self.assertFrom("auth-python-svc", "/auth/login", st, h, body)
        return body

    # --- routes ----------------------------------------------------------------------------------------
    def test_01_health_static(self):
        st, h, body = self.gw("GET", "/health")
        self.assertEqual(st, 200, body)
        self.assertEqual(body.get("status"), "ok")
        self.assertEqual(body.get("service"), "api-gateway")
        self.assertIn("timestamp", body, "the gateway adds the current timestamp to /health")
        self.assertIsInstance(body["timestamp"], str)
        try:  # RFC 3339 / ISO 8601: must be current (not a value baked into the config)
            ts = datetime.datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
        except ValueError:
            ts = None
        if ts is not None and ts.tzinfo is not None:
            age = abs((datetime.datetime.now(datetime.timezone.utc) - ts).total_seconds())
            self.assertLess(age, 300, body["timestamp"])
        self.assertNotIn("path", body, "only the static data and the allowed backend 'status' field")
        self.assertEqual(h.get("X-Krakend-Completed"), "true", "auth-python-svc / answered")

    def test_02_auth_routes(self):
        st, h, body = self.gw("POST", "/api/auth/register", {"username": "e2e_alice", "password": "alice-password"})
        self.assertFrom("auth-python-svc", "/auth/register", st, h, body, 201)
        st, h, body = self.gw("POST", "/api/auth/register", {"username": "e2e_alice", "password": "alice-password"})
        self.assertFrom("auth-python-svc", "/auth/register", st, h, body, 409)
        st, h, body = self.gw("POST", "/api/auth/login", {"username": "e2e_alice", "password": "wrong-password"})
        self.assertFrom("auth-python-svc", "/auth/login", st, h, body, 401)
        st, h, body = self.gw("POST", "/api/auth/login", {"username": "e2e_alice", "password": "alice-password"})
        self.assertFrom("auth-python-svc", "/auth/login", st, h, body)
        token, sid = body["token"], body["session_id"]
        auth = {"Authorization": f"Bearer {token}"}
        # Authorization is forwarded (input_headers) on GET/POST/DELETE.
        st, h, body = self.gw("GET", "/api/auth/me", headers=auth)
        self.assertFrom("auth-python-svc", "/auth/me", st, h, body)
        self.assertEqual(body["user"]["username"], "e2e_alice")
        st, h, body = self.gw("GET", "/api/auth/me")
        self.assertFrom("auth-python-svc", "/auth/me", st, h, body, 401)
        self.assertIn("WWW-Authenticate", h, "no-op passes backend headers")
        # /api/session/{path}
        st, h, body = self.gw("GET", f"/api/session/{sid}")
        self.assertFrom("auth-python-svc", f"/session/{sid}", st, h, body)
        self.assertTrue(body["session"]["active"])
        st, h, body = self.gw("GET", "/api/session/unknown-session")
        self.assertFrom("auth-python-svc", "/session/unknown-session", st, h, body, 404)
        # /api/score
        st, h, body = self.gw("POST", "/api/score", {"score": 1234, "board": "global"}, headers=auth)
        self.assertFrom("auth-python-svc", "/score", st, h, body, 201)
        self.assertEqual(body["score"]["username"], "e2e_alice")
        st, h, body = self.gw("POST", "/api/score", {"score": 1})
        self.assertFrom("auth-python-svc", "/score", st, h, body, 401)
        st, h, body = self.gw("POST", "/api/score", {"score": "lots"}, headers=auth)
        self.assertFrom("auth-python-svc", "/score", st, h, body, 400)
        # DELETE /api/auth/{path}
        st, h, body = self.gw("DELETE", "/api/auth/logout", headers=auth)
        self.assertFrom("auth-python-svc", "/auth/logout", st, h, body)
        st, h, body = self.gw("GET", "/api/auth/me", headers=auth)
        self.assertFrom("auth-python-svc", "/auth/me", st, h, body, 401)
        st, h, body = self.gw("GET", f"/api/session/{sid}")
        self.assertFalse(body["session"]["active"])

    def test_03_chat_routes(self):
        st, h, body = self.gw("GET", "/api/chat")
        self.assertFrom("chat-node-svc", "/", st, h, body)
        self.assertEqual(body["status"], "ok")
        st, h, body = self.gw("GET", "/api/chat/rooms")
        self.assertFrom("chat-node-svc", "/rooms", st, h, body)
        self.assertIn("general", [r["name"] for r in body["rooms"]])
        st, h, body = self.gw("POST", "/api/chat/rooms", {"name": "e2e-room", "topic": "testing"})
        self.assertFrom("chat-node-svc", "/rooms", st, h, body, 201)
        for i in range(3):
            st, h, body = self.gw("POST", "/api/chat/e2e-room", {"user": "bob", "text": f"hello {i}"})
            self.assertFrom("chat-node-svc", "/e2e-room", st, h, body, 201)
        token = self.login("e2e_carol")["token"]
        st, h, body = self.gw("POST", "/api/chat/e2e-room", {"text": "signed"},
                              headers={"Authorization": f"Bearer {token}"})
        self.assertFrom("chat-node-svc", "/e2e-room", st, h, body, 201)
        self.assertEqual(body["message"]["user"], "e2e_carol", "Authorization forwarded; JWT shared with auth")
        # input_query_strings: limit is forwarded, anything else is not.
        st, h, body = self.gw("GET", "/api/chat/e2e-room?limit=2&other=1")
        self.assertFrom("chat-node-svc", "/e2e-room", st, h, body)
        self.assertEqual(body["limit"], 2)
        self.assertEqual([m["text"] for m in body["messages"]], ["hello 2", "signed"])
        st, h, body = self.gw("GET", "/api/chat/no-such-room")
        self.assertFrom("chat-node-svc", "/no-such-room", st, h, body, 404)
        st, h, body = self.gw("POST", "/api/chat/e2e-room", {"user": "bob"})
        self.assertFrom("chat-node-svc", "/e2e-room", st, h, body, 400)

    def test_04_ranking_routes(self):
        st, h, body = self.gw("GET", "/api/ranking")
        self.assertFrom("ranking-java-svc", "/", st, h, body)
        self.assertEqual(body["status"], "ok")
        for player, score in [("ann", 10), ("ben", 30), ("cat", 20)]:
            st, h, body = self.gw("POST", "/api/ranking/e2e-board", {"player": player, "score": score})
            self.assertFrom("ranking-java-svc", "/e2e-board", st, h, body, 201)
        token = self.login("e2e_dave")["token"]
        st, h, body = self.gw("POST", "/api/ranking/e2e-board", {"score": 25}, headers={"Authorization": f"Bearer {token}"})
        self.assertFrom("ranking-java-svc", "/e2e-board", st, h, body, 201)
        self.assertEqual(body["player"], "e2e_dave")
        st, h, body = self.gw("GET", "/api/ranking/e2e-board?limit=2")
        self.assertFrom("ranking-java-svc", "/e2e-board", st, h, body)
        self.assertEqual([e["player"] for e in body["entries"]], ["ben", "e2e_dave"])
        st, h, body = self.gw("GET", "/api/ranking/boards")
        self.assertFrom("ranking-java-svc", "/boards", st, h, body)
        self.assertIn("e2e-board", [b["name"] for b in body["boards"]])
        st, h, body = self.gw("GET", "/rankings/e2e-board?limit=3")
        self.assertFrom("ranking-java-svc", "/rankings/e2e-board", st, h, body)
        self.assertEqual([e["rank"] for e in body["entries"]], [1, 2, 3])
        st, h, body = self.gw("GET", "/rankings/global")
        self.assertFrom("ranking-java-svc", "/rankings/global", st, h, body)
        st, h, body = self.gw("GET", "/rankings/no-such-board")
        self.assertFrom("ranking-java-svc", "/rankings/no-such-board", st, h, body, 404)
        st, h, body = self.gw("POST", "/api/ranking/e2e-board", {"player": "x", "score": -5})
        self.assertFrom("ranking-java-svc", "/e2e-board", st, h, body, 400)

    def test_05_status_aggregates_three_groups(self):
        st, h, body = self.gw("GET", "/api/status")
        self.assertEqual(st, 200, body)
        self.assertEqual(set(body), {"auth", "chat", "ranking"}, body)
        for group, service in [("auth", "auth-python-svc"), ("chat", "chat-node-svc"), ("ranking", "ranking-java-svc")]:
            self.assertEqual(body[group]["service"], service)
            self.assertEqual(body[group]["path"], "/")
            self.assertEqual(body[group]["status"], "ok")
        self.assertEqual(h.get("X-Krakend-Completed"), "true")
        self.assertTrue(h.get("Content-Type", "").startswith("application/json"))
        self.assertIsNone(h.get("X-Service"), "json endpoints do not leak backend headers")

    def test_06_routing_table_is_exact(self):
        # Routes the seed does not list, and methods it does not allow, never reach a service.
        for method, path, want in [
            ("GET", "/api/unknown", 404), ("GET", "/api/auth/a/b", 404),
            ("GET", "/api/score", 405), ("POST", "/api/status", 405), ("POST", "/rankings/global", 405),
            ("DELETE", "/api/chat/rooms", 405), ("PUT", "/api/ranking/global", 405), ("POST", "/api/session/x", 405),
        ]:
            with self.subTest(method=method, path=path):
                st, h, body = self.gw(method, path)
                self.assertEqual(st, want, body)
                self.assertIsNone(h.get("X-Service"))

    def test_07_appsec_sees_attacks_and_lets_seed_traffic_through(self):
        with open(self.procs["api-gateway"].log, errors="replace") as f:
            self.assertNotIn("appsec: ", f.read(), "the seed's ordinary traffic raised an AppSec event")
        st, h, body = self.gw("GET", "/api/chat/e2e-room?limit=1%27%20OR%20%271%27%3D%271")
        self.assertIn(st, (200, 400), body)  # the built-in ruleset monitors; the backend answers
        deadline = time.monotonic() + 10
        while True:
            with open(self.procs["api-gateway"].log, errors="replace") as f:
                events = [json.loads(line) for line in f if '"appsec: attack detected"' in line]
            if events or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(events, tail(self.procs["api-gateway"].log))
        self.assertIn("gw-sqli", events[0].get("appsec.rules", ""))

    def test_90_one_service_down(self):
        self.procs["ranking-java-svc"].stop()
        st, h, body = self.gw("GET", "/api/status")
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("X-Krakend-Completed"), "false")
        self.assertEqual(set(body), {"auth", "chat"}, body)
        self.assertEqual(body["auth"]["service"], "auth-python-svc")
        self.assertEqual(body["chat"]["service"], "chat-node-svc")
        st, _, _ = self.gw("GET", "/api/ranking")
        self.assertEqual(st, 500, "no-op endpoint with its backend down")
        st, h, body = self.gw("GET", "/health")
        self.assertEqual((st, body.get("status")), (200, "ok"))

    def test_99_gateway_stops_cleanly(self):
        gw = self.procs["api-gateway"]
        started = time.monotonic()
        code = gw.stop(timeout=25)
        self.procs.pop("api-gateway")
        self.assertEqual(code, 0, tail(gw.log))
        self.assertLess(time.monotonic() - started, 20)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        GATEWAY_BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
