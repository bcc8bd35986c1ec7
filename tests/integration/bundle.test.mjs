// bundle.test.mjs: batch and transaction Bundles (POST /fhir), and the
// single-resource conditional update and delete (PUT / DELETE
// /fhir/T?identifier=system|value).
//
// Transactions: urn:uuid and conditional references rewritten to real
// ids; the response Bundle (status, location, etag, lastModified,
// resource or not under Prefer: return=minimal); all or nothing, checked
// against history totals and reads, for failures found while parsing and
// for failures found inside the database transaction; the processing order
// (DELETE, POST, PUT, GET); ifNoneExist, conditional PUT and DELETE,
// ifMatch; one entry per resource; free text is never mistaken for a
// reference; the 1000-entry limit; HL7's official examples round-trip
// through one transaction. Batches: every entry on its own.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, startNode, fhir, assertOutcome, assertAlive, sampleResource, putResources, systemHistoryTotal,
  withoutServerMeta, validateFhir, SUPPORTED_TYPES, NHS_SYSTEM,
} from './lib.mjs';

const MRN = 'https://example.org/mrn';
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.close(); });

const bundle = (type, entry) => ({ resourceType: 'Bundle', type, entry });
const post = (resource, extra = {}) => ({ resource, request: { method: 'POST', url: resource.resourceType, ...extra } });
const put = (resource, url = `${resource.resourceType}/${resource.id}`, extra = {}) => ({ resource, request: { method: 'PUT', url, ...extra } });
const del = (url, extra = {}) => ({ request: { method: 'DELETE', url, ...extra } });
const get = (url) => ({ request: { method: 'GET', url } });
const patient = (value, extra = {}) => sampleResource('Patient', { identifier: [{ system: MRN, value }], ...extra });

function send(type, entry, headers = {}) {
  return fhir(node, 'POST', '/fhir', { body: bundle(type, entry), headers });
}

// ids of the current Patients with identifier MRN|value
async function patientsWith(value) {
  const r = await fhir(node, 'GET', `Patient?identifier=${encodeURIComponent(`${MRN}|${value}`)}&_count=100`);
  assert.equal(r.status, 200, r.text);
  return (r.json.entry || []).map((e) => e.resource.id).sort();
}

async function read(ref) {
  return fhir(node, 'GET', ref);
}

// Assert a failed transaction: status, an OperationOutcome whose
// diagnostics start "entry[i] (METHOD url):", and nothing stored.
async function assertTxnFailed(r, status, index, method, url, historyBefore) {
  const oo = assertOutcome(r, status);
  assert.equal(await systemHistoryTotal(node), historyBefore, 'nothing stored: system history total unchanged');
  if (index !== undefined) {
    assert.ok(oo.issue[0].diagnostics.startsWith(`entry[${index}] (${method} ${url}):`),
      `diagnostics name the entry: ${oo.issue[0].diagnostics}`);
  }
  return oo;
}

// Check one transaction-response entry for a create or update.
function assertWritten(e, { status, type, version = 1, resource = true }) {
  assert.equal(e.response.status, status);
  const m = /^([A-Za-z]+)\/([A-Za-z0-9.-]+)\/_history\/(\d+)$/.exec(e.response.location);
  assert.ok(m, `response.location Type/id/_history/v: ${e.response.location}`);
  assert.equal(m[1], type);
  assert.equal(Number(m[3]), version);
  assert.equal(e.response.etag, `W/"${version}"`);
  assert.match(e.response.lastModified, INSTANT);
  assert.equal(e.fullUrl, `${node.fhirBase}/${type}/${m[2]}`);
  if (resource) {
    assert.equal(e.resource.resourceType, type);
    assert.equal(e.resource.id, m[2]);
    assert.equal(e.resource.meta.versionId, String(version));
    assert.equal(e.resource.meta.lastUpdated, e.response.lastModified);
  } else {
    assert.equal(e.resource, undefined, 'Prefer: return=minimal: no resource');
  }
  return m[2];
}

// ---- transactions ----------------------------------------------------------------

