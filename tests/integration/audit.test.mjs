// The audit step: every request under /fhir (but /fhir/metadata) leaves
// one hash-chained audit record before its answer is sent; the chain
// verifies; an edited record is found; and when the record cannot be
// written, no data is returned (fail closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startNode, fhir, runBin, sampleResource } from './lib.mjs';

function sql(dataDir, statement) {
  const r = spawnSync('sqlite3', [path.join(dataDir, 'carerecord.db'), statement],
                      { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

test('one record per request, in order, with what was touched; the chain verifies', async () => {
  const node = await startNode();
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 201);
    const id = c.json.id;
    assert.equal((await fhir(node, 'GET', `Patient/${id}`)).status, 200);
    assert.equal((await fhir(node, 'GET', `Patient?_id=${id}`)).status, 200);
    assert.equal((await fhir(node, 'GET', 'Patient/not-there')).status, 404);
    assert.equal((await fhir(node, 'GET', `Patient/${id}`, { token: null })).status, 401);
    assert.equal((await fhir(node, 'GET', 'metadata', { token: null })).status, 200);
    const rows = sql(node.dataDir, 'SELECT action, outcome FROM audit ORDER BY seq').split('\n');
    assert.deepEqual(rows, ['create|allowed', 'read|allowed', 'search|allowed', 'read|failed',
                            'login-failure|failed']);
    const read = JSON.parse(sql(node.dataDir, 'SELECT body FROM audit WHERE seq = 2'));
    assert.deepEqual(read.resources, [`Patient/${id}/_history/1`]);
    assert.ok(read.agent.sub && read.agent.org && read.agent.role, 'the principal is recorded');
    assert.equal(read.status, 200);
    assert.equal(read.patient, id);
    assert.equal(await node.stop(), 0);
    const v = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /audit log intact: 5 records/);
  } finally {
    await node.close();
  }
});

test('an edited record is found at its place', async () => {
  const node = await startNode();
  try {
    for (let i = 0; i < 3; i++)
      assert.equal((await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') })).status, 201);
    assert.equal(await node.stop(), 0);
    assert.equal(runBin(['audit', 'verify', '--data', node.dataDir]).status, 0);
    sql(node.dataDir, "UPDATE audit SET body = replace(body, 'allowed', 'denied') WHERE seq = 2");
    const v = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(v.status, 1);
    assert.match(v.stdout + v.stderr, /broken at record 2/);
  } finally {
    await node.close();
  }
});

test('fail closed: when the record cannot be written, no data is returned', async () => {
  const node = await startNode();
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 201);
    sql(node.dataDir, "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END");
    const r = await fhir(node, 'GET', `Patient/${c.json.id}`);
    assert.equal(r.status, 500);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.ok(!r.text.includes(c.json.id), 'the patient is not in the answer');
    assert.match(r.json.issue[0].diagnostics, /could not be recorded in the audit log/);
    const s = await fhir(node, 'GET', `Patient?_id=${c.json.id}`);
    assert.equal(s.status, 500);
    assert.ok(!s.text.includes(c.json.id));
    sql(node.dataDir, 'DROP TRIGGER no_audit');
    assert.equal((await fhir(node, 'GET', `Patient/${c.json.id}`)).status, 200);
  } finally {
    await node.close();
  }
});

test('a write and its record commit together: blocked record, nothing stored', async () => {
  const node = await startNode();
  try {
    const before = Number(sql(node.dataDir, "SELECT count(*) FROM resources"));
    sql(node.dataDir, "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END");
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 500);
    assert.equal(c.json.resourceType, 'OperationOutcome');
    assert.equal(Number(sql(node.dataDir, "SELECT count(*) FROM resources")), before,
                 'the write was undone with its record');
    sql(node.dataDir, 'DROP TRIGGER no_audit');
  } finally {
    await node.close();
  }
});

test('a transaction leaves one record naming every resource it wrote', async () => {
  const node = await startNode();
  try {
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0b8e4f6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b', resource: sampleResource('Patient'),
          request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' },
                      subject: { reference: 'urn:uuid:0b8e4f6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b' } },
          request: { method: 'POST', url: 'Observation' } },
      ],
    };
    const r = await fhir(node, 'POST', '/fhir', { body: bundle });
    assert.equal(r.status, 200);
    const rows = sql(node.dataDir, "SELECT action || '|' || outcome FROM audit").split('\n');
    assert.deepEqual(rows, ['transaction|allowed']);
    const body = JSON.parse(sql(node.dataDir, 'SELECT body FROM audit'));
    const written = r.json.entry.map((e) => e.response.location);
    assert.deepEqual(body.resources.slice().sort(), written.slice().sort());
  } finally {
    await node.close();
  }
});
