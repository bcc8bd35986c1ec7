// lifecycle.test.mjs: the process: start, stop on SIGTERM/SIGINT (finishing
// requests in flight), --help for every command, configuration errors,
// configuration keys, and the per-request log line.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  startNode, fhir, runBin, tempDir, sampleResource, sleep, BIN,
} from './lib.mjs';

const nodes = [];
async function start(opts) {
  const n = await startNode(opts);
  nodes.push(n);
  return n;
}
after(async () => { for (const n of nodes) await n.close(); });

test('SIGTERM: exit code 0 and "stopped" logged', async () => {
  const node = await start();
  assert.equal((await fhir(node, 'GET', 'metadata', { token: null })).status, 200);
  const code = await node.stop('SIGTERM');
  assert.equal(code, 0, `exit code; stderr:\n${node.logs().join('\n')}`);
  assert.equal(node.exitSignal, null);
  const last = node.logRecords().at(-1);
  assert.match(last?.msg || '', /stopped/, `last log line: ${JSON.stringify(last)}`);
});

test('SIGINT: exit code 0 and "stopped" logged', async () => {
  const node = await start();
  const code = await node.stop('SIGINT');
  assert.equal(code, 0);
  assert.ok(node.logRecords().some((l) => /stopped/.test(l.msg || '')));
});

