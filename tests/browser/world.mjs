// world.mjs: the browser tests' synthetic world, their browser and their
// checks shared by every test: a node started with startNode() (the real
// binary), data published by each organisation's own source system, a
// personas file in the format docs/ui.md gives (so the sign-in page is
// tested as the demo uses it), and Debian's Chromium driven by
// playwright-core.
//
// Organisations (made-up ODS codes):
//   Z10901 Green Lane Synthetic GP Practice: P1, P3, P4, P5 registered
//   Z1A    Synthetic Royal Hospital: an admission of P1 and its
//          discharge summary
//   Z1B    Synthetic General Hospital (A&E): no relationship with anyone
//   Z1N    Synthetic Community Health (sexual health): a chlamydia
//          diagnosis for P1, legally sensitive (never shown elsewhere)
//   Z0A    Synthetic Ambulance Service: paramedics (emergency access)
//   Z1L01  Synthetic Borough Adult Social Care: an open episode with P1
// Patients:
//   P1 Margaret JONES  9000000009: allergies, medicines, blood pressure
//      readings, a Universal Care Plan saved through $care-plan by her GP
//      (not for CPR, its review date passed 40 days ago)
//   P3 Robin RESTRICTED 9476719931: a restricted record
//   P4 Big RECORD      9912003888: 1,000 resources from two organisations
//   P5 Nora NEWPLAN    9434765919: no care plan yet (the tests write one)
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startNode, fhir, tempDir, ROOT, NHS_SYSTEM } from '../integration/lib.mjs';

const require = createRequire(import.meta.url);

export const ARTIFACTS = path.join(ROOT, 'tests/browser/artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];

export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const UCP = 'https://carerecord.example/CodeSystem/ucp';
const SD = 'https://carerecord.example/StructureDefinition/';
const V3_ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const V2_0131 = 'http://terminology.hl7.org/CodeSystem/v2-0131';
const PUB = 'https://carerecord.example/publisher';
const DAY = 86400000;
const dateAgo = (days) => new Date(Date.now() - days * DAY).toISOString().slice(0, 10);
const instantAgo = (days) => new Date(Date.now() - days * DAY).toISOString();

export const ORG = {
  gp: 'Z10901', hospital: 'Z1A', ae: 'Z1B', sexualHealth: 'Z1N', ambulance: 'Z0A', council: 'Z1L01',
};
export const NHS = {
  p1: '9000000009', p3: '9476719931', p4: '9912003888', p5: '9434765919',
};

const tag = (org) => ({ tag: [{ system: PUB, code: org }] });
const gpRef = { reference: `Organization/${ORG.gp}` };
const subj = (pid) => ({ reference: `Patient/${pid}` });
const orgRes = (code, name, kind) => ({
  resourceType: 'Organization', id: code, meta: tag(code),
  identifier: [{ system: ODS, value: code }], name, active: true,
  type: [{ coding: [{ system: 'https://carerecord.example/CodeSystem/organisation-kind', code: kind }] }],
});
const patient = (id, nhs, family, given, birthDate, gender, extra = {}) => ({
  resourceType: 'Patient', id, meta: { ...tag(ORG.gp), ...(extra.meta || {}) },
  identifier: [{ system: NHS_SYSTEM, value: nhs }],
  name: [{ use: 'official', family, given: [given] }],
  telecom: [{ system: 'phone', value: '07700 900123', use: 'mobile' }],
  gender, birthDate,
  address: [{ use: 'home', line: ['12 Acacia Avenue'], city: 'London', postalCode: 'E8 1AA' }],
  generalPractitioner: [gpRef],
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'meta')),
});
const bp = (id, pid, org, days, sys, dia) => ({
  resourceType: 'Observation', id, meta: tag(org), status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }] },
  subject: subj(pid), effectiveDateTime: instantAgo(days),
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: sys, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: dia, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ],
});

