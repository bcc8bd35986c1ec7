// badinput.test.mjs: every kind of bad input gets a 4xx with an
// OperationOutcome naming the problem (and the element, as a FHIRPath
// location, where there is one), and changes nothing: after each case the
// system history total is unchanged and the server still answers.
//
// The cases are a table: name, request, expected status, issue code(s) and
// expression. A case without 'expression' does not check it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, assertOutcome, assertAlive, systemHistoryTotal, sampleResource, NHS_SYSTEM, SUPPORTED_TYPES,
} from './lib.mjs';

let node;     // default limits (8 MiB body, depth 64)
let small;    // max_body_bytes 2048, max_json_depth 8

before(async () => {
  [node, small] = await Promise.all([
    startNode(),
    startNode({ config: { max_body_bytes: 2048, max_json_depth: 8 } }),
  ]);
  // something in the store, so "unchanged" means something
  for (const n of [node, small]) {
    const r = await fhir(n, 'PUT', 'Patient/existing', { body: sampleResource('Patient', { id: 'existing' }) });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => { await Promise.all([node?.close(), small?.close()]); });

const pat = (extra) => JSON.stringify({ resourceType: 'Patient', ...extra });
const obs = (extra) => JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });
const nhs = (value) => pat({ identifier: [{ system: NHS_SYSTEM, value }] });

// The NHS number check digit (DOMAIN.md: Modulus 11); null when the nine
// digits have no valid check digit.
function nhsCheckDigit(nine) {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
  const c = 11 - (sum % 11);
  if (c === 11) return 0;
  if (c === 10) return null;
  return c;
}
// nine digits whose check digit would be 10: no NHS number starts with them
let noCheck = 100000000;
while (nhsCheckDigit(String(noCheck)) !== null) noCheck++;

const INVALID = ['invalid', 'structure', 'value', 'required', 'processing', 'not-supported', 'too-long', 'too-costly', 'business-rule'];
const STRUCT = ['structure', 'invalid'];
const VALUE = ['value', 'invalid', 'structure'];
const REQUIRED = ['required', 'invalid', 'structure'];

