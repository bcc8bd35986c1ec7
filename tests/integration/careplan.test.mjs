// careplan.test.mjs: the Universal Care Plan through the real server:
// saving a whole plan with POST Patient/{id}/$care-plan (every rule, its
// OperationOutcome naming the element), revisions and new plans that
// supersede the old one, concurrent saves with and without If-Match, plain
// writes of a plan's resources refused, the emergency summary through
// every role and purpose the access policy knows (and its audit record),
// expired CPR decisions flagged, the plan in $everything, and the
// programme's figures. docs/care-plan.md is the model these tests follow.
// A plan saved at one node and read at another (the summary across
// nodes) is careplan_federation.test.mjs.
//
// The world (ODS codes are made up):
//   G1   GP practice: P1, P2, P3, P4 and P5 are registered here
//   HOS  hospice: caring for P1 (an open EpisodeOfCare)
//   RRU  the ambulance service, NHS1 NHS 111 (emergency access only)
//   H2   a hospital with no relationship to anyone
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, entryRefs, NHS_SYSTEM, sqlite } from './lib.mjs';
import {
  SCT, SD, day, uuid, ext, param, params, part, planBundle,
} from './careplan_plan.mjs';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const KIND = 'https://carerecord.example/CodeSystem/organisation-kind';

const NHS = { P1: '9000000009', P2: '9476719931', P3: '9912003888', P4: '9990000018', P5: '9990000026', P6: '9990000034' };

let node;

const GP = { org: 'G1', sub: 'dr-green', name: 'Dr Gwen Green' };
const JUNIOR = { org: 'G1', sub: 'dr-young', name: 'Dr Yan Young' };
const HOSPICE = { org: 'HOS', sub: 'dr-hope', name: 'Dr Harriet Hope' };
const H2 = { org: 'H2', sub: 'dr-other' };
const PARAMEDIC = { org: 'RRU', sub: 'para-1', name: 'Pat Medic', role: 'R8003', purpose: 'emergency' };
const NHS111 = { org: 'NHS1', sub: 'nurse-111', name: 'Nia Nurse', role: 'R8001', purpose: 'emergency' };
const RECEPTION = { org: 'G1', sub: 'rec-1', role: 'R8009' };
const SOCIAL = { org: 'G1', sub: 'sw-1', role: 'R8014' };
const PATIENT1 = { org: 'G1', sub: 'patient-1', purpose: 'patient-access', patient: NHS.P1 };
const AUDITOR = { org: 'RRU', sub: 'po-1', purpose: 'audit' };
const EMERGENCY = { 'X-Access-Reason': 'emergency: life-threatening found collapsed at home' };

const tok = (claims) => node.token({ role: 'R8000', purpose: 'direct-care', name: 'Test User', ...claims });
const as = (claims, headers = {}) => ({ token: tok(claims), headers });

const sql = (statement) => sqlite(node.dataDir, statement);
const lastAudit = () => JSON.parse(sql('SELECT body FROM audit ORDER BY seq DESC LIMIT 1'));
const auditCount = () => Number(sql('SELECT count(*) FROM audit'));

// The stored plan of 'pid' as a revision: every resource with its id.
async function currentAsBundle(pid, claims = GP) {
  const o = as(claims);
  const s = await fhir(node, 'GET', `CarePlan?patient=${pid}&status=active`, o);
  assert.equal(s.status, 200, s.text);
  const plans = s.json.entry.filter((e) => e.resource.meta.profile?.includes(`${SD}UCP-CarePlan`));
  assert.equal(plans.length, 1, `one current plan for ${pid}`);
  const plan = plans[0].resource;
  const refs = [...(plan.supportingInfo || []).map((x) => x.reference),
    ...(plan.activity || []).filter((a) => a.reference).map((a) => a.reference.reference)];
  const entry = [{ fullUrl: `CarePlan/${plan.id}`, resource: plan }];
  for (const ref of refs) {
    const r = await fhir(node, 'GET', ref, o);
    assert.equal(r.status, 200, `${ref}: ${r.text}`);
    entry.push({ fullUrl: ref, resource: r.json });
  }
  return { bundle: { resourceType: 'Bundle', type: 'collection', entry }, plan };
}

const save = (pid, bundle, claims = GP, headers = {}) =>
  fhir(node, 'POST', `Patient/${pid}/$care-plan`, { body: bundle, token: tok(claims), headers });
const summary = (pid, claims, headers = {}) =>
  fhir(node, 'GET', `Patient/${pid}/$care-plan-summary`, { token: tok(claims), headers });

async function currentPlans(pid) {
  const r = await fhir(node, 'GET', `CarePlan?patient=${pid}&status=active&_count=100`, as(GP));
  assert.equal(r.status, 200, r.text);
  return (r.json.entry || []).filter((e) => e.search?.mode === 'match').map((e) => e.resource);
}

