'use strict';
// Run: node --test services/chat-node-svc/test/chat.test.js
// Starts the real service as a child process on a free 127.0.0.1 port (PORT=0) and drives it over HTTP.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');

const SECRET = 'unit-test-secret';
const SERVER = path.join(__dirname, '..', 'server.js');

function b64url(buf) {
  return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}
function signJwt(claims, secret = SECRET) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = b64url(crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

function startService() {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER], {
      env: { ...process.env, PORT: '0', BIND: '127.0.0.1', JWT_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = [];
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('service did not start')); }, 15000);
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      let rec;
      try { rec = JSON.parse(line); } catch { return; }
      lines.push(rec);
      if (rec.event === 'listening') {
        clearTimeout(timer);
        resolve({ proc, port: rec.port, lines });
      }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service exited early: ${code}`)); });
  });
}

function stopService(svc) {
  return new Promise((resolve) => {
    if (svc.proc.exitCode !== null) return resolve(svc.proc.exitCode);
    const killer = setTimeout(() => svc.proc.kill('SIGKILL'), 10000);
    svc.proc.removeAllListeners('exit');
    svc.proc.once('exit', (code) => { clearTimeout(killer); resolve(code); });
    svc.proc.kill('SIGTERM');
  });
}

let svc;
async function req(method, p, { json, raw, headers = {} } = {}) {
  let body = raw;
  const h = { ...headers };
  if (json !== undefined) {
    body = JSON.stringify(json);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(`http://127.0.0.1:${svc.port}${p}`, { method, headers: h, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
function assertFrom(r, p) {
  assert.equal(r.headers.get('x-service'), 'chat-node-svc');
  assert.equal(r.body.service, 'chat-node-svc');
  assert.equal(r.body.path, p);
}

before(async () => { svc = await startService(); });
after(async () => { await stopService(svc); });

test('GET / is a JSON status document', async () => {
  const r = await req('GET', '/');
  assert.equal(r.status, 200);
  assertFrom(r, '/');
  assert.equal(r.body.status, 'ok');
  assert.equal(r.headers.get('content-type'), 'application/json');
});

test('rooms: list, create, conflict', async () => {
  let r = await req('GET', '/rooms');
  assert.equal(r.status, 200);
  assertFrom(r, '/rooms');
  assert.ok(r.body.rooms.some((x) => x.name === 'general'));
  r = await req('POST', '/rooms', { json: { name: 'lobby', topic: 'hi' } });
  assert.equal(r.status, 201);
  assertFrom(r, '/rooms');
  assert.equal(r.body.room.name, 'lobby');
  r = await req('POST', '/rooms', { json: { name: 'lobby' } });
  assert.equal(r.status, 409);
  r = await req('GET', '/rooms/lobby');
  assert.equal(r.status, 200);
  assert.equal(r.body.room.topic, 'hi');
});

test('messages: post and read with limit/since, through both path forms', async () => {
  await req('POST', '/rooms', { json: { name: 'msgs' } });
  let r = await req('POST', '/msgs', { json: { user: 'ann', text: 'one' } });
  assert.equal(r.status, 201);
  assertFrom(r, '/msgs');
  const first = r.body.message.id;
  r = await req('POST', '/rooms/msgs/messages', { json: { user: 'ben', text: 'two' } });
  assert.equal(r.status, 201);
  r = await req('POST', '/msgs', { json: { text: 'three' }, headers: { authorization: `Bearer ${signJwt({ sub: 'carl', exp: Date.now() / 1000 + 60 })}` } });
  assert.equal(r.status, 201);
  assert.equal(r.body.message.user, 'carl');
  r = await req('GET', '/msgs');
  assert.equal(r.status, 200);
  assertFrom(r, '/msgs');
  assert.deepEqual(r.body.messages.map((m) => m.text), ['one', 'two', 'three']);
  r = await req('GET', '/msgs?limit=1');
  assert.deepEqual(r.body.messages.map((m) => m.text), ['three']);
  r = await req('GET', `/rooms/msgs/messages?since=${first}`);
  assert.deepEqual(r.body.messages.map((m) => m.text), ['two', 'three']);
});

test('Bearer tokens must verify', async () => {
  const bad = [
    'Bearer not.a.jwt',
    `Bearer ${signJwt({ sub: 'x', exp: Date.now() / 1000 + 60 }, 'wrong-secret')}`,
    `Bearer ${signJwt({ sub: 'x', exp: Date.now() / 1000 - 1 })}`,
    'Basic abc',
  ];
  for (const authorization of bad) {
    const r = await req('POST', '/general', { json: { text: 'x' }, headers: { authorization } });
    assert.equal(r.status, 401, authorization);
    assert.equal(r.body.service, 'chat-node-svc');
  }
});

test('bad input is a JSON 4xx and the service keeps serving', async () => {
  const cases = [
    ['POST', '/general', { raw: '{nope', headers: { 'content-type': 'application/json' } }, 400],
    ['POST', '/general', { raw: '[1]', headers: { 'content-type': 'application/json' } }, 400],
    ['POST', '/general', { raw: '', headers: { 'content-type': 'application/json' } }, 400],
    ['POST', '/general', { json: { text: 'no user' } }, 400],
    ['POST', '/general', { json: { user: 'u', text: '' } }, 400],
    ['POST', '/general', { raw: 'a=b', headers: { 'content-type': 'text/plain' } }, 415],
    ['POST', '/rooms', { json: { name: 'Bad Name!' } }, 400],
    ['POST', '/rooms', { json: { name: 'rooms' } }, 400],
    ['GET', '/no-such-room', {}, 404],
    ['POST', '/no-such-room', { json: { user: 'u', text: 't' } }, 404],
    ['GET', '/general?limit=abc', {}, 400],
    ['GET', '/general?limit=100000', {}, 400],
    ['DELETE', '/general', {}, 405],
    ['PUT', '/rooms', {}, 405],
    ['POST', '/', {}, 405],
    ['GET', '/a/b/c/d', {}, 404],
    ['POST', '/general', { raw: JSON.stringify({ user: 'u', text: 'x'.repeat(70000) }), headers: { 'content-type': 'application/json' } }, 413],
  ];
  for (const [method, p, opts, want] of cases) {
    const r = await req(method, p, opts);
    assert.equal(r.status, want, `${method} ${p}`);
    assert.equal(r.headers.get('x-service'), 'chat-node-svc');
    assert.equal(r.body.service, 'chat-node-svc');
    assert.equal(r.body.status, want);
    assert.ok(r.body.error);
  }
  assert.equal((await req('GET', '/')).status, 200);
});

test('garbage on the socket gets a JSON 400', async () => {
  const data = await new Promise((resolve, reject) => {
    const s = net.connect(svc.port, '127.0.0.1', () => s.write('\x00garbage\r\n\r\n'));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
  assert.match(data, /^HTTP\/1\.1 400/);
  assert.match(data, /"service":"chat-node-svc"/);
  assert.equal((await req('GET', '/')).status, 200);
});

test('one JSON access-log line per request', async () => {
  await req('GET', '/rooms?x=1');
  await new Promise((r) => setTimeout(r, 100));
  const rec = svc.lines.find((l) => l.method === 'GET' && l.path === '/rooms' && l.status === 200);
  assert.ok(rec, 'access log line');
  assert.equal(rec.service, 'chat-node-svc');
});

test('SIGTERM stops the service cleanly', async () => {
  const other = await startService();
  const t0 = Date.now();
  assert.equal(await stopService(other), 0);
  assert.ok(Date.now() - t0 < 5000);
});
