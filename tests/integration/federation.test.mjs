// federation.test.mjs: several real nodes that are peers of each other,
// each with its own store, its own key and its own audit log, on loopback.
//
// The world (ODS codes are made up):
//   nel  GP practice G1 (P1, P2 and P3 are registered there): Patients,
//        an asthma diagnosis, a blood pressure reading; P2's objection to
//        sharing (Consent) and a weight
//   sel  hospital H2: an open Encounter with P1 and one with P2, readings;
//        a copy of Organization G1 (as every node keeps the organisations
//        its records refer to); the ambulance service (Z0A) saw P2 there
//   swl  hospital H3: an Encounter and a reading for P1; sexual health
//        clinic S3: an Encounter and a chlamydia diagnosis for P1 (legally
//        sensitive: never shown outside S3)
//   ncl  keeps the record locator and no records
//   hang a "node" that accepts connections and never answers (P3 only)
//
// Every node is a peer of every other; each answers a federated read with
// its own data, asks the peers the locator names and merges the answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startNode, fhir, tempDir, mintToken, craftToken, keyId, sleep, runBin, prepareNodes, peerConfig, NHS_SYSTEM, sqlite } from './lib.mjs';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SCT = 'http://snomed.info/sct';
const NODE_TAG = 'https://carerecord.example/node';
const PUBLISHER_TAG = 'https://carerecord.example/publisher';
const DAY = 86400000;
const DEADLINE = 1500;
const iso = (ms) => new Date(ms).toISOString();

const NHS1 = '9000000009';
const NHS2 = '9476719931';
const NHS3 = '9912003888';
const everything = (nhs) => `Patient/$everything?identifier=${NHS_SYSTEM}|${nhs}`;

const IDS = ['nel', 'sel', 'swl', 'ncl'];
const nodes = {};
const dirs = {};
const ports = {};
let hang;            // { server, port, dir, sockets }

const patient = (id, nhs) => ({
  resourceType: 'Patient', id,
  identifier: [{ system: NHS_SYSTEM, value: nhs }],
  name: [{ use: 'official', family: 'Federated', given: [`P${nhs.slice(-2)}`] }],
  gender: 'female', birthDate: '1970-03-04',
  generalPractitioner: [{ reference: 'Organization/G1' }],
});
const obs = (id, pid, text) => ({
  resourceType: 'Observation', id, status: 'final', code: { text },
  subject: { reference: `Patient/${pid}` }, valueQuantity: { value: 1, unit: 'x' },
});
const encounter = (id, pid, org) => ({
  resourceType: 'Encounter', id, status: 'in-progress',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  subject: { reference: `Patient/${pid}` }, period: { start: iso(Date.now() - DAY) },
  serviceProvider: { identifier: { system: ODS, value: org } },
});
const G1 = { resourceType: 'Organization', id: 'G1', identifier: [{ system: ODS, value: 'G1' }], name: 'Green Lane Surgery' };

// What each organisation's system publishes, node by node.
const WORLD = {
  nel: {
    G1: [
      G1,
      patient('p1-nel', NHS1),
      { resourceType: 'Condition', id: 'c1-asthma', subject: { reference: 'Patient/p1-nel' }, code: { coding: [{ system: SCT, code: '195967001', display: 'Asthma' }] } },
      obs('o1-nel', 'p1-nel', 'Blood pressure'),
      patient('p2-nel', NHS2),
      {
        resourceType: 'Consent', id: 'objection', status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: 'Patient/p2-nel' },
        provision: { type: 'deny', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
      },
      obs('o2-nel', 'p2-nel', 'Weight'),
      patient('p3-nel', NHS3),
    ],
  },
  sel: {
    H2: [
      { ...G1 },
      patient('p1-sel', NHS1),
      encounter('e1-sel', 'p1-sel', 'H2'),
      obs('o1-sel', 'p1-sel', 'Heart rate'),
      patient('p2-sel', NHS2),
      encounter('e2-sel', 'p2-sel', 'H2'),
      obs('o2-sel', 'p2-sel', 'Temperature'),
    ],
    Z0A: [obs('o2-amb', 'p2-sel', 'Oxygen saturation')],
  },
  swl: {
    H3: [
      patient('p1-swl', NHS1),
      encounter('e1-swl', 'p1-swl', 'H3'),
      obs('o1-swl', 'p1-swl', 'Respiratory rate'),
    ],
    S3: [
      encounter('e1-s3', 'p1-swl', 'S3'),
      { resourceType: 'Condition', id: 'c1-sti', subject: { reference: 'Patient/p1-swl' }, code: { coding: [{ system: SCT, code: '105629000', display: 'Chlamydial infection' }] } },
    ],
  },
};

