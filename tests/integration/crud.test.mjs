// crud.test.mjs: create, read, vread, update (also create-on-update),
// delete, optimistic locking and Prefer, over HTTP against the real binary.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, assertOutcome, sampleResource, SUPPORTED_TYPES,
} from './lib.mjs';

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.close(); });

const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

function assertFhirJson(r) {
  assert.match(r.headers['content-type'] || '', /^application\/fhir\+json/, 'Content-Type');
}

// Checks common to every successful write answer: status, Location, ETag,
// Last-Modified and (with return=representation) the body's meta.
function assertWritten(r, { status, type, id, version, before: t0 }) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.etag, `W/"${version}"`);
  const loc = r.headers.location;
  assert.ok(loc, 'Location header');
  const m = new RegExp(`^${node.fhirBase}/${type}/([^/]+)/_history/${version}$`).exec(loc);
  assert.ok(m, `Location ${loc} should be ${node.fhirBase}/${type}/<id>/_history/${version}`);
  if (id !== undefined) assert.equal(m[1], id);
  assert.match(m[1], ID_RE);
  const lm = Date.parse(r.headers['last-modified']);
  assert.ok(!Number.isNaN(lm), `Last-Modified ${r.headers['last-modified']}`);
  if (t0 !== undefined) {
    // HTTP dates have whole seconds
    assert.ok(lm >= Math.floor(t0 / 1000) * 1000 && lm <= Date.now() + 1000,
      `Last-Modified ${r.headers['last-modified']} should be now`);
  }
  if (r.json) {
    assertFhirJson(r);
    assert.equal(r.json.resourceType, type);
    assert.equal(r.json.id, m[1]);
    assert.equal(r.json.meta?.versionId, String(version));
    assert.match(r.json.meta?.lastUpdated || '', INSTANT_RE);
    // Last-Modified is meta.lastUpdated to the second
    assert.equal(Math.floor(Date.parse(r.json.meta.lastUpdated) / 1000) * 1000, lm);
  }
  return m[1];
}

test('create then read every supported type', async () => {
  for (const type of SUPPORTED_TYPES) {
    const input = sampleResource(type);
    const t0 = Date.now();
    const c = await fhir(node, 'POST', type, { body: input });
    const id = assertWritten(c, { status: 201, type, version: 1, before: t0 });
    // what went in comes back out, plus server meta
    const { id: _i, meta: _m, ...rest } = c.json;
    assert.deepEqual({ ...rest }, input, `${type}: created body`);

    const g = await fhir(node, 'GET', `${type}/${id}`);
    assert.equal(g.status, 200, `${type}: read ${g.text}`);
    assertFhirJson(g);
    assert.equal(g.headers.etag, 'W/"1"');
    assert.equal(g.headers['last-modified'], c.headers['last-modified']);
    // reads serve the stored bytes: identical to the create answer
    assert.equal(g.text, c.text, `${type}: read body differs from create body`);
  }
});

test('ids are server-assigned on create, unique, and a client id is ignored', async () => {
  const ids = new Set();
  for (let i = 0; i < 20; i++) {
    const r = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient', { id: 'client-chosen' }) });
    assert.equal(r.status, 201, r.text);
    assert.notEqual(r.json.id, 'client-chosen');
    assert.match(r.json.id, ID_RE);
    ids.add(r.json.id);
  }
  assert.equal(ids.size, 20);
  const g = await fhir(node, 'GET', 'Patient/client-chosen');
  assertOutcome(g, 404, { code: 'not-found' });
});

test('meta.versionId and meta.lastUpdated are server-managed; other meta is kept', async () => {
  const t0 = Date.now();
  const body = sampleResource('Patient', {
    meta: {
      versionId: '42',
      lastUpdated: '2001-01-01T00:00:00Z',
      profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'],
      tag: [{ system: 'http://example.org/tags', code: 'itest' }],
    },
  });
  const c = await fhir(node, 'POST', 'Patient', { body });
  const id = assertWritten(c, { status: 201, type: 'Patient', version: 1, before: t0 });
  assert.equal(c.json.meta.versionId, '1');
  assert.notEqual(c.json.meta.lastUpdated, '2001-01-01T00:00:00Z');
  const lu = Date.parse(c.json.meta.lastUpdated);
  assert.ok(lu >= t0 - 1000 && lu <= Date.now() + 1000, `lastUpdated ${c.json.meta.lastUpdated} is now`);
  assert.deepEqual(c.json.meta.profile, body.meta.profile);
  assert.deepEqual(c.json.meta.tag, body.meta.tag);

  // on update too
  const u = await fhir(node, 'PUT', `Patient/${id}`, {
    body: { ...body, id, meta: { ...body.meta, versionId: '1' }, active: true },
  });
  assertWritten(u, { status: 200, type: 'Patient', id, version: 2 });
  assert.ok(Date.parse(u.json.meta.lastUpdated) >= lu, 'lastUpdated moves forward');
  assert.deepEqual(u.json.meta.tag, body.meta.tag);
});

