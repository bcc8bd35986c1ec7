// demo.test.mjs: `carerecord demo` end to end, small: it makes synthetic
// London, starts five federated nodes, writes demo.json; the personas'
// tokens open the chosen person's whole record from every node; Ctrl-C
// (SIGINT) stops everything and removes demo.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BIN, tempDir, sleep, NHS_SYSTEM, validateFhir } from './lib.mjs';

const NODE_TAG = 'https://carerecord.example/node';

// A base port with the four after it free too.
async function freeRun(n) {
  const isFree = (port) => new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await isFree(base + i);
    if (ok) return base;
  }
  throw new Error('no run of free ports');
}

async function get(url, token, headers = {}) {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const json = await r.json();
  validateFhir(json);
  return { status: r.status, json };
}

test('carerecord demo: five nodes, personas, the whole record from each node, clean stop', async () => {
  const dir = tempDir();
  const base = await freeRun(5);
  const proc = spawn(BIN, ['demo', '--data', dir, '--patients', '40', '--base-port', String(base), '--quiet'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c) => { out += c; });
  proc.stderr.on('data', (c) => { err += c; });
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  const file = path.join(dir, 'demo.json');
  let demo;
  try {
    // demo.json is written, then the line saying so printed: wait for both
    for (let i = 0; i < 1200 && !(fs.existsSync(file) && /demo running: /.test(out)); i++) {
      if (proc.exitCode !== null) break;
      await sleep(100);
    }
    assert.ok(fs.existsSync(file), `no demo.json; stderr:\n${err}`);
    assert.match(out, /demo running: .*demo\.json/);
    demo = JSON.parse(fs.readFileSync(file, 'utf8'));

    assert.deepEqual(demo.nodes.map((n) => n.id), ['nel', 'ncl', 'nwl', 'sel', 'swl']);
    demo.nodes.forEach((n, i) => {
      assert.equal(n.fhir, `http://127.0.0.1:${base + i}/fhir`);
      assert.equal(n.ui, `http://127.0.0.1:${base + i}/ui/`);
      assert.doesNotThrow(() => process.kill(n.pid, 0), `node ${n.id} (pid ${n.pid}) runs`);
    });
    assert.equal(demo.nodes.filter((n) => n.locator).map((n) => n.id).join(), 'nel');
    const keys = demo.personas.map((p) => p.key);
    assert.deepEqual(keys, ['GP', 'AE', 'PARAMEDIC', 'SOCIAL', 'RECEPTION', 'PRIVACY', 'PATIENT']);
    for (const p of demo.personas) {
      assert.ok(p.label && p.role && p.org && p.purpose && p.token, JSON.stringify(p));
      const claims = JSON.parse(Buffer.from(p.token.split('.')[1], 'base64url'));
      assert.equal(claims.org, p.org);
      assert.equal(claims.role, p.role);
      assert.equal(claims.purpose, p.purpose);
    }
    // every node's sign-in page lists the demo's personas
    for (const n of demo.nodes) {
      assert.equal(n.url, `http://127.0.0.1:${n.fhir.split(':')[2].split('/')[0]}`);
      const r = await fetch(`${n.url}/ui/personas.json`);
      assert.equal(r.status, 200, `${n.id} serves the personas`);
      assert.deepEqual((await r.json()).personas.map((p) => p.key), keys);
    }
    const patient = demo.personas.find((p) => p.key === 'PATIENT');
    assert.equal(patient.patient, demo.patient.nhs);
    assert.ok(demo.patient.nodes.length >= 2, `a record on several nodes: ${demo.patient.nodes}`);

    // The GP sees the whole record, with every holding node's part, from
    // each of the five nodes.
    const gp = demo.personas.find((p) => p.key === 'GP');
    for (const n of demo.nodes) {
      const r = await get(`${n.fhir}/Patient/$everything?identifier=${NHS_SYSTEM}|${demo.patient.nhs}`, gp.token);
      assert.equal(r.status, 200, `${n.id}: ${JSON.stringify(r.json).slice(0, 300)}`);
      const from = new Set(r.json.entry.map((e) => e.resource.meta?.tag?.find((t) => t.system === NODE_TAG)?.code));
      for (const holder of demo.patient.nodes) assert.ok(from.has(holder), `${holder}'s part, asked at ${n.id}`);
      assert.ok(!r.json.entry.some((e) => e.search.mode === 'outcome' && e.resource.issue[0].severity === 'error'));
    }
    // The paramedic, with the reason the demo gives.
    const para = demo.personas.find((p) => p.key === 'PARAMEDIC');
    const e = await get(`${demo.nodes[3].fhir}/Patient?identifier=${NHS_SYSTEM}|${demo.patient.nhs}`, para.token,
      { 'X-Access-Reason': para.reason });
    assert.equal(e.status, 200);
    assert.equal(e.json.total, demo.patient.nodes.length);
  } finally {
    proc.kill('SIGINT');
  }
  const { code } = await exited;
  assert.equal(code, 0, err);
  assert.ok(!fs.existsSync(file), 'demo.json is removed when the nodes stop');
  for (const n of demo.nodes)
    assert.throws(() => process.kill(n.pid, 0), `node ${n.id} has stopped`);
  const kept = fs.readdirSync(dir);     // the data stays for the next run
  assert.ok(kept.includes('nel') && kept.includes('synthetic'));
});
