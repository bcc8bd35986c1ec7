// client.test.mjs: a real third-party FHIR client (fhir-kit-client) drives
// the API: capabilities, create, read, update, vread, history (instance,
// type, system, paging), delete, and the errors it sees.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, RESPONSE_KEY } from 'fhir-kit-client';
import { startNode, validateFhir, sampleResource, NHS_SYSTEM } from '../integration/lib.mjs';

let node;
let client;
before(async () => {
  node = await startNode();
  client = new Client({
    baseUrl: node.fhirBase,
    customHeaders: { Authorization: `Bearer ${node.token()}` },
  });
});
after(async () => { await node?.close(); });

// The HTTP status of a rejected client call (fhir-kit-client throws on 4xx).
async function rejectedStatus(p) {
  try {
    await p;
  } catch (e) {
    assert.ok(e.response, `a response error, not ${e.message}`);
    if (e.response.data && typeof e.response.data === 'object') {
      validateFhir(e.response.data);
      assert.equal(e.response.data.resourceType, 'OperationOutcome');
    }
    return e.response.status;
  }
  assert.fail('the call should have been refused');
}

const v = (r) => { validateFhir(r); return r; };

test('capabilityStatement', async () => {
  const cap = v(await client.capabilityStatement());
  assert.equal(cap.resourceType, 'CapabilityStatement');
  assert.equal(cap.fhirVersion, '4.0.1');
});

test('create, read, update, vread, history, delete', async () => {
  const patient = sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: '9434765919' }] });
  const created = v(await client.create({ resourceType: 'Patient', body: patient }));
  assert.equal(created[RESPONSE_KEY].status, 201);
  assert.match(created[RESPONSE_KEY].headers.get('location'), new RegExp(`/Patient/${created.id}/_history/1$`));
  assert.ok(created.id);
  assert.equal(created.meta.versionId, '1');
  assert.deepEqual(created.identifier, patient.identifier);

  const read = v(await client.read({ resourceType: 'Patient', id: created.id }));
  assert.deepEqual(read, created);
  assert.equal(read[RESPONSE_KEY].headers.get('etag'), 'W/"1"');

  const updated = v(await client.update({
    resourceType: 'Patient', id: created.id,
    body: { ...read, gender: 'other' },
    options: { headers: { 'If-Match': 'W/"1"' } },
  }));
  assert.equal(updated.meta.versionId, '2');
  assert.equal(updated.gender, 'other');

  // a stale If-Match through the client: 412
  assert.equal(await rejectedStatus(client.update({
    resourceType: 'Patient', id: created.id, body: { ...read, gender: 'male' },
    options: { headers: { 'If-Match': 'W/"1"' } },
  })), 412);

  const v1 = v(await client.vread({ resourceType: 'Patient', id: created.id, version: '1' }));
  assert.deepEqual(v1, created);
  const v2 = v(await client.vread({ resourceType: 'Patient', id: created.id, version: '2' }));
  assert.deepEqual(v2, updated);

  const hist = v(await client.history({ resourceType: 'Patient', id: created.id }));
  assert.equal(hist.type, 'history');
  assert.equal(hist.total, 2);
  assert.deepEqual(hist.entry.map((e) => e.resource.meta.versionId), ['2', '1']);

  const typeHist = v(await client.typeHistory({ resourceType: 'Patient' }));
  assert.ok(typeHist.total >= 2);
  assert.ok(typeHist.entry.every((e) => e.fullUrl.includes('/Patient/')));

  const del = v(await client.delete({ resourceType: 'Patient', id: created.id }));
  assert.equal(del.resourceType, 'OperationOutcome');
  assert.equal(await rejectedStatus(client.read({ resourceType: 'Patient', id: created.id })), 410);
  // old versions are still there for the client
  assert.deepEqual(v(await client.vread({ resourceType: 'Patient', id: created.id, version: '2' })), updated);
});

test('create-on-update through the client', async () => {
  const body = sampleResource('Observation', { id: 'client-obs-1' });
  const r = v(await client.update({ resourceType: 'Observation', id: 'client-obs-1', body }));
  assert.equal(r[RESPONSE_KEY].status, 201);
  assert.equal(r.id, 'client-obs-1');
});

test('system history with paging through next links', async () => {
  for (let i = 0; i < 5; i++) {
    await client.create({ resourceType: 'Condition', body: sampleResource('Condition') });
  }
  let page = v(await client.request('_history?_count=2'));
  const total = page.total;
  assert.ok(total >= 7);
  const seen = [...page.entry];
  let guard = 0;
  while (page.link.some((l) => l.relation === 'next') && guard++ < 100) {
    page = v(await client.nextPage({ bundle: page }));
    seen.push(...(page.entry || []));
  }
  assert.equal(seen.length, total);
  const all = v(await client.systemHistory());
  assert.equal(all.total, total);
});

test('errors the client sees: 404, 401, 400', async () => {
  assert.equal(await rejectedStatus(client.read({ resourceType: 'Patient', id: 'no-such-patient' })), 404);
  const anonymous = new Client({ baseUrl: node.fhirBase });
  assert.equal(await rejectedStatus(anonymous.read({ resourceType: 'Patient', id: 'x' })), 401);
  // metadata needs no token
  v(await anonymous.capabilityStatement());
  assert.equal(await rejectedStatus(client.create({
    resourceType: 'Patient', body: { resourceType: 'Patient', birthDate: '2020-13-01' },
  })), 400);
  assert.equal(await rejectedStatus(client.create({
    resourceType: 'Observation', body: { resourceType: 'Observation', code: { text: 'x' } },
  })), 400);
});
