#!/usr/bin/env python3
"""Run KrakenD CE's black-box suite (tests/fixtures/specs/*.json) against this gateway.

Nothing of CE is stored in this repository: the specs, tests/fixtures/krakend.json and the lua fixtures are
read at run time from a CE checkout (a work tree, or a bare git directory such as a mirror, read with
`git show REV:path`). The mock backend below is our own re-implementation of the behaviour of the backend
that CE's tests/integration.go starts (a Go net/http ServeMux):

  /param_forwarding/  (subtree)  X-Forwarded-For check, then echo
  /xml                (exact)    X-Forwarded-For check, fixed XML document
  /collection/        (subtree)  X-Forwarded-For check, 10 objects {"i","path"}
  /delayed/           (subtree)  X-Forwarded-For check, sleep --delay (200ms), then echo
  /redirect/          (subtree)  X-Forwarded-For check, http.Redirect to /param_forwarding/?<query>, code=?status
  /jwk/symmetric      (exact)    fixed JWK set (no X-Forwarded-For check)
  anything else                  404 "404 page not found\\n" (Go's http.NotFound); a subtree root asked
                                 without its trailing slash is 301-redirected to it (ServeMux)

The client side follows integration.go: Go's default http.Client (follows up to 10 redirects, sends
"User-Agent: Go-http-client/1.1" unless the spec sets one, adds "Accept-Encoding: gzip" and transparently
gunzips), spec headers added with canonical keys ("Host" sets the request host), a string body sent as is and
any other body JSON-encoded the way Go's json.Marshal does. The comparison is assertResponse's: status equal;
every expected header (canonical key) equal as a list of values, [""] meaning "may be absent"; an expected
string body compared byte for byte, any other expected body compared with the response decoded as JSON; a
"schema" validated instead of the body (a small draft-07 subset here: the stdlib has no JSON Schema).

Hosts and ports: CE's config hard-codes the gateway on :8080 and the backend on :8081 (integration.go has no
templating; its -krakend_backend_port flag only moves the backend). Here every "127.0.0.1:8080"/"localhost:8080"
becomes 127.0.0.1:<gateway port>, every ":8081" the backend's port, the metrics listener a free loopback port,
"listen_ip" is 127.0.0.1, and hosts outside loopback (showrss.info, mocky.io) a closed loopback port. The specs
are rewritten the same way (their expected bodies mention localhost:8080 and 127.0.0.1:8081); requests go to
127.0.0.1:<gateway port> with "Host: localhost:<gateway port>", which is what CE's client sends.

Core (--core): every case except the named jwt_*, router_401_1, botdetector_*, cel-*, lua_*, jsonschema_*,
integration_jsonschema, integration_schema, and except a case whose endpoint (or one of its backends) carries
a namespace under auth/, security/bot-detector, validation/, modifier/lua or qos/ (rss, sequential_3,
sequential_4). That is 34 of CE's 59 cases at ce098cf; an earlier count of 36 also had integration_jsonschema
and integration_schema (they pass).

Usage: scripts/ce-blackbox.py CE_CHECKOUT GATEWAY_BIN [FILTER] [--core] [--list] [-v]
FILTER is a regular expression searched in case names (e.g. '^param_forwarding_4$' or 'cors|xml').
Exit status: 0 all selected cases passed, 1 some failed, 2 setup error.
"""

import argparse
import codecs
import copy
import gzip
import http.client
import http.server
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# --------------------------------------------------------------------------------------------------------------
# CE checkout access (work tree or bare git dir)


class CESource:
    def __init__(self, path, rev):
        self.path = os.path.abspath(path)
        self.rev = rev
        self.git_dir = None
        if os.path.isfile(os.path.join(self.path, 'tests', 'integration.go')) and rev is None:
            return  # plain work tree: read the files
        for cand in (self.path, os.path.join(self.path, '.git')):
            if os.path.exists(os.path.join(cand, 'HEAD')) and os.path.isdir(os.path.join(cand, 'objects')):
                self.git_dir = cand
                break
        if self.git_dir is None:
            raise SystemExit(f'{path}: neither a CE checkout (tests/integration.go) nor a git directory')
        self.rev = rev or 'HEAD'

    def _git(self, *args):
        r = subprocess.run(['git', '--git-dir', self.git_dir, *args], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit(f'git {" ".join(args)}: {r.stderr.decode(errors="replace").strip()}')
        return r.stdout

    def read(self, rel):
        if self.git_dir is None:
            with open(os.path.join(self.path, rel), 'rb') as f:
                return f.read()
        return self._git('show', f'{self.rev}:{rel}')

    def list_dir(self, rel):
        if self.git_dir is None:
            d = os.path.join(self.path, rel)
            return sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n)))
        out = self._git('ls-tree', '--name-only', f'{self.rev}:{rel}').decode()
        return sorted(n for n in out.splitlines() if n)

    def describe(self):
        if self.git_dir is None:
            return self.path
        sha = self._git('rev-parse', self.rev).decode().strip()
        return f'{self.git_dir} @ {sha[:12]}'