test('transaction: creates with urn:uuid references rewritten to the new ids', async () => {
  const P = 'urn:uuid:6f1c3d4e-0000-4000-8000-000000000001';
  const E = 'urn:uuid:6f1c3d4e-0000-4000-8000-000000000002';
  const before = await systemHistoryTotal(node);
  const r = await send('transaction', [
    { fullUrl: P, ...post(patient('T1')) },
    { fullUrl: E, ...post(sampleResource('Encounter', { subject: { reference: P } })) },
    post(sampleResource('Observation', {
      subject: { reference: P }, encounter: { reference: E },
      performer: [{ reference: 'Practitioner/p1' }, { reference: P }],
    })),
  ]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'transaction-response');
  assert.equal(r.json.entry.length, 3, 'one response entry per request entry, in order');
  const pid = assertWritten(r.json.entry[0], { status: '201 Created', type: 'Patient' });
  const eid = assertWritten(r.json.entry[1], { status: '201 Created', type: 'Encounter' });
  const oid = assertWritten(r.json.entry[2], { status: '201 Created', type: 'Observation' });
  assert.equal(await systemHistoryTotal(node), before + 3);

  const enc = (await read(`Encounter/${eid}`)).json;
  assert.deepEqual(enc.subject, { reference: `Patient/${pid}` });
  const o = (await read(`Observation/${oid}`)).json;
  assert.deepEqual(o.subject, { reference: `Patient/${pid}` });
  assert.deepEqual(o.encounter, { reference: `Encounter/${eid}` });
  assert.deepEqual(o.performer, [{ reference: 'Practitioner/p1' }, { reference: `Patient/${pid}` }]);
  // the response carries the stored resources
  assert.deepEqual(r.json.entry[2].resource, o);
  // and the indexes were written in the same transaction
  const s = await fhir(node, 'GET', `Observation?subject=Patient/${pid}&encounter=${eid}`);
  assert.deepEqual(s.json.entry.map((e) => e.resource.id), [oid]);
  assert.deepEqual(await patientsWith('T1'), [pid]);
});

test('transaction: Prefer: return=minimal leaves the resources out', async () => {
  const r = await send('transaction', [post(patient('T2')), post(sampleResource('Condition'))], { prefer: 'return=minimal' });
  assert.equal(r.status, 200, r.text);
  const pid = assertWritten(r.json.entry[0], { status: '201 Created', type: 'Patient', resource: false });
  assertWritten(r.json.entry[1], { status: '201 Created', type: 'Condition', resource: false });
  assert.equal((await read(`Patient/${pid}`)).status, 200);
});

test('transaction: an invalid last entry fails the whole request, nothing stored', async () => {
  const before = await systemHistoryTotal(node);
  const P = 'urn:uuid:6f1c3d4e-0000-4000-8000-000000000010';
  const bad = sampleResource('Observation', { subject: { reference: P } });
  delete bad.status;
  const r = await send('transaction', [
    { fullUrl: P, ...post(patient('A1')) },
    post(sampleResource('Condition', { subject: { reference: P } })),
    put(sampleResource('Patient', { id: 'atomic-a1' })),
    post(bad),
  ]);
  const oo = assertOutcome(r, 400, { expression: 'Bundle.entry[3].resource.status' });
  assert.equal(await systemHistoryTotal(node), before, 'nothing stored');
  assert.deepEqual(await patientsWith('A1'), []);
  assert.equal((await read('Patient/atomic-a1')).status, 404);
  assert.ok(oo.issue[0].diagnostics.startsWith('entry[3] (POST Observation):'),
    `diagnostics name the entry: ${oo.issue[0].diagnostics}`);
});

test('transaction: a failure inside the database transaction (ifMatch) undoes every write before it', async () => {
  await putResources(node, [
    sampleResource('Patient', { id: 'atomic-upd', gender: 'female' }),
    sampleResource('Patient', { id: 'atomic-del' }),
    sampleResource('Patient', { id: 'atomic-lock' }),
  ]);
  await putResources(node, [sampleResource('Patient', { id: 'atomic-lock', gender: 'other' })]);   // now version 2
  const before = await systemHistoryTotal(node);
  const r = await send('transaction', [
    post(patient('A2')),
    put(sampleResource('Patient', { id: 'atomic-upd', gender: 'male' })),
    del('Patient/atomic-del'),
    put(sampleResource('Patient', { id: 'atomic-lock', gender: 'male' }), 'Patient/atomic-lock', { ifMatch: 'W/"1"' }),
  ]);
  await assertTxnFailed(r, 412, 3, 'PUT', 'Patient/atomic-lock', before);
  assert.deepEqual(await patientsWith('A2'), [], 'the create was undone');
  const upd = await read('Patient/atomic-upd');
  assert.equal(upd.json.meta.versionId, '1', 'the update was undone');
  assert.equal(upd.json.gender, 'female');
  assert.equal((await read('Patient/atomic-del')).status, 200, 'the delete was undone');
  assert.equal((await read('Patient/atomic-lock')).json.meta.versionId, '2');
  // the same with the right version goes through
  const ok = await send('transaction', [
    put(sampleResource('Patient', { id: 'atomic-lock', gender: 'male' }), 'Patient/atomic-lock', { ifMatch: 'W/"2"' }),
  ]);
  assert.equal(ok.status, 200, ok.text);
  assertWritten(ok.json.entry[0], { status: '200 OK', type: 'Patient', version: 3 });
});

