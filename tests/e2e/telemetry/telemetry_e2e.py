"""Shared helpers for the telemetry end-to-end tests (standard library only).

Real processes on 127.0.0.1 with free ports, bounded waits, cleanup by PID: the gateway binary, the echo
backend (tests/e2e/backend.py), a Prometheus server, and in-process stand-ins for the Datadog agent.

The gateway binary comes from argv[1] (see main()), env GATEWAY_BIN, or build/bin/api-gateway.
E2E_KEEP=1 keeps the temp directories (configs, process logs).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BACKEND_PY = os.path.join(ROOT, "tests", "e2e", "backend.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
GATEWAY_BIN = os.environ.get("GATEWAY_BIN") or os.path.join(ROOT, "build", "bin", "api-gateway")
START_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value (returned) or the timeout passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def tail(path: str, n: int = 40) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


class TempDir:
    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def file(self, name, content=None):
        p = os.path.join(self.path, name)
        if content is not None:
            with open(p, "w") as f:
                f.write(content if isinstance(content, str) else json.dumps(content, indent=1))
        return p

    def cleanup(self):
        if os.environ.get("E2E_KEEP") == "1":
            print(f"kept {self.path}", file=sys.stderr)
            return
        shutil.rmtree(self.path, ignore_errors=True)


class Proc:
    """A child process; stdout and stderr go to separate files. Stopped by PID: SIGTERM, then SIGKILL."""

    def __init__(self, name, argv, logdir, env=None):
        self.name = name
        self.out_path = os.path.join(logdir, f"{name}.stdout")
        self.err_path = os.path.join(logdir, f"{name}.stderr")
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def wait_port(self, port, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.logs()}")
            if port_open(port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} is not listening on {port} after {timeout}s:\n{self.logs()}")

    def stop(self, timeout=10):
        """SIGTERM to the PID; SIGKILL if it is still running after `timeout`. Returns (returncode, seconds)."""
        started = time.monotonic()
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        elapsed = time.monotonic() - started
        for fh in (self._out, self._err):
            if not fh.closed:
                fh.close()
        return self.proc.returncode, elapsed

    def stdout_bytes(self):
        if not self._out.closed:
            self._out.flush()
        with open(self.out_path, "rb") as f:
            return f.read()

    def logs(self):
        return f"--- {self.name} stdout ---\n{tail(self.out_path)}--- {self.name} stderr ---\n{tail(self.err_path)}"


def start_backend(tmp: TempDir):
    port = free_port()
    p = Proc("backend", [PYTHON, BACKEND_PY, str(port)], tmp.path)
    p.wait_port(port)
    return p, port


def gateway_env(**extra):
    """The parent's environment minus any DD_* / OTEL_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "OTEL_"))}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_gateway(tmp: TempDir, config: dict, env: dict, name="gateway", wait_ports=()):
    if not os.access(GATEWAY_BIN, os.X_OK):
        raise RuntimeError(f"gateway binary not found: {GATEWAY_BIN} (pass it as argv[1] or GATEWAY_BIN)")
    port = free_port()
    cfg = tmp.file(f"{name}.json", config)
    p = Proc(name, [GATEWAY_BIN, "run", "-c", cfg, "-p", str(port)], tmp.path, env=env)
    try:
        p.wait_port(port)
        for extra_port in wait_ports:
            p.wait_port(extra_port)
    except Exception:
        p.stop()
        raise
    return p, port


