// negotiation.test.mjs: JSON only. Accept and _format that do not allow
// FHIR JSON → 406; request bodies that are not JSON → 415; the store is
// unchanged by either.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, assertOutcome, sampleResource, systemHistoryTotal } from './lib.mjs';

let node;
before(async () => {
  node = await startNode();
  const r = await fhir(node, 'PUT', 'Patient/neg-1', { body: sampleResource('Patient', { id: 'neg-1' }) });
  assert.equal(r.status, 201);
});
after(async () => { await node?.close(); });

const JSON_CT = /^application\/fhir\+json(;\s*charset=utf-8)?$/i;

test('Accept values that allow FHIR JSON get FHIR JSON', async () => {
  for (const accept of [
    undefined, '', 'application/fhir+json', 'application/json', '*/*', 'application/*',
    'application/fhir+json; fhirVersion=4.0', 'APPLICATION/FHIR+JSON', 'application/json+fhir',
    'application/fhir+xml, application/fhir+json;q=0.5', 'text/html, */*;q=0.1',
    'application/fhir+json;charset=utf-8',
  ]) {
    for (const p of ['Patient/neg-1', 'metadata', '_history']) {
      const r = await fhir(node, 'GET', p, { headers: { accept } });
      assert.equal(r.status, 200, `Accept ${JSON.stringify(accept)} on ${p}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.match(r.headers['content-type'], JSON_CT);
      assert.ok(r.json?.resourceType);
    }
  }
});

test('Accept values that do not allow JSON are 406 with an OperationOutcome in JSON', async () => {
  for (const accept of [
    'application/fhir+xml', 'application/xml', 'text/xml', 'text/html', 'text/*', 'text/turtle',
    'application/xml, text/html',
  ]) {
    for (const p of ['Patient/neg-1', '_history']) {
      const r = await fhir(node, 'GET', p, { headers: { accept } });
      assertOutcome(r, 406);
    }
    // also where no token is needed
    assertOutcome(await fhir(node, 'GET', 'metadata', { headers: { accept }, token: null }), 406);
  }
});

test('Accept with q=0 on JSON refuses JSON (RFC 9110 12.4.2: q=0 means not acceptable)', async () => {
  for (const accept of ['application/fhir+json;q=0', 'application/fhir+json;q=0, application/fhir+xml',
    'application/json;q=0, application/fhir+json;q=0', '*/*;q=0']) {
    const r = await fhir(node, 'GET', 'Patient/neg-1', { headers: { accept } });
    assert.equal(r.status, 406, `Accept ${accept}: got ${r.status}`);
    assertOutcome(r, 406);
  }
});

test('_format: json forms give JSON, anything else is 406, and _format wins over Accept', async () => {
  for (const f of ['json', 'application/json', 'application/fhir+json']) {
    const r = await fhir(node, 'GET', `Patient/neg-1?_format=${encodeURIComponent(f)}`);
    assert.equal(r.status, 200, `_format=${f}`);
    assert.match(r.headers['content-type'], JSON_CT);
    const x = await fhir(node, 'GET', `Patient/neg-1?_format=${encodeURIComponent(f)}`,
      { headers: { accept: 'application/fhir+xml' } });
    assert.equal(x.status, 200, `_format=${f} with Accept xml`);
  }
  for (const f of ['xml', 'application/fhir+xml', 'text/xml', 'html', 'ttl', 'text/turtle']) {
    assertOutcome(await fhir(node, 'GET', `Patient/neg-1?_format=${encodeURIComponent(f)}`), 406);
    assertOutcome(await fhir(node, 'GET', `metadata?_format=${encodeURIComponent(f)}`, { token: null }), 406);
    const w = await fhir(node, 'PUT', `Patient/neg-1?_format=${encodeURIComponent(f)}`, {
      body: sampleResource('Patient', { id: 'neg-1', active: true }),
    });
    assertOutcome(w, 406);
  }
  const g = await fhir(node, 'GET', 'Patient/neg-1');
  assert.equal(g.headers.etag, 'W/"1"', 'a refused write changed nothing');
});

test('request bodies must be JSON: other Content-Types are 415 and store nothing', async () => {
  const before = await systemHistoryTotal(node);
  const body = JSON.stringify(sampleResource('Patient'));
  for (const ct of [
    undefined, 'application/xml', 'application/fhir+xml', 'text/plain', 'text/html',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx',
    'application/fhir+json; charset=iso-8859-1', '',
  ]) {
    const c = await fhir(node, 'POST', 'Patient', { body, headers: { 'content-type': ct } });
    assertOutcome(c, 415);
    const u = await fhir(node, 'PUT', 'Patient/neg-1', {
      body: JSON.stringify(sampleResource('Patient', { id: 'neg-1', active: true })), headers: { 'content-type': ct },
    });
    assertOutcome(u, 415);
  }
  assert.equal(await systemHistoryTotal(node), before);
  // an XML body with an XML Content-Type
  const xml = '<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>';
  assertOutcome(await fhir(node, 'POST', 'Patient', { body: xml, headers: { 'content-type': 'application/fhir+xml' } }), 415);
  assert.equal(await systemHistoryTotal(node), before);
});

test('JSON Content-Types are accepted', async () => {
  for (const ct of [
    'application/fhir+json', 'application/json', 'application/fhir+json; charset=utf-8',
    'application/fhir+json;charset=UTF-8', 'application/json; fhirVersion=4.0', 'Application/FHIR+JSON',
  ]) {
    const r = await fhir(node, 'POST', 'Patient', { body: sampleResource('Patient'), headers: { 'content-type': ct } });
    assert.equal(r.status, 201, `Content-Type ${ct}: ${r.text.slice(0, 200)}`);
  }
});

test('errors are JSON OperationOutcomes whatever was asked for', async () => {
  const r = await fhir(node, 'GET', 'Patient/not-there', { headers: { accept: 'application/fhir+json' } });
  assertOutcome(r, 404);
  const u = await fhir(node, 'GET', 'Patient/neg-1', { token: null, headers: { accept: 'application/fhir+xml' } });
  assert.ok([401, 406].includes(u.status));
  assertOutcome(u, u.status);
});
