// careplan_federation.test.mjs: the emergency summary across nodes. A
// plan saved at one node is in the summary asked for at another node on
// the very next request; its revision too; a newer plan saved at another
// node supersedes it everywhere (the latest saved wins, the older one is
// named); a node that hangs or is killed is reported within the deadline
// and the answer says a plan may exist there; each node applies its own
// access policy (a paramedic under emergency access with a reason, a
// receptionist refused, a clinician with no relationship refused) and
// audits its part. docs/care-plan.md ("Across nodes") is what these
// tests hold the server to.
//
// The world (ODS codes are made up), three real nodes that are peers:
//   nel  GP practice G1: P1 and P2 are registered here; the GP saves
//        their plans here
//   sel  hospital H2 (an open Encounter with P1) and the hospice HOS (an
//        open EpisodeOfCare with P1): P1's other record; P2 is unknown
//   ncl  keeps the record locator and holds no records (as an ambulance
//        service's own node would)
// RRU is the ambulance service (emergency access only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, mintToken, prepareNodes, peerConfig, sleep, NHS_SYSTEM, sqlite } from './lib.mjs';
import { SCT, DAY, param, params, part, planBundle } from './careplan_plan.mjs';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const FED = 'https://carerecord.example/CodeSystem/federation';
const NODE_TAG = 'https://carerecord.example/node';
const DEADLINE = 1500;
const IDS = ['nel', 'sel', 'ncl'];
const NHS1 = '9000000009';
const NHS2 = '9476719931';

let world;           // { dirs, ports }
const nodes = {};

const GP = { org: 'G1', sub: 'dr-green', name: 'Dr Gwen Green' };
const HOSPICE = { org: 'HOS', sub: 'dr-hope', name: 'Dr Harriet Hope' };
const H2 = { org: 'H2', sub: 'dr-h2', name: 'Dr Hana Two' };
const STRANGER = { org: 'X9', sub: 'dr-x9', name: 'Dr Xavier Nine' };
const PARAMEDIC = { org: 'RRU', sub: 'para-1', name: 'Pat Medic', role: 'R8003', purpose: 'emergency' };
const RECEPTION = { org: 'H2', sub: 'rec-1', name: 'Rita Reception', role: 'R8009' };
const EMERGENCY = { 'X-Access-Reason': 'emergency: life-threatening found collapsed at home' };

// A token for 'who', signed by node 'at' (each node trusts its peers'
// keys too).
const tok = (at, who) => mintToken(world.dirs[at], { role: 'R8000', purpose: 'direct-care', ...who });

const summaryAt = (at, pathOrId, who, headers = {}) => fhir(nodes[at], 'GET',
  pathOrId.includes('/') || pathOrId.includes('?') ? pathOrId : `Patient/${pathOrId}/$care-plan-summary`,
  { token: tok(at, who), headers });
const byNhs = (nhs) => `Patient/$care-plan-summary?identifier=${NHS_SYSTEM}|${nhs}`;
const save = (at, pid, bundle, who) =>
  fhir(nodes[at], 'POST', `Patient/${pid}/$care-plan`, { body: bundle, token: tok(at, who) });

const cprCode = (s) => part(param(s, 'cprDecision'), 'decision')?.valueCodeableConcept.coding[0].code;
const validity = (s) => part(param(s, 'cprDecision'), 'validity').valueCoding.code;
const source = (s) => ({
  node: part(param(s, 'source'), 'node')?.valueCode,
  org: part(param(s, 'source'), 'organization')?.valueIdentifier.value,
});
const nodeIssues = (s) => params(s, 'nodeIssue').map((p) => ({
  node: part(p, 'node')?.valueCode,
  code: part(p, 'issue').valueCoding.code,
  message: part(p, 'message').valueString,
}));
const planUrl = (at, id, v) => `http://127.0.0.1:${world.ports[at]}/fhir/CarePlan/${id}/_history/${v}`;

const sql = (at, statement) => sqlite(world.dirs[at], statement);
const lastAudit = (at, sub) =>
  JSON.parse(sql(at, `SELECT body FROM audit WHERE principal_sub = '${sub}' ORDER BY seq DESC LIMIT 1`));

const patient = (id, nhs, extra = {}) => ({
  resourceType: 'Patient', id, identifier: [{ system: NHS_SYSTEM, value: nhs }],
  name: [{ use: 'official', family: 'Planned', given: [`P${nhs.slice(-2)}`] }],
  birthDate: '1940-02-03', ...extra,
});
const G1 = { resourceType: 'Organization', id: 'G1', identifier: [{ system: ODS, value: 'G1' }], name: 'Green Lane Surgery' };

