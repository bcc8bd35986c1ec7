// durability.test.mjs: an acknowledged write survives kill -9. N creates
// (concurrent), updates and deletes are acknowledged, the process is
// killed with SIGKILL, a new process starts on the same data directory,
// and everything acknowledged is there with the same bytes.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, sampleResource, SUPPORTED_TYPES, systemHistoryTotal } from './lib.mjs';

const N = 200;
const CONCURRENCY = 16;
const nodes = [];
after(async () => { for (const n of nodes) await n.close(); });

// Run 'fn' over 0..n-1 with at most 'limit' in flight.
async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

test(`${N} acknowledged creates, updates and deletes survive kill -9`, async () => {
  const node = await startNode();
  nodes.push(node);
  const types = SUPPORTED_TYPES;
  const created = await pool(N, CONCURRENCY, async (i) => {
    const type = types[i % types.length];
    const r = await fhir(node, 'POST', type, { body: sampleResource(type, { id: undefined, meta: { tag: [{ code: `n${i}` }] } }) });
    assert.equal(r.status, 201, `create ${i}: ${r.text}`);
    return { type, id: r.json.id, text: r.text, versions: [r.text] };
  });
  // every 10th updated twice, every 25th deleted
  const updated = created.filter((_, i) => i % 10 === 0);
  await pool(updated.length, CONCURRENCY, async (k) => {
    const c = updated[k];
    for (let v = 2; v <= 3; v++) {
      const body = { ...JSON.parse(c.text), meta: { tag: [{ code: `v${v}` }] } };
      const r = await fhir(node, 'PUT', `${c.type}/${c.id}`, { body });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.meta.versionId, String(v));
      c.text = r.text;
      c.versions.push(r.text);
    }
  });
  const deleted = created.filter((_, i) => i % 25 === 1);
  for (const c of deleted) {
    assert.equal((await fhir(node, 'DELETE', `${c.type}/${c.id}`)).status, 200);
    c.deleted = true;
  }
  const total = await systemHistoryTotal(node);
  assert.equal(total, N + 2 * updated.length + deleted.length);

  await node.kill9();
  assert.equal(node.exitSignal, 'SIGKILL', 'the server really was killed');
  await node.start();

  assert.equal(await systemHistoryTotal(node), total, 'history total after restart');
  const problems = [];
  await pool(created.length, CONCURRENCY, async (i) => {
    const c = created[i];
    const r = await fhir(node, 'GET', `${c.type}/${c.id}`);
    if (c.deleted) {
      if (r.status !== 410) problems.push(`${c.type}/${c.id}: deleted, but read gives ${r.status}`);
    } else if (r.status !== 200) {
      problems.push(`${c.type}/${c.id}: ${r.status}`);
    } else if (r.text !== c.text) {
      problems.push(`${c.type}/${c.id}: bytes differ:\n  before ${c.text}\n  after  ${r.text}`);
    }
    for (let v = 1; v <= c.versions.length; v++) {
      const h = await fhir(node, 'GET', `${c.type}/${c.id}/_history/${v}`);
      if (h.text !== c.versions[v - 1]) problems.push(`${c.type}/${c.id}/_history/${v}: ${h.status} differs`);
    }
  });
  assert.deepEqual(problems, []);

  // the node carries on: new writes get fresh ids and the next versions
  const w = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
  assert.equal(w.status, 201);
  assert.ok(!created.some((c) => c.id === w.json.id), 'a new id after restart');
  const u = updated[0];
  const r = await fhir(node, 'PUT', `${u.type}/${u.id}`, { body: JSON.parse(u.text) });
  assert.equal(r.json.meta.versionId, '4');
});

test('kill -9 in the middle of concurrent writes: every acknowledged write is there, the store is consistent', async () => {
  const node = await startNode();
  nodes.push(node);
  const acked = [];
  let failed = 0;
  const inflight = [];
  for (let i = 0; i < 400; i++) {
    inflight.push(fhir(node, 'POST', 'Observation', { body: sampleResource('Observation'), timeout: 10000 })
      .then((r) => { if (r.status === 201) acked.push(r); })
      .catch(() => { failed++; }));
    if (i === 150) {
      // let some complete, then pull the plug with many still in flight
      await Promise.race([Promise.all(inflight.slice(0, 50)), new Promise((res) => setTimeout(res, 2000))]);
      await node.kill9();
    }
  }
  await Promise.all(inflight);
  assert.ok(acked.length >= 1, 'some writes were acknowledged before the kill');
  assert.ok(failed >= 1, 'some writes were cut off by the kill');
  await node.start();
  for (const r of acked) {
    const g = await fhir(node, 'GET', `Observation/${r.json.id}`);
    assert.equal(g.status, 200, `acknowledged Observation/${r.json.id} lost`);
    assert.equal(g.text, r.text);
  }
  // what is in history is readable: no half-written versions
  const h = await fhir(node, 'GET', 'Observation/_history?_count=1000');
  assert.equal(h.status, 200);
  assert.ok(h.json.total >= acked.length);
  assert.equal(h.json.entry.length, h.json.total);
  for (const e of h.json.entry) {
    const g = await fhir(node, 'GET', `Observation/${e.resource.id}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, e.resource);
  }
});

test('a graceful stop and start keeps everything too', async () => {
  const node = await startNode();
  nodes.push(node);
  const r = await fhir(node, 'PUT', 'Patient/keep', { body: sampleResource('Patient', { id: 'keep' }) });
  assert.equal(r.status, 201);
  assert.equal(await node.stop(), 0);
  await node.start();
  const g = await fhir(node, 'GET', 'Patient/keep');
  assert.equal(g.status, 200);
  assert.equal(g.text, r.text);
  // the key survives as well: the token minted before the restart still works
  assert.equal((await fhir(node, 'GET', 'Patient/keep', { token: node.token() })).status, 200);
});
