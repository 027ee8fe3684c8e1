"""Tests for auth-python-svc: start the real service on a free 127.0.0.1 port, drive it over HTTP.

Run: /usr/bin/python3 -m unittest discover -s services/auth-python-svc -p 'test_*.py' -v
"""
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import auth_service  # noqa: E402  (unit tests of the JWT helpers)

SECRET = "unit-test-secret"


class Service:
    """The service as a child process on an OS-chosen port; stdout is drained by a thread."""

    def __init__(self):
        env = dict(os.environ, PORT="0", BIND="127.0.0.1", JWT_SECRET=SECRET)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "auth_service.py")], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.port = None
        deadline = time.monotonic() + 15
        while self.port is None and time.monotonic() < deadline:
            try:
                rec = json.loads(self.lines.get(timeout=deadline - time.monotonic()))
            except (queue.Empty, ValueError):
                continue
            if rec.get("event") == "listening":
                self.port = rec["port"]
        if self.port is None:
            self.stop()
            raise RuntimeError("service did not start")

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def request(self, method, path, body=None, headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), (json.loads(payload) if payload else None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pump.join(timeout=5)
        self.proc.stdout.close()
        return self.proc.returncode


class JwtTest(unittest.TestCase):
    def test_roundtrip_and_tamper(self):
        tok = auth_service.jwt_encode({"sub": "a", "exp": time.time() + 60}, b"k")
        self.assertEqual(auth_service.jwt_decode(tok, b"k")["sub"], "a")
        with self.assertRaises(ValueError):
            auth_service.jwt_decode(tok, b"other")
        head, payload, sig = tok.split(".")
        with self.assertRaises(ValueError):
            auth_service.jwt_decode(f"{head}.{payload}x.{sig}", b"k")
        with self.assertRaises(ValueError):
            auth_service.jwt_decode("not-a-token", b"k")

    def test_expired(self):
        tok = auth_service.jwt_encode({"sub": "a", "exp": time.time() - 1}, b"k")
        with self.assertRaises(ValueError):
            auth_service.jwt_decode(tok, b"k")


class AuthServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.svc = Service()

    @classmethod
    def tearDownClass(cls):
        cls.svc.stop()

    def assertFrom(self, headers, body, path):
        self.assertEqual(headers.get("X-Service"), "auth-python-svc")
        self.assertEqual(body["service"], "auth-python-svc")
        self.assertEqual(body["path"], path)

    def login(self, user):
        self.svc.request("POST", "/auth/register", {"username": user, "password": "correct horse"})
        st, _, body = self.svc.request("POST", "/auth/login", {"username": user, "password": "correct horse"})
        self.assertEqual(st, 200)
        return body

    def test_status(self):
        st, h, body = self.svc.request("GET", "/")
        self.assertEqual(st, 200)
        self.assertFrom(h, body, "/")
        self.assertEqual(body["status"], "ok")
        self.assertEqual(h["Content-Type"], "application/json")

    def test_register_login_me_logout(self):
        st, h, body = self.svc.request("POST", "/auth/register", {"username": "alice", "password": "s3cret-pass"})
        self.assertEqual(st, 201, body)
        self.assertFrom(h, body, "/auth/register")
        self.assertEqual(body["user"]["username"], "alice")
        st, _, body = self.svc.request("POST", "/auth/register", {"username": "alice", "password": "s3cret-pass"})
        self.assertEqual(st, 409)
        st, _, body = self.svc.request("POST", "/auth/login", {"username": "alice", "password": "wrong-pass"})
        self.assertEqual(st, 401)
        st, h, body = self.svc.request("POST", "/auth/login", {"username": "alice", "password": "s3cret-pass"})
        self.assertEqual(st, 200)
        self.assertFrom(h, body, "/auth/login")
        token, sid = body["token"], body["session_id"]
        claims = auth_service.jwt_decode(token, SECRET.encode())
        self.assertEqual((claims["sub"], claims["sid"]), ("alice", sid))
        auth = {"Authorization": f"Bearer {token}"}
        st, h, body = self.svc.request("GET", "/auth/me", headers=auth)
        self.assertEqual(st, 200)
        self.assertFrom(h, body, "/auth/me")
        self.assertEqual(body["user"]["username"], "alice")
        st, _, body = self.svc.request("GET", "/auth/verify", headers=auth)
        self.assertEqual((st, body["claims"]["sub"]), (200, "alice"))
        st, h, body = self.svc.request("GET", f"/session/{sid}")
        self.assertEqual(st, 200)
        self.assertFrom(h, body, f"/session/{sid}")
        self.assertTrue(body["session"]["active"])
        st, _, body = self.svc.request("DELETE", "/auth/logout", headers=auth)
        self.assertEqual(st, 200)
        self.assertTrue(body["logged_out"])
        st, h, body = self.svc.request("GET", "/auth/me", headers=auth)
        self.assertEqual(st, 401)
        self.assertIn("WWW-Authenticate", h)
        st, _, body = self.svc.request("GET", f"/session/{sid}")
        self.assertFalse(body["session"]["active"])

    def test_score(self):
        token = self.login("bob")["token"]
        auth = {"Authorization": f"Bearer {token}"}
        st, h, body = self.svc.request("POST", "/score", {"score": 42}, headers=auth)
        self.assertEqual(st, 201, body)
        self.assertFrom(h, body, "/score")
        self.assertEqual((body["score"]["username"], body["score"]["board"], body["best"]), ("bob", "global", 42))
        st, _, body = self.svc.request("POST", "/score", {"score": 7, "board": "weekly"}, headers=auth)
        self.assertEqual((st, body["best"]), (201, 7))
        st, _, body = self.svc.request("GET", "/auth/me", headers=auth)
        self.assertEqual(body["user"]["best_scores"], {"global": 42, "weekly": 7})
        self.assertEqual(self.svc.request("POST", "/score", {"score": 1})[0], 401)
        self.assertEqual(self.svc.request("POST", "/score", {"score": "x"}, headers=auth)[0], 400)
        self.assertEqual(self.svc.request("POST", "/score", {"score": True}, headers=auth)[0], 400)
        bad = {"Authorization": "Bearer " + token[:-3] + "AAA"}
        self.assertEqual(self.svc.request("POST", "/score", {"score": 1}, headers=bad)[0], 401)
        self.assertEqual(self.svc.request("POST", "/score", {"score": 1}, headers={"Authorization": "Basic x"})[0], 401)

    def test_delete_account(self):
        token = self.login("carol")["token"]
        auth = {"Authorization": f"Bearer {token}"}
        st, _, body = self.svc.request("DELETE", "/auth/me", headers=auth)
        self.assertEqual((st, body["deleted"]), (200, True))
        self.assertEqual(self.svc.request("GET", "/auth/me", headers=auth)[0], 401)

    def test_bad_input_is_json_4xx(self):
        cases = [
            ("POST", "/auth/register", None, b"{not json", {"Content-Type": "application/json"}, 400),
            ("POST", "/auth/register", None, b"[1,2]", {"Content-Type": "application/json"}, 400),
            ("POST", "/auth/register", None, b"", {}, 400),
            ("POST", "/auth/register", {"username": "x"}, None, {}, 400),
            ("POST", "/auth/register", {"username": "valid_name", "password": "short"}, None, {}, 400),
            ("POST", "/auth/register", None, b"a=b", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
            ("POST", "/auth/login", {"username": "nobody", "password": "whatever123"}, None, {}, 401),
            ("GET", "/auth/register", None, None, {}, 405),
            ("PUT", "/score", None, None, {}, 405),
            ("GET", "/auth/unknown", None, None, {}, 404),
            ("GET", "/nope", None, None, {}, 404),
            ("GET", "/session/does-not-exist", None, None, {}, 404),
            ("POST", "/session/x", None, None, {}, 405),
            ("BREW", "/", None, None, {}, 405),
        ]
        for method, path, body, raw, headers, want in cases:
            with self.subTest(method=method, path=path, want=want):
                st, h, resp = self.svc.request(method, path, body=body, raw=raw, headers=headers)
                self.assertEqual(st, want, resp)
                self.assertEqual(h.get("X-Service"), "auth-python-svc")
                self.assertEqual(resp["service"], "auth-python-svc")
                self.assertEqual(resp["status"], want)
                self.assertIn("error", resp)
        self.assertEqual(self.svc.request("GET", "/")[0], 200)  # still serving

    def test_garbage_on_the_socket(self):
        with socket.create_connection(("127.0.0.1", self.svc.port), timeout=5) as s:
            s.sendall(b"\x00\x01garbage\r\n\r\n")
            data = s.recv(4096)
        self.assertIn(b"400", data.split(b"\r\n")[0])
        self.assertEqual(self.svc.request("GET", "/")[0], 200)

    def test_keep_alive_with_error_bodies(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.svc.port, timeout=5)
        for _ in range(3):
            conn.request("POST", "/auth/login", body=b'{"username":"zz","password":"x"}',
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 400)
            conn.request("GET", "/")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        conn.close()

    def test_request_log_lines(self):
        self.svc.request("GET", "/?probe=1")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                rec = json.loads(self.svc.lines.get(timeout=1))
            except (queue.Empty, ValueError):
                continue
            if rec.get("method") == "GET" and rec.get("path") == "/" and rec.get("status") == 200:
                self.assertEqual(rec["service"], "auth-python-svc")
                return
        self.fail("no JSON access log line for GET /")


class LifecycleTest(unittest.TestCase):
    def test_sigterm_exits_cleanly(self):
        svc = Service()
        self.assertEqual(svc.request("GET", "/")[0], 200)
        started = time.monotonic()
        self.assertEqual(svc.stop(), 0)
        self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main()
