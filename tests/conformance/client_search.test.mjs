// client_search.test.mjs: a third-party FHIR client (fhir-kit-client)
// against a live node: a transaction with urn:uuid references, a batch,
// search (GET and POST _search) with paging through nextPage/prevPage,
// _include, and Patient/$everything (instance and type level), the way an
// application would use them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, RESPONSE_KEY } from 'fhir-kit-client';
import { startNode, validateFhir, sampleResource, NHS_SYSTEM } from '../integration/lib.mjs';

let node;
let client;
let patientId;
const obsIds = [];
const NHS = '9434765919';

const v = (r) => { validateFhir(r); return r; };
const matchIds = (b) => (b.entry || []).filter((e) => e.search?.mode === 'match').map((e) => e.resource.id);

before(async () => {
  node = await startNode();
  client = new Client({
    baseUrl: node.fhirBase,
    customHeaders: { Authorization: `Bearer ${node.token()}` },
  });
});
after(async () => { await node?.close(); });

test('transaction: a patient and 23 observations referring to it by urn:uuid', async () => {
  const P = 'urn:uuid:0c4e6c1e-1a2b-4c3d-8e9f-000000000001';
  const entry = [{
    fullUrl: P,
    resource: sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: NHS }], name: [{ family: 'Kitclient' }] }),
    request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS_SYSTEM}|${NHS}` },
  }];
  for (let i = 0; i < 23; i++) {
    entry.push({
      resource: sampleResource('Observation', {
        subject: { reference: P }, effectiveDateTime: `2024-02-${String(i + 1).padStart(2, '0')}`,
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      }),
      request: { method: 'POST', url: 'Observation' },
    });
  }
  const res = v(await client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry } }));
  assert.equal(res[RESPONSE_KEY].status, 200);
  assert.equal(res.type, 'transaction-response');
  assert.equal(res.entry.length, 24);
  assert.ok(res.entry.every((e) => e.response.status === '201 Created'), JSON.stringify(res.entry.map((e) => e.response.status)));
  patientId = res.entry[0].resource.id;
  for (const e of res.entry.slice(1)) {
    assert.equal(e.resource.subject.reference, `Patient/${patientId}`);
    obsIds.push(e.resource.id);
  }
  // the same patient again: ifNoneExist finds it, nothing new
  const again = v(await client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: [entry[0]] } }));
  assert.equal(again.entry[0].response.status, '200 OK');
  assert.equal(again.entry[0].resource.id, patientId);
});

test('search with paging: nextPage to the end, prevPage back', async () => {
  let page = v(await client.search({
    resourceType: 'Observation', searchParams: { subject: `Patient/${patientId}`, _count: 5, _sort: 'date' },
  }));
  assert.equal(page.type, 'searchset');
  assert.equal(page.total, 23);
  const pages = [page];
  while (page.link.some((l) => l.relation === 'next')) {
    page = v(await client.nextPage({ bundle: page }));
    pages.push(page);
    assert.ok(pages.length <= 10, 'the paging ends');
  }
  assert.deepEqual(pages.map((p) => p.entry.length), [5, 5, 5, 5, 3]);
  const ids = pages.flatMap(matchIds);
  assert.deepEqual([...ids].sort(), [...obsIds].sort(), 'every observation once');
  const dates = pages.flatMap((p) => p.entry.map((e) => e.resource.effectiveDateTime));
  assert.deepEqual(dates, [...dates].sort(), '_sort=date across pages');
  // back again
  const back = v(await client.prevPage({ bundle: pages.at(-1) }));
  assert.deepEqual(matchIds(back), matchIds(pages.at(-2)));
  assert.equal(await client.nextPage({ bundle: pages.at(-1) }), undefined, 'no page after the last');
});

test('POST _search, repeated parameters and _include through the client', async () => {
  const viaPost = v(await client.search({
    resourceType: 'Observation',
    searchParams: { subject: patientId, date: ['ge2024-02-10', 'lt2024-02-13'], _include: 'Observation:subject' },
    options: { postSearch: true },
  }));
  assert.equal(viaPost.total, 3);
  const dates = viaPost.entry.filter((e) => e.search.mode === 'match').map((e) => e.resource.effectiveDateTime).sort();
  assert.deepEqual(dates, ['2024-02-10', '2024-02-11', '2024-02-12']);
  const inc = viaPost.entry.filter((e) => e.search.mode === 'include');
  assert.deepEqual(inc.map((e) => e.resource.id), [patientId]);
  const viaGet = v(await client.search({
    resourceType: 'Observation',
    searchParams: { subject: patientId, date: ['ge2024-02-10', 'lt2024-02-13'], _include: 'Observation:subject' },
  }));
  assert.deepEqual(matchIds(viaGet).sort(), matchIds(viaPost).sort());
  // a search by the NHS number
  const p = v(await client.search({ resourceType: 'Patient', searchParams: { identifier: `${NHS_SYSTEM}|${NHS}` } }));
  assert.deepEqual(matchIds(p), [patientId]);
});

test('an unknown search parameter: the client sees a 400 with an OperationOutcome', async () => {
  try {
    await client.search({ resourceType: 'Observation', searchParams: { nope: 'x' } });
    assert.fail('the search should have been refused');
  } catch (e) {
    assert.equal(e.response?.status, 400, e.message);
    validateFhir(e.response.data);
    assert.equal(e.response.data.resourceType, 'OperationOutcome');
  }
});

test('batch through the client', async () => {
  const res = v(await client.batch({
    body: {
      resourceType: 'Bundle', type: 'batch', entry: [
        { request: { method: 'GET', url: `Patient/${patientId}` } },
        { request: { method: 'GET', url: 'Patient/no-such-patient' } },
        { resource: sampleResource('Condition', { subject: { reference: `Patient/${patientId}` } }), request: { method: 'POST', url: 'Condition' } },
      ],
    },
  }));
  assert.equal(res.type, 'batch-response');
  assert.equal(res.entry[0].response.status, '200 OK');
  assert.equal(res.entry[0].resource.id, patientId);
  assert.match(res.entry[1].response.status, /^404/);
  assert.equal(res.entry[2].response.status, '201 Created');
});

test('Patient/$everything through client.operation, instance and type level, with nextPage', async () => {
  const all = v(await client.operation({ name: '$everything', resourceType: 'Patient', id: patientId, method: 'GET' }));
  assert.equal(all.type, 'searchset');
  assert.equal(all.entry[0].resource.resourceType, 'Patient');
  assert.equal(all.entry[0].resource.id, patientId);
  const refs = all.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`);
  for (const id of obsIds) assert.ok(refs.includes(`Observation/${id}`), `Observation/${id}`);
  assert.equal(new Set(refs).size, refs.length, 'each once');
  assert.equal(refs.filter((r) => r.startsWith('Condition/')).length, 1);

  let page = v(await client.operation({
    name: 'everything', resourceType: 'Patient', method: 'GET',
    input: { identifier: `${NHS_SYSTEM}|${NHS}`, _count: 6 },
  }));
  const paged = [];
  for (let guard = 0; page && guard < 20; guard++) {
    paged.push(...page.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`));
    page = await client.nextPage({ bundle: page });
    if (page) v(page);
  }
  assert.deepEqual(paged, refs, 'the pages by NHS number hold the same record in the same order');

  try {
    await client.operation({ name: '$everything', resourceType: 'Patient', id: 'no-such-patient', method: 'GET' });
    assert.fail('an unknown patient is not a 200');
  } catch (e) {
    assert.equal(e.response?.status, 404, e.message);
  }
});
