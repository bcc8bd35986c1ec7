// everything.test.mjs: Patient/$everything, by id and by NHS number.
//
// The answer is a searchset with the Patient first, then everything in the
// Patient's compartment (R4 CompartmentDefinition) and the Practitioners,
// Organizations, Locations and Medications those resources refer to; every
// resource exactly once, across any number of pages, also while writes
// happen; nothing of other patients, nothing deleted, current versions
// only. _type, _since, start/end (care dates; resources without dates
// kept), _count. A patient the server does not hold is a 404, a deleted one
// 410, never a 200 with other data.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, assertOutcome, sampleResource, putResources, entryRefs, linkUrl, walkPages,
  sleep, SAMPLES, NHS_SYSTEM,
} from './lib.mjs';

let node;
const NHS = '9434765919';         // ev's NHS number (valid check digit)
const NHS_NOBODY = '9876543210';  // valid, held by nobody

// The compartment types, each with the element that puts it in the
// Patient's compartment (the samples in lib.mjs refer to
// Patient/example-patient and Practitioner/p1; both are renamed).
const COMPARTMENT_TYPES = Object.keys(SAMPLES).filter((t) =>
  JSON.stringify(SAMPLES[t]).includes('Patient/example-patient'));

// A sample of 'type' in patient 'pid's compartment, its Practitioner 'pr'.
function mine(type, pid, id, extra = {}, pr = 'evpr1') {
  const s = JSON.stringify(sampleResource(type, extra))
    .replaceAll('Patient/example-patient', `Patient/${pid}`)
    .replaceAll('Practitioner/p1', `Practitioner/${pr}`);
  return { ...JSON.parse(s), id };
}

const expected = new Set();   // "Type/id" of ev's $everything
const other = new Set();      // what must never appear in it

before(async () => {
  node = await startNode();
  const base = [
    { resourceType: 'Practitioner', id: 'evpr1', name: [{ family: 'Gp' }] },
    { resourceType: 'Practitioner', id: 'evpr2', name: [{ family: 'Performer' }] },
    { resourceType: 'Practitioner', id: 'evpr-unref', name: [{ family: 'Unreferenced' }] },
    { resourceType: 'Practitioner', id: 'evpr-gone', name: [{ family: 'Deleted' }] },
    { resourceType: 'Practitioner', id: 'evpr-other', name: [{ family: 'OtherPatientsGp' }] },
    { resourceType: 'Organization', id: 'evorg', name: 'Ev Practice' },
    { resourceType: 'Location', id: 'evloc', name: 'Ward 9', status: 'active' },
    { resourceType: 'Medication', id: 'evmed', code: { text: 'Amoxicillin' } },
    { resourceType: 'Medication', id: 'evmed-unref', code: { text: 'Unused' } },
    {
      resourceType: 'Patient', id: 'ev', identifier: [{ system: NHS_SYSTEM, value: NHS }], name: [{ family: 'Everything' }],
      gender: 'female', birthDate: '1970-01-01',
      generalPractitioner: [{ reference: 'Practitioner/evpr1' }], managingOrganization: { reference: 'Organization/evorg' },
    },
    { resourceType: 'Patient', id: 'ev-other', name: [{ family: 'Other' }] },
  ];
  const res = [];
  for (const t of COMPARTMENT_TYPES) res.push(mine(t, 'ev', `ev-${t.toLowerCase()}`));
  res.push(mine('Encounter', 'ev', 'ev-enc-loc', { location: [{ location: { reference: 'Location/evloc' } }] }));
  res.push(mine('MedicationRequest', 'ev', 'ev-mr-med', {
    medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/evmed' },
  }));
  for (let i = 0; i < 20; i++) {
    res.push(mine('Observation', 'ev', `ev-obs-${String(i).padStart(2, '0')}`, {
      effectiveDateTime: `2024-01-${String(i + 1).padStart(2, '0')}`,
      ...(i === 3 ? { performer: [{ reference: 'Practitioner/evpr2' }] } : {}),
      ...(i === 4 ? { performer: [{ reference: 'Practitioner/evpr-gone' }] } : {}),
    }));
  }
  res.push(mine('Observation', 'ev', 'ev-obs-deleted'));
  res.push(mine('Condition', 'ev', 'ev-cond-updated', { code: { text: 'v1' } }));
  // the other patient's record, with its own Practitioner
  const theirs = ['Observation', 'Condition', 'Encounter'].map((t) => mine(t, 'ev-other', `other-${t.toLowerCase()}`, {}, 'evpr-other'));
  theirs.push(mine('Observation', 'ev-other', 'other-obs-perf', { performer: [{ reference: 'Practitioner/evpr-other' }] }));
  await putResources(node, [...base, ...res, ...theirs]);
  await putResources(node, [mine('Condition', 'ev', 'ev-cond-updated', { code: { text: 'v2' } })]);
  for (const ref of ['Observation/ev-obs-deleted', 'Practitioner/evpr-gone']) {
    assert.equal((await fhir(node, 'DELETE', ref)).status, 200);
  }

  expected.add('Patient/ev');
  for (const r of res) if (r.id !== 'ev-obs-deleted') expected.add(`${r.resourceType}/${r.id}`);
  for (const r of ['Practitioner/evpr1', 'Practitioner/evpr2', 'Organization/evorg', 'Location/evloc', 'Medication/evmed']) expected.add(r);
  for (const r of [...theirs, ...base]) {
    const k = `${r.resourceType}/${r.id}`;
    if (!expected.has(k)) other.add(k);
  }
  other.add('Observation/ev-obs-deleted');
});
after(async () => { await node?.close(); });

