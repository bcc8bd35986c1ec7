// access.test.mjs: the access policy through every read path of the real
// server. A small world is published by each organisation's own system;
// then clinicians, students, receptionists, social workers, patients,
// systems and researchers ask for it, and each test asserts exactly what
// comes back, what is withheld and what the audit record says.
//
// The world (ODS codes are made up):
//   G1  GP practice: P1, P2 and P3 are registered here
//   H1  hospital: a finished Encounter with P1 ten days ago, an open one
//       with P2
//   H2  hospital with no relationship to anyone
//   S1  sexual health clinic: a chlamydia diagnosis for P1 (legally
//       sensitive: never shown outside S1)
//   P2  has objected to sharing (Consent recorded by G1): each
//       organisation sees only its own data about them
//   P3  is a restricted patient (meta.security R)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, fhir, runBin, entryRefs, tempDir, NHS_SYSTEM, sqlite } from './lib.mjs';
import { SCT, NHS1, NHS2, patient, obs, buildWorld } from './access_world.mjs';

let node;

const tok = (claims) => node.token({ sub: `u-${claims.org}-${claims.role || 'R8000'}-${claims.purpose || 'dc'}`, role: 'R8000', purpose: 'direct-care', ...claims });
const as = (claims, extraHeaders = {}) => ({ token: tok(claims), headers: extraHeaders });
const GP = { org: 'G1' };
const H1 = { org: 'H1' };
const H2 = { org: 'H2' };
const RECEPTION = { org: 'G1', role: 'R8009' };
const SOCIAL = { org: 'G1', role: 'R8014' };
const STUDENT = { org: 'H1', role: 'R8004' };
const PATIENT1 = { org: 'G1', role: 'R8000', purpose: 'patient-access', patient: NHS1, sub: 'patient-1' };
const CLAIM = { 'X-Access-Reason': 'self-claimed: covering the ward for a colleague' };

const sql = (statement) => sqlite(node.dataDir, statement);
const lastAudit = () => JSON.parse(sql('SELECT body FROM audit ORDER BY seq DESC LIMIT 1'));

const ids = (bundle, mode = 'match') => entryRefs(bundle, mode).sort();
const notice = (bundle) => (bundle.entry || []).some((e) => e.resource.resourceType === 'OperationOutcome'
  && e.resource.issue.some((i) => i.code === 'suppressed'));
function denied(r, rule) {
  assert.equal(r.status, 403, r.text);
  const issue = r.json.issue[0];
  assert.equal(issue.code, 'forbidden');
  assert.equal(issue.details.coding[0].code, rule, r.text);
}

before(async () => {
  node = await startNode();
  await buildWorld(node);
});
after(async () => { await node?.close(); });

