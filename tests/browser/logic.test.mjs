// logic.test.mjs: the UI's pure modules (web/js/), run in Node: NHS
// number checks, how a record is built from $everything (sections,
// sources, series, alerts, partial answers), the care plan rules and the
// transaction that saves a plan, and reading the audit report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nhsValid, nhsProblem, nhsFormat, nhsDigits } from '../../web/js/nhs.js';
import { buildRecord, timeline } from '../../web/js/record.js';
import { validatePlan, planTransaction, formFrom } from '../../web/js/careplan-data.js';
import { parseReport } from '../../web/js/audit-data.js';
import { sourceNodeOf, fmtDate, age } from '../../web/js/fhir.js';
import { worldData, ORG } from './world.mjs';

test('NHS numbers: Modulus 11, 10-digit form, 3-3-4 display', () => {
  for (const ok of ['9912003888', '9000000009', '9476719931', '9434765919']) {
    assert.equal(nhsValid(ok), true, ok);
  }
  assert.equal(nhsValid('9000000008'), false, 'wrong check digit');
  assert.equal(nhsValid('1000000010'), false, 'check value 10 is never valid');
  assert.equal(nhsProblem(''), 'Enter an NHS number');
  assert.match(nhsProblem('12345'), /10 digits \(you entered 5\)/);
  assert.match(nhsProblem('90000000O9'), /digits only/);
  assert.equal(nhsProblem('900 000 0009'), '');
  assert.equal(nhsDigits('900-000-0009'), '9000000009');
  assert.equal(nhsFormat('9000000009'), '900 000 0009');
});

test('dates and ages for people', () => {
  assert.equal(fmtDate('2024-08-31'), '31 Aug 2024');
  assert.equal(fmtDate('2024-08'), 'Aug 2024');
  assert.equal(age('1941-03-14', new Date('2026-03-13T12:00:00Z')), 84);
  assert.equal(age('1941-03-14', new Date('2026-03-14T12:00:00Z')), 85);
});

function p1Record(outcomes = [], now = new Date()) {
  const all = Object.values(worldData()).flat();
  const p1 = all.filter((r) => r.resourceType === 'Organization' || r.id === 'P1' || r.id?.startsWith('p1-'));
  return buildRecord(p1, outcomes, { thisNode: 'nel', now });
}

test('a record: sections with source organisation and node, repeat medicines, series, alerts', () => {
  const rec = p1Record([{ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'suppressed', diagnostics: 'withheld' }] }]);
  assert.equal(rec.patient.id, 'P1');
  assert.deepEqual(rec.registeredGp, ['Green Lane Synthetic GP Practice']);
  const meds = rec.sections.medications;
  assert.equal(meds.length, 1, 'the authorisation with its issues is one row');
  assert.match(meds[0].detail, /^3 issues/);
  const dis = rec.sections.encounters.find((i) => i.kind === 'Discharge summary');
  assert.equal(dis.source.orgName, 'Synthetic Royal Hospital');
  assert.equal(dis.source.node, 'nel', 'this node when the item names none');
  assert.equal(rec.series.length, 1);
  assert.deepEqual(rec.series[0].lines.map((l) => [l.label, l.points.length]), [['Systolic', 4], ['Diastolic', 4]]);
  const ids = rec.alerts.map((a) => a.id);
  assert.deepEqual(ids, ['careplan', 'allergies', 'withheld']);
  assert.equal(rec.cpr.isOverdue, true);
  assert.equal(rec.alerts[0].level, 'critical', 'not for CPR leads');
  assert.ok(timeline(rec).every((a, i, xs) => i === 0 || (Date.parse(xs[i - 1].when) || 0) >= (Date.parse(a.when) || 0)), 'timeline newest first');
  assert.ok(rec.sections.careplans[0].isEol);
});

test('a federated answer: items keep their source node; an unreachable node makes the record partial', () => {
  assert.equal(sourceNodeOf({ meta: { tag: [{ system: 'https://carerecord.example/node', code: 'sel' }] } }, 'nel'), 'sel');
  assert.equal(sourceNodeOf({ meta: { source: 'https://sel.example/fhir#sel' } }, 'nel'), 'sel');
  const rec = p1Record([{ resourceType: 'OperationOutcome', meta: { tag: [{ system: 'https://carerecord.example/node', code: 'swl' }] },
    issue: [{ severity: 'warning', code: 'timeout', diagnostics: 'node swl did not answer within 5 s' }] }]);
  assert.deepEqual(rec.partial, [{ text: 'node swl did not answer within 5 s', node: 'swl', code: 'timeout' }]);
  assert.equal(rec.alerts[0].id, 'partial');
  assert.equal(rec.withheld, false);
});

const goodForm = (over = {}) => ({
  ...formFrom(null),
  cpr: '450475007', cprDate: '2026-01-10', reviewDate: '2026-07-10', discussedWith: 'the patient',
  whatMatters: 'home', ceiling: 'Full escalation including intensive care.', ...over,
});

