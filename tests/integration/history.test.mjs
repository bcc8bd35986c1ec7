// history.test.mjs: instance, type and system history: Bundle shape,
// newest-first order, totals, paging by cursor, _count and _since.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, assertOutcome, sampleResource, sleep } from './lib.mjs';

let node;
// The node's own writes, in order: {type, id, version, method, lastUpdated}
const writes = [];

async function write(method, type, id, extra = {}) {
  let r;
  if (method === 'POST') {
    r = await fhir(node, 'POST', type, { body: sampleResource(type, extra) });
  } else if (method === 'PUT') {
    r = await fhir(node, 'PUT', `${type}/${id}`, { body: sampleResource(type, { id, ...extra }) });
  } else {
    r = await fhir(node, 'DELETE', `${type}/${id}`);
  }
  assert.ok([200, 201].includes(r.status), `${method} ${type}/${id ?? ''}: ${r.status} ${r.text}`);
  const version = Number(r.headers.etag.match(/^W\/"(\d+)"$/)[1]);
  const w = {
    type, id: r.json?.resourceType === type ? r.json.id : id, version, method,
    lastUpdated: r.json?.meta?.lastUpdated, text: r.json?.resourceType === type ? r.text : undefined,
  };
  writes.push(w);
  // distinct timestamps, so _since has something to cut between
  await sleep(3);
  return w;
}

const key = (e) => `${e.fullUrl}|${e.response?.etag}`;

function assertHistoryBundle(b, { total } = {}) {
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'history');
  if (total !== undefined) assert.equal(b.total, total, 'Bundle.total');
  const self = b.link?.find((l) => l.relation === 'self');
  assert.ok(self?.url?.startsWith(`${node.fhirBase}/`), `self link ${JSON.stringify(b.link)}`);
  for (const e of b.entry || []) {
    assert.match(e.fullUrl, new RegExp(`^${node.fhirBase}/[A-Za-z]+/[A-Za-z0-9.-]+$`));
    assert.ok(['POST', 'PUT', 'DELETE'].includes(e.request?.method), JSON.stringify(e.request));
    assert.match(e.response?.etag || '', /^W\/"\d+"$/);
    assert.match(e.response?.status || '', /^\d{3}/);
    if (e.request.method === 'DELETE') {
      assert.equal(e.resource, undefined, 'a deletion entry carries no resource');
    } else {
      assert.equal(`${node.fhirBase}/${e.resource.resourceType}/${e.resource.id}`, e.fullUrl);
      assert.equal(e.response.etag, `W/"${e.resource.meta.versionId}"`);
    }
  }
  // newest first
  const times = (b.entry || []).map((e) => Date.parse(e.response?.lastModified || e.resource?.meta?.lastUpdated));
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i - 1] >= times[i], `entries newest first: ${times}`);
  }
}

// Follow next links from 'first' (a path under /fhir); returns all entries.
async function allPages(first, { maxPages = 1000 } = {}) {
  const entries = [];
  let url = first;
  let total;
  for (let n = 0; url && n < maxPages; n++) {
    const r = await fhir(node, 'GET', url);
    assert.equal(r.status, 200, `${url}: ${r.text}`);
    assertHistoryBundle(r.json);
    if (total === undefined) total = r.json.total;
    assert.equal(r.json.total, total, 'total stays the same across pages');
    entries.push(...(r.json.entry || []));
    const next = r.json.link.find((l) => l.relation === 'next')?.url;
    if (next) assert.ok(next.startsWith(`${node.fhirBase}/`), `next link ${next}`);
    url = next ? next.slice(node.base.length) : null;
  }
  assert.equal(url, null, 'paging ends');
  return { entries, total };
}

before(async () => {
  node = await startNode({ config: { default_count: 4, max_count: 7 } });
  // 3 patients with updates and a deletion, observations, an organisation
  const p1 = await write('POST', 'Patient');
  await write('PUT', 'Patient', p1.id, { active: true });
  const p2 = await write('PUT', 'Patient', 'hist-p2');
  await write('POST', 'Observation');
  await write('PUT', 'Patient', p1.id, { active: false });
  await write('DELETE', 'Patient', p2.id);
  await write('POST', 'Organization');
  const o = await write('PUT', 'Observation', 'hist-o1');
  await write('PUT', 'Observation', o.id, { status: 'amended' });
  await write('POST', 'Patient');
});
after(async () => { await node?.close(); });