# --------------------------------------------------------------------------------------------------------------
# Go-compatible helpers


def canonical_key(k):
    """textproto.CanonicalMIMEHeaderKey: unchanged when a byte is not a token byte."""
    token = set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    if not k or any(c not in token for c in k):
        return k
    out, upper = [], True
    for c in k:
        out.append(c.upper() if upper else c.lower())
        upper = c == '-'
    return ''.join(out)


def go_float(f):
    if f != f or f in (float('inf'), float('-inf')):
        raise ValueError('unsupported value')
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    a = abs(f)
    if 1e-6 <= a < 1e21:
        import decimal
        return format(decimal.Decimal(repr(f)), 'f')
    s = repr(f)  # like 1e-07 / 1e+21
    m = re.match(r'^(-?[0-9.]+)e([+-])0*([0-9]+)$', s)
    if m:
        exp = m.group(3)
        if len(exp) < 2:
            exp = exp  # Go: e-7, e+21 (no zero padding)
        return f'{m.group(1)}e{m.group(2)}{exp}'
    return s


def go_json(v):
    """encoding/json Marshal of what json.Unmarshal into interface{} gives (numbers are float64), compact,
    map keys sorted, HTML characters and U+2028/U+2029 escaped."""
    if v is None:
        return 'null'
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if isinstance(v, (int, float)):
        return go_float(float(v))
    if isinstance(v, str):
        s = json.dumps(v, ensure_ascii=False)
        return (s.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
                .replace('\u2028', '\\u2028').replace('\u2029', '\\u2029'))
    if isinstance(v, list):
        return '[' + ','.join(go_json(x) for x in v) + ']'
    if isinstance(v, dict):
        return '{' + ','.join(go_json(k) + ':' + go_json(v[k]) for k in sorted(v, key=lambda s: s.encode())) + '}'
    raise TypeError(type(v))


def _go_replace(err):
    # Go's string->rune decoding (encoding/json, fmt) turns each invalid byte into one U+FFFD.
    return '\ufffd', err.start + 1


codecs.register_error('goreplace', _go_replace)


def go_str(b):
    """Bytes as Go's encoding/json writes a string holding them: invalid UTF-8 byte by byte to U+FFFD."""
    return b.decode('utf-8', errors='goreplace')


def go_loads(b):
    """json.Unmarshal into interface{}: None on any error (integration.go ignores it), numbers as float."""
    try:
        return json.loads(go_str(b), parse_int=float,
                          parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, RecursionError):
        return None


