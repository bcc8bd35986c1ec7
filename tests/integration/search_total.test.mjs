// search_total.test.mjs: what a search's total costs. A total counts only
// the matches the principal may see, so each match is decided under the
// access policy, which means reading the facts of each person the matches
// belong to. By default (no _total, or estimate) a total is given when at
// most 250 people decide it (all the results of one patient are counted)
// and left out past that; _total=accurate and _summary=count decide up to
// 10,000 matches, and past that say in an OperationOutcome entry why there
// is no total. A store of 10,050 Patients and one Patient's 1,200
// Observations, loaded with `carerecord import` before the node starts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startNode, tempDir, linkUrl, importResources, searchOk, DEFAULT_CLAIMS } from './lib.mjs';

let node;

// 250 born 2001-01-01, 251 born 2002-01-01, the rest 1990-06-15; every
// one named Many. Patient many-0 has 1,200 Observations.
before(async () => {
  const data = path.join(tempDir(), 'data');
  const lines = [];
  for (let i = 0; i < 10050; i++) {
    const birthDate = i < 250 ? '2001-01-01' : i < 501 ? '2002-01-01' : '1990-06-15';
    lines.push({ resourceType: 'Patient', id: `many-${i}`, name: [{ family: 'Many', given: [`P${i}`] }], gender: 'unknown', birthDate });
  }
  for (let i = 0; i < 1200; i++)
    lines.push({ resourceType: 'Observation', id: `many-o${i}`, status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/many-0' } });
  importResources(data, lines, DEFAULT_CLAIMS.org);
  node = await startNode({ dataDir: data });
});
after(async () => { await node?.close(); });

const search = (q) => searchOk(node, q);
const outcomes = (b) => (b.entry || []).filter((e) => e.search?.mode === 'outcome');

test('by default a total is given when at most 250 people decide it, however many matches', async () => {
  const b = await search('Patient?birthdate=2001-01-01&_count=5');
  assert.equal(b.total, 250);
  assert.equal(b.entry.length, 5);
  assert.ok(linkUrl(b, 'next'));
  assert.deepEqual(outcomes(b), []);
  assert.equal((await search('Patient?birthdate=2001-01-01&_count=5&_total=estimate')).total, 250);
  const one = await search('Observation?subject=many-0&_count=5');
  assert.equal(one.total, 1200, 'all the results of one patient');
  assert.equal(one.entry.length, 5);
});

test('by default a total that needs more than 250 people decided is left out, silently; the page is whole', async () => {
  for (const q of ['Patient?birthdate=2002-01-01&_count=5', 'Patient?family=many&_count=5', 'Patient?birthdate=2002-01-01&_count=5&_total=estimate']) {
    const b = await search(q);
    assert.equal(b.total, undefined, q);
    assert.equal(b.entry.length, 5, q);
    assert.ok(linkUrl(b, 'next'), q);
    assert.deepEqual(outcomes(b), [], q);
  }
});

test('_total=accurate and _summary=count count up to 10,000 matches', async () => {
  assert.equal((await search('Patient?birthdate=2002-01-01&_count=5&_total=accurate')).total, 251);
  const c = await search('Patient?birthdate=2002-01-01&_summary=count');
  assert.equal(c.total, 251);
  assert.equal(c.entry, undefined);
  assert.equal((await search('Patient?birthdate=1990-06-15&_summary=count')).total, 9549);
});

test('past 10,000 an asked-for total is left out with an OperationOutcome entry saying why', async () => {
  for (const q of ['Patient?family=many&_count=5&_total=accurate', 'Patient?family=many&_summary=count']) {
    const b = await search(q);
    assert.equal(b.total, undefined, q);
    const [o, ...more] = outcomes(b);
    assert.deepEqual(more, [], q);
    assert.equal(o.resource.resourceType, 'OperationOutcome');
    assert.equal(o.resource.issue[0].severity, 'information');
    assert.equal(o.resource.issue[0].code, 'too-costly');
    assert.match(o.resource.issue[0].diagnostics, /more than 10000 matches .* narrow the search/);
  }
  const page = await search('Patient?family=many&_count=5&_total=accurate');
  assert.equal(page.entry.filter((e) => e.search.mode === 'match').length, 5, 'the page itself is whole');
});
