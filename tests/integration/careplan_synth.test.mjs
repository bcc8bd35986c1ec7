// careplan_synth.test.mjs: the synthetic London's end-of-life plans follow
// the Universal Care Plan model. One node's synthetic data is imported;
// then every plan is read back through the emergency summary as a
// paramedic would, a sample is saved again unchanged through $care-plan
// (which checks every rule of docs/care-plan.md and must accept it), and
// the store-side figures count exactly the people the generator gave a
// plan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, fhir, runBin, tempDir } from './lib.mjs';

const UCP = 'https://carerecord.example/StructureDefinition/UCP-CarePlan';
const PUBLISHER = 'https://carerecord.example/publisher';
const EMERGENCY = { 'X-Access-Reason': 'emergency: life-threatening unresponsive at home' };

let node, plans, flags, manifest;
const ROUNDTRIP = 12;
const readNdjson = (f) => (fs.existsSync(f)
  ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

before(async () => {
  const work = tempDir('cr-ucp-synth-');
  const out = path.join(work, 'synth');
  // the synthetic world's "today" is the real one, so that review dates
  // fall as they would in a live record (about a third overdue)
  const today = new Date().toISOString().slice(0, 10);
  const s = runBin(['synth', '--patients', '5000', '--seed', '11', '--start', today, '--out', out, '-q'], { timeout: 120000 });
  assert.equal(s.status, 0, s.stderr);
  manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const dir = path.join(out, 'nel');
  const dataDir = path.join(work, 'data');
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const imp = runBin(['import', '--data', dataDir, '-q', ...files], { timeout: 120000 });
  assert.equal(imp.status, 0, imp.stderr);
  plans = readNdjson(path.join(dir, 'CarePlan.ndjson')).filter((p) => p.meta.profile.includes(UCP));
  flags = new Map(readNdjson(path.join(dir, 'Flag.ndjson')).map((f) => [`Flag/${f.id}`, f]));
  node = await startNode({ dataDir });
});
after(async () => { await node?.close(); });

const param = (p, name) => p.parameter.find((x) => x.name === name);
const part = (p, name) => p.part.find((x) => x.name === name);

test('every synthetic plan reads as an emergency summary: a CPR decision, a ceiling, contacts with phone numbers', async () => {
  assert.ok(plans.length >= 5, `plans in the sample: ${plans.length}`);
  const token = node.token({ org: 'Z0A', sub: 'para-synth', role: 'R8003', purpose: 'emergency' });
  for (const plan of plans) {
    const pid = plan.subject.reference.split('/')[1];
    const r = await fhir(node, 'GET', `Patient/${pid}/$care-plan-summary`, { token, headers: EMERGENCY });
    assert.equal(r.status, 200, r.text);
    const s = r.json;
    assert.equal(param(s, 'hasPlan').valueBoolean, true, pid);
    assert.equal(param(s, 'plan').valueReference.reference, `CarePlan/${plan.id}/_history/1`);
    const v = part(param(s, 'cprDecision'), 'validity').valueCoding.code;
    // what it must be, from the generated CPR decision and today in the UK
    const cpr = plan.supportingInfo.map((x) => flags.get(x.reference))
      .find((f) => f && ['450475007', '450476008', '845151000000104'].includes(f.code.coding[0].code));
    assert.ok(cpr, `${pid}: the plan refers to its CPR decision`);
    const ukToday = new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/London' });
    const want = cpr.code.coding[0].code === '845151000000104' ? 'unknown'
      : cpr.period.end < ukToday ? 'needs-review' : 'valid';
    assert.equal(v, want, `${pid}: review date ${cpr.period.end}, today ${ukToday}`);
    assert.ok(part(param(s, 'ceilingOfTreatment'), 'level'), pid);
    const contacts = s.parameter.filter((p) => p.name === 'contact');
    assert.ok(contacts.length >= 1, pid);
    for (const c of contacts) assert.match(part(c, 'phone').valueString, /^07700 900\d{3}$/);
    const lpa = param(s, 'lastingPowerOfAttorney').valueBoolean;
    assert.equal(lpa, contacts.some((c) => part(c, 'lastingPowerOfAttorney').valueBoolean), `${pid}: LPA flag iff an attorney`);
  }
});

test('synthetic plans keep every rule: saved again unchanged through $care-plan, only the CarePlan gets a new version', async () => {
  for (const plan of plans.slice(0, ROUNDTRIP)) {
    const pid = plan.subject.reference.split('/')[1];
    const org = plan.meta.tag.find((t) => t.system === PUBLISHER).code;
    const token = node.token({ org, sub: `dr-${org}`, role: 'R8000', purpose: 'direct-care' });
    const headers = { 'X-Access-Reason': 'self-claimed: reviewing the plan my organisation wrote' };
    const read = async (ref) => {
      const r = await fhir(node, 'GET', ref, { token, headers });
      assert.equal(r.status, 200, `${ref}: ${r.text}`);
      return r.json;
    };
    const stored = await read(`CarePlan/${plan.id}`);
    const refs = [...stored.supportingInfo.map((x) => x.reference),
      ...stored.activity.filter((a) => a.reference).map((a) => a.reference.reference)];
    const entry = [{ fullUrl: `CarePlan/${plan.id}`, resource: stored }];
    for (const ref of refs) entry.push({ fullUrl: ref, resource: await read(ref) });
    const r = await fhir(node, 'POST', `Patient/${pid}/$care-plan`, {
      token, headers: { ...headers, 'If-Match': 'W/"1"' },
      body: { resourceType: 'Bundle', type: 'collection', entry },
    });
    assert.equal(r.status, 200, `${pid}: ${r.text.slice(0, 1500)}`);
    assert.equal(r.json.entry[0].response.etag, 'W/"2"');
    assert.ok(r.json.entry.slice(1).every((e) => e.response.etag === 'W/"1"'), 'the parts were unchanged');
  }
});

test('the figures count the people the generator gave a plan on this node', async () => {
  const token = node.token({ org: 'Z0A', sub: 'po-synth', purpose: 'audit' });
  const r = await fhir(node, 'GET', '$care-plan-figures', { token });
  assert.equal(r.status, 200, r.text);
  const people = new Set(plans.map((p) => p.subject.reference));
  assert.equal(param(r.json, 'peopleWithPlan').valueInteger, people.size);
  assert.equal(param(r.json, 'currentPlans').valueInteger, plans.length);
  // the revisions of the test before, and the plans, each in its month
  assert.equal(param(r.json, 'plansCreated').valueInteger, plans.length);
  assert.equal(param(r.json, 'revisions').valueInteger, Math.min(ROUNDTRIP, plans.length));
  assert.ok(manifest.rates.observed.endOfLifePlans >= plans.length);
});