test('transaction: a failing GET fails the transaction, and the writes with it', async () => {
  await putResources(node, [sampleResource('Patient', { id: 'get-fail-upd', gender: 'female' })]);
  const before = await systemHistoryTotal(node);
  const r = await send('transaction', [
    post(patient('GETFAIL-1')),
    put(sampleResource('Patient', { id: 'get-fail-upd', gender: 'male' })),
    get('Patient/get-fail-nobody'),
  ]);
  assertOutcome(r, 404);
  assert.match(r.json.issue[0].diagnostics, /^entry\[2\] \(GET Patient\/get-fail-nobody\):/);
  assert.deepEqual(await patientsWith('GETFAIL-1'), [], 'the create was undone');
  assert.equal((await read('Patient/get-fail-upd')).json.gender, 'female', 'the update was undone');
  assert.equal(await systemHistoryTotal(node), before, 'nothing stored');
});

test('transaction: concurrent conditional creates of one patient make one patient, references all to it, none refused', async () => {
  // Each transaction resolves its condition before it runs; when another
  // one created the patient meanwhile, it is prepared again and runs as if
  // it had come after: no client is told to send it again.
  const P = 'urn:uuid:6f1c3d4e-0000-4000-8000-000000000040';
  const txn = () => send('transaction', [
    { fullUrl: P, ...post(patient('RACE-1'), { ifNoneExist: `identifier=${MRN}|RACE-1` }) },
    post(sampleResource('Observation', { subject: { reference: P } })),
  ]);
  const rs = await Promise.all(Array.from({ length: 24 }, txn));
  const ids = await patientsWith('RACE-1');
  assert.equal(ids.length, 1, `one patient, not ${ids.length}`);
  const created = [];
  for (const r of rs) {
    assert.equal(r.status, 200, r.text);
    created.push(r.json.entry[0].response.status);
    assert.equal(r.json.entry[0].resource.id, ids[0]);
    assert.deepEqual(r.json.entry[1].resource.subject, { reference: `Patient/${ids[0]}` });
  }
  assert.equal(created.filter((s) => s.startsWith('201')).length, 1, `one created: ${created}`);
  assert.equal(created.filter((s) => s.startsWith('200')).length, 23, `the others found it: ${created}`);
  const obs = await fhir(node, 'GET', `Observation?subject=${ids[0]}&_summary=count`);
  assert.equal(obs.json.total, 24, 'one Observation per transaction, all on the one patient');
});

test('transaction: processing order is DELETE, POST, PUT, then GET; answers in request order', async () => {
  await putResources(node, [sampleResource('Patient', { id: 'order-p', gender: 'female' }), sampleResource('Condition', { id: 'order-c' })]);
  const r = await send('transaction', [
    get('Patient/order-p'),
    put(sampleResource('Patient', { id: 'order-p', gender: 'male' })),
    post(sampleResource('Observation', { subject: { reference: 'Patient/order-p' } })),
    del('Condition/order-c'),
    get('Patient/order-p/_history/1'),
  ]);
  assert.equal(r.status, 200, r.text);
  const [g, p, o, d, v] = r.json.entry;
  // the GET ran after the PUT
  assert.equal(g.response.status, '200 OK');
  assert.equal(g.resource.meta.versionId, '2');
  assert.equal(g.resource.gender, 'male');
  assert.equal(g.response.etag, 'W/"2"');
  assertWritten(p, { status: '200 OK', type: 'Patient', version: 2 });
  assertWritten(o, { status: '201 Created', type: 'Observation' });
  assert.match(d.response.status, /^204/);
  assert.equal(d.resource, undefined);
  assert.equal(v.resource.meta.versionId, '1');
  assert.equal(v.resource.gender, 'female');
  assert.equal((await read('Condition/order-c')).status, 410);
});