before(async () => {
  node = await startNode();
  const world = {
    G1: [
      { resourceType: 'Organization', id: 'G1', identifier: [{ system: ODS, value: 'G1' }], name: 'Green Lane Surgery', type: [{ coding: [{ system: KIND, code: 'gp-practice' }] }] },
      { resourceType: 'Practitioner', id: 'dr-green', identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'dr-green' }], name: [{ family: 'Green', given: ['Gwen'], prefix: ['Dr'] }] },
      { resourceType: 'Practitioner', id: 'dr-young', name: [{ family: 'Young', given: ['Yan'], prefix: ['Dr'] }] },
      { resourceType: 'Practitioner', id: 'dr-senior', name: [{ family: 'Senior', given: ['Sian'], prefix: ['Dr'] }] },
      ...Object.entries(NHS).map(([id, nhs]) => ({
        resourceType: 'Patient', id, identifier: [{ system: NHS_SYSTEM, value: nhs }],
        name: [{ use: 'official', family: `Family${id}`, given: ['Ann'] }], birthDate: '1940-02-03',
        generalPractitioner: [{ reference: 'Organization/G1' }],
      })),
    ],
    HOS: [
      { resourceType: 'Organization', id: 'HOS', identifier: [{ system: ODS, value: 'HOS' }], name: 'St Synthetic Hospice' },
      { resourceType: 'EpisodeOfCare', id: 'hos-p1', status: 'active', patient: { reference: 'Patient/P1' }, managingOrganization: { reference: 'Organization/HOS' } },
    ],
    RRU: [{ resourceType: 'Organization', id: 'RRU', identifier: [{ system: ODS, value: 'RRU' }], name: 'London Ambulance Service', type: [{ coding: [{ system: KIND, code: 'ambulance-service' }] }] }],
    NHS1: [{ resourceType: 'Organization', id: 'NHS1', identifier: [{ system: ODS, value: 'NHS1' }], name: 'NHS 111 London', type: [{ coding: [{ system: KIND, code: 'nhs-111' }] }] }],
  };
  for (const [org, list] of Object.entries(world)) {
    const token = node.token({ org, sub: `sys-${org}` });
    for (const res of list) {
      const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
      assert.ok(r.status === 201 || r.status === 200, `${org} PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
    }
  }
});
after(async () => { await node?.close(); });

test('a whole plan is saved in one transaction: every resource, the plan profiles, one audit record', async () => {
  const records = auditCount();
  const r = await save('P1', planBundle('P1'));
  assert.equal(r.status, 201, r.text);
  // one audit record, of the transaction, naming the patient and each version
  assert.equal(auditCount(), records + 1);
  const a = lastAudit();
  assert.equal(r.json.type, 'transaction-response');
  assert.equal(r.json.entry.length, 7);
  for (const e of r.json.entry) assert.equal(e.response.status, '201 Created', JSON.stringify(e.response));
  const [plan, cpr, adrt, lpa, nok, attorney, med] = r.json.entry.map((e) => e.resource);
  assert.match(r.headers.location, new RegExp(`/CarePlan/${plan.id}/_history/1$`));
  assert.equal(r.headers.etag, 'W/"1"');
  // references point at the ids the server gave, not the urn:uuids
  assert.deepEqual(plan.supportingInfo.map((x) => x.reference),
    [cpr, adrt, lpa, nok, attorney].map((x) => `${x.resourceType}/${x.id}`));
  assert.equal(plan.activity[2].reference.reference, `MedicationRequest/${med.id}`);
  assert.doesNotMatch(JSON.stringify(r.json), /urn:uuid/);
  // the server declares the plan's profiles and records who saved it
  assert.ok(plan.meta.profile.includes(`${SD}UCP-CarePlan`));
  assert.ok(cpr.meta.profile.includes(`${SD}UCP-CPRDecision`));
  assert.ok(adrt.meta.profile.includes(`${SD}UCP-ADRT`));
  assert.ok(lpa.meta.profile.includes(`${SD}UCP-LPA`));
  assert.equal(nok.meta?.profile, undefined, 'contacts keep the profiles their writer gave');
  const rec = ext(plan, `${SD}ucp-recorded-by`);
  assert.equal(rec.extension.find((x) => x.url === 'who').valueReference.identifier.value, GP.sub);
  assert.equal(rec.extension.find((x) => x.url === 'organization').valueReference.identifier.value, 'G1');
  assert.equal(plan.replaces, undefined, 'the first plan replaces nothing');
  // everything is readable and searchable like any other resource
  for (const x of [plan, cpr, nok, med]) {
    const g = await fhir(node, 'GET', `${x.resourceType}/${x.id}`, as(GP));
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, x);
  }
  assert.equal(a.action, 'transaction');
  assert.equal(a.patient, 'P1');
  assert.equal(a.agent.sub, GP.sub);
  assert.equal(a.resources.length, 7);
  assert.ok(a.resources.includes(`CarePlan/${plan.id}/_history/1`));
});

// Each rule of docs/care-plan.md: the bundle that breaks it, and the issue
// that must name it. Entries: 0 plan, 1 cpr, 2 adrt, 3 lpa, 4 nok,
// 5 attorney, 6 med.
const E = (i, rest = '') => `Bundle.entry[${i}].resource${rest}`;
const X = (url) => `.extension.where(url='${SD}${url}')`;
const dropExt = (res, url) => { res.extension = res.extension.filter((x) => x.url !== `${SD}${url}`); };
const RULES = [
  ['a CPR decision without a review date', (r) => { delete r.cpr.period.end; }, 'required', E(1, '.period.end')],
  ['a CPR decision reviewed before it was made', (r) => { r.cpr.period.end = day(-30); }, 'value', E(1, '.period.end')],
  ['a CPR decision without the date it was made', (r) => { delete r.cpr.period.start; }, 'required', E(1, '.period.start')],
  ['a CPR decision without with whom it was discussed', (r) => dropExt(r.cpr, 'ucp-cpr-discussed-with'), 'required', E(1, X('ucp-cpr-discussed-with'))],
  ['a CPR decision by a recorder who is not senior, without an endorser', (r) => { r.cpr.extension[1].valueBoolean = false; }, 'required', E(1, X('ucp-cpr-senior-endorser'))],
  ['a CPR decision without a recorder', (r) => { delete r.cpr.author; }, 'required', E(1, '.author')],
  ['a CPR decision that is not active', (r) => { r.cpr.status = 'inactive'; }, 'value', E(1, '.status')],
  ['a plan without a CPR decision', (r, u) => { r.cpr = null; r.plan.supportingInfo = r.plan.supportingInfo.filter((x) => x.reference !== u.cpr); }, 'required', E(0, '.supportingInfo')],
  ['an LPA person without the LPA flag', (r, u) => { r.lpa = null; r.plan.supportingInfo = r.plan.supportingInfo.filter((x) => x.reference !== u.lpa); }, 'business-rule', E(4, '.relationship')],
  ['an LPA flag that is not active', (r) => { r.lpa.status = 'inactive'; }, 'business-rule', E(5, '.relationship')],
  ['a key contact without a phone number', (r) => { r.nok.telecom = [{ system: 'email', value: 'beth@example.org' }]; }, 'required', E(4, '.telecom')],
  ['a key contact without a name', (r) => { r.nok.name = [{ use: 'usual', prefix: ['Ms'] }]; }, 'required', E(4, '.name')],
  ['an ADRT without where it is kept', (r) => { delete r.adrt.extension; }, 'required', E(2, X('ucp-document-location'))],
  ['just-in-case medicines without where they are kept', (r) => { delete r.plan.activity[1].detail.extension; }, 'required', E(0, `.activity[1].detail${X('ucp-where-kept')}`)],
  ['a medicine without the just-in-case activity', (r) => { r.plan.activity.splice(1, 1); }, 'required', E(0, '.activity[1].reference')],
  ['a plan without a ceiling of treatment', (r) => { r.plan.activity.splice(0, 1); }, 'required', E(0, '.activity')],
  ['a ceiling of treatment without a known level', (r) => { r.plan.activity[0].detail.extension[0].valueCodeableConcept.coding[0].code = 'everything'; }, 'value', E(0, '.activity[0].detail')],
  ['two ceilings of treatment', (r) => { r.plan.activity.push(structuredClone(r.plan.activity[0])); }, 'invalid', E(0, '.activity')],
  ['a plan nobody signed off', (r) => { delete r.plan.author; }, 'required', E(0, '.author')],
  ['a plan without its sign-off date', (r) => dropExt(r.plan, 'ucp-signed-off'), 'required', E(0, X('ucp-signed-off'))],
  ['a plan without a review date', (r) => dropExt(r.plan, 'ucp-review-date'), 'required', E(0, X('ucp-review-date'))],
  ['a plan reviewed before it was signed off', (r) => { ext(r.plan, `${SD}ucp-review-date`).valueDate = day(-30); }, 'value', E(0, X('ucp-review-date'))],
  ['a priority scale outside 0 to 100', (r) => { ext(r.plan, `${SD}ucp-priorities`).extension[0].valueInteger = 150; }, 'value', E(0, `${X('ucp-priorities')}.extension.where(url='scale')`)],
  ['a person without capacity and nobody involved', (r) => { ext(r.plan, `${SD}ucp-capacity`).extension = [{ url: 'hasCapacity', valueBoolean: false }]; }, 'required', E(0, `${X('ucp-capacity')}.extension.where(url='involvement')`)],
  ['a plan that is not active', (r) => { r.plan.status = 'draft'; }, 'value', E(0, '.status')],
  ['a plan whose intent is not plan', (r) => { r.plan.intent = 'order'; }, 'value', E(0, '.intent')],
  ['a plan without the end-of-life category', (r) => { r.plan.category = [{ text: 'Care plan' }]; }, 'required', E(0, '.category')],
  ['a plan about another patient', (r) => { r.plan.subject = { reference: 'Patient/P2' }; }, 'invalid', E(0, '.subject')],
  ['a part about another patient', (r) => { r.cpr.subject = { reference: 'Patient/P2' }; }, 'invalid', E(1, '.subject')],
  ['a reference to nothing', (r) => { r.plan.supportingInfo.push({ reference: 'Flag/no-such-flag' }); }, 'not-found', E(0, '.supportingInfo[5]')],
  ['a resource the plan does not refer to', (r, u) => { r.plan.supportingInfo = r.plan.supportingInfo.filter((x) => x.reference !== u.adrt); }, 'invalid', E(2)],
  ['a second CPR decision', (r, u) => { r.med = null; r.plan.activity.splice(1, 2); r.adrt = structuredClone(r.cpr); }, 'invalid', E(2)],
];

test('every rule is checked: 422 with an issue naming the element, and nothing is written', async () => {
  for (const [what, edit, code, expression] of RULES) {
    const history = (await fhir(node, 'GET', '_history?_count=1', as(GP))).json;
    const before = auditCount();
    const r = await save('P3', planBundle('P3', edit));
    assert.equal(r.status, 422, `${what}: ${r.status} ${r.text.slice(0, 500)}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    const hit = r.json.issue.find((i) => i.expression?.[0] === expression);
    assert.ok(hit, `${what}: no issue at ${expression}; got ${JSON.stringify(r.json.issue.map((i) => [i.code, i.expression?.[0]]))}`);
    assert.equal(hit.code, code, `${what}: ${JSON.stringify(hit)}`);
    assert.equal(hit.severity, 'error');
    assert.ok(hit.diagnostics.length > 20, `${what}: says what to do`);
    assert.equal(r.json.issue.length, 1, `${what}: only this rule is broken: ${JSON.stringify(r.json.issue)}`);
    // nothing was written; the refusal was audited
    assert.equal(auditCount(), before + 1);
    assert.equal(lastAudit().outcome, 'failed');
    assert.equal((await fhir(node, 'GET', '_history?_count=1', as(GP))).json.total, history.total, what);
  }
  assert.deepEqual(await currentPlans('P3'), []);
});