// [name, {method, path, body, headers}, status, codes, expression]
const CASES = [
  // malformed JSON
  ['unclosed object', { body: '{' }, 400, STRUCT],
  ['trailing comma', { body: '{"resourceType":"Patient",}' }, 400, STRUCT],
  ['truncated', { body: '{"resourceType":"Patient","active":tr' }, 400, STRUCT],
  ['single quotes', { body: "{'resourceType':'Patient'}" }, 400, STRUCT],
  ['unquoted key', { body: '{resourceType:"Patient"}' }, 400, STRUCT],
  ['garbage after the object', { body: '{"resourceType":"Patient"} {"x":1}' }, 400, STRUCT],
  ['empty body', { body: '' }, 400, INVALID],
  ['whitespace body', { body: '  \n ' }, 400, INVALID],
  ['NaN', { body: '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":NaN}}' }, 400, STRUCT],
  ['invalid UTF-8', { body: Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]) }, 400, INVALID],
  ['overlong UTF-8', { body: Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}]}')]) }, 400, INVALID],
  ['raw control character in a string', { body: '{"resourceType":"Patient","name":[{"family":"a\u0001b"}]}' }, 400, INVALID],
  ['NUL escape in a string', { body: '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}' }, 400, INVALID],
  ['lone surrogate escape', { body: '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}' }, 400, INVALID],
  ['bad escape', { body: '{"resourceType":"Patient","name":[{"family":"\\q"}]}' }, 400, STRUCT],
  ['byte order mark', { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(pat({}))]) }, 400, INVALID],

  // not an object
  ['JSON array', { body: '[{"resourceType":"Patient"}]' }, 400, INVALID],
  ['JSON string', { body: '"Patient"' }, 400, INVALID],
  ['JSON number', { body: '42' }, 400, INVALID],
  ['JSON null', { body: 'null' }, 400, INVALID],
  ['JSON true', { body: 'true' }, 400, INVALID],

  // resourceType
  ['missing resourceType', { body: '{"active":true}' }, 400, INVALID],
  ['empty object', { body: '{}' }, 400, INVALID],
  ['resourceType of another type', { path: 'Patient', body: obs({}) }, 400, INVALID],
  ['resourceType lower case', { body: '{"resourceType":"patient"}' }, 400, INVALID],
  ['resourceType a number', { body: '{"resourceType":42}' }, 400, INVALID],
  ['resourceType empty', { body: '{"resourceType":""}' }, 400, INVALID],
  ['resourceType unsupported', { body: '{"resourceType":"Account"}' }, 400, INVALID],
  ['resourceType twice', { body: '{"resourceType":"Patient","resourceType":"Patient"}' }, 400, INVALID],
  ['PUT resourceType of another type', { method: 'PUT', path: 'Patient/existing', body: obs({ id: 'existing' }) }, 400, INVALID],

  // unknown resource types in the URL
  ['POST unsupported type', { path: 'Account', body: '{"resourceType":"Account","status":"active"}' }, 404, INVALID.concat('not-found')],
  ['POST non-type', { path: 'Foo', body: '{"resourceType":"Foo"}' }, 404, INVALID.concat('not-found')],
  ['POST lower-case type', { path: 'patient', body: pat({}) }, 404, INVALID.concat('not-found')],
  ['PUT unsupported type', { method: 'PUT', path: 'Account/a1', body: '{"resourceType":"Account","id":"a1","status":"active"}' }, 404, INVALID.concat('not-found')],
  ['GET unsupported type', { method: 'GET', path: 'Account/a1' }, 404, INVALID.concat('not-found')],
  ['DELETE unsupported type', { method: 'DELETE', path: 'Account/a1' }, 404, INVALID.concat('not-found')],
  ['GET unsupported type history', { method: 'GET', path: 'Bundle/_history' }, 404, INVALID.concat('not-found')],
  ['path outside /fhir', { method: 'GET', path: '/nothing-here' }, 404, INVALID.concat('not-found')],
  ['too many path segments', { method: 'GET', path: 'Patient/existing/_history/1/extra' }, 404, INVALID.concat('not-found')],

  // ids
  ['body id differs from URL id', { method: 'PUT', path: 'Patient/existing', body: pat({ id: 'other' }) }, 400, INVALID],
  ['body id missing on update', { method: 'PUT', path: 'Patient/existing', body: pat({}) }, 400, INVALID],
  ['id with an underscore', { method: 'PUT', path: 'Patient/bad_id', body: pat({ id: 'bad_id' }) }, 400, VALUE],
  ['id with a space', { method: 'PUT', path: 'Patient/bad%20id', body: pat({ id: 'bad id' }) }, 400, VALUE],
  ['id of 65 characters', { method: 'PUT', path: `Patient/${'a'.repeat(65)}`, body: pat({ id: 'a'.repeat(65) }) }, 400, VALUE],
  ['id a number', { method: 'PUT', path: 'Patient/123', body: '{"resourceType":"Patient","id":123}' }, 400, VALUE],

  // invalid primitives
  ['date month 13', { body: pat({ birthDate: '2020-13-01' }) }, 400, VALUE, 'Patient.birthDate'],
  ['date 30 February', { body: pat({ birthDate: '2021-02-30' }) }, 400, VALUE, 'Patient.birthDate'],
  ['date without dashes', { body: pat({ birthDate: '20200101' }) }, 400, VALUE, 'Patient.birthDate'],
  ['date with a time', { body: pat({ birthDate: '2020-01-01T00:00:00Z' }) }, 400, VALUE, 'Patient.birthDate'],
  ['date a number', { body: '{"resourceType":"Patient","birthDate":20200101}' }, 400, VALUE, 'Patient.birthDate'],
  ['dateTime hour 25', { body: obs({ effectiveDateTime: '2020-01-01T25:00:00Z' }) }, 400, VALUE, 'Observation.effectiveDateTime'],
  ['dateTime without zone', { body: obs({ effectiveDateTime: '2020-01-01T10:00:00' }) }, 400, VALUE, 'Observation.effectiveDateTime'],
  ['dateTime without seconds', { body: obs({ effectiveDateTime: '2020-01-01T10:00Z' }) }, 400, VALUE, 'Observation.effectiveDateTime'],
  ['dateTime garbage', { body: obs({ effectiveDateTime: 'yesterday' }) }, 400, VALUE, 'Observation.effectiveDateTime'],
  ['instant without time', { body: obs({ issued: '2020-01-01' }) }, 400, VALUE, 'Observation.issued'],
  ['instant without zone', { body: obs({ issued: '2020-01-01T10:00:00.000' }) }, 400, VALUE, 'Observation.issued'],
  ['dateTime in a nested element', { body: pat({ name: [{ family: 'A', period: { start: '2020-02-30' } }] }) }, 400, VALUE, 'Patient.name[0].period.start'],
  ['code with a leading space', { body: pat({ gender: ' male' }) }, 400, VALUE, 'Patient.gender'],
  ['code with a trailing space', { body: pat({ gender: 'male ' }) }, 400, VALUE, 'Patient.gender'],
  ['code with a double space', { body: obs({ status: 'final', code: { coding: [{ code: 'a  b' }] } }) }, 400, VALUE, 'Observation.code.coding[0].code'],
  ['boolean as string', { body: pat({ active: 'true' }) }, 400, VALUE, 'Patient.active'],
  ['boolean as "yes"', { body: pat({ active: 'yes' }) }, 400, VALUE, 'Patient.active'],
  ['boolean as number', { body: pat({ active: 1 }) }, 400, VALUE, 'Patient.active'],
  ['integer as string', { body: pat({ multipleBirthInteger: '2' }) }, 400, VALUE, 'Patient.multipleBirthInteger'],
  ['integer with a fraction', { body: pat({ multipleBirthInteger: 1.5 }) }, 400, VALUE, 'Patient.multipleBirthInteger'],
  ['integer beyond 32 bits', { body: pat({ multipleBirthInteger: 4294967296 }) }, 400, VALUE, 'Patient.multipleBirthInteger'],
  ['decimal as string', { body: obs({ valueQuantity: { value: '1.5' } }) }, 400, VALUE, 'Observation.valueQuantity.value'],
  ['positiveInt zero', { body: JSON.stringify({ ...sampleResource('Appointment'), minutesDuration: 0 }) }, 400, VALUE, 'Appointment.minutesDuration'],
  ['unsignedInt negative', { body: JSON.stringify(sampleResource('DocumentReference', { content: [{ attachment: { contentType: 'text/plain', size: -1 } }] })) }, 400, VALUE, 'DocumentReference.content[0].attachment.size'],
  ['base64Binary not base64', { body: JSON.stringify(sampleResource('DocumentReference', { content: [{ attachment: { contentType: 'text/plain', data: 'not base64!' } }] })) }, 400, VALUE, 'DocumentReference.content[0].attachment.data'],
  ['uri with a space', { body: pat({ identifier: [{ system: 'http://example.org/a b', value: '1' }] }) }, 400, VALUE, 'Patient.identifier[0].system'],
  ['string a number', { body: pat({ name: [{ family: 42 }] }) }, 400, VALUE, 'Patient.name[0].family'],

  // NHS numbers (Modulus 11) under https://fhir.nhs.uk/Id/nhs-number
  ['NHS number with a wrong check digit', { body: nhs('9434765918') }, 400, VALUE, 'Patient.identifier[0].value'],
  ['NHS number whose check digit would be 10', { body: nhs(`${noCheck}0`) }, 400, VALUE, 'Patient.identifier[0].value'],
  ['NHS number of nine digits', { body: nhs('943476591') }, 400, VALUE, 'Patient.identifier[0].value'],
  ['NHS number of eleven digits', { body: nhs('94347659190') }, 400, VALUE, 'Patient.identifier[0].value'],
  ['NHS number with spaces', { body: nhs('943 476 5919') }, 400, VALUE, 'Patient.identifier[0].value'],
  ['NHS number with letters', { body: nhs('94347659AB') }, 400, VALUE, 'Patient.identifier[0].value'],
  ['NHS number in the second identifier', { body: pat({ identifier: [{ system: 'https://example.org/mrn', value: '1' }, { system: NHS_SYSTEM, value: '9434765918' }] }) }, 400, VALUE, 'Patient.identifier[1].value'],
  ['NHS number in a reference identifier', { body: obs({ subject: { identifier: { system: NHS_SYSTEM, value: '9434765918' } } }) }, 400, VALUE, 'Observation.subject.identifier.value'],

  // unknown elements
  ['unknown element', { body: pat({ foo: 1 }) }, 400, STRUCT, 'Patient.foo'],
  ['unknown nested element', { body: pat({ name: [{ family: 'A', foo: 'b' }] }) }, 400, STRUCT, 'Patient.name[0].foo'],
  ['unknown element deep in a backbone', { body: obs({ component: [{ code: { text: 'a' }, valueFoo: 1 }] }) }, 400, STRUCT, 'Observation.component[0].valueFoo'],
  ['unknown choice type', { body: obs({ valueFoo: 'x' }) }, 400, STRUCT, 'Observation.valueFoo'],
  ['element of another type', { body: pat({ status: 'final' }) }, 400, STRUCT, 'Patient.status'],
  ['two choices of one element', { body: obs({ valueString: 'a', valueBoolean: true }) }, 400, INVALID],
  ['element name in the wrong case', { body: pat({ BirthDate: '1970-01-01' }) }, 400, STRUCT, 'Patient.BirthDate'],
  ['unknown underscore element', { body: pat({ _foo: { extension: [] } }) }, 400, STRUCT],

  // required elements
  ['Observation without status', { body: JSON.stringify({ resourceType: 'Observation', code: { text: 'x' } }) }, 400, REQUIRED, 'Observation.status'],
  ['Observation without code', { body: JSON.stringify({ resourceType: 'Observation', status: 'final' }) }, 400, REQUIRED, 'Observation.code'],
  ['Encounter without class', { path: 'Encounter', body: JSON.stringify({ resourceType: 'Encounter', status: 'planned' }) }, 400, REQUIRED, 'Encounter.class'],
  ['required element in a backbone', { body: pat({ link: [{ type: 'seealso' }] }) }, 400, REQUIRED, 'Patient.link[0].other'],
  ['extension without url', { body: pat({ extension: [{ valueString: 'x' }] }) }, 400, REQUIRED, 'Patient.extension[0].url'],
  ['required element null', { body: '{"resourceType":"Observation","status":null,"code":{"text":"x"}}' }, 400, INVALID],

  // wrong JSON types and cardinality
  ['name an object, not an array', { body: pat({ name: { family: 'A' } }) }, 400, STRUCT, 'Patient.name'],
  ['name an array of strings', { body: pat({ name: ['Smith'] }) }, 400, STRUCT, 'Patient.name[0]'],
  ['gender an array', { body: pat({ gender: ['male'] }) }, 400, STRUCT, 'Patient.gender'],
  ['gender a number', { body: pat({ gender: 1 }) }, 400, VALUE, 'Patient.gender'],
  ['maritalStatus a string', { body: pat({ maritalStatus: 'M' }) }, 400, STRUCT, 'Patient.maritalStatus'],
  ['text.div a number', { body: pat({ text: { status: 'generated', div: 1 } }) }, 400, INVALID, 'Patient.text.div'],
  ['active null', { body: '{"resourceType":"Patient","active":null}' }, 400, INVALID, 'Patient.active'],
  ['meta a string', { body: pat({ meta: 'x' }) }, 400, STRUCT, 'Patient.meta'],

  // empty values
  ['empty string', { body: pat({ name: [{ family: '' }] }) }, 400, INVALID, 'Patient.name[0].family'],
  ['empty array', { body: pat({ name: [] }) }, 400, INVALID, 'Patient.name'],
  ['empty object in an array', { body: pat({ name: [{}] }) }, 400, INVALID, 'Patient.name[0]'],
  ['empty object', { body: pat({ maritalStatus: {} }) }, 400, INVALID, 'Patient.maritalStatus'],
  ['empty code', { body: pat({ gender: '' }) }, 400, INVALID, 'Patient.gender'],

  // duplicate keys
  ['duplicate key', { body: '{"resourceType":"Patient","active":true,"active":false}' }, 400, INVALID],
  ['duplicate key in a nested object', { body: '{"resourceType":"Patient","name":[{"family":"A","family":"B"}]}' }, 400, INVALID],
  ['duplicate id', { method: 'PUT', path: 'Patient/existing', body: '{"resourceType":"Patient","id":"existing","id":"other"}' }, 400, INVALID],
];