test('stored bytes: whitespace removed, resourceType/id/meta first, numbers and strings as written', async () => {
  const text = '{ "status" : "final",\n\t"code": { "text": "Heart  rate \\u00e9 é \\"q\\" \\/" },\r\n' +
    ' "resourceType" : "Observation",  "valueQuantity": {"value": 1.50, "unit": "mg"},' +
    ' "note": [ { "text": " two  spaces " } ] }';
  const c = await fhir(node, 'POST', 'Observation', { body: text });
  const id = assertWritten(c, { status: 201, type: 'Observation', version: 1 });
  const prefix = `{"resourceType":"Observation","id":"${id}","meta":{`;
  const suffix = ',"status":"final","code":{"text":"Heart  rate \\u00e9 é \\"q\\" \\/"},' +
    '"valueQuantity":{"value":1.50,"unit":"mg"},"note":[{"text":" two  spaces "}]}';
  assert.ok(c.text.startsWith(prefix), `starts with ${prefix}: ${c.text}`);
  assert.ok(c.text.endsWith(suffix), `ends with ${suffix}: ${c.text}`);
  const g = await fhir(node, 'GET', `Observation/${id}`);
  assert.equal(g.text, c.text);
  assert.equal(g.json.code.text, 'Heart  rate é é "q" /');
});

test('read of an unknown id is 404; of a malformed id is 400 or 404', async () => {
  assertOutcome(await fhir(node, 'GET', 'Patient/does-not-exist'), 404, { code: 'not-found' });
  const r = await fhir(node, 'GET', `Patient/${'x'.repeat(65)}`);
  assert.ok([400, 404].includes(r.status), `${r.status} ${r.text}`);
  assertOutcome(r, r.status);
});

