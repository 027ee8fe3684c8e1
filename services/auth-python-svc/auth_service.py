#!/usr/bin/env python3
"""auth-python-svc: accounts, HMAC-SHA256 JWT sessions and score records for the game backend.

Python 3.11 standard library only. State is in memory (one replica).

Environment:
  PORT        listen port (default 8000; 0 = any free port, printed in the "listening" log line)
  BIND        listen address (default 127.0.0.1; containers set 0.0.0.0)
  JWT_SECRET  HMAC-SHA256 key for tokens (default: a development key, logged as a warning)
  TOKEN_TTL   token lifetime in seconds (default 3600)

Routes (paths as the gateway forwards them):
  GET    /                 status document
  POST   /auth/register    {"username","password"} -> 201 user
  POST   /auth/login       {"username","password"} -> 200 {"token","session_id",...}
  POST   /auth/logout      Bearer -> 200, revokes the token's session (DELETE /auth/logout too)
  GET    /auth/me          Bearer -> 200 user + score summary
  DELETE /auth/me          Bearer -> 200, deletes the account and its sessions
  GET    /auth/verify      Bearer -> 200 claims (token introspection)
  GET    /session/{id}     -> 200 session, 404 unknown
  POST   /score            Bearer, {"score": int, "board"?: str} -> 201 record
Every JSON body carries "service" and "path"; every response carries the X-Service header.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import datetime
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SERVICE = "auth-python-svc"
VERSION = "1.0.0"
DEV_SECRET = "dev-only-insecure-jwt-secret"
MAX_BODY = 64 * 1024
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
BOARD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(claims: dict, secret: bytes) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def jwt_decode(token: str, secret: bytes, now: float | None = None) -> dict:
    """Verifies an HS256 JWT and returns its claims; raises ValueError on any defect."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("malformed token")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        sig = _b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed token") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise ValueError("unsupported token algorithm")
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(sig, expected):
        raise ValueError("bad token signature")
    if not isinstance(claims, dict):
        raise ValueError("malformed token")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or (now if now is not None else time.time()) >= exp:
        raise ValueError("token expired")
    return claims


def _hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 100_000)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Store:
    """All state, guarded by one lock (requests are short; contention is irrelevant here)."""

    def __init__(self, secret: bytes, token_ttl: int):
        self.secret = secret
        self.token_ttl = token_ttl
        self.lock = threading.Lock()
        self.users: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.scores: list[dict] = []
        self.started = time.time()

    def register(self, username: str, password: str) -> dict:
        salt = secrets.token_bytes(16)
        digest = _hash_password(password, salt)
        with self.lock:
            if username in self.users:
                raise HttpError(409, f"user {username!r} already exists")
            user = {"username": username, "salt": salt, "hash": digest, "created_at": time.time()}
            self.users[username] = user
        return self.public_user(user)

    def login(self, username: str, password: str) -> dict:
        with self.lock:
            user = self.users.get(username)
        # Same work whether or not the user exists, so timing does not reveal accounts.
        salt = user["salt"] if user else b"\0" * 16
        digest = _hash_password(password, salt)
        if user is None or not hmac.compare_digest(digest, user["hash"]):
            raise HttpError(401, "invalid username or password")
        now = time.time()
        sid = secrets.token_urlsafe(18)
        session = {"id": sid, "username": username, "created_at": now,
                   "expires_at": now + self.token_ttl, "revoked": False}
        with self.lock:
            self.sessions[sid] = session
        claims = {"iss": SERVICE, "sub": username, "sid": sid, "iat": int(now),
                  "exp": int(now + self.token_ttl)}
        return {"token": jwt_encode(claims, self.secret), "token_type": "Bearer",
                "expires_in": self.token_ttl, "session_id": sid, "username": username}

    def authenticate(self, authorization: str | None) -> tuple[dict, dict]:
        bearer = "WWW-Authenticate"
        if not authorization:
            raise HttpError(401, "missing bearer token", {bearer: 'Bearer realm="auth-python-svc"'})
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HttpError(401, "expected 'Authorization: Bearer <token>'",
                            {bearer: 'Bearer realm="auth-python-svc"'})
        try:
            claims = jwt_decode(token.strip(), self.secret)
        except ValueError as exc:
            raise HttpError(401, str(exc), {bearer: 'Bearer error="invalid_token"'}) from exc
        with self.lock:
            session = self.sessions.get(claims.get("sid", ""))
            user = self.users.get(claims.get("sub", ""))
            if session is None or session["revoked"] or user is None:
                raise HttpError(401, "session revoked", {bearer: 'Bearer error="invalid_token"'})
            return claims, dict(session)

    def logout(self, sid: str) -> None:
        with self.lock:
            if sid in self.sessions:
                self.sessions[sid]["revoked"] = True

    def delete_user(self, username: str) -> None:
        with self.lock:
            self.users.pop(username, None)
            for session in self.sessions.values():
                if session["username"] == username:
                    session["revoked"] = True

    def session(self, sid: str) -> dict:
        with self.lock:
            session = self.sessions.get(sid)
            if session is None:
                raise HttpError(404, "session not found")
            session = dict(session)
        active = not session["revoked"] and time.time() < session["expires_at"]
        return {"id": session["id"], "username": session["username"],
                "created_at": _iso(session["created_at"]), "expires_at": _iso(session["expires_at"]),
                "active": active}

    def record_score(self, username: str, score: int, board: str) -> dict:
        record = {"username": username, "board": board, "score": score, "recorded_at": _iso(time.time())}
        with self.lock:
            self.scores.append(record)
            mine = [s["score"] for s in self.scores if s["username"] == username and s["board"] == board]
        return {"score": record, "best": max(mine), "submissions": len(mine)}

    def public_user(self, user: dict) -> dict:
        with self.lock:
            mine = [s for s in self.scores if s["username"] == user["username"]]
        boards: dict[str, int] = {}
        for s in mine:
            boards[s["board"]] = max(boards.get(s["board"], s["score"]), s["score"])
        return {"username": user["username"], "created_at": _iso(user["created_at"]),
                "best_scores": boards, "submissions": len(mine)}

    def counts(self) -> dict:
        with self.lock:
            active = sum(1 for s in self.sessions.values() if not s["revoked"])
            return {"users": len(self.users), "active_sessions": active, "scores": len(self.scores)}


