// webui.test.mjs: how a node serves its web UI over HTTP (src/webui/):
// redirects, media types, entity tags and 304s, the security headers, no
// way out of the embedded table, 404 and 405, the personas file read at
// run time, and that the FHIR API behind it is untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startNode, fhir, rawRequest, tempDir, ROOT } from './lib.mjs';

let node;
const personas = path.join(tempDir('cr-personas-'), 'demo.json');

before(async () => { node = await startNode({ args: ['--personas', personas] }); });
after(async () => { await node?.close(); });

// A raw GET (no FHIR negotiation): { status, headers, body }.
function get(p, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request(`${node.base}${p}`, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/ and /ui redirect to /ui/, which is the record viewer page', async () => {
  for (const p of ['/', '/ui']) {
    const r = await get(p);
    assert.equal(r.status, 302, p);
    assert.equal(r.headers.location, '/ui/');
  }
  const r = await get('/ui/');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html; charset=utf-8/);
  assert.equal(r.body, fs.readFileSync(path.join(ROOT, 'web/index.html'), 'utf8'), 'the embedded bytes are web/index.html');
});

test('every file under web/ is served with its media type; pages also without .html', async () => {
  const want = {
    '/ui/signin': [/^text\/html/, 'web/signin.html'],
    '/ui/careplan.html': [/^text\/html/, 'web/careplan.html'],
    '/ui/css/app.css': [/^text\/css/, 'web/css/app.css'],
    '/ui/js/pages/record.js': [/^text\/javascript/, 'web/js/pages/record.js'],
    '/ui/favicon.svg': [/^image\/svg\+xml/, 'web/favicon.svg'],
  };
  for (const [p, [type, file]] of Object.entries(want)) {
    const r = await get(p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers['content-type'], type, p);
    assert.equal(r.body, fs.readFileSync(path.join(ROOT, file), 'utf8'), p);
  }
});

test('answers carry a strict Content-Security-Policy and the other security headers', async () => {
  for (const p of ['/ui/', '/ui/js/api.js', '/ui/nope', '/']) {
    const r = await get(p);
    const csp = r.headers['content-security-policy'] || '';
    assert.match(csp, /default-src 'none'/, p);
    assert.match(csp, /script-src 'self'(;|$)/, `${p}: no inline or remote script`);
    assert.match(csp, /connect-src 'self'/, p);
    assert.match(csp, /frame-ancestors 'none'/, p);
    assert.doesNotMatch(csp, /unsafe/, p);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', p);
  }
});

test('an ETag per file; If-None-Match gets 304 without a body; a changed tag gets the file', async () => {
  const r = await get('/ui/css/app.css');
  assert.match(r.headers.etag, /^"[0-9a-f]{16}"$/);
  assert.equal(r.headers['cache-control'], 'no-cache');
  const again = await get('/ui/css/app.css', { 'If-None-Match': r.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
  assert.equal(again.headers.etag, r.headers.etag);
  const weak = await get('/ui/css/app.css', { 'If-None-Match': `"x", W/${r.headers.etag}` });
  assert.equal(weak.status, 304, 'weak comparison, in a list');
  const other = await get('/ui/css/app.css', { 'If-None-Match': '"0000000000000000"' });
  assert.equal(other.status, 200);
  assert.notEqual((await get('/ui/js/api.js')).headers.etag, r.headers.etag, 'each file its own tag');
});

test('HEAD answers the headers only; other methods are 405 with Allow', async () => {
  const h = await get('/ui/', {}, 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  for (const m of ['POST', 'PUT', 'DELETE']) {
    const r = await get('/ui/', {}, m);
    assert.equal(r.status, 405, m);
    assert.equal(r.headers.allow, 'GET, HEAD');
  }
});

test('no path leaves the embedded table: traversal, encodings and unknown names are 404', async () => {
  const paths = ['/ui/../fhir/metadata', '/ui/%2e%2e/CMakeLists.txt', '/ui/js/../../README.md', '/ui/js/%2E%2E/%2E%2E/src/webui/serve.c',
    '/ui/./index.html', '/ui//index.html', '/ui/js/', '/ui/nope.js', '/ui/web/index.html', '/ui/index.html%00.js', '/ui/..%5c..%5cREADME.md',
    '/ui/README.md', '/ui/signin/', '/ui/.git/config'];
  for (const p of paths) {
    const raw = await rawRequest(node, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw)?.[1]);
    assert.equal(status, 404, `${p}: ${raw.slice(0, 200)}`);
    assert.doesNotMatch(raw, /CapabilityStatement|cmake_minimum|carerecord is an open-source|#include/, p);
  }
});

test('the personas file is served when present, never cached, and read on each request', async () => {
  let r = await get('/ui/personas.json');
  assert.equal(r.status, 404, 'absent: 404');
  fs.writeFileSync(personas, JSON.stringify({ personas: [{ label: 'GP', role: 'R8000', org: 'Z1', purpose: 'direct-care', token: 'a.b.c' }] }));
  r = await get('/ui/personas.json');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(JSON.parse(r.body).personas[0].label, 'GP');
  fs.writeFileSync(personas, JSON.stringify({ personas: [] }));
  assert.deepEqual(JSON.parse((await get('/ui/personas.json')).body), { personas: [] }, 'rewritten while the node runs');
});

test('the FHIR API behind the UI is unchanged: metadata without a token, everything else with one', async () => {
  const meta = await fhir(node, 'GET', 'metadata', { token: null });
  assert.equal(meta.status, 200);
  assert.equal((await fhir(node, 'GET', 'Patient', { token: null })).status, 401);
  const other = await get('/uix');
  assert.equal(other.status, 404);
  assert.match(other.headers['content-type'], /fhir\+json/, 'a path outside /ui/ is the API\'s to answer');
});
