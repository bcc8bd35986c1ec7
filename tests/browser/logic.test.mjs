// logic.test.mjs: the UI's pure modules (web/js/), run in Node: NHS
// number checks, how a record is built from $everything (sections,
// sources, series, alerts, partial answers), the care plan rules and the
// transaction that saves a plan, and reading the audit API: the report,
// AuditEvents as the trail and as a patient sees them, UK days.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nhsValid, nhsProblem, nhsFormat, nhsDigits } from '../../web/js/nhs.js';
import { buildRecord, timeline } from '../../web/js/record.js';
import { validatePlan, planTransaction, formFrom } from '../../web/js/careplan-data.js';
import {
  parseReport, trailRow, lookedRow, trailQuery, trailCriteria, ukDayStart, ukDayOf,
} from '../../web/js/audit-data.js';
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

// The shape of GET /fhir/$audit-report (src/audit/report_render.c).
const ODS = { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Z10901' };
const SETTING = 'https://carerecord.example/CodeSystem/care-setting';
const report = { resourceType: 'Parameters', parameter: [
  { name: 'organization', valueIdentifier: ODS },
  { name: 'volumeThreshold', valueInteger: 50 },
  { name: 'records', valueInteger: 120 },
  { name: 'unreadable', valueInteger: 0 },
  { name: 'alert', part: [
    { name: 'code', valueCode: 'self-claimed' }, { name: 'code', valueCode: 'out-of-hours' },
    { name: 'record', valueInteger: 17 }, { name: 'time', valueInstant: '2025-07-03T21:15:02.120Z' },
    { name: 'user', valueString: 'gp-1' }, { name: 'userName', valueString: 'Dr Grace Green' },
    { name: 'organization', valueIdentifier: ODS }, { name: 'role', valueCode: 'R8000' },
    { name: 'purpose', valueCode: 'direct-care' }, { name: 'reason', valueString: 'self-claimed: covering' },
    { name: 'patient', valueReference: { reference: 'Patient/P9' } }, { name: 'action', valueCode: 'read' },
    { name: 'outcome', valueCode: 'allowed' }, { name: 'status', valueInteger: 200 }, { name: 'basis', valueCode: 'self-claimed' },
    { name: 'review', part: [{ name: 'outcome', valueCode: 'explained' }, { name: 'record', valueInteger: 30 },
      { name: 'time', valueInstant: '2025-07-04T09:00:00.000Z' }, { name: 'user', valueString: 'po-1' },
      { name: 'userName', valueString: 'Priya Guard' }, { name: 'note', valueString: 'rota' }] }] },
  { name: 'alert', part: [{ name: 'code', valueCode: 'volume' }, { name: 'day', valueDate: '2025-07-03' },
    { name: 'patients', valueInteger: 61 }, { name: 'user', valueString: 'rec-1' }, { name: 'organization', valueIdentifier: ODS }] },
  { name: 'month', part: [{ name: 'month', valueDate: '2025-06' }, { name: 'recordViews', valueInteger: 10 }, { name: 'users', valueInteger: 3 },
    { name: 'carePlanViews', valueInteger: 2 }, { name: 'carePlanViewsByEmergencyServices', valueInteger: 1 },
    { name: 'setting', part: [{ name: 'code', valueCoding: { system: SETTING, code: 'gp-practice', display: 'GP practice' } }, { name: 'recordViews', valueInteger: 10 }] }] },
  { name: 'month', part: [{ name: 'month', valueDate: '2025-07' }, { name: 'recordViews', valueInteger: 0 }, { name: 'users', valueInteger: 0 },
    { name: 'carePlanViews', valueInteger: 0 }, { name: 'carePlanViewsByEmergencyServices', valueInteger: 0 }] },
  { name: 'total', part: [{ name: 'recordViews', valueInteger: 10 }, { name: 'users', valueInteger: 3 },
    { name: 'carePlanViews', valueInteger: 2 }, { name: 'carePlanViewsByEmergencyServices', valueInteger: 1 },
    { name: 'setting', part: [{ name: 'code', valueCoding: { system: SETTING, code: 'gp-practice', display: 'GP practice' } }, { name: 'recordViews', valueInteger: 10 }] }] },
] };

test('the audit report: alerts with their review, unusual volume, and the usage series', () => {
  const rep = parseReport(report);
  assert.equal(rep.organization, 'Z10901');
  assert.equal(rep.records, 120);
  const [claim, vol] = rep.alerts;
  assert.deepEqual([claim.id, claim.record, claim.codes, claim.patient, claim.user, claim.userName, claim.role, claim.reason, claim.status],
    ['17', 17, ['self-claimed', 'out-of-hours'], 'Patient/P9', 'gp-1', 'Dr Grace Green', 'R8000', 'self-claimed: covering', 200]);
  assert.deepEqual(claim.review, { outcome: 'explained', record: 30, time: '2025-07-04T09:00:00.000Z', user: 'po-1', userName: 'Priya Guard', note: 'rota' });
  assert.equal(vol.isVolume, true);
  assert.equal(vol.record, null);
  assert.equal(vol.id, 'volume-2025-07-03-rec-1');
  assert.equal(vol.patients, 61);
  assert.equal(vol.review, null);
  assert.deepEqual(trailCriteria(claim), { patient: 'Patient/P9' });
  assert.deepEqual(trailCriteria(vol), { agent: 'rec-1', day: '2025-07-03' });
  const s = Object.fromEntries(rep.series.map((x) => [x.name, x.points.map((p) => `${p.label}=${p.value}`).join(' ')]));
  assert.deepEqual(s, {
    'views-per-month': 'Jun 2025=10 Jul 2025=0',
    'distinct-users': 'Jun 2025=3 Jul 2025=0',
    'by-care-setting': 'GP practice=10',
    'care-plan-views-emergency': 'Jun 2025=1 Jul 2025=0',
  });
});

// An AuditEvent in the shape src/api/auditevent.c writes (IHE BALP).
const EXT = 'https://carerecord.example/StructureDefinition/audit-';
const event = (extra = {}) => ({
  resourceType: 'AuditEvent', id: '17', recorded: '2025-07-03T21:15:02.120Z', action: 'R', outcome: '0',
  extension: [{ url: `${EXT}outcome`, valueCode: 'allowed' }, { url: `${EXT}http-status`, valueInteger: 200 },
    { url: `${EXT}reason`, valueString: 'self-claimed: covering' },
    { url: `${EXT}alert`, valueCoding: { system: 'https://carerecord.example/CodeSystem/audit-alert', code: 'self-claimed' } }],
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
  agent: [
    { type: { coding: [{ code: 'IRCP' }] }, role: [{ coding: [{ code: 'R8000' }], text: 'Clinical Practitioner Access Role' }],
      who: { type: 'Practitioner', identifier: { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'gp-1' }, display: 'Dr Grace Green' },
      requestor: true, purposeOfUse: [{ coding: [{ system: 'https://carerecord.example/CodeSystem/purpose-of-use', code: 'direct-care' }], text: 'direct-care' }] },
    { who: { type: 'Organization', identifier: ODS, display: 'Z10901' }, requestor: false },
  ],
  entity: [{ what: { reference: 'Patient/P9' }, role: { code: '1' } }],
  ...extra,
});

test('AuditEvents as the trail shows them and as the patient sees them', () => {
  const row = trailRow(event());
  assert.deepEqual([row.id, row.who, row.user, row.org, row.role, row.action.label, row.patient, row.purpose, row.reason, row.outcome, row.status, row.alerts],
    ['17', 'Dr Grace Green', 'gp-1', 'Z10901', 'Clinical Practitioner Access Role', 'Read', 'Patient/P9', 'direct-care', 'self-claimed: covering', 'allowed', 200, ['self-claimed']]);
  const rv = trailRow(event({
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'operation' }, { system: 'https://carerecord.example/CodeSystem/audit-action', code: 'review' }],
    extension: [{ url: `${EXT}review`, extension: [{ url: 'record', valueReference: { reference: 'AuditEvent/12' } }, { url: 'outcome', valueCode: 'escalated' }] }],
  }));
  assert.deepEqual([rv.action.code, rv.action.label, rv.reviewOf, rv.reviewOutcome], ['review', 'Reviewed an alert', 'AuditEvent/12', 'escalated']);
  const patientView = event();
  patientView.agent[0].who = { type: 'Practitioner', display: 'a member of staff' };
  const seen = lookedRow(patientView);
  assert.deepEqual([seen.kind, seen.org, seen.role, seen.action.label, seen.purpose], ['staff', 'Z10901', 'Clinical Practitioner Access Role', 'Looked at your record', 'direct-care']);
  patientView.agent[0].who.display = 'you';
  assert.equal(lookedRow(patientView).kind, 'you');
  patientView.agent[0].who.display = 'a source system';
  assert.equal(lookedRow(patientView).kind, 'system');
});

test('trail searches by patient, member of staff and UK day (GMT and BST)', () => {
  assert.equal(ukDayStart('2025-01-15'), '2025-01-15T00:00:00.000Z');
  assert.equal(ukDayStart('2025-07-03'), '2025-07-02T23:00:00.000Z');
  assert.equal(ukDayStart('2025-03-30'), '2025-03-30T00:00:00.000Z', 'the clocks go forward at 01:00 GMT');
  assert.equal(ukDayStart('2025-10-26'), '2025-10-25T23:00:00.000Z', 'still BST at midnight');
  assert.equal(ukDayOf('2025-07-03T23:30:00Z'), '2025-07-04');
  const q = new URLSearchParams(trailQuery({ patient: 'P9', agent: 'gp-1', day: '2025-07-03' }).split('?')[1]);
  assert.equal(q.get('patient'), 'Patient/P9');
  assert.equal(q.get('agent'), 'gp-1');
  assert.deepEqual(q.getAll('date'), ['ge2025-07-02T23:00:00.000Z', 'lt2025-07-03T23:00:00.000Z']);
  assert.equal(q.get('_count'), '50');
  assert.equal(trailQuery({}), 'AuditEvent?_count=50');
});