test('the registered GP sees the whole record but another organisation\'s legally sensitive item, through every path', async () => {
  const o = as(GP);
  // read: the sensitive item answers as if it did not exist
  assert.equal((await fhir(node, 'GET', 'Patient/P1', o)).status, 200);
  assert.equal((await fhir(node, 'GET', 'Observation/o-h1', o)).status, 200);
  const sti = await fhir(node, 'GET', 'Condition/c-sti', o);
  assert.equal(sti.status, 404, sti.text);
  assert.doesNotMatch(sti.text, /105629000|Chlamyd/);
  assert.equal((await fhir(node, 'GET', 'Condition/c-sti/_history/1', o)).status, 404, 'vread');
  assert.equal((await fhir(node, 'GET', 'Condition/c-sti/_history', o)).status, 404, 'instance history');
  // search: not among the matches; a notice says something was withheld
  let r = await fhir(node, 'GET', 'Condition?patient=P1&_total=accurate', o);
  assert.deepEqual(ids(r.json), ['Condition/c-asthma']);
  assert.equal(r.json.total, 1, 'the total counts what is shown');
  assert.ok(notice(r.json), 'the Bundle says items were withheld');
  assert.doesNotMatch(r.text, /105629000/);
  r = await fhir(node, 'GET', 'Condition?patient=P1&_summary=count', o);
  assert.equal(r.json.total, 1, '_summary=count counts what is shown');
  // _revinclude and _include
  r = await fhir(node, 'GET', 'Patient?_id=P1&_revinclude=Condition:subject', o);
  assert.deepEqual(ids(r.json, 'include'), ['Condition/c-asthma']);
  r = await fhir(node, 'GET', 'Condition?code=105629000', o);
  assert.deepEqual(ids(r.json), []);
  // chain and _has rest only on rows the user may see
  r = await fhir(node, 'GET', `Patient?_has:Condition:subject:code=${SCT}|105629000`, o);
  assert.deepEqual(ids(r.json), [], '_has over a withheld item matches nothing');
  r = await fhir(node, 'GET', `Patient?_has:Condition:subject:code=${SCT}|195967001`, o);
  assert.deepEqual(ids(r.json), ['Patient/P1'], '_has over a visible item matches');
  r = await fhir(node, 'GET', `Condition?patient.identifier=${NHS_SYSTEM}|${NHS1}`, o);
  assert.deepEqual(ids(r.json), ['Condition/c-asthma']);
  // $everything
  r = await fhir(node, 'GET', 'Patient/P1/$everything', o);
  assert.equal(r.status, 200);
  const all = ids(r.json);
  for (const x of ['Patient/P1', 'Condition/c-asthma', 'Observation/o-g1', 'Observation/o-h1', 'Encounter/e1',
    'Composition/dis1', 'DocumentReference/d-nopat', 'RelatedPerson/rp1']) assert.ok(all.includes(x), `$everything has ${x}`);
  assert.ok(!all.includes('Condition/c-sti'));
  assert.ok(notice(r.json));
  // a batch's GET entries are reads like any other
  r = await fhir(node, 'POST', '', {
    ...o,
    body: {
      resourceType: 'Bundle', type: 'batch',
      entry: [{ request: { method: 'GET', url: 'Condition/c-sti' } }, { request: { method: 'GET', url: 'Condition/c-asthma' } }],
    },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.entry[0].response.status, '404');
  assert.equal(r.json.entry[1].response.status, '200 OK');
  assert.doesNotMatch(r.text, /105629000/);
  // type history: the sensitive version is not there, and the total agrees
  r = await fhir(node, 'GET', 'Condition/_history', o);
  assert.deepEqual(r.json.entry.map((e) => e.fullUrl.split('/').slice(-2).join('/')), ['Condition/c-asthma']);
  assert.equal(r.json.total, 1);
});

test('the recording organisation sees its own sensitive item; a system sees only what its organisation published', async () => {
  const s1 = { token: node.token({ org: 'S1', sub: 'sys-S1' }) };
  assert.equal((await fhir(node, 'GET', 'Condition/c-sti', s1)).status, 200);
  const r = await fhir(node, 'GET', 'Patient/P1/$everything', s1);
  assert.deepEqual(ids(r.json), ['Condition/c-sti']);
  assert.equal((await fhir(node, 'GET', 'Observation/o-g1', s1)).status, 404);
});

test('a care relationship (an encounter ended ten days ago) allows; no relationship is refused with the rule', async () => {
  let r = await fhir(node, 'GET', 'Patient/P1/$everything', as(H1));
  assert.equal(r.status, 200, r.text);
  assert.ok(ids(r.json).includes('Observation/o-g1'));
  assert.equal(lastAudit().basis, 'relationship');
  for (const p of ['Patient/P1', 'Observation/o-g1', 'Patient/P1/$everything', 'Observation?patient=P1',
    'Patient/P1/_history', `Patient/$everything?identifier=${NHS_SYSTEM}|${NHS1}`]) {
    r = await fhir(node, 'GET', p, as(H2));
    denied(r, 'no-relationship');
    assert.doesNotMatch(r.text, /Blood pressure|FamilyP1/);
  }
  const a = lastAudit();
  assert.equal(a.outcome, 'denied');
  assert.equal(a.rule, 'no-relationship');
  // a search across patients shows none of them
  r = await fhir(node, 'GET', 'Observation?_count=100', as(H2));
  assert.equal(r.status, 200);
  assert.deepEqual(ids(r.json), []);
  r = await fhir(node, 'GET', `Patient?identifier=${NHS_SYSTEM}|${NHS1}`, as(H2));
  assert.deepEqual(ids(r.json), []);
});

test('a member of staff opening the record of someone with their surname and home postcode raises both alerts', async () => {
  // the user's own details come from their Practitioner record (SDS user id)
  const put = await fhir(node, 'PUT', 'Practitioner/staff-1', {
    token: node.token({ org: 'G1', sub: 'sys-G1' }),
    body: {
      resourceType: 'Practitioner', id: 'staff-1',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'staff-1' }],
      name: [{ use: 'official', family: 'FamilyP1', given: ['Sam'] }],
      address: [{ use: 'home', postalCode: 'e1 1aa' }],
    },
  });
  assert.ok([200, 201].includes(put.status), put.text);
  const r = await fhir(node, 'GET', 'Patient/P1', { token: node.token({ org: 'G1', sub: 'staff-1', role: 'R8000', purpose: 'direct-care' }) });
  assert.equal(r.status, 200, r.text);
  const a = lastAudit();
  assert.ok(a.alerts.includes('same-surname'), JSON.stringify(a.alerts));
  assert.ok(a.alerts.includes('same-address'), JSON.stringify(a.alerts));
  // someone else at the same practice raises neither
  await fhir(node, 'GET', 'Patient/P1', as(GP));
  const b = lastAudit();
  assert.ok(!(b.alerts || []).includes('same-surname'));
});

