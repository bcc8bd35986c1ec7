// conditional.test.mjs: conditional create (If-None-Exist): no match
// creates, one match returns the existing resource and creates nothing, two
// or more matches is 412; also under concurrency.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, assertOutcome, sampleResource, NHS_SYSTEM } from './lib.mjs';

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.close(); });

const MRN = 'https://example.org/Id/mrn';
const patientWith = (system, value, extra = {}) =>
  sampleResource('Patient', { identifier: [{ system, value }], ...extra });

async function typeTotal(type) {
  const r = await fhir(node, 'GET', `${type}/_history?_count=0`);
  assert.equal(r.status, 200);
  return r.json.total;
}

function create(type, body, cond, headers = {}) {
  return fhir(node, 'POST', type, { body, headers: { 'if-none-exist': cond, ...headers } });
}

test('no match creates; a match returns the existing resource with 200 and creates nothing', async () => {
  const cond = `identifier=${MRN}|A100`;
  const first = await create('Patient', patientWith(MRN, 'A100'), cond);
  assert.equal(first.status, 201, first.text);
  assert.equal(first.headers.etag, 'W/"1"');
  const id = first.json.id;
  const before = await typeTotal('Patient');

  // a different body, same identifier: the existing resource comes back
  const again = await create('Patient', patientWith(MRN, 'A100', { gender: 'male' }), cond);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.id, id);
  assert.equal(again.json.gender, 'female', 'the existing resource, not the new body');
  assert.equal(again.text, first.text);
  assert.equal(again.headers.etag, 'W/"1"');
  assert.equal(await typeTotal('Patient'), before, 'nothing created');
  const g = await fhir(node, 'GET', `Patient/${id}`);
  assert.equal(g.headers.etag, 'W/"1"', 'nothing updated');
  assert.equal(g.json.gender, 'female');

  // the condition in its percent-encoded form means the same
  const enc = await create('Patient', patientWith(MRN, 'A100'), `identifier=${encodeURIComponent(`${MRN}|A100`)}`);
  assert.equal(enc.status, 200, enc.text);
  assert.equal(enc.json.id, id);
  assert.equal(await typeTotal('Patient'), before);
});

test('the identifier has to match system and value', async () => {
  const a = await create('Patient', patientWith(MRN, 'B200'), `identifier=${MRN}|B200`);
  assert.equal(a.status, 201);
  const otherValue = await create('Patient', patientWith(MRN, 'B201'), `identifier=${MRN}|B201`);
  assert.equal(otherValue.status, 201, 'another value is no match');
  assert.notEqual(otherValue.json.id, a.json.id);
  const otherSystem = await create('Patient', patientWith('https://example.org/Id/other', 'B200'),
    'identifier=https://example.org/Id/other|B200');
  assert.equal(otherSystem.status, 201, 'another system is no match');
  assert.notEqual(otherSystem.json.id, a.json.id);
  // the match is on identifier, not any other token
  const t = await create('Patient', patientWith(MRN, 'B202', { telecom: [{ system: 'phone', value: 'B200' }] }),
    `identifier=${MRN}|B202`);
  assert.equal(t.status, 201);
});

test('an identifier from any element position matches (second identifier)', async () => {
  const body = sampleResource('Patient', {
    identifier: [{ system: MRN, value: 'C300' }, { system: NHS_SYSTEM, value: '9434765919' }],
  });
  const a = await create('Patient', body, `identifier=${NHS_SYSTEM}|9434765919`);
  assert.equal(a.status, 201);
  const b = await create('Patient', body, `identifier=${NHS_SYSTEM}|9434765919`);
  assert.equal(b.status, 200);
  assert.equal(b.json.id, a.json.id);
  const c = await create('Patient', body, `identifier=${MRN}|C300`);
  assert.equal(c.status, 200);
  assert.equal(c.json.id, a.json.id);
});

test('matches are within the resource type', async () => {
  const p = await create('Patient', patientWith(MRN, 'D400'), `identifier=${MRN}|D400`);
  assert.equal(p.status, 201);
  const pr = await create('Practitioner', sampleResource('Practitioner', { identifier: [{ system: MRN, value: 'D400' }] }),
    `identifier=${MRN}|D400`);
  assert.equal(pr.status, 201, 'a Patient with that identifier is no match for a Practitioner');
  assert.equal(pr.json.resourceType, 'Practitioner');
});

