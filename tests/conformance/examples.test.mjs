// examples.test.mjs: HL7's official R4 examples (npm hl7.fhir.r4.examples)
// for every supported type go in through the API and come back out the
// same, plus server meta.
//
// Each <Type>-<id>.json is PUT to /fhir/<Type>/<id> (create-on-update):
// 201, then GET gives a resource deep-equal to the file apart from
// meta.versionId and meta.lastUpdated (present, server-set), and the
// answer validates against the R4 schema. A second PUT updates it (200,
// version 2, same content).
//
// A few official examples are not valid R4; the server rightly refuses
// them with 400 and an OperationOutcome naming the element. They are listed
// here with the reason; any other refusal fails the test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, startNode, fhir, assertOutcome, validateFhir, withoutServerMeta, SUPPORTED_TYPES,
} from '../integration/lib.mjs';

const DIR = path.join(ROOT, 'node_modules/hl7.fhir.r4.examples');

const EXPECTED_REJECTIONS = {
  'Questionnaire-qs1.json': {
    reason: 'item[0].item[0] has no linkId; Questionnaire.item.linkId is 1..1 in R4',
    expression: 'Questionnaire.item[0].item[0].linkId',
  },
};

const files = fs.readdirSync(DIR)
  .filter((f) => {
    const m = /^([A-Za-z]+)-(.+)\.json$/.exec(f);
    return m && SUPPORTED_TYPES.includes(m[1]);
  })
  .sort();

let node;
before(async () => { node = await startNode(); });
after(async () => { await node?.close(); });

test('the examples package has examples for the supported types', () => {
  assert.ok(files.length >= 300, `${files.length} example files`);
  const types = new Set(files.map((f) => f.split('-')[0]));
  assert.ok(types.size >= 30, `examples for ${types.size} types`);
  for (const f of Object.keys(EXPECTED_REJECTIONS)) assert.ok(files.includes(f), `${f} exists`);
});

const stored = new Map(); // type -> count

for (const f of files) {
  test(`round trip ${f}`, async () => {
    const text = fs.readFileSync(path.join(DIR, f), 'utf8');
    const input = JSON.parse(text);
    const type = f.split('-')[0];
    assert.equal(input.resourceType, type, 'the file name names the type');
    const { id } = input;
    assert.equal(`${type}-${id}.json`, f, 'the file name names the id');
    const url = `${type}/${id}`;

    // the file's own bytes, as HL7 wrote them
    const put = await fhir(node, 'PUT', url, { body: text });
    const expected = EXPECTED_REJECTIONS[f];
    if (expected) {
      assertOutcome(put, 400, { expression: expected.expression });
      assertOutcome(await fhir(node, 'GET', url), 404);
      return;
    }
    assert.equal(put.status, 201, `PUT ${url}: ${put.text.slice(0, 500)}`);
    assert.equal(put.headers.etag, 'W/"1"');
    assert.equal(put.headers.location, `${node.fhirBase}/${url}/_history/1`);
    stored.set(type, (stored.get(type) || 0) + 1);

    const get = await fhir(node, 'GET', url);
    assert.equal(get.status, 200);
    const out = get.json;
    validateFhir(out);
    assert.equal(out.meta?.versionId, '1', 'meta.versionId');
    assert.match(out.meta?.lastUpdated || '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    if (input.meta?.lastUpdated) assert.notEqual(out.meta.lastUpdated, input.meta.lastUpdated, 'lastUpdated is the server\'s');
    assert.deepStrictEqual(withoutServerMeta(out), withoutServerMeta(input));
    assert.deepStrictEqual(put.json, out, 'the PUT answer is what is stored');

    // update with the same content: version 2, content unchanged
    const upd = await fhir(node, 'PUT', url, { body: text });
    assert.equal(upd.status, 200, `second PUT ${url}: ${upd.text.slice(0, 300)}`);
    assert.equal(upd.json.meta.versionId, '2');
    assert.deepStrictEqual(withoutServerMeta(upd.json), withoutServerMeta(input));
  });
}

test('type history counts every stored example twice (create and update)', async () => {
  for (const [type, n] of stored) {
    const h = await fhir(node, 'GET', `${type}/_history?_count=0`);
    assert.equal(h.json.total, 2 * n, `${type}: ${h.json.total} versions for ${n} examples`);
  }
});

test('a whole history page of examples validates as a Bundle', async () => {
  const h = await fhir(node, 'GET', '_history?_count=1000');
  assert.equal(h.status, 200);
  assert.ok(h.json.total >= 600, `total ${h.json.total}`);
  assert.equal(h.json.entry.length, Math.min(h.json.total, 1000));
  validateFhir(h.json);
});
