#!/usr/bin/env python3
"""Programmable test backend for the gateway's end-to-end tests (standard library only).

Usage: backend.py PORT. Prints "ready" once listening on 127.0.0.1:PORT.

Paths (query parameters tune them):
  /echo/...            200 JSON {"method","path","query","headers","body"} of what arrived
  /json?body=...       200 with the given raw body (default {"ok":true}); &status=N &ctype=...
  /status/N            status N with a small JSON body
  /slow?ms=N           waits N ms, then echoes
  /slowbody?ms=N       sends the head and half the body, waits N ms, then the rest
  /gzip?body=...       200 with the body gzip-compressed (Content-Encoding: gzip); /badgzip: not gzip
  /stream?mb=N         N MiB of 'x' with Content-Length (&chunked=1 for chunked encoding)
  /garbage             a response that is not HTTP
  /reset               closes the connection without answering
  /short               Content-Length larger than the body, then closes
  /array               200 with a JSON array body
  /redirect?status=N&to=PATH   a redirect (default 302 to /echo/redirected); /loop redirects forever
"""
import gzip
import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:  # chunk-size line, data, CRLF; a zero size ends it (no trailers sent to us)
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data.decode("utf-8", "replace")
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace") if n else ""

    def _send(self, status, body, ctype="application/json", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _echo(self, body):
        url = urlsplit(self.path)
        headers = {}
        for k, v in self.headers.items():
            headers.setdefault(k, []).append(v)
        doc = {"method": self.command, "path": url.path, "query": parse_qs(url.query, keep_blank_values=True),
               "rawquery": url.query, "headers": headers, "body": body}
        self._send(200, json.dumps(doc), extra={"X-Backend": "echo", "Set-Cookie": "a=1"})

    def _handle(self):
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        p = url.path
        body = "" if p == "/count" else self._body()  # /count reads the body itself, without keeping it
        if p.startswith("/echo"):
            return self._echo(body)
        if p == "/json":
            return self._send(int(q.get("status", 200)), q.get("body", '{"ok":true}'), q.get("ctype", "application/json"))
        if p.startswith("/status/"):
            code = int(p.rsplit("/", 1)[1])
            return self._send(code, json.dumps({"status": code}))
        if p == "/slow":
            time.sleep(int(q.get("ms", 500)) / 1000)
            return self._echo(body)
        if p == "/gzip":
            return self._send(200, gzip.compress(q.get("body", '{"zipped":true}').encode()),
                              extra={"Content-Encoding": "gzip"})
        if p == "/badgzip":
            return self._send(200, '{"not":"gzip"}', extra={"Content-Encoding": "gzip"})
        if p == "/slowbody":
            body = b'{"late":"' + b"x" * 64 + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:32])
            self.wfile.flush()
            time.sleep(int(q.get("ms", 500)) / 1000)
            self.wfile.write(body[32:])
            return None
        if p == "/stream":
            total = int(q.get("mb", 1)) << 20
            chunk = b"x" * (1 << 20)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if q.get("chunked"):
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(total >> 20):
                    self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(total))
                self.end_headers()
                for _ in range(total >> 20):
                    self.wfile.write(chunk)
            return
        if p == "/garbage":
            self.wfile.write(b"this is not http\r\n\r\n")
            self.close_connection = True
            return
        if p == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            return
        if p == "/short":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"a":')
            self.close_connection = True
            return
        if p == "/redirect":  # ?status=N&to=PATH (to defaults to /echo/redirected)
            return self._send(int(q.get("status", 302)), "", "text/plain",
                              extra={"Location": q.get("to", "/echo/redirected")})
        if p == "/loop":
            return self._send(302, "", "text/plain", extra={"Location": "/loop"})
        if p == "/array":
            return self._send(200, "[1,2,3]")
        if self._faulty(p):
            return
        self._send(404, "404 page not found\n", "text/plain; charset=utf-8")

    def _raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def _faulty(self, p):
        evil = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"evil":true}'
        if p == "/hang":
            self.rfile.read(1)  # returns when the gateway gives up and closes
            self.close_connection = True
        elif p == "/hold":  # never answers; records how long the gateway kept the call open
            started = time.monotonic()
            self.rfile.read(1)
            HELD.append(round(time.monotonic() - started, 3))
            self.close_connection = True
        elif p == "/held":
            self._send(200, json.dumps(HELD))
        elif p == "/count":  # reads the request body without keeping it; answers its size and framing
            chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            total = 0
            if chunked:
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    while size:
                        got = len(self.rfile.read(min(size, 1 << 20)))
                        total += got
                        size -= got
                    self.rfile.readline()
            else:
                left = int(self.headers.get("Content-Length") or 0)
                while left:
                    got = len(self.rfile.read(min(left, 1 << 20)))
                    total += got
                    left -= got
            self._send(200, json.dumps({"bytes": total, "framing": "chunked" if chunked else "length"}))
        elif p == "/resetmid":
            self._raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
            self._raw(b'{"a":"' + b"x" * 65536)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
        elif p == "/clte":
            self._raw(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"7\r\n{\"a\":1}\r\n0\r\n\r\n")
        elif p == "/badchunk":
            self._raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"0x7\r\n{\"a\":1}\r\n0\r\n\r\n")
            self.close_connection = True
        elif p == "/chunkext":
            self._raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;x=")
            try:
                for _ in range(64):
                    self._raw(b"a" * 65536)
            except OSError:
                pass
            self.close_connection = True
        elif p == "/desync":
            self._raw(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}')
            time.sleep(0.1)
            self._raw(evil)
        elif p == "/bighead":  # one header value over 64 KiB, then a valid body
            self._raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: " + b"a" * 70000 +
                      b"\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
        elif p == "/long":
            self._raw(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}' + evil)
        elif p == "/continue":
            self._raw(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._send(200, '{"continued":true}')
        elif p == "/switch":
            self._raw(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: evil\r\n\r\n")
            self.close_connection = True
        elif p == "/hopbyhop":
            self._send(200, '{"hop":true}', extra={"Connection": "X-Hop, keep-alive", "X-Hop": "secret",
                                                  "Keep-Alive": "timeout=5", "Proxy-Authenticate": "Basic",
                                                  "X-Visible": "yes"})
        else:
            return False
        return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


HELD = []  # seconds each /hold call stayed open

if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