test('transaction: ifNoneExist that matches gives 200 with the existing resource; references to it resolve to it', async () => {
  await putResources(node, [patient('INE-1', { id: 'ine-existing' })]);
  const before = await systemHistoryTotal(node);
  const P = 'urn:uuid:6f1c3d4e-0000-4000-8000-000000000020';
  const r = await send('transaction', [
    { fullUrl: P, ...post(patient('INE-1', { gender: 'male' }), { ifNoneExist: `identifier=${MRN}|INE-1` }) },
    post(sampleResource('Flag', { subject: { reference: P } })),
  ]);
  assert.equal(r.status, 200, r.text);
  const [e0, e1] = r.json.entry;
  assert.equal(e0.response.status, '200 OK');
  assert.equal(e0.response.location, 'Patient/ine-existing/_history/1');
  assert.equal(e0.resource.id, 'ine-existing');
  assert.equal(e0.resource.gender, 'female', 'the stored resource, not the posted one');
  const fid = assertWritten(e1, { status: '201 Created', type: 'Flag' });
  assert.deepEqual((await read(`Flag/${fid}`)).json.subject, { reference: 'Patient/ine-existing' });
  assert.equal(await systemHistoryTotal(node), before + 1, 'only the Flag was created');
  assert.deepEqual(await patientsWith('INE-1'), ['ine-existing']);
});

test('transaction: ifNoneExist matching two resources fails the transaction with 412', async () => {
  await putResources(node, [patient('INE-2', { id: 'ine-two-a' }), patient('INE-2', { id: 'ine-two-b' })]);
  const before = await systemHistoryTotal(node);
  const r = await send('transaction', [
    post(patient('INE-3')),
    post(patient('INE-2'), { ifNoneExist: `identifier=${MRN}|INE-2` }),
  ]);
  await assertTxnFailed(r, 412, 1, 'POST', 'Patient', before);
  assert.deepEqual(await patientsWith('INE-3'), []);
});

test('transaction: conditional references are resolved, also to a resource created by the same transaction', async () => {
  await putResources(node, [sampleResource('Patient', { id: 'cref-nhs', identifier: [{ system: NHS_SYSTEM, value: '9434765919' }] })]);
  const r = await send('transaction', [
    post(sampleResource('Observation', { subject: { reference: `Patient?identifier=${NHS_SYSTEM}|9434765919` } })),
    post(sampleResource('Condition', { subject: { reference: `Patient?identifier=${MRN}|CREF-NEW` } })),
    post(patient('CREF-NEW'), { ifNoneExist: `identifier=${MRN}|CREF-NEW` }),
  ]);
  assert.equal(r.status, 200, r.text);
  const oid = assertWritten(r.json.entry[0], { status: '201 Created', type: 'Observation' });
  const cid = assertWritten(r.json.entry[1], { status: '201 Created', type: 'Condition' });
  const pid = assertWritten(r.json.entry[2], { status: '201 Created', type: 'Patient' });
  assert.deepEqual((await read(`Observation/${oid}`)).json.subject, { reference: 'Patient/cref-nhs' });
  assert.deepEqual((await read(`Condition/${cid}`)).json.subject, { reference: `Patient/${pid}` });
  assert.deepEqual(r.json.entry[1].resource.subject, { reference: `Patient/${pid}` });
});

test('transaction: a conditional reference that matches nothing, or several, fails it; nothing stored', async () => {
  await putResources(node, [patient('CREF-2', { id: 'cref-two-a' }), patient('CREF-2', { id: 'cref-two-b' })]);
  const before = await systemHistoryTotal(node);
  let r = await send('transaction', [
    post(patient('CREF-X')),
    post(sampleResource('Observation', { subject: { reference: `Patient?identifier=${MRN}|NOBODY` } })),
  ]);
  const oo = assertOutcome(r, r.status);
  assert.ok([400, 404, 412, 422].includes(r.status), `a client error, not ${r.status}`);
  assert.match(oo.issue[0].diagnostics, /^entry\[1\] \(POST Observation\):/);
  r = await send('transaction', [
    post(patient('CREF-X')),
    post(sampleResource('Observation', { subject: { reference: `Patient?identifier=${MRN}|CREF-2` } })),
  ]);
  await assertTxnFailed(r, 412, 1, 'POST', 'Observation', before);
  assert.deepEqual(await patientsWith('CREF-X'), []);
});