test('a relationship lasts the configured window after the encounter ended (90 days), not longer', async () => {
  const old = await fhir(node, 'GET', 'Patient/P3', as({ org: 'H3' }));
  denied(old, 'no-relationship');
  const recent = await fhir(node, 'GET', 'Patient/P3', as({ org: 'H4' }));
  assert.equal(recent.status, 200, recent.text);
  assert.equal(lastAudit().basis, 'relationship');
});

test('a self-claimed relationship or emergency access allows, and raises an alert in the audit record', async () => {
  let r = await fhir(node, 'GET', 'Patient/P1/$everything', as(H2, CLAIM));
  assert.equal(r.status, 200, r.text);
  let a = lastAudit();
  assert.equal(a.basis, 'self-claimed');
  assert.ok(a.alerts.includes('self-claimed'));
  assert.equal(a.reason, CLAIM['X-Access-Reason']);
  assert.equal(a.outcome, 'filtered', 'the sensitive item was withheld');
  // an empty claim is not a claim
  denied(await fhir(node, 'GET', 'Patient/P1', as(H2, { 'X-Access-Reason': 'self-claimed:   ' })), 'reason-required');
  // break glass: purpose emergency with a coded reason
  const em = { ...H2, purpose: 'emergency', sub: 'para-1' };
  r = await fhir(node, 'GET', 'Patient/P1/$everything', as(em, { 'X-Access-Reason': 'emergency: life-threatening collapsed in street' }));
  assert.equal(r.status, 200, r.text);
  a = lastAudit();
  assert.equal(a.basis, 'emergency');
  assert.ok(a.alerts.includes('emergency'));
  denied(await fhir(node, 'GET', 'Patient/P1', as(em, { 'X-Access-Reason': 'emergency: because' })), 'reason-invalid');
  denied(await fhir(node, 'GET', 'Patient/P1', as(em)), 'reason-required');
});

test('roles: a receptionist sees demographics and contacts only; a social worker the discharge summary', async () => {
  const o = as(RECEPTION);
  assert.equal((await fhir(node, 'GET', 'Patient/P1', o)).status, 200);
  denied(await fhir(node, 'GET', 'Observation/o-g1', o), 'role-not-permitted');
  denied(await fhir(node, 'GET', 'Observation?patient=P1', o), 'role-not-permitted');
  let r = await fhir(node, 'GET', 'Patient/P1/$everything', o);
  assert.deepEqual(ids(r.json).filter((x) => !x.startsWith('Organization/')), ['Patient/P1', 'RelatedPerson/rp1']);
  assert.ok(!notice(r.json), 'what a role never sees is left out silently');
  r = await fhir(node, 'GET', 'Patient/P1/$everything', as(SOCIAL));
  const got = ids(r.json).filter((x) => !x.startsWith('Organization/'));
  assert.deepEqual(got, ['Composition/dis1', 'Patient/P1', 'RelatedPerson/rp1']);
});

