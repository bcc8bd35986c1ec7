// federated.test.mjs: the web UI over three real federated nodes. One
// person (the same NHS number) has data on each node, published by that
// node's own organisations' systems:
//   nel  Green Lane Synthetic GP Practice (Z10901) registers her, with an
//        allergy and a problem; nel keeps the record locator
//   sel  Synthetic Royal Hospital (Z1A): an admission and its discharge
//        summary (and its directory copy of the GP practice)
//   ncl  Synthetic Community Health NHS Trust (Z1N), a clinic: a hepatitis
//        B vaccination and a chlamydia diagnosis, legally sensitive (it
//        never leaves the organisation that recorded it)
// In Chromium: the GP signs in at nel's UI and opens the record by NHS
// number: items from all three nodes, each with its organisation and
// node, and not the sensitive item; the GP writes a care plan through
// nel's form; a paramedic at sel (emergency access, a coded reason)
// opens the emergency summary and sees that plan's CPR decision and the
// node it is held on; ncl is killed and the record at nel says plainly
// that ncl could not be reached while still showing nel's and sel's
// items. No console errors beyond the handled ones; screenshots in
// tests/browser/artifacts/federated-*.png. The single-node world is
// world.mjs; the federation rules are docs/federation.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  launchBrowser, pageRunner, text, openByNhs as openByNhsAt, shot, signInAs, ODS, ORG,
} from './world.mjs';
import {
  startNode, fhir, mintToken, prepareNodes, peerConfig, sleep, NHS_SYSTEM,
} from '../integration/lib.mjs';

const IDS = ['nel', 'sel', 'ncl'];
const [A, B, C] = IDS;
const NHS = '9000000009';
const SCT = 'http://snomed.info/sct';
const PUB = 'https://carerecord.example/publisher';
const DAY = 86400000;
const dateAgo = (days) => new Date(Date.now() - days * DAY).toISOString().slice(0, 10);
const instantAgo = (days) => new Date(Date.now() - days * DAY).toISOString();
const inDays = (n) => new Date(Date.now() + n * DAY).toISOString().slice(0, 10);

const GP = { sub: 'gp-1', name: 'Dr Grace Green', org: ORG.gp, role: 'R8000', purpose: 'direct-care' };
const PARAMEDIC = { sub: 'para-1', name: 'Pat Medic', org: ORG.ambulance, role: 'R8003', purpose: 'emergency' };

let world;           // { dirs, ports }
const nodes = {};
let browser;

const tag = (org) => ({ tag: [{ system: PUB, code: org }] });
const org = (code, name) => ({ resourceType: 'Organization', id: code, meta: tag(code), identifier: [{ system: ODS, value: code }], name, active: true });
const person = (id, publisher, extra = {}) => ({
  resourceType: 'Patient', id, meta: tag(publisher), identifier: [{ system: NHS_SYSTEM, value: NHS }],
  name: [{ use: 'official', family: 'Jones', given: ['Margaret'] }], gender: 'female', birthDate: '1941-03-14', ...extra,
});

