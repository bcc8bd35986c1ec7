// auth.test.mjs: bearer tokens. Every /fhir request but GET /fhir/metadata
// needs a valid EdDSA token signed by the node's key; anything else is 401
// with WWW-Authenticate and an OperationOutcome, and changes nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startNode, fhir, assertOutcome, sampleResource, mintToken, craftToken, keyId, decodeJwt,
  tempDir, runBin, sleep, systemHistoryTotal, DEFAULT_CLAIMS, b64url,
} from './lib.mjs';

let node;
let good;
before(async () => {
  node = await startNode();
  good = node.token();
  // registered with RR8, so RR8's clinicians have a relationship
  const r = await fhir(node, 'PUT', 'Patient/auth-1', {
    body: sampleResource('Patient', {
      id: 'auth-1', generalPractitioner: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RR8' } }],
    }),
  });
  assert.equal(r.status, 201, r.text);
});
after(async () => { await node?.close(); });

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ ...DEFAULT_CLAIMS, iat: now(), exp: now() + 600, ...extra });
const header = (extra = {}) => ({ alg: 'EdDSA', typ: 'JWT', kid: keyId(node.dataDir), ...extra });

// A request with the given Authorization header value (undefined: none)
// must be refused: 401, WWW-Authenticate Bearer, OperationOutcome; on a
// read, a write and a history, and the store must not change.
async function assertRefused(authorization, label) {
  const before = await systemHistoryTotal(node);
  const reqs = [
    ['GET', 'Patient/auth-1', undefined],
    ['POST', 'Patient', sampleResource('Patient')],
    ['PUT', 'Patient/auth-1', sampleResource('Patient', { id: 'auth-1', active: false })],
    ['DELETE', 'Patient/auth-1', undefined],
    ['GET', '_history', undefined],
    ['GET', 'Patient/auth-1/_history/1', undefined],
    ['GET', 'Patient?_id=auth-1', undefined],
    ['GET', 'Patient/auth-1/$everything', undefined],
    ['POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: sampleResource('Patient'), request: { method: 'POST', url: 'Patient' } }] }],
  ];
  for (const [m, p, body] of reqs) {
    const r = await fhir(node, m, p, {
      body, token: null, headers: authorization === undefined ? {} : { authorization },
    });
    assertOutcome(r, 401, { code: ['login', 'security', 'forbidden', 'invalid'] });
    const www = r.headers['www-authenticate'];
    assert.ok(www && /^Bearer\b/i.test(www), `${label}: ${m} ${p}: WWW-Authenticate ${www}`);
  }
  assert.equal(await systemHistoryTotal(node), before, `${label}: the store changed`);
  assert.equal((await fhir(node, 'GET', 'Patient/auth-1')).headers.etag, 'W/"1"');
}

test('a valid token from `carerecord token` works, and names the principal in the log', async () => {
  const t = mintToken(node.dataDir, { sub: 'dr-who', name: 'Dr Who', org: 'RR8', role: 'R8000', purpose: 'direct-care' });
  const { header: h, payload } = decodeJwt(t);
  assert.equal(h.alg, 'EdDSA');
  assert.equal(payload.sub, 'dr-who');
  assert.equal(payload.org, 'RR8');
  assert.equal(payload.purpose, 'direct-care');
  assert.ok(payload.exp > payload.iat);
  const r = await fhir(node, 'GET', 'Patient/auth-1', { token: t });
  assert.equal(r.status, 200, r.text);
  const c = await fhir(node, 'POST', 'Observation', { token: t, body: sampleResource('Observation', { subject: { reference: 'Patient/auth-1' } }) });
  assert.equal(c.status, 201, c.text);
  await sleep(50);
  const line = node.logRecords().find((l) => l.method === 'POST' && l.path === '/fhir/Observation' && l.status === 201);
  assert.ok(line, 'a request log line for the create');
  assert.match(line.principal, /dr-who/);
  // the scheme name is case-insensitive (RFC 9110 11.1)
  const lower = await fhir(node, 'GET', 'Patient/auth-1', { token: null, headers: { authorization: `bearer ${t}` } });
  assert.equal(lower.status, 200);
});

test('a patient token (--patient) is a valid token', async () => {
  const t = mintToken(node.dataDir, { sub: 'pat-1', name: 'A Patient', purpose: 'patient-access', patient: '9434765919' });
  assert.equal(decodeJwt(t).payload.patient, '9434765919');
  const r = await fhir(node, 'GET', 'metadata', { token: t });
  assert.equal(r.status, 200);
});

test('GET /fhir/metadata needs no token', async () => {
  const r = await fhir(node, 'GET', 'metadata', { token: null });
  assert.equal(r.status, 200);
  assert.equal(r.json.resourceType, 'CapabilityStatement');
});

test('no Authorization header: 401', async () => {
  await assertRefused(undefined, 'no header');
  const r = await fhir(node, 'GET', 'Patient/auth-1', { token: null });
  assert.match(r.headers['www-authenticate'], /^Bearer realm=/);
});

test('not a Bearer token: 401', async () => {
  await assertRefused('Basic dXNlcjpwYXNzd29yZA==', 'Basic');
  await assertRefused(good, 'token without scheme');
  await assertRefused(`Token ${good}`, 'Token scheme');
  await assertRefused('Bearer', 'Bearer alone');
  await assertRefused('Bearer ', 'Bearer and a space');
  await assertRefused('', 'empty header');
});

test('garbage tokens: 401', async () => {
  for (const g of [
    'garbage', 'a.b.c', 'a.b', 'a.b.c.d', '...', '.', `${good}x`, `${good}.`, `x${good}`,
    'eyJhbGciOiJFZERTQSJ9.e30.', `${b64url('[]')}.${b64url('{}')}.AAAA`,
    `${b64url('not json')}.${b64url('also not')}.AAAA`, 'A'.repeat(9000), `${good} ${good}`,
    `${good.split('.').slice(0, 2).join('.')}.!!!!`,
  ]) {
    await assertRefused(`Bearer ${g}`, `garbage ${g.slice(0, 40)}`);
  }
});

test('expired token: 401 (ttl 1 s, then 2 s later)', async () => {
  const t = mintToken(node.dataDir, {}, { ttl: 1 });
  const { payload } = decodeJwt(t);
  assert.ok(payload.exp - payload.iat <= 1, `ttl honoured: ${JSON.stringify(payload)}`);
  await sleep(2100);
  await assertRefused(`Bearer ${t}`, 'expired');
  const r = await fhir(node, 'GET', 'Patient/auth-1', { token: t });
  assert.match(r.headers['www-authenticate'], /invalid_token/);
});

test('token signed by another node\'s key: 401', async () => {
  // another node's data directory: a fresh Ed25519 key where carerecord keeps it
  const otherData = tempDir();
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(otherData, 'node-key.pem'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const t = mintToken(otherData);
  assert.notEqual(keyId(otherData), keyId(node.dataDir));
  await assertRefused(`Bearer ${t}`, 'other key');
  // same claims and our kid, but the other key's signature
  const forged = craftToken({ header: header(), payload: decodeJwt(t).payload, dataDir: otherData });
  await assertRefused(`Bearer ${forged}`, 'other key with our kid');
});

test('alg none, HS256 key confusion and other algorithms: 401', async () => {
  const p = claims();
  for (const h of [{ alg: 'none', typ: 'JWT' }, { alg: 'none' }, { alg: 'None', typ: 'JWT' }, header({ alg: 'none' })]) {
    await assertRefused(`Bearer ${craftToken({ header: h, payload: p, signature: '' })}`, `alg ${h.alg}`);
  }
  // HS256 with the node's public key as the HMAC secret
  const pub = fs.readFileSync(path.join(node.dataDir, 'node-key.pub.pem'));
  const hs = (h) => {
    const input = `${b64url(h)}.${b64url(p)}`;
    return `${input}.${crypto.createHmac('sha256', pub).update(input).digest('base64url')}`;
  };
  await assertRefused(`Bearer ${hs({ alg: 'HS256', typ: 'JWT' })}`, 'HS256');
  await assertRefused(`Bearer ${hs(header({ alg: 'HS256' }))}`, 'HS256 with kid');
  // a real signature, but the header claims another algorithm
  await assertRefused(`Bearer ${craftToken({ header: header({ alg: 'ES256' }), payload: p, dataDir: node.dataDir })}`, 'ES256 label');
  // crit header
  await assertRefused(`Bearer ${craftToken({ header: header({ crit: ['exp'] }), payload: p, dataDir: node.dataDir })}`, 'crit');
});

test('tampered tokens: 401', async () => {
  const [h, p, s] = good.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  for (const change of [{ role: 'R0001' }, { org: 'X99' }, { purpose: 'emergency' }, { exp: payload.exp + 3600 }, { sub: 'someone-else' }]) {
    const tp = b64url({ ...payload, ...change });
    await assertRefused(`Bearer ${h}.${tp}.${s}`, `tampered ${JSON.stringify(change)}`);
  }
  // signature changed in one byte
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 1;
  await assertRefused(`Bearer ${h}.${p}.${sig.toString('base64url')}`, 'flipped signature bit');
  // header changed (kid)
  const th = b64url({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), kid: '0000000000000000' });
  await assertRefused(`Bearer ${th}.${p}.${s}`, 'unknown kid');
  // the valid token itself still works after all that (no poisoned cache)
  assert.equal((await fhir(node, 'GET', 'Patient/auth-1', { token: good })).status, 200);
});

test('correctly signed tokens with bad claims: 401', async () => {
  const sign = (p, h = header()) => `Bearer ${craftToken({ header: h, payload: p, dataDir: node.dataDir })}`;
  // sanity: the hand-crafted signer makes tokens the node accepts
  const ok = await fhir(node, 'GET', 'Patient/auth-1', { token: sign(claims()).slice(7) });
  assert.equal(ok.status, 200, `hand-crafted valid token: ${ok.text}`);
  const { exp: _e, ...noExp } = claims();
  const { iat: _i, ...noIat } = claims();
  const { purpose: _p, ...noPurpose } = claims();
  const { sub: _s, ...noSub } = claims();
  const { org: _o, ...noOrg } = claims();
  const cases = {
    'exp missing': noExp,
    'iat missing': noIat,
    'exp in the past': claims({ iat: now() - 100, exp: now() - 10 }),
    'iat far in the future': claims({ iat: now() + 3600, exp: now() + 7200 }),
    'nbf in the future': claims({ nbf: now() + 3600 }),
    'exp a string': claims({ exp: String(now() + 600) }),
    'purpose missing': noPurpose,
    'purpose unknown': claims({ purpose: 'curiosity' }),
    'sub missing': noSub,
    'org missing': noOrg,
    'org lower case': claims({ org: 'rr8' }),
    'role not an SDS code': claims({ role: 'doctor' }),
    'patient not ten digits': claims({ patient: '12345' }),
    'name a number': claims({ name: 42 }),
  };
  for (const [label, p] of Object.entries(cases)) {
    await assertRefused(sign(p), label);
  }
  // the claims object is a JSON array, or has duplicate keys
  const input = `${b64url(header())}.${b64url('[1,2]')}`;
  const key = crypto.createPrivateKey(fs.readFileSync(path.join(node.dataDir, 'node-key.pem')));
  await assertRefused(`Bearer ${input}.${crypto.sign(null, Buffer.from(input), key).toString('base64url')}`, 'claims array');
  const dupText = JSON.stringify(claims()).replace(/}$/, ',"role":"R0001"}');
  const dup = `${b64url(header())}.${Buffer.from(dupText).toString('base64url')}`;
  await assertRefused(`Bearer ${dup}.${crypto.sign(null, Buffer.from(dup), key).toString('base64url')}`, 'duplicate claim');
});