// a condition with its value percent-encoded, as a URL query carries it
const cond = (value) => `identifier=${encodeURIComponent(`${MRN}|${value}`)}`;

test('transaction: conditional PUT creates (0 matches), updates (1), or fails with 412 (2+)', async () => {
  await putResources(node, [patient('CPUT-1', { id: 'cput-one', gender: 'female' })]);
  let r = await send('transaction', [
    put(patient('CPUT-NEW', { gender: 'male' }), `Patient?${cond('CPUT-NEW')}`),
    put(patient('CPUT-1', { gender: 'male' }), `Patient?${cond('CPUT-1')}`),
  ]);
  assert.equal(r.status, 200, r.text);
  const created = assertWritten(r.json.entry[0], { status: '201 Created', type: 'Patient' });
  assert.deepEqual(await patientsWith('CPUT-NEW'), [created]);
  const updated = assertWritten(r.json.entry[1], { status: '200 OK', type: 'Patient', version: 2 });
  assert.equal(updated, 'cput-one');
  assert.equal((await read('Patient/cput-one')).json.gender, 'male');

  await putResources(node, [patient('CPUT-2', { id: 'cput-two-a' }), patient('CPUT-2', { id: 'cput-two-b' })]);
  const before = await systemHistoryTotal(node);
  r = await send('transaction', [
    post(patient('CPUT-Y')),
    put(patient('CPUT-2', { gender: 'other' }), `Patient?${cond('CPUT-2')}`),
  ]);
  await assertTxnFailed(r, 412, 1, 'PUT', `Patient?${cond('CPUT-2')}`, before);
  assert.deepEqual(await patientsWith('CPUT-Y'), []);
  assert.equal((await read('Patient/cput-two-a')).json.meta.versionId, '1');
});

test('transaction: conditional DELETE', async () => {
  await putResources(node, [
    patient('CDEL-1', { id: 'cdel-one' }),
    patient('CDEL-2', { id: 'cdel-two-a' }), patient('CDEL-2', { id: 'cdel-two-b' }),
  ]);
  let r = await send('transaction', [del(`Patient?${cond('CDEL-1')}`), del(`Patient?${cond('CDEL-NONE')}`)]);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.entry[0].response.status, /^204/);
  assert.match(r.json.entry[1].response.status, /^(200|204)/, 'no match: nothing to delete');
  assert.equal((await read('Patient/cdel-one')).status, 410);

  const before = await systemHistoryTotal(node);
  r = await send('transaction', [post(patient('CDEL-Z')), del(`Patient?${cond('CDEL-2')}`)]);
  await assertTxnFailed(r, 412, 1, 'DELETE', `Patient?${cond('CDEL-2')}`, before);
  assert.equal((await read('Patient/cdel-two-a')).status, 200);
  assert.equal((await read('Patient/cdel-two-b')).status, 200);
});

test('transaction: conditional PUT and DELETE urls written as in the spec (system URL not encoded)', async () => {
  // https://hl7.org/fhir/R4/bundle-transaction.json.html: "url": "Patient?identifier=http:/example.org/fhir/ids|234234"
  await putResources(node, [patient('RAW-1', { id: 'raw-one' }), patient('RAW-2', { id: 'raw-two' })]);
  const r = await send('transaction', [
    put(patient('RAW-1', { gender: 'male' }), `Patient?identifier=${MRN}|RAW-1`),
    put(patient('RAW-NEW'), `Patient?identifier=${MRN}|RAW-NEW`),
    del(`Patient?identifier=${MRN}|RAW-2`),
  ]);
  assert.equal(r.status, 200, r.text);
  assertWritten(r.json.entry[0], { status: '200 OK', type: 'Patient', version: 2 });
  const created = assertWritten(r.json.entry[1], { status: '201 Created', type: 'Patient' });
  assert.match(r.json.entry[2].response.status, /^204/);
  assert.equal((await read('Patient/raw-one')).json.gender, 'male');
  assert.deepEqual(await patientsWith('RAW-NEW'), [created]);
  assert.equal((await read('Patient/raw-two')).status, 410);
});

