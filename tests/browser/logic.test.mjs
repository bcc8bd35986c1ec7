// logic.test.mjs: the UI's pure modules (web/js/), run in Node: NHS
// number checks, how a record is built from $everything (sections,
// sources, series, alerts, partial answers), the care plan (reading the
// emergency summary, a CPR decision's validity, the Bundle that saves a
// plan, the node's 422 issues mapped back to the form's fields, the facts
// a revision is compared on), and reading the audit API: the report,
// AuditEvents as the trail and as a patient sees them, UK days.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nhsValid, nhsProblem, nhsFormat, nhsDigits } from '../../web/js/nhs.js';
import { buildRecord, timeline } from '../../web/js/record.js';
import {
  parseSummary, cprFromFlag, planModel, formFrom, planBundle, issuesToFields, checkForm, saveMode, planFacts, ukToday, currentPlanIn,
} from '../../web/js/careplan-data.js';
import {
  parseReport, trailRow, lookedRow, trailQuery, trailCriteria, ukDayStart, ukDayOf, reviewParameters,
} from '../../web/js/audit-data.js';
import { sourceNodeOf, fmtDate, age } from '../../web/js/fhir.js';
import { worldData, planBundleFor, ORG } from './world.mjs';

// The resources of a collection Bundle as the node stores them after
// $care-plan: ids for the urn:uuid entries, references rewritten, the
// plan's profiles and the publisher in meta.
function stored(bundle, org = ORG.gp) {
  const ids = new Map(bundle.entry.map((e, i) => [e.fullUrl, `${e.resource.resourceType}/x${i}`]));
  const text = JSON.stringify(bundle.entry.map((e) => e.resource)).replace(/urn:uuid:[0-9a-f-]{36}/g, (u) => ids.get(u));
  return JSON.parse(text).map((r, i) => ({
    ...r, id: `x${i}`,
    meta: { versionId: '1', lastUpdated: '2026-01-02T10:00:00.000Z', tag: [{ system: 'https://carerecord.example/publisher', code: org }],
      ...(r.resourceType === 'CarePlan' ? { profile: ['https://carerecord.example/StructureDefinition/UCP-CarePlan'] } : {}) },
  }));
}

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
  return buildRecord([...p1, ...stored(planBundleFor())], outcomes, { thisNode: 'nel', now });
}

test('a record: sections with source organisation and node, repeat medicines, series, alerts', () => {
  const rec = p1Record([{ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'suppressed', diagnostics: 'withheld' }] }]);
  assert.equal(rec.patient.id, 'P1');
  assert.deepEqual(rec.registeredGp, ['Green Lane Synthetic GP Practice']);
  const meds = rec.sections.medications.filter((m) => /Ramipril/.test(m.title));
  assert.equal(meds.length, 1, 'the authorisation with its issues is one row');
  assert.match(meds[0].detail, /^3 issues/);
  assert.equal(rec.sections.medications.find((m) => /Midazolam/.test(m.title)).kind, 'Just-in-case (care plan)');
  const dis = rec.sections.encounters.find((i) => i.kind === 'Discharge summary');
  assert.equal(dis.source.orgName, 'Synthetic Royal Hospital');
  assert.equal(dis.source.node, 'nel', 'this node when the item names none');
  assert.equal(rec.series.length, 1);
  assert.deepEqual(rec.series[0].lines.map((l) => [l.label, l.points.length]), [['Systolic', 4], ['Diastolic', 4]]);
  const ids = rec.alerts.map((a) => a.id);
  assert.deepEqual(ids, ['careplan', 'allergies', 'withheld']);
  assert.equal(rec.cpr.validity, 'needs-review', 'the CPR decision comes from the plan\'s Flag; its review date has passed');
  assert.match(rec.alerts[0].text, /^Care plan: Not for CPR \(needs review: the review date has passed\)$/);
  assert.equal(rec.alerts[0].level, 'critical', 'not for CPR leads');
  assert.ok(!rec.alerts.some((a) => a.id === 'flag'), 'the plan\'s own Flags are not loose alerts');
  assert.equal(rec.sections.contacts[0].isLpa, true, 'the daughter holds the lasting power of attorney (HPOWATT)');
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