function assertEverythingBundle(b) {
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'searchset');
  for (const e of b.entry || []) {
    assert.equal(e.fullUrl, `${node.fhirBase}/${e.resource.resourceType}/${e.resource.id}`);
    assert.ok(['match', 'include'].includes(e.search?.mode), JSON.stringify(e.search));
  }
}

const refsOf = (pages) => pages.flatMap((p) => entryRefs(p, null));

function assertExactlyOnce(refs, want, what) {
  const dup = refs.filter((r, i) => refs.indexOf(r) !== i);
  assert.deepEqual(dup, [], `${what}: resources returned more than once`);
  const missing = [...want].filter((r) => !refs.includes(r)).sort();
  assert.deepEqual(missing, [], `${what}: missing`);
  const extra = refs.filter((r) => !want.has(r)).sort();
  assert.deepEqual(extra, [], `${what}: not part of the record`);
}

test('Patient/{id}/$everything: the patient first, the compartment and what it refers to, once each', async () => {
  assert.ok(COMPARTMENT_TYPES.length >= 20, `${COMPARTMENT_TYPES.length} compartment types`);
  const r = await fhir(node, 'GET', 'Patient/ev/$everything');
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assertEverythingBundle(r.json);
  const refs = entryRefs(r.json, null);
  assert.equal(refs[0], 'Patient/ev', 'the Patient comes first');
  assertExactlyOnce(refs, expected, '$everything');
  for (const o of other) assert.ok(!refs.includes(o), `${o} is not part of ev's record`);
  assert.equal(linkUrl(r.json, 'next'), undefined, 'one page');
  if (r.json.total !== undefined) assert.equal(r.json.total, refs.length);
  // the current version of each, as a read gives it
  const cond = r.json.entry.find((e) => e.resource.id === 'ev-cond-updated').resource;
  assert.equal(cond.meta.versionId, '2');
  assert.deepEqual(cond.code, { text: 'v2' });
  for (const e of r.json.entry.filter((x, i) => i % 9 === 0)) {
    assert.deepEqual(e.resource, (await fhir(node, 'GET', `${e.resource.resourceType}/${e.resource.id}`)).json);
  }
});

test('$everything over many pages: every resource exactly once, no empty page', async () => {
  for (const count of [1, 7, 10, 64]) {
    const pages = await walkPages(node, `Patient/ev/$everything?_count=${count}`);
    assert.equal(pages.length, Math.ceil(expected.size / count), `_count=${count}: pages`);
    for (const [i, p] of pages.entries()) {
      assertEverythingBundle(p);
      assert.ok((p.entry || []).length > 0, `_count=${count}: page ${i + 1} is not empty`);
      assert.ok(p.entry.length <= count);
      const next = linkUrl(p, 'next');
      if (next) {
        assert.ok(next.startsWith(`${node.fhirBase}/Patient/ev/$everything?`), next);
        assert.match(next, new RegExp(`_count=${count}`));
      }
    }
    const refs = refsOf(pages);
    assert.equal(refs[0], 'Patient/ev');
    assertExactlyOnce(refs, expected, `_count=${count}`);
  }
});

test('$everything paging while the record grows: what was there is returned exactly once', async () => {
  const added = new Set();
  let n = 0;
  const pages = await walkPages(node, 'Patient/ev/$everything?_count=6', {
    between: async () => {
      n++;
      const o = mine('Observation', 'ev', `ev-new-${n}`);
      const c = mine('Condition', 'ev', `ev-new-cond-${n}`);
      await putResources(node, [o, c]);
      added.add(`Observation/${o.id}`).add(`Condition/${c.id}`);
    },
  });
  const refs = refsOf(pages);
  const dup = refs.filter((r, i) => refs.indexOf(r) !== i);
  assert.deepEqual(dup, []);
  assert.deepEqual([...expected].filter((r) => !refs.includes(r)), [], 'nothing that was there is missed');
  assert.deepEqual(refs.filter((r) => !expected.has(r) && !added.has(r)), []);
  // tidy up: the other tests expect the record as it was
  for (const r of added) assert.equal((await fhir(node, 'DELETE', r)).status, 200);
});