const WORLD = {
  nel: {
    G1: [
      G1,
      { resourceType: 'Practitioner', id: 'dr-green', identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'dr-green' }], name: [{ family: 'Green', given: ['Gwen'], prefix: ['Dr'] }] },
      patient('p1-nel', NHS1, { generalPractitioner: [{ reference: 'Organization/G1' }] }),
      patient('p2-nel', NHS2, { generalPractitioner: [{ reference: 'Organization/G1' }] }),
    ],
  },
  sel: {
    H2: [
      { ...G1 },
      { resourceType: 'Organization', id: 'H2', identifier: [{ system: ODS, value: 'H2' }], name: 'Synthetic General Hospital' },
      patient('p1-sel', NHS1),
      {
        resourceType: 'Encounter', id: 'e1-sel', status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/p1-sel' }, period: { start: new Date(Date.now() - DAY).toISOString() },
        serviceProvider: { identifier: { system: ODS, value: 'H2' } },
      },
    ],
    HOS: [
      { resourceType: 'Organization', id: 'HOS', identifier: [{ system: ODS, value: 'HOS' }], name: 'St Synthetic Hospice' },
      { resourceType: 'EpisodeOfCare', id: 'hos-p1', status: 'active', patient: { reference: 'Patient/p1-sel' }, managingOrganization: { reference: 'Organization/HOS' } },
    ],
  },
};

// The nodes a federated Patient search at ncl finds NHS number 'nhs' on
// (their Patients' node tags): the locator has registered them when
// every node in 'want' is among them.
async function waitRegistered(nhs, want) {
  for (let i = 0; i < 200; i++) {
    const r = await fhir(nodes.ncl, 'GET', `Patient?identifier=${NHS_SYSTEM}|${nhs}`, { token: tok('ncl', PARAMEDIC), headers: EMERGENCY });
    const got = (r.json?.entry || []).map((e) => e.resource.meta?.tag?.find((t) => t.system === NODE_TAG)?.code);
    if (want.every((n) => got.includes(n))) return;
    await sleep(50);
  }
  throw new Error(`the locator never named ${want} for ${nhs}`);
}

// The current plan of 'pid' on node 'at' as a revision: the plan of
// planBundle with the current CarePlan's id ('edit' as for planBundle).
function revision(pid, planId, edit) {
  const b = planBundle(pid, edit);
  b.entry[0] = { fullUrl: `CarePlan/${planId}`, resource: { ...b.entry[0].resource, id: planId } };
  return b;
}