test('transaction: two entries acting on the same resource are a 400', async () => {
  await putResources(node, [patient('TWICE-1', { id: 'twice' })]);
  const before = await systemHistoryTotal(node);
  let r = await send('transaction', [
    put(sampleResource('Patient', { id: 'twice', gender: 'male' })),
    put(sampleResource('Patient', { id: 'twice', gender: 'other' })),
  ]);
  assertOutcome(r, 400);
  r = await send('transaction', [
    put(patient('TWICE-1', { gender: 'male' }), `Patient?${cond('TWICE-1')}`),
    del('Patient/twice'),
  ]);
  assertOutcome(r, 400);
  assert.equal(await systemHistoryTotal(node), before);
  assert.equal((await read('Patient/twice')).json.meta.versionId, '1');
});

test('transaction: free text is not a reference, even when it looks like one', async () => {
  await putResources(node, [patient('TEXT-1', { id: 'text-one' })]);
  const P = 'urn:uuid:6f1c3d4e-0000-4000-8000-000000000030';
  const texts = ['Medication?', 'Location? none recorded', `Patient?identifier=${MRN}|TEXT-1`];
  const r = await send('transaction', [
    { fullUrl: P, ...post(patient('TEXT-2')) },
    ...texts.map((t) => post(sampleResource('Observation', { valueQuantity: undefined, valueString: t, subject: { reference: P } }))),
    post(sampleResource('Questionnaire', { item: [{ linkId: 'q1', type: 'string', text: 'Medication? Which ones?' }] })),
  ]);
  assert.equal(r.status, 200, r.text);
  for (let i = 0; i < texts.length; i++) {
    const id = assertWritten(r.json.entry[i + 1], { status: '201 Created', type: 'Observation' });
    assert.equal((await read(`Observation/${id}`)).json.valueString, texts[i], 'the text stored as sent');
  }
  const q = assertWritten(r.json.entry[4], { status: '201 Created', type: 'Questionnaire' });
  assert.equal((await read(`Questionnaire/${q}`)).json.item[0].text, 'Medication? Which ones?');
});

test('more than 1000 entries is a 413, nothing stored, and the server carries on', async () => {
  // a node of its own: a crash here must not take the other tests with it
  const own = await startNode();
  try {
    const total = async () => (await fhir(own, 'GET', '_history?_count=1')).json.total;
    const before = await total();
    const entry = Array.from({ length: 1001 }, (_, i) => post(patient(`MAX-${i}`)));
    const r = await fhir(own, 'POST', '/fhir', { body: bundle('transaction', entry) });
    assertOutcome(r, 413);
    await assertAlive(own);
    assert.equal(await total(), before);
    const b = await fhir(own, 'POST', '/fhir', { body: bundle('batch', entry) });
    assertOutcome(b, 413);
    await assertAlive(own);
    assert.equal(await total(), before);
    // 1000 is allowed
    const ok = await fhir(own, 'POST', '/fhir', { body: bundle('transaction', entry.slice(1)) });
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.equal(ok.json.entry.length, 1000);
    assert.equal(await total(), before + 1000);
  } finally {
    await own.close();
  }
});

test('bundles the server refuses as a whole', async () => {
  const before = await systemHistoryTotal(node);
  assertOutcome(await fhir(node, 'POST', '/fhir', { body: sampleResource('Patient') }), 400);
  assertOutcome(await send('collection', [post(patient('REF-1'))]), 400);
  assertOutcome(await fhir(node, 'POST', '/fhir', { body: { resourceType: 'Bundle', entry: [post(patient('REF-1'))] } }), 400);
  assertOutcome(await send('transaction', [{ resource: patient('REF-1') }]), 400);
  assertOutcome(await send('transaction', [{ resource: patient('REF-1'), request: { method: 'PATCH', url: 'Patient/x' } }]), 400);
  assertOutcome(await send('transaction', [post(patient('REF-1')), { resource: patient('REF-1'), request: { method: 'POST', url: 'Nope' } }]), 400);
  assertOutcome(await send('transaction', [{ resource: sampleResource('Observation'), request: { method: 'POST', url: 'Patient' } }]), 400);
  assertOutcome(await send('transaction', [{ resource: patient('REF-1'), request: { method: 'POST', url: 'Patient/abc' } }]), 400);
  assertOutcome(await send('transaction', [{ resource: patient('REF-1'), request: { method: 'PUT', url: 'Patient' } }]), 400);
  assertOutcome(await fhir(node, 'POST', '/fhir', { body: '{"resourceType":"Bundle","type":"transaction","entry":[' }), 400);
  assert.equal(await systemHistoryTotal(node), before);
  assert.deepEqual(await patientsWith('REF-1'), []);
});