const TODAY = '2026-02-01';
const flag = (code, start, end, status = 'active') => ({
  resourceType: 'Flag', status, code: { coding: [{ system: 'http://snomed.info/sct', code }] }, period: { start, end },
});

test('a CPR decision is valid up to and including its review date, then needs review; never valid without one', () => {
  assert.equal(cprFromFlag(flag('450476008', '2025-06-01', '2026-02-01'), TODAY).validity, 'valid', 'reviewed today: still valid today');
  assert.equal(cprFromFlag(flag('450476008', '2025-06-01', '2026-01-31'), TODAY).validity, 'needs-review');
  assert.equal(cprFromFlag(flag('450475007', '2025-06-01', undefined), TODAY).validity, 'needs-review', 'no review date');
  assert.equal(cprFromFlag(flag('845151000000104', '2025-06-01', undefined), TODAY).validity, 'unknown');
  assert.equal(cprFromFlag(flag('450476008', '2025-06-01', '2027-01-01', 'inactive'), TODAY).validity, 'not-recorded');
  assert.equal(cprFromFlag(flag('450476008', '2025-06-01', '2026-02-20'), TODAY).isDueSoon, true, 'review within 30 days');
  assert.equal(cprFromFlag(flag('450476008', '2025-06-01', '2026-06-20'), TODAY).isDueSoon, false);
  assert.match(ukToday(new Date('2026-06-30T23:30:00Z')), /^2026-07-01$/, 'British Summer Time: already tomorrow in the UK');
  assert.equal(ukToday(new Date('2026-01-31T23:30:00Z')), '2026-01-31');
});

test('the emergency summary is read from the node\'s Parameters', () => {
  const p = (name, v) => ({ name, ...v });
  const s = parseSummary({
    resourceType: 'Parameters', meta: { tag: [{ system: 'https://carerecord.example/node', code: 'sel' }] },
    parameter: [
      p('patient', { valueReference: { reference: 'Patient/P1', display: 'Margaret Jones' } }),
      p('nhsNumber', { valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } }),
      p('hasPlan', { valueBoolean: true }),
      p('cprDecision', { part: [p('validity', { valueCoding: { code: 'needs-review' } }), p('message', { valueString: 'needs review' }),
        p('decision', { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '450476008' }] } }),
        p('reviewDate', { valueDateTime: '2026-01-01' }), p('seniorEndorser', { valueReference: { display: 'Dr Senior' } })] }),
      p('ceilingOfTreatment', { part: [p('level', { valueCodeableConcept: { coding: [{ system: 'https://carerecord.example/CodeSystem/ceiling-of-treatment', code: 'ward-based' }] } }),
        p('recommendations', { valueString: '(not recorded)' })] }),
      p('contact', { part: [p('name', { valueString: 'Susan Jones' }), p('relationship', { valueString: 'daughter, Next-of-Kin, healthcare power of attorney' }),
        p('phone', { valueString: '07700 900456' }), p('phone', { valueString: '020 7946 0000' }), p('nextOfKin', { valueBoolean: true }), p('lastingPowerOfAttorney', { valueBoolean: true })] }),
      p('lastingPowerOfAttorney', { valueBoolean: true }),
      p('advanceDecisionToRefuseTreatment', { part: [p('recorded', { valueBoolean: false })] }),
      p('lastUpdated', { part: [p('by', { valueReference: { display: 'Dr Grace Green' } }), p('organization', { valueReference: { identifier: { value: ORG.gp } } }),
        p('role', { valueCoding: { code: 'R8000' } }), p('when', { valueInstant: '2026-01-02T10:00:00.000Z' })] }),
      p('plan', { valueReference: { reference: 'CarePlan/cp1/_history/3' } }),
    ],
  }, { thisNode: 'nel' });
  assert.equal(s.patient.name, 'Margaret Jones');
  assert.equal(s.cpr.validity, 'needs-review');
  assert.equal(s.cpr.label, 'Not for CPR');
  assert.equal(s.cpr.endorser, 'Dr Senior');
  assert.deepEqual(s.ceiling, { level: 'ward-based', levelText: 'Ward-based care; not for intensive care', recommendations: '' }, '"(not recorded)" is nothing');
  assert.deepEqual(s.contacts[0].phones, ['07700 900456', '020 7946 0000']);
  assert.equal(s.contacts[0].relationship, 'daughter', 'next of kin and the LPA are said by their own flags');
  assert.equal(s.adrt.recorded, false);
  assert.deepEqual(s.lastUpdated, { by: 'Dr Grace Green', org: ORG.gp, orgName: '', role: 'R8000', when: '2026-01-02T10:00:00.000Z' });
  assert.deepEqual(s.plan, { ref: 'CarePlan/cp1/_history/3', id: 'cp1', version: '3', title: '' });
  assert.equal(s.node, 'sel', 'the node the summary names');
  const none = parseSummary({ resourceType: 'Parameters', parameter: [p('hasPlan', { valueBoolean: false }), p('cprDecision', { part: [p('validity', { valueCoding: { code: 'not-recorded' } })] })] });
  assert.equal(none.hasPlan, false);
  assert.equal(none.cpr.validity, 'not-recorded');
  assert.equal(none.node, '');
  const fromPeer = parseSummary({ resourceType: 'Parameters', meta: { tag: [{ system: 'https://carerecord.example/node', code: 'sel' }] },
    parameter: [p('source', { part: [p('node', { valueCode: 'nel' }), p('organization', { valueIdentifier: { value: ORG.gp } })] })] }, { thisNode: 'sel' });
  assert.equal(fromPeer.node, 'nel', 'the source parameter names the node the plan is kept on, before the answering node\'s tag');
  const soon = parseSummary({ resourceType: 'Parameters', parameter: [p('cprDecision', { part: [p('validity', { valueCoding: { code: 'valid' } }),
    p('reviewDate', { valueDateTime: '2026-02-20' })] })] }, { today: TODAY });
  assert.equal(soon.cpr.isDueSoon, true, 'a review within 30 days is said');
});

