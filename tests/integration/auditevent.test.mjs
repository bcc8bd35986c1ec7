// auditevent.test.mjs: GET /fhir/AuditEvent, the audit log read back as
// IHE BALP AuditEvents. A privacy officer (purpose audit) sees the accesses
// by their own organisation's staff and nobody else's; a patient (purpose
// patient-access) sees the accesses to their own record, with organisation
// and role but never who; every other purpose is refused; the filters and
// paging work; and each read of the log is itself in the log.
//
// The records come from requests whose outcome does not depend on the
// patient-data access policy: source systems (purpose system) writing and
// reading back their own organisation's data, a read of a resource that
// does not exist, and refused AuditEvent reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, runBin, mintToken, sampleResource, linkUrl, pathOf, walkPages, NHS_SYSTEM,
} from './lib.mjs';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SDS_USER = 'https://fhir.nhs.uk/Id/sds-user-id';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
const EXT = 'https://carerecord.example/StructureDefinition/audit-';

const NHS_1 = '9000000009';      // the patient of organisation X (RR8)
const NHS_2 = '9476719931';      // the patient of organisation Y (RJ1)
const NHS_NONE = '9912003888';   // nobody holds a record for this one

let node;
let started;
const tok = {};
const ids = {};        // Patient ids
const requestIds = {};

const bearer = (t) => ({ authorization: `Bearer ${t}` });

// GET as 'who'; throws unless the status is as expected.
async function get(p, who, status = 200) {
  const r = await fhir(node, 'GET', p, { token: tok[who] });
  assert.equal(r.status, status, `GET ${p} as ${who}: ${r.status} ${r.text.slice(0, 400)}`);
  return r;
}

// Every AuditEvent a search finds (all pages).
async function events(query, who) {
  const pages = await walkPages(node, `/fhir/AuditEvent${query}`, { headers: bearer(tok[who]) });
  return pages.flatMap((b) => (b.entry || []).map((e) => e.resource));
}

const orgOf = (ev) => ev.agent.find((a) => a.who?.identifier?.system === ODS)?.who.identifier.value;
const userOf = (ev) => ev.agent.find((a) => a.requestor);
const subOf = (ev) => userOf(ev)?.who?.identifier?.value;
const ext = (ev, name) => (ev.extension || []).filter((e) => e.url === EXT + name);
const ourOutcome = (ev) => ext(ev, 'outcome')[0]?.valueCode;
const subtypes = (ev) => (ev.subtype || []).map((c) => c.code);
const patientOf = (ev) => ev.entity?.find((e) => e.role?.code === '1')?.what.reference;
const dataRefs = (ev) => (ev.entity || []).filter((e) => e.type?.code === '2').map((e) => e.what.reference);

before(async () => {
  node = await startNode();
  started = Date.now() - 1000;
  const t = (claims) => mintToken(node.dataDir, claims);
  tok.sysX = t({ sub: 'sys-rr8', name: 'RR8 EHR feed', org: 'RR8', role: 'R8000', purpose: 'system' });
  tok.sysY = t({ sub: 'sys-rj1', name: 'RJ1 EHR feed', org: 'RJ1', role: 'R8000', purpose: 'system' });
  tok.drX = t({ sub: '555000111222', name: 'Dr Ada Lovelace', org: 'RR8', role: 'R8000', purpose: 'direct-care' });
  tok.poX = t({ sub: '555000999888', name: 'Privacy Officer RR8', org: 'RR8', role: 'R8010', purpose: 'audit' });
  tok.poY = t({ sub: '555000777666', name: 'Privacy Officer RJ1', org: 'RJ1', role: 'R8010', purpose: 'audit' });
  tok.pat1 = t({ sub: 'nhs-login-1', name: 'Pat One', org: 'RR8', role: 'R8000', purpose: 'patient-access', patient: NHS_1 });
  tok.pat2 = t({ sub: 'nhs-login-2', name: 'Pat Two', org: 'RR8', role: 'R8000', purpose: 'patient-access', patient: NHS_2 });
  tok.patNone = t({ sub: 'nhs-login-3', name: 'Pat Three', org: 'RR8', role: 'R8000', purpose: 'patient-access', patient: NHS_NONE });

  const create = async (who, nhs) => {
    const r = await fhir(node, 'POST', 'Patient', {
      token: tok[who],
      body: sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: nhs }] }),
    });
    assert.equal(r.status, 201, r.text);
    return r;
  };
  const c1 = await create('sysX', NHS_1);
  ids.p1 = c1.json.id;
  requestIds.createP1 = c1.headers['x-request-id'];
  await get(`Patient/${ids.p1}`, 'sysX');
  await get('Patient/no-such-patient', 'sysX', 404);
  ids.p2 = (await create('sysY', NHS_2)).json.id;
  await get(`Patient/${ids.p2}`, 'sysY');
  // refused: a clinician may not read the audit log
  await get('AuditEvent', 'drX', 403);
});