test('a student needs a named supervisor and a real relationship, and every access alerts', async () => {
  denied(await fhir(node, 'GET', 'Patient/P1', as(STUDENT)), 'supervisor-required');
  const r = await fhir(node, 'GET', 'Patient/P1', as(STUDENT, { 'X-Supervisor': '600000000001' }));
  assert.equal(r.status, 200, r.text);
  const a = lastAudit();
  assert.ok(a.alerts.includes('student'));
  assert.equal(a.supervisor, '600000000001');
  // a self-claim is not honoured for a student, emergency access is refused
  denied(await fhir(node, 'GET', 'Patient/P1', as({ ...STUDENT, org: 'H2' }, { 'X-Supervisor': '600000000001', ...CLAIM })), 'no-relationship');
  denied(await fhir(node, 'GET', 'Patient/P1', as({ ...STUDENT, purpose: 'emergency' },
    { 'X-Supervisor': '600000000001', 'X-Access-Reason': 'emergency: life-threatening collapsed' })), 'claim-not-permitted');
  // and students do not write
  denied(await fhir(node, 'POST', 'Observation', { ...as(STUDENT, { 'X-Supervisor': '600000000001' }), body: obs(undefined, 'P1', 'x') }), 'role-not-permitted');
});

test('an objection: each organisation sees only what it recorded, and the person stays identifiable', async () => {
  let r = await fhir(node, 'GET', 'Patient/P2/$everything', as(H1));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(ids(r.json).filter((x) => !x.startsWith('Organization/')), ['Encounter/e2', 'Observation/o2-h1', 'Patient/P2']);
  assert.ok(notice(r.json));
  r = await fhir(node, 'GET', 'Patient/P2/$everything', as(GP));
  assert.deepEqual(ids(r.json).filter((x) => !x.startsWith('Organization/')), ['Consent/objection', 'Observation/o2-g1', 'Patient/P2']);
  assert.equal((await fhir(node, 'GET', 'Observation/o2-g1', as(H1))).status, 404);
  r = await fhir(node, 'GET', `Patient?_has:Observation:subject:code:text=Weight`, as(H1));
  assert.deepEqual(ids(r.json), [], '_has cannot reach another organisation\'s data under an objection');
});

test('a restricted patient: address, telecom and GP removed for organisations not caring for them', async () => {
  let r = await fhir(node, 'GET', 'Patient/P3', as(H2, CLAIM));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.address, undefined);
  assert.equal(r.json.telecom, undefined);
  assert.equal(r.json.generalPractitioner, undefined);
  assert.equal(r.json.name[0].family, 'FamilyP3');
  assert.ok(lastAudit().alerts.includes('restricted'));
  r = await fhir(node, 'GET', 'Patient/P3', as(GP));
  assert.equal(r.json.address[0].postalCode, 'E1 1AA');
  r = await fhir(node, 'GET', 'Patient?_id=P3', as(H2, CLAIM));
  assert.equal(r.json.entry[0].resource.address, undefined, 'redacted in searches too');
});

test('patients see their own record but what is not for them; nobody else\'s', async () => {
  const o = as(PATIENT1);
  let r = await fhir(node, 'GET', 'Patient/P1/$everything', o);
  assert.equal(r.status, 200, r.text);
  const got = ids(r.json);
  assert.ok(got.includes('Observation/o-g1') && got.includes('Encounter/e1'));
  assert.ok(!got.includes('DocumentReference/d-nopat'), 'not-for-patient items withheld');
  assert.ok(!got.includes('Condition/c-sti'));
  denied(await fhir(node, 'GET', 'Patient/P2', o), 'patient-access-other-patient');
  denied(await fhir(node, 'GET', 'Observation?patient=P2', o), 'patient-access-other-patient');
  assert.equal(lastAudit().basis, undefined);
});