test('Patient/$everything?identifier=NHS number: the same record', async () => {
  const byId = entryRefs((await fhir(node, 'GET', 'Patient/ev/$everything')).json, null);
  const r = await fhir(node, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|${NHS}`);
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assertEverythingBundle(r.json);
  assert.deepEqual(entryRefs(r.json, null), byId);
  const enc = await fhir(node, 'GET', `Patient/$everything?identifier=${encodeURIComponent(`${NHS_SYSTEM}|${NHS}`)}`);
  assert.deepEqual(entryRefs(enc.json, null), byId);
  // paged, the next links keep the identifier
  const pages = await walkPages(node, `Patient/$everything?identifier=${NHS_SYSTEM}|${NHS}&_count=9`);
  assertExactlyOnce(refsOf(pages), expected, 'by NHS number, paged');
});

test('a patient this server does not hold: 404, never a 200; deleted: 410; bad NHS number: 400', async () => {
  assertOutcome(await fhir(node, 'GET', 'Patient/nobody/$everything'), 404);
  assertOutcome(await fhir(node, 'GET', 'Patient/ev-obs-00/$everything'), 404);   // an Observation's id
  assertOutcome(await fhir(node, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|${NHS_NOBODY}`), 404);
  assertOutcome(await fhir(node, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|9434765918`), 400);   // wrong check digit
  assertOutcome(await fhir(node, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|12345`), 400);
  assertOutcome(await fhir(node, 'GET', 'Patient/$everything'), 400);
  await putResources(node, [
    { resourceType: 'Patient', id: 'ev-gone', identifier: [{ system: NHS_SYSTEM, value: '9434765870' }] },
    mine('Observation', 'ev-gone', 'ev-gone-obs'),
  ]);
  assert.equal((await fhir(node, 'DELETE', 'Patient/ev-gone')).status, 200);
  assertOutcome(await fhir(node, 'GET', 'Patient/ev-gone/$everything'), 410);
  const byNhs = await fhir(node, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|9434765870`);
  assert.ok([404, 410].includes(byNhs.status), `deleted patient by NHS number: ${byNhs.status}`);
  assertOutcome(byNhs, byNhs.status);
});

test('_type: only the types listed', async () => {
  let r = await fhir(node, 'GET', 'Patient/ev/$everything?_type=Observation,Condition');
  assert.equal(r.status, 200, r.text.slice(0, 300));
  let refs = entryRefs(r.json, null);
  const want = new Set([...expected].filter((x) => /^(Observation|Condition)\//.test(x)));
  assertExactlyOnce(refs, want, '_type=Observation,Condition');
  r = await fhir(node, 'GET', 'Patient/ev/$everything?_type=Patient,Practitioner');
  refs = entryRefs(r.json, null);
  assert.equal(refs[0], 'Patient/ev');
  assertExactlyOnce(refs, new Set(['Patient/ev', 'Practitioner/evpr1', 'Practitioner/evpr2']), '_type=Patient,Practitioner');
  // paged
  const pages = await walkPages(node, 'Patient/ev/$everything?_type=Observation&_count=4');
  assertExactlyOnce(refsOf(pages), new Set([...expected].filter((x) => x.startsWith('Observation/'))), '_type paged');
  assertOutcome(await fhir(node, 'GET', 'Patient/ev/$everything?_type=Nope'), 400);
});

test('_since: only what changed since then', async () => {
  await sleep(20);
  const since = new Date().toISOString();
  await sleep(20);
  await putResources(node, [
    mine('Condition', 'ev', 'ev-cond-updated', { code: { text: 'v3' } }),
    mine('Observation', 'ev', 'ev-since-new'),
    { resourceType: 'Practitioner', id: 'evpr2', name: [{ family: 'Performer', given: ['Renamed'] }] },
  ]);
  try {
    const r = await fhir(node, 'GET', `Patient/ev/$everything?_since=${since}`);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assertExactlyOnce(entryRefs(r.json, null),
      new Set(['Condition/ev-cond-updated', 'Observation/ev-since-new', 'Practitioner/evpr2']), '_since');
    const cond = r.json.entry.find((e) => e.resource.id === 'ev-cond-updated').resource;
    assert.equal(cond.code.text, 'v3');
    assertOutcome(await fhir(node, 'GET', 'Patient/ev/$everything?_since=yesterday'), 400);
  } finally {
    assert.equal((await fhir(node, 'DELETE', 'Observation/ev-since-new')).status, 200);
    expected.delete('Observation/ev-since-new');
  }
});

test('start/end: care dates in the window, and resources without care dates, are kept', async () => {
  const pid = 'evd';
  await putResources(node, [
    { resourceType: 'Patient', id: pid, birthDate: '1960-01-01' },
    mine('Observation', pid, 'evd-obs-2019', { effectiveDateTime: '2019-05-01' }),
    mine('Observation', pid, 'evd-obs-2024', { effectiveDateTime: '2024-03-01T10:00:00Z' }),
    mine('Observation', pid, 'evd-obs-none'),
    mine('Encounter', pid, 'evd-enc-span', { period: { start: '2023-12-20', end: '2024-01-05' } }),
    mine('Condition', pid, 'evd-cond-2025', { onsetDateTime: '2025-02-01' }),
    mine('AllergyIntolerance', pid, 'evd-allergy-none'),
    mine('Immunization', pid, 'evd-imm-2024', { occurrenceDateTime: '2024-06-01' }),
    mine('Procedure', pid, 'evd-proc-2018', { performedDateTime: '2018-07-07' }),
  ]);
  const run = async (q) => {
    const r = await fhir(node, 'GET', `Patient/${pid}/$everything?${q}`);
    assert.equal(r.status, 200, `${q}: ${r.text.slice(0, 300)}`);
    return entryRefs(r.json, null).filter((x) => !/^(Practitioner|Organization|Location|Medication)\//.test(x));
  };
  const set = (...ids) => new Set([`Patient/${pid}`, ...ids]);
  let refs = await run('start=2024-01-01&end=2024-12-31');
  assert.equal(refs[0], `Patient/${pid}`, 'the patient is always there, first');
  assertExactlyOnce(refs, set('Observation/evd-obs-2024', 'Observation/evd-obs-none', 'Encounter/evd-enc-span',
    'AllergyIntolerance/evd-allergy-none', 'Immunization/evd-imm-2024'), '2024');
  refs = await run('start=2024-01-01');
  assertExactlyOnce(refs, set('Observation/evd-obs-2024', 'Observation/evd-obs-none', 'Encounter/evd-enc-span',
    'AllergyIntolerance/evd-allergy-none', 'Immunization/evd-imm-2024', 'Condition/evd-cond-2025'), 'from 2024');
  refs = await run('end=2019-12-31');
  assertExactlyOnce(refs, set('Observation/evd-obs-2019', 'Procedure/evd-proc-2018', 'Observation/evd-obs-none',
    'AllergyIntolerance/evd-allergy-none'), 'until 2019');
  refs = await run('start=2019-05-01&end=2019-05-01');
  assertExactlyOnce(refs, set('Observation/evd-obs-2019', 'Observation/evd-obs-none', 'AllergyIntolerance/evd-allergy-none'), 'one day');
  assertOutcome(await fhir(node, 'GET', `Patient/${pid}/$everything?start=notadate`), 400);
  assertOutcome(await fhir(node, 'GET', `Patient/${pid}/$everything?end=2024-13-01`), 400);
});

test('bad parameters are a 400', async () => {
  assertOutcome(await fhir(node, 'GET', 'Patient/ev/$everything?_count=0'), 400);
  assertOutcome(await fhir(node, 'GET', 'Patient/ev/$everything?_count=abc'), 400);
  assertOutcome(await fhir(node, 'GET', 'Patient/ev/$everything?nope=1'), 400);
  assertOutcome(await fhir(node, 'GET', 'Patient/ev/$everything?_page=garbage'), 400);
});

test('a resource in several patients\' compartments is in each one\'s $everything', async () => {
  // R4 CompartmentDefinition Patient: Communication by subject, sender and
  // recipient; Appointment by actor; Observation by subject and performer.
  await putResources(node, [
    { resourceType: 'Patient', id: 'ca' },
    { resourceType: 'Patient', id: 'cb' },
    { resourceType: 'Communication', id: 'c-msg', status: 'completed', subject: { reference: 'Patient/ca' }, recipient: [{ reference: 'Patient/cb' }] },
    {
      resourceType: 'Appointment', id: 'c-joint', status: 'booked',
      participant: [{ actor: { reference: 'Patient/ca' }, status: 'accepted' }, { actor: { reference: 'Patient/cb' }, status: 'accepted' }],
    },
    { resourceType: 'Observation', id: 'c-obs', status: 'final', code: { text: 'Carer observed' }, subject: { reference: 'Patient/ca' }, performer: [{ reference: 'Patient/cb' }] },
  ]);
  for (const pid of ['ca', 'cb']) {
    const r = await fhir(node, 'GET', `Patient/${pid}/$everything`);
    assert.equal(r.status, 200);
    assertExactlyOnce(entryRefs(r.json, null),
      new Set([`Patient/${pid}`, 'Communication/c-msg', 'Appointment/c-joint', 'Observation/c-obs']), `Patient/${pid}`);
  }
});
