// audit_review.test.mjs: POST /fhir/$audit-review, a privacy officer's
// review of an alert. The review is a record of its own in the
// hash-chained audit log, the alert's record is never changed, an alert is
// reviewed once (409 after, also when two officers review at once), only
// by a privacy officer of the organisation whose staff raised it, and bad
// input is a 400 naming the parameter with no review recorded. Then
// $audit-report, the command line's report and AuditEvent show the review;
// the patient sees that their record's access was reviewed, by which
// organisation, but not the outcome or the note.
//
// The alerts are raised by real reads: clinicians of A81001 (a GP
// practice) open a patient of RR8 (a trust) with a self-claimed reason; a
// paramedic of RRU breaks the glass.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, runBin, sampleResource, assertOutcome, systemHistoryTotal, sqlite,
  paramsNamed as named, paramOne as one, NHS_SYSTEM,
} from './lib.mjs';

const EXT = 'https://carerecord.example/StructureDefinition/audit-';
const NHS_P = '9000000009';

const TRUST = { sub: 'trust-feed', name: 'Trust EPR', org: 'RR8', role: 'R8000', purpose: 'system' };
const OFFICER = { sub: 'po-gp', name: 'Priya Guard', org: 'A81001', role: 'R8008', purpose: 'audit' };
const OFFICER2 = { sub: 'po-gp-2', name: 'Second Officer', org: 'A81001', role: 'R8008', purpose: 'audit' };
const LAS_OFFICER = { sub: 'po-las', name: 'LAS officer', org: 'RRU', role: 'R8008', purpose: 'audit' };
const CLINICIAN = { sub: 'gp-dr', name: 'Dr Claim', org: 'A81001', role: 'R8000', purpose: 'direct-care' };
const PARAMEDIC = { sub: 'las-crew', name: 'Paramedic', org: 'RRU', role: 'R8000', purpose: 'emergency' };
const PATIENT = { sub: 'nhs-login-p', name: 'The Patient', org: 'RR8', role: 'R8000', purpose: 'patient-access', patient: NHS_P };

let node;
let patientId;
const alerts = {};   // record numbers of alerts, by name

const sql = (statement) => sqlite(node.dataDir, statement);
const params = (...list) => ({ resourceType: 'Parameters', parameter: list });
const review = (who, body, opts = {}) => fhir(node, 'POST', '$audit-review', { token: node.token(who), body, ...opts });
const byRecord = (seq, outcome, note) => params({ name: 'record', valueInteger: seq }, { name: 'outcome', valueCode: outcome },
  ...(note ? [{ name: 'note', valueString: note }] : []));

// The newest audit record of 'sub' (seq), read from the table.
const lastOf = (sub) => Number(sql(`SELECT max(seq) FROM audit WHERE principal_sub='${sub}'`));
// Records holding a review (the member only reviews have).
const reviewRows = () => Number(sql(`SELECT count(*) FROM audit WHERE body LIKE '%"review":{%'`));

// The alert parameter of $audit-report for record 'seq'.
async function reportAlert(officer, seq) {
  const r = await fhir(node, 'GET', '$audit-report', { token: node.token(officer) });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  return named(r.json.parameter, 'alert').find((a) => named(a.part, 'record')[0]?.valueInteger === seq);
}

before(async () => {
  node = await startNode();
  const trust = node.token(TRUST);
  const p = await fhir(node, 'POST', 'Patient', {
    token: trust, body: sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: NHS_P }] }),
  });
  assert.equal(p.status, 201, p.text);
  patientId = p.json.id;
  const claim = async (reason) => {
    const r = await fhir(node, 'GET', `Patient/${patientId}`, {
      token: node.token(CLINICIAN), headers: { 'x-access-reason': `self-claimed: ${reason}` },
    });
    assert.equal(r.status, 200, r.text);
    return lastOf(CLINICIAN.sub);
  };
  alerts.first = await claim('covering for a colleague');
  alerts.second = await claim('asked by the ward');
  alerts.race = await claim('on call');
  alerts.third = await claim('discharge planning');
  const glass = await fhir(node, 'GET', `Patient/${patientId}`, {
    token: node.token(PARAMEDIC), headers: { 'x-access-reason': 'emergency: life-threatening found collapsed' },
  });
  assert.equal(glass.status, 200, glass.text);
  alerts.las = lastOf(PARAMEDIC.sub);
  // a read without an alert: the source system reading its own data
  assert.equal((await fhir(node, 'GET', `Patient/${patientId}`, { token: trust })).status, 200);
  alerts.none = lastOf(TRUST.sub);
});
after(async () => { await node?.close(); });

