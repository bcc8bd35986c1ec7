// stress.mjs: many kinds of request at once against one live node, for a
// thread checker (make tsan) or a sanitizer build. Not part of the suite;
// run by hand: node stress.mjs [SECONDS] [CONCURRENCY]. Loads a small
// synthetic London (one node's share), then reads, searches, $everything,
// history, writes, transactions, conditional writes, deletes, $import,
// AuditEvent and $audit-report reads and patient-access reads run side by
// side. Every answer must be below 500 and the node must stay up; at the
// end `audit verify` must pass. Prints what broke a rule; exit 1 if any.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, fhir, BIN, NHS_SYSTEM, tempDir, sampleResource } from './lib.mjs';

const SECONDS = Number(process.argv[2] || 60);
const CONC = Number(process.argv[3] || 24);
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];

const work = tempDir('cr-stress-');
const synthDir = path.join(work, 'synth');
execFileSync(BIN, ['synth', '--patients', '300', '--seed', '3', '--out', synthDir, '--quiet']);
const nel = path.join(synthDir, 'nel');
const files = fs.readdirSync(nel).filter((f) => f.endsWith('.ndjson')).map((f) => path.join(nel, f));
const dataDir = path.join(work, 'data');
execFileSync(BIN, ['import', '--data', dataDir, ...files], { stdio: 'ignore' });

const patients = fs.readFileSync(path.join(nel, 'Patient.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const ids = patients.map((p) => p.id);
const nhs = patients.map((p) => (p.identifier || []).find((i) => i.system === NHS_SYSTEM)?.value).filter(Boolean);

const node = await startNode({ dataDir, config: { audit: { journal_kb: 64 } } });
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
const alive = await fhir(node, 'GET', 'metadata', { validate: false }).catch((e) => ({ status: e.message }));
if (alive.status !== 200) problems.push(`node not answering at the end: ${alive.status}`);
const code = await node.stop();
if (code !== 0) problems.push(`the node exited with ${code} (signal ${node.exitSignal}) on SIGTERM`);
for (const l of node.logs().filter((x) => /(ERROR|WARNING): (Address|Leak|Thread)Sanitizer|runtime error:|SUMMARY: /.test(x)))
  problems.push(`sanitizer: ${l}`);
try {
  execFileSync(BIN, ['audit', 'verify', '--data', dataDir], { stdio: 'pipe' });
} catch (e) {
  problems.push(`audit verify: ${e.stdout}${e.stderr}`);
}
console.log(`${count} requests in ${SECONDS} s at ${CONC} at once; ${problems.length} problems`);
console.log('answers (op:status count): ' + [...statuses].sort().map(([k, v]) => `${k} ${v}`).join(', '));
for (const [k, v] of samples) if (!/:2\d\d$/.test(k)) console.log(`  ${k}: ${v}`);
for (const p of problems.slice(0, 30)) console.log('  ' + p);
process.exit(problems.length ? 1 : 0);