// What each organisation's system publishes, in order.
export function worldData() {
  const G = ORG.gp;
  return {
    [G]: [
      orgRes(G, 'Green Lane Synthetic GP Practice', 'gp-practice'),
      patient('P1', NHS.p1, 'Jones', 'Margaret', '1941-03-14', 'female'),
      patient('P3', NHS.p3, 'Restricted', 'Robin', '1970-07-01', 'male', {
        meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
      }),
      patient('P4', NHS.p4, 'Record', 'Big', '1950-01-01', 'male'),
      patient('P5', NHS.p5, 'Newplan', 'Nora', '1932-11-30', 'female'),
      {
        resourceType: 'AllergyIntolerance', id: 'p1-allergy', meta: tag(G), patient: subj('P1'),
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        code: { coding: [{ system: SCT, code: '91936005', display: 'Allergy to penicillin' }] },
        reaction: [{ manifestation: [{ coding: [{ system: SCT, code: '271807003', display: 'Rash' }] }], severity: 'moderate' }],
        recordedDate: dateAgo(800),
      },
      {
        resourceType: 'Condition', id: 'p1-hf', meta: tag(G), subject: subj('P1'),
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }] }],
        code: { coding: [{ system: SCT, code: '84114007', display: 'Heart failure' }] }, onsetDateTime: dateAgo(1500),
      },
      {
        resourceType: 'MedicationRequest', id: 'p1-ramipril', meta: tag(G), status: 'active', intent: 'plan', subject: subj('P1'),
        medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: '318902004', display: 'Ramipril 5mg capsules' }] },
        authoredOn: dateAgo(700), dosageInstruction: [{ text: 'One capsule once a day' }],
      },
      ...[30, 60, 90].map((d, i) => ({
        resourceType: 'MedicationRequest', id: `p1-ramipril-${i}`, meta: tag(G), status: 'completed', intent: 'order', subject: subj('P1'),
        medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: '318902004', display: 'Ramipril 5mg capsules' }] },
        authoredOn: dateAgo(d), basedOn: [{ reference: 'MedicationRequest/p1-ramipril' }],
      })),
      bp('p1-bp1', 'P1', G, 400, 152, 94), bp('p1-bp2', 'P1', G, 300, 146, 90), bp('p1-bp3', 'P1', G, 150, 138, 86), bp('p1-bp4', 'P1', G, 20, 134, 82),
      {
        resourceType: 'Immunization', id: 'p1-flu', meta: tag(G), status: 'completed', patient: subj('P1'),
        vaccineCode: { coding: [{ system: SCT, code: '1181000221105', display: 'Influenza vaccine' }] }, occurrenceDateTime: dateAgo(60),
      },
      {
        resourceType: 'Appointment', id: 'p1-appt', meta: tag(G), status: 'booked', description: 'Annual review with the practice nurse',
        start: new Date(Date.now() + 14 * DAY).toISOString(), end: new Date(Date.now() + 14 * DAY + 900000).toISOString(),
        participant: [{ actor: subj('P1'), status: 'accepted' }, { actor: { reference: `Organization/${G}` }, status: 'accepted' }],
      },
    ],
    [ORG.hospital]: [
      orgRes(ORG.hospital, 'Synthetic Royal Hospital', 'acute-trust'),
      { resourceType: 'Encounter', id: 'p1-adm', meta: tag(ORG.hospital), status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
        type: [{ coding: [{ system: SCT, code: '32485007', display: 'Hospital admission' }] }],
        subject: subj('P1'), period: { start: instantAgo(205), end: instantAgo(200) }, serviceProvider: { reference: `Organization/${ORG.hospital}` } },
      { resourceType: 'Composition', id: 'p1-dis', meta: tag(ORG.hospital), status: 'final',
        type: { coding: [{ system: SCT, code: '373942005', display: 'Discharge summary' }] },
        subject: subj('P1'), encounter: { reference: 'Encounter/p1-adm' }, date: instantAgo(200), author: [{ display: 'Dr Hana Ward' }], title: 'Discharge summary',
        section: [{ title: 'Diagnoses', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Community acquired pneumonia</p></div>' } }] },
    ],
    [ORG.sexualHealth]: [
      orgRes(ORG.sexualHealth, 'Synthetic Community Health NHS Trust', 'community-trust'),
      { resourceType: 'Condition', id: 'p1-sti', meta: tag(ORG.sexualHealth), subject: subj('P1'),
        code: { coding: [{ system: SCT, code: '105629000', display: 'Chlamydial infection' }] }, onsetDateTime: dateAgo(30) },
    ],
    [ORG.ambulance]: [orgRes(ORG.ambulance, 'Synthetic Ambulance Service', 'ambulance-service')],
    [ORG.ae]: [orgRes(ORG.ae, 'Synthetic General Hospital', 'acute-trust')],
    [ORG.council]: [
      orgRes(ORG.council, 'Synthetic Borough Adult Social Care', 'council-social-care'),
      { resourceType: 'EpisodeOfCare', id: 'p1-sc', meta: tag(ORG.council), status: 'active', patient: subj('P1'),
        managingOrganization: { reference: `Organization/${ORG.council}` }, period: { start: dateAgo(20) } },
    ],
  };
}

// The GP who writes P1's plan (the GP persona).
export const GP_CLAIMS = { sub: 'gp-1', name: 'Dr Grace Green', org: ORG.gp, role: 'R8000', purpose: 'direct-care' };

// P1's Universal Care Plan (docs/care-plan.md) as the collection Bundle
// POST Patient/P1/$care-plan takes: the CarePlan (entry 0), the CPR
// decision (not for CPR, reviewed by a date 40 days ago, so it needs
// review), the LPA flag, her daughter (next of kin, holds the LPA) and a
// just-in-case medicine. 'pid' makes the same plan for another patient.
export function planBundleFor(pid = 'P1') {
  const u = Object.fromEntries(['plan', 'cpr', 'lpa', 'kin', 'med'].map((k) => [k, `urn:uuid:${crypto.randomUUID()}`]));
  const subject = subj(pid);
  const author = { type: 'Practitioner', identifier: { system: 'https://fhir.nhs.uk/Id/sds-user-id', value: GP_CLAIMS.sub }, display: GP_CLAIMS.name };
  const r = {
    plan: {
      resourceType: 'CarePlan', status: 'active', intent: 'plan', title: 'Universal Care Plan',
      category: [{ coding: [{ system: SCT, code: '736373009', display: 'End of life care plan' }] }],
      subject, author, description: 'Advanced heart failure; frail, two admissions this year.',
      addresses: pid === 'P1' ? [{ reference: 'Condition/p1-hf' }] : undefined,
      extension: [
        { url: `${SD}ucp-signed-off`, valueDateTime: dateAgo(400) },
        { url: `${SD}ucp-review-date`, valueDate: dateAgo(40) },
        { url: `${SD}ucp-priorities`, extension: [{ url: 'scale', valueInteger: 80 }, { url: 'whatMattersToMe', valueString: 'Staying at home with my cat and my daughter nearby' }] },
        { url: `${SD}ucp-preferred-place-of-care`, valueCodeableConcept: { coding: [{ system: SCT, code: '264362003', display: 'Home' }] } },
        { url: `${SD}ucp-preferred-place-of-death`, valueCodeableConcept: { coding: [{ system: SCT, code: '284546000', display: 'Hospice' }], text: 'St Synthetic Hospice' } },
        { url: `${SD}ucp-prognosis`, valueCodeableConcept: { text: 'Months' } },
        { url: `${SD}ucp-capacity`, extension: [{ url: 'hasCapacity', valueBoolean: true }, { url: 'involvement', valueString: 'Margaret, with her daughter Susan' }] },
      ],
      activity: [
        { detail: {
          code: { coding: [{ system: SCT, code: '735324008', display: 'Treatment escalation plan' }] }, status: 'in-progress',
          description: 'Ward-based care, not for intensive care. Oxygen and antibiotics are appropriate.',
          extension: [{ url: `${SD}ucp-ceiling-of-treatment`, valueCodeableConcept: { coding: [{ system: 'https://carerecord.example/CodeSystem/ceiling-of-treatment', code: 'ward-based', display: 'Ward-based care; not for intensive care' }] } }],
        } },
        { detail: {
          code: { coding: [{ system: UCP, code: 'just-in-case-medicines', display: 'Just-in-case medicines' }] }, status: 'in-progress',
          description: 'For breathlessness and agitation',
          extension: [{ url: `${SD}ucp-where-kept`, valueString: 'Blue box on top of the fridge' }],
        } },
        { reference: { reference: u.med } },
      ],
      supportingInfo: [{ reference: u.cpr }, { reference: u.lpa }, { reference: u.kin }],
    },
    cpr: {
      resourceType: 'Flag', status: 'active',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'advance-directive' }] }],
      code: { coding: [{ system: SCT, code: '450476008', display: 'Not for cardiopulmonary resuscitation' }] },
      subject, period: { start: dateAgo(400), end: dateAgo(40) }, author,
      extension: [
        { url: `${SD}ucp-cpr-discussed-with`, valueString: 'Margaret and her daughter Susan' },
        { url: `${SD}ucp-cpr-recorder-senior`, valueBoolean: true },
        { url: `${SD}ucp-cpr-reason`, valueString: 'Advanced heart failure: CPR would not restart the heart' },
      ],
    },
    lpa: {
      resourceType: 'Flag', status: 'active', subject,
      code: { coding: [{ system: SCT, code: '816361000000101', display: 'Has appointed person with personal welfare lasting power of attorney (Mental Capacity Act 2005)' }] },
    },
    kin: {
      resourceType: 'RelatedPerson', active: true, patient: subject, name: [{ family: 'Jones', given: ['Susan'] }],
      relationship: [{ coding: [{ system: V3_ROLE, code: 'DAU', display: 'daughter' }] }, { coding: [{ system: V2_0131, code: 'N', display: 'Next-of-Kin' }] },
        { coding: [{ system: V3_ROLE, code: 'HPOWATT', display: 'healthcare power of attorney' }] }],
      telecom: [{ system: 'phone', value: '07700 900456', use: 'mobile' }],
    },
    med: {
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, authoredOn: dateAgo(400),
      medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: '36124911000001107', display: 'Midazolam 10mg/2ml solution for injection ampoules' }] },
    },
  };
  return { resourceType: 'Bundle', type: 'collection', entry: Object.keys(u).map((k) => ({ fullUrl: u[k], resource: r[k] })) };
}