// P1's plan as the pages read it back from the node.
function p1Model() {
  const res = stored(planBundleFor());
  const byRef = new Map(res.map((r) => [`${r.resourceType}/${r.id}`, r]));
  return { model: planModel(res[0], byRef, { today: TODAY }), res };
}

test('a stored plan read back: every section of the model; the record banner finds it and its CPR Flag', () => {
  const { model: m, res } = p1Model();
  assert.equal(m.cpr.label, 'Not for CPR');
  assert.equal(m.cpr.isRecorderSenior, true);
  assert.equal(m.ceiling.level, 'ward-based');
  assert.equal(m.priorities.scale, 80);
  assert.equal(m.placeOfDeath.text, 'Hospice (St Synthetic Hospice)');
  assert.equal(m.capacity.hasCapacity, true);
  assert.equal(m.lpa.active, true);
  assert.equal(m.adrt, null);
  assert.deepEqual(m.contacts.map((c) => [c.name, c.phone, c.isNok, c.isLpa, c.relationship]), [['Susan Jones', '07700 900456', true, true, 'DAU']]);
  assert.equal(m.jic.whereKept, 'Blue box on top of the fridge');
  assert.deepEqual(m.medicines.map((x) => x.name), ['Midazolam 10mg/2ml solution for injection ampoules']);
  assert.equal(m.author, 'Dr Grace Green');
  const cur = currentPlanIn(res, TODAY);
  assert.equal(cur.plan.id, 'x0');
  assert.equal(cur.cpr.code, '450476008');
});