// What each node's organisations publish there: { node: { org: [resources] } }.
const DATA = {
  [A]: {
    [ORG.gp]: [
      org(ORG.gp, 'Green Lane Synthetic GP Practice'),
      person('pa', ORG.gp, {
        address: [{ use: 'home', line: ['12 Acacia Avenue'], city: 'London', postalCode: 'E8 1AA' }],
        generalPractitioner: [{ reference: `Organization/${ORG.gp}` }],
      }),
      { resourceType: 'AllergyIntolerance', id: 'pa-allergy', meta: tag(ORG.gp), patient: { reference: 'Patient/pa' },
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        code: { coding: [{ system: SCT, code: '91936005', display: 'Allergy to penicillin' }] }, recordedDate: dateAgo(800) },
      { resourceType: 'Condition', id: 'pa-hf', meta: tag(ORG.gp), subject: { reference: 'Patient/pa' },
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        code: { coding: [{ system: SCT, code: '84114007', display: 'Heart failure' }] }, onsetDateTime: dateAgo(1500) },
    ],
  },
  [B]: {
    [ORG.hospital]: [
      org(ORG.hospital, 'Synthetic Royal Hospital'),
      // the directory entry of the patient's practice, as hospitals keep it
      { ...org(ORG.gp, 'Green Lane Synthetic GP Practice'), meta: tag(ORG.hospital) },
      person('pb', ORG.hospital),
      { resourceType: 'Encounter', id: 'pb-adm', meta: tag(ORG.hospital), status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
        type: [{ coding: [{ system: SCT, code: '32485007', display: 'Hospital admission' }] }],
        subject: { reference: 'Patient/pb' }, period: { start: instantAgo(205), end: instantAgo(200) },
        serviceProvider: { reference: `Organization/${ORG.hospital}` } },
      { resourceType: 'Composition', id: 'pb-dis', meta: tag(ORG.hospital), status: 'final',
        type: { coding: [{ system: SCT, code: '373942005', display: 'Discharge summary' }] },
        subject: { reference: 'Patient/pb' }, encounter: { reference: 'Encounter/pb-adm' }, date: instantAgo(200),
        author: [{ display: 'Dr Hana Ward' }], title: 'Discharge summary',
        section: [{ title: 'Diagnoses', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Community acquired pneumonia</p></div>' } }] },
    ],
  },
  [C]: {
    [ORG.sexualHealth]: [
      org(ORG.sexualHealth, 'Synthetic Community Health NHS Trust'),
      person('pc', ORG.sexualHealth),
      { resourceType: 'Immunization', id: 'pc-hepb', meta: tag(ORG.sexualHealth), status: 'completed', patient: { reference: 'Patient/pc' },
        vaccineCode: { coding: [{ system: SCT, code: '871822003', display: 'Hepatitis B vaccine' }] }, occurrenceDateTime: dateAgo(30),
        performer: [{ actor: { reference: `Organization/${ORG.sexualHealth}` } }] },
      { resourceType: 'Condition', id: 'pc-sti', meta: tag(ORG.sexualHealth), subject: { reference: 'Patient/pc' },
        code: { coding: [{ system: SCT, code: '105629000', display: 'Chlamydial infection' }] }, onsetDateTime: dateAgo(30) },
    ],
  },
};

// A personas file (docs/ui.md) for node 'id' listing 'list' (label → claims).
function personasFile(id, list) {
  const nodesList = IDS.map((n) => ({ id: n, name: `Node ${n}`, url: `http://127.0.0.1:${world.ports[n]}` }));
  const personas = Object.entries(list).map(([label, claims]) => ({
    label, name: claims.name, role: claims.role, org: claims.org, purpose: claims.purpose, node: id,
    description: label, token: mintToken(world.dirs[id], claims),
  }));
  const file = path.join(path.dirname(world.dirs[id]), 'personas.json');
  fs.writeFileSync(file, JSON.stringify({ nodes: nodesList, personas }, null, 2));
  return file;
}

before(async () => {
  world = await prepareNodes(IDS);
  const personas = { [A]: { GP }, [B]: { Paramedic: PARAMEDIC }, [C]: {} };
  for (const id of IDS) {
    nodes[id] = await startNode({
      dataDir: world.dirs[id], port: world.ports[id],
      config: peerConfig(id, IDS, world, { locator: A, deadline_ms: 3000 }),
      args: ['--personas', personasFile(id, personas[id]), '--quiet'],
    });
  }
  for (const [id, orgs] of Object.entries(DATA)) {
    for (const [code, list] of Object.entries(orgs)) {
      const token = mintToken(world.dirs[id], { sub: `sys-${code}`, name: `${code} system`, org: code, purpose: 'system' });
      for (const res of list) {
        const r = await fhir(nodes[id], 'PUT', `${res.resourceType}/${res.id}`, { body: res, token, validate: false });
        assert.ok(r.status === 201 || r.status === 200, `${id} ${code} PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
      }
    }
  }
  // the sensitive item is stored at ncl: its absence elsewhere is the policy's
  const own = await fhir(nodes[C], 'GET', 'Condition/pc-sti', { token: mintToken(world.dirs[C], { sub: `sys-${ORG.sexualHealth}`, org: ORG.sexualHealth, purpose: 'system' }) });
  assert.equal(own.status, 200, own.text);
  // wait until the locator (at nel) names all three nodes for the person
  const token = mintToken(world.dirs[A], GP);
  for (let i = 0; ; i++) {
    const r = await fhir(nodes[A], 'GET', `Patient?identifier=${NHS_SYSTEM}|${NHS}`, { token });
    const got = (r.json?.entry || []).map((e) => e.resource.meta?.tag?.find((t) => t.system === 'https://carerecord.example/node')?.code);
    if (IDS.every((n) => got.includes(n))) break;
    if (i > 200) throw new Error(`the locator never named every node for ${NHS}: ${got}`);
    await sleep(50);
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const id of IDS) await nodes[id]?.close();
});

const withPage = pageRunner(() => browser);
const openByNhs = (page, node) => openByNhsAt(page, node, NHS);

// The source cell (organisation and node) of the row of section 'sec'
// that mentions 'what'.
async function sourceOf(page, sec, what) {
  const row = page.locator(`#${sec} tr`, { hasText: what });
  assert.equal(await row.count(), 1, `one row in #${sec} for ${what}`);
  return row.locator('td.source').innerText();
}

test('the GP at nel sees the record from all three nodes, each item labelled, without the sensitive item from ncl', async () => {
  await withPage(async (page) => {
    await signInAs(page, nodes[A], 'GP');
    assert.match(await text(page, '.brand-node'), /node nel/);
    await openByNhs(page, nodes[A]);
    await page.waitForSelector('#patient-banner');
    assert.equal(await text(page, '#pb-name'), 'JONES, Margaret');
    assert.match(await text(page, '#patient-banner'), /Green Lane Synthetic GP Practice/);
    assert.equal(await page.locator('#partial-notice').count(), 0, 'every node answered');
    // nel's own items
    assert.match(await sourceOf(page, 'sec-allergies', 'Allergy to penicillin'), /Green Lane Synthetic GP Practice\s*node nel/);
    assert.match(await sourceOf(page, 'sec-problems', 'Heart failure'), /Green Lane Synthetic GP Practice\s*node nel/);
    // sel's
    const all = await text(page, '#sections');
    assert.match(all, /Discharge summary/);
    assert.match(all, /Hospital admission/);
    assert.match(all, /Synthetic Royal Hospital\s*node sel/);
    // ncl's, but never its legally sensitive item
    assert.match(await sourceOf(page, 'sec-immunisations', 'Hepatitis B vaccine'), /Synthetic Community Health NHS Trust\s*node ncl/);
    const html = await page.content();
    assert.doesNotMatch(html, /Chlamydial|105629000/, 'the sensitive item stays with the organisation that recorded it');
    await shot(page, 'federated-record-nel');
  });
});

test('the GP writes a care plan at nel through the form; a paramedic at sel sees its CPR decision and the node it is held on', async () => {
  await withPage(async (page) => {
    await signInAs(page, nodes[A], 'GP');
    await page.goto(`${nodes[A].base}/ui/careplan?patient=pa`);
    await page.waitForSelector('#no-plan');
    await page.click('#create-plan');
    await page.waitForSelector('#plan-form');
    await page.check('#cpr');          // not for CPR
    await page.fill('#discussedWith', 'Margaret and her daughter Susan');
    await page.check('#recorderSenior');
    await page.fill('#cprReview', inDays(180));
    await page.check('#ceiling-2');    // symptom control
    await page.fill('#recommendations', 'Keep comfortable at home');
    await page.fill('#whatMatters', 'Staying at home with my cat');
    await page.selectOption('#placeOfCare', '264362003');
    await page.selectOption('#placeOfDeath', '264362003');
    await page.click('#add-contact');
    await page.fill('#contact-0-given', 'Susan');
    await page.fill('#contact-0-family', 'Jones');
    await page.selectOption('#contact-0-relationship', 'DAU');
    await page.check('#contact-0-nok');
    await page.fill('#contact-0-phone', '07700 900456');
    await page.fill('#planReview', inDays(180));
    await page.click('#save-plan');
    await page.waitForURL(/view=summary.*saved=1/);
    await page.waitForSelector('#cpr-decision');
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-cpr'), 'no');
    await shot(page, 'federated-careplan-saved-nel');
  });
  await withPage(async (page) => {
    await signInAs(page, nodes[B], 'Paramedic');
    assert.match(await text(page, '#session-banner'), /emergency access/);
    await openByNhs(page, nodes[B]);
    await page.waitForSelector('#access-dialog');
    await page.check('#er-life-threatening');
    await page.fill('#er-text', 'collapsed at home');
    await page.click('#access-ok');
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#access-banner'), /EMERGENCY ACCESS.*Immediate threat to life/s);
    assert.ok(page.handled.some((h) => /403/.test(h)), 'the node asked for the reason');
    await page.click('#open-summary');
    await page.waitForSelector('#cpr-decision');
    const cpr = page.locator('#cpr-decision');
    assert.equal(await cpr.getAttribute('data-cpr'), 'no');
    assert.equal(await cpr.getAttribute('data-validity'), 'valid');
    assert.match(await cpr.innerText(), /DO NOT ATTEMPT CPR/i);
    assert.match(await text(page, '#emergency-summary'), /Staying at home with my cat/);
    await page.waitForSelector('#source-org:has-text("Green Lane Synthetic GP Practice")');
    assert.match(await text(page, '#plan-source'), /Dr Grace Green.*Green Lane Synthetic GP Practice.*From node nel;/s, 'the plan was saved at nel');
    await shot(page, 'federated-careplan-summary-sel');
  });
});

test('with ncl killed, the record at nel says plainly that ncl could not be reached and still shows nel\'s and sel\'s items', async () => {
  await nodes[C].kill9();
  await withPage(async (page) => {
    await signInAs(page, nodes[A], 'GP');
    await openByNhs(page, nodes[A]);
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#partial-notice'), /may be incomplete.*Node ncl/s);
    assert.match(await text(page, '#alerts'), /Partial record/);
    assert.match(await sourceOf(page, 'sec-allergies', 'Allergy to penicillin'), /node nel/);
    assert.match(await text(page, '#sections'), /Synthetic Royal Hospital\s*node sel/);
    assert.doesNotMatch(await page.content(), /Hepatitis B vaccine/, 'nothing of ncl\'s');
    await shot(page, 'federated-record-ncl-down');
  });
});