test('every broken rule is reported at once, so a form can mark each field', async () => {
  const r = await save('P3', planBundle('P3', (x) => {
    delete x.cpr.period.end;
    x.nok.telecom = [];
    delete x.nok.telecom;
    dropExt(x.plan, 'ucp-review-date');
  }));
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.issue.map((i) => i.expression[0]).sort(),
    [E(0, X('ucp-review-date')), E(1, '.period.end'), E(4, '.telecom')].sort());
});

test('a recorder who is not senior may record a CPR decision a senior clinician endorses; unknown CPR status needs no review date', async () => {
  const r = await save('P4', planBundle('P4', (x) => {
    x.cpr.author = { reference: 'Practitioner/dr-young' };
    x.cpr.extension = [
      { url: `${SD}ucp-cpr-discussed-with`, valueString: 'The patient' },
      { url: `${SD}ucp-cpr-senior-endorser`, extension: [{ url: 'clinician', valueReference: { reference: 'Practitioner/dr-senior', display: 'Dr Sian Senior' } }, { url: 'endorsed', valueDateTime: day(0) }] },
    ];
  }), JUNIOR);
  assert.equal(r.status, 201, r.text);
  const s = await summary('P4', GP);
  const cpr = param(s.json, 'cprDecision');
  assert.equal(part(cpr, 'validity').valueCoding.code, 'valid');
  assert.equal(part(cpr, 'seniorEndorser').valueReference.reference, 'Practitioner/dr-senior');
  // 845151000000104 (not aware of a decision): no review date needed
  const { bundle } = await currentAsBundle('P4');
  const cprEntry = bundle.entry.find((e) => e.resource.resourceType === 'Flag' && e.resource.code.coding[0].code === '450476008');
  cprEntry.resource.code = { coding: [{ system: SCT, code: '845151000000104', display: 'Not aware of do not attempt cardiopulmonary resuscitation clinical decision' }] };
  delete cprEntry.resource.period.end;
  cprEntry.resource.extension = [{ url: `${SD}ucp-cpr-recorder-senior`, valueBoolean: true }];
  const r2 = await save('P4', bundle, JUNIOR);
  assert.equal(r2.status, 200, r2.text);
  const s2 = await summary('P4', GP);
  assert.equal(part(param(s2.json, 'cprDecision'), 'validity').valueCoding.code, 'unknown');
});