test('instance history: every version, newest first, deletions included', async () => {
  const p1 = writes[0];
  const r = await fhir(node, 'GET', `Patient/${p1.id}/_history`);
  assert.equal(r.status, 200, r.text);
  assertHistoryBundle(r.json, { total: 3 });
  assert.deepEqual(r.json.entry.map((e) => e.resource.meta.versionId), ['3', '2', '1']);
  assert.deepEqual(r.json.entry.map((e) => e.request.method), ['PUT', 'PUT', 'POST']);
  assert.deepEqual(r.json.entry.map((e) => e.response.status.slice(0, 3)), ['200', '200', '201']);
  // request.url: relative to the base, naming the type (a POST went to the type)
  assert.match(r.json.entry[2].request.url, new RegExp(`^Patient(/${p1.id})?$`));
  assert.equal(r.json.entry[0].request.url, `Patient/${p1.id}`);
  // each entry is exactly what vread serves
  for (const e of r.json.entry) {
    const v = await fhir(node, 'GET', `Patient/${p1.id}/_history/${e.resource.meta.versionId}`);
    assert.deepEqual(e.resource, v.json);
  }

  const d = await fhir(node, 'GET', 'Patient/hist-p2/_history');
  assertHistoryBundle(d.json, { total: 2 });
  assert.equal(d.json.entry[0].request.method, 'DELETE');
  assert.equal(d.json.entry[0].request.url, 'Patient/hist-p2');
  assert.equal(d.json.entry[0].response.etag, 'W/"2"');
  // create-on-update: a PUT (or a POST, to mark a creation) that answered 201
  assert.ok(['PUT', 'POST'].includes(d.json.entry[1].request.method));
  assert.equal(d.json.entry[1].request.url, 'Patient/hist-p2');
  assert.equal(d.json.entry[1].response.status.slice(0, 3), '201');
});

test('type history: that type only, all its versions, newest first', async () => {
  for (const type of ['Patient', 'Observation', 'Organization']) {
    const mine = writes.filter((w) => w.type === type);
    const { entries, total } = await allPages(`/fhir/${type}/_history`);
    assert.equal(total, mine.length, `${type} total`);
    assert.equal(entries.length, mine.length);
    for (const e of entries) assert.ok(e.fullUrl.startsWith(`${node.fhirBase}/${type}/`), e.fullUrl);
    const want = mine.slice().reverse().map((w) => `${node.fhirBase}/${w.type}/${w.id}|W/"${w.version}"`);
    assert.deepEqual(entries.map(key), want);
  }
  const none = await fhir(node, 'GET', 'Slot/_history');
  assert.equal(none.status, 200);
  assertHistoryBundle(none.json, { total: 0 });
  assert.equal((none.json.entry || []).length, 0);
});

test('system history: everything, newest first, in pages of default_count', async () => {
  const first = await fhir(node, 'GET', '_history');
  assert.equal(first.status, 200);
  assertHistoryBundle(first.json, { total: writes.length });
  assert.equal(first.json.entry.length, 4, 'default_count from the config');
  const { entries, total } = await allPages('/fhir/_history');
  assert.equal(total, writes.length);
  const want = writes.slice().reverse().map((w) => `${node.fhirBase}/${w.type}/${w.id}|W/"${w.version}"`);
  assert.deepEqual(entries.map(key), want);
  // served resources are the stored bytes
  for (const e of entries) {
    const w = writes.find((x) => `${node.fhirBase}/${x.type}/${x.id}|W/"${x.version}"` === key(e));
    if (w.text) assert.deepEqual(e.resource, JSON.parse(w.text));
  }
});

