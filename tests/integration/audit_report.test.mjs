// The audit report: `carerecord audit report` on a node's data directory
// and GET /fhir/$audit-report give the privacy officer's alerts and the
// programme's usage statistics from the audit log. Requests here use
// source-system tokens that write and read back their own organisation's
// data (allowed before and after the access policy is wired into the read
// paths), plus requests the report itself refuses; alerts raised by the
// policy (self-claim, emergency) are raised by real reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  startNode, fhir, runBin, sampleResource, validateFhir, assertOutcome, tempDir,
} from './lib.mjs';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const KIND = 'https://carerecord.example/CodeSystem/organisation-kind';
const ODS_ROLE = 'https://digital.nhs.uk/services/organisation-data-service/CodeSystem/ODSOrganisationRole';

function sql(dataDir, statement) {
  const r = spawnSync('sqlite3', [path.join(dataDir, 'carerecord.db'), statement],
                      { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// The parts of a Parameters parameter (or the parameters of a Parameters)
// named 'name'.
const named = (list, name) => (list || []).filter((p) => p.name === name);
const one = (list, name) => {
  const found = named(list, name);
  assert.equal(found.length, 1, `exactly one '${name}' in ${JSON.stringify(list).slice(0, 300)}`);
  return found[0];
};
const int = (list, name) => one(list, name).valueInteger;
// views by setting code in a 'month' or 'total' parameter
const bySetting = (usage) => Object.fromEntries(named(usage.part, 'setting').map((s) =>
  [one(s.part, 'code').valueCoding.code, int(s.part, 'recordViews')]));

// The London Ambulance Service (ambulance), a GP practice known by its ODS
// role only, and a trust with no Organization resource (setting unknown).
const LAS = { sub: 'las-feed', name: 'LAS integration', org: 'RRU', role: 'R8000', purpose: 'system' };
const GP = { sub: 'gp-feed', name: 'GP system', org: 'A81001', role: 'R8000', purpose: 'system' };
const TRUST = { sub: 'trust-feed', name: 'Trust EPR', org: 'RR8', role: 'R8000', purpose: 'system' };
const OFFICER = { sub: 'po-las', name: 'LAS privacy officer', org: 'RRU', role: 'R8000', purpose: 'audit' };

let node;
let views;          // record views made, by org
before(async () => {
  node = await startNode();
  const las = node.token(LAS);
  const gp = node.token(GP);
  const trust = node.token(TRUST);
  const put = async (token, res) => {
    const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
    assert.ok([200, 201].includes(r.status), r.text);
    return r.json;
  };
  const post = async (token, res) => {
    const r = await fhir(node, 'POST', res.resourceType, { body: res, token });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const get = async (token, p) => {
    const r = await fhir(node, 'GET', p, { token });
    assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 300)}`);
    return r.json;
  };
  await put(las, sampleResource('Organization', {
    id: 'RRU', name: 'London Ambulance Service',
    identifier: [{ system: ODS, value: 'RRU' }],
    type: [{ coding: [{ system: KIND, code: 'ambulance-service' }] }],
  }));
  await put(gp, sampleResource('Organization', {
    id: 'A81001', name: 'A GP practice',
    identifier: [{ system: ODS, value: 'A81001' }],
    type: [{ coding: [{ system: ODS_ROLE, code: 'RO177' }, { system: ODS_ROLE, code: 'RO76' }] }],
  }));
  // the ambulance service: a patient, a care plan, and three views, one
  // of them of the care plan
  const p1 = await post(las, sampleResource('Patient'));
  const plan = await post(las, sampleResource('CarePlan', { subject: { reference: `Patient/${p1.id}` } }));
  await get(las, `Patient/${p1.id}`);
  await get(las, `Patient/${p1.id}/_history/1`);
  await get(las, `CarePlan/${plan.id}`);
  // the GP practice: two views ($everything and a read)
  const p2 = await post(gp, sampleResource('Patient'));
  await get(gp, `Patient/${p2.id}/$everything`);
  await get(gp, `Patient/${p2.id}`);
  // the trust: two views, a read and a search that showed one patient
  const p3 = await post(trust, sampleResource('Patient'));
  await get(trust, `Patient/${p3.id}`);
  await get(trust, `Patient?_id=${p3.id}`);
  views = { RRU: 3, A81001: 2, RR8: 2 };
});
after(async () => { await node?.close(); });

test('the command line reports usage by month, by care setting and care plan views by emergency services', () => {
  const r = runBin(['audit', 'report', '--data', node.dataDir, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  validateFhir(report);
  assert.equal(report.resourceType, 'Parameters');
  const params = report.parameter;
  assert.equal(int(params, 'volumeThreshold'), 50);
  assert.ok(int(params, 'records') >= 13, 'every request so far is a record');
  assert.equal(int(params, 'unreadable'), 0);
  assert.equal(named(params, 'alert').length, 0, 'source systems raise no alerts');
  const total = one(params, 'total');
  assert.equal(int(total.part, 'recordViews'), 7);
  assert.equal(int(total.part, 'users'), 3);
  assert.equal(int(total.part, 'carePlanViews'), 1);
  assert.equal(int(total.part, 'carePlanViewsByEmergencyServices'), 1, 'an ambulance service read the care plan');
  assert.deepEqual(bySetting(total), { 'gp-practice': views.A81001, ambulance: views.RRU, unknown: views.RR8 });
  // the months add up to the total (normally one month; two at a boundary)
  const months = named(params, 'month');
  assert.ok(months.length >= 1 && months.length <= 2);
  assert.match(one(months[0].part, 'month').valueDate, /^\d{4}-\d{2}$/);
  assert.equal(months.reduce((n, m) => n + int(m.part, 'recordViews'), 0), 7);
});

test('--org narrows the report to one organisation\'s staff', () => {
  const r = runBin(['audit', 'report', '--data', node.dataDir, '--format', 'json', '--org', 'A81001']);
  assert.equal(r.status, 0, r.stderr);
  const params = JSON.parse(r.stdout).parameter;
  assert.equal(one(params, 'organization').valueIdentifier.value, 'A81001');
  const total = one(params, 'total');
  assert.equal(int(total.part, 'recordViews'), 2);
  assert.equal(int(total.part, 'users'), 1);
  assert.equal(int(total.part, 'carePlanViews'), 0);
  assert.deepEqual(bySetting(total), { 'gp-practice': 2 });
});

test('the text report is for people; a period with no records has none', () => {
  const r = runBin(['audit', 'report', '--data', node.dataDir, '--volume-threshold', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^carerecord audit report\n/);
  assert.match(r.stdout, /Period: +the whole log/);
  assert.match(r.stdout, /Alerts to review: 0\n/);
  // source systems are not users whose volume is unusual
  assert.match(r.stdout, /Unusual volume \(more than 1 distinct patients by one user in one UK day\): 0\n/);
  assert.match(r.stdout, /Usage by month \(UK time\)/);
  assert.match(r.stdout, /\n {2}total +7 +3 +1 +1\n/);
  assert.match(r.stdout, /Ambulance service +3\n/);
  assert.match(r.stdout, /GP practice +2\n/);
  const old = runBin(['audit', 'report', '--data', node.dataDir, '--since', '2001-01-01', '--until', '2001-02-28']);
  assert.equal(old.status, 0, old.stderr);
  assert.match(old.stdout, /Period: +2001-01-01 to 2001-02-28/);
  assert.match(old.stdout, /Records: +0 in the period/);
  assert.match(old.stdout, /\n {2}2001-01 +0 +0 +0 +0\n {2}2001-02 +0/);
  assert.match(old.stdout, /\(no record views\)/);
});

test('wrong flags are exit status 2 with a message; no store is exit status 1', () => {
  for (const args of [
    ['--since', '2025-13-01'], ['--until', '2025-02-30'], ['--since', '25-01-01'],
    ['--format', 'xml'], ['--volume-threshold', '0'], ['--volume-threshold', '12x'],
    ['--org', 'rr8'], ['--bogus'], ['--since'], ['extra'],
    ['--since', '2025-02-01', '--until', '2025-01-31'],
    ['--since', '1970-01-01', '--until', '2100-01-01'],
  ]) {
    const r = runBin(['audit', 'report', '--data', node.dataDir, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /carerecord audit report: .+\n/);
    assert.equal(r.stdout, '');
  }
  const empty = tempDir();
  const r = runBin(['audit', 'report', '--data', empty]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no store in/);
  const h = runBin(['audit', 'report', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--volume-threshold N/);
});

test('GET /fhir/$audit-report: privacy officers only, their own organisation only', async () => {
  const denied = await fhir(node, 'GET', '$audit-report', { token: node.token({ ...LAS, purpose: 'direct-care' }) });
  assertOutcome(denied, 403);
  assert.equal(denied.json.issue[0].code, 'forbidden');
  assert.match(denied.json.issue[0].diagnostics, /purpose is 'audit'/);
  assertOutcome(await fhir(node, 'GET', '$audit-report', { token: node.token(LAS) }), 403);
  const officer = node.token(OFFICER);
  const other = await fhir(node, 'GET', '$audit-report?org=A81001', { token: officer });
  assertOutcome(other, 403);
  assert.equal(other.json.issue[0].code, 'forbidden');
  assert.match(other.json.issue[0].diagnostics, /own organisation/);
  assertOutcome(await fhir(node, 'GET', '$audit-report?since=yesterday', { token: officer }), 400);
  assertOutcome(await fhir(node, 'GET', '$audit-report?since=1970-01-01&until=2100-01-01', { token: officer }), 400);
  assertOutcome(await fhir(node, 'GET', '$audit-report?volume-threshold=0', { token: officer }), 400);
  assertOutcome(await fhir(node, 'GET', '$audit-report?colour=blue', { token: officer }), 400);
  assertOutcome(await fhir(node, 'POST', '$audit-report', { token: officer, body: { resourceType: 'Parameters' } }), 405);

  const r = await fhir(node, 'GET', '$audit-report?org=RRU', { token: officer });   // validated by fhir()
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.resourceType, 'Parameters');
  const params = r.json.parameter;
  assert.deepEqual(one(params, 'organization').valueIdentifier, { system: ODS, value: 'RRU' });
  const total = one(params, 'total');
  assert.equal(int(total.part, 'recordViews'), views.RRU);
  assert.equal(int(total.part, 'users'), 1);
  assert.equal(int(total.part, 'carePlanViews'), 1);
  assert.equal(int(total.part, 'carePlanViewsByEmergencyServices'), 1);
  assert.deepEqual(bySetting(total), { ambulance: views.RRU });
  // a period that holds today holds today's records ...
  const later = await fhir(node, 'GET', '$audit-report?since=2020-01-01&until=2100-12-31', { token: officer });
  assert.equal(later.status, 200);
  assert.equal(int(one(later.json.parameter, 'total').part, 'recordViews'), views.RRU);
  assert.equal(one(later.json.parameter, 'since').valueDate, '2020-01-01');
  assert.equal(one(later.json.parameter, 'until').valueDate, '2100-12-31');
  // ... and none in one that ended before
  const before_ = await fhir(node, 'GET', '$audit-report?until=2019-12-31', { token: officer });
  assert.equal(before_.status, 200);
  assert.equal(int(one(before_.json.parameter, 'total').part, 'recordViews'), 0);
});

test('reading the report is itself recorded, refused or not', async () => {
  const before_ = Number(sql(node.dataDir, "SELECT count(*) FROM audit WHERE action = 'audit-read'"));
  assert.equal((await fhir(node, 'GET', '$audit-report', { token: node.token(OFFICER) })).status, 200);
  assert.equal((await fhir(node, 'GET', '$audit-report', { token: node.token(GP) })).status, 403);
  const rows = sql(node.dataDir, "SELECT principal_sub || '|' || outcome FROM audit WHERE action = 'audit-read' ORDER BY seq")
    .split('\n');
  assert.equal(rows.length, before_ + 2);
  assert.deepEqual(rows.slice(-2), ['po-las|allowed', 'gp-feed|denied']);
  // the chain still verifies, and the reads are not record views
  const v = runBin(['audit', 'verify', '--data', node.dataDir]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const r = runBin(['audit', 'report', '--data', node.dataDir, '--format', 'json']);
  assert.equal(int(one(JSON.parse(r.stdout).parameter, 'total').part, 'recordViews'), 7);
});

test('the CapabilityStatement lists $audit-report', async () => {
  const r = await fhir(node, 'GET', 'metadata', { token: null });
  assert.ok(r.json.rest[0].operation.some((o) => o.name === 'audit-report'));
});

// Self-claimed and emergency access raise alerts (the access policy);
// the privacy officer of the user's organisation sees them, and not
// another organisation's.
test('self-claim and emergency alerts reach the privacy officer through the API', async () => {
  const owner = node.token(TRUST);
  const p = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient'), token: owner });
  assert.equal(p.status, 201);
  const clinician = node.token({ sub: 'gp-dr', name: 'Dr Claim', org: 'A81001', role: 'R8000', purpose: 'direct-care' });
  const claim = await fhir(node, 'GET', `Patient/${p.json.id}`, {
    token: clinician, headers: { 'x-access-reason': 'self-claimed: covering for a colleague' },
  });
  assert.equal(claim.status, 200);
  const paramedic = node.token({ sub: 'las-crew', name: 'Paramedic', org: 'RRU', role: 'R8000', purpose: 'emergency' });
  const glass = await fhir(node, 'GET', `Patient/${p.json.id}`, {
    token: paramedic, headers: { 'x-access-reason': 'emergency: life-threatening found collapsed' },
  });
  assert.equal(glass.status, 200);
  const gpOfficer = node.token({ ...OFFICER, sub: 'po-gp', org: 'A81001' });
  const gpAlerts = named((await fhir(node, 'GET', '$audit-report', { token: gpOfficer })).json.parameter, 'alert');
  assert.ok(gpAlerts.some((a) => named(a.part, 'code').some((c) => c.valueCode === 'self-claimed') &&
    one(a.part, 'user').valueString === 'gp-dr' &&
    one(a.part, 'reason').valueString.includes('covering')));
  assert.ok(!gpAlerts.some((a) => named(a.part, 'code').some((c) => c.valueCode === 'emergency')));
  const lasAlerts = named((await fhir(node, 'GET', '$audit-report', { token: node.token(OFFICER) })).json.parameter, 'alert');
  assert.ok(lasAlerts.some((a) => named(a.part, 'code').some((c) => c.valueCode === 'emergency') &&
    one(a.part, 'patient').valueReference.reference === `Patient/${p.json.id}`));
});
