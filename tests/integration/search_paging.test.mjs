// search_paging.test.mjs: paging a search with link next / previous
// (keyset cursors in _page) and what has to stay true while it happens:
// every match exactly once across the pages, in the order asked for, also
// while other clients insert, update and delete; previous links walk back
// to the same pages; _count and the configured default_count/max_count;
// includes and revincludes paged by the primary results and never capped.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, assertOutcome, sampleResource, putResources, entryRefs, linkUrl, pathOf, walkPages,
} from './lib.mjs';

let node;
const seeded = [];        // ids of pg's 57 Observations
const bigIds = [];        // ids of big's 1005 Observations

// Observation i of patient 'pid': dates repeat every 20 (ties for _sort),
// values are i.
const obs = (pid, i, extra = {}) => sampleResource('Observation', {
  subject: { reference: `Patient/${pid}` },
  effectiveDateTime: `2024-01-${String((i % 20) + 1).padStart(2, '0')}T08:00:00Z`,
  valueQuantity: { value: i, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  ...extra,
});

async function create(body) {
  const r = await fhir(node, 'POST', body.resourceType, { body });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

before(async () => {
  node = await startNode();
  await putResources(node, [
    sampleResource('Patient', { id: 'pg', name: [{ family: 'Paging' }] }),
    sampleResource('Patient', { id: 'other', name: [{ family: 'Other' }] }),
    sampleResource('Patient', { id: 'big', name: [{ family: 'Big' }] }),
  ]);
  seeded.push(...await Promise.all(Array.from({ length: 57 }, (_, i) => create(obs('pg', i)))));
  await Promise.all(Array.from({ length: 10 }, (_, i) => create(obs('other', i))));
  // 1005 Observations of 'big': one transaction of 1000, then 5 more
  const entry = Array.from({ length: 1000 }, (_, i) => ({ resource: obs('big', i), request: { method: 'POST', url: 'Observation' } }));
  const t = await fhir(node, 'POST', '/fhir', { body: { resourceType: 'Bundle', type: 'transaction', entry } });
  assert.equal(t.status, 200, t.text.slice(0, 500));
  bigIds.push(...t.json.entry.map((e) => e.response.location.split('/')[1]));
  bigIds.push(...await Promise.all(Array.from({ length: 5 }, (_, i) => create(obs('big', 1000 + i)))));
});
after(async () => { await node?.close(); });

const idsOf = (pages, mode = 'match') => pages.flatMap((b) => entryRefs(b, mode).map((r) => r.split('/')[1]));

function assertOnce(ids, what) {
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dup, [], `${what}: returned more than once`);
}

test('next links: every match exactly once, pages of _count, total on every page', async () => {
  const pages = await walkPages(node, 'Observation?subject=pg&_count=10');
  assert.deepEqual(pages.map((p) => (p.entry || []).length), [10, 10, 10, 10, 10, 7]);
  const ids = idsOf(pages);
  assertOnce(ids, 'walk');
  assert.deepEqual([...ids].sort(), [...seeded].sort());
  for (const [i, p] of pages.entries()) {
    assert.equal(p.total, 57, `page ${i + 1} total`);
    assert.equal(linkUrl(p, 'previous') === undefined, i === 0, `page ${i + 1}: a previous link unless first`);
    assert.equal(linkUrl(p, 'next') === undefined, i === pages.length - 1, `page ${i + 1}: a next link unless last`);
    // the links keep the search
    for (const rel of ['self', 'next', 'previous']) {
      const u = linkUrl(p, rel);
      if (!u) continue;
      assert.ok(u.startsWith(`${node.fhirBase}/Observation?`), `${rel}: ${u}`);
      assert.match(u, /subject=/);
      assert.match(u, /_count=10/);
    }
  }
});

test('previous links walk back to the same pages', async () => {
  const forward = await walkPages(node, 'Observation?subject=pg&_count=10');
  const back = [forward.at(-1)];
  for (let guard = 0; guard < 20; guard++) {
    const prev = linkUrl(back.at(-1), 'previous');
    if (!prev) break;
    const r = await fhir(node, 'GET', pathOf(node, prev));
    assert.equal(r.status, 200, r.text);
    back.push(r.json);
  }
  assert.equal(back.length, forward.length, 'as many pages back as forward');
  back.reverse();
  for (let i = 0; i < forward.length; i++) {
    assert.deepEqual(entryRefs(back[i]), entryRefs(forward[i]), `page ${i + 1} read backwards`);
  }
  // and forward again from a page reached backwards
  const again = await fhir(node, 'GET', pathOf(node, linkUrl(back[1], 'next')));
  assert.deepEqual(entryRefs(again.json), entryRefs(forward[2]));
});

test('sorted paging (ties included) gives the same order as one page', async () => {
  for (const sort of ['date', '-date', 'date,-value-quantity', '-value-quantity', '_lastUpdated', '-_id']) {
    const one = await fhir(node, 'GET', `Observation?subject=pg&_sort=${sort}&_count=100`);
    assert.equal(one.status, 200);
    const all = entryRefs(one.json);
    assert.equal(all.length, 57);
    const pages = await walkPages(node, `Observation?subject=pg&_sort=${sort}&_count=7`);
    assert.equal(pages.length, 9);
    assert.deepEqual(pages.flatMap((p) => entryRefs(p)), all, `_sort=${sort}: pages in the order of one page`);
  }
  // and the order is the one asked for: dates ascending, within a date values descending
  const r = await fhir(node, 'GET', 'Observation?subject=pg&_sort=date,-value-quantity&_count=100');
  const keys = r.json.entry.map((e) => [e.resource.effectiveDateTime, e.resource.valueQuantity.value]);
  for (let i = 1; i < keys.length; i++) {
    const [d0, v0] = keys[i - 1];
    const [d1, v1] = keys[i];
    assert.ok(d0 < d1 || (d0 === d1 && v0 > v1), `order at ${i}: ${keys[i - 1]} then ${keys[i]}`);
  }
});

test('paging stays exact while other clients insert, update and delete', async () => {
  const query = 'Observation?subject=pg&_count=8';
  const start = (await fhir(node, 'GET', `${query.split('&')[0]}&_count=1000`)).json.entry.map((e) => e.resource.id);
  const added = [];
  let stop = false;
  // a writer running all the time: new matches, new non-matches, updates
  // of matches (same subject), deletes of non-matches
  const writer = (async () => {
    let i = 0;
    while (!stop) {
      i++;
      added.push(await create(obs('pg', 500 + i)));
      const noise = await create(obs('other', 500 + i));
      const victim = start[(i * 7) % start.length];
      const cur = (await fhir(node, 'GET', `Observation/${victim}`)).json;
      const u = await fhir(node, 'PUT', `Observation/${victim}`, {
        body: { ...cur, valueQuantity: { ...cur.valueQuantity, value: cur.valueQuantity.value + 1000 } },
      });
      assert.equal(u.status, 200, u.text);
      assert.equal((await fhir(node, 'DELETE', `Observation/${noise}`)).status, 200);
    }
  })();
  let pages;
  try {
    pages = await walkPages(node, query, {
      // and a burst between pages, so every page boundary sees writes
      between: async (n) => {
        added.push(await create(obs('pg', 900 + n)));
        const v = start[(n * 5) % start.length];
        const cur = (await fhir(node, 'GET', `Observation/${v}`)).json;
        await fhir(node, 'PUT', `Observation/${v}`, { body: { ...cur, status: 'amended' } });
      },
    });
  } finally {
    stop = true;
    await writer;
  }
  const ids = idsOf(pages);
  assertOnce(ids, 'walk under writes');
  const missing = start.filter((id) => !ids.includes(id));
  assert.deepEqual(missing, [], 'every resource that matched at the start is returned');
  const strangers = ids.filter((id) => !start.includes(id) && !added.includes(id));
  assert.deepEqual(strangers, [], 'nothing but matches');
  assert.ok(added.length > pages.length, `${added.length} writes happened during the walk`);
});

test('sorted by date, paging stays exact while matches are added and updated', async () => {
  const query = 'Observation?subject=pg&_sort=-date&_count=9';
  const start = (await fhir(node, 'GET', 'Observation?subject=pg&_count=1000')).json.entry.map((e) => e.resource.id);
  const added = [];
  const pages = await walkPages(node, query, {
    between: async (n) => {
      // new matches on both sides of the cursor, and updates that keep the sort key
      added.push(await create(obs('pg', n)));
      added.push(await create(obs('pg', 19 - n)));
      for (const v of [start[n], start[start.length - 1 - n]]) {
        const cur = (await fhir(node, 'GET', `Observation/${v}`)).json;
        await fhir(node, 'PUT', `Observation/${v}`, { body: { ...cur, status: 'corrected' } });
      }
    },
  });
  const ids = idsOf(pages);
  assertOnce(ids, 'sorted walk under writes');
  assert.deepEqual(start.filter((id) => !ids.includes(id)), [], 'every resource that matched at the start');
  assert.deepEqual(ids.filter((id) => !start.includes(id) && !added.includes(id)), []);
});

// Known limit (docs/api.md, Search): keyset cursors are exact while the sort
// keys of the matched resources do not change. Sorting by _lastUpdated while
// those very resources are updated moves them between pages. Kept as a todo
// so the behaviour stays visible in every run.
test('sorted by _lastUpdated, paging stays exact while the matches themselves are updated', { todo: 'keyset paging over a sort key that changes during the walk' }, async () => {
  // An update moves a resource in _lastUpdated order. Walking the pages
  // must still give each resource that matched at the start exactly once:
  // neither again at the end (updated after it was returned) nor never
  // (updated before its page was reached).
  for (const sort of ['_lastUpdated', '-_lastUpdated']) {
    const query = `Observation?subject=other&_sort=${sort}&_count=3`;
    const start = (await fhir(node, 'GET', `Observation?subject=other&_sort=${sort}&_count=1000`)).json.entry.map((e) => e.resource.id);
    assert.ok(start.length >= 9, `${start.length} resources to walk`);
    const pages = await walkPages(node, query, {
      max: 40,
      between: async (n) => {
        // touch one already returned and one not yet reached
        for (const v of [start[(n * 3 - 1) % start.length], start[(start.length - n + start.length) % start.length]]) {
          const got = await fhir(node, 'GET', `Observation/${v}`);
          assert.equal(got.status, 200, `GET Observation/${v}: ${got.text}`);
          const cur = got.json;
          const u = await fhir(node, 'PUT', `Observation/${v}`, { body: { ...cur, status: n % 2 ? 'amended' : 'final' } });
          assert.equal(u.status, 200, `PUT Observation/${v}: ${u.text}`);
        }
      },
    });
    const ids = idsOf(pages);
    assertOnce(ids, `_sort=${sort} walk while matches are updated`);
    assert.deepEqual(start.filter((id) => !ids.includes(id)), [], `_sort=${sort}: every resource that matched at the start`);
  }
});

test('deleting what was already returned shifts nothing', async () => {
  const pid = 'shift';
  await putResources(node, [sampleResource('Patient', { id: pid })]);
  const mine = await Promise.all(Array.from({ length: 12 }, (_, i) => create(obs(pid, i))));
  const first = await fhir(node, 'GET', `Observation?subject=${pid}&_count=4`);
  const page1 = entryRefs(first.json).map((r) => r.split('/')[1]);
  const next = linkUrl(first.json, 'next');
  for (const id of page1) assert.equal((await fhir(node, 'DELETE', `Observation/${id}`)).status, 200);
  const rest = await walkPages(node, pathOf(node, next));
  const ids = idsOf(rest);
  assert.deepEqual([...ids].sort(), mine.filter((id) => !page1.includes(id)).sort(), 'pages 2 and 3 as they were');
  assert.equal(rest[0].total, 8, 'the total now counts what is left');
});

test('_count above max_count is capped at it (1000 here)', async () => {
  const r = await fhir(node, 'GET', 'Observation?subject=big&_count=5000');
  assert.equal(r.status, 200);
  assert.equal(r.json.entry.length, 1000);
  assert.equal(r.json.total, 1005);
  const next = linkUrl(r.json, 'next');
  assert.ok(next, 'a next link to the rest');
  const rest = await walkPages(node, pathOf(node, next));
  const ids = [...idsOf([r.json]), ...idsOf(rest)];
  assertOnce(ids, 'big');
  assert.deepEqual(ids.sort(), [...bigIds].sort());
});

test('every revincluded resource is returned: 1005 Observations of one Patient, no cap', async () => {
  const r = await fhir(node, 'GET', 'Patient?_id=big&_revinclude=Observation:subject');
  assert.equal(r.status, 200);
  assert.deepEqual(entryRefs(r.json, 'match'), ['Patient/big']);
  assert.equal(r.json.total, 1);
  assert.equal(linkUrl(r.json, 'next'), undefined);
  const inc = entryRefs(r.json, 'include').map((x) => x.split('/')[1]);
  assertOnce(inc, 'revinclude');
  assert.deepEqual(inc.sort(), [...bigIds].sort());
});

test('includes are paged by the primary results: each page carries what its matches need', async () => {
  // Observations of pg, 10 a page, each page with pg included once
  const pgNow = (await fhir(node, 'GET', 'Observation?subject=pg&_count=1000')).json.entry.map((e) => e.resource.id);
  const pages = await walkPages(node, 'Observation?subject=pg&_count=10&_include=Observation:subject');
  assert.equal(pages.length, Math.ceil(pgNow.length / 10));
  assert.deepEqual(idsOf(pages).sort(), [...pgNow].sort());
  for (const p of pages) assert.deepEqual(entryRefs(p, 'include'), ['Patient/pg']);
  // Patients one a page, each with all of its Observations
  const pp = await walkPages(node, 'Patient?_id=big,pg&_sort=_id&_count=1&_revinclude=Observation:subject');
  assert.equal(pp.length, 2);
  assert.deepEqual(entryRefs(pp[0], 'match'), ['Patient/big']);
  assert.deepEqual(idsOf([pp[0]], 'include').sort(), [...bigIds].sort());
  assert.deepEqual(entryRefs(pp[1], 'match'), ['Patient/pg']);
  assert.deepEqual(idsOf([pp[1]], 'include').sort(), pgNow.sort());
});

test('POST _search pages through GET next links', async () => {
  const r = await fhir(node, 'POST', 'Observation/_search', {
    body: 'subject=other&_count=4&_sort=_id', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.status, 200);
  const next = linkUrl(r.json, 'next');
  assert.ok(next);
  const rest = await walkPages(node, pathOf(node, next));
  const viaPost = [...idsOf([r.json]), ...idsOf(rest)];
  const viaGet = idsOf(await walkPages(node, 'Observation?subject=other&_count=4&_sort=_id'));
  assert.deepEqual(viaPost, viaGet);
  assert.deepEqual(viaGet, [...viaGet].sort(), '_sort=_id: ids ascending');
});

test('a cursor this server did not make, or made for another search, is a 400', async () => {
  assertOutcome(await fhir(node, 'GET', 'Observation?subject=pg&_page=garbage'), 400);
  assertOutcome(await fhir(node, 'GET', 'Observation?subject=pg&_page=W10'), 400);
  // a cursor of a search sorted by two keys, given to an unsorted search
  const sorted = await fhir(node, 'GET', 'Observation?subject=pg&_sort=date,-value-quantity&_count=5');
  const cursor = new URL(linkUrl(sorted.json, 'next')).searchParams.get('_page');
  assert.ok(cursor);
  assertOutcome(await fhir(node, 'GET', `Observation?subject=pg&_page=${cursor}`), 400);
});

test('default_count and max_count come from the configuration', async () => {
  const small = await startNode({ config: { default_count: 3, max_count: 5 } });
  try {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(`cfg${String(i).padStart(2, '0')}`);
    await putResources(small, ids.map((id) => sampleResource('Patient', { id })));
    let r = await fhir(small, 'GET', 'Patient?_sort=_id');
    assert.equal(r.json.entry.length, 3, 'default_count');
    assert.equal(r.json.total, 12);
    r = await fhir(small, 'GET', 'Patient?_sort=_id&_count=50');
    assert.equal(r.json.entry.length, 5, 'max_count');
    const pages = await walkPages(small, 'Patient?_sort=_id&_count=50');
    assert.deepEqual(pages.map((p) => p.entry.length), [5, 5, 2]);
    assert.deepEqual(idsOf(pages), ids);
    const rev = await fhir(small, 'GET', 'Patient?_sort=-_id&_count=4');
    assert.deepEqual(idsOf([rev.json]), ids.slice(-4).reverse());
  } finally {
    await small.close();
  }
});