def deep_equal(a, b):
    """reflect.DeepEqual over decoded JSON: bool is not a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b))
    return a == b


def go_fmt(v):
    """fmt %v of a decoded JSON value, for messages."""
    if isinstance(v, dict):
        return 'map[' + ' '.join(f'{k}:{go_fmt(v[k])}' for k in sorted(v)) + ']'
    if isinstance(v, list):
        return '[' + ' '.join(go_fmt(x) for x in v) + ']'
    if v is None:
        return '<nil>'
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, float):
        return go_float(v)
    return str(v)


# --------------------------------------------------------------------------------------------------------------
# The mock backend (integration.go's mockBackendBuilder, re-implemented on Go net/http semantics)

XML_DOC = b'''<?xml version="1.0" encoding="UTF-8"?>
<user type="admin">
  <name>Elliot</name>
  <social>
    <facebook>https://facebook.com</facebook>
    <twitter>https://twitter.com</twitter>
    <youtube>https://youtube.com</youtube>
  </social>
</user>'''

JWK_DOC = b'''{
  "keys": [
    {
      "kty": "oct",
      "alg": "A128KW",
      "k": "GawgguFyGrWKav7AX4VKUg",
      "kid": "sim1"
    },
    {
      "kty": "oct",
      "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
      "kid": "sim2",
      "alg": "HS256"
    }
  ]
}'''

STATUS_TEXT = {c.value: c.phrase for c in http.HTTPStatus}
STATUS_TEXT[418] = "I'm a teapot"


def go_parse_query(raw):
    """url.ParseQuery: pairs with ';' or bad escapes are dropped, '+' is a space, order kept per key."""
    out = {}
    for part in raw.split('&'):
        if not part or ';' in part:
            continue
        k, _, v = part.partition('=')
        try:
            k = go_unescape(k, True)
            v = go_unescape(v, True)
        except ValueError:
            continue
        out.setdefault(k, []).append(v)
    return out


def go_unescape(s, query):
    if query:
        s = s.replace('+', ' ')
    if '%' in s:
        if re.search(r'%(?![0-9A-Fa-f]{2})', s):
            raise ValueError('invalid URL escape')
        return go_str(urllib.parse.unquote_to_bytes(s))
    return go_str(s.encode('latin-1', errors='replace'))


class Backend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay, log):
        self.delay = delay
        self.log = log
        self.seen = []  # (method, target, [(k, v)], body) of every request, for --verbose
        super().__init__(('127.0.0.1', 0), BackendHandler)


class BackendHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    timeout = 30

    def log_message(self, fmt, *args):
        if self.server.log:
            sys.stderr.write('backend: ' + (fmt % args) + '\n')

    # -- request reading (Go's server: Transfer-Encoding is consumed and removed, Host is removed) --
    def _read_body(self):
        te = [v.strip().lower() for v in self.headers.get_all('Transfer-Encoding', [])]
        if te:
            if te[-1] != 'chunked':
                raise ValueError('unsupported transfer encoding')
            body = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b';', 1)[0].strip() or b'x', 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass  # trailers
                    break
                body += self.rfile.read(size)
                self.rfile.readline(3)
            return bytes(body), True
        cl = self.headers.get_all('Content-Length', [])
        if cl:
            if len(set(v.strip() for v in cl)) > 1:
                raise ValueError('invalid Content-Length')
            n = int(cl[0].strip())
            return self.rfile.read(n), False
        return b'', False

    def _go_headers(self, chunked):
        h = {}
        conn = ','.join(self.headers.get_all('Connection', [])).lower()
        drop_conn = self.request_version == 'HTTP/1.1' and 'close' in [t.strip() for t in conn.split(',')]
        for k, v in self.headers.items():
            if drop_conn and canonical_key(k) == 'Connection':
                continue  # Go's shouldClose removes a "Connection: close" header (HTTP/1.1)
            ck = canonical_key(k)
            if ck == 'Host' or ck == 'Transfer-Encoding' or ck == 'Trailer' or (chunked and ck == 'Content-Length'):
                continue
            h.setdefault(ck, []).append(go_str(v.strip(' \t').encode('latin-1', errors='replace')))
        return h

    def _send(self, code, headers, body, head=False):
        """Go's response writer: Date + Content-Length when the whole body fits in the 2048-byte chunking
        buffer (else chunked), Content-Type sniffed only for a non-empty body without one."""
        names = {k.lower() for k, _ in headers}
        extra = [('Date', self.date_time_string())]
        if body and 'content-type' not in names:
            extra.append(('Content-Type', 'text/plain; charset=utf-8'))  # what sniffing gives our bodies
        if self.close_connection:
            extra.append(('Connection', 'close'))  # Go answers a "Connection: close" request with one
        chunked = len(body) > 2048
        if chunked:
            extra.append(('Transfer-Encoding', 'chunked'))
        else:
            extra.append(('Content-Length', str(len(body))))
        lines = [f'HTTP/1.1 {code} {STATUS_TEXT.get(code, "status code " + str(code))}']
        allh = sorted(headers + extra, key=lambda kv: kv[0])
        lines += [f'{k}: {v}' for k, v in allh]
        data = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        if not head:
            if chunked:
                data += b'%x\r\n' % len(body) + body + b'\r\n0\r\n\r\n'
            else:
                data += body
        self.wfile.write(data)
        self.wfile.flush()

    def _error(self, msg, code):
        self._send(code, [('Content-Type', 'text/plain; charset=utf-8'), ('X-Content-Type-Options', 'nosniff')],
                   (msg + '\n').encode())

    def _handle(self):
        try:
            body, chunked = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.wfile.write(b'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n'
                             b'Connection: close\r\n\r\n400 Bad Request')
            return
        target = self.path
        raw_path, _, raw_query = target.partition('?')
        if '#' in raw_query:
            raw_query = raw_query.split('#', 1)[0]
        try:
            path = go_unescape(raw_path, False)
        except ValueError:
            self.close_connection = True
            self.wfile.write(b'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n'
                             b'Connection: close\r\n\r\n400 Bad Request')
            return
        headers = self._go_headers(chunked)
        self.server.seen.append((self.command, target, list(self.headers.items()), body))
        head = self.command == 'HEAD'

        # ServeMux: clean the path first (a redirect if it changes), then match.
        clean = clean_path(path)
        if clean != path and self.command != 'CONNECT':
            self._redirect(clean + ('?' + raw_query if raw_query else ''), 301, head)
            return
        exact = {'/xml': self.h_xml, '/jwk/symmetric': self.h_jwk}
        subtree = {'/param_forwarding/': self.h_echo, '/collection/': self.h_collection,
                   '/delayed/': self.h_delayed, '/redirect/': self.h_redirect}
        handler = exact.get(path)
        if handler is None:
            for prefix, h in subtree.items():
                if path.startswith(prefix):
                    handler = h
                    break
        if handler is None:
            if path + '/' in subtree:
                self._redirect(path + '/' + ('?' + raw_query if raw_query else ''), 301, head)
                return
            self._error('404 page not found', 404)
            return
        if handler not in (self.h_jwk,):
            xff = (headers.get('X-Forwarded-For') or [''])[0]
            if not is_loopback_ip(xff):
                self._error('invalid X-Forwarded-For', 400)
                return
        handler(path, raw_query, headers, body, head)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_TRACE = _handle

    def _redirect(self, url, code, head):
        """http.Redirect (url already absolute path)."""
        hdrs = [('Location', url)]
        body = b''
        if self.command in ('GET', 'HEAD'):
            hdrs.append(('Content-Type', 'text/html; charset=utf-8'))
        if self.command == 'GET':
            esc = url.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&#34;') \
                .replace("'", '&#39;')
            body = f'<a href="{esc}">{STATUS_TEXT.get(code, "")}</a>.\n\n'.encode()
        self._send(code, hdrs, body, head)

    def h_echo(self, path, raw_query, headers, body, head):
        headers = {k: v for k, v in headers.items() if k != 'X-Forwarded-For'}
        resp = {'path': path, 'query': go_parse_query(raw_query), 'headers': headers, 'foo': 42}
        if go_parse_query(raw_query).get('dump_body', [''])[0] == '1':
            resp['body'] = go_str(body)
        out = (go_json(resp) + '\n').encode()
        self._send(200, [('Content-Type', 'application/json'), ('Set-Cookie', 'test1=test1'),
                         ('Set-Cookie', 'test2=test2')], out, head)

    def h_delayed(self, path, raw_query, headers, body, head):
        time.sleep(self.server.delay)
        self.h_echo(path, raw_query, headers, body, head)

    def h_xml(self, path, raw_query, headers, body, head):
        self._send(200, [('Content-Type', 'application/xml; charset=utf-8')], XML_DOC, head)

    def h_jwk(self, path, raw_query, headers, body, head):
        self._send(200, [('Content-Type', 'application/json')], JWK_DOC, head)

    def h_collection(self, path, raw_query, headers, body, head):
        res = [{'path': path, 'i': i} for i in range(10)]
        self._send(200, [('Content-Type', 'application/json')], (go_json(res) + '\n').encode(), head)

    def h_redirect(self, path, raw_query, headers, body, head):
        q = go_parse_query(raw_query)
        if 'status' not in q:
            # status[0] on a nil slice: the handler panics; Go's server logs it and drops the connection.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        code = 301
        if q['status'][0] != '301':
            s = q['status'][0]
            if not re.fullmatch(r'[+-]?[0-9]+', s):
                self._error(f'strconv.Atoi: parsing {json.dumps(s)}: invalid syntax', 400)
                return
            code = int(s)
        if code < 100 or code > 999:  # WriteHeader panics
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._redirect('/param_forwarding/' + ('?' + raw_query if raw_query else ''), code, head)


def clean_path(p):
    """ServeMux's cleanPath: path.Clean, rooted, keeping a trailing slash."""
    if p == '':
        return '/'
    if p[0] != '/':
        p = '/' + p
    parts = []
    for seg in p.split('/'):
        if seg in ('', '.'):
            continue
        if seg == '..':
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    np = '/' + '/'.join(parts)
    if p.endswith('/') and np != '/':
        np += '/'
    return np