after(async () => { await node?.close(); });

test('a privacy officer sees the accesses by their own organisation, newest first, as BALP AuditEvents', async () => {
  const evs = (await get('AuditEvent?_count=100', 'poX')).json.entry.map((e) => e.resource);
  assert.ok(evs.length >= 4, `${evs.length} events`);
  for (const ev of evs) assert.equal(orgOf(ev), 'RR8', `AuditEvent/${ev.id} is RR8's`);
  const seqs = evs.map((e) => Number(e.id));
  assert.deepEqual(seqs, seqs.slice().sort((a, b) => b - a), 'newest first');

  const create = evs.find((e) => e.action === 'C');
  assert.ok(create, 'the create is there');
  assert.deepEqual(create.meta.profile, [`${BALP}PatientCreate`]);
  assert.deepEqual(subtypes(create), ['create']);
  assert.equal(create.outcome, '0');
  assert.equal(patientOf(create), `Patient/${ids.p1}`);
  assert.deepEqual(dataRefs(create), [`Patient/${ids.p1}/_history/1`]);
  assert.equal(subOf(create), 'sys-rr8');
  assert.equal(userOf(create).name, 'RR8 EHR feed');
  assert.equal(create.purposeOfEvent[0].coding[0].code, 'system');
  const xreq = create.entity.find((e) => e.type.code === 'XrequestId');
  assert.equal(xreq.what.identifier.value, requestIds.createP1, 'the request id is the X-Request-Id answered');
  assert.match(ext(create, 'hash')[0].valueString, /^[0-9a-f]{64}$/);
  assert.equal(ext(create, 'http-status')[0].valueInteger, 201);
  assert.ok(create.agent.some((a) => a.network?.address === '127.0.0.1'), 'the client address is there');
  assert.ok(create.agent.some((a) => a.network?.address === node.fhirBase), 'the server is there');
  assert.ok(Date.parse(create.recorded) >= started && Date.parse(create.recorded) <= Date.now());

  const read = evs.find((e) => e.action === 'R' && e.outcome === '0');
  assert.deepEqual(read.meta.profile, [`${BALP}PatientRead`]);
  assert.deepEqual(subtypes(read), ['read']);
  assert.deepEqual(dataRefs(read), [`Patient/${ids.p1}/_history/1`]);

  const notFound = evs.find((e) => e.action === 'R' && e.outcome !== '0');
  assert.equal(notFound.outcome, '4');
  assert.equal(ourOutcome(notFound), 'failed');
  assert.match(notFound.outcomeDesc, /failed \(HTTP 404\)/);
  assert.equal(notFound.meta, undefined, 'no BALP profile is claimed for a failure');

  const refused = evs.find((e) => ourOutcome(e) === 'denied');
  assert.ok(refused, 'the refused AuditEvent read is there');
  assert.deepEqual(subtypes(refused), ['audit-read']);
  assert.equal(refused.outcome, '4');
  assert.deepEqual(userOf(refused).who.identifier, { system: SDS_USER, value: '555000111222' });
  assert.equal(userOf(refused).role[0].coding[0].code, 'R8000');

  const text = JSON.stringify(evs);
  assert.ok(!text.includes('sys-rj1') && !text.includes('RJ1') && !text.includes(ids.p2),
            'nothing of organisation RJ1');
});