// POST to the type the body names, when it is a supported one.
function defaultPath(body) {
  try {
    const t = JSON.parse(body).resourceType;
    if (SUPPORTED_TYPES.includes(t)) return t;
  } catch { /* not JSON: any type will do */ }
  return 'Patient';
}

// Run one case against 'n' and check the answer and that nothing changed.
async function runCase(n, [name, req, status, codes, expression]) {
  const before = await systemHistoryTotal(n);
  const method = req.method || 'POST';
  const p = req.path || defaultPath(req.body);
  let r;
  try {
    r = await fhir(n, method, p, { body: req.body, headers: req.headers });
  } catch (e) {
    e.message = `${name}: ${e.message}`;
    throw e;
  }
  try {
    const want = Array.isArray(status) && status.includes(r.status) ? r.status : status;
    assertOutcome(r, Array.isArray(want) ? want[0] : want, { code: codes, expression });
  } catch (e) {
    e.message = `${name} (${method} ${p}): ${e.message}`;
    throw e;
  }
  assert.equal(await systemHistoryTotal(n), before, `${name}: the store changed`);
  await assertAlive(n);
  const g = await fhir(n, 'GET', 'Patient/existing');
  assert.equal(g.headers.etag, 'W/"1"', `${name}: Patient/existing changed`);
}