// POST Patient/{pid}/$care-plan with 'bundle' as 'claims' (a token is
// minted for them); resolves to fhir()'s answer.
export function savePlanBundle(node, pid, bundle, claims, headers = {}) {
  return fhir(node, 'POST', `Patient/${pid}/$care-plan`, { body: bundle, token: node.token(claims), headers });
}

// The patient's current plan as a revision Bundle (every resource with
// its id, as stored): { bundle, plan }.
export async function currentPlanBundle(node, pid, claims = GP_CLAIMS) {
  const token = node.token(claims);
  const s = await fhir(node, 'GET', `CarePlan?patient=${pid}&status=active`, { token });
  assert.equal(s.status, 200, s.text);
  const plan = s.json.entry.map((e) => e.resource).find((r) => r.meta?.profile?.includes(`${SD}UCP-CarePlan`));
  assert.ok(plan, `a current plan for ${pid}`);
  const refs = [...(plan.supportingInfo || []).map((x) => x.reference), ...(plan.activity || []).filter((a) => a.reference).map((a) => a.reference.reference)];
  const entry = [{ fullUrl: `CarePlan/${plan.id}`, resource: plan }];
  for (const ref of refs) {
    const r = await fhir(node, 'GET', ref, { token });
    assert.equal(r.status, 200, `${ref}: ${r.text}`);
    entry.push({ fullUrl: ref, resource: r.json });
  }
  return { bundle: { resourceType: 'Bundle', type: 'collection', entry }, plan };
}

