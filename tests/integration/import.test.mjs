// import.test.mjs: `carerecord import` (bulk NDJSON, plain or gzip) end to
// end: generate a node's data with `carerecord synth`, import it into a
// fresh data directory, start a server there and check every resource is
// stored with its id and bytes, indexed (search, chains, _revinclude,
// $everything), and marked with its publisher; bad lines are reported as
// FILE:LINE: reason on stderr and skipped (exit status 1), never
// half-written; re-importing updates; a later line for the same id wins.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  startNode, fhir, runBin, tempDir, mintToken, withoutServerMeta, entryRefs, walkPages, NHS_SYSTEM,
} from './lib.mjs';

const PUBLISHER = 'https://carerecord.example/publisher';
const SENSITIVE = ['52637005', '63487001', '58533008', '407374003', '93461009',
  '105629000', '15628003', '76272004', '386639001', '714812005'];

const publisherOf = (res) => res.meta?.tag?.find((t) => t.system === PUBLISHER)?.code;

// What a search finds for the source system of each publishing
// organisation, together: under the access policy a system sees only
// what its own organisation published, so the union is everything.
async function asPublishers(node, orgs, first) {
  const got = new Map();
  for (const org of orgs) {
    const headers = { authorization: `Bearer ${mintToken(node.dataDir, { org, sub: `sys-${org}` })}` };
    for (const page of await walkPages(node, first, { headers })) {
      for (const e of page.entry || []) {
        if (e.resource.resourceType !== 'OperationOutcome') got.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
      }
    }
  }
  return got;
}
const SUMMARY = /^imported (\d+) resources from (\d+) file\(s\) in [\d.]+ s \(\d+ resources\/s\); (\d+) bad line\(s\) skipped$/m;

let work;        // temporary directory
let synthDir;    // carerecord synth output
let nel;         // type -> resources of the nel node
let nelFiles;