for (const c of CASES) {
  test(`bad input: ${c[0]}`, async () => { await runCase(node, c); });
}

test('valid NHS numbers are accepted (so the rejections above are about the check digit)', async () => {
  for (const v of ['9434765919', '9000000009', '4010232137']) {
    const r = await fhir(node, 'POST', 'Patient', { body: nhs(v) });
    assert.equal(r.status, 201, `${v}: ${r.text}`);
  }
  // another system's identifier is not checked as an NHS number
  const other = await fhir(node, 'POST', 'Patient', { body: pat({ identifier: [{ system: 'https://example.org/mrn', value: '9434765918' }] }) });
  assert.equal(other.status, 201);
});

test('valid primitives that look odd are accepted', async () => {
  for (const body of [
    pat({ birthDate: '2020' }), pat({ birthDate: '2020-02' }), pat({ birthDate: '2024-02-29' }),
    obs({ effectiveDateTime: '2020-01-01T10:00:00.123+05:30' }), obs({ effectiveDateTime: '2020' }),
    obs({ issued: '2020-01-01T10:00:00Z' }), obs({ valueQuantity: { value: -0.0001e3 } }),
    pat({ multipleBirthInteger: -2147483648 }), pat({ name: [{ family: 'O\'Brien  Smith' }] }),
    pat({ _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] } }),
    pat({ gender: 'other', _gender: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] } }),
  ]) {
    const r = await fhir(node, 'POST', /"Observation"/.test(body) ? 'Observation' : 'Patient', { body });
    assert.equal(r.status, 201, `${body}: ${r.text}`);
  }
});

