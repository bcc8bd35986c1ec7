// access_world.mjs: the small multi-organisation world the access tests
// read (tests/integration/access*.test.mjs). Each organisation's own
// system publishes its part; see access.test.mjs for who is who.
import assert from 'node:assert/strict';
import { fhir, NHS_SYSTEM } from './lib.mjs';

export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const SCT = 'http://snomed.info/sct';
const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString();

export const NHS1 = '9000000009';
export const NHS2 = '9476719931';
export const NHS3 = '9912003888';

const gp = { reference: 'Organization/G1' };
export const patient = (id, nhs, extra = {}) => ({
  resourceType: 'Patient', id,
  identifier: [{ system: NHS_SYSTEM, value: nhs }],
  name: [{ use: 'official', family: `Family${id}`, given: ['Test'] }],
  telecom: [{ system: 'phone', value: '020 7946 0000' }],
  address: [{ use: 'home', line: ['1 High Street'], city: 'London', postalCode: 'E1 1AA' }],
  gender: 'female', birthDate: '1980-05-05',
  generalPractitioner: [gp],
  ...extra,
});
export const obs = (id, pid, text) => ({
  resourceType: 'Observation', id, status: 'final', code: { text },
  subject: { reference: `Patient/${pid}` }, valueQuantity: { value: 1, unit: 'x' },
});
const cond = (id, pid, code, display) => ({
  resourceType: 'Condition', id, subject: { reference: `Patient/${pid}` },
  code: { coding: [{ system: SCT, code, display }] },
});

// What each organisation's system publishes (in this order).
export const WORLD = {
  G1: [
    { resourceType: 'Organization', id: 'G1', identifier: [{ system: ODS, value: 'G1' }], name: 'Green Lane Surgery' },
    patient('P1', NHS1),
    patient('P2', NHS2),
    patient('P3', NHS3, { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } }),
    cond('c-asthma', 'P1', '195967001', 'Asthma'),
    obs('o-g1', 'P1', 'Blood pressure'),
    {
      resourceType: 'DocumentReference', id: 'd-nopat', status: 'current', subject: { reference: 'Patient/P1' },
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'NOPAT' }] },
      content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }],
    },
    { resourceType: 'RelatedPerson', id: 'rp1', patient: { reference: 'Patient/P1' }, name: [{ family: 'Kin' }] },
    {
      resourceType: 'Consent', id: 'objection', status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: 'Patient/P2' },
      provision: { type: 'deny', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
    },
    obs('o2-g1', 'P2', 'Weight'),
  ],
  H1: [
    {
      resourceType: 'Encounter', id: 'e1', status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/P1' },
      period: { start: iso(Date.now() - 11 * DAY), end: iso(Date.now() - 10 * DAY) },
      serviceProvider: { identifier: { system: ODS, value: 'H1' } },
    },
    obs('o-h1', 'P1', 'Heart rate'),
    {
      resourceType: 'Composition', id: 'dis1', status: 'final',
      type: { coding: [{ system: SCT, code: '373942005', display: 'Discharge summary' }] },
      subject: { reference: 'Patient/P1' }, date: iso(Date.now() - 10 * DAY),
      author: [{ display: 'Dr A' }], title: 'Discharge summary',
    },
    {
      resourceType: 'Encounter', id: 'e2', status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: 'Patient/P2' }, period: { start: iso(Date.now() - DAY) },
    },
    obs('o2-h1', 'P2', 'Temperature'),
  ],
  S1: [
    cond('c-sti', 'P1', '105629000', 'Chlamydial infection'),
  ],
  // H3 treated P3 200 days ago, H4 80 days ago (the window is 90 days)
  H3: [{
    resourceType: 'Encounter', id: 'e-old', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/P3' },
    period: { start: iso(Date.now() - 205 * DAY), end: iso(Date.now() - 200 * DAY) },
  }],
  H4: [{
    resourceType: 'Encounter', id: 'e-recent', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: 'Patient/P3' },
    period: { start: iso(Date.now() - 85 * DAY), end: iso(Date.now() - 80 * DAY) },
  }],
};

// PUT every resource of the world, each as its organisation's system.
export async function buildWorld(node) {
  for (const [org, list] of Object.entries(WORLD)) {
    const token = node.token({ org, sub: `sys-${org}` });
    for (const res of list) {
      const r = await fhir(node, 'PUT', `${res.resourceType}/${res.id}`, { body: res, token });
      assert.ok(r.status === 201 || r.status === 200, `${org} PUT ${res.resourceType}/${res.id}: ${r.status} ${r.text}`);
    }
  }
}