test('another organisation\'s privacy officer sees only theirs', async () => {
  const evs = await events('', 'poY');
  assert.ok(evs.length >= 2);
  for (const ev of evs) assert.equal(orgOf(ev), 'RJ1');
  assert.ok(evs.some((e) => e.action === 'C' && patientOf(e) === `Patient/${ids.p2}`));
  assert.ok(!JSON.stringify(evs).includes(ids.p1));
  // reading one of RR8's events by id is refused
  const rr8 = (await events('?subtype=create', 'poX'))[0];
  const r = await get(`AuditEvent/${rr8.id}`, 'poY', 403);
  assert.equal(r.json.issue[0].code, 'forbidden');
  assert.match(r.json.issue[0].diagnostics, /another organisation/);
});

test('filters: patient, agent, date, outcome, action and subtype', async () => {
  const byPatient = await events(`?patient=Patient/${ids.p1}`, 'poX');
  assert.ok(byPatient.some((e) => e.action === 'C') && byPatient.some((e) => e.action === 'R'));
  for (const ev of byPatient) assert.equal(patientOf(ev), `Patient/${ids.p1}`);
  assert.deepEqual((await events(`?patient=${ids.p1}&subtype=create`, 'poX')).map((e) => e.id),
                   byPatient.filter((e) => e.action === 'C').map((e) => e.id), 'a bare id works too');
  const byNhs = await events(`?patient:identifier=${encodeURIComponent(`${NHS_SYSTEM}|${NHS_1}`)}&subtype=create,read`, 'poX');
  assert.ok(byNhs.length >= 2);
  for (const ev of byNhs) assert.equal(patientOf(ev), `Patient/${ids.p1}`);

  const byAgent = await events('?agent=sys-rr8', 'poX');
  assert.equal(byAgent.length, 3, 'the create, the read and the failed read');
  for (const ev of byAgent) assert.equal(subOf(ev), 'sys-rr8');
  assert.equal((await events(`?agent:identifier=${encodeURIComponent(`${SDS_USER}|555000111222`)}`, 'poX')).length, 1);
  assert.equal((await events('?agent=sys-rj1', 'poX')).length, 0, 'another organisation\'s staff: nothing');

  const day = new Date(started).toISOString().slice(0, 10);
  const isoStart = new Date(started).toISOString();
  assert.equal((await events(`?agent=sys-rr8&date=${day}`, 'poX')).length, 3);
  assert.equal((await events(`?agent=sys-rr8&date=ge${encodeURIComponent(isoStart)}&date=le${encodeURIComponent(new Date(Date.now() + 60000).toISOString())}`, 'poX')).length, 3);
  assert.equal((await events(`?agent=sys-rr8&date=lt${day}`, 'poX')).length, 0);
  assert.equal((await events(`?agent=sys-rr8&date=gt${encodeURIComponent(new Date(Date.now() + 60000).toISOString())}`, 'poX')).length, 0);
  assert.equal((await events('?agent=sys-rr8&date=2000', 'poX')).length, 0);

  const failures = await events('?outcome=4', 'poX');
  assert.ok(failures.some((e) => ourOutcome(e) === 'failed') && failures.some((e) => ourOutcome(e) === 'denied'));
  for (const ev of failures) assert.equal(ev.outcome, '4');
  const ok = await events('?outcome=0&agent=sys-rr8', 'poX');
  assert.deepEqual(ok.map((e) => e.action).sort(), ['C', 'R']);
  assert.equal((await events('?outcome=8', 'poX')).length, 0);
  assert.deepEqual((await events('?access-outcome=failed', 'poX')).map((e) => ourOutcome(e)), ['failed']);
  const both = await events('?access-outcome=failed,denied', 'poX');
  assert.deepEqual([...new Set(both.map(ourOutcome))].sort(), ['denied', 'failed']);

  for (const ev of await events('?action=C', 'poX')) assert.equal(ev.action, 'C');
  const reads = await events('?subtype=read', 'poX');
  assert.equal(reads.length, 2, 'the read and the failed read');
  for (const ev of reads) assert.deepEqual(subtypes(ev), ['read']);
  assert.equal((await events('?action=R&access-outcome=allowed&agent=sys-rr8', 'poX')).length, 1);
  assert.equal((await events('?_id=1', 'poX'))[0].id, '1');
});

