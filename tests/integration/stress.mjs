// stress.mjs: many kinds of request at once against three federated
// nodes, for a thread checker (make tsan) or a sanitizer build. Not part
// of the suite; make tsan runs it, or by hand: node stress.mjs [SECONDS]
// [CLIENTS]. Loads a small synthetic London (300 people) into nel, sel and
// swl, then reads, searches, $everything (local and federated), history,
// writes, transactions with conditional creates, deletes, $import,
// AuditEvent and $audit-report reads and patient-access reads run side by
// side. Every answer must be below 500 (a 503 'transient' from an import
// waiting for another is allowed), every node must stay up, stop with 0
// and report nothing to a sanitizer, and `audit verify` must pass on each
// afterwards. Prints what broke a rule; exit 1 if any.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, fhir, BIN, NHS_SYSTEM, tempDir, sampleResource, prepareNodes, peerConfig } from './lib.mjs';

const SECONDS = Number(process.argv[2] || 60);
const CONC = Number(process.argv[3] || 24);
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];

const work = tempDir('cr-stress-');
const synthDir = path.join(work, 'synth');
execFileSync(BIN, ['synth', '--patients', '300', '--seed', '3', '--out', synthDir, '--quiet']);
// Three federated nodes, each with its exchange's share of the people;
// most requests go to nel, federated reads to any of them.
const IDS = ['nel', 'sel', 'swl'];
const world = await prepareNodes(IDS);
for (const id of IDS) {
  const dir = path.join(synthDir, id);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson')).map((f) => path.join(dir, f));
  execFileSync(BIN, ['import', '--data', world.dirs[id], ...files], { stdio: 'ignore' });
}
const nel = path.join(synthDir, 'nel');
const patients = fs.readFileSync(path.join(nel, 'Patient.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const ids = patients.map((p) => p.id);
const nhsOf = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .map((p) => (p.identifier || []).find((i) => i.system === NHS_SYSTEM)?.value).filter(Boolean);
const nhs = nhsOf(path.join(nel, 'Patient.ndjson'));
const everyNhs = [...new Set(IDS.flatMap((id) => nhsOf(path.join(synthDir, id, 'Patient.ndjson'))))];

const nodes = [];
for (const id of IDS) {
  nodes.push(await startNode({ dataDir: world.dirs[id], port: world.ports[id],
    config: { ...peerConfig(id, IDS, world, { locator: 'nel', deadline_ms: 5000 }), audit: { journal_kb: 64 } } }));
}
const node = nodes[0];
const claim = { 'X-Access-Reason': 'self-claimed: stress' };
const tok = {
  sys: node.token({ sub: 'stress-epr', name: 'Stress EPR', org: 'RR8', role: 'R8000', purpose: 'system' }),
  doc: node.token({ sub: 'stress-doc', name: 'Dr Stress', org: 'R1K', role: 'R8000', purpose: 'direct-care' }),
  em: node.token({ sub: 'stress-em', name: 'Dr Emergency', org: 'RJ1', role: 'R8000', purpose: 'emergency' }),
  clerk: node.token({ sub: 'stress-clerk', name: 'Clerk', org: 'R1K', role: 'R8008', purpose: 'direct-care' }),
  po: node.token({ sub: 'stress-po', name: 'Privacy Officer', org: 'R1K', role: 'R8010', purpose: 'audit' }),
  pat: () => node.token({ sub: 'nhs-login', name: 'Patient', org: 'RR8', role: 'R8000', purpose: 'patient-access', patient: pick(nhs) }),
};
const created = [];
const problems = [];
const statuses = ops_stat();
let count = 0;
const samples = new Map();
function ops_stat() { return new Map(); }

const ops = [
  () => fhir(node, 'GET', `Patient/${pick(ids)}`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Patient/${pick(ids)}/$everything?_count=50`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Patient/${pick(ids)}/$everything`, { token: tok.em, headers: { 'X-Access-Reason': 'emergency: urgent-care stress' }, validate: false }),
  () => fhir(node, 'GET', `Observation?patient=Patient/${pick(ids)}&_sort=-date&_count=20&_include=Observation:performer`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Encounter?subject=Patient/${pick(ids)}&_revinclude=Observation:encounter`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Patient?family=${pick(['a', 'b', 'c', 'sm', 'jo'])}&_count=10`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Patient?identifier=${NHS_SYSTEM}|${pick(nhs)}`, { token: tok.clerk, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Patient/${pick(ids)}/_history`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', `Condition?patient=Patient/${pick(ids)}&_summary=count`, { token: tok.doc, headers: claim, validate: false }),
  () => fhir(node, 'GET', 'Patient?_count=5', { token: tok.pat(), validate: false }),
  () => fhir(node, 'GET', 'AuditEvent?_count=20', { token: tok.po, validate: false }),
  () => fhir(node, 'GET', `AuditEvent?patient=Patient/${pick(ids)}`, { token: tok.po, validate: false }),
  () => fhir(node, 'GET', 'AuditEvent', { token: tok.pat(), validate: false }),
  () => fhir(node, 'GET', '$audit-report', { token: tok.po, validate: false }),
  async () => {
    const r = await fhir(node, 'POST', 'Observation', { token: tok.sys, validate: false,
      body: sampleResource('Observation', { subject: { reference: `Patient/${pick(ids)}` } }) });
    if (r.status === 201 && r.body?.id) created.push(r.body.id);
    return r;
  },
  async () => {
    if (created.length === 0) return { status: 200 };
    const id = pick(created);
    return fhir(node, 'PUT', `Observation/${id}`, { token: tok.sys, validate: false,
      body: sampleResource('Observation', { id, subject: { reference: `Patient/${pick(ids)}` }, status: 'amended' }) });
  },
  async () => {
    if (created.length === 0) return { status: 200 };
    return fhir(node, 'DELETE', `Observation/${pick(created)}`, { token: tok.sys, validate: false });
  },
  () => {
    const ods = pick(['RR8', 'R1K', 'RJ1']);
    const org = 'urn:uuid:6d1c4a0e-0000-4000-8000-000000000002';
    return fhir(node, 'POST', '', { token: tok.sys, validate: false, body: {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:6d1c4a0e-0000-4000-8000-000000000001', resource: sampleResource('Patient', { id: undefined }),
          request: { method: 'POST', url: 'Patient' } },
        { resource: sampleResource('Observation', { subject: { reference: 'urn:uuid:6d1c4a0e-0000-4000-8000-000000000001' }, performer: [{ reference: org }] }),
          request: { method: 'POST', url: 'Observation' } },
        { fullUrl: org, resource: sampleResource('Organization', { identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: ods }] }),
          request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=https://fhir.nhs.uk/Id/ods-organization-code|${ods}` } },
      ] } });
  },
  () => {
    const at = pick(nodes);
    return fhir(at, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|${pick(everyNhs)}`,
      { token: at.token({ sub: 'stress-em', name: 'Dr Emergency', org: 'RJ1', role: 'R8000', purpose: 'emergency' }),
        headers: { 'X-Access-Reason': 'emergency: urgent-care stress' }, validate: false });
  },
  () => {
    const at = pick(nodes);
    return fhir(at, 'GET', `Patient/$everything?identifier=${NHS_SYSTEM}|${pick(everyNhs)}&_count=20`,
      { token: at.token({ sub: 'stress-doc', name: 'Dr Stress', org: 'R1K', role: 'R8000', purpose: 'direct-care' }),
        headers: claim, validate: false });
  },
  () => fhir(node, 'POST', '$import', { token: tok.sys, validate: false,
    headers: { 'Content-Type': 'application/fhir+ndjson' },
    body: [0, 1, 2].map(() => JSON.stringify(sampleResource('Observation', { subject: { reference: `Patient/${pick(ids)}` } }))).join('\n') + '\n' }),
];

const until = Date.now() + SECONDS * 1000;
async function worker() {
  while (Date.now() < until) {
    const i = Math.floor(rnd() * ops.length);
    try {
      const r = await ops[i]();
      count++;
      const k = `${i}:${r.status}`;
      statuses.set(k, (statuses.get(k) || 0) + 1);
      if (!samples.has(k)) samples.set(k, JSON.stringify(r.json ?? '').slice(0, 300));
      const busy = r.status === 503 && r.json?.issue?.[0]?.code === 'transient';
      if (r.status >= 500 && !busy) problems.push(`op ${i}: status ${r.status} ${JSON.stringify(r.json ?? r.text ?? "").slice(0, 400)}`);
    } catch (e) {
      problems.push(`op ${i}: ${e.message}`);
    }
  }
}
await Promise.all(Array.from({ length: CONC }, worker));
for (const [i, n] of nodes.entries()) {
  const alive = await fhir(n, 'GET', 'metadata', { validate: false }).catch((e) => ({ status: e.message }));
  if (alive.status !== 200) problems.push(`${IDS[i]} not answering at the end: ${alive.status}`);
}
for (const [i, n] of nodes.entries()) {
  const code = await n.stop();
  if (code !== 0) problems.push(`${IDS[i]} exited with ${code} (signal ${n.exitSignal}) on SIGTERM`);
  for (const l of n.logs().filter((x) => /(ERROR|WARNING): (Address|Leak|Thread)Sanitizer|runtime error:|SUMMARY: /.test(x)))
    problems.push(`${IDS[i]}: sanitizer: ${l}`);
  try {
    execFileSync(BIN, ['audit', 'verify', '--data', world.dirs[IDS[i]]], { stdio: 'pipe' });
  } catch (e) {
    problems.push(`${IDS[i]}: audit verify: ${e.stdout}${e.stderr}`);
  }
}
console.log(`${count} requests in ${SECONDS} s at ${CONC} at once; ${problems.length} problems`);
console.log('answers (op:status count): ' + [...statuses].sort().map(([k, v]) => `${k} ${v}`).join(', '));
for (const [k, v] of samples) if (!/:2\d\d$/.test(k)) console.log(`  ${k}: ${v}`);
for (const p of problems.slice(0, 30)) console.log('  ' + p);
process.exit(problems.length ? 1 : 0);