function readNdjson(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function runImport(dataDir, files, extra = []) {
  return runBin(['import', '--data', dataDir, ...extra, ...files], { timeout: 60000 });
}

before(() => {
  work = tempDir('cr-import-');
  synthDir = path.join(work, 'synth');
  const s = runBin(['synth', '--patients', '50', '--seed', '3', '--out', synthDir]);
  assert.equal(s.status, 0, s.stderr);
  nelFiles = fs.readdirSync(path.join(synthDir, 'nel')).filter((f) => f.endsWith('.ndjson')).map((f) => path.join(synthDir, 'nel', f));
  nel = {};
  for (const f of nelFiles) nel[path.basename(f, '.ndjson')] = readNdjson(f);
});

test('a synthetic node imports whole: every resource stored with its id and bytes, and searchable', async () => {
  const dataDir = path.join(work, 'data-nel');
  const all = Object.values(nel).flat();
  const r = runImport(dataDir, nelFiles, ['-q', '--workers', '2']);
  assert.equal(r.status, 0, r.stderr);
  const m = SUMMARY.exec(r.stdout);
  assert.ok(m, `summary line: ${r.stdout}`);
  assert.equal(Number(m[1]), all.length);
  assert.equal(Number(m[2]), nelFiles.length);
  assert.equal(Number(m[3]), 0);
  assert.equal(r.stderr.trim(), '', '-q: nothing on stderr when all is well');

  const node = await startNode({ dataDir, claims: { org: 'RKE' } });
  try {
    // every resource, by type: the same content plus server meta, version 1
    const orgs = [...new Set(all.map(publisherOf))];
    for (const [type, list] of Object.entries(nel)) {
      const got = new Map([...(await asPublishers(node, orgs, `${type}?_count=1000`)).values()].map((r) => [r.id, r]));
      assert.equal(got.size, list.length, `${type}: ${got.size} stored, ${list.length} in the file`);
      for (const res of list) {
        const g = got.get(res.id);
        assert.ok(g, `${type}/${res.id} stored under its own id`);
        assert.equal(g.meta.versionId, '1');
        assert.deepEqual(withoutServerMeta(g), res, `${type}/${res.id} as in the file`);
      }
    }
    // indexes: identifier, reference, chain, publisher tag, _revinclude,
    // read as a clinician of the patient's GP practice (a patient with no
    // objection and no legally sensitive items, so nothing is withheld)
    const mentioning = (p) => all.filter((x) => x.resourceType !== 'Patient' && JSON.stringify(x).includes(`"Patient/${p.id}"`));
    const pat = nel.Patient.find((p) => p.generalPractitioner && !mentioning(p).some((x) => x.resourceType === 'Consent'
      || SENSITIVE.some((c) => JSON.stringify(x).includes(`"${c}"`))));
    assert.ok(pat, 'a patient with nothing withheld');
    const gp = pat.generalPractitioner[0].reference.split('/')[1];
    const token = mintToken(node.dataDir, { sub: 'gp-1', org: gp, role: 'R8000', purpose: 'direct-care' });
    const nhs = pat.identifier.find((i) => i.system === NHS_SYSTEM).value;
    let s = await fhir(node, 'GET', `Patient?identifier=${NHS_SYSTEM}|${nhs}`, { token });
    assert.deepEqual(entryRefs(s.json), [`Patient/${pat.id}`]);
    const encs = nel.Encounter.filter((e) => e.subject?.reference === `Patient/${pat.id}`).map((e) => e.id).sort();
    s = await fhir(node, 'GET', `Encounter?subject=Patient/${pat.id}&_count=1000`, { token });
    assert.deepEqual(s.json.entry?.map((e) => e.resource.id).sort() ?? [], encs);
    s = await fhir(node, 'GET', `Encounter?patient.identifier=${NHS_SYSTEM}|${nhs}&_count=1000`, { token });
    assert.deepEqual(s.json.entry?.map((e) => e.resource.id).sort() ?? [], encs);
    const tag = publisherOf(pat);
    const tagged = nel.Patient.filter((p) => publisherOf(p) === tag).map((p) => p.id).sort();
    const byTag = await asPublishers(node, [tag], `Patient?_tag=${PUBLISHER}|${tag}&_count=1000`);
    assert.deepEqual([...byTag.values()].map((r) => r.id).sort(), tagged);
    s = await fhir(node, 'GET', `Patient?_id=${pat.id}&_revinclude=Encounter:subject`, { token });
    assert.deepEqual(entryRefs(s.json, 'include').map((x) => x.split('/')[1]).sort(), encs);
    // the compartment: $everything holds every resource of the file that names the patient
    const ev = await fhir(node, 'GET', `Patient/${pat.id}/$everything`, { token });
    assert.equal(ev.status, 200);
    const evRefs = new Set(entryRefs(ev.json, null));
    const mentions = all.filter((x) => x.resourceType !== 'Patient' && JSON.stringify(x).includes(`"Patient/${pat.id}"`)
      && ['Encounter', 'Condition', 'Observation', 'MedicationRequest', 'Immunization', 'AllergyIntolerance'].includes(x.resourceType));
    for (const x of mentions) assert.ok(evRefs.has(`${x.resourceType}/${x.id}`), `$everything has ${x.resourceType}/${x.id}`);
  } finally {
    await node.close();
  }
});

test('bad lines: reported as FILE:LINE: reason, skipped, exit status 1; the good ones stored', async () => {
  const dataDir = path.join(work, 'data-bad');
  const file = path.join(work, 'mixed.ndjson');
  const tag = { meta: { tag: [{ system: PUBLISHER, code: 'RKE' }] } };
  const lines = [
    /* 1 */ JSON.stringify({ resourceType: 'Patient', id: 'imp-ok-1', ...tag, name: [{ family: 'Good' }] }),
    /* 2 */ '{"resourceType":"Patient","id":"imp-bad-json",',
    /* 3 */ JSON.stringify({ resourceType: 'Observation', id: 'imp-ok-2', ...tag, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/imp-ok-1' } }),
    /* 4 */ JSON.stringify({ resourceType: 'Nonsense', id: 'imp-bad-type', ...tag }),
    /* 5 */ JSON.stringify({ resourceType: 'Observation', id: 'imp-bad-obs', ...tag, code: { text: 'no status' } }),
    /* 6 */ '',
    /* 7 */ JSON.stringify({ resourceType: 'Patient', id: 'bad id!', ...tag }),
    /* 8 */ '[1,2,3]',
    /* 9 */ JSON.stringify({ resourceType: 'Patient', id: 'imp-bad-date', ...tag, birthDate: '2020-13-45' }),
    /* 10 */ JSON.stringify({ resourceType: 'Patient', id: 'imp-no-publisher', name: [{ family: 'Untagged' }] }),
    /* 11 */ JSON.stringify({ resourceType: 'Patient', id: 'imp-bad-element', ...tag, name: [{ family: 'Zed' }], unknownElement: 1 }),
    /* 12 */ JSON.stringify({ resourceType: 'Patient', id: 'imp-ok-4', ...tag, name: [{ family: 'Last' }] }),
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const r = runImport(dataDir, [file], ['-q']);
  assert.equal(r.status, 1, `exit status 1 when a line was bad; stderr: ${r.stderr}`);
  const bad = [2, 4, 5, 7, 8, 9, 10, 11];
  const reported = r.stderr.split('\n').filter((l) => l.trim());
  for (const l of reported) assert.match(l, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: \\S`), `a FILE:LINE: reason line: ${l}`);
  assert.deepEqual(reported.map((l) => Number(l.slice(file.length + 1).split(':')[0])), bad, 'the bad lines, in order, once each');
  assert.match(reported.find((l) => l.includes(':5: ')), /status/);
  assert.match(reported.find((l) => l.includes(':10: ')), /publish|--org|meta\.tag/);
  const m = SUMMARY.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), 3);
  assert.equal(Number(m[3]), bad.length);

  const node = await startNode({ dataDir, claims: { org: 'RKE' } });
  try {
    for (const ok of ['Patient/imp-ok-1', 'Observation/imp-ok-2', 'Patient/imp-ok-4']) {
      assert.equal((await fhir(node, 'GET', ok)).status, 200, ok);
    }
    for (const no of ['Patient/imp-bad-json', 'Observation/imp-bad-obs', 'Patient/imp-bad-date', 'Patient/imp-no-publisher', 'Patient/imp-bad-element']) {
      assert.equal((await fhir(node, 'GET', no)).status, 404, `${no} was not stored`);
    }
    const h = await fhir(node, 'GET', '_history?_count=100');
    assert.equal(h.json.total, 3, 'nothing else, nothing half-written');
    const s = await fhir(node, 'GET', 'Observation?subject=imp-ok-1');
    assert.deepEqual(entryRefs(s.json), ['Observation/imp-ok-2']);
  } finally {
    await node.close();
  }
});

test('--org names the publisher of every resource', async () => {
  const dataDir = path.join(work, 'data-org');
  const file = path.join(work, 'untagged.ndjson');
  fs.writeFileSync(file, [
    JSON.stringify({ resourceType: 'Patient', id: 'org-1', name: [{ family: 'One' }] }),
    JSON.stringify({ resourceType: 'Patient', id: 'org-2', name: [{ family: 'Two' }] }),
  ].join('\n'));   // no newline after the last line
  const r = runImport(dataDir, [file], ['--org', 'RKE', '-q']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(SUMMARY.exec(r.stdout)?.[1]), 2, r.stdout);
  const node = await startNode({ dataDir, claims: { org: 'RKE' } });
  try {
    const s = await fhir(node, 'GET', 'Patient?_sort=_id');
    assert.deepEqual(entryRefs(s.json), ['Patient/org-1', 'Patient/org-2']);
  } finally {
    await node.close();
  }
});

test('gzip files import like plain ones; several files in one run', async () => {
  const dataDir = path.join(work, 'data-gz');
  const gz = path.join(work, 'Patient.ndjson.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(path.join(synthDir, 'nel', 'Patient.ndjson'))));
  const enc = path.join(synthDir, 'nel', 'Encounter.ndjson');
  const r = runImport(dataDir, [gz, enc], ['-q']);
  assert.equal(r.status, 0, r.stderr);
  const m = SUMMARY.exec(r.stdout);
  assert.equal(Number(m?.[1]), nel.Patient.length + nel.Encounter.length, r.stdout);
  assert.equal(Number(m[2]), 2);
  const node = await startNode({ dataDir });
  try {
    const orgs = [...new Set(nel.Patient.map(publisherOf))];
    const got = await asPublishers(node, orgs, 'Patient?_count=1000');
    assert.deepEqual([...got.values()].map((r) => r.id).sort(), nel.Patient.map((p) => p.id).sort());
    const p = nel.Patient[3];
    const token = mintToken(node.dataDir, { org: publisherOf(p), sub: 'sys' });
    assert.deepEqual(withoutServerMeta((await fhir(node, 'GET', `Patient/${p.id}`, { token })).json), p);
  } finally {
    await node.close();
  }
  // a corrupt gzip file is reported, not taken for data
  const broken = path.join(work, 'broken.ndjson.gz');
  const full = zlib.gzipSync(fs.readFileSync(path.join(synthDir, 'nel', 'Practitioner.ndjson')));
  fs.writeFileSync(broken, full.subarray(0, Math.floor(full.length / 2)));
  const b = runImport(path.join(work, 'data-gz-broken'), [broken], ['-q']);
  assert.equal(b.status, 1, `a truncated gzip file: ${b.stdout} ${b.stderr}`);
  assert.match(b.stderr, new RegExp(`${path.basename(broken)}:\\d+: `));
});

test('importing again updates: version 2, the new content indexed, the old not', async () => {
  const dataDir = path.join(work, 'data-again');
  const file = path.join(work, 'again.ndjson');
  const tag = { meta: { tag: [{ system: PUBLISHER, code: 'RKE' }] } };
  fs.writeFileSync(file, `${JSON.stringify({ resourceType: 'Patient', id: 'again', ...tag, name: [{ family: 'Before' }] })}\n`);
  assert.equal(runImport(dataDir, [file], ['-q']).status, 0);
  fs.writeFileSync(file, `${JSON.stringify({ resourceType: 'Patient', id: 'again', ...tag, name: [{ family: 'After' }] })}\n`);
  const r = runImport(dataDir, [file], ['-q']);
  assert.equal(r.status, 0, r.stderr);
  const node = await startNode({ dataDir, claims: { org: 'RKE' } });
  try {
    const p = (await fhir(node, 'GET', 'Patient/again')).json;
    assert.equal(p.meta.versionId, '2');
    assert.equal(p.name[0].family, 'After');
    assert.deepEqual(entryRefs((await fhir(node, 'GET', 'Patient?family=after')).json), ['Patient/again']);
    assert.deepEqual(entryRefs((await fhir(node, 'GET', 'Patient?family=before')).json), []);
    const h = await fhir(node, 'GET', 'Patient/again/_history');
    assert.equal(h.json.total, 2);
    assert.equal(h.json.entry[1].resource.name[0].family, 'Before');
  } finally {
    await node.close();
  }
});

test('the same id twice in one import: the later line wins, whatever the worker count', async () => {
  const tag = { meta: { tag: [{ system: PUBLISHER, code: 'RKE' }] } };
  const file = path.join(work, 'dup.ndjson');
  const obs = (i) => JSON.stringify({
    resourceType: 'Observation', id: `dup-obs-${i}`, ...tag, status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: `${i}-1`, display: `obs ${i}` }] },
    subject: { reference: 'Patient/dup' }, effectiveDateTime: '2024-01-01',
  });
  // line 1 and line 1001 are the same Patient (a chunk of the import is
  // 1000 lines: the two versions fall in different chunks)
  const lines = [JSON.stringify({ resourceType: 'Patient', id: 'dup', ...tag, name: [{ family: 'First' }] })];
  for (let i = 0; i < 999; i++) lines.push(obs(i));
  lines.push(JSON.stringify({ resourceType: 'Patient', id: 'dup', ...tag, name: [{ family: 'Last' }] }));
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  for (const workers of [1, 4]) {
    const dataDir = path.join(work, `data-dup-${workers}`);
    const r = runImport(dataDir, [file], ['-q', '--workers', String(workers)]);
    assert.equal(r.status, 0, r.stderr);
    const node = await startNode({ dataDir, claims: { org: 'RKE' } });
    try {
      const p = (await fhir(node, 'GET', 'Patient/dup')).json;
      assert.equal(p.name[0].family, 'Last', `--workers ${workers}: the later line is the current version`);
      assert.equal(p.meta.versionId, '2');
      assert.deepEqual(entryRefs((await fhir(node, 'GET', 'Patient?family=last')).json), ['Patient/dup']);
    } finally {
      await node.close();
    }
  }
});

test('import command line: --help, no files, a missing file, progress lines without -q', () => {
  const h = runBin(['import', '--help']);
  assert.equal(h.status, 0);
  for (const opt of ['--data', '--org', '--workers', '--quiet']) assert.ok(h.stdout.includes(opt), `--help names ${opt}`);
  const none = runBin(['import', '--data', path.join(work, 'data-none')]);
  assert.equal(none.status, 2);
  const missing = runBin(['import', '--data', path.join(work, 'data-none'), path.join(work, 'no-such.ndjson')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no-such\.ndjson/);
  assert.equal(runBin(['import', '--data', path.join(work, 'data-none'), '--workers', '0', nelFiles[0]]).status, 2);
  // not a terminal: plain progress lines on stderr, the summary on stdout
  const r = runImport(path.join(work, 'data-progress'), [path.join(synthDir, 'nel', 'Patient.ndjson')]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(SUMMARY.test(r.stdout), r.stdout);
  assert.doesNotMatch(r.stderr, /\r/, 'no bar redrawing when stderr is not a terminal');
  assert.match(r.stderr, /\d+ stored/);
});

test('not under a running node: import and mpi rebuild refuse its data directory, saying what to do; after it stops, import works', async () => {
  const node = await startNode();
  try {
    const patients = nel.Patient.slice(0, 3);
    const file = path.join(work, 'three-patients.ndjson');
    fs.writeFileSync(file, patients.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const before = await fhir(node, 'GET', 'Patient?_summary=count');
    assert.equal(before.status, 200);
    for (const args of [['import', '--data', node.dataDir, file], ['mpi', 'rebuild', '--data', node.dataDir]]) {
      const r = runBin(args, { timeout: 60000 });
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /in use: a carerecord node runs on this data directory/, args[0]);
      assert.match(r.stderr, /POST \/fhir\/\$import/, args[0]);
    }
    const after = await fhir(node, 'GET', 'Patient?_summary=count');
    assert.equal(after.json.total, before.json.total, 'nothing was imported under the node');
    // read as the publishing organisation's own system, which sees it
    const org = publisherOf(patients[0]);
    const asPublisher = () => ({ token: mintToken(node.dataDir, { org, sub: `sys-${org}` }) });
    assert.equal((await fhir(node, 'GET', `Patient/${patients[0].id}`, asPublisher())).status, 404);
    await node.stop();
    const r = runImport(node.dataDir, [file]);
    assert.equal(r.status, 0, r.stderr);
    await node.restart();
    assert.equal((await fhir(node, 'GET', `Patient/${patients[0].id}`, asPublisher())).status, 200);
  } finally {
    await node.stop();
  }
});