def _log(record: dict) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    server_version = f"{SERVICE}/{VERSION}"
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools connections

    store: Store  # set on the class by make_server
    timeout = 30  # idle keep-alive connections are closed after this many seconds

    # --- plumbing -------------------------------------------------------------------------
    def log_message(self, fmt, *args):  # silence the default stderr access log
        pass

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors (bad request line, oversized headers, unknown method) as JSON."""
        if code == 501:  # http.server's answer to a method without a do_* handler
            code, message = 405, f"method {self.command} not allowed"
        if not hasattr(self, "_path"):
            self._path = urlsplit(getattr(self, "path", "") or "").path
        self.close_connection = True
        try:
            self._send(code, {"error": message or HTTPStatus(code).phrase, "status": code})
        except OSError:
            pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        body = {"service": SERVICE, "path": self._path, **body}
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Service", SERVICE)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._status = status

    def _json_body(self) -> dict:
        ctype = self.headers.get("Content-Type", "")
        if ctype and "json" not in ctype.lower():
            raise HttpError(415, "Content-Type must be application/json")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._read_chunked()
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError as exc:
                raise HttpError(400, "bad Content-Length") from exc
            if length < 0 or length > MAX_BODY:
                raise HttpError(413, f"body larger than {MAX_BODY} bytes")
            raw = self.rfile.read(length) if length else b""
        self._body_consumed = True
        if not raw.strip():
            raise HttpError(400, "a JSON object body is required")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, f"invalid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise HttpError(400, "the JSON body must be an object")
        return body

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError as exc:
                self.close_connection = True
                raise HttpError(400, "bad chunked encoding") from exc
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > MAX_BODY:
                self.close_connection = True
                raise HttpError(413, f"body larger than {MAX_BODY} bytes")
            out += self.rfile.read(size)
            self.rfile.readline(1024)

    def _drain_body(self) -> None:
        """Discard an unread request body so the keep-alive connection stays in sync."""
        if getattr(self, "_body_consumed", False):
            return
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return
        if length > MAX_BODY:
            self.close_connection = True
        elif length > 0:
            self.rfile.read(length)

    def _handle(self) -> None:
        started = time.monotonic()
        self.server.track(+1)
        self._path = urlsplit(self.path).path or "/"
        self._status = 0
        self._body_consumed = False
        try:
            self._route()
        except HttpError as exc:
            self._drain_body()
            self._send(exc.status, {"error": exc.message, "status": exc.status}, exc.headers)
        except Exception as exc:  # a bug must not take the service down
            self._drain_body()
            self.close_connection = True
            _log({"ts": _iso(time.time()), "level": "error", "service": SERVICE, "msg": "handler failed",
                  "error": repr(exc), "trace": traceback.format_exc(limit=5)})
            try:
                self._send(500, {"error": "internal error", "status": 500})
            except OSError:
                pass
        finally:
            _log({"ts": _iso(time.time()), "level": "info", "service": SERVICE, "method": self.command,
                  "path": self._path, "status": self._status,
                  "duration_ms": round((time.monotonic() - started) * 1000, 3),
                  "remote": self.client_address[0]})
            self.server.track(-1)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _handle

    # --- routes ---------------------------------------------------------------------------
    def _route(self) -> None:
        path, method = self._path, self.command
        parts = [p for p in path.split("/") if p]
        if path == "/":
            self._allow(method, "GET", "HEAD")
            now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
            self._send(200, {"status": "ok", "version": VERSION, "timestamp": now.replace("+00:00", "Z"),
                             "uptime_s": round(time.time() - self.store.started, 3), **self.store.counts()})
        elif len(parts) == 2 and parts[0] == "auth":
            self._auth(parts[1], method)
        elif len(parts) == 2 and parts[0] == "session":
            self._allow(method, "GET")
            self._send(200, {"session": self.store.session(parts[1])})
        elif path == "/score":
            self._allow(method, "POST")
            claims, _ = self.store.authenticate(self.headers.get("Authorization"))
            body = self._json_body()
            score = body.get("score")
            if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10**12:
                raise HttpError(400, "'score' must be an integer between 0 and 10^12")
            board = body.get("board", "global")
            if not isinstance(board, str) or not BOARD_RE.match(board):
                raise HttpError(400, "'board' must match [A-Za-z0-9_-]{1,64}")
            self._send(201, self.store.record_score(claims["sub"], score, board))
        else:
            raise HttpError(404, f"no route for {path}")

    def _allow(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            raise HttpError(405, f"method {method} not allowed", {"Allow": ", ".join(allowed)})

    def _credentials(self) -> tuple[str, str]:
        body = self._json_body()
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not USERNAME_RE.match(username):
            raise HttpError(400, "'username' must match [A-Za-z0-9_.-]{3,32}")
        if not isinstance(password, str) or not 8 <= len(password) <= 256:
            raise HttpError(400, "'password' must be a string of 8 to 256 characters")
        return username, password

    def _auth(self, action: str, method: str) -> None:
        store = self.store
        if action == "register":
            self._allow(method, "POST")
            username, password = self._credentials()
            self._send(201, {"user": store.register(username, password)})
        elif action == "login":
            self._allow(method, "POST")
            username, password = self._credentials()
            self._send(200, store.login(username, password))
        elif action == "logout":
            self._allow(method, "POST", "DELETE")
            claims, session = store.authenticate(self.headers.get("Authorization"))
            store.logout(session["id"])
            self._send(200, {"logged_out": True, "session_id": session["id"], "username": claims["sub"]})
        elif action == "me":
            self._allow(method, "GET", "DELETE")
            claims, _ = store.authenticate(self.headers.get("Authorization"))
            if method == "DELETE":
                store.delete_user(claims["sub"])
                self._send(200, {"deleted": True, "username": claims["sub"]})
            else:
                with store.lock:
                    user = store.users[claims["sub"]]
                self._send(200, {"user": store.public_user(user)})
        elif action == "verify":
            self._allow(method, "GET")
            claims, _ = store.authenticate(self.headers.get("Authorization"))
            self._send(200, {"valid": True, "claims": claims})
        else:
            raise HttpError(404, f"unknown auth action {action!r}")


class Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that counts in-flight requests so a stop can drain them."""

    daemon_threads = True  # idle keep-alive connections must not block exit

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inflight = 0
        self._cond = threading.Condition()

    def track(self, delta: int) -> None:
        with self._cond:
            self._inflight += delta
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._inflight == 0, timeout)


def make_server(host: str, port: int, secret: bytes, token_ttl: int = 3600) -> Server:
    handler = type("BoundHandler", (Handler,), {"store": Store(secret, token_ttl)})
    return Server((host, port), handler)


def main() -> int:
    host = os.environ.get("BIND", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    secret = os.environ.get("JWT_SECRET", "")
    if not secret:
        secret = DEV_SECRET
        _log({"ts": _iso(time.time()), "level": "warn", "service": SERVICE,
              "msg": "JWT_SECRET not set: using the development key"})
    server = make_server(host, port, secret.encode("utf-8"), int(os.environ.get("TOKEN_TTL", "3600")))

    def stop(signum, _frame):
        _log({"ts": _iso(time.time()), "level": "info", "service": SERVICE, "event": "stopping",
              "signal": signal.Signals(signum).name})
        # shutdown() blocks until serve_forever returns, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _log({"ts": _iso(time.time()), "level": "info", "service": SERVICE, "event": "listening",
          "host": host, "port": server.server_address[1]})
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()  # stop accepting; requests already being handled finish below
        server.drain(timeout=10.0)
    _log({"ts": _iso(time.time()), "level": "info", "service": SERVICE, "event": "stopped"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