test('saving a new plan: a collection Bundle, the CarePlan first, urn:uuid fullUrls and references, no ids', () => {
  const user = { name: 'Dr Grace Green', org: ORG.gp, sub: 'gp-1' };
  const form = {
    ...formFrom(null, { user, today: TODAY }), cpr: '450476008', cprReview: '2026-08-01', discussedWith: 'Nora', recorderSenior: true,
    ceiling: 'symptom-control', whatMatters: 'My garden', scale: '70', lpa: 'yes', adrt: 'yes', adrtLocation: 'Bureau',
    contacts: [{ given: 'Tom', family: 'Newplan', phone: '07700 900789', isLpa: true, relationship: 'SON' }, { given: 'Gone', removed: true }],
    jicWhereKept: 'Kitchen', medicines: [{ name: 'Morphine sulfate 10mg/1ml' }], planReview: '2026-08-01',
  };
  assert.equal(saveMode(null, user), 'new');
  const { bundle: b, layout } = planBundle({ patientId: 'P5', current: null, form, user, today: TODAY });
  assert.equal(b.type, 'collection');
  assert.deepEqual(b.entry.map((e) => e.resource.resourceType), ['CarePlan', 'Flag', 'Flag', 'Flag', 'RelatedPerson', 'MedicationRequest']);
  assert.ok(b.entry.every((e) => /^urn:uuid:[0-9a-f-]{36}$/.test(e.fullUrl) && !e.resource.id));
  const plan = b.entry[0].resource;
  assert.deepEqual(plan.supportingInfo.map((s) => s.reference), b.entry.slice(1, 5).map((e) => e.fullUrl));
  assert.equal(plan.activity[2].reference.reference, b.entry[5].fullUrl);
  assert.deepEqual(layout.entries.map((e) => e.kind), ['plan', 'cpr', 'adrt', 'lpa', 'contact', 'medicine']);
  const cpr = b.entry[1].resource;
  assert.deepEqual(cpr.period, { start: TODAY, end: '2026-08-01' });
  assert.equal(cpr.author.identifier.value, 'gp-1');
  assert.ok(cpr.extension.some((e) => e.url.endsWith('ucp-cpr-recorder-senior') && e.valueBoolean === true));
  assert.ok(b.entry[4].resource.relationship.some((r) => r.coding[0].code === 'HPOWATT'));
  assert.equal(plan.extension.find((e) => e.url.endsWith('ucp-priorities')).extension[0].valueInteger, 70);
});

test('a revision sends what it read with its ids: unchanged resources come back exactly as stored', () => {
  const { model, res } = p1Model();
  const user = { name: 'Dr Grace Green', org: ORG.gp, sub: 'gp-1' };
  assert.equal(saveMode(model, user), 'revise');
  assert.equal(saveMode(model, { ...user, org: 'Z1A' }), 'replace', 'another organisation writes its own plan');
  const { bundle } = planBundle({ patientId: 'P1', current: model, form: formFrom(model), user, today: TODAY });
  assert.deepEqual(bundle.entry.map((e) => e.fullUrl), ['CarePlan/x0', 'Flag/x1', 'Flag/x2', 'RelatedPerson/x3', 'MedicationRequest/x4']);
  const strip = ({ meta, ...r }) => r;
  for (const e of bundle.entry.slice(1)) {
    assert.deepEqual(e.resource, strip(res.find((r) => r.id === e.resource.id)), `${e.fullUrl} unchanged`);
  }
  const { meta, ...plan } = res[0];
  assert.deepEqual({ ...bundle.entry[0].resource, meta: undefined }, { ...plan, meta: undefined });
  // a change: the decision moves, its recorder is the one who changed it
  const other = { name: 'Dr Yan Young', org: ORG.gp, sub: 'dr-young' };
  const moved = planBundle({ patientId: 'P1', current: model, form: { ...formFrom(model), cpr: '450475007', cprReview: '2026-12-01', lpa: 'no', contacts: [] }, user: other, today: TODAY });
  const cpr = moved.bundle.entry[1].resource;
  assert.equal(cpr.id, 'x1', 'the CPR decision is revised in place, so it keeps its history');
  assert.equal(cpr.code.coding[0].code, '450475007');
  assert.equal(cpr.author.identifier.value, 'dr-young');
  assert.deepEqual(moved.bundle.entry.map((e) => e.resource.resourceType), ['CarePlan', 'Flag', 'MedicationRequest'], 'the LPA flag and the contact are left out');
  // replacing another organisation's plan: all new resources
  const replaced = planBundle({ patientId: 'P1', current: model, form: formFrom(model), user: { ...user, org: 'Z1A' }, today: TODAY });
  assert.ok(replaced.bundle.entry.every((e) => e.fullUrl.startsWith('urn:uuid:') && !e.resource.id));
  assert.equal(replaced.bundle.entry[0].resource.replaces, undefined);
});