test('pages are cut by next links, newest first, each record once', async () => {
  const all = await events('?subtype=create,read&_count=100', 'poX');
  assert.equal(all.length, 3);
  const pages = await walkPages(node, '/fhir/AuditEvent?subtype=create,read&_count=1', { headers: bearer(tok.poX) });
  assert.equal(pages.length, 3);
  for (const p of pages) {
    assert.equal(p.type, 'searchset');
    assert.equal(p.entry.length, 1);
    assert.match(linkUrl(p, 'self'), /AuditEvent\?subtype=create,read&_count=1/);
  }
  assert.deepEqual(pages.map((p) => p.entry[0].resource.id), all.map((e) => e.id));
  assert.equal(linkUrl(pages[2], 'next'), undefined, 'the last page has no next link');
  // a next link keeps the filters
  assert.match(pathOf(node, linkUrl(pages[0], 'next')), /subtype=create,read&_count=1&_page=\d+$/);
  // _count is capped at the node's maximum, not refused
  assert.equal((await get('AuditEvent?_count=100000&subtype=create', 'poX')).json.entry.length, 1);
});

test('bad and unknown parameters are refused with a 400 naming them', async () => {
  for (const [q, name] of [
    ['foo=bar', 'foo'], ['_sort=date', '_sort'], ['date=yesterday', 'date'], ['date=ne2024-01-01', 'date'],
    ['outcome=5', 'outcome'], ['access-outcome=maybe', 'access-outcome'], ['action=X', 'action'],
    ['subtype=dance', 'subtype'], ['_count=-1', '_count'], ['_page=abc', '_page'],
    ['patient=Patient/bad id', 'patient'], ['patient:identifier=123', 'patient:identifier'],
  ]) {
    const r = await get(`AuditEvent?${q.replace(' ', '%20')}`, 'poX', 400);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.ok(r.json.issue[0].diagnostics.includes(name), `${q}: ${r.json.issue[0].diagnostics}`);
    assert.deepEqual(r.json.issue[0].expression, [name]);
  }
});

test('a patient sees who accessed their record by organisation and role, never by name or id', async () => {
  const evs = await events('', 'pat1');
  assert.ok(evs.length >= 2);
  for (const ev of evs) assert.equal(patientOf(ev), `Patient/${ids.p1}`);
  const create = evs.find((e) => e.action === 'C');
  assert.equal(orgOf(create), 'RR8');
  assert.equal(userOf(create).role[0].coding[0].code, 'R8000');
  assert.equal(userOf(create).who.identifier, undefined);
  assert.equal(userOf(create).name, undefined);
  assert.equal(create.meta, undefined, 'the redacted form claims no BALP profile');
  const text = JSON.stringify(evs);
  for (const secret of ['sys-rr8', 'RR8 EHR feed', '127.0.0.1', 'network', ids.p2, '555000999888', 'Privacy Officer'])
    assert.ok(!text.includes(secret), `the patient's view does not contain ${secret}`);

  // not someone else's
  let r = await get(`AuditEvent?patient=${ids.p2}`, 'pat1', 403);
  assert.equal(r.json.issue[0].code, 'forbidden');
  await get(`AuditEvent?patient:identifier=${NHS_2}`, 'pat1', 403);
  const p2create = (await events(`?patient=${ids.p2}&subtype=create`, 'poY'))[0];
  r = await get(`AuditEvent/${p2create.id}`, 'pat1', 403);
  assert.match(r.json.issue[0].diagnostics, /not about your record/);
  // ... nor search by member of staff
  await get('AuditEvent?agent=sys-rr8', 'pat1', 403);
  // the other patient sees only theirs
  for (const ev of await events('', 'pat2')) assert.equal(patientOf(ev), `Patient/${ids.p2}`);
  // a patient whose record this node does not hold sees nothing
  assert.equal((await get('AuditEvent', 'patNone')).json.entry, undefined);
  // one of their own by id, redacted
  const one = await get(`AuditEvent/${create.id}`, 'pat1');
  assert.equal(one.json.id, create.id);
  assert.ok(!one.text.includes('sys-rr8'));
});