test('update, vread of every version, and version-specific ETags', async () => {
  const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
  const id = c.json.id;
  const versions = [c.text];
  for (let v = 2; v <= 4; v++) {
    const body = sampleResource('Patient', { id, birthDate: `197${v}-01-01` });
    const u = await fhir(node, 'PUT', `Patient/${id}`, { body });
    assertWritten(u, { status: 200, type: 'Patient', id, version: v });
    assert.equal(u.json.birthDate, `197${v}-01-01`);
    versions.push(u.text);
  }
  const g = await fhir(node, 'GET', `Patient/${id}`);
  assert.equal(g.headers.etag, 'W/"4"');
  assert.equal(g.text, versions[3]);
  for (let v = 1; v <= 4; v++) {
    const r = await fhir(node, 'GET', `Patient/${id}/_history/${v}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `W/"${v}"`);
    assert.ok(r.headers['last-modified']);
    assert.equal(r.text, versions[v - 1], `version ${v} bytes`);
  }
  assertOutcome(await fhir(node, 'GET', `Patient/${id}/_history/5`), 404, { code: 'not-found' });
  assertOutcome(await fhir(node, 'GET', `Patient/unknown-id/_history/1`), 404, { code: 'not-found' });
  for (const bad of ['x', '0', '-1', '1.5']) {
    const r = await fhir(node, 'GET', `Patient/${id}/_history/${bad}`);
    assert.ok([400, 404].includes(r.status), `vread ${bad}: ${r.status}`);
    assertOutcome(r, r.status);
  }
});

test('update with an unchanged body still makes a new version', async () => {
  const c = await fhir(node, 'POST', 'Organization', { body: sampleResource('Organization') });
  const id = c.json.id;
  const u = await fhir(node, 'PUT', `Organization/${id}`, { body: sampleResource('Organization', { id }) });
  assertWritten(u, { status: 200, type: 'Organization', id, version: 2 });
});

test('create-on-update with a client id gives 201, then updates give 200', async () => {
  const id = `client-id-${Date.now()}`;
  const t0 = Date.now();
  const c = await fhir(node, 'PUT', `Practitioner/${id}`, { body: sampleResource('Practitioner', { id }) });
  assertWritten(c, { status: 201, type: 'Practitioner', id, version: 1, before: t0 });
  const u = await fhir(node, 'PUT', `Practitioner/${id}`, { body: sampleResource('Practitioner', { id, active: true }) });
  assertWritten(u, { status: 200, type: 'Practitioner', id, version: 2 });
  const g = await fhir(node, 'GET', `Practitioner/${id}`);
  assert.equal(g.json.active, true);
  // a 64-character id is valid
  const long = 'a'.repeat(60) + '-1.2';
  const l = await fhir(node, 'PUT', `Practitioner/${long}`, { body: sampleResource('Practitioner', { id: long }) });
  assertWritten(l, { status: 201, type: 'Practitioner', id: long, version: 1 });
});

test('update must carry the URL id', async () => {
  const c = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient') });
  const id = c.json.id;
  assertOutcome(await fhir(node, 'PUT', `Patient/${id}`, { body: sampleResource('Patient') }), 400);
  assertOutcome(await fhir(node, 'PUT', `Patient/${id}`, { body: sampleResource('Patient', { id: 'other' }) }), 400);
  const g = await fhir(node, 'GET', `Patient/${id}`);
  assert.equal(g.headers.etag, 'W/"1"', 'failed updates leave the version alone');
  assert.equal(g.text, c.text);
});

test('If-Match: the current version updates, any other is 412 and changes nothing', async () => {
  const c = await fhir(node, 'POST', 'Condition', { body: sampleResource('Condition') });
  const id = c.json.id;
  const ok = await fhir(node, 'PUT', `Condition/${id}`, {
    body: sampleResource('Condition', { id, clinicalStatus: { text: 'active' } }),
    headers: { 'if-match': 'W/"1"' },
  });
  assertWritten(ok, { status: 200, type: 'Condition', id, version: 2 });
  const stale = await fhir(node, 'PUT', `Condition/${id}`, {
    body: sampleResource('Condition', { id, clinicalStatus: { text: 'resolved' } }),
    headers: { 'if-match': 'W/"1"' },
  });
  assertOutcome(stale, 412);
  const ahead = await fhir(node, 'PUT', `Condition/${id}`, {
    body: sampleResource('Condition', { id }), headers: { 'if-match': 'W/"3"' },
  });
  assertOutcome(ahead, 412);
  const g = await fhir(node, 'GET', `Condition/${id}`);
  assert.equal(g.headers.etag, 'W/"2"');
  assert.equal(g.text, ok.text);
  // a malformed If-Match is a client error, not a success
  const junk = await fhir(node, 'PUT', `Condition/${id}`, {
    body: sampleResource('Condition', { id }), headers: { 'if-match': 'junk' },
  });
  assert.ok([400, 412].includes(junk.status), `If-Match junk: ${junk.status}`);
  assertOutcome(junk, junk.status);
  // If-Match on a resource that does not exist cannot match
  const none = await fhir(node, 'PUT', 'Condition/never-created', {
    body: sampleResource('Condition', { id: 'never-created' }), headers: { 'if-match': 'W/"1"' },
  });
  assert.ok([404, 412].includes(none.status), `If-Match on a missing resource: ${none.status}`);
  assertOutcome(none, none.status);
  assertOutcome(await fhir(node, 'GET', 'Condition/never-created'), 404);
});

test('If-Match is atomic: of 12 concurrent updates from version 1 exactly one wins', async () => {
  const c = await fhir(node, 'POST', 'Goal', { body: sampleResource('Goal') });
  const id = c.json.id;
  const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => fhir(node, 'PUT', `Goal/${id}`, {
    body: sampleResource('Goal', { id, description: { text: `writer ${i}` } }),
    headers: { 'if-match': 'W/"1"' },
  })));
  const wins = rs.filter((r) => r.status === 200);
  const lost = rs.filter((r) => r.status === 412);
  assert.equal(wins.length, 1, `statuses ${rs.map((r) => r.status)}`);
  assert.equal(lost.length, 11, `statuses ${rs.map((r) => r.status)}`);
  const g = await fhir(node, 'GET', `Goal/${id}`);
  assert.equal(g.headers.etag, 'W/"2"');
  assert.equal(g.text, wins[0].text);
  const h = await fhir(node, 'GET', `Goal/${id}/_history`);
  assert.equal(h.json.total, 2);
});

test('concurrent unconditional updates each get their own version', async () => {
  const c = await fhir(node, 'POST', 'Flag', { body: sampleResource('Flag') });
  const id = c.json.id;
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => fhir(node, 'PUT', `Flag/${id}`, {
    body: sampleResource('Flag', { id, code: { text: `update ${i}` } }),
  })));
  assert.deepEqual(rs.map((r) => r.status), Array(10).fill(200));
  const versions = rs.map((r) => Number(r.json.meta.versionId)).sort((a, b) => a - b);
  assert.deepEqual(versions, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test('Prefer: return=minimal, return=OperationOutcome, return=representation', async () => {
  const min = await fhir(node, 'POST', 'Patient', {
    body: sampleResource('Patient'), headers: { prefer: 'return=minimal' },
  });
  const id = assertWritten(min, { status: 201, type: 'Patient', version: 1 });
  assert.equal(min.text, '', 'return=minimal: empty body');
  const g = await fhir(node, 'GET', `Patient/${id}`);
  assert.equal(g.status, 200, 'the minimal create did create');

  const oo = await fhir(node, 'POST', 'Patient', {
    body: sampleResource('Patient'), headers: { prefer: 'return=OperationOutcome' },
  });
  assertWritten({ ...oo, json: undefined }, { status: 201, type: 'Patient', version: 1 });
  assert.equal(oo.json?.resourceType, 'OperationOutcome', oo.text);
  assert.ok(oo.json.issue.every((i) => !['error', 'fatal'].includes(i.severity)));

  const rep = await fhir(node, 'POST', 'Patient', {
    body: sampleResource('Patient'), headers: { prefer: 'return=representation' },
  });
  assertWritten(rep, { status: 201, type: 'Patient', version: 1 });
  assert.equal(rep.json.resourceType, 'Patient');

  // on update too
  const umin = await fhir(node, 'PUT', `Patient/${id}`, {
    body: sampleResource('Patient', { id }), headers: { prefer: 'return=minimal' },
  });
  assertWritten(umin, { status: 200, type: 'Patient', id, version: 2 });
  assert.equal(umin.text, '');
  const uoo = await fhir(node, 'PUT', `Patient/${id}`, {
    body: sampleResource('Patient', { id }), headers: { prefer: 'return=OperationOutcome' },
  });
  assertWritten({ ...uoo, json: undefined }, { status: 200, type: 'Patient', id, version: 3 });
  assert.equal(uoo.json?.resourceType, 'OperationOutcome');
});

test('delete: 200 with an OperationOutcome, then read is 410 and old versions stay readable', async () => {
  const c = await fhir(node, 'POST', 'AllergyIntolerance', { body: sampleResource('AllergyIntolerance') });
  const id = c.json.id;
  const u = await fhir(node, 'PUT', `AllergyIntolerance/${id}`, {
    body: sampleResource('AllergyIntolerance', { id, criticality: 'high' }),
  });
  assert.equal(u.status, 200);

  const d = await fhir(node, 'DELETE', `AllergyIntolerance/${id}`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json?.resourceType, 'OperationOutcome', d.text);
  assert.ok(d.json.issue.every((i) => !['error', 'fatal'].includes(i.severity)));

  const r = await fhir(node, 'GET', `AllergyIntolerance/${id}`);
  assertOutcome(r, 410);
  assert.equal((await fhir(node, 'GET', `AllergyIntolerance/${id}/_history/1`)).text, c.text);
  assert.equal((await fhir(node, 'GET', `AllergyIntolerance/${id}/_history/2`)).text, u.text);

  // the deletion is in the instance history, newest first
  const h = await fhir(node, 'GET', `AllergyIntolerance/${id}/_history`);
  assert.equal(h.status, 200);
  assert.equal(h.json.total, 3);
  assert.equal(h.json.entry[0].request?.method, 'DELETE');
  assert.equal(h.json.entry[0].resource, undefined);

  // deleting again is harmless; updating again brings it back
  const d2 = await fhir(node, 'DELETE', `AllergyIntolerance/${id}`);
  assert.ok([200, 204].includes(d2.status), `second delete: ${d2.status}`);
  assert.equal((await fhir(node, 'GET', `AllergyIntolerance/${id}/_history`)).json.total, 3,
    'a second delete adds no version');
  const back = await fhir(node, 'PUT', `AllergyIntolerance/${id}`, {
    body: sampleResource('AllergyIntolerance', { id }),
  });
  assert.ok([200, 201].includes(back.status), back.text);
  assert.equal(back.json.meta.versionId, '4');
  assert.equal((await fhir(node, 'GET', `AllergyIntolerance/${id}`)).status, 200);
});

test('If-Match against a deleted resource is 412', async () => {
  const c = await fhir(node, 'POST', 'Consent', { body: sampleResource('Consent') });
  const id = c.json.id;
  assert.equal((await fhir(node, 'DELETE', `Consent/${id}`)).status, 200);
  const r = await fhir(node, 'PUT', `Consent/${id}`, {
    body: sampleResource('Consent', { id }), headers: { 'if-match': 'W/"1"' },
  });
  assertOutcome(r, 412);
  assertOutcome(await fhir(node, 'GET', `Consent/${id}`), 410);
});

test('delete of a never-existing resource is 404', async () => {
  assertOutcome(await fhir(node, 'DELETE', 'Observation/never-existed'), 404, { code: 'not-found' });
  assertOutcome(await fhir(node, 'GET', 'Observation/never-existed'), 404);
});

test('write, read, delete every supported type', async () => {
  for (const type of SUPPORTED_TYPES) {
    const id = `rt-${type.toLowerCase()}`;
    const c = await fhir(node, 'PUT', `${type}/${id}`, { body: sampleResource(type, { id }) });
    assertWritten(c, { status: 201, type, id, version: 1 });
    const u = await fhir(node, 'PUT', `${type}/${id}`, { body: sampleResource(type, { id }) });
    assertWritten(u, { status: 200, type, id, version: 2 });
    assert.equal((await fhir(node, 'GET', `${type}/${id}/_history/1`)).text, c.text, `${type} vread`);
    assert.equal((await fhir(node, 'DELETE', `${type}/${id}`)).status, 200, `${type} delete`);
    assertOutcome(await fhir(node, 'GET', `${type}/${id}`), 410);
  }
});

test('methods an endpoint does not allow are 405 with an OperationOutcome', async () => {
  for (const [m, p] of [['PATCH', 'Patient/x'], ['POST', 'Patient/x'], ['POST', 'Patient/x/_history/1'],
    ['DELETE', 'Patient/x/_history/1'], ['PUT', 'Patient/x/_history'], ['DELETE', 'metadata'], ['POST', 'metadata']]) {
    const r = await fhir(node, m, p, { body: m === 'DELETE' ? undefined : sampleResource('Patient') });
    assertOutcome(r, 405);
    assert.ok(r.headers.allow, `${m} ${p}: a 405 carries an Allow header`);
  }
  // PUT or DELETE on a type without a condition: refused one way or another
  for (const m of ['PUT', 'DELETE']) {
    const r = await fhir(node, m, 'Patient', { body: m === 'DELETE' ? undefined : sampleResource('Patient') });
    assert.ok([400, 405, 412].includes(r.status), `${m} /fhir/Patient: ${r.status}`);
    assertOutcome(r, r.status);
  }
});

test('refused writes are always reported as refused (100 stale If-Match updates: all 412)', async () => {
  const id = 'stale-loop';
  await fhir(node, 'PUT', `Condition/${id}`, { body: sampleResource('Condition', { id }) });
  await fhir(node, 'PUT', `Condition/${id}`, { body: sampleResource('Condition', { id }) });
  const seen = {};
  for (let i = 0; i < 100; i++) {
    const r = await fhir(node, 'PUT', `Condition/${id}`, {
      body: sampleResource('Condition', { id }), headers: { 'if-match': 'W/"1"' },
    });
    const k = `${r.status} ETag ${r.headers.etag} ${r.text.length} bytes`;
    seen[k] = (seen[k] || 0) + 1;
  }
  assert.deepEqual(Object.keys(seen).filter((k) => !k.startsWith('412 ')), [], JSON.stringify(seen));
  assert.equal((await fhir(node, 'GET', `Condition/${id}`)).headers.etag, 'W/"2"');
});

test('100 deletes of never-existing resources: all 404, and the server stays up', async () => {
  const seen = {};
  for (let i = 0; i < 100; i++) {
    const r = await fhir(node, 'DELETE', `Observation/never-${i}`);
    seen[r.status] = (seen[r.status] || 0) + 1;
  }
  assert.deepEqual(seen, { 404: 100 });
});