test('carerecord token: every purpose mints; bad options fail with a message', async () => {
  for (const purpose of ['direct-care', 'emergency', 'patient-access', 'research', 'audit', 'system']) {
    const t = mintToken(node.dataDir, { purpose, ...(purpose === 'patient-access' ? { patient: '9434765919' } : {}) });
    assert.equal(decodeJwt(t).payload.purpose, purpose);
  }
  const base = ['token', '--data', node.dataDir, '--sub', 'u', '--name', 'N', '--org', 'RR8', '--role', 'R8000'];
  for (const bad of [
    [...base, '--purpose', 'curiosity'],
    [...base.slice(0, -2), '--role', 'doctor', '--purpose', 'direct-care'],
    [...base, '--purpose', 'direct-care', '--patient', '12'],
    [...base, '--purpose', 'direct-care', '--ttl', '-5'],
    [...base, '--purpose', 'direct-care', '--ttl', 'abc'],
    [...base, '--purpose', 'direct-care', '--bogus', 'x'],
    ['token', '--data', node.dataDir, '--sub', 'u'],
  ]) {
    const r = runBin(bad);
    assert.notEqual(r.status, 0, `carerecord ${bad.join(' ')} should fail`);
    assert.equal(r.signal, null);
    assert.ok(r.stderr.trim().length > 0, `an error message for ${bad.join(' ')}`);
    assert.equal(r.stdout.trim(), '', 'no token printed');
  }
});