test('two or more matches: 412 and nothing created', async () => {
  // two resources sharing an identifier, made without a condition
  for (const id of ['dup-1', 'dup-2']) {
    const r = await fhir(node, 'PUT', `Patient/${id}`, { body: patientWith(MRN, 'E500', { id }) });
    assert.equal(r.status, 201);
  }
  const before = await typeTotal('Patient');
  const r = await create('Patient', patientWith(MRN, 'E500'), `identifier=${MRN}|E500`);
  assertOutcome(r, 412);
  assert.equal(await typeTotal('Patient'), before);
});

test('deleted and superseded versions do not match', async () => {
  const a = await create('Patient', patientWith(MRN, 'F600'), `identifier=${MRN}|F600`);
  assert.equal(a.status, 201);
  assert.equal((await fhir(node, 'DELETE', `Patient/${a.json.id}`)).status, 200);
  const b = await create('Patient', patientWith(MRN, 'F600'), `identifier=${MRN}|F600`);
  assert.equal(b.status, 201, 'a deleted resource is no match');
  assert.notEqual(b.json.id, a.json.id);

  // update b to another identifier: the old one no longer matches, the new one does
  const u = await fhir(node, 'PUT', `Patient/${b.json.id}`, { body: patientWith(MRN, 'F601', { id: b.json.id }) });
  assert.equal(u.status, 200);
  const old = await create('Patient', patientWith(MRN, 'F600'), `identifier=${MRN}|F600`);
  assert.equal(old.status, 201, 'an identifier only in an old version is no match');
  const cur = await create('Patient', patientWith(MRN, 'F601'), `identifier=${MRN}|F601`);
  assert.equal(cur.status, 200);
  assert.equal(cur.json.id, b.json.id);
  assert.equal(cur.json.meta.versionId, '2');
});

test('_id condition', async () => {
  const put = await fhir(node, 'PUT', 'Organization/org-g700', { body: sampleResource('Organization', { id: 'org-g700' }) });
  assert.equal(put.status, 201);
  const before = await typeTotal('Organization');
  const m = await create('Organization', sampleResource('Organization', { name: 'Other' }), '_id=org-g700');
  assert.equal(m.status, 200, m.text);
  assert.equal(m.json.id, 'org-g700');
  assert.equal(m.json.name, 'Example NHS Trust');
  assert.equal(await typeTotal('Organization'), before);
  const n = await create('Organization', sampleResource('Organization'), '_id=org-none');
  assert.equal(n.status, 201, n.text);
  assert.notEqual(n.json.id, 'org-none', 'create assigns its own id even when the condition names one');
  assert.equal(await typeTotal('Organization'), before + 1);
});

test('the NHS number condition, and Prefer on a match', async () => {
  const cond = `identifier=${NHS_SYSTEM}|9000000009`;
  const a = await create('Patient', patientWith(NHS_SYSTEM, '9000000009'), cond);
  assert.equal(a.status, 201);
  const min = await create('Patient', patientWith(NHS_SYSTEM, '9000000009'), cond, { prefer: 'return=minimal' });
  assert.equal(min.status, 200);
  assert.equal(min.text, '');
  assert.equal(min.headers.etag, 'W/"1"');
});

test('12 concurrent conditional creates: exactly one creates, all name the same resource', async () => {
  const cond = `identifier=${MRN}|H800`;
  const before = await typeTotal('Patient');
  const rs = await Promise.all(Array.from({ length: 12 }, () => create('Patient', patientWith(MRN, 'H800'), cond)));
  const statuses = rs.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses ${statuses}`);
  assert.equal(statuses.filter((s) => s === 200).length, 11, `statuses ${statuses}`);
  assert.equal(new Set(rs.map((r) => r.json.id)).size, 1);
  assert.equal(await typeTotal('Patient'), before + 1);
});

test('conditions the server does not understand are 400 and create nothing', async () => {
  const before = await typeTotal('Patient');
  for (const cond of ['', 'foo=bar', 'identifier=', `identifier=${MRN}|X&foo=bar`, 'name=Smith', 'identifier']) {
    const r = await create('Patient', patientWith(MRN, 'Z999'), cond);
    assert.ok(r.status === 400 || r.status === 412, `If-None-Exist ${JSON.stringify(cond)}: ${r.status}`);
    assertOutcome(r, r.status);
  }
  assert.equal(await typeTotal('Patient'), before);
  // and a bad body is still rejected when the condition matches nothing
  const bad = await create('Patient', { resourceType: 'Patient', foo: 1 }, `identifier=${MRN}|nobody`);
  assertOutcome(bad, 400, { expression: 'Patient.foo' });
  assert.equal(await typeTotal('Patient'), before);
});
