// search_wide.test.mjs: chains and _has whose inner condition matches
// more than 1,000 resources. The store then walks the outer resources and
// checks each one's chain or _has against resources the caller may see,
// instead of deciding the whole inner set first (docs/internals/search.md,
// "Wide chains and _has"). Both ways must answer the same, and neither may
// rest on a withheld resource. The data is loaded with `carerecord import`
// as two publishers: the test's organisation and another one, whose
// resources a system principal of the first may not see.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startNode, fhir, tempDir, entryRefs, importResources, searchOk, DEFAULT_CLAIMS } from './lib.mjs';

const N = 1100;   // past the 1,000 rows that make a chain or _has wide
const OTHER = 'X26';
let node;

const condition = (id, patient, code) => ({
  resourceType: 'Condition', id, subject: { reference: `Patient/${patient}` },
  code: { coding: [{ system: 'http://snomed.info/sct', code }] },
});

before(async () => {
  const data = path.join(tempDir(), 'data');
  const mine = [];
  const theirs = [];
  for (let i = 0; i < N; i++) {
    mine.push({ resourceType: 'Patient', id: `wide-${i}`, name: [{ family: 'Wide' }], gender: 'unknown' });
    mine.push({ resourceType: 'Observation', id: `wide-o${i}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/wide-${i}` } });
    mine.push({ resourceType: 'Observation', id: `wide-h${i}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/hid-${i}` } });
    mine.push(condition(`wide-cy${i}`, `wide-${i}`, '38341003'));
    theirs.push({ resourceType: 'Patient', id: `hid-${i}`, name: [{ family: 'Hidden' }], gender: 'unknown' });
    theirs.push(condition(`wide-cx${i}`, `wide-${i}`, '195967001'));
  }
  // a few of the other organisation's own that a gender search leaves out
  for (let i = 0; i < 5; i++) theirs.push({ resourceType: 'Patient', id: `hid-m${i}`, name: [{ family: 'Hidden' }], gender: 'male' });
  importResources(data, mine, DEFAULT_CLAIMS.org);
  importResources(data, theirs, OTHER);
  node = await startNode({ dataDir: data });
});
after(async () => { await node?.close(); });

const search = (q) => searchOk(node, q);

test('a wide _has finds what the caller may see, counted and paged', async () => {
  const b = await search('Patient?_has:Condition:patient:code=38341003&_count=10&_total=accurate');
  assert.equal(b.total, N);
  assert.equal(entryRefs(b).length, 10);
  for (const ref of entryRefs(b)) assert.match(ref, /^Patient\/wide-\d+$/);
});

test('a wide _has does not rest on resources the caller may not see', async () => {
  // the other organisation's Conditions name every one of our patients
  const b = await search('Patient?_has:Condition:patient:code=195967001&_total=accurate');
  assert.equal(b.total, 0);
  assert.deepEqual(entryRefs(b), []);
});

test('a wide chain finds what the caller may see, counted and paged', async () => {
  const b = await search('Observation?subject:Patient.family=wide&_count=10&_total=accurate');
  assert.equal(b.total, N);
  assert.equal(entryRefs(b).length, 10);
  for (const ref of entryRefs(b)) assert.match(ref, /^Observation\/wide-o\d+$/);
});

test('a wide chain does not rest on resources the caller may not see', async () => {
  // our Observations of the other organisation's patients
  const b = await search('Observation?subject:Patient.family=hidden&_total=accurate');
  assert.equal(b.total, 0);
  assert.deepEqual(entryRefs(b), []);
});

test('wide and narrow give the same answers', async () => {
  // one patient's worth: narrow, the inner set drives
  const narrow = await search('Patient?_has:Condition:patient:code=38341003&_id=wide-7,wide-8');
  assert.deepEqual(entryRefs(narrow).sort(), ['Patient/wide-7', 'Patient/wide-8']);
  const walk = [];
  let b = await search('Observation?subject:Patient.family=wide&_count=500');
  walk.push(...entryRefs(b));
  for (let next = b.link.find((l) => l.relation === 'next'); next; next = b.link.find((l) => l.relation === 'next')) {
    b = (await fhir(node, 'GET', next.url.slice(node.fhirBase.length + 1))).json;
    walk.push(...entryRefs(b));
  }
  assert.equal(walk.length, N, 'every match once across the pages');
  assert.equal(new Set(walk).size, N);
});

test('a source system\'s broad search walks its own organisation\'s rows, still applying every clause', async () => {
  // gender=unknown matches 2,200 Patients, 1,100 of them the other
  // organisation's: its system's search is driven by its own rows
  // (resources_org), the gender a probe on each
  const token = node.token({ ...DEFAULT_CLAIMS, org: OTHER, sub: `sys-${OTHER}` });
  let r = await fhir(node, 'GET', 'Patient?gender=unknown&_count=50&_total=accurate', { token });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total, N);
  assert.equal(entryRefs(r.json).length, 50);
  for (const ref of entryRefs(r.json)) assert.match(ref, /^Patient\/hid-\d+$/);
  r = await fhir(node, 'GET', 'Patient?gender=male&_total=accurate', { token });
  assert.deepEqual(entryRefs(r.json).sort(), [0, 1, 2, 3, 4].map((i) => `Patient/hid-m${i}`));
  // 2,200 final Observations, none of them its own
  r = await fhir(node, 'GET', 'Observation?status=final&_total=accurate', { token });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total, 0);
  assert.deepEqual(entryRefs(r.json), []);
  // and the first organisation's, driven by the clause or its rows alike
  const b = await search('Observation?status=final&_count=10&_total=accurate');
  assert.equal(b.total, 2 * N);
});