// 1,000 resources for P4, as NDJSON lines per publishing organisation:
// 600 blood pressure and HbA1c readings, conditions, medicines,
// encounters, immunisations.
export function bigRecord() {
  const G = ORG.gp;
  const H = ORG.hospital;
  const out = { [G]: [], [H]: [] };
  let n = 0;
  const add = (org, r) => { out[org].push(r); n++; };
  for (let i = 0; i < 400; i++) add(G, bp(`p4-bp-${i}`, 'P4', G, 2000 - i * 5, 120 + (i % 30), 75 + (i % 15)));
  for (let i = 0; i < 200; i++) {
    add(G, { resourceType: 'Observation', id: `p4-a1c-${i}`, meta: tag(G), status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      code: { coding: [{ system: LOINC, code: '59261-8', display: 'Hemoglobin A1c' }] }, subject: subj('P4'),
      effectiveDateTime: instantAgo(2000 - i * 9), valueQuantity: { value: 48 + (i % 20), unit: 'mmol/mol' } });
  }
  for (let i = 0; i < 100; i++) {
    add(G, { resourceType: 'Condition', id: `p4-c-${i}`, meta: tag(G), subject: subj('P4'),
      code: { text: `Synthetic problem ${i}` }, onsetDateTime: dateAgo(3000 - i * 20) });
  }
  for (let i = 0; i < 100; i++) {
    add(G, { resourceType: 'MedicationRequest', id: `p4-m-${i}`, meta: tag(G), status: 'completed', intent: 'order', subject: subj('P4'),
      medicationCodeableConcept: { text: `Synthetic medicine ${i % 10}` }, authoredOn: dateAgo(1000 - i * 7) });
  }
  for (let i = 0; i < 150; i++) {
    add(H, { resourceType: 'Encounter', id: `p4-e-${i}`, meta: tag(H), status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, type: [{ text: 'Outpatient clinic' }],
      subject: subj('P4'), period: { start: instantAgo(2000 - i * 12) }, serviceProvider: { reference: `Organization/${H}` } });
  }
  for (let i = 0; i < 49; i++) {
    add(G, { resourceType: 'Immunization', id: `p4-i-${i}`, meta: tag(G), status: 'completed', patient: subj('P4'),
      vaccineCode: { text: 'Influenza vaccine' }, occurrenceDateTime: dateAgo(3000 - i * 60) });
  }
  // with the Patient itself: 1,000 resources in the record
  assert.equal(n + 1, 1000);
  return out;
}

