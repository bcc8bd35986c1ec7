// hfuzz.mjs: random hostile requests against a live node (not part of
// the suite; run by hand: node hfuzz.mjs [N] [SEED]). Every answer must be
// below 500 (or 503), a 4xx must be an OperationOutcome, and the node
// must stay up. Prints every request that breaks a rule.
import { startNode, fhir, sampleResource, SUPPORTED_TYPES, NHS_SYSTEM, rawRequest } from './lib.mjs';

const N = Number(process.argv[2] || 3000);
let seed = Number(process.argv[3] || 1);
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rnd() * a.length)];

const WEIRD_STRINGS = ['', ' ', '\u0000', '\uFFFF', 'é', '𝒳', '%00', '%', '../..', '/', '|', ',', '$', '\\', '"', "'", '<script>', 'a'.repeat(70000),
  '9000000009', 'Patient/', 'Patient/../x', 'urn:uuid:', 'http://localhost/fhir/Patient/x', '-1', '1e309', 'NaN', 'null', '{}', '[]',
  '2020-13-45', '2020-02-30T25:61:61Z', '--', '2019', 'ge2020', 'eq', 'ap', 'sa', ':not', ':missing', 'true', 'false'];
const WEIRD_VALUES = [null, true, false, 0, -1, 1.5, 1e308, -0, '', 'x'.repeat(5000), [], {}, [[[]]], { a: { b: { c: {} } } }, ['x'], [null], { resourceType: 'Patient' }];

function deepNest(n) { let v = {}; for (let i = 0; i < n; i++) v = { a: v }; return v; }

function mutateJson(v, depth = 0) {
  if (depth > 6) return v;
  const r = rnd();
  if (Array.isArray(v)) {
    if (r < 0.1) return pick(WEIRD_VALUES);
    const a = v.map((x) => (rnd() < 0.3 ? mutateJson(x, depth + 1) : x));
    if (rnd() < 0.1) a.push(pick(WEIRD_VALUES));
    if (rnd() < 0.05) for (let i = 0; i < 300; i++) a.push(a[0]);
    return a;
  }
  if (v && typeof v === 'object') {
    if (r < 0.05) return pick(WEIRD_VALUES);
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      if (rnd() < 0.05) continue;
      const key = rnd() < 0.03 ? pick(['_' + k, k + 'X', 'extension', 'modifierExtension', 'id', 'meta', 'resourceType', 'contained']) : k;
      o[key] = rnd() < 0.3 ? mutateJson(x, depth + 1) : x;
    }
    if (rnd() < 0.05) o[pick(['extension', 'contained', 'meta', 'text', 'id', '_birthDate', 'identifier'])] = pick(WEIRD_VALUES);
    return o;
  }
  if (typeof v === 'string') return r < 0.5 ? pick(WEIRD_STRINGS) : v + pick(WEIRD_STRINGS);
  if (typeof v === 'number') return pick([0, -1, 1e308, 0.1, 2 ** 63, -(2 ** 63), 3.3e-320]);
  return pick(WEIRD_VALUES);
}

function mutateText(s) {
  const b = Buffer.from(s);
  const r = rnd();
  if (r < 0.3 && b.length) return b.subarray(0, Math.floor(rnd() * b.length)).toString('latin1');
  if (r < 0.6) { for (let i = 0; i < 4; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256); return b.toString('latin1'); }
  const at = Math.floor(rnd() * b.length);
  return s.slice(0, at) + pick(WEIRD_STRINGS.slice(0, 30)) + s.slice(at);
}

const QUERIES = [
  'Patient?name=exam&_count=2', 'Patient?identifier=' + NHS_SYSTEM + '|9000000009', 'Observation?patient=Patient/P&code=http://loinc.org|85354-9&_include=Observation:patient',
  'Observation?subject:Patient.name=exa&date=ge2020&_sort=-date,code&_total=accurate', 'Patient?_has:Observation:patient:code=x&_revinclude=Observation:patient&_revinclude:iterate=Provenance:target',
  'Encounter?date=eb2020&_summary=count', 'Condition?code:text=asth&_elements=code,subject', 'Patient?_lastUpdated=gt2000&_sort=_lastUpdated&_count=1',
  'Observation?value-quantity=lt100|http://unitsofmeasure.org|/min', 'MedicationRequest?subject:identifier=' + NHS_SYSTEM + '|9000000009&_include=MedicationRequest:medication',
  'Patient/P/$everything?_count=3&_type=Observation,Condition', 'Patient/$everything?identifier=' + NHS_SYSTEM + '|9000000009', 'Patient/P/_history?_count=1',
  '_history?_since=2000-01-01', 'AuditEvent?patient=Patient/P&_count=5', '$audit-report?from=2020-01-01&to=2030-01-01', 'Patient/P/$summary', 'metadata', 'Patient/P/_history/1',
  'CarePlan?subject=Patient/P&category=x', 'Patient/$match', 'Patient/$ihe-pix?sourceIdentifier=' + NHS_SYSTEM + '|9000000009',
];

function bundleOf(kind, pid) {
  const u1 = 'urn:uuid:11111111-1111-4111-8111-111111111111';
  return {
    resourceType: 'Bundle', type: kind,
    entry: [
      { fullUrl: u1, resource: sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: '9000000009' }] }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=' + NHS_SYSTEM + '|9000000009' } },
      { resource: sampleResource('Observation', { subject: { reference: u1 } }), request: { method: 'POST', url: 'Observation' } },
      { resource: sampleResource('Condition', { subject: { reference: 'Patient/' + pid } }), request: { method: 'PUT', url: 'Condition?subject=Patient/' + pid } },
      { request: { method: 'DELETE', url: 'Flag?subject=Patient/' + pid } },
      { request: { method: 'GET', url: 'Patient/' + pid } },
    ],
  };
}

