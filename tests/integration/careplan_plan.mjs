// careplan_plan.mjs: a whole Universal Care Plan to save in the tests
// (docs/care-plan.md is the model), shared by careplan.test.mjs and
// careplan_federation.test.mjs.
import crypto from 'node:crypto';

export const SCT = 'http://snomed.info/sct';
export const SD = 'https://carerecord.example/StructureDefinition/';
export const CEILING = 'https://carerecord.example/CodeSystem/ceiling-of-treatment';
export const UCP = 'https://carerecord.example/CodeSystem/ucp';
export const ROLECODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
export const V2_0131 = 'http://terminology.hl7.org/CodeSystem/v2-0131';
export const DAY = 86400000;
// The date 'n' days from today, YYYY-MM-DD.
export const day = (n) => new Date(Date.now() + n * DAY).toISOString().slice(0, 10);
export const uuid = () => `urn:uuid:${crypto.randomUUID()}`;
export const ext = (res, url) => (res.extension || []).find((e) => e.url === url);
// Reading a summary (a Parameters resource): the first parameter named,
// every parameter named, a part of a group.
export const param = (params, name) => params.parameter.find((p) => p.name === name);
export const params = (params, name) => params.parameter.filter((p) => p.name === name);
export const part = (p, name) => p.part.find((x) => x.name === name);

// A whole plan for patient 'pid': the CarePlan (entry 0), the CPR
// decision (1), an ADRT (2), the LPA flag (3), the daughter, next of kin
// (4), the son, attorney (5), a just-in-case medicine (6). 'edit' may
// change any entry's resource before the references are made.
export function planBundle(pid, edit = () => {}) {
  const u = { plan: uuid(), cpr: uuid(), adrt: uuid(), lpa: uuid(), nok: uuid(), attorney: uuid(), med: uuid() };
  const subject = { reference: `Patient/${pid}` };
  const r = {
    plan: {
      resourceType: 'CarePlan', status: 'active', intent: 'plan', title: 'Universal Care Plan',
      category: [{ coding: [{ system: SCT, code: '736373009', display: 'End of life care plan' }] }],
      subject, author: { reference: 'Practitioner/dr-green', display: 'Dr Gwen Green' },
      description: 'Metastatic lung cancer; prognosis of months',
      extension: [
        { url: `${SD}ucp-signed-off`, valueDateTime: day(-1) },
        { url: `${SD}ucp-review-date`, valueDate: day(180) },
        { url: `${SD}ucp-priorities`, extension: [{ url: 'scale', valueInteger: 80 }, { url: 'whatMattersToMe', valueString: 'Being at home with my cat and my daughter' }] },
        { url: `${SD}ucp-preferred-place-of-care`, valueCodeableConcept: { coding: [{ system: SCT, code: '264362003', display: 'Home' }] } },
        { url: `${SD}ucp-preferred-place-of-death`, valueCodeableConcept: { coding: [{ system: SCT, code: '284546000', display: 'Hospice' }], text: 'St Synthetic Hospice' } },
        { url: `${SD}ucp-prognosis`, valueCodeableConcept: { text: 'Months' } },
        { url: `${SD}ucp-capacity`, extension: [{ url: 'hasCapacity', valueBoolean: true }, { url: 'involvement', valueString: 'The person, with her daughter' }] },
      ],
      activity: [
        {
          detail: {
            code: { coding: [{ system: SCT, code: '735324008', display: 'Treatment escalation plan' }] },
            status: 'in-progress', description: 'Ward-based care; not for intensive care',
            extension: [{ url: `${SD}ucp-ceiling-of-treatment`, valueCodeableConcept: { coding: [{ system: CEILING, code: 'ward-based', display: 'Ward-based care; not for intensive care' }] } }],
          },
        },
        {
          detail: {
            code: { coding: [{ system: UCP, code: 'just-in-case-medicines', display: 'Just-in-case medicines' }] },
            status: 'in-progress', description: 'Midazolam 10mg/2ml, 5 ampoules',
            extension: [{ url: `${SD}ucp-where-kept`, valueString: 'Blue box on top of the fridge' }],
          },
        },
        { reference: { reference: u.med } },
      ],
      supportingInfo: [{ reference: u.cpr }, { reference: u.adrt }, { reference: u.lpa }, { reference: u.nok }, { reference: u.attorney }],
    },
    cpr: {
      resourceType: 'Flag', status: 'active',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'advance-directive' }] }],
      code: { coding: [{ system: SCT, code: '450476008', display: 'Not for cardiopulmonary resuscitation' }] },
      subject, period: { start: day(-1), end: day(180) },
      author: { reference: 'Practitioner/dr-green', display: 'Dr Gwen Green' },
      extension: [
        { url: `${SD}ucp-cpr-discussed-with`, valueString: 'The patient and her daughter' },
        { url: `${SD}ucp-cpr-recorder-senior`, valueBoolean: true },
      ],
    },
    adrt: {
      resourceType: 'Flag', status: 'active',
      code: { coding: [{ system: SCT, code: '816301000000100', display: 'Has advance decision to refuse treatment (Mental Capacity Act 2005)' }] },
      subject, extension: [{ url: `${SD}ucp-document-location`, valueString: 'Top drawer of the bureau in the hall' }],
    },
    lpa: {
      resourceType: 'Flag', status: 'active',
      code: { coding: [{ system: SCT, code: '816361000000101', display: 'Has appointed person with personal welfare lasting power of attorney (Mental Capacity Act 2005)' }] },
      subject,
    },
    nok: {
      resourceType: 'RelatedPerson', patient: subject, name: [{ family: 'Smith', given: ['Beth'] }],
      relationship: [{ coding: [{ system: ROLECODE, code: 'DAU', display: 'daughter' }] }, { coding: [{ system: V2_0131, code: 'N', display: 'Next-of-Kin' }] }],
      telecom: [{ system: 'phone', value: '07700 900123', use: 'mobile' }],
    },
    attorney: {
      resourceType: 'RelatedPerson', patient: subject, name: [{ family: 'Smith', given: ['Sam'] }],
      relationship: [{ coding: [{ system: ROLECODE, code: 'SON', display: 'son' }] }, { coding: [{ system: ROLECODE, code: 'HPOWATT', display: 'healthcare power of attorney' }] }],
      telecom: [{ system: 'phone', value: '07700 900456' }],
    },
    med: {
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject,
      medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: '36124911000001107', display: 'Midazolam 10mg/2ml solution for injection ampoules' }] },
    },
  };
  edit(r, u);
  const order = ['plan', 'cpr', 'adrt', 'lpa', 'nok', 'attorney', 'med'];
  return {
    resourceType: 'Bundle', type: 'collection',
    entry: order.filter((k) => r[k]).map((k) => ({ fullUrl: u[k], resource: r[k] })),
  };
}
