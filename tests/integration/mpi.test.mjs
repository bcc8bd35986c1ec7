// mpi.test.mjs: patient identity through the real server: an invalid NHS
// number is refused; local identifiers cross-reference to the NHS number
// ($ihe-pix); Patient/$match scores and grades candidates; a merge moves
// a record's data under the survivor ($everything, searches, the access
// policy's view of the person) without touching the stored bytes, and an
// unmerge puts it back; the review list and its decisions; who may merge.
//
// The world (ODS codes made up):
//   G1  GP practice: Margaret Johnson (NHS 9000000009) and Ravi Patel
//       (9476719931) are registered here; an Observation for Margaret
//   H1  hospital: Margaret again under hospital number MRN-1 with the NHS
//       number, and as MRN-2 without it (same demographics: linked by the
//       index); "Margret Jonsen" MRN-3 (typos, no NHS number) with an
//       Encounter and an Observation: the duplicate that gets merged
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, entryRefs, assertOutcome, runBin, tempDir, NHS_SYSTEM, sqlite } from './lib.mjs';
import fs from 'node:fs';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const MRN = 'https://h1.example.nhs.uk/Id/mrn';
const GP_LOCAL = 'https://g1.example.nhs.uk/Id/patient';
const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const NHS_A = '9000000009';
const NHS_R = '9476719931';
const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString();

let node;

const patient = (id, { nhs, local, family = 'Johnson', given = 'Margaret', birthDate = '1948-03-14', gender = 'female',
  postalCode = 'E8 1AA', gp = true } = {}) => ({
  resourceType: 'Patient', id,
  ...(nhs || local ? {
    identifier: [
      ...(nhs ? [{ system: NHS_SYSTEM, value: nhs }] : []),
      ...(local ? [{ system: local[0], value: local[1] }] : []),
    ],
  } : {}),
  name: [{ use: 'official', family, given: [given] }],
  gender, birthDate,
  address: [{ use: 'home', line: ['12 Example Road'], city: 'London', postalCode }],
  ...(gp ? { generalPractitioner: [{ identifier: { system: ODS, value: 'G1' } }] } : {}),
});
const obs = (id, pid, text) => ({
  resourceType: 'Observation', id, status: 'final', code: { text },
  subject: { reference: `Patient/${pid}` }, valueQuantity: { value: 1, unit: 'x' },
});

const sys = (org) => node.token({ org, sub: `sys-${org}` });
const as = (claims, headers = {}) => ({
  token: node.token({ sub: `u-${claims.org}-${claims.role || 'R8000'}`, role: 'R8000', purpose: 'direct-care', ...claims }),
  headers,
});
const GP = { org: 'G1' };
const H1 = { org: 'H1' };
const REG = { org: 'G1', role: 'R8008' };
const CLAIM = { 'X-Access-Reason': 'self-claimed: registration desk tidying duplicate records' };

const ids = (bundle, mode = 'match') => entryRefs(bundle, mode).sort();
const params = (...parameter) => ({ resourceType: 'Parameters', parameter });
const ref = (name, id) => ({ name, valueReference: { reference: `Patient/${id}` } });

const sql = (statement) => sqlite(node.dataDir, statement);
const lastAudit = () => JSON.parse(sql('SELECT body FROM audit ORDER BY seq DESC LIMIT 1'));

function denied(r, rule) {
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.issue[0].code, 'forbidden');
  assert.equal(r.json.issue[0].details.coding[0].code, rule, r.text);
}