test('an error names every problem it finds or at least the first, with severity error', async () => {
  const r = await fhir(node, 'POST', 'Patient', { body: pat({ foo: 1, birthDate: '2020-13-01' }) });
  const oo = assertOutcome(r, 400);
  const exprs = oo.issue.flatMap((i) => i.expression || []);
  assert.ok(exprs.includes('Patient.foo') || exprs.includes('Patient.birthDate'), JSON.stringify(oo));
});

// ---- limits ----------------------------------------------------------------

// A valid Patient of exactly 'size' bytes.
function patientOfSize(size) {
  const skel = pat({ name: [{ family: '' }] });
  const pad = size - Buffer.byteLength(skel);
  assert.ok(pad > 0);
  return pat({ name: [{ family: 'x'.repeat(pad) }] });
}

test('body size limit (max_body_bytes 2048): 2048 bytes accepted, 2049 refused with 413', async () => {
  const ok = patientOfSize(2048);
  assert.equal(Buffer.byteLength(ok), 2048);
  const r = await fhir(small, 'POST', 'Patient', { body: ok });
  assert.equal(r.status, 201, r.text);
  for (const [label, body, opts] of [
    ['2049 bytes', patientOfSize(2049), {}],
    ['1 MiB', patientOfSize(1 << 20), {}],
    ['2049 bytes chunked', patientOfSize(2049), { chunked: true }],
    ['1 MiB chunked', patientOfSize(1 << 20), { chunked: true }],
  ]) {
    await runCase(small, [label, { body, ...opts }, 413, ['too-long', 'too-costly', 'invalid', 'structure']]);
    await runCase(small, [`PUT ${label}`, { method: 'PUT', path: 'Patient/existing', body, ...opts }, 413, ['too-long', 'too-costly', 'invalid', 'structure']]);
  }
});