const HEADER_SETS = [
  {}, { Accept: 'application/xml' }, { Accept: '*/*;q=0' }, { Accept: 'application/fhir+json;fhirVersion=3.0' }, { 'Content-Type': 'text/plain' },
  { 'Content-Type': 'application/fhir+json; charset=latin1' }, { Prefer: 'return=minimal' }, { Prefer: 'return=OperationOutcome' }, { Prefer: 'handling=lenient' },
  { 'If-Match': 'W/"1"' }, { 'If-Match': 'W/"99999999999999999999"' }, { 'If-Match': '"' }, { 'If-None-Exist': 'identifier=|' }, { 'If-None-Exist': '&&&' },
  { 'X-Access-Reason': 'emergency: ' + 'x'.repeat(3000) }, { 'X-Access-Reason': 'self-claimed:' }, { 'X-Access-Reason': '\u00ff\u00fe' }, { 'X-Federation': 'weird' },
  { 'If-Modified-Since': 'yesterday' }, { 'If-None-Match': 'W/"1"' }, { 'X-Request-Id': 'x'.repeat(500) },
];

const node = await startNode();
const problems = [];
try {
  const p = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient', { identifier: [{ system: NHS_SYSTEM, value: '9000000009' }] }) });
  const pid = p.json.id;
  for (const t of ['Observation', 'Condition', 'Encounter', 'MedicationRequest']) await fhir(node, 'POST', t, { body: sampleResource(t, { subject: { reference: 'Patient/' + pid } }), validate: false });
  for (let i = 0; i < N; i++) {
    const kind = rnd();
    let method = 'GET', path = '', body, headers = { ...pick(HEADER_SETS) };
    if (kind < 0.3) {
      const t = pick(SUPPORTED_TYPES);
      let res;
      try { res = sampleResource(t); } catch { res = { resourceType: t }; }
      if (res.subject) res.subject = { reference: 'Patient/' + pid };
      const m = mutateJson(res);
      method = pick(['POST', 'PUT', 'POST']);
      path = method === 'PUT' ? `${t}/${pick(['x1', pid, 'a'.repeat(64), 'a'.repeat(65), '%2F', 'é'])}` : t;
      body = rnd() < 0.2 ? mutateText(JSON.stringify(m)) : (rnd() < 0.02 ? JSON.stringify(deepNest(100 + Math.floor(rnd() * 200))) : m);
    } else if (kind < 0.5) {
      method = 'POST'; path = '';
      const b = mutateJson(bundleOf(pick(['transaction', 'batch', 'transaction', 'history', 'searchset']), pid));
      body = rnd() < 0.2 ? mutateText(JSON.stringify(b)) : b;
    } else if (kind < 0.8) {
      const q = pick(QUERIES).replaceAll('Patient/P', 'Patient/' + pid);
      path = rnd() < 0.6 ? mutateText(q) : q;
      if (rnd() < 0.1) method = 'HEAD';
    } else if (kind < 0.9) {
      method = pick(['DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PUT']);
      path = pick([`Patient/${pid}`, 'Patient', '', 'Observation?code=x', `Patient/${pid}/_history/1`, mutateText(`Patient/${pid}`)]);
      body = rnd() < 0.5 ? mutateText('[{"op":"replace","path":"/gender","value":"male"}]') : undefined;
    } else {
      method = 'POST';
      path = pick(['$import', 'Patient/$match', `Patient/${pid}/$merge`, '$audit-review', 'Patient/_search', 'Patient/$merge']);
      if (path === '$import') { body = mutateText([JSON.stringify(sampleResource('Patient')), JSON.stringify(sampleResource('Observation')), '{'].join('\n')); headers['Content-Type'] = 'application/fhir+ndjson'; }
      else if (path === 'Patient/_search') { body = mutateText('name=exam&_count=1&_sort=family'); headers['Content-Type'] = 'application/x-www-form-urlencoded'; }
      else body = mutateJson({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: sampleResource('Patient') }, { name: 'onlyCertainMatches', valueBoolean: true }, { name: 'source-patient', valueReference: { reference: 'Patient/' + pid } }] });
    }
    if (typeof body === 'object' && body !== undefined) body = JSON.stringify(body);
    let r;
    try {
      r = await fhir(node, method, path, { body, headers, validate: false, timeout: 20000 });
    } catch (e) {
      problems.push({ i, method, path: path.slice(0, 200), error: String(e).slice(0, 200) });
      try { await fhir(node, 'GET', 'metadata', { validate: false }); } catch { problems.push({ i, fatal: 'node is down' }); break; }
      continue;
    }
    const bad = (r.status >= 500 && r.status !== 503) ||
      (r.status >= 400 && method !== 'HEAD' && (!r.json || r.json.resourceType !== 'OperationOutcome'));
    if (bad) problems.push({ i, method, path: path.slice(0, 300), headers, status: r.status, body: (body || '').slice(0, 600), answer: (r.text || '').slice(0, 300) });
  }
} finally {
  await node.close();
}
for (const p of problems) console.log(JSON.stringify(p));
console.log(`${N} requests, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