// The node that holds each resource (G1 is on two).
const holderOf = {};
for (const [id, orgs] of Object.entries(WORLD))
  for (const resources of Object.values(orgs))
    for (const res of resources)
      holderOf[res.id] = res.id === 'G1' ? null : id;

// A user: direct care in role R8000 at 'org', minted by node 'at'.
const user = (at, org, extra = {}) => mintToken(dirs[at], {
  sub: `u-${org}`, name: `Dr ${org}`, org, role: 'R8000', purpose: 'direct-care', ...extra,
});

// A node token for 'claims', signed with the key in 'dir' (a node's, or
// any other), as a peer would send it.
function nodeToken(dir, claims, { exp } = {}) {
  const now = Math.floor(Date.now() / 1000) - (exp !== undefined ? 120 : 0);
  return craftToken({
    header: { alg: 'EdDSA', typ: 'JWT', kid: keyId(dir) },
    payload: {
      sub: 'u-X1', name: 'Dr X1', org: 'X1', role: 'R8000', purpose: 'direct-care',
      iat: now, exp: exp ?? now + 60, ...claims,
    },
    dataDir: dir,
  });
}

const sql = sqlite;

const config = (id, extraPeers = []) =>
  peerConfig(id, IDS, { dirs, ports }, { locator: 'ncl', deadline_ms: DEADLINE, extraPeers });

// The nodes the locator names for 'nhs' (asked as nel, a peer of ncl).
async function located(nhs) {
  const r = await fhir(nodes.ncl, 'GET', `/federation/locate?nhs=${nhs}`, {
    token: nodeToken(dirs.nel, { sub: 'node:nel', name: 'node nel', org: 'NEL', role: 'R0000', purpose: 'system', iss: 'nel', via: 'nel' }),
  });
  assert.equal(r.status, 200, r.text);
  return r.json.nodes;
}

async function waitLocated(nhs, want) {
  for (let i = 0; i < 200; i++) {
    const got = await located(nhs);
    if (want.every((n) => got.includes(n))) return got;
    await sleep(50);
  }
  throw new Error(`the locator never named ${want} for ${nhs}`);
}

// "Type/id" of each entry of a Bundle that is not an outcome.
const refs = (b) => (b.entry || []).filter((e) => e.search?.mode !== 'outcome')
  .map((e) => `${e.resource.resourceType}/${e.resource.id}`);
const outcomes = (b) => (b.entry || []).filter((e) => e.search?.mode === 'outcome')
  .map((e) => e.resource);
const tagOf = (res, system) => res.meta?.tag?.find((t) => t.system === system)?.code;
const issueFor = (b, node) => outcomes(b).find((o) => tagOf(o, NODE_TAG) === node &&
  o.issue[0].code !== 'suppressed')?.issue[0];
// Outcomes other than "some items were withheld" notices.
const problems = (b) => outcomes(b).filter((o) => o.issue[0].code !== 'suppressed');