test("a patient's own reads are not their practice's staff accesses: the practice's privacy officer does not see them", async () => {
  await fhir(node, 'GET', 'Patient/P1', as(PATIENT1));
  const seq = Number(sql('SELECT max(seq) FROM audit'));
  assert.equal(lastAudit().agent.sub, 'patient-1');
  const officer = { token: node.token({ org: 'G1', sub: 'po-g1', purpose: 'audit' }) };
  const one = await fhir(node, 'GET', `AuditEvent/${seq}`, officer);
  assert.equal(one.status, 403, one.text);
  const list = await fhir(node, 'GET', 'AuditEvent?patient=P1&_count=1000', officer);
  assert.equal(list.status, 200, list.text);
  assert.ok(!list.text.includes('patient-1'), "the patient's id is not in the officer's trail");
  const report = await fhir(node, 'GET', '$audit-report', officer);
  assert.equal(report.status, 200, report.text);
  assert.ok(!report.text.includes('patient-1'));
});

test('research and audit purposes get no patient data; writes need a relationship and a role that writes', async () => {
  denied(await fhir(node, 'GET', 'Patient/P1', as({ org: 'G1', purpose: 'research' })), 'purpose-not-permitted');
  denied(await fhir(node, 'GET', 'Patient/P1/$everything', as({ org: 'G1', purpose: 'audit' })), 'purpose-not-permitted');
  const before = sql("SELECT count(*) FROM resources WHERE type='Observation'");
  denied(await fhir(node, 'POST', 'Observation', { ...as(H2), body: obs(undefined, 'P1', 'x') }), 'no-relationship');
  denied(await fhir(node, 'POST', 'Observation', { ...as(RECEPTION), body: obs(undefined, 'P1', 'x') }), 'type-not-permitted');
  assert.equal(sql("SELECT count(*) FROM resources WHERE type='Observation'"), before, 'refused writes change nothing');
  const ok = await fhir(node, 'POST', 'Observation', { ...as(GP), body: obs(undefined, 'P1', 'Pulse') });
  assert.equal(ok.status, 201, ok.text);
  // a refused write inside a transaction fails the transaction as a whole
  const t = await fhir(node, 'POST', '', {
    ...as(H2),
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: obs(undefined, 'P1', 'y'), request: { method: 'POST', url: 'Observation' } }] },
  });
  assert.equal(t.status, 403, t.text);
});

