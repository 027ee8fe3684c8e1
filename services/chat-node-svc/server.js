'use strict';
// chat-node-svc: chat rooms and messages for the game backend. Node 20 built-ins only.
//
// Environment: PORT (default 8080; 0 = any free port, printed in the "listening" log line),
// BIND (default 127.0.0.1), JWT_SECRET (shared with auth-python-svc; default: the development key).
//
// Routes (paths as the gateway forwards them; the gateway exposes one path segment, /api/chat/{path}):
//   GET  /                 status document
//   GET  /rooms            {"rooms":[...]}               POST /rooms {"name","topic"?} -> 201 room
//   GET  /{room}           {"room","messages":[...]}      ?limit=N (1..200, default 50) &since=<message id>
//   POST /{room}           {"text", "user"?} -> 201 message; the author is the Bearer token's subject
//                          when an Authorization header is sent (401 if it does not verify), else "user"
//   GET  /rooms/{room}, GET|POST /rooms/{room}/messages  (the same, for direct callers)
// Every JSON body carries "service" and "path"; every response carries X-Service.

const http = require('node:http');
const crypto = require('node:crypto');

const SERVICE = 'chat-node-svc';
const VERSION = '1.0.0';
const DEV_SECRET = 'dev-only-insecure-jwt-secret';
const MAX_BODY = 64 * 1024;
const ROOM_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const USER_RE = /^[A-Za-z0-9_.-]{1,32}$/;
const RESERVED = new Set(['rooms', 'health']);
const MAX_MESSAGES_PER_ROOM = 1000;

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function log(rec) {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), service: SERVICE, ...rec }) + '\n');
}

function b64urlDecode(s) {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

// Verifies an HS256 JWT; returns the claims or throws.
function verifyJwt(token, secret, now = Date.now() / 1000) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed token');
  let header, claims;
  try {
    header = JSON.parse(b64urlDecode(parts[0]).toString('utf8'));
    claims = JSON.parse(b64urlDecode(parts[1]).toString('utf8'));
  } catch {
    throw new Error('malformed token');
  }
  if (!header || header.alg !== 'HS256') throw new Error('unsupported token algorithm');
  const expected = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const sig = b64urlDecode(parts[2]);
  if (sig.length !== expected.length || !crypto.timingSafeEqual(sig, expected)) throw new Error('bad token signature');
  if (!claims || typeof claims !== 'object' || typeof claims.exp !== 'number' || now >= claims.exp) {
    throw new Error('token expired');
  }
  return claims;
}