test('body size limit: chunked bodies under the limit are fine', async () => {
  const r = await fhir(small, 'POST', 'Patient', { body: patientOfSize(2000), chunked: true });
  assert.equal(r.status, 201, r.text);
});

test('body size limit (default 8 MiB): a 9 MiB body is refused with 413', async () => {
  const big = patientOfSize(9 * 1024 * 1024);
  await runCase(node, ['9 MiB', { body: big }, 413, ['too-long', 'too-costly', 'invalid', 'structure']]);
  await runCase(node, ['9 MiB chunked', { body: big, chunked: true }, 413, ['too-long', 'too-costly', 'invalid', 'structure']]);
  // and a large body under the limit is accepted
  const r = await fhir(node, 'POST', 'Patient', { body: patientOfSize(1024 * 1024) });
  assert.equal(r.status, 201);
});

// {"resourceType":"Patient","extension":[{"url":"u","extension":[ ... ]}]}
// nested 'levels' extensions deep: JSON depth 2 * levels + 1.
function nestedExtensions(levels) {
  let inner = '{"url":"http://example.org/e","valueString":"leaf"}';
  for (let i = 1; i < levels; i++) inner = `{"url":"http://example.org/e","extension":[${inner}]}`;
  return `{"resourceType":"Patient","extension":[${inner}]}`;
}

test('JSON depth limit (max_json_depth 8): valid FHIR nested deeper is refused', async () => {
  // depth 7: Patient{ extension[ {url, extension[ {url, valueString} ]} ] } with 3 levels
  const shallow = await fhir(small, 'POST', 'Patient', { body: nestedExtensions(3) });
  assert.equal(shallow.status, 201, `depth 7 is within the limit: ${shallow.text}`);
  for (const levels of [5, 12]) {
    await runCase(small, [`nested ${levels} extensions`, { body: nestedExtensions(levels) }, 400, INVALID]);
  }
});