def request(port, path, method="GET", headers=None, timeout=10, conn=None):
    """One HTTP request; returns (status, headers, body bytes). Reuses `conn` when given."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=dict(headers or {}))
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        if own:
            c.close()


def json_lines(raw: bytes):
    """Every line of `raw` parsed as a JSON object; raises AssertionError naming the first bad line."""
    out = []
    for i, line in enumerate(raw.split(b"\n")):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))  # JSON text is UTF-8 (RFC 8259 §8.1)
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(f"stdout line {i + 1} is not valid JSON ({e}): {line[:300]!r}")
        if not isinstance(rec, dict):
            raise AssertionError(f"stdout line {i + 1} is JSON but not an object: {line[:300]!r}")
        out.append(rec)
    return out


# ---- msgpack (the subset the Datadog v0.4 intake uses) ----------------------------------------------

class MsgpackError(ValueError):
    pass


def msgpack_decode(data: bytes):
    """Decodes exactly one msgpack value filling `data`: nil, bool, int/uint (fix, 8..64), float32/64,
    str/bin (fix, 8/16/32), array/map (fix, 16/32). Strings are returned as str (UTF-8), bin as bytes."""
    value, pos = _mp(data, 0)
    if pos != len(data):
        raise MsgpackError(f"{len(data) - pos} trailing bytes after the value")
    return value


def _take(data, pos, n):
    if pos + n > len(data):
        raise MsgpackError(f"truncated at offset {pos} (need {n} bytes)")
    return data[pos:pos + n], pos + n


def _mp(data, pos):
    b, pos = _take(data, pos, 1)
    t = b[0]
    if t <= 0x7f:
        return t, pos
    if t >= 0xe0:
        return t - 0x100, pos
    if 0x80 <= t <= 0x8f:
        return _map(data, pos, t & 0x0f)
    if 0x90 <= t <= 0x9f:
        return _array(data, pos, t & 0x0f)
    if 0xa0 <= t <= 0xbf:
        return _str(data, pos, t & 0x1f)
    if t == 0xc0:
        return None, pos
    if t == 0xc2:
        return False, pos
    if t == 0xc3:
        return True, pos
    sized = {0xc4: (1, "bin"), 0xc5: (2, "bin"), 0xc6: (4, "bin"), 0xd9: (1, "str"), 0xda: (2, "str"),
             0xdb: (4, "str"), 0xdc: (2, "array"), 0xdd: (4, "array"), 0xde: (2, "map"), 0xdf: (4, "map")}
    if t in sized:
        width, kind = sized[t]
        raw, pos = _take(data, pos, width)
        n = int.from_bytes(raw, "big")
        if kind == "bin":
            return _take(data, pos, n)
        return {"str": _str, "array": _array, "map": _map}[kind](data, pos, n)
    ints = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
            0xca: ">f", 0xcb: ">d"}
    if t in ints:
        fmt = ints[t]
        raw, pos = _take(data, pos, struct.calcsize(fmt))
        return struct.unpack(fmt, raw)[0], pos
    raise MsgpackError(f"unsupported msgpack type byte 0x{t:02x} at offset {pos - 1}")


def _str(data, pos, n):
    raw, pos = _take(data, pos, n)
    try:
        return raw.decode("utf-8"), pos
    except UnicodeDecodeError as e:
        raise MsgpackError(f"str at offset {pos - n} is not UTF-8: {e}")


def _array(data, pos, n):
    out = []
    for _ in range(n):
        v, pos = _mp(data, pos)
        out.append(v)
    return out, pos


def _map(data, pos, n):
    out = {}
    for _ in range(n):
        k, pos = _mp(data, pos)
        v, pos = _mp(data, pos)
        if isinstance(k, (list, dict)):
            raise MsgpackError("unhashable map key")
        out[k] = v
    return out, pos


class MsgpackDecoderSelfTest(unittest.TestCase):
    """The decoder against hand-encoded bytes, so a trace-test failure is not the decoder's fault."""

    def test_forms(self):
        cases = [
            (b"\xc0", None), (b"\xc2", False), (b"\xc3", True), (b"\x05", 5), (b"\xff", -1), (b"\xe0", -32),
            (b"\xcc\xc8", 200), (b"\xcd\x01\x00", 256), (b"\xce\x00\x01\x00\x00", 65536),
            (b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 2**64 - 1), (b"\xd0\x80", -128), (b"\xd1\x80\x00", -32768),
            (b"\xd2\x80\x00\x00\x00", -2**31), (b"\xd3\x80" + b"\x00" * 7, -2**63),
            (b"\xca\x3f\xc0\x00\x00", 1.5), (b"\xcb" + struct.pack(">d", 0.25), 0.25),
            (b"\xa3abc", "abc"), (b"\xd9\x03abc", "abc"), (b"\xda\x00\x03abc", "abc"),
            (b"\xdb\x00\x00\x00\x03abc", "abc"), (b"\xc4\x02\x00\x01", b"\x00\x01"),
            (b"\xc5\x00\x01\x07", b"\x07"), (b"\xc6\x00\x00\x00\x01\x07", b"\x07"),
            (b"\x92\x01\xa1x", [1, "x"]), (b"\xdc\x00\x01\xc0", [None]), (b"\xdd\x00\x00\x00\x00", []),
            (b"\x81\xa1k\x02", {"k": 2}), (b"\xde\x00\x01\x01\x02", {1: 2}), (b"\xdf\x00\x00\x00\x00", {}),
        ]
        for raw, want in cases:
            self.assertEqual(msgpack_decode(raw), want, raw)
        for bad in (b"\xa3ab", b"\x92\x01", b"\xc1", b"\x01\x02"):
            with self.assertRaises(MsgpackError, msg=bad):
                msgpack_decode(bad)


# ---- Datadog agent stand-ins -------------------------------------------------------------------------

class FakeAgent:
    """A ThreadingHTTPServer on 127.0.0.1 answering PUT /v0.4/traces with {"rate_by_service":{}} and
    recording every request (method, path, headers, body)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        agent = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with agent.lock:
                    agent.requests.append({"method": self.command, "path": self.path,
                                           "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                if self.command == "PUT" and self.path == "/v0.4/traces":
                    data, status = b'{"rate_by_service":{}}', 200
                else:
                    data, status = b"404 page not found\n", 404
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_PUT = do_POST = do_GET = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def spans(self):
        """Every span of every decoded /v0.4/traces payload received so far."""
        out = []
        for r in self.snapshot():
            if r["method"] == "PUT" and r["path"] == "/v0.4/traces":
                for trace in msgpack_decode(r["body"]):
                    out.extend(trace)
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HangingListener:
    """Accepts TCP connections on 127.0.0.1 and never reads or answers; closes them on close()."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.accepted = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(c)
            self.accepted += 1

    def close(self):
        self._stop = True
        self.thread.join(timeout=2)
        for c in self.conns:
            c.close()
        self.sock.close()


class FastBackend:
    """An in-process HTTP/1.1 keep-alive backend answering every request with one small JSON 200 written
    in a single send (the echo backend writes head and body separately, which with Nagle + delayed ACK
    on a reused connection adds ~40 ms stalls: too noisy a baseline for timing comparisons)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = b'{"ok":true}'
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port nothing listens on (bound then released; refused on connect)."""
    return free_port()


def main():
    global GATEWAY_BIN
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        GATEWAY_BIN = os.path.abspath(sys.argv.pop(1))
        os.environ["GATEWAY_BIN"] = GATEWAY_BIN
    unittest.main(module="__main__", verbosity=2)
