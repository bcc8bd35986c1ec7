// diskfull.test.mjs: a node whose disk fills up. Its data directory is a
// small tmpfs (needs root, as CI runs; skipped, saying why, otherwise):
// creates are written until the disk is full. Then a create answers 507
// saying the disk is full and what to do, nothing half-written is left,
// the node stays up (reads fail closed while the audit log cannot be
// written); once there is room again it reads and writes without a
// restart, and its audit log verifies.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, fhir, runBin, tempDir } from './lib.mjs';

const mnt = path.join(tempDir('cr-diskfull-'), 'fs');
fs.mkdirSync(mnt);
const mounted = process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]).status === 0;
let node;
after(async () => {
  await node?.close();
  if (mounted) spawnSync('umount', [mnt]);
});

const big = (i) => ({
  resourceType: 'Observation', status: 'final',
  code: { text: `reading ${i} ${'x'.repeat(20000)}` },
  subject: { reference: 'Patient/p1' },
});

test('a full disk answers 507 saying so, keeps the store whole, and passes once there is room',
  { skip: mounted ? false : 'needs root to mount a small tmpfs for the data directory' }, async () => {
    node = await startNode({ dataDir: path.join(mnt, 'data') });
    let created = 0;
    let full = null;
    for (let i = 0; i < 5000 && !full; i++) {
      const r = await fhir(node, 'POST', 'Observation', { body: big(i) });
      if (r.status === 201) created++;
      else full = r;
    }
    assert.ok(full, 'the disk never filled');
    assert.ok(created > 10, `only ${created} created before the disk was full`);
    assert.equal(full.status, 507, full.text);
    assert.equal(full.json.resourceType, 'OperationOutcome');
    assert.equal(full.json.issue[0].code, 'exception');
    assert.match(full.json.issue[0].diagnostics, /disk is full.*nothing was saved.*operator/s);
    // still up; reads fail closed once the audit log cannot be written
    // (within moments: nothing is served without its audit record)
    assert.equal((await fhir(node, 'GET', 'metadata')).status, 200);
    let read = null;
    for (let i = 0; i < 100; i++) {
      read = await fhir(node, 'GET', 'Observation?_summary=count');
      if (read.status !== 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(read.status, 500, read.text);
    assert.match(read.json.issue[0].diagnostics, /could not be recorded in the audit log/);
    // room again (the tmpfs grows): the same node writes, no restart
    assert.equal(spawnSync('mount', ['-o', 'remount,size=96m', mnt]).status, 0);
    let again = null;
    for (let i = 0; i < 50; i++) {
      again = await fhir(node, 'POST', 'Observation', { body: big('again') });
      if (again.status === 201) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(again.status, 201, again.text);
    // what was acknowledged is there, nothing more
    const after2 = await fhir(node, 'GET', 'Observation?_summary=count');
    assert.equal(after2.status, 200, after2.text);
    assert.equal(after2.json.total, created + 1);
    await node.close();
    const v = runBin(['audit', 'verify', '--data', node.dataDir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    node = null;
  });