test('the node\'s 422 issues land on the form\'s fields', () => {
  const user = { name: 'Dr Grace Green', org: ORG.gp, sub: 'gp-1' };
  const form = { ...formFrom(null, { user, today: TODAY }), cpr: '450476008', ceiling: 'ward-based',
    contacts: [{ given: 'Tom', family: 'Newplan', phone: '', isLpa: true }], medicines: [{ name: 'Midazolam' }] };
  const { layout } = planBundle({ patientId: 'P5', current: null, form, user, today: TODAY });
  const SD = 'https://carerecord.example/StructureDefinition/';
  const X = (u) => `.extension.where(url='${SD}${u}')`;
  const issue = (code, expression) => ({ severity: 'error', code, expression: [expression], diagnostics: 'the node says what to do' });
  const E = (i, rest = '') => `Bundle.entry[${i}].resource${rest}`;
  const fields = issuesToFields({ resourceType: 'OperationOutcome', issue: [
    issue('required', E(1, '.period.end')),
    issue('value', E(1, '.period.end')),
    issue('required', E(1, X('ucp-cpr-discussed-with'))),
    issue('required', E(1, X('ucp-cpr-senior-endorser'))),
    issue('business-rule', E(2, '.relationship')),
    issue('required', E(2, '.telecom')),
    issue('required', E(0, `.activity[1].detail${X('ucp-where-kept')}`)),
    issue('required', E(0, X('ucp-review-date'))),
    issue('required', E(0, '.activity')),
    issue('required', E(0, '.supportingInfo')),
    issue('invalid', E(0, '.subject')),
  ] }, layout, form);
  assert.deepEqual(fields.map((f) => f.field), ['cprReview', 'cprReview', 'discussedWith', 'endorser', 'lpa', 'contact-0-phone', 'jicWhereKept', 'planReview', 'ceiling', 'cpr', '']);
  assert.match(fields[0].message, /review/);
  assert.match(fields[1].message, /cannot be before/);
  assert.match(fields[4].message, /^Tom Newplan holds a lasting power of attorney/);
  assert.equal(fields[10].message, 'the node says what to do', 'an issue no field can fix keeps the node\'s words');
});

test('the form checks dates, the scale and phone numbers itself; the rules are the node\'s', () => {
  const f = formFrom(null, { today: TODAY });
  assert.deepEqual(checkForm(f, TODAY), [], 'an empty form is the node\'s to judge');
  assert.deepEqual(checkForm({ ...f, cprDate: '2026-03-01' }, TODAY).map((e) => e.field), ['cprDate']);
  assert.deepEqual(checkForm({ ...f, scale: '150' }, TODAY).map((e) => e.field), ['scale']);
  assert.deepEqual(checkForm({ ...f, contacts: [{ phone: 'call me' }] }, TODAY).map((e) => e.field), ['contact-0-phone']);
});

test('a revision is compared on the facts the plan shows', () => {
  const { model } = p1Model();
  const facts = new Map(planFacts(model));
  assert.equal(facts.get('CPR decision'), 'Not for CPR');
  assert.equal(facts.get('Key contacts'), 'Susan Jones 07700 900456 (next of kin) (LPA)');
  assert.equal(facts.get('Lasting power of attorney'), 'Yes');
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
  assert.equal(claim.nhs, '');
  // an alert of a person the node holds nothing of: by NHS number, and its
  // trail is the member of staff's accesses that day
  const farReport = structuredClone(report);
  const farAlert = farReport.parameter.find((p) => p.name === 'alert');
  farAlert.part = farAlert.part.map((q) => q.name === 'patient'
    ? { name: 'patient', valueReference: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } } } : q);
  const far = parseReport(farReport).alerts[0];
  assert.deepEqual([far.patient, far.nhs], ['', '9000000009']);
  assert.deepEqual(trailCriteria(far), { agent: 'gp-1', day: '2025-07-03' });
  // a review names the record, or for unusual volume the person and the day
  assert.deepEqual(reviewParameters(claim, 'explained', 'rota').parameter,
    [{ name: 'record', valueInteger: 17 }, { name: 'outcome', valueCode: 'explained' }, { name: 'note', valueString: 'rota' }]);
  assert.deepEqual(reviewParameters(vol, 'appropriate', '').parameter,
    [{ name: 'user', valueString: 'rec-1' }, { name: 'day', valueDate: '2025-07-03' }, { name: 'outcome', valueCode: 'appropriate' }]);
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
  // a federated read of someone the node holds nothing of names them by NHS number
  const far = trailRow(event({ entity: [{ what: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } }, role: { code: '1' } }] }));
  assert.deepEqual([far.patient, far.nhs], ['', '9000000009']);
  assert.equal(row.nhs, '');
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