def is_loopback_ip(s):
    """net.ParseIP(s).IsLoopback()"""
    if not s or '%' in s:
        return False
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


# --------------------------------------------------------------------------------------------------------------
# Config and specs rendering

LOCAL_GW = re.compile(r'\b(?:127\.0\.0\.1|localhost):8080\b')
LOCAL_BE = re.compile(r'\b(?:127\.0\.0\.1|localhost):8081\b')


def render_config(cfg, gw_port, be_port, metrics_port, closed_port):
    cfg = copy.deepcopy(cfg)
    cfg['port'] = gw_port
    cfg['listen_ip'] = '127.0.0.1'
    external = set()

    def fix_url(u):
        u = LOCAL_GW.sub(f'127.0.0.1:{gw_port}', u)
        u = LOCAL_BE.sub(f'127.0.0.1:{be_port}', u)
        p = urllib.parse.urlsplit(u)
        if p.scheme in ('http', 'https') and p.hostname not in ('127.0.0.1',):
            external.add(u)
            u = urllib.parse.urlunsplit(('http', f'127.0.0.1:{closed_port}', p.path, p.query, p.fragment))
        return u

    def walk(v, key=None):
        if isinstance(v, dict):
            for k in list(v):
                if k == 'host' and isinstance(v[k], list):
                    v[k] = [fix_url(h) if isinstance(h, str) else h for h in v[k]]
                elif k in ('jwk_url',) and isinstance(v[k], str):
                    v[k] = fix_url(v[k])
                elif k == 'listen_address' and isinstance(v[k], str):
                    v[k] = f'127.0.0.1:{metrics_port}'
                else:
                    walk(v[k], k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)

    walk(cfg)
    return cfg, sorted(external)