test('every decision is in the audit record, and the chain still verifies', async () => {
  const rows = sql("SELECT count(*) FROM audit WHERE outcome='denied'");
  assert.ok(Number(rows) >= 10, `denials recorded: ${rows}`);
  const filtered = JSON.parse(sql("SELECT body FROM audit WHERE outcome='filtered' ORDER BY seq LIMIT 1"));
  assert.ok(filtered.withheld >= 1);
  assert.ok(filtered.rule);
  const v = runBin(['audit', 'verify', '--data', node.dataDir]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('a policy section with a mistake stops the node from starting, naming the key', async () => {
  const dir = tempDir('cr-policy-');
  const cfg = path.join(dir, 'node.json');
  fs.writeFileSync(cfg, JSON.stringify({ policy: { relationship_days: 'ninety' } }));
  const r = runBin(['serve', '--config', cfg, '--data', path.join(dir, 'data'), '--listen', '127.0.0.1:0']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /policy\.relationship_days/);
});

test('each organisation changes only its own data; a conditional create never shows what the user may not see', async () => {
  const h1 = { token: node.token({ org: 'H1', sub: 'sys-H1' }) };
  const before = (await fhir(node, 'GET', 'Observation/o-g1', as(GP))).json;
  let r = await fhir(node, 'PUT', 'Observation/o-g1', { ...h1, body: { ...obs('o-g1', 'P1', 'Overwritten'), meta: undefined } });
  denied(r, 'organisation');
  r = await fhir(node, 'DELETE', 'Observation/o-g1', h1);
  denied(r, 'organisation');
  assert.deepEqual((await fhir(node, 'GET', 'Observation/o-g1', as(GP))).json, before, 'unchanged');
  // If-None-Exist finds G1's patient: nothing is created, nothing is shown
  r = await fhir(node, 'POST', 'Patient', {
    ...h1, body: patient(undefined, NHS1), headers: { 'If-None-Exist': `identifier=${NHS_SYSTEM}|${NHS1}` },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.doesNotMatch(r.text, /FamilyP1|E1 1AA/);
  assert.equal(r.headers.location, undefined);
  // a search by one organisation's system is recorded as about the patient it showed
  await fhir(node, 'GET', 'Observation?code:text=Heart', h1);
  assert.equal(lastAudit().patient, 'P1');
});

test('a source system\'s search reads only its own organisation\'s data: others\' are neither shown, counted nor noticed', async () => {
  for (const org of ['G1', 'H1', 'S1']) {
    const token = node.token({ org, sub: `sys-${org}` });
    for (const type of ['Observation', 'Condition', 'Encounter']) {
      const own = sql(`SELECT id FROM resources WHERE type='${type}' AND deleted=0 AND org='${org}'`)
        .split('\n').filter(Boolean).map((id) => `${type}/${id}`).sort();
      const others = Number(sql(`SELECT count(*) FROM resources WHERE type='${type}' AND deleted=0 AND org<>'${org}'`));
      const r = await fhir(node, 'GET', `${type}?_sort=-_lastUpdated&_total=accurate`, { token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(ids(r.json), own, `${org} ${type}`);
      assert.equal(r.json.total, own.length, `${org} ${type}: total`);
      // the other organisations' rows were never candidates: nothing
      // says that something was withheld, and the audit counts nothing
      if (others > 0) {
        assert.equal(notice(r.json), false, `${org} ${type}: no withheld notice`);
        assert.ok(!lastAudit().withheld, `${org} ${type}: ${JSON.stringify(lastAudit())}`);
      }
    }
  }
  // a clinician's search still decides (and counts) every row it meets
  const r = await fhir(node, 'GET', 'Condition?patient=P1', as(H1, CLAIM));
  assert.equal(r.status, 200, r.text);
  assert.ok(notice(r.json), 'the sensitive diagnosis is withheld and said to be');
});

test('a relationship through an Organization reference follows that Organization\'s ODS code when it changes', async () => {
  const sysH2 = node.token({ org: 'H2', sub: 'sys-H2' });
  const put = async (res, token) => {
    const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
    assert.ok(r.status === 200 || r.status === 201, r.text);
  };
  const org = (ods) => ({ resourceType: 'Organization', id: 'org-ward', name: 'Ward 9', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods }] });
  await put(org('H2'), sysH2);
  // the GP's system records the admission (its recorder is G1, so H2's
  // only relationship is the ward's ODS code)
  const sysG1 = node.token({ org: 'G1', sub: 'sys-G1' });
  await put(patient('P9', '9990000026'), sysG1);
  await put({
    resourceType: 'Encounter', id: 'e9', status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/P9' }, serviceProvider: { reference: 'Organization/org-ward' },
  }, sysG1);
  let r = await fhir(node, 'GET', 'Patient/P9', as(H2));
  assert.equal(r.status, 200, r.text);
  assert.equal(lastAudit().basis, 'relationship');
  // read twice: the second decision comes from the caches
  assert.equal((await fhir(node, 'GET', 'Patient/P9', as(H2))).status, 200);
  // the ward moves to another organisation: the relationship moves with it
  await put(org('H9'), sysH2);
  denied(await fhir(node, 'GET', 'Patient/P9', as(H2)), 'no-relationship');
  r = await fhir(node, 'GET', 'Patient/P9', as({ org: 'H9' }));
  assert.equal(r.status, 200, r.text);
});
