// The audit step: every request under /fhir (but /fhir/metadata) leaves
// one hash-chained audit record before its answer is sent; the chain
// verifies; an edited record is found; and when the record cannot be
// written, no data is returned (fail closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startNode, fhir, runBin, sampleResource, sqlite, sqliteNow, journalPosition, sleep, tempDir } from './lib.mjs';

const sql = sqlite;

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

const BLOCK = "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END";
const UNBLOCK = 'DROP TRIGGER no_audit';

test('fail closed: when the record cannot be written, no data is returned (no journal)', async () => {
  // Without the journal every answer waits for its record's commit.
  const node = await startNode({ config: { audit: { journal: false } } });
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 201);
    assert.equal(journalPosition(node.dataDir).put, null, 'no journal file');
    sqliteNow(node.dataDir, BLOCK);
    const r = await fhir(node, 'GET', `Patient/${c.json.id}`);
    assert.equal(r.status, 500);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.ok(!r.text.includes(c.json.id), 'the patient is not in the answer');
    assert.match(r.json.issue[0].diagnostics, /could not be recorded in the audit log/);
    const s = await fhir(node, 'GET', `Patient?_id=${c.json.id}`);
    assert.equal(s.status, 500);
    assert.ok(!s.text.includes(c.json.id));
    sqliteNow(node.dataDir, UNBLOCK);
    assert.equal((await fhir(node, 'GET', `Patient/${c.json.id}`)).status, 200);
  } finally {
    await node.close();
  }
});

test('fail closed through the journal: once records cannot reach the log, reads stop, and none answered is lost', async () => {
  const node = await startNode();
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 201);
    const id = c.json.id;
    const readsOf = () => Number(sqlite(node.dataDir, `SELECT count(*) FROM audit WHERE action = 'read' AND patient = '${id}' AND outcome = 'allowed'`));
    assert.equal(readsOf(), 0);
    sqliteNow(node.dataDir, BLOCK);
    // Answers already in the journal go out; the journal's moves then
    // fail (every 10 ms), and from then on no data is returned.
    let answered = 0;
    let refused = null;
    for (let i = 0; i < 400 && !refused; i++) {
      const r = await fhir(node, 'GET', `Patient/${id}`);
      if (r.status === 200) answered++;
      else refused = r;
      await sleep(5);
    }
    assert.ok(refused, 'reads were refused once records could not be moved');
    assert.equal(refused.status, 500);
    assert.ok(!refused.text.includes(id), 'the patient is not in the refusal');
    assert.match(refused.json.issue[0].diagnostics, /could not be recorded in the audit log/);
    const again = await fhir(node, 'GET', `Patient?_id=${id}`);
    assert.equal(again.status, 500);
    assert.ok(!again.text.includes(id));
    assert.ok(journalPosition(node.dataDir).put > journalPosition(node.dataDir).moved, 'records wait in the journal');
    assert.ok(node.logRecords().some((l) => l.level === 'error' && /audit journal/.test(l.msg)), 'the operator is told');
    // Storage back: every answer given has its record, once.
    sqliteNow(node.dataDir, UNBLOCK);
    assert.equal(readsOf(), answered);
    assert.equal((await fhir(node, 'GET', `Patient/${id}`)).status, 200);
    assert.equal(readsOf(), answered + 1);
    assert.equal(await node.stop(), 0);
    const v = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await node.close();
  }
});

test('a write and its record commit together: blocked record, nothing stored', async () => {
  const node = await startNode();
  try {
    const before = Number(sql(node.dataDir, "SELECT count(*) FROM resources"));
    sqliteNow(node.dataDir, BLOCK);
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 500);
    assert.equal(c.json.resourceType, 'OperationOutcome');
    assert.equal(Number(sql(node.dataDir, "SELECT count(*) FROM resources")), before,
                 'the write was undone with its record');
    sqliteNow(node.dataDir, UNBLOCK);
  } finally {
    await node.close();
  }
});