async function put(token, res) {
  const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
  assert.ok(r.status === 200 || r.status === 201, `PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
  return r;
}

async function match(resource, extra = [], opts = {}) {
  const r = await fhir(node, 'POST', 'Patient/$match', {
    body: params({ name: 'resource', resource }, ...extra), ...opts,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'searchset');
  return r.json;
}
const grade = (e) => e.search.extension.find((x) => x.url === MATCH_GRADE).valueCode;
const matches = (b) => (b.entry || []).filter((e) => e.search.mode === 'match');

before(async () => {
  node = await startNode();
  const g1 = sys('G1');
  const h1 = sys('H1');
  await put(g1, { resourceType: 'Organization', id: 'G1', identifier: [{ system: ODS, value: 'G1' }], name: 'Green Lane Surgery' });
  await put(g1, patient('gp-a', { nhs: NHS_A, local: [GP_LOCAL, 'G-100'] }));
  await put(g1, patient('gp-r', { nhs: NHS_R, family: 'Patel', given: 'Ravi', birthDate: '1991-06-12', gender: 'male', postalCode: 'SW1A 2AA' }));
  await put(g1, obs('o-gp', 'gp-a', 'Blood pressure'));
  await put(h1, patient('h-1', { nhs: NHS_A, local: [MRN, 'MRN-1'], gp: false }));
  await put(h1, patient('h-2', { local: [MRN, 'MRN-2'], gp: false }));
  await put(h1, patient('h-3', { local: [MRN, 'MRN-3'], family: 'Jonsen', given: 'Margret', gp: false }));
  await put(h1, obs('o-h3', 'h-3', 'Heart rate'));
  await put(h1, {
    resourceType: 'Encounter', id: 'e-h3', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
    subject: { reference: 'Patient/h-3' },
    period: { start: iso(Date.now() - 3 * DAY), end: iso(Date.now() - 2 * DAY) },
    serviceProvider: { identifier: { system: ODS, value: 'H1' } },
  });
});
after(async () => { await node?.close(); });

test('a Patient with an invalid NHS number is refused with a clear 400, and nothing is stored', async () => {
  const bad = patient('bad-1', { nhs: '9000000001' });
  for (const [method, p] of [['POST', 'Patient'], ['PUT', 'Patient/bad-1']]) {
    const r = await fhir(node, method, p, { body: bad });
    assertOutcome(r, 400, { code: 'value', expression: 'Patient.identifier[0].value', diagnostics: /NHS number/ });
  }
  const s = await fhir(node, 'GET', `Patient?identifier=${NHS_SYSTEM}|9000000001`);
  assert.deepEqual(ids(s.json), []);
  assert.equal((await fhir(node, 'GET', 'Patient/bad-1')).status, 404);
  // nine digits, letters, spaces: refused the same way
  for (const value of ['900000000', '90000000O9', '900 000 0009']) {
    const r = await fhir(node, 'POST', 'Patient', { body: patient('x', { nhs: value }) });
    assertOutcome(r, 400, { expression: 'Patient.identifier[0].value' });
  }
  // the operations that take an NHS number check it too
  const m = await fhir(node, 'POST', 'Patient/$match', { body: params({ name: 'resource', resource: bad }) });
  assertOutcome(m, 400, { expression: 'Parameters.parameter[0].resource.identifier[0].value', diagnostics: /NHS number/ });
  const x = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${NHS_SYSTEM}|9000000001`);
  assertOutcome(x, 400, { diagnostics: /not a valid NHS number/ });
});