// ---- batch -------------------------------------------------------------------------

test('batch: every entry on its own, each with its status, failures with an outcome', async () => {
  await putResources(node, [sampleResource('Patient', { id: 'batch-x' }), sampleResource('Patient', { id: 'batch-del' })]);
  const before = await systemHistoryTotal(node);
  const r = await send('batch', [
    post(patient('BATCH-1')),
    { resource: patient('BATCH-2'), request: { method: 'POST', url: 'Nope' } },
    put(sampleResource('Patient', { id: 'batch-x', gender: 'male' }), 'Patient/batch-x', { ifMatch: 'W/"7"' }),
    get('Patient/batch-nobody'),
    del('Patient/batch-del'),
    get('Patient/batch-x'),
    put(sampleResource('Patient', { id: 'batch-y' })),
  ]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'batch-response');
  const e = r.json.entry;
  assert.equal(e.length, 7);
  const pid = assertWritten(e[0], { status: '201 Created', type: 'Patient' });
  assert.match(e[1].response.status, /^400/);
  assert.match(e[2].response.status, /^412/);
  assert.match(e[3].response.status, /^404/);
  assert.match(e[4].response.status, /^204/);
  assert.equal(e[5].response.status, '200 OK');
  assert.equal(e[5].resource.id, 'batch-x');
  assert.equal(e[5].resource.meta.versionId, '1');
  assertWritten(e[6], { status: '201 Created', type: 'Patient' });
  for (const i of [1, 2, 3]) {
    const oo = e[i].response.outcome;
    assert.equal(oo?.resourceType, 'OperationOutcome', `entry ${i} has an outcome`);
    validateFhir(oo);
    assert.match(oo.issue[0].diagnostics, new RegExp(`^entry\\[${i}\\] `));
    assert.equal(e[i].resource, undefined);
  }
  assert.deepEqual(await patientsWith('BATCH-1'), [pid]);
  assert.equal((await read('Patient/batch-del')).status, 410);
  assert.equal((await read('Patient/batch-x')).json.meta.versionId, '1');
  assert.equal(await systemHistoryTotal(node), before + 3, 'the create, the delete and the PUT, nothing else');
  assert.deepEqual(await patientsWith('BATCH-2'), []);
});

test('batch: an invalid resource fails its own entry only', async () => {
  const bad = sampleResource('Observation');
  delete bad.status;
  const before = await systemHistoryTotal(node);
  const r = await send('batch', [post(patient('BATCH-3')), post(bad), post(patient('BATCH-4'))]);
  assert.equal(r.status, 200, r.text);
  const e = r.json.entry;
  const a = assertWritten(e[0], { status: '201 Created', type: 'Patient' });
  assert.match(e[1].response.status, /^400/);
  assert.equal(e[1].response.outcome?.issue?.[0]?.expression?.[0], 'Bundle.entry[1].resource.status');
  const b = assertWritten(e[2], { status: '201 Created', type: 'Patient' });
  assert.deepEqual(await patientsWith('BATCH-3'), [a]);
  assert.deepEqual(await patientsWith('BATCH-4'), [b]);
  assert.equal(await systemHistoryTotal(node), before + 2);
});

// ---- single-resource conditional update and delete -----------------------------