test('the Bundle itself: a collection of one CarePlan and its parts, new ones without ids', async () => {
  const cases = [
    [{ resourceType: 'Bundle', type: 'transaction', entry: planBundle('P3').entry }, 400, 'Bundle.type'],
    [{ resourceType: 'Parameters' }, 400, 'Bundle.type'],
    [{ ...planBundle('P3'), entry: [] }, 400, 'Bundle.entry'],
    [{ ...planBundle('P3'), entry: [...planBundle('P3').entry, planBundle('P3').entry[0]] }, 400, 'Bundle.entry'],
    [planBundle('P3', (x) => { x.adrt = { resourceType: 'Observation', status: 'final', code: { text: 'x' } }; }), 400, 'Bundle.entry[2]'],
    [planBundle('P3', (x) => { x.nok.id = 'rp-x'; }), 400, 'Bundle.entry[4]'],
    [planBundle('P3', (x) => { x.plan.author = { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' }; }), 400, 'Bundle.entry[0].resource'],
    [planBundle('P3', (x) => { x.cpr.period.start = 'yesterday'; }), 400, 'Bundle.entry[1].resource.period.start'],
  ];
  for (const [body, status, expression] of cases) {
    const r = await save('P3', body);
    assert.equal(r.status, status, `${expression}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.issue[0].expression?.[0], expression, r.text.slice(0, 300));
  }
  // an existing resource named by id must exist, and belong to the patient
  const b = planBundle('P3');
  b.entry[4] = { fullUrl: 'RelatedPerson/nobody', resource: { ...b.entry[4].resource, id: 'nobody' } };
  const r = await save('P3', b);
  assert.equal(r.status, 404, r.text);
  assert.equal((await save('NOPE', planBundle('NOPE'))).status, 404);
  assert.equal((await fhir(node, 'POST', 'Patient/$care-plan', { body: planBundle('P3'), token: tok(GP) })).status, 400);
  assert.equal((await fhir(node, 'GET', 'Patient/P3/$care-plan', { token: tok(GP) })).status, 405);
  assert.deepEqual(await currentPlans('P3'), []);
});

test('a plan\'s resources are written only through $care-plan; other care plans as before', async () => {
  const [plan] = await currentPlans('P1');
  const put = await fhir(node, 'PUT', `CarePlan/${plan.id}`, { body: { ...plan, title: 'Changed' }, token: tok(GP) });
  assert.equal(put.status, 400, put.text);
  assert.equal(put.json.issue[0].code, 'business-rule');
  assert.equal(put.json.issue[0].expression[0], 'meta.profile');
  assert.match(put.json.issue[0].diagnostics, /\$care-plan/);
  const fresh = planBundle('P3').entry[1].resource;
  const post = await fhir(node, 'POST', 'Flag', { body: { ...fresh, meta: { profile: [`${SD}UCP-CPRDecision`] } }, token: tok(GP) });
  assert.equal(post.status, 400, post.text);
  const txn = await fhir(node, 'POST', '', {
    token: tok(GP),
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: uuid(), resource: { ...plan, id: undefined, meta: { profile: [`${SD}UCP-CarePlan`] } }, request: { method: 'POST', url: 'CarePlan' } }] },
  });
  assert.equal(txn.status, 400, txn.text);
  assert.match(txn.json.issue[0].diagnostics, /entry\[0\]/);
  // a CarePlan that does not declare the plan's profile is any CarePlan
  const other = await fhir(node, 'POST', 'CarePlan', {
    token: tok(GP),
    body: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/P1' }, title: 'Diabetes care plan' },
  });
  assert.equal(other.status, 201, other.text);
  assert.equal((await currentPlans('P1')).filter((p) => p.meta.profile?.includes(`${SD}UCP-CarePlan`)).length, 1);
});

test('a revision is a new version of the same plan: unchanged parts are not written again, and each version says who saved it', async () => {
  const { bundle, plan } = await currentAsBundle('P1');
  const nok = bundle.entry.find((e) => e.resource.resourceType === 'RelatedPerson' && e.resource.name[0].given[0] === 'Beth');
  nok.resource.telecom = [{ system: 'phone', value: '07700 900999' }];
  bundle.entry[0].resource.activity[0].detail.extension[0].valueCodeableConcept.coding[0].code = 'symptom-control';
  const r = await save('P1', bundle, JUNIOR, { 'If-Match': `W/"${plan.meta.versionId}"` });
  assert.equal(r.status, 200, r.text);
  const a = lastAudit();
  assert.equal(r.headers.etag, 'W/"2"');
  const byRef = Object.fromEntries(r.json.entry.map((e) => [e.fullUrl.split('/').slice(-2).join('/'), e]));
  assert.equal(byRef[`CarePlan/${plan.id}`].response.etag, 'W/"2"');
  assert.equal(byRef[`RelatedPerson/${nok.resource.id}`].response.etag, 'W/"2"');
  const unchanged = r.json.entry.filter((e) => e.response.outcome);
  assert.equal(unchanged.length, 5, 'the flags, the attorney and the medicine were not written again');
  for (const e of unchanged) assert.equal(e.response.etag, 'W/"1"');
  // who saved each version: the history says
  const h = await fhir(node, 'GET', `CarePlan/${plan.id}/_history`, as(GP));
  assert.equal(h.json.total, 2);
  const who = h.json.entry.map((e) => ext(e.resource, `${SD}ucp-recorded-by`).extension.find((x) => x.url === 'who').valueReference.identifier.value);
  assert.deepEqual(who, [JUNIOR.sub, GP.sub], 'newest first');
  assert.equal(a.agent.sub, JUNIOR.sub);
  assert.ok(a.resources.includes(`CarePlan/${plan.id}/_history/2`));
  assert.ok(a.resources.includes(`RelatedPerson/${nok.resource.id}/_history/2`));
  // the summary shows the latest
  const s = await summary('P1', GP);
  assert.equal(part(param(s.json, 'ceilingOfTreatment'), 'level').valueCodeableConcept.coding[0].code, 'symptom-control');
  assert.equal(part(param(s.json, 'lastUpdated'), 'by').valueReference.identifier.value, JUNIOR.sub);
});

test('a new plan supersedes the current one: the old is kept, revoked, and the new replaces it; flags it leaves out become inactive', async () => {
  const [old] = (await currentPlans('P1')).filter((p) => p.meta.profile?.includes(`${SD}UCP-CarePlan`));
  const oldLpa = old.supportingInfo[2].reference;
  // another organisation may not revise the GP's plan...
  const { bundle } = await currentAsBundle('P1', HOSPICE);
  const denied = await save('P1', bundle, HOSPICE);
  assert.equal(denied.status, 403, denied.text);
  assert.equal(denied.json.issue[0].details.coding[0].code, 'organisation');
  assert.match(denied.json.issue[0].diagnostics, /without an id/);
  // ...it writes its own plan, which supersedes it
  const r = await save('P1', planBundle('P1', (x, u) => {
    x.lpa = null;
    x.attorney = null;
    x.plan.supportingInfo = x.plan.supportingInfo.filter((s) => s.reference !== u.lpa && s.reference !== u.attorney);
    x.plan.author = { reference: 'Practitioner/dr-green' };
  }), HOSPICE, { 'If-Match': `W/"${old.meta.versionId}"` });
  assert.equal(r.status, 201, r.text);
  const plan = r.json.entry[0].resource;
  assert.deepEqual(plan.replaces, [{ reference: `CarePlan/${old.id}` }]);
  const revoked = r.json.entry.find((e) => e.resource.id === old.id);
  assert.equal(revoked.resource.status, 'revoked');
  assert.match(revoked.response.outcome.issue[0].diagnostics, /superseded/);
  // never lost: the old plan's versions are all there
  const h = await fhir(node, 'GET', `CarePlan/${old.id}/_history`, as(GP));
  assert.deepEqual(h.json.entry.map((e) => e.resource.status), ['revoked', 'active', 'active']);
  // the LPA flag the new plan leaves out is inactive; exactly one current plan
  const lpa = await fhir(node, 'GET', oldLpa, as(GP));
  assert.equal(lpa.json.status, 'inactive');
  const current = (await currentPlans('P1')).filter((p) => p.meta.profile?.includes(`${SD}UCP-CarePlan`));
  assert.deepEqual(current.map((p) => p.id), [plan.id]);
  // the old plan cannot be revised any more
  const stale = await save('P1', (await currentAsBundle('P1', HOSPICE)).bundle, HOSPICE);
  assert.equal(stale.status, 200, stale.text);
  const oldAgain = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: `CarePlan/${old.id}`, resource: { ...revoked.resource, status: 'active' } }] };
  assert.equal((await save('P1', oldAgain, GP)).status, 409);
});

test('concurrent saves keep exactly one current plan: If-Match lets one win, the others get 412 or 409', async () => {
  const first = await save('P5', planBundle('P5'));
  assert.equal(first.status, 201, first.text);
  const v1 = first.json.entry[0].resource;
  // eight revisions of version 1 at once: one succeeds
  const revisions = await Promise.all([...Array(8).keys()].map(async (i) => {
    const { bundle } = await currentAsBundle('P5');
    bundle.entry[0].resource.description = `revision ${i}`;
    return save('P5', bundle, GP, { 'If-Match': 'W/"1"' });
  }));
  assert.deepEqual(revisions.map((r) => r.status).sort(), [200, 412, 412, 412, 412, 412, 412, 412]);
  for (const r of revisions.filter((x) => x.status === 412)) assert.equal(r.json.issue[0].code, 'conflict');
  // eight new plans replacing version 2 at once: one succeeds
  const news = await Promise.all([...Array(8).keys()].map(() => save('P5', planBundle('P5'), GP, { 'If-Match': 'W/"2"' })));
  assert.deepEqual(news.map((r) => r.status).sort(), [201, 412, 412, 412, 412, 412, 412, 412]);
  // six new plans without If-Match: each supersedes the plan it saw, or is
  // refused (409) because another was saved while it was prepared
  const free = await Promise.all([...Array(6).keys()].map(() => save('P5', planBundle('P5'))));
  for (const r of free) assert.ok([201, 409].includes(r.status), `${r.status} ${r.text.slice(0, 200)}`);
  assert.ok(free.some((r) => r.status === 201));
  const current = (await currentPlans('P5')).filter((p) => p.meta.profile?.includes(`${SD}UCP-CarePlan`));
  assert.equal(current.length, 1, 'exactly one current plan');
  // every plan ever saved is still there, and all but one were revoked
  const all = await fhir(node, 'GET', 'CarePlan?patient=P5&_count=100', as(GP));
  const saved = 1 + 1 + free.filter((r) => r.status === 201).length;
  assert.equal(all.json.total, saved);
  assert.equal(all.json.entry.filter((e) => e.resource.status === 'revoked').length, saved - 1);
  assert.equal((await fhir(node, 'GET', `CarePlan/${v1.id}`, as(GP))).json.status, 'revoked');
  // If-Match without a current plan, or stale, is 412
  assert.equal((await save('P3', planBundle('P3'), GP, { 'If-Match': 'W/"1"' })).status, 412);
  assert.equal((await save('P5', planBundle('P5'), GP, { 'If-Match': 'W/"99"' })).status, 412);
});

test('the emergency summary through each role and purpose, as the access policy says, audited as care-plan-summary', async () => {
  const check = async (claims, headers, status, rule) => {
    const r = await summary('P1', claims, headers);
    assert.equal(r.status, status, `${JSON.stringify(claims)}: ${r.text.slice(0, 300)}`);
    const a = lastAudit();
    assert.equal(a.action, 'care-plan-summary');
    assert.equal(a.patient, 'P1');
    assert.equal(a.agent.sub, claims.sub);
    if (status === 200) {
      assert.equal(a.outcome === 'allowed' || a.outcome === 'filtered', true);
      assert.ok(a.resources.some((x) => x.startsWith('CarePlan/')), 'the record names the plan it showed');
    } else {
      assert.equal(r.json.issue[0].details.coding[0].code, rule, r.text);
      assert.doesNotMatch(r.text, /450476008|cardiopulmonary/, 'a refusal shows no CPR data');
    }
    return r;
  };
  // the registered GP, the hospice caring for the person
  let r = await check(GP, {}, 200);
  assert.equal(part(param(r.json, 'cprDecision'), 'decision').valueCodeableConcept.coding[0].code, '450476008');
  await check(HOSPICE, {}, 200);
  // a paramedic and NHS 111 under emergency access, with a coded reason
  r = await check(PARAMEDIC, EMERGENCY, 200);
  assert.ok(lastAudit().alerts.includes('emergency'), 'emergency access alerts');
  assert.equal(lastAudit().purpose, 'emergency');
  assert.equal(param(r.json, 'hasPlan').valueBoolean, true);
  assert.equal(part(param(r.json, 'cprDecision'), 'validity').valueCoding.code, 'valid');
  await check(NHS111, EMERGENCY, 200);
  await check(PARAMEDIC, {}, 403, 'reason-required');
  await check(PARAMEDIC, { 'X-Access-Reason': 'emergency: curious' }, 403, 'reason-invalid');
  // a hospital with no relationship: refused, unless it says why
  await check(H2, {}, 403, 'no-relationship');
  await check(H2, { 'X-Access-Reason': 'self-claimed: admitted through A&E tonight' }, 200);
  // a receptionist sees contacts, never the plan: no CPR data
  await check(RECEPTION, {}, 403, 'role-not-permitted');
  // a social worker sees the plan, its flags and contacts, not medicines
  r = await check(SOCIAL, {}, 200);
  const jic = param(r.json, 'justInCaseMedicines');
  assert.equal(part(jic, 'whereKept').valueString, 'Blue box on top of the fridge');
  assert.equal(jic.part.filter((p) => p.name === 'medicine').length, 0, 'no MedicationRequest for a social worker');
  assert.equal(part(param(r.json, 'cprDecision'), 'validity').valueCoding.code, 'valid');
  // the patient reads their own summary, nobody else's
  r = await check(PATIENT1, {}, 200);
  assert.equal(param(r.json, 'hasPlan').valueBoolean, true);
  const other = await summary('P2', PATIENT1);
  assert.equal(other.status, 403);
  assert.equal(other.json.issue[0].details.coding[0].code, 'patient-access-other-patient');
  // purposes that do not open records
  assert.equal((await summary('P1', { org: 'G1', sub: 'res-1', purpose: 'research' })).status, 403);
  // by NHS number
  r = await fhir(node, 'GET', `Patient/$care-plan-summary?identifier=${NHS_SYSTEM}|${NHS.P1}`, as(PARAMEDIC, EMERGENCY));
  assert.equal(r.status, 200, r.text);
  assert.equal(param(r.json, 'nhsNumber').valueIdentifier.value, NHS.P1);
  assert.equal((await fhir(node, 'GET', `Patient/$care-plan-summary?identifier=${NHS.P1}`, as(PARAMEDIC, EMERGENCY))).status, 200);
  assert.equal((await fhir(node, 'GET', 'Patient/$care-plan-summary?identifier=9000000001', as(PARAMEDIC, EMERGENCY))).status, 400);
  assert.equal((await fhir(node, 'GET', 'Patient/$care-plan-summary?identifier=9434765919', as(PARAMEDIC, EMERGENCY))).status, 404);
  assert.equal((await fhir(node, 'GET', 'Patient/$care-plan-summary', as(PARAMEDIC, EMERGENCY))).status, 400);
  assert.equal((await fhir(node, 'GET', 'Patient/P1/$care-plan-summary?x=1', as(GP))).status, 400);
  // saving is a write like any other: emergency access is read-only, a
  // receptionist writes no care plans, a patient not their own plan
  const w = async (claims, headers, rule) => {
    const r = await save('P1', planBundle('P1'), claims, headers);
    assert.equal(r.status, 403, r.text.slice(0, 300));
    assert.equal(r.json.issue[0].details.coding[0].code, rule);
  };
  await w(PARAMEDIC, EMERGENCY, 'purpose-not-permitted');
  await w(RECEPTION, {}, 'type-not-permitted');
  await w(PATIENT1, {}, 'type-not-permitted');
  await w(H2, {}, 'no-relationship');
});

test('what the summary holds: exactly what a paramedic needs first', async () => {
  const r = await summary('P1', PARAMEDIC, EMERGENCY);
  assert.equal(r.status, 200, r.text);
  const s = r.json;
  assert.equal(s.resourceType, 'Parameters');
  assert.ok(r.text.length < 8000, `small: ${r.text.length} bytes`);
  assert.equal(param(s, 'patient').valueReference.reference, 'Patient/P1');
  assert.equal(param(s, 'birthDate').valueDate, '1940-02-03');
  const cpr = param(s, 'cprDecision');
  assert.match(part(cpr, 'message').valueString, /Not for cardiopulmonary resuscitation, valid until its review date/);
  assert.equal(part(cpr, 'reviewDate').valueDateTime, day(180));
  assert.equal(part(cpr, 'discussedWith').valueString, 'The patient and her daughter');
  assert.equal(part(param(s, 'ceilingOfTreatment'), 'recommendations').valueString, 'Ward-based care; not for intensive care');
  assert.equal(param(s, 'preferredPlaceOfCare').valueCodeableConcept.coding[0].code, '264362003');
  assert.equal(param(s, 'preferredPlaceOfDeath').valueCodeableConcept.text, 'St Synthetic Hospice');
  assert.equal(part(param(s, 'priorities'), 'scale').valueInteger, 80);
  // the hospice's plan has the daughter only, with her phone number
  const contacts = params(s, 'contact');
  assert.equal(contacts.length, 1);
  assert.equal(part(contacts[0], 'name').valueString, 'Beth Smith');
  assert.equal(part(contacts[0], 'phone').valueString, '07700 900123');
  assert.equal(part(contacts[0], 'nextOfKin').valueBoolean, true);
  assert.equal(param(s, 'lastingPowerOfAttorney').valueBoolean, false, 'the new plan has no LPA');
  const adrt = param(s, 'advanceDecisionToRefuseTreatment');
  assert.equal(part(adrt, 'recorded').valueBoolean, true);
  assert.equal(part(adrt, 'whereKept').valueString, 'Top drawer of the bureau in the hall');
  const jic = param(s, 'justInCaseMedicines');
  assert.equal(part(jic, 'whereKept').valueString, 'Blue box on top of the fridge');
  assert.equal(part(jic, 'medicine').valueString, 'Midazolam 10mg/2ml solution for injection ampoules');
  assert.equal(param(s, 'planReviewDate').valueDate, day(180));
  assert.equal(param(s, 'planNeedsReview').valueBoolean, false);
  const updated = param(s, 'lastUpdated');
  assert.equal(part(updated, 'by').valueReference.display, HOSPICE.name);
  assert.equal(part(updated, 'organization').valueReference.identifier.value, 'HOS');
  assert.match(part(updated, 'when').valueInstant, /^\d{4}-\d{2}-\d{2}T/);
  assert.match(param(s, 'plan').valueReference.reference, /^CarePlan\/[^/]+\/_history\/\d+$/);
  // with the LPA flag, the attorney is flagged among the contacts
  const p4 = await summary('P4', PARAMEDIC, EMERGENCY);
  assert.equal(param(p4.json, 'lastingPowerOfAttorney').valueBoolean, true);
  const attorney = params(p4.json, 'contact').find((c) => part(c, 'lastingPowerOfAttorney').valueBoolean);
  assert.equal(part(attorney, 'phone').valueString, '07700 900456');
});

test('an expired CPR decision is flagged as needing review, never silently valid', async () => {
  const r = await save('P2', planBundle('P2', (x) => {
    x.cpr.period = { start: day(-400), end: day(-1) };
    ext(x.plan, `${SD}ucp-signed-off`).valueDateTime = day(-400);
    ext(x.plan, `${SD}ucp-review-date`).valueDate = day(-2);
  }));
  assert.equal(r.status, 201, r.text);
  const s = await summary('P2', PARAMEDIC, EMERGENCY);
  const cpr = param(s.json, 'cprDecision');
  assert.equal(part(cpr, 'validity').valueCoding.code, 'needs-review');
  assert.match(part(cpr, 'message').valueString, new RegExp(`review date \\(${day(-1)}\\) has passed.*needs review`));
  assert.equal(param(s.json, 'planNeedsReview').valueBoolean, true);
  // a decision reviewed today is still valid today
  const { bundle } = await currentAsBundle('P2');
  bundle.entry.find((e) => e.resource.resourceType === 'Flag' && e.resource.code.coding[0].code === '450476008').resource.period.end = day(0);
  assert.equal((await save('P2', bundle)).status, 200);
  const today = await summary('P2', PARAMEDIC, EMERGENCY);
  assert.equal(part(param(today.json, 'cprDecision'), 'validity').valueCoding.code, 'valid');
  // no plan at all: said so, no decision
  const none = await summary('P3', PARAMEDIC, EMERGENCY);
  assert.equal(none.status, 200, none.text);
  assert.equal(param(none.json, 'hasPlan').valueBoolean, false);
  assert.equal(part(param(none.json, 'cprDecision'), 'validity').valueCoding.code, 'not-recorded');
});

test('the plan is part of the patient\'s record: $everything returns it', async () => {
  const [plan] = (await currentPlans('P1')).filter((p) => p.meta.profile?.includes(`${SD}UCP-CarePlan`));
  const r = await fhir(node, 'GET', 'Patient/P1/$everything', as(GP));
  assert.equal(r.status, 200, r.text);
  const refs = entryRefs(r.json);
  assert.ok(refs.includes(`CarePlan/${plan.id}`));
  for (const s of plan.supportingInfo) assert.ok(refs.includes(s.reference), `$everything has ${s.reference}`);
  assert.ok(refs.includes(plan.activity[2].reference.reference));
  // superseded plans too: nothing is lost
  assert.ok(refs.includes(plan.replaces[0].reference));
});

test('usage figures: people with a plan and plans per month from the store, plan views by emergency services from the audit', async () => {
  const denied = await fhir(node, 'GET', '$care-plan-figures', as(GP));
  assert.equal(denied.status, 403);
  assert.equal(denied.json.issue[0].details.coding[0].code, 'purpose-not-permitted');
  const r = await fhir(node, 'GET', '$care-plan-figures', { token: tok(AUDITOR) });
  assert.equal(r.status, 200, r.text);
  assert.equal(lastAudit().action, 'care-plan-figures');
  assert.equal(lastAudit().patient, undefined);
  const n = (name) => param(r.json, name).valueInteger;
  assert.equal(n('peopleWithPlan'), 4, 'P1, P2, P4, P5');
  assert.equal(n('currentPlans'), 4);
  const months = params(r.json, 'month');
  assert.ok(months.length >= 1 && months.length <= 2);
  const sum = (k) => months.reduce((t, m) => t + part(m, k).valueInteger, 0);
  assert.equal(sum('created'), n('plansCreated'));
  assert.equal(sum('revised'), n('revisions'));
  // P1: 2 plans, P2: 1, P4: 1, P5: 2 + the unconditional ones
  const p5 = await fhir(node, 'GET', 'CarePlan?patient=P5&_count=100', as(GP));
  assert.equal(n('plansCreated'), 2 + 1 + 1 + p5.json.total);
  assert.equal(sum('superseded'), 1 + (p5.json.total - 1));
  // a period before any plan
  const early = await fhir(node, 'GET', '$care-plan-figures?since=2020-01-01&until=2020-12-31', { token: tok(AUDITOR) });
  assert.equal(early.status, 200);
  assert.equal(param(early.json, 'plansCreated').valueInteger, 0);
  assert.equal(param(early.json, 'peopleWithPlan').valueInteger, 4, 'people with a plan is now, whatever the period');
  assert.equal((await fhir(node, 'GET', '$care-plan-figures?since=2020-13-01', { token: tok(AUDITOR) })).status, 400);
  // the audit report counts the summaries: views by emergency services
  const report = await fhir(node, 'GET', '$audit-report', { token: tok(AUDITOR) });
  assert.equal(report.status, 200, report.text);
  const total = param(report.json, 'total');
  const views = part(total, 'carePlanViewsByEmergencyServices').valueInteger;
  const emergency = Number(sql("SELECT count(*) FROM audit WHERE action='care-plan-summary' AND principal_org='RRU' AND outcome IN ('allowed','filtered')"));
  assert.ok(emergency >= 3);
  assert.equal(views, emergency, 'every summary the ambulance service was shown');
  // and the store's figures are in the same report, as $care-plan-figures gives them
  const figs = param(report.json, 'carePlanFigures');
  assert.equal(part(figs, 'peopleWithPlan').valueInteger, n('peopleWithPlan'));
  assert.equal(part(figs, 'plansCreated').valueInteger, n('plansCreated'));
  assert.equal(part(figs, 'revisions').valueInteger, n('revisions'));
});

test('imported data with two current plans: the summary shows the newest, and the next save leaves exactly one', async () => {
  // bulk loads trust their source, so two current plans can arrive
  const plan = (id, title) => ({
    ...planBundle('P6').entry[0].resource, id, title,
    meta: { profile: [`${SD}UCP-CarePlan`] }, supportingInfo: undefined,
    activity: [planBundle('P6').entry[0].resource.activity[0]],
  });
  const ndjson = [plan('imp-a', 'Older plan'), plan('imp-b', 'Newer plan')].map((x) => JSON.stringify(x)).join('\n');
  const imp = await fhir(node, 'POST', '$import', {
    token: node.token({ org: 'G1', sub: 'sys-G1' }), body: ndjson,
    headers: { 'content-type': 'application/fhir+ndjson' },
  });
  assert.equal(imp.status, 200, imp.text);
  const s = await summary('P6', GP);
  assert.equal(param(s.json, 'plan').valueReference.reference, 'CarePlan/imp-b/_history/1');
  // a revision of the newer one supersedes the older
  const b = planBundle('P6');
  b.entry[0] = { fullUrl: 'CarePlan/imp-b', resource: { ...b.entry[0].resource, id: 'imp-b' } };
  const r = await save('P6', b);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.entry[0].resource.replaces, [{ reference: 'CarePlan/imp-a' }]);
  assert.equal((await fhir(node, 'GET', 'CarePlan/imp-a', as(GP))).json.status, 'revoked');
  const current = (await currentPlans('P6')).filter((p) => p.meta.profile?.includes(`${SD}UCP-CarePlan`));
  assert.deepEqual(current.map((p) => p.id), ['imp-b']);
  // a further revision keeps what it replaced
  const { bundle } = await currentAsBundle('P6');
  const again = await save('P6', bundle);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json.entry[0].resource.replaces, [{ reference: 'CarePlan/imp-a' }]);
});