test('SIGTERM finishes a request in flight, and its write is kept', async () => {
  const node = await start();
  const body = JSON.stringify(sampleResource('Patient', { id: 'in-flight' }));
  const half = Math.floor(body.length / 2);
  let res;
  const done = new Promise((resolve, reject) => {
    const req = http.request(`${node.fhirBase}/Patient/in-flight`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${node.token()}`,
        'content-type': 'application/fhir+json',
        'content-length': String(Buffer.byteLength(body)),
      },
    }, (r) => {
      let text = '';
      r.on('data', (c) => { text += c; });
      r.on('end', () => { res = { status: r.statusCode, text }; resolve(); });
    });
    req.on('error', reject);
    req.write(body.slice(0, half));
    // the request has begun; stop the server, then send the rest
    setTimeout(() => {
      node.proc.kill('SIGTERM');
      setTimeout(() => req.end(body.slice(half)), 300);
    }, 300);
  });
  await done;
  assert.equal(res.status, 201, res.text);
  const code = await node.stop();
  assert.equal(code, 0);
  await node.start();
  const g = await fhir(node, 'GET', 'Patient/in-flight');
  assert.equal(g.status, 200, 'the in-flight write was kept');
});

test('a stopped server accepts no new connections', async () => {
  const node = await start();
  const port = node.port;
  await node.stop();
  await assert.rejects(fhir(node, 'GET', 'metadata', { token: null }), /ECONNREFUSED|ECONNRESET|socket hang up/);
  assert.equal(node.port, port);
});

const HELP = {
  '': ['serve', 'token', 'demo', '--help'],
  serve: ['--listen', '--data', '--config', '--node-id', '--quiet', '--help',
    'listen', 'data', 'node_id', 'base_url', 'max_body_bytes', 'max_json_depth', 'default_count', 'max_count', 'log_requests',
    'peers', 'locator', 'deadline_ms'],
  demo: ['--data', '--patients', '--base-port', '--seed', '--quiet', '--help', 'nel', 'swl', 'demo.json'],
  token: ['--data', '--sub', '--name', '--org', '--role', '--purpose', '--patient', '--reason', '--ttl',
    'direct-care', 'emergency', 'patient-access', 'research', 'audit', 'system'],
};

for (const [cmd, words] of Object.entries(HELP)) {
  test(`carerecord ${cmd ? `${cmd} ` : ''}--help: exit 0 and every option explained`, () => {
    for (const flag of ['--help', '-h']) {
      const r = runBin(cmd ? [cmd, flag] : [flag]);
      assert.equal(r.status, 0, `carerecord ${cmd} ${flag}: exit ${r.status}: ${r.stderr}`);
      const out = r.stdout;
      assert.ok(out.length > 100, `help text on stdout: ${JSON.stringify(out)}`);
      for (const w of words) assert.ok(out.includes(w), `carerecord ${cmd} ${flag} should mention ${w}:\n${out}`);
    }
  });
}

test('carerecord version prints a version', () => {
  const r = runBin(['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /\d+\.\d+\.\d+/);
});

test('unknown commands and options: exit 2 with a message', () => {
  for (const args of [['bogus'], ['serve', '--bogus'], ['serve', '--listen'], []]) {
    const r = runBin(args);
    assert.equal(r.status, 2, `carerecord ${args.join(' ')}: exit ${r.status}`);
    assert.ok(r.stderr.trim(), `a message for carerecord ${args.join(' ')}`);
  }
});

test('configuration errors: exit 2 with a message naming the problem, nothing started', () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  const cases = [
    ['unknown key', '{"foo":1}', /foo/],
    ['unknown key next to good ones', '{"max_count":10,"listen_addr":"x"}', /listen_addr/],
    ['wrong type', '{"max_body_bytes":"big"}', /max_body_bytes/],
    ['negative', '{"max_count":-1}', /max_count/],
    ['boolean as string', '{"log_requests":"yes"}', /log_requests/],
    ['not JSON', '{', /./],
    ['JSON array', '[]', /./],
    ['bad listen', '{"listen":"nonsense"}', /listen/],
  ];
  for (const [label, text, re] of cases) {
    const f = path.join(dir, 'config.json');
    fs.writeFileSync(f, text);
    const r = runBin(['serve', '--listen', '127.0.0.1:0', '--data', data, '--config', f], { timeout: 15000 });
    assert.equal(r.status, 2, `${label}: exit ${r.status} signal ${r.signal}\n${r.stderr}`);
    assert.match(r.stderr, re, `${label}: message ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /listening on/);
  }
  const missing = runBin(['serve', '--listen', '127.0.0.1:0', '--data', data, '--config', path.join(dir, 'nope.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.json/);
});

test('the port is taken: a clear error, not a hang', async () => {
  const node = await start();
  const r = runBin(['serve', '--listen', `127.0.0.1:${node.port}`, '--data', path.join(tempDir(), 'd')], { timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.equal(r.signal, null, 'exited by itself');
  assert.ok(r.stderr.trim());
});

test('the data directory is created, with the node key private to its owner', async () => {
  const node = await start();
  assert.ok(fs.statSync(node.dataDir).isDirectory());
  const key = fs.statSync(path.join(node.dataDir, 'node-key.pem'));
  assert.equal(key.mode & 0o077, 0, `node-key.pem mode ${(key.mode & 0o777).toString(8)}`);
});

test('config keys: base_url, node_id, default_count, log_requests', async () => {
  const node = await start({
    config: { base_url: 'https://care.example.org/fhir', node_id: 'itest-node', default_count: 2, log_requests: false },
  });
  assert.ok(node.logs().some((l) => l.includes('itest-node')), 'node id in the listening line');
  const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
  assert.equal(c.status, 201);
  assert.match(c.headers.location, /^https:\/\/care\.example\.org\/fhir\/Patient\/[^/]+\/_history\/1$/);
  for (let i = 0; i < 3; i++) await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
  const h = await fhir(node, 'GET', '_history');
  assert.equal(h.json.entry.length, 2);
  assert.match(h.json.entry[0].fullUrl, /^https:\/\/care\.example\.org\/fhir\/Patient\//);
  const cap = await fhir(node, 'GET', 'metadata', { token: null });
  assert.equal(cap.json.implementation?.url, 'https://care.example.org/fhir');
  await sleep(50);
  assert.equal(node.logRecords().filter((l) => l.method).length, 0, 'log_requests false: no request lines');
});

test('flags win over the config file', async () => {
  const dir = tempDir();
  const node = await start({ config: { data: path.join(dir, 'from-config'), listen: '127.0.0.1:1' } });
  // startNode passes --listen 127.0.0.1:0 and --data: those are used
  assert.notEqual(node.port, 1);
  assert.ok(fs.existsSync(path.join(node.dataDir, 'node-key.pem')));
  assert.ok(!fs.existsSync(path.join(dir, 'from-config')));
});

test('--quiet: no request lines', async () => {
  const node = await start({ args: ['--quiet'] });
  await fhir(node, 'GET', 'metadata', { token: null });
  await fhir(node, 'GET', 'Patient/x');
  await sleep(50);
  assert.equal(node.logRecords().filter((l) => l.method).length, 0);
});

test('request log lines: one per request, with every field', async () => {
  const node = await start();
  const reqs = [
    ['GET', 'metadata', { token: null }, 200],
    ['GET', 'Patient/nope', {}, 404],
    ['GET', 'Patient/nope', { token: null }, 401],
    ['POST', 'Patient', { body: sampleResource('Patient') }, 201],
    ['POST', 'Patient', { body: '{' }, 400],
  ];
  const ids = [];
  for (const [m, p, o, status] of reqs) {
    const r = await fhir(node, m, p, o);
    assert.equal(r.status, status);
    assert.ok(r.headers['x-request-id'], 'X-Request-Id header');
    ids.push(r.headers['x-request-id']);
  }
  await sleep(100);
  const lines = node.logRecords().filter((l) => l.method);
  assert.equal(lines.length, reqs.length, `one line per request:\n${node.logs().join('\n')}`);
  lines.forEach((l, i) => {
    const [m, p, o, status] = reqs[i];
    for (const f of ['time', 'request', 'method', 'path', 'status', 'ms', 'principal']) {
      assert.ok(f in l, `field ${f} in ${JSON.stringify(l)}`);
    }
    assert.ok(!Number.isNaN(Date.parse(l.time)) && /T.*Z$/.test(l.time), `time ${l.time}`);
    assert.equal(l.request, ids[i], 'request id matches X-Request-Id');
    assert.equal(l.method, m);
    assert.equal(l.path, `/fhir/${p}`);
    assert.equal(l.status, status);
    assert.equal(typeof l.ms, 'number');
    assert.ok(l.ms >= 0 && l.ms < 60000);
    if (o.token === null) {
      assert.equal(l.principal, '', 'no principal without a token');
    } else {
      assert.match(l.principal, /itest-system/, 'the token subject');
    }
  });
  assert.equal(new Set(ids).size, ids.length, 'request ids are unique');
  // the log never contains the token itself
  const tok = node.token();
  assert.ok(!node.logs().some((l) => l.includes(tok.split('.')[2])), 'tokens are not logged');
});

test('the binary under test is the one CARERECORD_BIN names', () => {
  assert.ok(fs.existsSync(BIN), `${BIN} exists`);
});