test('care plan rules: each would be broken by a wrong form', () => {
  const now = '2026-02-01';
  assert.deepEqual(validatePlan(goodForm(), now), []);
  const fields = (f) => validatePlan(f, now).map((e) => e.field);
  assert.deepEqual(fields(goodForm({ cpr: '' })), ['cpr']);
  assert.deepEqual(fields(goodForm({ cprDate: '2026-03-01', reviewDate: '2026-09-01' })), ['cprDate'], 'decision in the future');
  assert.deepEqual(fields(goodForm({ reviewDate: '2026-01-10' })), ['reviewDate'], 'review not after the decision');
  assert.deepEqual(fields(goodForm({ reviewDate: '2026-01-20' })), ['reviewDate'], 'review date already passed');
  assert.deepEqual(fields(goodForm({ cpr: '450476008' })), ['endorser'], 'not for CPR needs an endorser');
  assert.deepEqual(fields(goodForm({ cpr: '450476008', endorser: 'Dr S' })), []);
  assert.deepEqual(fields(goodForm({ contacts: [{ given: 'A', family: 'B', isLpa: true }] })), ['lpa'], 'an LPA person needs the LPA flag');
  assert.deepEqual(fields(goodForm({ lpa: 'yes' })), ['lpa'], 'an LPA flag needs the person');
  assert.deepEqual(fields(goodForm({ contacts: [{ given: '', family: '' }] })), ['contact-0-family']);
  assert.deepEqual(fields(goodForm({ contacts: [{ given: 'A', phone: 'call me' }] })), ['contact-0-phone']);
  assert.deepEqual(fields(goodForm({ adrt: 'yes' })), ['adrtLocation']);
  assert.deepEqual(fields(goodForm({ whatMatters: ' ', ceiling: '' })), ['whatMatters', 'ceiling']);
});

test('saving a plan: one transaction; a new plan POSTs with urn:uuid links, a revision PUTs with If-Match', () => {
  const user = { name: 'Dr G', org: ORG.gp, sub: 'gp-1' };
  const b = planTransaction({ patientId: 'P5', existing: null, form: goodForm({ contacts: [{ given: 'Tom', family: 'N', isLpa: true }], lpa: 'yes' }), user });
  assert.equal(b.type, 'transaction');
  assert.ok(b.entry.every((e) => e.request.method === 'POST' && /^urn:uuid:[0-9a-f-]{36}$/.test(e.fullUrl)));
  const plan = b.entry.at(-1).resource;
  assert.equal(plan.resourceType, 'CarePlan');
  assert.deepEqual(plan.supportingInfo.map((s) => s.reference), b.entry.slice(0, -1).map((e) => e.fullUrl));
  assert.deepEqual(plan.meta.tag, [{ system: 'https://carerecord.example/publisher', code: ORG.gp }]);
  const cpr = b.entry[0].resource;
  assert.equal(cpr.valueCodeableConcept.coding[0].code, '450475007');
  assert.equal(cpr.component[0].valueDateTime, '2026-07-10');

  const existing = { id: 'p1-ucp', version: '3', res: { resourceType: 'CarePlan', id: 'p1-ucp', meta: { versionId: '3' }, subject: { reference: 'Patient/P5' } },
    cprObs: { id: 'p1-cpr' }, contacts: [] };
  const r = planTransaction({ patientId: 'P5', existing, form: goodForm(), user });
  const put = r.entry.find((e) => e.resource.resourceType === 'CarePlan');
  assert.deepEqual(put.request, { method: 'PUT', url: 'CarePlan/p1-ucp', ifMatch: 'W/"3"' });
  assert.equal(put.resource.id, 'p1-ucp');
  assert.equal(r.entry[0].request.url, 'Observation/p1-cpr', 'the CPR decision is revised in place, so it keeps its history');
});

test('the audit report: alerts and series from Parameters', () => {
  const rep = parseReport({ resourceType: 'Parameters', parameter: [
    { name: 'alert', part: [{ name: 'id', valueString: 'a1' }, { name: 'code', valueCode: 'emergency' }, { name: 'patient', valueReference: { reference: 'Patient/P1' } }, { name: 'status', valueCode: 'reviewed' }] },
    { name: 'distinct-users', part: [{ name: 'point', part: [{ name: 'label', valueString: '2026-01' }, { name: 'value', valueInteger: 7 }] }] },
    { name: 'ignored', valueString: 'x' },
  ] });
  assert.deepEqual(rep.alerts.map((a) => [a.id, a.code, a.patient, a.status]), [['a1', 'emergency', 'Patient/P1', 'reviewed']]);
  assert.deepEqual(rep.series, [{ name: 'distinct-users', title: 'distinct-users', points: [{ label: '2026-01', value: 7 }] }]);
});