function createChat({ secret = DEV_SECRET } = {}) {
  const started = Date.now();
  const rooms = new Map();
  let nextId = 1;

  function addRoom(name, topic, createdBy) {
    const room = { name, topic, created_by: createdBy, created_at: new Date().toISOString(), messages: [] };
    rooms.set(name, room);
    return room;
  }
  addRoom('general', 'Anything goes', 'system');

  const roomInfo = (r) => ({
    name: r.name, topic: r.topic, created_by: r.created_by, created_at: r.created_at, message_count: r.messages.length,
  });

  function send(res, ctx, status, body, headers = {}) {
    const data = Buffer.from(JSON.stringify({ service: SERVICE, path: ctx.path, ...body }));
    ctx.status = status;
    res.writeHead(status, {
      'Content-Type': 'application/json', 'Content-Length': data.length, 'X-Service': SERVICE, ...headers,
    });
    res.end(ctx.method === 'HEAD' ? undefined : data);
  }

  function readJson(req) {
    return new Promise((resolve, reject) => {
      const ctype = req.headers['content-type'] || '';
      if (ctype && !/json/i.test(ctype)) {
        req.resume();
        return reject(new HttpError(415, 'Content-Type must be application/json'));
      }
      const chunks = [];
      let size = 0;
      let failed = false;
      req.on('data', (c) => {
        size += c.length;
        if (size > MAX_BODY && !failed) {
          failed = true;
          reject(new HttpError(413, `body larger than ${MAX_BODY} bytes`));
        }
        if (!failed) chunks.push(c);
      });
      req.on('error', (e) => { if (!failed) { failed = true; reject(new HttpError(400, e.message)); } });
      req.on('end', () => {
        if (failed) return;
        const raw = Buffer.concat(chunks).toString('utf8');
        if (!raw.trim()) return reject(new HttpError(400, 'a JSON object body is required'));
        let body;
        try {
          body = JSON.parse(raw);
        } catch (e) {
          return reject(new HttpError(400, `invalid JSON: ${e.message}`));
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          return reject(new HttpError(400, 'the JSON body must be an object'));
        }
        resolve(body);
      });
    });
  }

  function author(req, body) {
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!m) throw new HttpError(401, "expected 'Authorization: Bearer <token>'", { 'WWW-Authenticate': 'Bearer' });
      try {
        return verifyJwt(m[1], secret).sub;
      } catch (e) {
        throw new HttpError(401, e.message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      }
    }
    if (typeof body.user !== 'string' || !USER_RE.test(body.user)) {
      throw new HttpError(400, "'user' must match [A-Za-z0-9_.-]{1,32} (or send a Bearer token)");
    }
    return body.user;
  }

  function allow(method, ...allowed) {
    if (!allowed.includes(method)) {
      throw new HttpError(405, `method ${method} not allowed`, { Allow: allowed.join(', ') });
    }
  }

  function getRoom(name) {
    const room = rooms.get(name);
    if (!room) throw new HttpError(404, `room '${name}' not found`);
    return room;
  }

  function intParam(query, key, def, min, max) {
    const v = query.get(key);
    if (v === null) return def;
    if (!/^\d+$/.test(v)) throw new HttpError(400, `'${key}' must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new HttpError(400, `'${key}' must be between ${min} and ${max}`);
    return n;
  }

  async function messages(req, res, ctx, name) {
    const room = getRoom(name);
    if (ctx.method === 'POST') {
      const body = await readJson(req);
      const user = author(req, body);
      if (typeof body.text !== 'string' || !body.text.trim() || body.text.length > 2000) {
        throw new HttpError(400, "'text' must be a non-empty string of at most 2000 characters");
      }
      const msg = { id: nextId++, room: room.name, user, text: body.text, sent_at: new Date().toISOString() };
      room.messages.push(msg);
      if (room.messages.length > MAX_MESSAGES_PER_ROOM) room.messages.shift();
      return send(res, ctx, 201, { message: msg });
    }
    const limit = intParam(ctx.query, 'limit', 50, 1, 200);
    const since = intParam(ctx.query, 'since', 0, 0, Number.MAX_SAFE_INTEGER);
    const list = room.messages.filter((m) => m.id > since).slice(-limit);
    return send(res, ctx, 200, { room: roomInfo(room), messages: list, count: list.length, limit });
  }

  async function route(req, res, ctx) {
    const parts = ctx.path.split('/').filter(Boolean);
    const m = ctx.method;
    if (ctx.path === '/') {
      allow(m, 'GET', 'HEAD');
      let total = 0;
      for (const r of rooms.values()) total += r.messages.length;
      return send(res, ctx, 200, {
        status: 'ok', version: VERSION, uptime_s: (Date.now() - started) / 1000, rooms: rooms.size, messages: total,
      });
    }
    if (parts[0] === 'rooms' && parts.length === 1) {
      allow(m, 'GET', 'POST');
      if (m === 'GET') {
        const list = [...rooms.values()].map(roomInfo);
        return send(res, ctx, 200, { rooms: list, count: list.length });
      }
      const body = await readJson(req);
      if (typeof body.name !== 'string' || !ROOM_RE.test(body.name) || RESERVED.has(body.name)) {
        throw new HttpError(400, "'name' must match [a-z0-9][a-z0-9_-]{0,63} and not be reserved");
      }
      if (body.topic !== undefined && (typeof body.topic !== 'string' || body.topic.length > 200)) {
        throw new HttpError(400, "'topic' must be a string of at most 200 characters");
      }
      if (rooms.has(body.name)) throw new HttpError(409, `room '${body.name}' already exists`);
      const createdBy = req.headers.authorization ? author(req, body) : (typeof body.user === 'string' ? body.user : 'anonymous');
      return send(res, ctx, 201, { room: roomInfo(addRoom(body.name, body.topic || '', createdBy)) });
    }
    if (parts[0] === 'rooms' && parts.length === 2) {
      allow(m, 'GET');
      return send(res, ctx, 200, { room: roomInfo(getRoom(parts[1])) });
    }
    if (parts[0] === 'rooms' && parts.length === 3 && parts[2] === 'messages') {
      allow(m, 'GET', 'POST');
      return messages(req, res, ctx, parts[1]);
    }
    if (parts.length === 1) {
      allow(m, 'GET', 'POST');
      return messages(req, res, ctx, parts[0]);
    }
    throw new HttpError(404, `no route for ${ctx.path}`);
  }

  return async function handler(req, res) {
    const t0 = process.hrtime.bigint();
    let url;
    try {
      url = new URL(req.url, 'http://localhost');
    } catch {
      url = new URL('http://localhost/');
    }
    let path = url.pathname;
    try { path = decodeURIComponent(path); } catch { /* keep the raw path */ }
    const ctx = { method: req.method, path, query: url.searchParams, status: 0 };
    res.on('finish', () => {
      log({
        level: 'info', method: ctx.method, path: ctx.path, status: ctx.status,
        duration_ms: Number(process.hrtime.bigint() - t0) / 1e6, remote: req.socket.remoteAddress,
      });
    });
    try {
      await route(req, res, ctx);
    } catch (err) {
      if (res.headersSent) { res.destroy(); return; }
      if (err instanceof HttpError) {
        // Unread request bodies are discarded so keep-alive connections stay usable.
        if (!req.complete) req.resume();
        send(res, ctx, err.status, { error: err.message, status: err.status }, err.headers);
      } else {
        log({ level: 'error', msg: 'handler failed', error: String(err && err.stack || err) });
        res.setHeader('Connection', 'close');
        send(res, ctx, 500, { error: 'internal error', status: 500 });
      }
    }
  };
}

function start({ port = 8080, host = '127.0.0.1', secret } = {}) {
  const server = http.createServer({ keepAliveTimeout: 30000 }, createChat({ secret }));
  server.on('clientError', (err, socket) => {
    if (!socket.writable) return socket.destroy();
    const body = JSON.stringify({ service: SERVICE, path: '', error: 'bad request', status: 400 });
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Service: ${SERVICE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function main() {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.BIND || '127.0.0.1';
  let secret = process.env.JWT_SECRET;
  if (!secret) {
    secret = DEV_SECRET;
    log({ level: 'warn', msg: 'JWT_SECRET not set: using the development key' });
  }
  const server = await start({ port, host, secret });
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    log({ level: 'info', event: 'stopping', signal });
    server.close(() => { log({ level: 'info', event: 'stopped' }); process.exit(0); });
    server.closeIdleConnections();
    setTimeout(() => { server.closeAllConnections(); process.exit(0); }, 10000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Announced only once signals are handled, so a supervisor may stop us as soon as it reads this.
  log({ level: 'info', event: 'listening', host, port: server.address().port });
}

process.on('uncaughtException', (err) => log({ level: 'error', msg: 'uncaught exception', error: String(err && err.stack || err) }));

if (require.main === module) {
  main().catch((err) => { log({ level: 'error', msg: 'failed to start', error: String(err) }); process.exit(1); });
}

module.exports = { createChat, start, verifyJwt, SERVICE };