before(async () => {
  const prepared = await prepareNodes(IDS);
  Object.assign(dirs, prepared.dirs);
  Object.assign(ports, prepared.ports);
  // The node that never answers: a key of its own, a port, a listener.
  hang = { dir: path.join(tempDir(), 'data'), sockets: new Set() };
  fs.mkdirSync(hang.dir, { recursive: true, mode: 0o700 });
  mintToken(hang.dir);
  hang.server = net.createServer((s) => { hang.sockets.add(s); s.on('error', () => {}); });
  await new Promise((r) => hang.server.listen(0, '127.0.0.1', r));
  hang.port = hang.server.address().port;
  const hangPeer = { id: 'hang', base_url: `http://127.0.0.1:${hang.port}/fhir`, public_key: path.join(hang.dir, 'node-key.pub.pem') };

  for (const id of IDS) {
    const extra = id === 'nel' || id === 'ncl' ? [hangPeer] : [];
    nodes[id] = await startNode({ dataDir: dirs[id], port: ports[id], config: config(id, extra) });
  }
  for (const [id, orgs] of Object.entries(WORLD)) {
    for (const [org, resources] of Object.entries(orgs)) {
      const token = mintToken(dirs[id], { sub: `sys-${org}`, name: `${org} system`, org, purpose: 'system' });
      for (const res of resources) {
        const r = await fhir(nodes[id], 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
        assert.ok(r.status === 201 || r.status === 200, `${id} ${org} PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
      }
    }
  }
  await waitLocated(NHS1, ['nel', 'sel', 'swl']);
  await waitLocated(NHS2, ['nel', 'sel']);
  // P3 is (also) on the node that never answers.
  const reg = await fhir(nodes.ncl, 'POST', '/federation/register', {
    body: { node: 'hang', nhs: [NHS3] },
    token: nodeToken(hang.dir, { sub: 'node:hang', name: 'node hang', org: 'HANG', role: 'R0000', purpose: 'system', iss: 'hang', via: 'hang' }),
  });
  assert.equal(reg.status, 200, reg.text);
  await waitLocated(NHS3, ['nel', 'hang']);
});

after(async () => {
  for (const s of hang?.sockets || []) s.destroy();
  hang?.server.close();
  for (const id of IDS) await nodes[id]?.close();
});

test('a patient with data in three regions is seen whole from each node', async () => {
  const want = ['Patient/p1-nel', 'Condition/c1-asthma', 'Observation/o1-nel', 'Organization/G1',
    'Patient/p1-sel', 'Encounter/e1-sel', 'Observation/o1-sel',
    'Patient/p1-swl', 'Encounter/e1-swl', 'Observation/o1-swl', 'Encounter/e1-s3'];
  for (const at of ['nel', 'sel', 'swl', 'ncl']) {
    const r = await fhir(nodes[at], 'GET', everything(NHS1), { token: user(at, 'G1') });
    assert.equal(r.status, 200, `${at}: ${r.text.slice(0, 400)}`);
    const got = refs(r.json);
    assert.deepEqual([...got].sort(), [...want].sort(), `asked at ${at}`);
    assert.equal(r.json.total, want.length);
    assert.equal(problems(r.json).length, 0, `no issues at ${at}: ${JSON.stringify(outcomes(r.json))}`);
    // swl withheld the clinic's diagnosis, and says so (the rest of the
    // answer says nothing about it)
    const notice = outcomes(r.json).find((o) => o.issue[0].code === 'suppressed');
    assert.equal(tagOf(notice, NODE_TAG), 'swl');
    // Each entry names the node that holds it and its publisher, and
    // peers' entries keep their own absolute URLs.
    for (const e of r.json.entry.filter((x) => x.search.mode !== 'outcome')) {
      const node = tagOf(e.resource, NODE_TAG);
      const holder = holderOf[e.resource.id];
      if (holder) assert.equal(node, holder, `${e.resource.id} at ${at}`);
      assert.ok(IDS.includes(node), `${e.resource.id} has a node tag`);
      assert.ok(e.fullUrl.startsWith(`http://127.0.0.1:${ports[node]}/fhir/`), e.fullUrl);
      assert.ok(tagOf(e.resource, PUBLISHER_TAG), `${e.resource.id} has a publisher tag`);
    }
    const c = r.json.entry.find((e) => e.resource.id === 'c1-asthma').resource;
    assert.equal(tagOf(c, PUBLISHER_TAG), 'G1');
    const o = r.json.entry.find((e) => e.resource.id === 'o1-sel').resource;
    assert.equal(tagOf(o, PUBLISHER_TAG), 'H2');
    // G1 is on nel and sel: once, from the first node that sent it
    assert.equal(got.filter((x) => x === 'Organization/G1').length, 1);
  }
});

test('asking for this node only, and Patient search across nodes', async () => {
  const local = await fhir(nodes.sel, 'GET', everything(NHS1), {
    token: user('sel', 'G1'), headers: { 'X-Federation': 'local' },
  });
  assert.equal(local.status, 200);
  assert.deepEqual(refs(local.json).sort(), ['Encounter/e1-sel', 'Observation/o1-sel', 'Organization/G1', 'Patient/p1-sel']);
  assert.equal(tagOf(local.json.entry[0].resource, NODE_TAG), undefined, 'a local answer is not tagged');

  // By this node's id of the Patient: its NHS number is asked about.
  const byId = await fhir(nodes.sel, 'GET', 'Patient/p1-sel/$everything', { token: user('sel', 'G1') });
  assert.equal(byId.status, 200);
  assert.equal(byId.json.total, 11);
  assert.ok(refs(byId.json).includes('Observation/o1-swl'));

  const byNhs = await fhir(nodes.sel, 'GET', `Patient?identifier=${NHS_SYSTEM}|${NHS1}`, { token: user('sel', 'G1') });
  assert.equal(byNhs.status, 200);
  assert.deepEqual(refs(byNhs.json).sort(), ['Patient/p1-nel', 'Patient/p1-sel', 'Patient/p1-swl']);
  assert.equal(byNhs.json.total, 3);

  // Demographics: no NHS number, so every peer is asked.
  const byName = await fhir(nodes.swl, 'GET', 'Patient?family=federated&birthdate=1970-03-04', { token: user('swl', 'G1') });
  assert.equal(byName.status, 200);
  assert.deepEqual(refs(byName.json).sort(), ['Patient/p1-nel', 'Patient/p1-sel', 'Patient/p1-swl',
    'Patient/p2-nel', 'Patient/p2-sel', 'Patient/p3-nel']);
  // the hanging node is not a peer of swl: nothing to wait for
  assert.equal(outcomes(byName.json).length, 0);
});

test('each node applies its own policy; a relationship is vouched for by the node that holds it', async () => {
  // H2 cares for P1 (an open encounter on sel). Asked at sel, the other
  // nodes accept sel's word for it.
  const atSel = await fhir(nodes.sel, 'GET', everything(NHS1), { token: user('sel', 'H2') });
  assert.equal(atSel.status, 200, atSel.text);
  assert.ok(refs(atSel.json).includes('Observation/o1-nel'));
  assert.ok(refs(atSel.json).includes('Observation/o1-swl'));
  assert.equal(problems(atSel.json).length, 0);

  // Asked at nel, where nothing says H2 cares for P1: nel refuses, swl
  // (with no one to vouch) refuses, sel answers; the answer says who
  // refused and why.
  const atNel = await fhir(nodes.nel, 'GET', everything(NHS1), { token: user('nel', 'H2') });
  assert.equal(atNel.status, 200, atNel.text);
  assert.deepEqual(refs(atNel.json).sort(), ['Encounter/e1-sel', 'Observation/o1-sel', 'Organization/G1', 'Patient/p1-sel']);
  for (const n of ['nel', 'swl']) {
    const issue = issueFor(atNel.json, n);
    assert.equal(issue?.code, 'forbidden', `${n}: ${JSON.stringify(outcomes(atNel.json))}`);
    assert.match(issue.diagnostics, new RegExp(`node ${n} refused \\(rule no-relationship\\)`));
  }

  // Nobody cares for P1 at X9 and it says nothing: refused everywhere.
  const none = await fhir(nodes.nel, 'GET', everything(NHS1), { token: user('nel', 'X9') });
  assert.equal(none.status, 403);
  assert.equal(none.json.issue[0].details.coding[0].code, 'no-relationship');

  // A self-claimed relationship travels with the read (and alerts at each
  // node that relies on it).
  const claimed = await fhir(nodes.nel, 'GET', everything(NHS1), {
    token: user('nel', 'X9'), headers: { 'X-Access-Reason': 'self-claimed: covering A&E' },
  });
  assert.equal(claimed.status, 200);
  assert.equal(refs(claimed.json).length, 11, 'what the GP sees: all but the sensitive entry');
  const alerts = sql(dirs.swl, "SELECT alerts FROM audit WHERE principal_sub = 'u-X9' ORDER BY seq DESC LIMIT 1");
  assert.equal(Number(alerts) & 1, 1, 'swl raised the self-claimed alert');
});

test('legally sensitive data stays with the clinic that recorded it, across nodes', async () => {
  const gp = await fhir(nodes.nel, 'GET', everything(NHS1), { token: user('nel', 'G1') });
  assert.ok(!refs(gp.json).includes('Condition/c1-sti'));
  const h2 = await fhir(nodes.sel, 'GET', everything(NHS1), { token: user('sel', 'H2') });
  assert.ok(!refs(h2.json).includes('Condition/c1-sti'));
  // The clinic sees its own entry, asked from any node.
  const s3 = await fhir(nodes.nel, 'GET', everything(NHS1), { token: user('nel', 'S3') });
  assert.equal(s3.status, 200, s3.text);
  assert.ok(refs(s3.json).includes('Condition/c1-sti'));
});

test('an objection recorded on one node is honoured by every node', async () => {
  // H2 cares for P2 on sel; P2's objection is recorded at nel by G1. sel
  // did not know of it, but nel says so: the ambulance's entry on sel and
  // G1's entries on nel are withheld; H2's own and the Patients remain.
  const r = await fhir(nodes.sel, 'GET', everything(NHS2), { token: user('sel', 'H2') });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(refs(r.json).sort(), ['Encounter/e2-sel', 'Observation/o2-sel', 'Organization/G1', 'Patient/p2-nel', 'Patient/p2-sel']);
  const notice = outcomes(r.json).find((o) => o.issue[0].code === 'suppressed');
  assert.ok(notice, 'the answer says items were withheld');
  const rec = JSON.parse(sql(dirs.sel, "SELECT body FROM audit WHERE principal_sub = 'u-H2' ORDER BY seq DESC LIMIT 1"));
  assert.equal(rec.outcome, 'filtered');
  assert.ok(rec.withheld >= 1);
  // Asked at nel, where the objection is: sel's ambulance entry is
  // withheld there too.
  const atNel = await fhir(nodes.nel, 'GET', everything(NHS2), { token: user('nel', 'H2', { sub: 'u-H2b' }), headers: { 'X-Access-Reason': 'self-claimed: transferred from sel' } });
  assert.equal(atNel.status, 200, atNel.text);
  assert.ok(!refs(atNel.json).includes('Observation/o2-amb'));
  assert.ok(!refs(atNel.json).includes('Observation/o2-nel'));
  assert.ok(refs(atNel.json).includes('Observation/o2-sel'));
  // The GP who recorded nothing else still sees their own.
  const gp = await fhir(nodes.sel, 'GET', everything(NHS2), { token: user('sel', 'G1') });
  assert.ok(refs(gp.json).includes('Observation/o2-nel'));
  assert.ok(!refs(gp.json).includes('Observation/o2-amb'));
});

test('audit records at both ends name the real user; the answering node names the caller', async () => {
  const token = user('sel', 'H2', { sub: 'u-audit', name: 'Dr Audit Trail' });
  const r = await fhir(nodes.sel, 'GET', everything(NHS1), { token });
  assert.equal(r.status, 200);
  const here = JSON.parse(sql(dirs.sel, "SELECT body FROM audit WHERE principal_sub = 'u-audit' ORDER BY seq DESC LIMIT 1"));
  assert.equal(here.agent.name, 'Dr Audit Trail');
  assert.equal(here.action, 'everything');
  assert.equal(here.via, undefined);
  assert.ok(here.resources.includes('Observation/o1-sel/_history/1'), JSON.stringify(here.resources));
  assert.ok(here.resources.includes(`http://127.0.0.1:${ports.nel}/fhir/Observation/o1-nel/_history/1`), JSON.stringify(here.resources));
  assert.ok(here.resources.includes(`http://127.0.0.1:${ports.swl}/fhir/Observation/o1-swl/_history/1`));
  for (const n of ['nel', 'swl']) {
    const there = JSON.parse(sql(dirs[n], "SELECT body FROM audit WHERE principal_sub = 'u-audit' ORDER BY seq DESC LIMIT 1"));
    assert.equal(there.agent.org, 'H2');
    assert.equal(there.agent.name, 'Dr Audit Trail');
    assert.equal(there.via, 'sel');
    assert.equal(there.basis, 'relationship', `${n} relied on sel's word`);
    assert.ok(there.resources.includes(`Observation/o1-${n}/_history/1`));
  }
});

test('the asking node records an emergency or self-claimed access even when it holds nothing of the person', async () => {
  // ncl holds no record of P1: the access is still its user's, and its
  // privacy officer must see it raised, as each answering node does.
  // Y7 is an organisation with no relationship to anyone, used here only.
  const emergency = await fhir(nodes.ncl, 'GET', everything(NHS1), {
    token: user('ncl', 'Y7', { sub: 'u-ncl-em', purpose: 'emergency' }),
    headers: { 'X-Access-Reason': 'emergency: life-threatening collapsed in the street' },
  });
  assert.equal(emergency.status, 200, emergency.text);
  assert.ok(refs(emergency.json).includes('Observation/o1-nel'));
  const here = JSON.parse(sql(dirs.ncl, "SELECT body FROM audit WHERE principal_sub = 'u-ncl-em' ORDER BY seq DESC LIMIT 1"));
  assert.equal(here.action, 'everything');
  assert.equal(here.purpose, 'emergency');
  assert.ok(here.alerts?.includes('emergency'), JSON.stringify(here));
  assert.equal(here.basis, 'emergency');
  assert.match(here.reason, /life-threatening/);
  assert.equal(here.patient, undefined, 'ncl has no Patient of this person');
  assert.equal(here.nhs, NHS1, 'so the record names them by NHS number');
  for (const n of ['nel', 'sel']) {
    const there = JSON.parse(sql(dirs[n], "SELECT body FROM audit WHERE principal_sub = 'u-ncl-em' ORDER BY seq DESC LIMIT 1"));
    assert.ok(there.alerts?.includes('emergency'), `${n}: ${JSON.stringify(there)}`);
    assert.equal(there.via, 'ncl');
  }

  const claimed = await fhir(nodes.ncl, 'GET', everything(NHS1), {
    token: user('ncl', 'Y7', { sub: 'u-ncl-sc' }),
    headers: { 'X-Access-Reason': 'self-claimed: covering A&E tonight' },
  });
  assert.equal(claimed.status, 200, claimed.text);
  const rec = JSON.parse(sql(dirs.ncl, "SELECT body FROM audit WHERE principal_sub = 'u-ncl-sc' ORDER BY seq DESC LIMIT 1"));
  assert.ok(rec.alerts?.includes('self-claimed'), JSON.stringify(rec));

  // A read that needs no claim raises none, here or there.
  const plain = await fhir(nodes.ncl, 'GET', everything(NHS1), { token: user('ncl', 'H2', { sub: 'u-ncl-plain' }) });
  assert.equal(plain.status, 200, plain.text);
  const quiet = JSON.parse(sql(dirs.ncl, "SELECT body FROM audit WHERE principal_sub = 'u-ncl-plain' ORDER BY seq DESC LIMIT 1"));
  assert.ok(!quiet.alerts?.includes('emergency') && !quiet.alerts?.includes('self-claimed'), JSON.stringify(quiet));

  // Record views count where the user asked: two at ncl, none at the
  // nodes that answered for ncl (their records name it as via).
  const views = (n) => {
    const r = runBin(['audit', 'report', '--data', dirs[n], '--org', 'Y7', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const total = JSON.parse(r.stdout).parameter.find((p) => p.name === 'total');
    return total.part.find((p) => p.name === 'recordViews').valueInteger;
  };
  assert.equal(views('ncl'), 2);
  assert.equal(views('nel'), 0);
  assert.equal(views('sel'), 0);
  const text = runBin(['audit', 'report', '--data', dirs.ncl, '--org', 'Y7']).stdout;
  assert.match(text, new RegExp(`everything of patient NHS ${NHS1}`));

  // Y7's privacy officer at ncl sees the access, the person named by NHS
  // number (the AuditEvent validates against the R4 schema in fhir()).
  const officer = user('ncl', 'Y7', { sub: 'po-y7', purpose: 'audit' });
  const log = await fhir(nodes.ncl, 'GET', 'AuditEvent?agent=u-ncl-em', { token: officer });
  assert.equal(log.status, 200, log.text);
  const ev = log.json.entry.map((e) => e.resource).find((r) => r.action === 'E');
  assert.ok(ev, JSON.stringify(log.json));
  const person = ev.entity.find((e) => e.what?.identifier?.system === NHS_SYSTEM);
  assert.equal(person?.what.identifier.value, NHS1, JSON.stringify(ev.entity));
  assert.equal(person.role.code, '1');
  const report = await fhir(nodes.ncl, 'GET', '$audit-report', { token: officer });
  assert.equal(report.status, 200, report.text);
  const alert = report.json.parameter.filter((p) => p.name === 'alert')
    .find((a) => a.part.find((q) => q.name === 'user')?.valueString === 'u-ncl-em');
  assert.ok(alert, JSON.stringify(report.json));
  assert.equal(alert.part.find((q) => q.name === 'patient').valueReference.identifier.value, NHS1);
});

test('node tokens: forged, expired, misattributed and unknown ones are refused', async () => {
  const path1 = everything(NHS1);
  const claims = { sub: 'u-G1', name: 'Dr G1', org: 'G1', iss: 'nel', via: 'nel' };
  const ok = await fhir(nodes.sel, 'GET', path1, { token: nodeToken(dirs.nel, claims) });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(refs(ok.json).sort(), ['Encounter/e1-sel', 'Observation/o1-sel', 'Organization/G1', 'Patient/p1-sel'],
    'a peer is answered from this node only');
  assert.equal(tagOf(ok.json.entry[0].resource, NODE_TAG), 'sel', 'and tagged');

  const stranger = path.join(tempDir(), 'k');
  fs.mkdirSync(stranger, { recursive: true, mode: 0o700 });
  mintToken(stranger);           // a key pair no node has configured
  const cases = [
    ['expired', nodeToken(dirs.nel, claims, { exp: Math.floor(Date.now() / 1000) - 5 }), /expired/],
    ['signed by a key no node trusts', nodeToken(stranger, claims), /does not trust/],
    ['claiming another node', nodeToken(dirs.nel, { ...claims, iss: 'swl', via: 'swl' }), /signed with the key of node 'nel'/],
    ['via another node', nodeToken(dirs.nel, { ...claims, iss: undefined, via: 'swl' }), /not signed with that peer's key/],
    ['via, signed with the answering node\'s own key', nodeToken(dirs.sel, { ...claims, iss: undefined, via: 'nel' }), /not signed with that peer's key/],
  ];
  for (const [what, tok, msg] of cases) {
    const r = await fhir(nodes.sel, 'GET', path1, { token: tok });
    assert.equal(r.status, 401, `${what}: ${r.text}`);
    assert.match(r.json.issue[0].diagnostics, msg, what);
  }
  const good = nodeToken(dirs.nel, claims);
  const [h, p, s] = good.split('.');
  const body = JSON.parse(Buffer.from(p, 'base64url'));
  body.org = 'H2';
  const tampered = `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${s}`;
  const t = await fhir(nodes.sel, 'GET', path1, { token: tampered });
  assert.equal(t.status, 401);
  assert.match(t.json.issue[0].diagnostics, /signature is not valid/);
  // only peers may use the node-to-node endpoints, and only for themselves
  const u = await fhir(nodes.ncl, 'GET', `/federation/locate?nhs=${NHS1}`, { token: user('ncl', 'G1') });
  assert.equal(u.status, 403);
  const other = await fhir(nodes.ncl, 'POST', '/federation/register', {
    body: { node: 'swl', nhs: [NHS1] },
    token: nodeToken(dirs.nel, { sub: 'node:nel', name: 'node nel', org: 'NEL', role: 'R0000', purpose: 'system', iss: 'nel', via: 'nel' }),
  });
  assert.equal(other.status, 403);
});

test('a node that accepts but never answers is reported within the deadline', async () => {
  const t0 = Date.now();
  const r = await fhir(nodes.nel, 'GET', everything(NHS3), { token: user('nel', 'G1') });
  const ms = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(refs(r.json), ['Patient/p3-nel', 'Organization/G1']);
  const issue = issueFor(r.json, 'hang');
  assert.equal(issue?.code, 'timeout', JSON.stringify(outcomes(r.json)));
  assert.equal(issue.details.coding[0].code, 'node-timeout');
  assert.match(issue.diagnostics, new RegExp(`node hang did not answer within ${DEADLINE} ms`));
  assert.ok(ms >= DEADLINE - 50, `waited for the deadline (${ms} ms)`);
  assert.ok(ms < DEADLINE + 5000, `but not much longer (${ms} ms)`);
  assert.ok(hang.sockets.size >= 1, 'the node did connect to it');
});

test('a node killed mid-query: the others answer, and the answer names it', async () => {
  // swl stops answering (SIGSTOP), the read starts, then swl dies.
  nodes.swl.proc.kill('SIGSTOP');
  const t0 = Date.now();
  const pending = fhir(nodes.sel, 'GET', everything(NHS1), { token: user('sel', 'G1') });
  await sleep(300);
  await nodes.swl.kill9();
  const r = await pending;
  const ms = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  const got = refs(r.json);
  assert.ok(got.includes('Observation/o1-nel') && got.includes('Observation/o1-sel'));
  assert.ok(!got.includes('Observation/o1-swl'));
  const issue = issueFor(r.json, 'swl');
  assert.ok(['transient', 'timeout'].includes(issue?.code), JSON.stringify(outcomes(r.json)));
  assert.match(issue.diagnostics, /node swl/);
  assert.ok(ms < DEADLINE + 5000, `${ms} ms`);
  // Down: reported at once as unreachable.
  const down = await fhir(nodes.sel, 'GET', everything(NHS1), { token: user('sel', 'G1') });
  assert.equal(issueFor(down.json, 'swl')?.code, 'transient');
  assert.equal(issueFor(down.json, 'swl').details.coding[0].code, 'node-unavailable');
  await nodes.swl.start();
  const back = await fhir(nodes.sel, 'GET', everything(NHS1), { token: user('sel', 'G1') });
  assert.ok(refs(back.json).includes('Observation/o1-swl'));
});

test('with the locator down every peer is asked', async () => {
  await nodes.ncl.stop();
  try {
    const r = await fhir(nodes.swl, 'GET', everything(NHS1), { token: user('swl', 'G1') });
    assert.equal(r.status, 200, r.text);
    const got = refs(r.json);
    for (const x of ['Observation/o1-nel', 'Observation/o1-sel', 'Observation/o1-swl'])
      assert.ok(got.includes(x), `${x} in ${got}`);
    const info = outcomes(r.json).find((o) => o.issue[0].details?.coding?.[0]?.code === 'locator-unavailable');
    assert.ok(info, JSON.stringify(outcomes(r.json)));
    assert.equal(info.issue[0].severity, 'information');
    assert.match(info.issue[0].diagnostics, /record locator \(node ncl\).*every node was asked/);
    // ncl itself is a peer and is down: named too
    assert.equal(issueFor(r.json, 'ncl')?.code, 'transient');
    // It comes back without its database: rebuilt from the nodes.
    for (const f of ['locator.db', 'locator.db-wal', 'locator.db-shm'])
      fs.rmSync(path.join(dirs.ncl, f), { force: true });
  } finally {
    await nodes.ncl.start();
  }
  assert.deepEqual((await waitLocated(NHS1, ['nel', 'sel', 'swl'])).sort(), ['nel', 'sel', 'swl']);
});

test('a federation setting that is wrong stops the node with a message naming it', () => {
  const dir = tempDir();
  const key = path.join(dirs.nel, 'node-key.pub.pem');
  const peer = { id: 'nel', base_url: 'http://127.0.0.1:9/fhir', public_key: key };
  const cases = [
    [{ peers: [{ id: 'nel', base_url: 'http://127.0.0.1:9/fhir' }] }, 2, /peers\[0\] needs id, base_url and public_key/],
    [{ peers: [{ ...peer, colour: 'red' }] }, 2, /unknown setting 'peers\[0\]\.colour'/],
    [{ peers: [{ ...peer, public_key: 'missing.pem' }] }, 2, /cannot read .*missing\.pem/],
    [{ peers: [peer], locator: { node: 'ncl' } }, 1, /locator\.node 'ncl' is not one of the peers/],
    [{ peers: [peer], locator: { role: true, node: 'nel' } }, 2, /'locator' must be/],
    [{ peers: [peer], deadline_ms: 0 }, 2, /deadline_ms/],
    [{ node_id: 'nel', peers: [peer] }, 1, /'nel' is this node's own id/],
    [{ node_id: 'North East', peers: [peer] }, 1, /node_id 'North East' must be/],
    [{ node_id: 'sel', peers: [{ ...peer, base_url: 'http://127.0.0.1:9/' }] }, 1, /must be the peer's FHIR base/],
    [{ node_id: 'sel', peers: [{ ...peer, public_key: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }] }, 1, /peer 'nel': public_key/],
  ];
  for (const [cfg, status, msg] of cases) {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ node_id: 'sel', ...cfg }));
    const r = runBin(['serve', '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data'), '--config', file]);
    assert.equal(r.status, status, `${JSON.stringify(cfg)}: ${r.stderr}`);
    assert.match(r.stderr, msg, JSON.stringify(cfg));
  }
});