// Start the node, publish the world, write the personas file. Resolves
// to { node, personas, tokens } where personas is the file's list.
export async function buildWorld() {
  const personasFile = path.join(tempDir('cr-browser-'), 'demo.json');
  const node = await startNode({ args: ['--personas', personasFile, '--quiet'] });
  for (const [org, list] of Object.entries(worldData())) {
    const token = node.token({ org, sub: `sys-${org}` });
    for (const res of list) {
      const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res, token, validate: false });
      assert.ok(r.status === 201 || r.status === 200, `${org} PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
    }
  }
  for (const [org, list] of Object.entries(bigRecord())) {
    const token = node.token({ org, sub: `sys-${org}` });
    const body = Buffer.from(list.map((r) => JSON.stringify(r)).join('\n'));
    const r = await fhir(node, 'POST', '$import', { body, token, validate: false, headers: { 'content-type': 'application/fhir+ndjson' } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, new RegExp(`${list.length} `), `$import ${org}: ${r.text.slice(0, 300)}`);
  }
  const plan = await savePlanBundle(node, 'P1', planBundleFor('P1'), GP_CLAIMS);
  assert.equal(plan.status, 201, `P1's care plan: ${plan.text.slice(0, 500)}`);
  const mk = (label, claims, description) => ({
    label, name: claims.name, role: claims.role, org: claims.org, purpose: claims.purpose, node: 'local',
    description, token: node.token(claims), ...(claims.patient ? { patient: claims.patient } : {}),
  });
  const personas = [
    mk('A&E clinician', { sub: 'ae-1', name: 'Dr Ada Emergency', org: ORG.ae, role: 'R8000', purpose: 'direct-care' }, 'No recorded relationship: states a reason'),
    mk('Paramedic', { sub: 'para-1', name: 'Pat Medic', org: ORG.ambulance, role: 'R8003', purpose: 'emergency' }, 'Emergency access with a coded reason'),
    mk('GP', GP_CLAIMS, 'The registered practice'),
    mk('Social worker', { sub: 'sw-1', name: 'Sam Social', org: ORG.council, role: 'R8014', purpose: 'direct-care' }, 'Adult social care'),
    mk('Receptionist', { sub: 'rec-1', name: 'Rita Desk', org: ORG.gp, role: 'R8009', purpose: 'direct-care' }, 'Demographics and appointments'),
    mk('Privacy officer', { sub: 'po-1', name: 'Priya Guard', org: ORG.gp, role: 'R8008', purpose: 'audit' }, 'Reviews alerts'),
    mk('Patient', { sub: 'patient-p1', name: 'Margaret Jones', org: ORG.gp, role: 'R8000', purpose: 'patient-access', patient: NHS.p1 }, 'Her own record'),
  ];
  fs.writeFileSync(personasFile, JSON.stringify({ nodes: [{ id: 'local', name: 'Test node', url: node.base }], personas }, null, 2));
  return { node, personas, personasFile };
}

// ---- the browser ---------------------------------------------------------------

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/deps.sh test installs Debian's chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

// A fresh page that records every console error and uncaught exception.
// Failed API calls the UI handles (403 and 404 from /fhir; 409, 412 and
// 422 from a care plan save; the optional /ui/personas.json) are logged
// by Chromium as "Failed to load resource"; those are expected and set
// apart in 'handled'.
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.errors = [];
  page.handled = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/^Failed to load resource: the server responded with a status of (403|404|409|412|422)/.test(m.text()) &&
      (/\/fhir\//.test(url) || /\/ui\/personas\.json$/.test(url))) {
      page.handled.push(`${m.text()} ${url}`);
      return;
    }
    page.errors.push(`console: ${m.text()} ${url}`);
  });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  return page;
}