test('a local identifier finds the record and cross-references to the NHS number and the person\'s other records', async () => {
  // the hospital finds its own record by its hospital number
  const s = await fhir(node, 'GET', `Patient?identifier=${MRN}|MRN-2`, { token: sys('H1') });
  assert.deepEqual(ids(s.json), ['Patient/h-2']);
  // MRN-2 has no NHS number: the index linked it on demographics, so the
  // cross-reference gives the NHS number and every record of the person.
  // The link does not open the hospital's record to the GP (only the NHS
  // number and merges make one person for the access policy): the GP
  // states why
  denied(await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-2`, as(GP)), 'no-relationship');
  const o = as(GP, CLAIM);
  let r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-2`, o);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.resourceType, 'Parameters');
  const targets = (p) => (p.parameter || []).filter((x) => x.name === 'targetIdentifier')
    .map((x) => `${x.valueIdentifier.system}|${x.valueIdentifier.value}`).sort();
  const targetIds = (p) => (p.parameter || []).filter((x) => x.name === 'targetId').map((x) => x.valueReference.reference).sort();
  assert.deepEqual(targets(r.json), [`${GP_LOCAL}|G-100`, `${MRN}|MRN-1`, `${NHS_SYSTEM}|${NHS_A}`].sort());
  assert.deepEqual(targetIds(r.json), ['Patient/gp-a', 'Patient/h-1']);
  // targetSystem narrows to the NHS number
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-2&targetSystem=${NHS_SYSTEM}`, o);
  assert.deepEqual(targets(r.json), [`${NHS_SYSTEM}|${NHS_A}`]);
  // and from the NHS number to the hospital numbers
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${NHS_SYSTEM}|${NHS_A}&targetSystem=${MRN}`, o);
  assert.deepEqual(targets(r.json), [`${MRN}|MRN-1`, `${MRN}|MRN-2`]);
  // the typo record is not linked (it waits for review), so it is not there
  assert.ok(!targetIds(r.json).includes('Patient/h-3'));
  // an identifier nobody has: 404
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|NOPE`, o);
  assertOutcome(r, 404, { code: 'not-found' });
  // the access policy applies: another organisation's system sees none of it
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-2`, { token: sys('RR8') });
  assertOutcome(r, 404);
  // the hospital's system sees only its own records: no GP identifiers
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-2`, { token: sys('H1') });
  assert.deepEqual(targets(r.json), [`${MRN}|MRN-1`, `${NHS_SYSTEM}|${NHS_A}`].sort());
  assert.equal(lastAudit().action, 'search');
});

test('Patient/$match: certain for the same NHS number, probable for a typo, nothing for someone else', async () => {
  const o = as(GP);
  // the NHS number: every record carrying it is certain, score 1
  let b = await match(patient('q', { nhs: NHS_A }), [], as(GP, CLAIM));
  const certain = matches(b).filter((e) => grade(e) === 'certain').map((e) => e.resource.id).sort();
  assert.deepEqual(certain, ['gp-a', 'h-1', 'h-2']);
  for (const e of matches(b).slice(0, 3)) assert.equal(e.search.score, 1);
  // then the typo record, probable, with a lower score
  assert.equal(matches(b)[3]?.resource.id, 'h-3');
  assert.equal(grade(matches(b)[3]), 'probable');
  assert.equal(b.total, matches(b).length);
  // without a reason the GP is shown what the policy lets them open: the
  // records with their registered patient's NHS number (one person), not
  // h-2, linked on demographics alone (links do not open records,
  // docs/mpi.md)
  b = await match(patient('q', { nhs: NHS_A }), [], o);
  assert.deepEqual(matches(b).map((e) => e.resource.id).sort(), ['gp-a', 'h-1']);
  // demographics with a typo in the family name and no NHS number
  b = await match(patient('q', { family: 'Jonson', gp: false }), [], o);
  const byId = Object.fromEntries(matches(b).map((e) => [e.resource.id, e]));
  assert.ok(byId['gp-a'], JSON.stringify(b));
  assert.equal(grade(byId['gp-a']), 'certain', 'one slip, everything else exact: still certain');
  assert.ok(byId['gp-a'].search.score < 1);
  // two slips (family and given name): probable, for a person to review
  b = await match(patient('q', { family: 'Jonsen', given: 'Margret', gp: false }), [], o);
  const typo = matches(b).find((e) => e.resource.id === 'gp-a');
  assert.equal(grade(typo), 'probable');
  assert.ok(typo.search.score > 0.5 && typo.search.score < 1, `score ${typo.search.score}`);
  // best first
  const scores = matches(b).map((e) => e.search.score);
  assert.deepEqual(scores, [...scores].sort((x, y) => y - x));
  // someone else entirely: no candidates
  b = await match(patient('q', { family: 'Okonkwo', given: 'Chidi', birthDate: '2001-01-30', gender: 'male', postalCode: 'N17 6AA' }), [], o);
  assert.equal(b.total, 0);
  assert.equal(matches(b).length, 0);
  // onlyCertainMatches: a typo is not certain, so nothing comes back
  b = await match(patient('q', { family: 'Jonsen', given: 'Margret', gp: false }),
    [{ name: 'onlyCertainMatches', valueBoolean: true }], o);
  assert.equal(b.total, 0);
  // count
  b = await match(patient('q', { nhs: NHS_A }), [{ name: 'count', valueInteger: 1 }], o);
  assert.equal(matches(b).length, 1);
  // candidates go through the access view: another organisation's system
  // is shown none of them
  b = await match(patient('q', { nhs: NHS_A }), [], { token: sys('RR8') });
  assert.equal(b.total, 0);
  assert.doesNotMatch(JSON.stringify(b), /Johnson/);
  // bad requests
  let r = await fhir(node, 'POST', 'Patient/$match', { body: patient('q', {}) });
  assertOutcome(r, 400);
  r = await fhir(node, 'POST', 'Patient/$match', { body: params({ name: 'resource', resource: patient('q') }, { name: 'limit', valueInteger: 3 }) });
  assertOutcome(r, 400, { code: 'not-supported' });
  r = await fhir(node, 'GET', 'Patient/$match');
  assert.equal(r.status, 405);
  assert.equal(lastAudit().action, 'search');
});

test('merge moves the record under the survivor, keeps its history and bytes, and unmerge puts it back', async () => {
  const gp = as(GP);
  const hosp = as(H1);
  // before: the GP's record of Margaret does not hold the hospital's
  // duplicate; the hospital's clinicians have no relationship with it
  let r = await fhir(node, 'GET', 'Patient/gp-a/$everything', gp);
  assert.equal(r.status, 200);
  assert.ok(!ids(r.json).includes('Observation/o-h3'));
  denied(await fhir(node, 'GET', 'Patient/gp-a/$everything', hosp), 'no-relationship');
  // who may merge: not a clinician; not another organisation's system
  // (the record is H1's); registration staff only for records they may open
  const body = params(ref('source-patient', 'h-3'), ref('target-patient', 'gp-a'));
  denied(await fhir(node, 'POST', 'Patient/$merge', { ...as(H1), body }), 'role-not-permitted');
  denied(await fhir(node, 'POST', 'Patient/$merge', { token: sys('G1'), body }), 'organisation');
  denied(await fhir(node, 'POST', 'Patient/$merge', { ...as({ org: 'H1', role: 'R8008' }), body }), 'no-relationship');
  // a preview changes nothing
  r = await fhir(node, 'POST', 'Patient/$merge', { token: sys('H1'),
    body: params(ref('source-patient', 'h-3'), ref('target-patient', 'gp-a'), { name: 'preview', valueBoolean: true }) });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.parameter[0].resource.issue[0].diagnostics, /would Patient\/h-3 merged into Patient\/gp-a/);
  assert.equal((await fhir(node, 'GET', 'Patient/h-3', { token: sys('H1') })).json.meta.versionId, '1');

  // the hospital's system merges its duplicate into the GP record
  r = await fhir(node, 'POST', 'Patient/$merge', { token: sys('H1'), body });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.resourceType, 'Parameters');
  assert.match(r.json.parameter[0].resource.issue[0].diagnostics, /Patient\/h-3 merged into Patient\/gp-a/);
  // the write is audited, with the record it changed
  const audit = lastAudit();
  assert.equal(audit.action, 'update');
  assert.ok(audit.resources.includes('Patient/h-3/_history/2'), JSON.stringify(audit));
  // the source is replaced-by the survivor and inactive; its history stays
  const src = (await fhir(node, 'GET', 'Patient/h-3', { token: sys('H1') })).json;
  assert.deepEqual(src.link, [{ other: { reference: 'Patient/gp-a' }, type: 'replaced-by' }]);
  assert.equal(src.active, false);
  assert.equal(src.meta.versionId, '2');
  const hist = await fhir(node, 'GET', 'Patient/h-3/_history', { token: sys('H1') });
  assert.equal(hist.json.total, 2);
  assert.equal(hist.json.entry[1].resource.link, undefined, 'version 1 is as it was');
  // the survivor belongs to another organisation: left as its GP wrote it
  assert.equal((await fhir(node, 'GET', 'Patient/gp-a', gp)).json.meta.versionId, '1');
  // $everything and searches by the survivor find the merged record's data
  r = await fhir(node, 'GET', 'Patient/gp-a/$everything', gp);
  for (const x of ['Patient/gp-a', 'Observation/o-gp', 'Observation/o-h3', 'Encounter/e-h3', 'Patient/h-3']) {
    assert.ok(ids(r.json).includes(x), `$everything has ${x}`);
  }
  r = await fhir(node, 'GET', 'Observation?patient=gp-a', gp);
  assert.deepEqual(ids(r.json), ['Observation/o-gp', 'Observation/o-h3']);
  r = await fhir(node, 'GET', 'Observation?subject=Patient/h-3', { token: sys('H1') });
  assert.deepEqual(ids(r.json), [], 'the merged record\'s own index is empty');
  // the stored bytes are not rewritten: the Observation still names h-3
  const o = (await fhir(node, 'GET', 'Observation/o-h3', gp)).json;
  assert.equal(o.subject.reference, 'Patient/h-3');
  assert.equal(o.meta.versionId, '1');
  // the access policy sees one person: the hospital's encounter with the
  // merged record is a relationship with the survivor, so its clinicians
  // may now open the whole record, the GP's data included
  r = await fhir(node, 'GET', 'Patient/gp-a/$everything', hosp);
  assert.equal(r.status, 200, r.text);
  assert.ok(ids(r.json).includes('Observation/o-gp'));
  // a later write about the merged record lands with the survivor
  await put(sys('H1'), obs('o-h3-late', 'h-3', 'Temperature'));
  r = await fhir(node, 'GET', 'Observation?patient=gp-a', gp);
  assert.ok(ids(r.json).includes('Observation/o-h3-late'));
  // the merged record is no longer a candidate; the survivor is
  const b = await match(patient('q', { family: 'Jonsen', given: 'Margret', gp: false }), [], as(GP));
  assert.ok(!matches(b).some((e) => e.resource.id === 'h-3'));
  // merging it again, or merging into it, is refused
  r = await fhir(node, 'POST', 'Patient/$merge', { token: sys('H1'), body });
  assertOutcome(r, 409, { diagnostics: /already merged/ });
  r = await fhir(node, 'POST', 'Patient/$merge', { token: sys('H1'), body: params(ref('source-patient', 'h-2'), ref('target-patient', 'h-3')) });
  assertOutcome(r, 409, { diagnostics: /merge into that record/ });

  // unmerge
  r = await fhir(node, 'POST', 'Patient/$unmerge', { token: sys('H1'), body: params(ref('source-patient', 'h-3')) });
  assert.equal(r.status, 200, r.text);
  const back = (await fhir(node, 'GET', 'Patient/h-3', { token: sys('H1') })).json;
  assert.equal(back.link, undefined);
  assert.equal(back.active, true);
  assert.equal(back.meta.versionId, '3');
  assert.equal((await fhir(node, 'GET', 'Patient/h-3/_history', { token: sys('H1') })).json.total, 3);
  r = await fhir(node, 'GET', 'Patient/gp-a/$everything', gp);
  assert.ok(!ids(r.json).includes('Observation/o-h3'));
  assert.ok(!ids(r.json).includes('Observation/o-h3-late'));
  r = await fhir(node, 'GET', 'Observation?subject=Patient/h-3', { token: sys('H1') });
  assert.deepEqual(ids(r.json), ['Observation/o-h3', 'Observation/o-h3-late']);
  r = await fhir(node, 'GET', 'Patient/h-3/$everything', { token: sys('H1') });
  assert.ok(ids(r.json).includes('Encounter/e-h3'));
  denied(await fhir(node, 'GET', 'Patient/gp-a/$everything', hosp), 'no-relationship');
  // unmerging what is not merged
  r = await fhir(node, 'POST', 'Patient/$unmerge', { token: sys('H1'), body: params(ref('source-patient', 'h-3')) });
  assertOutcome(r, 409, { diagnostics: /not merged/ });
});

test('a replaced-by link written by the publisher merges too; a cycle or a missing target is refused', async () => {
  const g1 = sys('G1');
  await put(g1, patient('gp-dup', { local: [GP_LOCAL, 'G-101'], family: 'Johnston' }));
  await put(g1, obs('o-dup', 'gp-dup', 'Weight'));
  const linked = { ...patient('gp-dup', { local: [GP_LOCAL, 'G-101'], family: 'Johnston' }),
    link: [{ other: { reference: 'Patient/gp-a' }, type: 'replaced-by' }] };
  await put(g1, linked);
  let r = await fhir(node, 'GET', 'Patient/gp-a/$everything', as(GP));
  assert.ok(ids(r.json).includes('Observation/o-dup'));
  // gp-a replaced by gp-dup would be a cycle
  r = await fhir(node, 'PUT', 'Patient/gp-a', { token: g1,
    body: { ...patient('gp-a', { nhs: NHS_A, local: [GP_LOCAL, 'G-100'] }), link: [{ other: { reference: 'Patient/gp-dup' }, type: 'replaced-by' }] } });
  assertOutcome(r, 400, { code: 'business-rule', diagnostics: /unmerge it first/ });
  r = await fhir(node, 'PUT', 'Patient/gp-dup', { token: g1,
    body: { ...linked, link: [{ other: { reference: 'Patient/nobody' }, type: 'replaced-by' }] } });
  assertOutcome(r, 400, { code: 'business-rule', diagnostics: /does not hold/ });
  // a clinician may not merge by writing the link either
  r = await fhir(node, 'POST', 'Patient', { ...as(GP), body: { ...patient('x'), link: [{ other: { reference: 'Patient/gp-a' }, type: 'replaced-by' }] } });
  denied(r, 'role-not-permitted');
  // the publisher takes the link out again: unmerged
  await put(g1, patient('gp-dup', { local: [GP_LOCAL, 'G-101'], family: 'Johnston' }));
  r = await fhir(node, 'GET', 'Patient/gp-a/$everything', as(GP));
  assert.ok(!ids(r.json).includes('Observation/o-dup'));
});

test('the review list holds the uncertain pairs; a decision takes a pair off it', async () => {
  const key = (p) => [p.record, p.candidate].sort().join();
  // a clinician may not see the list
  denied(await fhir(node, 'GET', 'Patient/$mpi-review', as(GP)), 'role-not-permitted');
  // registration staff, with a stated reason to open the records
  const reg = as(REG, CLAIM);
  let r = await fhir(node, 'GET', 'Patient/$mpi-review', reg);
  assert.equal(r.status, 200, r.text);
  const pairs = (p) => p.parameter.filter((x) => x.name === 'pair').map((x) => Object.fromEntries(
    x.part.map((y) => [y.name, y.valueReference?.reference ?? y.valueDecimal ?? y.valueCode ?? y.valueInstant])));
  const total = r.json.parameter.find((x) => x.name === 'total').valueInteger;
  const list = pairs(r.json);
  assert.equal(list.length, total);
  // the typo record against the hospital's other records of Margaret
  const typo = list.find((p) => key(p) === 'Patient/h-1,Patient/h-3');
  assert.ok(typo, JSON.stringify(list));
  assert.equal(typo.grade, 'probable');
  assert.ok(typo.score > 0.5 && typo.score < 1, JSON.stringify(typo));
  assert.ok(list.some((p) => key(p) === 'Patient/h-2,Patient/h-3'));
  // the unmerge said h-3 and gp-a are different people: not raised again
  assert.ok(!list.some((p) => key(p) === 'Patient/gp-a,Patient/h-3'));
  // paging
  r = await fhir(node, 'GET', 'Patient/$mpi-review?_count=1', reg);
  assert.equal(pairs(r.json).length, 1);
  const next = r.json.parameter.find((x) => x.name === 'next').valueString;
  const r2 = await fhir(node, 'GET', `Patient/$mpi-review?_count=1&_page=${next}`, reg);
  assert.notDeepEqual(pairs(r2.json), pairs(r.json));
  // the decision: the same person, so the pair leaves the list and h-3
  // joins Margaret's person (the cross-reference now finds it)
  r = await fhir(node, 'POST', 'Patient/$mpi-review', { ...reg,
    body: params(ref('record', 'h-3'), ref('candidate', 'h-1'), { name: 'decision', valueCode: 'same-person' }) });
  assert.equal(r.status, 200, r.text);
  assert.equal(lastAudit().action, 'update');
  r = await fhir(node, 'GET', 'Patient/$mpi-review', reg);
  assert.ok(!pairs(r.json).some((p) => key(p) === 'Patient/h-1,Patient/h-3'));
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-3&targetSystem=${NHS_SYSTEM}`, as(GP, CLAIM));
  assert.deepEqual(r.json.parameter.map((x) => x.valueIdentifier?.value).filter(Boolean), [NHS_A]);
  // writing the record again keeps the decision
  await put(sys('H1'), patient('h-3', { local: [MRN, 'MRN-3'], family: 'Jonsen', given: 'Margret', gp: false }));
  r = await fhir(node, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|MRN-3&targetSystem=${NHS_SYSTEM}`, as(GP, CLAIM));
  assert.deepEqual(r.json.parameter.map((x) => x.valueIdentifier?.value).filter(Boolean), [NHS_A]);
  // a bad decision
  r = await fhir(node, 'POST', 'Patient/$mpi-review', { ...reg,
    body: params(ref('record', 'h-3'), ref('candidate', 'gp-a'), { name: 'decision', valueCode: 'maybe' }) });
  assertOutcome(r, 400);
});

test('the CapabilityStatement lists the operations', async () => {
  const r = await fhir(node, 'GET', 'metadata', { token: null });
  const pat = r.json.rest[0].resource.find((x) => x.type === 'Patient');
  const names = pat.operation.map((o) => o.name);
  for (const op of ['everything', 'ihe-pix', 'match', 'merge', 'mpi-review', 'unmerge']) assert.ok(names.includes(op), op);
  assert.equal(pat.operation.find((o) => o.name === 'match').definition, 'http://hl7.org/fhir/OperationDefinition/Patient-match');
});

test('the weights and thresholds come from the configuration; a bad "mpi" section stops the node', async () => {
  // a threshold no pair reaches: nothing links on demographics
  const strict = await startNode({ config: { mpi: { upper: 45, probable: 44, lower: 43 } } });
  try {
    const h1 = strict.token({ org: 'H1', sub: 'sys-H1' });
    for (const p of [patient('s-1', { nhs: NHS_A, local: [MRN, 'S-1'], gp: false }), patient('s-2', { local: [MRN, 'S-2'], gp: false })]) {
      const r = await fhir(strict, 'PUT', `Patient/${p.id}`, { body: p, token: h1 });
      assert.equal(r.status, 201, r.text);
    }
    const r = await fhir(strict, 'GET', `Patient/$ihe-pix?sourceIdentifier=${MRN}|S-2`, { token: h1 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.parameter, undefined, 'the exact duplicate is not linked under these thresholds');
    const b = await fhir(strict, 'POST', 'Patient/$match', { token: h1, body: params({ name: 'resource', resource: patient('q', { gp: false }) }) });
    assert.equal(b.json.total, 0);
  } finally {
    await strict.close();
  }
  // a typo in a key is refused at start, naming the key
  const dir = tempDir();
  const cfg = `${dir}/bad.json`;
  fs.writeFileSync(cfg, JSON.stringify({ mpi: { fields: { birth_date: { exact: { m: 2 } } } } }));
  const r = runBin(['serve', '--listen', '127.0.0.1:0', '--data', `${dir}/data`, '--config', cfg]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /mpi\.fields\.birth_date\.exact\.m/);
});