test('journal: records of answers given survive kill -9 and reach the log once', async () => {
  // A second between moves: records after the first wait in the journal.
  const node = await startNode({ config: { audit: { journal_ms: 1000 } } });
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    const id = c.json.id;
    const N = 40;
    for (let i = 0; i < N; i++)
      assert.equal((await fhir(node, 'GET', `Patient/${id}`)).status, 200);
    const count = () => Number(sqliteNow(node.dataDir, `SELECT count(*) FROM audit WHERE action = 'read' AND patient = '${id}'`));
    const before = count();
    assert.ok(before < N, `records were waiting in the journal (${before} of ${N} in the table)`);
    await node.kill9();
    assert.equal(node.exitSignal, 'SIGKILL');
    // verify, before the node runs again, counts them as waiting
    const waiting = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(waiting.status, 0, waiting.stdout + waiting.stderr);
    const m = /\n(\d+) more in the node's journal, not yet in the chain/.exec(waiting.stdout);
    assert.ok(m, waiting.stdout);
    assert.equal(Number(m[1]) + count(), N, 'every read is in the chain or in the journal');
    await node.start();
    // Moved when the node opened, before it answered anything.
    assert.equal(count(), N);
    const { put, moved } = journalPosition(node.dataDir);
    assert.equal(moved, put);
    assert.equal(await node.stop(), 0);
    await node.start();
    assert.equal(count(), N, 'moved exactly once');
    assert.equal(await node.stop(), 0);
    const v = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, new RegExp(`intact: ${N + 1} records`));
    assert.doesNotMatch(v.stdout, /in the node's journal/);
  } finally {
    await node.close();
  }
});

test('journal: a small journal wraps round and fills without losing a record', async () => {
  const node = await startNode({ config: { audit: { journal_kb: 64, journal_ms: 50 } } });
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    const id = c.json.id;
    // 64 KiB holds about 150 records of a read: 1,200 reads, 16 at a
    // time, go round it several times and fill it between moves (then
    // answers wait for their commit instead).
    const N = 1200;
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < N) {
        next++;
        const r = await fhir(node, 'GET', `Patient/${id}`, { validate: false });
        assert.equal(r.status, 200);
      }
    }));
    await node.kill9();
    await node.start();
    assert.equal(Number(sqlite(node.dataDir, `SELECT count(*) FROM audit WHERE action = 'read' AND patient = '${id}'`)), N);
    assert.equal(await node.stop(), 0);
    const v = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await node.close();
  }
});

test('journal: the audit log read back shows an access made just before', async () => {
  const node = await startNode({ config: { audit: { journal_ms: 1000 } } });
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    const id = c.json.id;
    const officer = node.token({ sub: 'u-po', name: 'Officer', org: 'RR8', role: 'R8000', purpose: 'audit' });
    for (let i = 0; i < 3; i++) {
      assert.equal((await fhir(node, 'GET', `Patient/${id}`)).status, 200);
      const q = await fhir(node, 'GET', `AuditEvent?patient=Patient/${id}&_count=100`, { token: officer });
      assert.equal(q.status, 200, q.text);
      const reads = (q.json.entry || []).filter((e) => e.resource.subtype?.some((t) => t.code === 'read'));
      assert.equal(reads.length, i + 1, 'every read so far, the last one included');
    }
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

test('one node per data directory: a second one on it refuses to start and says why', async () => {
  const node = await startNode();
  try {
    const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
    assert.equal(c.status, 201);
    const second = runBin(['serve', '--data', node.dataDir, '--listen', '127.0.0.1:0', '--quiet'], { timeout: 15000 });
    assert.notEqual(second.status, 0, 'the second node did not start');
    assert.equal(second.signal, null, 'it stopped by itself, not by the timeout');
    assert.match(second.stderr, /a carerecord node runs on this data directory/);
    // the first goes on as before
    assert.equal((await fhir(node, 'GET', `Patient/${c.json.id}`)).status, 200);
  } finally {
    await node.close();
  }
});

test('a bad "audit" section stops the node at start, naming the setting', () => {
  const dir = tempDir();
  for (const [audit, says] of [
    [{ journal: 'yes' }, /'audit\.journal' must be true or false/],
    [{ journal_ms: 0 }, /'audit\.journal_ms' must be a whole number from 1 to 1000/],
    [{ journal_kb: 8 }, /'audit\.journal_kb' must be a whole number from 64/],
    [{ jounral: true }, /unknown setting 'audit\.jounral'/],
    ['on', /'audit' must be an object/],
  ]) {
    const cfg = `${dir}/bad.json`;
    fs.writeFileSync(cfg, JSON.stringify({ audit }));
    const r = runBin(['serve', '--listen', '127.0.0.1:0', '--data', `${dir}/data`, '--config', cfg]);
    assert.notEqual(r.status, 0, JSON.stringify(audit));
    assert.equal(r.signal, null, 'it stopped by itself');
    assert.match(r.stderr, says);
  }
});