test('JSON depth limit (default 64): deeply nested JSON is refused without a crash', async () => {
  const ok = await fhir(node, 'POST', 'Patient', { body: nestedExtensions(20) });
  assert.equal(ok.status, 201, `depth 41 is within 64: ${ok.text}`);
  await runCase(node, ['nested 40 extensions', { body: nestedExtensions(40) }, 400, INVALID]);
  for (const depth of [65, 1000, 100000]) {
    const arrays = `{"resourceType":"Patient","foo":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    await runCase(node, [`${depth} nested arrays`, { body: arrays }, 400, INVALID]);
    const objects = `{"resourceType":"Patient","foo":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    await runCase(node, [`${depth} nested objects`, { body: objects }, 400, INVALID]);
  }
  // unbalanced: opening brackets only
  await runCase(node, ['100000 open brackets', { body: `{"resourceType":"Patient","foo":${'['.repeat(100000)}` }, 400, INVALID]);
});

test('many elements and long strings within the limits are fine', async () => {
  const names = Array.from({ length: 2000 }, (_, i) => ({ family: `F${i}`, given: ['G'] }));
  const r = await fhir(node, 'POST', 'Patient', { body: pat({ name: names }) });
  assert.equal(r.status, 201, r.text.slice(0, 300));
  const g = await fhir(node, 'GET', `Patient/${r.json.id}`);
  assert.equal(g.json.name.length, 2000);
});

test('the servers are still alive and answering after all of that', async () => {
  await assertAlive(node);
  await assertAlive(small);
  assert.equal(node.exitCode, null);
  assert.equal(small.exitCode, null);
  // no request ever got a 5xx
  for (const n of [node, small]) {
    const fives = n.logRecords().filter((l) => typeof l.status === 'number' && l.status >= 500 && l.status !== 501);
    assert.deepEqual(fives, [], 'no 5xx in the request log');
    const crashes = n.logs().filter((l) => /AddressSanitizer|runtime error|Segmentation/.test(l));
    assert.deepEqual(crashes, []);
  }
});

// ---- paths and HTTP framing --------------------------------------------------

// A percent-encoded NUL must not truncate the id or the type: each path
// names something other than Patient/<victim>, which is in the store and
// must be left alone.
const ODD_PATHS = [
  ['GET', (v) => `/fhir/Patient/${v}%00b`],
  ['GET', (v) => `/fhir/Patient/${v}%00b/_history/1`],
  ['DELETE', (v) => `/fhir/Patient/${v}%00b`],
  ['PUT', (v) => `/fhir/Patient/${v}%00b`],
  ['GET', (v) => `/fhir/Patient%00xyz/${v}`],
  ['GET', () => '/fhir/Patient/%zz'],
  ['GET', () => `/fhir/Patient/${'a'.repeat(20000)}`],
  ['GET', (v) => `/fhir/Patient/${v}%20`],
];
ODD_PATHS.forEach(([m, mk], i) => {
  const victim = `victim-${i}`;
  const p = mk(victim);
  test(`odd path: ${m} ${p.slice(0, 50)}`, async () => {
    const put = await fhir(node, 'PUT', `Patient/${victim}`, { body: sampleResource('Patient', { id: victim }) });
    assert.equal(put.status, 201);
    const before = await systemHistoryTotal(node);
    const r = await fhir(node, m, p, { body: m === 'PUT' ? pat({ id: victim }) : undefined });
    assert.ok([400, 404].includes(r.status), `${m} ${p.slice(0, 60)} → ${r.status} ${r.text.slice(0, 200)}`);
    assertOutcome(r, r.status);
    assert.equal(await systemHistoryTotal(node), before, 'the store changed');
    const g = await fhir(node, 'GET', `Patient/${victim}`);
    assert.equal(g.status, 200, `Patient/${victim} was deleted`);
    assert.equal(g.headers.etag, 'W/"1"', `Patient/${victim} was changed`);
    await assertAlive(node);
  });
});

test('HTTP framing errors: 4xx (never 5xx), and the server stays up', async () => {
  const { rawRequest } = await import('./lib.mjs');
  for (const raw of [
    'GARBAGE\r\n\r\n',
    `GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200000)}\r\n\r\n`,
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{"resource',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: abc\r\n\r\n{}',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  ]) {
    const before = await systemHistoryTotal(node);
    const text = await rawRequest(node, raw, { wait: 3000 });
    const status = Number((/^HTTP\/1\.[01] (\d{3})/.exec(text) || [])[1] || 0);
    assert.ok(status === 0 || (status >= 400 && status < 500), `${JSON.stringify(raw.slice(0, 50))} → ${text.split('\r\n')[0]}`);
    assert.equal(await systemHistoryTotal(node), before);
    await assertAlive(node);
  }
});

// A client that sends its request and half-closes at once: the request
// waits (suspended) for its audit record, and the transport may find the
// connection closed when it resumes it. The answer set aside for it must
// still be released (the sanitizer build reports leaks when the node
// stops), and the server stays up. Racy by nature, so many times over.
// Requests wait so on a node without the audit journal (with it, only
// when the journal cannot take a record), and writes wait on both.
test('clients that leave while their request waits for its audit record: nothing leaks, the server stays up', async () => {
  const { rawRequest, startNode } = await import('./lib.mjs');
  const unjournaled = await startNode({ config: { audit: { journal: false } } });
  try {
    for (const n of [node, unjournaled]) {
      const token = n.token();
      await Promise.all(Array.from({ length: 8 }, async (_, k) => {
        for (let i = 0; i < 10; i++) {
          await rawRequest(n, `GET /fhir/Patient/existing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`, { wait: 2000 });
          await rawRequest(n, `POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 2\r\n\r\n{}`, { wait: 2000 });
        }
      }));
      await assertAlive(n);
    }
  } finally {
    await unjournaled.close();
  }
});