test('the CapabilityStatement declares $audit-review', async () => {
  const r = await fhir(node, 'GET', 'metadata', { token: null });
  const op = r.json.rest[0].operation.find((o) => o.name === 'audit-review');
  assert.ok(op, 'audit-review is listed');
  assert.match(op.definition, /OperationDefinition\/audit-review$/);
});

test('an alert is open until reviewed; the review is a record of its own and the alert is shown reviewed', async () => {
  const before_ = await reportAlert(OFFICER, alerts.first);
  assert.ok(before_, 'the self-claim alert is in the report');
  assert.equal(named(before_.part, 'review').length, 0, 'not reviewed yet');
  const alertBody = sql(`SELECT body || hash FROM audit WHERE seq=${alerts.first}`);

  const r = await review(OFFICER, byRecord(alerts.first, 'explained', 'Covering A&E; confirmed with the rota'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.resourceType, 'Parameters');
  const reviewRef = one(r.json.parameter, 'review').valueReference.reference;
  assert.match(reviewRef, /^AuditEvent\/\d+$/);
  const reviewSeq = Number(reviewRef.split('/')[1]);
  assert.ok(reviewSeq > alerts.first);
  assert.equal(one(r.json.parameter, 'record').valueInteger, alerts.first);
  assert.equal(one(r.json.parameter, 'outcome').valueCode, 'explained');
  assert.equal(one(r.json.parameter, 'user').valueString, OFFICER.sub);

  // the alert's record is untouched; the review is the request's one record
  assert.equal(sql(`SELECT body || hash FROM audit WHERE seq=${alerts.first}`), alertBody);
  assert.equal(lastOf(OFFICER.sub), reviewSeq, 'the review is the request\'s record: nothing after it by the officer');
  assert.equal(sql(`SELECT action || '|' || outcome || '|' || patient FROM audit WHERE seq=${reviewSeq}`),
    `review|allowed|${patientId}`);

  // $audit-report: reviewed, with the outcome, who and when
  const after_ = await reportAlert(OFFICER, alerts.first);
  const rv = one(after_.part, 'review').part;
  assert.equal(one(rv, 'outcome').valueCode, 'explained');
  assert.equal(one(rv, 'record').valueInteger, reviewSeq);
  assert.equal(one(rv, 'user').valueString, OFFICER.sub);
  assert.equal(one(rv, 'userName').valueString, OFFICER.name);
  assert.equal(one(rv, 'note').valueString, 'Covering A&E; confirmed with the rota');
  assert.ok(Math.abs(Date.parse(one(rv, 'time').valueInstant) - Date.now()) < 60000);
  assert.equal(named((await reportAlert(OFFICER, alerts.second)).part, 'review').length, 0, 'the other alerts stay open');

  // the review as an AuditEvent (fhir() validates it against the R4 schema)
  const ev = await fhir(node, 'GET', reviewRef, { token: node.token(OFFICER) });
  assert.equal(ev.status, 200, ev.text);
  assert.equal(ev.json.action, 'E');
  assert.deepEqual(ev.json.subtype.map((c) => c.code), ['operation', 'review']);
  const ext = ev.json.extension.find((e) => e.url === `${EXT}review`);
  const sub = Object.fromEntries(ext.extension.map((e) => [e.url, e.valueReference?.reference ?? e.valueCode ?? e.valueString]));
  assert.deepEqual(sub, { record: `AuditEvent/${alerts.first}`, outcome: 'explained', note: 'Covering A&E; confirmed with the rota' });
  const refs = ev.json.entity.map((e) => e.what.reference).filter(Boolean);
  assert.deepEqual(refs, [`Patient/${patientId}`, `AuditEvent/${alerts.first}`]);
  // searchable by its action
  const found = await fhir(node, 'GET', 'AuditEvent?subtype=review', { token: node.token(OFFICER) });
  assert.deepEqual(found.json.entry.map((e) => e.resource.id), [String(reviewSeq)]);
  // the chain still verifies
  const v = runBin(['audit', 'verify', '--data', node.dataDir]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('an alert is reviewed once: a second review is 409, by record or by reference, and changes nothing', async () => {
  const rows = reviewRows();
  let r = await review(OFFICER, byRecord(alerts.second, 'appropriate'));
  assert.equal(r.status, 200, r.text);
  r = await review(OFFICER2, byRecord(alerts.second, 'inappropriate', 'second thoughts'));
  assertOutcome(r, 409, { code: 'conflict', expression: 'record', diagnostics: /already reviewed/ });
  r = await review(OFFICER, params({ name: 'auditEvent', valueReference: { reference: `${node.fhirBase}/AuditEvent/${alerts.second}` } },
    { name: 'outcome', valueCode: 'escalated' }));
  assertOutcome(r, 409);
  assert.equal(reviewRows(), rows + 1);
  const rv = one((await reportAlert(OFFICER, alerts.second)).part, 'review').part;
  assert.equal(one(rv, 'outcome').valueCode, 'appropriate', 'the first review stands');
  assert.equal(named(rv, 'note').length, 0);
});

test('two officers reviewing one alert at once: exactly one review is recorded', async () => {
  const rows = reviewRows();
  const outcomes = ['appropriate', 'explained', 'escalated', 'inappropriate', 'explained', 'appropriate'];
  const answers = await Promise.all(outcomes.map((o, i) => review(i % 2 ? OFFICER2 : OFFICER, byRecord(alerts.race, o))));
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409], answers.map((a) => a.text.slice(0, 200)).join('\n'));
  assert.equal(reviewRows(), rows + 1);
  const won = answers.find((a) => a.status === 200);
  const rv = one((await reportAlert(OFFICER, alerts.race)).part, 'review').part;
  assert.equal(one(rv, 'outcome').valueCode, one(won.json.parameter, 'outcome').valueCode);
  const v = runBin(['audit', 'verify', '--data', node.dataDir]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('only a privacy officer of the organisation whose staff raised the alert may review it', async () => {
  const rows = reviewRows();
  // another organisation's officer
  let r = await review(LAS_OFFICER, byRecord(alerts.third, 'appropriate'));
  assertOutcome(r, 403, { code: 'forbidden', diagnostics: /another organisation's staff/ });
  // ... who may review their own staff's
  r = await review(LAS_OFFICER, byRecord(alerts.las, 'appropriate', 'crew attended a cardiac arrest'));
  assert.equal(r.status, 200, r.text);
  // and the GP practice's officer may not review the ambulance service's
  r = await review(OFFICER, byRecord(alerts.las, 'inappropriate'));
  assertOutcome(r, 403);
  // purposes other than audit
  for (const who of [CLINICIAN, PARAMEDIC, PATIENT, { ...OFFICER, purpose: 'direct-care' }]) {
    r = await review(who, byRecord(alerts.third, 'appropriate'));
    assertOutcome(r, 403, { code: 'forbidden', diagnostics: /purpose is 'audit'/ });
  }
  assert.equal(reviewRows(), rows + 1);
  assert.equal(named((await reportAlert(OFFICER, alerts.third)).part, 'review').length, 0);
});

test('an unknown record, or one that raised no alert, is 404', async () => {
  const head = Number(sql('SELECT max(seq) FROM audit'));
  assertOutcome(await review(OFFICER, byRecord(head + 1000, 'appropriate')), 404, { code: 'not-found', expression: 'record' });
  // a record without an alert: the LAS officer's own org has one (the
  // paramedic's is an alert); a GP officer's own request records have none
  const plain = lastOf(OFFICER.sub);
  const r = await review(OFFICER, byRecord(plain, 'appropriate'));
  assertOutcome(r, 404, { diagnostics: /raised no alert/ });
});

test('bad input is a 400 naming the parameter; nothing is reviewed and no data changes', async () => {
  const rows = reviewRows();
  const history = await systemHistoryTotal(node);
  const s = alerts.third;
  const cases = [
    [params({ name: 'record', valueInteger: s }), 'outcome'],
    [params({ name: 'record', valueInteger: s }, { name: 'outcome', valueCode: 'fine' }), 'outcome'],
    [params({ name: 'record', valueInteger: s }, { name: 'outcome', valueString: 'explained' }), 'outcome'],
    [params({ name: 'outcome', valueCode: 'explained' }), 'record'],
    [params({ name: 'record', valueInteger: 0 }, { name: 'outcome', valueCode: 'explained' }), 'record'],
    [params({ name: 'record', valueString: String(s) }, { name: 'outcome', valueCode: 'explained' }), 'record'],
    [params({ name: 'auditEvent', valueReference: { reference: `Patient/${patientId}` } }, { name: 'outcome', valueCode: 'explained' }), 'auditEvent'],
    [params({ name: 'record', valueInteger: s }, { name: 'auditEvent', valueReference: { reference: `AuditEvent/${s + 1}` } },
      { name: 'outcome', valueCode: 'explained' }), 'auditEvent'],
    [params({ name: 'record', valueInteger: s }, { name: 'record', valueInteger: s }, { name: 'outcome', valueCode: 'explained' }), 'record'],
    [params({ name: 'record', valueInteger: s }, { name: 'outcome', valueCode: 'explained' }, { name: 'colour', valueString: 'blue' }), 'colour'],
    [params({ name: 'record', valueInteger: s }, { name: 'outcome', valueCode: 'explained' }, { name: 'note', valueString: 'x'.repeat(2001) }), 'note'],
    [params({ name: 'record', valueInteger: s }, { name: 'outcome', valueCode: 'explained' }, { name: 'note', valueInteger: 3 }), 'note'],
    [{ resourceType: 'Patient' }, 'resourceType'],
  ];
  for (const [body, name] of cases) {
    const r = await review(OFFICER, body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 200)}: ${r.status} ${r.text.slice(0, 300)}`);
    assertOutcome(r, 400);
    assert.equal(r.json.issue[0].expression?.[0], name, `${name}: ${r.text.slice(0, 300)}`);
    assert.ok(r.json.issue[0].diagnostics.includes(name), `the sentence names ${name}: ${r.json.issue[0].diagnostics}`);
  }
  // a Parameters that is not valid FHIR, JSON that is not JSON, no body
  assertOutcome(await review(OFFICER, { resourceType: 'Parameters', parameter: [{ valueCode: 'x' }] }), 400);
  assertOutcome(await review(OFFICER, '{"resourceType":'), 400, { code: 'structure' });
  assertOutcome(await review(OFFICER, ''), 400);
  // not JSON at all, and the wrong method
  assertOutcome(await review(OFFICER, byRecord(s, 'explained'), { headers: { 'content-type': 'text/plain' } }), 415);
  const get = await fhir(node, 'GET', '$audit-review', { token: node.token(OFFICER) });
  assertOutcome(get, 405);
  assert.equal(get.headers.allow, 'POST');
  // a note at the limit is fine (checked last: it reviews the alert)
  assert.equal(reviewRows(), rows, 'no review was recorded');
  assert.equal(await systemHistoryTotal(node), history, 'no resource changed');
  assert.equal(named((await reportAlert(OFFICER, s)).part, 'review').length, 0, 'the alert is still open');
  // every refused attempt is recorded as such, and holds no review
  const refused = sql(`SELECT count(*) FROM audit WHERE action='review' AND outcome IN ('failed','denied') AND body NOT LIKE '%"review":{%'`);
  assert.ok(Number(refused) >= cases.length + 5, refused);
  const r = await review(OFFICER, byRecord(s, 'inappropriate', 'é'.repeat(2000)));
  assert.equal(r.status, 200, r.text);
  assert.equal(reviewRows(), rows + 1);
});

test('the command line report shows each alert open or reviewed, with the outcome, who and when', () => {
  const text = runBin(['audit', 'report', '--data', node.dataDir, '--org', 'A81001']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /Alerts to review: 4 \(4 reviewed, 0 open\)\n/);
  assert.match(text.stdout, new RegExp(`record ${alerts.first} .*\\n(.*\\n)*? {4}reviewed: explained, by Priya Guard \\(user po-gp\\) at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d, record \\d+\\n {4}note: Covering A&E; confirmed with the rota\\n`));
  const json = runBin(['audit', 'report', '--data', node.dataDir, '--org', 'A81001', '--format', 'json']);
  const alert = named(JSON.parse(json.stdout).parameter, 'alert').find((a) => one(a.part, 'record').valueInteger === alerts.first);
  assert.equal(one(one(alert.part, 'review').part, 'outcome').valueCode, 'explained');
});

test('the patient sees that an access to their record was reviewed, and by which organisation, not the outcome or the note', async () => {
  const r = await fhir(node, 'GET', 'AuditEvent?subtype=review', { token: node.token(PATIENT) });
  assert.equal(r.status, 200, r.text);
  const evs = r.json.entry.map((e) => e.resource);
  assert.ok(evs.length >= 3, `${evs.length} reviews`);
  for (const ev of evs) {
    const ext = ev.extension.find((e) => e.url === `${EXT}review`);
    assert.deepEqual(ext.extension.map((e) => e.url), ['record']);
    const org = ev.agent.find((a) => a.who?.identifier?.system === 'https://fhir.nhs.uk/Id/ods-organization-code');
    assert.ok(['A81001', 'RRU'].includes(org.who.identifier.value));
  }
  const text = JSON.stringify(evs);
  for (const secret of ['Priya Guard', 'po-gp', 'Covering', 'explained', 'inappropriate', 'cardiac'])
    assert.ok(!text.includes(secret), `the patient's view does not contain ${secret}`);
});

test('an unusual volume is reviewed by member of staff and UK day, once, by their own organisation', async () => {
  const ukDay = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date(ms));
  const today = ukDay(Date.now());
  const volumeOf = async (officer, user) => {
    const r = await fhir(node, 'GET', '$audit-report?volume-threshold=1', { token: node.token(officer) });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    return named(r.json.parameter, 'alert').find((a) => named(a.part, 'record').length === 0 &&
      one(a.part, 'user')?.valueString === user && one(a.part, 'day')?.valueDate === today);
  };
  const byVolume = (user, day, outcome, note) => params({ name: 'user', valueString: user }, { name: 'day', valueDate: day },
    { name: 'outcome', valueCode: outcome }, ...(note ? [{ name: 'note', valueString: note }] : []));
  // a second patient read today: two, over a threshold of one
  const p2 = await fhir(node, 'POST', 'Patient', { token: node.token(TRUST), body: sampleResource('Patient') });
  assert.equal(p2.status, 201, p2.text);
  const read2 = await fhir(node, 'GET', `Patient/${p2.json.id}`, {
    token: node.token(CLINICIAN), headers: { 'x-access-reason': 'self-claimed: ward round' },
  });
  assert.equal(read2.status, 200, read2.text);
  const open = await volumeOf(OFFICER, CLINICIAN.sub);
  assert.ok(open, 'the clinician read two patients today');
  assert.equal(named(open.part, 'review').length, 0, 'open');
  const rows = reviewRows();

  // bad input, another day, another organisation's member of staff: nothing recorded
  for (const [body, name] of [
    [params({ name: 'user', valueString: CLINICIAN.sub }, { name: 'outcome', valueCode: 'explained' }), 'day'],
    [byVolume(CLINICIAN.sub, '2025-02', 'explained'), 'day'],
    [params({ name: 'record', valueInteger: alerts.first }, { name: 'user', valueString: CLINICIAN.sub },
      { name: 'day', valueDate: today }, { name: 'outcome', valueCode: 'explained' }), 'user'],
  ]) {
    const r = await review(OFFICER, body);
    assertOutcome(r, 400);
    assert.equal(r.json.issue[0].expression?.[0], name, r.text);
  }
  assertOutcome(await review(OFFICER, byVolume(CLINICIAN.sub, ukDay(Date.now() - 3 * 86400000), 'explained')), 404);
  assertOutcome(await review(OFFICER, byVolume(PARAMEDIC.sub, today, 'explained')), 404);
  assertOutcome(await review(LAS_OFFICER, byVolume(CLINICIAN.sub, today, 'explained')), 404);
  assert.equal(reviewRows(), rows, 'nothing was reviewed');

  const r = await review(OFFICER, byVolume(CLINICIAN.sub, today, 'appropriate', 'ward round: every patient on the list'));
  assert.equal(r.status, 200, r.text);
  const vol = one(r.json.parameter, 'volume');
  assert.equal(one(vol.part, 'user').valueString, CLINICIAN.sub);
  assert.equal(one(vol.part, 'day').valueDate, today);
  assert.equal(reviewRows(), rows + 1);
  const rec = JSON.parse(sql(`SELECT body FROM audit WHERE seq = (SELECT max(seq) FROM audit WHERE action = 'review')`));
  assert.deepEqual(rec.review, { user: CLINICIAN.sub, day: today, outcome: 'appropriate', note: 'ward round: every patient on the list' });

  const shown = await volumeOf(OFFICER, CLINICIAN.sub);
  const rv = one(shown.part, 'review');
  assert.equal(one(rv.part, 'outcome').valueCode, 'appropriate');
  assert.equal(one(rv.part, 'user').valueString, OFFICER.sub);
  assert.equal(one(rv.part, 'note').valueString, 'ward round: every patient on the list');

  const again = await review(OFFICER2, byVolume(CLINICIAN.sub, today, 'inappropriate'));
  assertOutcome(again, 409);
  assert.equal(reviewRows(), rows + 1, 'recorded once');
  const text = runBin(['audit', 'report', '--data', node.dataDir, '--org', 'A81001', '--volume-threshold', '1']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /Unusual volume \(more than 1 distinct patients by one user in one UK day\): 1 \(1 reviewed, 0 open\)\n/);
  assert.match(text.stdout, /reviewed: appropriate, by Priya Guard \(user po-gp\)/);
  assert.equal(runBin(['audit', 'verify', '--data', node.dataDir]).status, 0, 'the chain still verifies');
});