test('purposes other than audit and patient-access are refused', async () => {
  for (const purpose of ['direct-care', 'emergency', 'system', 'research']) {
    const t = mintToken(node.dataDir, { purpose, reason: purpose === 'emergency' ? 'emergency: life-threatening test' : undefined });
    for (const p of ['AuditEvent', 'AuditEvent/1']) {
      const r = await fhir(node, 'GET', p, { token: t });
      assert.equal(r.status, 403, `${purpose} ${p}: ${r.text}`);
      assert.equal(r.json.issue[0].code, 'forbidden');
      assert.match(r.json.issue[0].diagnostics, /needs purpose audit .* or patient-access/);
    }
  }
});

test('the audit log is read-only and an unknown id is 404', async () => {
  for (const [method, p] of [['PUT', 'AuditEvent/1'], ['DELETE', 'AuditEvent/1'], ['POST', 'AuditEvent']]) {
    const r = await fhir(node, method, p, { token: tok.poX, body: { resourceType: 'AuditEvent' } });
    assert.equal(r.status, 405, `${method} ${p}`);
    assert.equal(r.headers.allow, 'GET');
  }
  await get('AuditEvent/99999999', 'poX', 404);
  await get('AuditEvent/abc', 'poX', 404);
  await get('AuditEvent/_history', 'poX', 404);
});

test('each read of the log is recorded as an audit-read, naming what was read', async () => {
  const seen = await events('?subtype=create&_count=10', 'poX');
  const last = (await get('AuditEvent?subtype=audit-read&agent=555000999888&_count=1', 'poX')).json.entry[0].resource;
  assert.deepEqual(subtypes(last), ['audit-read']);
  assert.equal(ourOutcome(last), 'allowed');
  assert.equal(userOf(last).name, 'Privacy Officer RR8');
  assert.deepEqual(dataRefs(last), seen.map((e) => `AuditEvent/${e.id}`));
  // a patient's reading of their log is in their log (and their
  // organisation's officer sees it too, as an access about that patient)
  await get('AuditEvent?_count=1', 'pat1');
  const mine = (await get('AuditEvent?subtype=audit-read&_count=1', 'pat1')).json.entry[0].resource;
  assert.equal(userOf(mine).who.display, 'you');
  assert.equal(patientOf(mine), `Patient/${ids.p1}`);
  // ... and the chain with all these records verifies
  assert.equal(await node.stop(), 0);
  const v = runBin(['audit', 'verify', '--data', node.dataDir]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /audit log intact/);
  await node.start();
});

test('several scans merge newest first, page by page: two records of one patient, two outcomes', async () => {
  // A second organisation holds a record of the same patient.
  const c = await fhir(node, 'POST', 'Patient', {
    token: tok.sysY,
    body: sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: NHS_1 }] }),
  });
  assert.equal(c.status, 201);
  await get(`Patient/${c.json.id}`, 'sysY');
  const all = await events('?subtype=create,read&_count=100', 'pat1');
  assert.equal(all.length, 4, 'create and read of each record');
  assert.deepEqual(all.map(patientOf).sort(), [`Patient/${ids.p1}`, `Patient/${ids.p1}`,
                                              `Patient/${c.json.id}`, `Patient/${c.json.id}`].sort());
  assert.deepEqual(all.map(orgOf).sort(), ['RJ1', 'RJ1', 'RR8', 'RR8'], 'the patient sees both organisations');
  const pages = await walkPages(node, '/fhir/AuditEvent?subtype=create,read&_count=1', { headers: bearer(tok.pat1) });
  assert.deepEqual(pages.map((p) => p.entry[0].resource.id), all.map((e) => e.id));
  const ids4 = all.map((e) => Number(e.id));
  assert.deepEqual(ids4, ids4.slice().sort((a, b) => b - a));

  const failures = await events('?outcome=4&_count=100', 'poX');
  assert.ok(new Set(failures.map(ourOutcome)).size === 2, 'denied and failed');
  const paged = await walkPages(node, '/fhir/AuditEvent?outcome=4&_count=2', { headers: bearer(tok.poX) });
  assert.deepEqual(paged.flatMap((p) => p.entry.map((e) => e.resource.id)), failures.map((e) => e.id));
});