def render_spec(v, gw_port, be_port):
    if isinstance(v, str):
        v = re.sub(r'\blocalhost:8080\b', f'localhost:{gw_port}', v)
        v = re.sub(r'\b127\.0\.0\.1:8080\b', f'127.0.0.1:{gw_port}', v)
        return LOCAL_BE.sub(lambda m: m.group(0).rsplit(':', 1)[0] + f':{be_port}', v)
    if isinstance(v, list):
        return [render_spec(x, gw_port, be_port) for x in v]
    if isinstance(v, dict):
        return {k: render_spec(x, gw_port, be_port) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------------------------------------------
# Core classification: which endpoint a case hits and which namespaces it (or its backends) carry

EXCLUDED_NAMES = re.compile(r'^(jwt_.*|router_401_1|botdetector_.*|cel-.*|lua_.*|jsonschema_.*|'
                            r'integration_jsonschema|integration_schema)$')
EXCLUDED_NS = ('auth/', 'security/bot-detector', 'validation/', 'modifier/lua', 'qos/')


def match_endpoint(cfg, method, path):
    segs = [s for s in path.split('/')]
    best = None
    for ep in cfg.get('endpoints', []):
        psegs = ep['endpoint'].split('/')
        if len(psegs) != len(segs):
            continue
        ok = all(p.startswith('{') or p.lower() == s.lower() for p, s in zip(psegs, segs))
        if not ok:
            continue
        if ep.get('method', 'GET').upper() == method or method == 'OPTIONS':
            return ep
        best = best or ep
    return best


def namespaces(ep):
    ns = set((ep or {}).get('extra_config', {}).keys())
    for b in (ep or {}).get('backend', []):
        ns |= set(b.get('extra_config', {}).keys())
    return ns


def classify(name, spec, cfg):
    if EXCLUDED_NAMES.match(name):
        return False, 'excluded by name'
    url = urllib.parse.urlsplit(spec.get('in', {}).get('url', ''))
    ep = match_endpoint(cfg, (spec.get('in', {}).get('method') or 'GET').upper(), url.path or '/')
    bad = sorted(n for n in namespaces(ep) if n.startswith(EXCLUDED_NS))
    if bad:
        return False, 'needs ' + ','.join(bad)
    return True, ''


# --------------------------------------------------------------------------------------------------------------
# The client (Go's http.DefaultClient as integration.go uses it)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


def go_request(gw_port, method, url, header, body, timeout):
    """One http.Client.Do: returns (Resp, None) or (None, error string)."""
    orig_header = {}
    host_override = None
    for k, v in (header or {}).items():
        ck = canonical_key(k)
        if ck == 'Host':
            host_override = v
        orig_header.setdefault(ck, []).append(v)
    via = []
    cur_method, cur_url, cur_body = method, url, body
    for _ in range(11):
        if len(via) >= 10:
            return None, f'{method.capitalize()} "{cur_url}": stopped after 10 redirects'
        u = urllib.parse.urlsplit(cur_url)
        host = host_override if (host_override and not via) else u.netloc
        target = (u.path or '/') + ('?' + u.query if u.query else '')
        hdr = {k: list(v) for k, v in orig_header.items() if k != 'Host'}
        if via:
            prev = via[-1]
            if urllib.parse.urlsplit(prev).hostname != u.hostname:
                for k in ('Authorization', 'Www-Authenticate', 'Cookie', 'Cookie2'):
                    hdr.pop(k, None)
            if 'Referer' not in hdr:
                hdr['Referer'] = [urllib.parse.urlunsplit(urllib.parse.urlsplit(prev)._replace(fragment=''))]
        lines = [f'{cur_method} {target} HTTP/1.1', f'Host: {host}']
        ua = hdr.pop('User-Agent', None)
        lines.append(f'User-Agent: {ua[0] if ua else "Go-http-client/1.1"}')
        if cur_body is not None and len(cur_body) > 0:
            lines.append(f'Content-Length: {len(cur_body)}')
        elif cur_method not in ('GET', 'HEAD'):
            lines.append('Content-Length: 0')  # transferWriter.shouldSendContentLength
        for k in sorted(hdr):
            if k in ('Content-Length', 'Transfer-Encoding', 'Trailer'):
                continue
            for v in hdr[k]:
                lines.append(f'{k}: {v}')
        gz = 'Accept-Encoding' not in hdr and 'Range' not in hdr and cur_method != 'HEAD'
        if gz:
            lines.append('Accept-Encoding: gzip')
        raw = ('\r\n'.join(lines) + '\r\n\r\n').encode('utf-8') + (cur_body or b'')
        port = u.port or 80
        if u.hostname not in ('localhost', '127.0.0.1'):
            return None, f'refusing non-loopback URL {cur_url}'
        try:
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
            conn.connect()
            conn.sock.sendall(raw)
            r = http.client.HTTPResponse(conn.sock, method=cur_method)
            r.begin()
            data = r.read()
            hdrs = {}
            for k, v in r.msg.items():
                hdrs.setdefault(canonical_key(k), []).append(v)
            status = r.status
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            return None, f'{cur_method.capitalize()} "{cur_url}": {type(e).__name__}: {e}'
        if gz and (hdrs.get('Content-Encoding') or [''])[0].lower() == 'gzip':
            hdrs.pop('Content-Encoding', None)
            hdrs.pop('Content-Length', None)
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as e:
                return None, f'gzip: {e}'
        if status in (301, 302, 303, 307, 308):
            loc = (hdrs.get('Location') or [''])[0]
            if loc:
                via.append(cur_url)
                cur_url = urllib.parse.urljoin(cur_url, loc)
                if status in (301, 302, 303) and cur_method not in ('GET', 'HEAD'):
                    cur_method, cur_body = 'GET', None
                    orig_header.pop('Content-Type', None)
                continue
        return Resp(status, hdrs, data), None
    return None, 'redirect loop'


def printable(v):
    """A received header value for a message: bytes outside printable ASCII escaped (they were latin-1)."""
    return ''.join(c if ' ' <= c <= '~' else f'\\x{ord(c):02x}' for c in v)


def assert_response(actual, expected):
    errs = []
    if actual.status != expected.get('status_code', 0):
        errs.append(f'unexpected status code. have: {actual.status}, want: {expected.get("status_code", 0)}')
    for k, vs in (expected.get('header') or {}).items():
        k = canonical_key(k)
        hs = actual.headers.get(k)
        if hs is not None and hs == vs:
            continue
        if hs is not None:
            errs.append(f'unexpected value for header {k}. have: [{" ".join(map(printable, hs))}], '
                        f'want: [{" ".join(vs)}]')
            continue
        if not vs:
            errs.append(f'expected header {k} has no value (integration.go would panic)')
        elif vs[0] != '':
            errs.append(f'header {k} not present')
    data = actual.body
    if (actual.headers.get('Content-Encoding') or [''])[0] in ('gzip', 'x-gzip'):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            pass
    want = expected.get('body')
    if isinstance(want, str):
        have = data.decode('utf-8', errors='surrogateescape')
    else:
        have = go_loads(data)
    schema = expected.get('schema')
    if schema:
        if not data:
            return errs + ['cannot validate empty body']
        doc = go_loads(data)
        if doc is None and data.strip() != b'null':
            return errs + ['problem unmarshaling the body']
        e = validate_schema(doc, schema, '')
        if e:
            errs.append('problem validating the body: ' + e)
    elif want is not None:
        same = have == want if isinstance(want, str) else deep_equal(have, want)
        if not same:
            h = have if isinstance(want, str) else go_fmt(have)
            w = want if isinstance(want, str) else go_fmt(want)
            errs.append(f'unexpected body.\n\t\thave: {h!r}\n\t\twant: {w!r}' if isinstance(want, str)
                        else f'unexpected body.\n\t\thave: {h}\n\t\twant: {w}')
    return errs


def validate_schema(doc, s, at):
    """The subset of JSON Schema CE's specs use: type, required, properties, enum, items."""
    if not isinstance(s, dict):
        return ''
    types = {'object': dict, 'array': list, 'string': str, 'boolean': bool}
    t = s.get('type')
    if t is not None:
        ok = False
        for tt in (t if isinstance(t, list) else [t]):
            if tt == 'null':
                ok = ok or doc is None
            elif tt == 'number':
                ok = ok or (isinstance(doc, (int, float)) and not isinstance(doc, bool))
            elif tt == 'integer':
                ok = ok or (isinstance(doc, (int, float)) and not isinstance(doc, bool) and float(doc).is_integer())
            elif tt in types:
                ok = ok or (isinstance(doc, types[tt]) and (tt != 'boolean' or isinstance(doc, bool)))
        if not ok:
            return f'at {at or "/"}: want {t}'
    if 'enum' in s and not any(deep_equal(doc, e) for e in s['enum']):
        return f'at {at or "/"}: value must be one of {s["enum"]}'
    if isinstance(doc, dict):
        for r in s.get('required', []):
            if r not in doc:
                return f'at {at or "/"}: missing property {r!r}'
        for k, sub in (s.get('properties') or {}).items():
            if k in doc:
                e = validate_schema(doc[k], sub, f'{at}/{k}')
                if e:
                    return e
    if isinstance(doc, list) and isinstance(s.get('items'), dict):
        for i, x in enumerate(doc):
            e = validate_schema(x, s['items'], f'{at}/{i}')
            if e:
                return e
    return ''


# --------------------------------------------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('ce', help='CE checkout: work tree, or bare git dir (e.g. /work/.mirror/krakend+krakend-ce/repo)')
    ap.add_argument('gateway', help='gateway binary (run as: BIN run -d -c CONFIG)')
    ap.add_argument('filter', nargs='?', default='', help='regular expression searched in case names')
    ap.add_argument('--rev', default=None, help='git revision to read from a git dir (default HEAD)')
    ap.add_argument('--core', action='store_true', help='only the core cases (no auth/*, bot-detector, '
                    'validation/*, modifier/lua*, qos/* and the named jwt/cel/lua/jsonschema cases)')
    ap.add_argument('--list', action='store_true', help='list the cases with their classification and exit')
    ap.add_argument('--delay', type=float, default=0.2, help='delay of /delayed/ in seconds (default 0.2)')
    ap.add_argument('--timeout', type=float, default=10.0, help='per request timeout in seconds')
    ap.add_argument('--startup-timeout', type=float, default=20.0)
    ap.add_argument('--settle', type=float, default=0.3, help='seconds to wait after the port opens')
    ap.add_argument('--keep', action='store_true', help='keep the temporary directory (config, gateway log)')
    ap.add_argument('-v', '--verbose', action='store_true', help='print backend access log and, on failure, '
                    'the raw requests the backend received for that case')
    args = ap.parse_args()

    src = CESource(args.ce, args.rev)
    cfg = json.loads(src.read('tests/fixtures/krakend.json'))
    specs = {}
    for fn in src.list_dir('tests/fixtures/specs'):
        if fn.endswith('.json'):
            specs[fn[:-5]] = json.loads(src.read(f'tests/fixtures/specs/{fn}'))
    flt = re.compile(args.filter) if args.filter else None
    selected = []
    for name in sorted(specs):
        core, why = classify(name, specs[name], cfg)
        if flt and not flt.search(name):
            continue
        if args.core and not core:
            continue
        selected.append((name, core, why))
    if args.list:
        for name, core, why in selected:
            print(f'{name}: {"core" if core else "non-core (" + why + ")"}')
        print(f'{len(selected)} cases, {sum(1 for s in selected if s[1])} core')
        return 0
    if not selected:
        print('no case selected', file=sys.stderr)
        return 2
    if not os.access(args.gateway, os.X_OK):
        print(f'{args.gateway}: not an executable', file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp(prefix='ce-blackbox.')
    backend = proc = None
    log = None
    try:
        backend = Backend(args.delay, args.verbose)
        be_port = backend.server_address[1]
        threading.Thread(target=backend.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
        gw_port, metrics_port, closed_port = free_port(), free_port(), free_port()
        rendered, external = render_config(cfg, gw_port, be_port, metrics_port, closed_port)
        cfg_path = os.path.join(tmp, 'krakend.json')
        with open(cfg_path, 'w') as f:
            json.dump(rendered, f, indent=2)
        # relative lua sources ("fixtures/lua/x.lua") resolve from the gateway's working directory, as in CE
        os.makedirs(os.path.join(tmp, 'fixtures', 'lua'))
        for fn in src.list_dir('tests/fixtures/lua'):
            with open(os.path.join(tmp, 'fixtures', 'lua', fn), 'wb') as f:
                f.write(src.read(f'tests/fixtures/lua/{fn}'))
        print(f'# CE: {src.describe()}; gateway {args.gateway} on 127.0.0.1:{gw_port}, backend 127.0.0.1:{be_port}',
              flush=True)
        if external:
            print(f'# non-loopback hosts sent to closed port 127.0.0.1:{closed_port}: {", ".join(external)}')
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'USAGE_DISABLE': '1',
               'GATEWAY_ALLOW_UNIMPLEMENTED': 'true'}
        log_path = os.path.join(tmp, 'gateway.log')
        log = open(log_path, 'wb')
        proc = subprocess.Popen([os.path.abspath(args.gateway), 'run', '-d', '-c', cfg_path], cwd=tmp, env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_port(gw_port, proc, time.monotonic() + args.startup_timeout):
            log.flush()
            with open(log_path, 'rb') as f:
                tail = f.read()[-4000:].decode(errors='replace')
            print(f'gateway did not open 127.0.0.1:{gw_port} (exit {proc.poll()}):\n{tail}', file=sys.stderr)
            return 2
        time.sleep(args.settle)

        passed, failed = [], []
        for name, core, _ in selected:
            spec = render_spec(specs[name], gw_port, be_port)
            tin, tout = spec.get('in', {}), spec.get('out', {})
            body = tin.get('body')
            if body is not None:
                body = body.encode() if isinstance(body, str) else go_json(body).encode()
            n_seen = len(backend.seen)
            resp, err = go_request(gw_port, (tin.get('method') or 'GET').upper(), tin.get('url', ''),
                                   tin.get('header'), body, args.timeout)
            if err is not None:
                errs = [] if spec.get('error') else [f'request error: {err}']
            else:
                errs = assert_response(resp, tout)
            tag = '' if core else ' [non-core]'
            if errs:
                failed.append(name)
                print(f'{name}: FAIL{tag} wrong response:\n\t' + '\n\t'.join(errs), flush=True)
                if args.verbose:
                    for m, t, h, b in backend.seen[n_seen:]:
                        print(f'\tbackend saw: {m} {t} {h} body={b!r}')
            else:
                passed.append(name)
                print(f'{name}: ok{tag}', flush=True)
        print(f'{len(passed)} passed, {len(failed)} failed')
        if failed:
            print('failed: ' + ' '.join(failed))
        return 1 if failed else 0
    finally:
        stop(proc)
        if backend is not None:
            backend.shutdown()
            backend.server_close()
        if log is not None:
            log.close()
        if args.keep:
            print(f'# kept {tmp}', file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