test('_count: page size, clamped to max_count; _count=0 gives only the total', async () => {
  for (const [count, size] of [[1, 1], [3, 3], [7, 7], [8, 7], [1000, 7]]) {
    const r = await fhir(node, 'GET', `_history?_count=${count}`);
    assert.equal(r.status, 200);
    assertHistoryBundle(r.json, { total: writes.length });
    assert.equal(r.json.entry.length, size, `_count=${count}`);
  }
  for (const count of [2, 3, 5]) {
    const { entries } = await allPages(`/fhir/_history?_count=${count}`);
    assert.equal(entries.length, writes.length, `all entries with _count=${count}`);
    assert.equal(new Set(entries.map(key)).size, writes.length, 'no entry twice');
  }
  const zero = await fhir(node, 'GET', '_history?_count=0');
  assert.equal(zero.status, 200);
  assert.equal(zero.json.total, writes.length);
  assert.equal((zero.json.entry || []).length, 0);
});

test('_since: only versions at or after the instant', async () => {
  const cut = writes[5]; // the deletion has no body; take the next one with a time
  const pivot = writes.slice(6).find((w) => w.lastUpdated);
  const idx = writes.indexOf(pivot);
  assert.ok(pivot && cut);
  const r = await allPages(`/fhir/_history?_since=${encodeURIComponent(pivot.lastUpdated)}&_count=2`);
  const want = writes.slice(idx).reverse().map((w) => `${node.fhirBase}/${w.type}/${w.id}|W/"${w.version}"`);
  assert.equal(r.total, want.length);
  assert.deepEqual(r.entries.map(key), want);
  for (const e of r.entries) {
    const t = Date.parse(e.response.lastModified || e.resource.meta.lastUpdated);
    assert.ok(t >= Date.parse(pivot.lastUpdated));
  }

  const typeSince = await fhir(node, 'GET', `Observation/_history?_since=${encodeURIComponent(pivot.lastUpdated)}`);
  assert.equal(typeSince.json.total, writes.slice(idx).filter((w) => w.type === 'Observation').length);

  const future = await fhir(node, 'GET', '_history?_since=2999-01-01T00:00:00Z');
  assert.equal(future.status, 200);
  assertHistoryBundle(future.json, { total: 0 });
  const past = await fhir(node, 'GET', '_history?_since=2000-01-01T00:00:00Z');
  assert.equal(past.json.total, writes.length);
  const offset = await fhir(node, 'GET', `_history?_since=${encodeURIComponent('2000-01-01T01:00:00+01:00')}`);
  assert.equal(offset.json.total, writes.length);
});

test('paging is by cursor: writes made while paging do not shift the pages', async () => {
  const n = await startNode();
  try {
    for (let i = 0; i < 9; i++) {
      const r = await fhir(n, 'POST', 'Patient', { body: sampleResource('Patient') });
      assert.equal(r.status, 201);
    }
    const p1 = await fhir(n, 'GET', '_history?_count=4');
    assert.equal(p1.json.total, 9);
    // more writes after the first page was served
    for (let i = 0; i < 5; i++) {
      assert.equal((await fhir(n, 'POST', 'Patient', { body: sampleResource('Patient') })).status, 201);
    }
    const seen = p1.json.entry.map((e) => e.fullUrl);
    let next = p1.json.link.find((l) => l.relation === 'next')?.url;
    while (next) {
      const r = await fhir(n, 'GET', next.slice(n.base.length));
      assert.equal(r.status, 200, r.text);
      seen.push(...(r.json.entry || []).map((e) => e.fullUrl));
      next = r.json.link.find((l) => l.relation === 'next')?.url;
    }
    assert.equal(seen.length, 9, 'exactly the 9 versions there were when paging began');
    assert.equal(new Set(seen).size, 9);
  } finally {
    await n.close();
  }
});

test('history of unknown things', async () => {
  assertOutcome(await fhir(node, 'GET', 'Patient/never-existed/_history'), 404);
  assertOutcome(await fhir(node, 'GET', 'Account/_history'), 404);
  assertOutcome(await fhir(node, 'GET', 'Account/x/_history'), 404);
});

test('bad history parameters are 400 with an OperationOutcome', async () => {
  for (const q of ['_count=-1', '_count=abc', '_count=1.5', '_count=', '_since=garbage', '_since=2020-13-01T00:00:00Z',
    '_page=garbage', '_page=', '_count=99999999999999999999999']) {
    const r = await fhir(node, 'GET', `_history?${q}`);
    assertOutcome(r, 400, { code: ['value', 'invalid', 'processing'] });
    const t = await fhir(node, 'GET', `Patient/_history?${q}`);
    assertOutcome(t, 400);
  }
});