test('PUT /fhir/T?identifier=: 0 matches creates, 1 updates, 2+ is 412', async () => {
  const url = (v) => `Patient?identifier=${encodeURIComponent(`${MRN}|${v}`)}`;
  let r = await fhir(node, 'PUT', url('CU-1'), { body: patient('CU-1', { gender: 'male' }) });
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  assert.equal(r.headers.location, `${node.fhirBase}/Patient/${id}/_history/1`);
  assert.deepEqual(await patientsWith('CU-1'), [id]);
  r = await fhir(node, 'PUT', url('CU-1'), { body: patient('CU-1', { gender: 'other' }) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, id);
  assert.equal(r.json.meta.versionId, '2');
  assert.equal(r.headers.etag, 'W/"2"');
  assert.equal((await read(`Patient/${id}`)).json.gender, 'other');
  // a body id that is not the matched resource's
  assertOutcome(await fhir(node, 'PUT', url('CU-1'), { body: patient('CU-1', { id: 'someone-else' }) }), 400);
  // the body's id may name the match
  r = await fhir(node, 'PUT', url('CU-1'), { body: patient('CU-1', { id, gender: 'female' }) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.meta.versionId, '3');

  await putResources(node, [patient('CU-2', { id: 'cu-two-a' }), patient('CU-2', { id: 'cu-two-b' })]);
  const before = await systemHistoryTotal(node);
  assertOutcome(await fhir(node, 'PUT', url('CU-2'), { body: patient('CU-2') }), 412);
  assert.equal(await systemHistoryTotal(node), before);
});

test('DELETE /fhir/T?identifier=: one match is deleted, 2+ is 412', async () => {
  const url = (v) => `Patient?identifier=${encodeURIComponent(`${MRN}|${v}`)}`;
  await putResources(node, [
    patient('CD-1', { id: 'cd-one' }),
    patient('CD-2', { id: 'cd-two-a' }), patient('CD-2', { id: 'cd-two-b' }),
  ]);
  let r = await fhir(node, 'DELETE', url('CD-1'));
  assert.ok([200, 204].includes(r.status), `${r.status} ${r.text}`);
  assert.equal((await read('Patient/cd-one')).status, 410);
  assert.deepEqual(await patientsWith('CD-1'), []);
  const before = await systemHistoryTotal(node);
  assertOutcome(await fhir(node, 'DELETE', url('CD-2')), 412);
  assert.equal(await systemHistoryTotal(node), before);
  assert.equal((await read('Patient/cd-two-a')).status, 200);
  r = await fhir(node, 'DELETE', url('CD-NONE'));
  assert.ok([200, 204, 404].includes(r.status), `no match: ${r.status} ${r.text}`);
  assert.equal(await systemHistoryTotal(node), before);
});

// ---- HL7's examples through one transaction -----------------------------------

test('the official R4 examples round-trip through a transaction', async () => {
  const DIR = path.join(ROOT, 'node_modules/hl7.fhir.r4.examples');
  const INVALID = 'Questionnaire-qs1.json';   // not valid R4 (see examples.test.mjs)
  const files = fs.readdirSync(DIR).filter((f) => {
    const m = /^([A-Za-z]+)-(.+)\.json$/.exec(f);
    return m && SUPPORTED_TYPES.includes(m[1]);
  }).sort();
  assert.ok(files.length >= 300, `${files.length} examples`);
  const ex = new Map(files.map((f) => [f, JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'))]));
  const good = files.filter((f) => f !== INVALID);
  const examples = await startNode();
  try {
    const entry = good.map((f) => put(ex.get(f)));
    const r = await fhir(examples, 'POST', '/fhir', { body: bundle('transaction', entry) });
    assert.equal(r.status, 200, r.text.slice(0, 1000));
    assert.equal(r.json.entry.length, good.length);
    for (const [i, f] of good.entries()) {
      const res = ex.get(f);
      const e = r.json.entry[i];
      assert.equal(e.response.status, '201 Created', f);
      assert.equal(e.response.location, `${res.resourceType}/${res.id}/_history/1`, f);
      const back = await fhir(examples, 'GET', `${res.resourceType}/${res.id}`);
      assert.equal(back.status, 200, f);
      assert.deepEqual(withoutServerMeta(back.json), withoutServerMeta(res), `${f} reads back as it was sent`);
    }
    // with the one invalid example in it, the whole transaction fails and names it
    const all = files.map((f) => put(ex.get(f)));
    const bad = files.indexOf(INVALID);
    const before = (await fhir(examples, 'GET', '_history?_count=1')).json.total;
    const r2 = await fhir(examples, 'POST', '/fhir', { body: bundle('transaction', all) });
    assertOutcome(r2, 400, { expression: `Bundle.entry[${bad}].resource.item[0].item[0].linkId` });
    assert.equal((await fhir(examples, 'GET', '_history?_count=1')).json.total, before, 'no example was updated');
  } finally {
    await examples.close();
  }
});