before(async () => {
  world = await prepareNodes(IDS);
  for (const id of IDS) {
    nodes[id] = await startNode({
      dataDir: world.dirs[id], port: world.ports[id],
      config: peerConfig(id, IDS, world, { locator: 'ncl', deadline_ms: DEADLINE }),
    });
  }
  for (const [id, orgs] of Object.entries(WORLD)) {
    for (const [org, resources] of Object.entries(orgs)) {
      const token = mintToken(world.dirs[id], { sub: `sys-${org}`, name: `${org} system`, org, purpose: 'system' });
      for (const res of resources) {
        const r = await fhir(nodes[id], 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
        assert.ok(r.status === 201 || r.status === 200, `${id} ${org} PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
      }
    }
  }
  await waitRegistered(NHS1, ['nel', 'sel']);
  await waitRegistered(NHS2, ['nel']);
});

after(async () => {
  for (const id of IDS) await nodes[id]?.close();
});

let nelPlan;         // the id of P1's plan on nel

test('a plan saved at one node is in the summary at another node on the very next request', async () => {
  const saved = await save('nel', 'p1-nel', planBundle('p1-nel'), GP);
  assert.equal(saved.status, 201, saved.text);
  nelPlan = saved.json.entry[0].resource.id;

  // The paramedic asks at sel, by sel's own id of the person.
  const r = await summaryAt('sel', 'p1-sel', PARAMEDIC, EMERGENCY);
  assert.equal(r.status, 200, r.text);
  const s = r.json;
  assert.equal(s.resourceType, 'Parameters');
  assert.equal(param(s, 'patient').valueReference.reference, 'Patient/p1-sel', 'the person as sel knows them');
  assert.equal(param(s, 'nhsNumber').valueIdentifier.value, NHS1);
  assert.equal(param(s, 'hasPlan').valueBoolean, true);
  assert.equal(cprCode(s), '450476008');
  assert.equal(validity(s), 'valid');
  const [nok] = params(s, 'contact').filter((c) => part(c, 'nextOfKin').valueBoolean);
  assert.equal(part(nok, 'name').valueString, 'Beth Smith');
  assert.equal(part(nok, 'phone').valueString, '07700 900123');
  assert.equal(part(param(s, 'ceilingOfTreatment'), 'level').valueCodeableConcept.coding[0].code, 'ward-based');
  // where it came from, and who saved it when
  assert.deepEqual(source(s), { node: 'nel', org: 'G1' });
  const updated = param(s, 'lastUpdated');
  assert.equal(part(updated, 'by').valueReference.identifier.value, GP.sub);
  assert.equal(part(updated, 'organization').valueReference.identifier.value, 'G1');
  assert.equal(part(updated, 'when').valueInstant, saved.json.entry[0].resource.meta.lastUpdated);
  // every reference resolves where it was made
  assert.equal(param(s, 'plan').valueReference.reference, planUrl('nel', nelPlan, 1));
  assert.match(part(param(s, 'cprDecision'), 'flag').valueReference.reference,
    new RegExp(`^http://127\\.0\\.0\\.1:${world.ports.nel}/fhir/Flag/`));
  assert.equal(params(s, 'nodeIssue').length, 0, JSON.stringify(nodeIssues(s)));
  assert.equal(param(s, 'incomplete'), undefined);
  assert.ok(r.text.length < 8000, `still small: ${r.text.length} bytes`);

  // Audited at both ends as care-plan-summary: the node asked names the
  // plan on nel; nel names the user, the emergency and the node that asked.
  const here = lastAudit('sel', PARAMEDIC.sub);
  assert.equal(here.action, 'care-plan-summary');
  assert.equal(here.patient, 'p1-sel');
  assert.equal(here.via, undefined);
  assert.ok(here.resources.includes(planUrl('nel', nelPlan, 1)), JSON.stringify(here.resources));
  const there = lastAudit('nel', PARAMEDIC.sub);
  assert.equal(there.action, 'care-plan-summary');
  assert.equal(there.via, 'sel');
  assert.equal(there.agent.org, 'RRU');
  assert.equal(there.purpose, 'emergency');
  assert.ok(there.alerts.includes('emergency'), JSON.stringify(there));
  assert.ok(there.resources.includes(`CarePlan/${nelPlan}/_history/1`));
  // sel alone knows of no plan: federation is what found it
  const local = await summaryAt('sel', 'p1-sel', PARAMEDIC, { ...EMERGENCY, 'X-Federation': 'local' });
  assert.equal(param(local.json, 'hasPlan').valueBoolean, false);

  // At the node that holds nothing of the person, by NHS number: the
  // person's details come from the node whose plan is shown.
  const atNcl = await summaryAt('ncl', byNhs(NHS1), PARAMEDIC, EMERGENCY);
  assert.equal(atNcl.status, 200, atNcl.text);
  assert.equal(param(atNcl.json, 'patient').valueReference.reference,
    `http://127.0.0.1:${world.ports.nel}/fhir/Patient/p1-nel`);
  assert.equal(cprCode(atNcl.json), '450476008');
  assert.equal(param(atNcl.json, 'plan').valueReference.reference, planUrl('nel', nelPlan, 1));
});

test('a revision at that node is in the next summary at the other node', async () => {
  const r = await save('nel', 'p1-nel', revision('p1-nel', nelPlan, (x) => {
    x.cpr.code = { coding: [{ system: SCT, code: '450475007', display: 'For cardiopulmonary resuscitation' }] };
    x.nok.telecom = [{ system: 'phone', value: '07700 900999' }];
  }), GP);
  assert.equal(r.status, 200, r.text);
  const s = (await summaryAt('sel', 'p1-sel', PARAMEDIC, EMERGENCY)).json;
  assert.equal(cprCode(s), '450475007');
  assert.equal(validity(s), 'valid');
  const [nok] = params(s, 'contact').filter((c) => part(c, 'nextOfKin').valueBoolean);
  assert.equal(part(nok, 'phone').valueString, '07700 900999');
  assert.equal(param(s, 'plan').valueReference.reference, planUrl('nel', nelPlan, 2));
});

test('a newer plan saved at another node supersedes it everywhere, and the older one is named', async () => {
  // The hospice, caring for P1 on sel, saves a plan of its own there.
  const r = await save('sel', 'p1-sel', planBundle('p1-sel', (x) => {
    x.plan.author = { reference: 'Practitioner/dr-hope', display: HOSPICE.name };
    x.plan.activity[0].detail.extension[0].valueCodeableConcept.coding[0].code = 'symptom-control';
    x.nok.telecom = [{ system: 'phone', value: '07700 900777' }];
  }), HOSPICE);
  assert.equal(r.status, 201, r.text);
  const selPlan = r.json.entry[0].resource.id;

  // The GP asks at nel, where nel's own plan is still current: sel's is
  // newer and is shown; nel's is named as another current plan.
  const s = (await summaryAt('nel', 'p1-nel', GP)).json;
  assert.deepEqual(source(s), { node: 'sel', org: 'HOS' });
  assert.equal(part(param(s, 'ceilingOfTreatment'), 'level').valueCodeableConcept.coding[0].code, 'symptom-control');
  assert.equal(part(param(s, 'lastUpdated'), 'by').valueReference.identifier.value, HOSPICE.sub);
  assert.equal(param(s, 'plan').valueReference.reference, planUrl('sel', selPlan, 1));
  const [other] = params(s, 'otherPlan');
  assert.equal(part(other, 'node').valueCode, 'nel');
  assert.equal(part(other, 'plan').valueReference.reference, `CarePlan/${nelPlan}/_history/2`);
  assert.ok(part(other, 'when').valueInstant < part(param(s, 'lastUpdated'), 'when').valueInstant);
  // the GP's relationship was vouched for by nel: sel answered
  assert.equal(lastAudit('sel', GP.sub).basis, 'relationship');

  // The GP revises nel's plan: now that one is the latest, everywhere.
  const again = await save('nel', 'p1-nel', revision('p1-nel', nelPlan), GP);
  assert.equal(again.status, 200, again.text);
  for (const at of ['sel', 'ncl']) {
    const t = (await summaryAt(at, at === 'sel' ? 'p1-sel' : byNhs(NHS1), PARAMEDIC, EMERGENCY)).json;
    assert.deepEqual(source(t), { node: 'nel', org: 'G1' }, at);
    assert.equal(param(t, 'plan').valueReference.reference, planUrl('nel', nelPlan, 3), at);
    assert.equal(part(param(t, 'otherPlan'), 'node').valueCode, 'sel', at);
  }
});

test('across nodes each node applies its own policy: a paramedic needs a reason, a receptionist sees no CPR data', async () => {
  const refused = async (at, pathOrId, who, headers, rule) => {
    const r = await summaryAt(at, pathOrId, who, headers);
    assert.equal(r.status, 403, `${at} ${JSON.stringify(who)}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.issue[0].details.coding[0].code, rule, r.text);
    assert.doesNotMatch(r.text, /45047[56]00[78]|cardiopulmonary|07700/, 'a refusal shows no plan data');
    assert.equal(lastAudit(at, who.sub).action, 'care-plan-summary');
    assert.equal(lastAudit(at, who.sub).outcome, 'denied');
    return r;
  };
  await refused('sel', 'p1-sel', PARAMEDIC, {}, 'reason-required');
  // a receptionist of the hospital caring for P1 on sel
  await refused('sel', 'p1-sel', RECEPTION, {}, 'role-not-permitted');
  // nel was asked too (sel vouched for the relationship), and refused on
  // its own policy, and recorded it
  const rec = lastAudit('nel', RECEPTION.sub);
  assert.equal(rec.via, 'sel');
  assert.equal(rec.outcome, 'denied');
  assert.equal(rec.rule, 'role-not-permitted');
  // At a node that does not know the person, the refusal is the peers':
  // the one that says most (nel knows no relationship; sel knows the
  // relationship, and refuses the role).
  const r = await refused('ncl', byNhs(NHS1), RECEPTION, {}, 'role-not-permitted');
  assert.match(r.json.issue[0].diagnostics, /^node sel refused \(rule role-not-permitted\)/);
  // no relationship anywhere, and none claimed
  await refused('sel', 'p1-sel', STRANGER, {}, 'no-relationship');

  // The hospital caring for P1 on sel: sel vouches for it to nel.
  const h2 = await summaryAt('sel', 'p1-sel', H2);
  assert.equal(h2.status, 200, h2.text);
  assert.deepEqual(source(h2.json), { node: 'nel', org: 'G1' });
  assert.equal(lastAudit('nel', H2.sub).basis, 'relationship');
  // Asked at nel, where nothing says H2 cares for P1: nel refuses, sel
  // answers; the answer shows sel's plan and says nel refused.
  const atNel = await summaryAt('nel', 'p1-nel', H2);
  assert.equal(atNel.status, 200, atNel.text);
  assert.deepEqual(source(atNel.json), { node: 'sel', org: 'HOS' });
  const issue = nodeIssues(atNel.json).find((i) => i.node === 'nel');
  assert.equal(issue?.code, 'node-refused', JSON.stringify(nodeIssues(atNel.json)));
  assert.match(issue.message, /node nel refused \(rule no-relationship\)/);
});

test('a node that hangs or is killed: the other answers within the deadline, saying it could not be reached', async () => {
  // P2's plan is on nel only.
  const saved = await save('nel', 'p2-nel', planBundle('p2-nel'), GP);
  assert.equal(saved.status, 201, saved.text);
  assert.equal(cprCode((await summaryAt('sel', byNhs(NHS2), PARAMEDIC, EMERGENCY)).json), '450476008');

  nodes.nel.proc.kill('SIGSTOP');
  try {
    const t0 = Date.now();
    const r = await summaryAt('sel', byNhs(NHS2), PARAMEDIC, EMERGENCY);
    const ms = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.ok(ms >= DEADLINE - 50 && ms < DEADLINE + 1000, `answered at the deadline (${ms} ms)`);
    const s = r.json;
    assert.equal(param(s, 'hasPlan').valueBoolean, false);
    assert.equal(validity(s), 'unavailable', 'never "not recorded" when a node was not reached');
    assert.match(part(param(s, 'cprDecision'), 'message').valueString,
      /node nel could not be reached, so a care plan and a CPR decision may be recorded there/);
    assert.match(param(s, 'incomplete').valueString, /^Node nel could not be reached: a care plan may exist there but could not be reached/);
    assert.deepEqual(nodeIssues(s).map((i) => [i.node, i.code]), [['nel', 'node-timeout']]);
    assert.match(nodeIssues(s)[0].message, new RegExp(`node nel did not answer within ${DEADLINE} ms`));

    // P1: sel's own plan is shown, with word that a newer one may be on nel.
    const p1 = (await summaryAt('sel', 'p1-sel', PARAMEDIC, EMERGENCY)).json;
    assert.deepEqual(source(p1), { node: 'sel', org: 'HOS' });
    assert.match(param(p1, 'incomplete').valueString, /Node nel could not be reached: a newer care plan may be recorded there/);
  } finally {
    await nodes.nel.kill9();
  }
  // Killed: reported at once as unavailable.
  const t0 = Date.now();
  const down = await summaryAt('sel', byNhs(NHS2), PARAMEDIC, EMERGENCY);
  assert.ok(Date.now() - t0 < DEADLINE, `${Date.now() - t0} ms`);
  assert.equal(down.status, 200);
  assert.equal(validity(down.json), 'unavailable');
  assert.deepEqual(nodeIssues(down.json).map((i) => [i.node, i.code]), [['nel', 'node-unavailable']]);
  // Back: the plan is there again, nothing to report.
  await nodes.nel.start();
  const back = (await summaryAt('sel', byNhs(NHS2), PARAMEDIC, EMERGENCY)).json;
  assert.equal(cprCode(back), '450476008');
  assert.equal(params(back, 'nodeIssue').length, 0, JSON.stringify(nodeIssues(back)));
});

test('with no plan on any node, the summary says so plainly', async () => {
  // A person only sel knows, with no plan: nothing may exist elsewhere.
  const token = mintToken(world.dirs.sel, { sub: 'sys-H2', name: 'H2 system', org: 'H2', purpose: 'system' });
  const p = patient('p3-sel', '9912003888');
  assert.equal((await fhir(nodes.sel, 'PUT', 'Patient/p3-sel', { body: p, token })).status, 201);
  const s = (await summaryAt('sel', 'p3-sel', PARAMEDIC, EMERGENCY)).json;
  assert.equal(param(s, 'hasPlan').valueBoolean, false);
  assert.equal(validity(s), 'not-recorded');
  assert.equal(params(s, 'nodeIssue').length, 0);
});