export async function closePage(page) {
  await page.context().close();
}

export function assertNoErrors(page) {
  assert.deepEqual(page.errors, [], `console errors on ${page.url()}`);
}

// A test's page runner: withPage(fn) runs fn with a fresh page of the
// browser getBrowser() gives, then checks the console and closes it.
export function pageRunner(getBrowser) {
  return async (fn) => {
    const page = await newPage(getBrowser());
    try {
      await fn(page);
      assertNoErrors(page);
    } finally {
      await closePage(page);
    }
  };
}

export const text = (page, sel) => page.locator(sel).innerText();

// Find a person by NHS number from the record page of 'node'.
export async function openByNhs(page, node, nhs) {
  await page.goto(`${node.base}/ui/`);
  await page.fill('#nhs', nhs);
  await page.click('#nhs-form button[type=submit]');
  await page.waitForLoadState('networkidle');
}

export async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// Serve this node's CapabilityStatement as 'edit' (a function changing the
// parsed statement in place) leaves it, to see how the pages behave on a
// node that declares more, or less, than this one.
export async function editMetadata(page, edit) {
  await page.route('**/fhir/metadata', async (route) => {
    const res = await route.fetch();
    const cap = await res.json();
    edit(cap);
    await route.fulfill({ response: res, json: cap });
  });
}

// Sign in as a persona from the sign-in page; resolves once the landing
// page has settled.
export async function signInAs(page, node, label) {
  await page.goto(`${node.base}/ui/signin`);
  await page.locator(`button[data-persona="${label}"]`).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/ui/signin'));
  await page.waitForLoadState('networkidle');
}

let axeSource = null;
// axe-core's WCAG 2 A and AA rules on the page as it is; resolves to the
// violations (id, impact, the first targets). page.evaluate is not bound
// by the page's Content-Security-Policy, so axe runs without weakening it.
export async function axe(page) {
  if (!axeSource) axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  return res.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
}
