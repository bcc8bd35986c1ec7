// careplan-data.js: every read and write of the Universal Care Plan goes
// through here, so the pages never need to know how a plan is stored.
//
// The model is docs/care-plan.md: a CarePlan (category SNOMED 736373009,
// profile UCP-CarePlan) whose extensions hold the sign-off, review date,
// priorities, preferred places, prognosis and capacity, whose activities
// hold the ceiling of treatment and the just-in-case medicines, and whose
// supportingInfo names the CPR decision (a Flag: period.start the date of
// the decision, period.end its review date), the ADRT and LPA Flags and
// the key contacts (RelatedPerson); just-in-case MedicationRequests are
// activity references.
//
// Reads: the emergency summary is GET Patient/{id}/$care-plan-summary (a
// Parameters: parseSummary); the whole plan is Patient/{id}/$everything
// limited to the plan's types (planModel); its revisions are the
// CarePlan's _history, the _history of each part, and superseded plans
// through CarePlan.replaces (planHistory). Writes: the whole plan as one
// collection Bundle to POST Patient/{id}/$care-plan (planBundle,
// savePlan): new resources with urn:uuid fullUrls, a revision with
// If-Match; a 422 names every broken rule by element, which
// issuesToFields maps back to the form's fields.
// Depends on api.js and fhir.js; everything but the load and save
// functions is pure (tests/browser/logic.test.mjs runs it in Node).

import { request, get, getAll, ApiError } from './api.js';
import { SYS, CPR, cc, hasCoding, codeIn, refKey, keyOf, publisherOf, sourceNodeOf } from './fhir.js';

const SD = 'https://carerecord.example/StructureDefinition/';
const CS = 'https://carerecord.example/CodeSystem/';
export const PLAN_PROFILE = `${SD}UCP-CarePlan`;
const EXT = {
  review: `${SD}ucp-review-date`,
  signed: `${SD}ucp-signed-off`,
  recorded: `${SD}ucp-recorded-by`,
  priorities: `${SD}ucp-priorities`,
  placeCare: `${SD}ucp-preferred-place-of-care`,
  placeDeath: `${SD}ucp-preferred-place-of-death`,
  prognosis: `${SD}ucp-prognosis`,
  capacity: `${SD}ucp-capacity`,
  ceiling: `${SD}ucp-ceiling-of-treatment`,
  whereKept: `${SD}ucp-where-kept`,
  discussed: `${SD}ucp-cpr-discussed-with`,
  senior: `${SD}ucp-cpr-recorder-senior`,
  endorser: `${SD}ucp-cpr-senior-endorser`,
  cprReason: `${SD}ucp-cpr-reason`,
  location: `${SD}ucp-document-location`,
};
const CODE = {
  plan: '736373009', adrt: '816301000000100', lpa: '816361000000101', tep: '735324008', jic: 'just-in-case-medicines',
};
const CEILING_SYSTEM = `${CS}ceiling-of-treatment`;
const V3_ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const V2_0131 = 'http://terminology.hl7.org/CodeSystem/v2-0131';
const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';
const LPA_ROLE = 'HPOWATT';
// What the full plan, the form and the history read: the plan's types,
// the Patient, and the names of organisations, clinicians and problems.
const PLAN_TYPES = 'Patient,CarePlan,Flag,RelatedPerson,MedicationRequest,Condition,Organization,Practitioner';

export const PLACES = [
  { code: '264362003', display: 'Home' },
  { code: '284546000', display: 'Hospice' },
  { code: '22232009', display: 'Hospital' },
  { code: '42665001', display: 'Nursing home' },
];

export const CPR_CHOICES = [
  { code: CPR.no, display: 'Not for CPR: do not attempt cardiopulmonary resuscitation' },
  { code: CPR.yes, display: 'For CPR: attempt cardiopulmonary resuscitation' },
  { code: CPR.unknown, display: 'Not aware of a CPR decision (status unknown)' },
];

const CPR_DISPLAY = {
  [CPR.yes]: 'For cardiopulmonary resuscitation',
  [CPR.no]: 'Not for cardiopulmonary resuscitation',
  [CPR.unknown]: 'Not aware of do not attempt cardiopulmonary resuscitation clinical decision',
};

export const CPR_LABELS = {
  [CPR.yes]: 'For CPR',
  [CPR.no]: 'Not for CPR',
  [CPR.unknown]: 'CPR status unknown',
};

export const CEILINGS = [
  { code: 'full-escalation', display: 'Full escalation, including intensive care' },
  { code: 'ward-based', display: 'Ward-based care; not for intensive care' },
  { code: 'symptom-control', display: 'Symptom control and comfort; not for transfer to hospital' },
];

export const RELATIONSHIPS = [
  { code: 'WIFE', display: 'wife' }, { code: 'HUSB', display: 'husband' }, { code: 'SPS', display: 'spouse' },
  { code: 'DOMPART', display: 'domestic partner' },
  { code: 'DAU', display: 'daughter' }, { code: 'SON', display: 'son' }, { code: 'SIS', display: 'sister' },
  { code: 'BRO', display: 'brother' }, { code: 'NIECE', display: 'niece' }, { code: 'NEPHEW', display: 'nephew' },
  { code: 'FRND', display: 'unrelated friend' },
];

// ---- small readers ---------------------------------------------------------------

const extOf = (r, url) => (r?.extension || []).find((e) => e.url === url);
const subExt = (e, url) => (e?.extension || []).find((x) => x.url === url);
const valueOf = (x) => {
  if (!x) return undefined;
  for (const k of Object.keys(x)) if (k.startsWith('value')) return x[k];
  return undefined;
};
const refDisplay = (r) => r?.display || r?.identifier?.value || refKey(r) || '';
const clean = (o) => JSON.parse(JSON.stringify(o));      // drops undefined
const trim = (s) => String(s ?? '').trim();

// Today's date in the UK (YYYY-MM-DD): a CPR decision needs review from
// the first moment after its review date there, as the node decides.
export function ukToday(now = new Date()) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const get1 = (t) => parts.find((p) => p.type === t)?.value || '';
  return `${get1('year')}-${get1('month')}-${get1('day')}`;
}

const addDays = (date, n) => new Date(Date.parse(`${date}T12:00:00Z`) + n * 86400000).toISOString().slice(0, 10);

// "Hospice (St Synthetic Hospice)" from a place CodeableConcept.
export function placeText(c) {
  if (!c) return '';
  const coded = (c.coding || []).find((k) => k.display)?.display || PLACES.find((p) => hasCoding(c, SYS.sct, p.code))?.display || '';
  if (c.text && coded && c.text !== coded) return `${coded} (${c.text})`;
  return c.text || coded;
}

// The words of a place that the coded display does not already say
// ("St Synthetic Hospice" beside Hospice).
const placeDetail = (c) => (c?.text && c.text !== cc({ coding: c.coding || [] }) ? c.text : '');

export const isUcpPlan = (r) => r?.resourceType === 'CarePlan' &&
  (hasCoding(r.category, SYS.sct, CODE.plan) || (r.meta?.profile || []).includes(PLAN_PROFILE));

// The ODS code of the organisation a plan belongs to: its publisher
// (meta.tag, in federated answers), else the organisation of whoever
// saved it (only the publishing organisation revises a plan).
export function planOrganisation(plan) {
  return publisherOf(plan) || valueOf(subExt(extOf(plan, EXT.recorded), 'organization'))?.identifier?.value || '';
}

export const isCprFlag = (r) => r?.resourceType === 'Flag' &&
  [CPR.yes, CPR.no, CPR.unknown].some((c) => hasCoding(r.code, SYS.sct, c));
const isFlagCoded = (r, code) => r?.resourceType === 'Flag' && hasCoding(r.code, SYS.sct, code);

// A CPR decision Flag as the pages show it: the decision, its dates and
// whether it may be relied on, decided as the node's summary decides:
// for or not for CPR is 'valid' up to and including its review date and
// 'needs-review' after it or without one; 845151000000104 is 'unknown';
// an inactive Flag is 'not-recorded'. 'today' is the UK date.
export function cprFromFlag(flag, today = ukToday()) {
  if (!flag) return null;
  const code = codeIn(flag.code, SYS.sct);
  const decisionDate = flag.period?.start || '';
  const reviewDate = flag.period?.end || '';
  const review = reviewDate.slice(0, 10);
  let validity;
  if (flag.status !== 'active') validity = 'not-recorded';
  else if (code === CPR.unknown) validity = 'unknown';
  else if (!review || review < today) validity = 'needs-review';
  else validity = 'valid';
  const endorser = extOf(flag, EXT.endorser);
  return {
    code,
    label: CPR_LABELS[code] || cc(flag.code) || 'CPR decision recorded',
    decisionDate,
    reviewDate,
    validity,
    isOverdue: validity === 'needs-review',
    isDueSoon: validity === 'valid' && review <= addDays(today, 30),
    discussedWith: extOf(flag, EXT.discussed)?.valueString || '',
    reason: extOf(flag, EXT.cprReason)?.valueString || '',
    recordedBy: refDisplay(flag.author),
    isRecorderSenior: extOf(flag, EXT.senior)?.valueBoolean === true,
    endorser: refDisplay(valueOf(subExt(endorser, 'clinician'))),
    endorsed: valueOf(subExt(endorser, 'endorsed')) || '',
  };
}

// The patient's current Universal Care Plan among a record's resources
// (the active one written last) and its CPR decision, for the record's
// banner: { plan, cpr } (cpr from cprFromFlag, or null), or null.
export function currentPlanIn(resources, today = ukToday()) {
  const byKey = new Map(resources.map((r) => [keyOf(r), r]));
  const plans = resources.filter((r) => isUcpPlan(r) && r.status === 'active')
    .sort((a, b) => String(b.meta?.lastUpdated || '').localeCompare(String(a.meta?.lastUpdated || '')));
  const plan = plans[0] || null;
  if (!plan) return null;
  const flag = (plan.supportingInfo || []).map((s) => byKey.get(refKey(s))).find(isCprFlag);
  return { plan, cpr: cprFromFlag(flag, today) };
}

// Keys ("Type/id") of every resource that is part of a Universal Care
// Plan among 'resources' (the plans' Flags, contacts and medicines), so
// the record shows them with the plan rather than as loose alerts.
export function planPartKeys(resources) {
  const keys = new Set();
  for (const r of resources) {
    if (!isUcpPlan(r)) continue;
    for (const s of r.supportingInfo || []) keys.add(refKey(s));
    for (const a of r.activity || []) if (a.reference) keys.add(refKey(a.reference));
  }
  return keys;
}

// ---- the emergency summary -----------------------------------------------------

// The emergency summary from the node's $care-plan-summary Parameters
// (docs/care-plan.md, "The emergency summary"). Parts the node left out
// stay empty. Where the plan is kept is the 'source' parameter's 'node'
// part (docs/care-plan.md); failing that, a node may name it in meta.tag
// (https://carerecord.example/node) or a 'node' parameter.
export function parseSummary(params, { thisNode = '', today = ukToday() } = {}) {
  const list = params?.parameter || [];
  const one = (n) => list.find((p) => p.name === n);
  const all = (n) => list.filter((p) => p.name === n);
  const part = (p, n) => (p?.part || []).find((q) => q.name === n);
  const pv = (p, n) => {
    const v = valueOf(part(p, n));
    return v === '(not recorded)' ? undefined : v;
  };
  const pvs = (p, n) => (p?.part || []).filter((q) => q.name === n).map(valueOf).filter((v) => v !== undefined && v !== '(not recorded)');
  const cprP = one('cprDecision');
  const decision = pv(cprP, 'decision');
  const code = codeIn(decision, SYS.sct);
  const ceilingP = one('ceilingOfTreatment');
  const level = pv(ceilingP, 'level');
  const levelCode = codeIn(level, CEILING_SYSTEM);
  const prioritiesP = one('priorities');
  const capacityP = one('capacity');
  const adrtP = one('advanceDecisionToRefuseTreatment');
  const jicP = one('justInCaseMedicines');
  const signedP = one('signedOff');
  const updatedP = one('lastUpdated');
  const planRef = valueOf(one('plan'))?.reference || '';
  const m = /CarePlan\/([^/]+)(?:\/_history\/(\d+))?$/.exec(planRef);
  const nodeTag = (params?.meta?.tag || []).find((t) => t.system === SYS.node)?.code || '';
  const nodeParam = valueOf(one('node'));
  const sourceNode = pv(one('source'), 'node');
  const updatedBy = pv(updatedP, 'by');
  const updatedOrg = pv(updatedP, 'organization');
  const role = pv(updatedP, 'role');
  const hasCapacity = pv(capacityP, 'hasCapacity');
  const validity = pv(cprP, 'validity')?.code || 'not-recorded';
  const reviewDate = pv(cprP, 'reviewDate') || '';
  return {
    patient: { ref: valueOf(one('patient'))?.reference || '', name: valueOf(one('patient'))?.display || '' },
    nhsNumber: valueOf(one('nhsNumber'))?.value || '',
    birthDate: valueOf(one('birthDate')) || '',
    hasPlan: valueOf(one('hasPlan')) === true,
    cpr: {
      validity,
      message: pv(cprP, 'message') || '',
      code,
      label: CPR_LABELS[code] || cc(decision) || '',
      decisionDate: pv(cprP, 'decisionDate') || '',
      reviewDate,
      isDueSoon: validity === 'valid' && Boolean(reviewDate) && reviewDate.slice(0, 10) <= addDays(today, 30),
      discussedWith: pv(cprP, 'discussedWith') || '',
      reason: pv(cprP, 'reason') || '',
      recordedBy: refDisplay(pv(cprP, 'recordedBy')),
      endorser: refDisplay(pv(cprP, 'seniorEndorser')),
    },
    ceiling: ceilingP ? {
      level: levelCode,
      levelText: CEILINGS.find((c) => c.code === levelCode)?.display || cc(level) || '',
      recommendations: pv(ceilingP, 'recommendations') || '',
    } : null,
    priorities: prioritiesP ? { scale: pv(prioritiesP, 'scale') ?? null, whatMatters: pv(prioritiesP, 'whatMattersToMe') || '' } : null,
    placeOfCare: placeText(valueOf(one('preferredPlaceOfCare'))),
    placeOfDeath: placeText(valueOf(one('preferredPlaceOfDeath'))),
    prognosis: cc(valueOf(one('prognosis'))),
    capacity: capacityP ? { hasCapacity: typeof hasCapacity === 'boolean' ? hasCapacity : null, involvement: pv(capacityP, 'involvement') || '' } : null,
    contacts: all('contact').map((c) => {
      const isNok = pv(c, 'nextOfKin') === true;
      const isLpa = pv(c, 'lastingPowerOfAttorney') === true;
      // the relationships in words, but for what the flags below say
      const said = (w) => (isNok && /^next[ -]of[ -]kin$/i.test(w)) || (isLpa && /power of attorney/i.test(w)) || /^emergency contact$/i.test(w);
      return {
        name: pv(c, 'name') || '',
        relationship: String(pv(c, 'relationship') || '').split(', ').filter((w) => w && !said(w)).join(', '),
        phones: pvs(c, 'phone'),
        isNok,
        isLpa,
        ref: pv(c, 'contact')?.reference || '',
      };
    }),
    lpa: one('lastingPowerOfAttorney') ? valueOf(one('lastingPowerOfAttorney')) === true : null,
    adrt: adrtP ? { recorded: pv(adrtP, 'recorded') === true, whereKept: pv(adrtP, 'whereKept') || '' } : null,
    jic: jicP ? { whereKept: pv(jicP, 'whereKept') || '', details: pv(jicP, 'details') || '', medicines: pvs(jicP, 'medicine') } : null,
    planReviewDate: valueOf(one('planReviewDate')) || '',
    planNeedsReview: valueOf(one('planNeedsReview')) === true,
    signedOff: signedP ? { by: refDisplay(pv(signedP, 'by')), when: pv(signedP, 'when') || '' } : null,
    lastUpdated: updatedP ? {
      by: updatedBy?.display || updatedBy?.identifier?.value || '',
      org: updatedOrg?.identifier?.value || refKey(updatedOrg).replace(/^Organization\//, '') || '',
      orgName: updatedOrg?.display || '',
      role: role?.display || role?.code || '',
      when: pv(updatedP, 'when') || '',
    } : null,
    plan: m ? { ref: planRef, id: m[1], version: m[2] || '', title: valueOf(one('plan'))?.display || '' } : null,
    withheld: valueOf(one('withheld')) || '',
    node: (typeof sourceNode === 'string' && sourceNode) || nodeTag || (typeof nodeParam === 'string' ? nodeParam : nodeParam?.code || nodeParam?.value || '') || '',
    thisNode,
  };
}

// The emergency summary of a patient; 'reason' is the X-Access-Reason
// value or ''. Throws ApiError (403 when the caller may not see it).
export async function loadSummary(patientId, reason, { thisNode = '' } = {}) {
  const p = await get(`Patient/${encodeURIComponent(patientId)}/$care-plan-summary`, { reason });
  return parseSummary(p, { thisNode });
}

const orgNames = new Map();
// The name of the organisation with ODS code 'ods' (from the node's
// directory), or '' when it cannot be read. Cached for the page.
export function organisationName(ods) {
  if (!ods) return Promise.resolve('');
  if (!orgNames.has(ods)) {
    orgNames.set(ods, get(`Organization?identifier=${encodeURIComponent(`${SYS.ods}|${ods}`)}`)
      .then((b) => b?.entry?.find((e) => e.resource?.resourceType === 'Organization')?.resource?.name || '')
      .catch(() => ''));
  }
  return orgNames.get(ods);
}

// ---- the whole plan ---------------------------------------------------------------

function contactOf(ref, rp) {
  const n = rp.name?.[0] || {};
  return {
    ref,
    id: rp.id,
    res: rp,
    given: (n.given || []).join(' '),
    family: n.family || '',
    name: n.text || [...(n.given || []), n.family].filter(Boolean).join(' '),
    relationship: (rp.relationship || []).map((r) => codeIn(r, V3_ROLE)).find((c) => c && c !== LPA_ROLE) || '',
    relationshipText: (rp.relationship || []).filter((r) => !hasCoding(r, V2_0131) && !hasCoding(r, V3_ROLE, LPA_ROLE)).map((r) => cc(r)).filter(Boolean).join(', '),
    phone: (rp.telecom || []).find((t) => t.system === 'phone')?.value || '',
    isNok: hasCoding(rp.relationship, V2_0131, 'N'),
    isEmergency: hasCoding(rp.relationship, V2_0131, 'C'),
    isLpa: hasCoding(rp.relationship, V3_ROLE, LPA_ROLE),
  };
}

// A plan as the pages show it, from its CarePlan and 'byRef' (a Map of
// "Type/id" to the resources it refers to, as far as the caller may see
// them). References that could not be read are kept in 'unread' so a
// revision leaves them in place.
export function planModel(plan, byRef, { today = ukToday(), thisNode = '', orgName = (c) => c } = {}) {
  const info = (plan.supportingInfo || []).map((s) => ({ ref: refKey(s), raw: s, res: byRef.get(refKey(s)) || null }));
  const cprPart = info.find((p) => isCprFlag(p.res));
  const adrtPart = info.find((p) => isFlagCoded(p.res, CODE.adrt));
  const lpaPart = info.find((p) => isFlagCoded(p.res, CODE.lpa));
  const activity = plan.activity || [];
  const ceilingAct = activity.find((a) => hasCoding(a.detail?.code, SYS.sct, CODE.tep));
  const jicAct = activity.find((a) => hasCoding(a.detail?.code, SYS.ucp, CODE.jic));
  const level = valueOf(extOf(ceilingAct?.detail, EXT.ceiling));
  const levelCode = codeIn(level, CEILING_SYSTEM);
  const priorities = extOf(plan, EXT.priorities);
  const capacity = extOf(plan, EXT.capacity);
  const hasCapacity = valueOf(subExt(capacity, 'hasCapacity'));
  const recorded = extOf(plan, EXT.recorded);
  const who = valueOf(subExt(recorded, 'who'));
  const role = valueOf(subExt(recorded, 'role'));
  const place = (url) => {
    const c = valueOf(extOf(plan, url));
    return c ? { code: codeIn(c, SYS.sct), text: placeText(c), detail: placeDetail(c), res: c } : null;
  };
  const review = valueOf(extOf(plan, EXT.review)) || '';
  const org = planOrganisation(plan);
  const meds = activity.filter((a) => a.reference).map((a) => ({ ref: refKey(a.reference), res: byRef.get(refKey(a.reference)) || null }));
  const known = new Set([cprPart, adrtPart, lpaPart].filter(Boolean).map((p) => p.ref));
  return {
    id: plan.id,
    version: plan.meta?.versionId || '',
    lastUpdated: plan.meta?.lastUpdated || '',
    res: plan,
    status: plan.status,
    title: plan.title || 'Universal Care Plan',
    replaces: (plan.replaces || []).map((r) => refKey(r).replace(/^CarePlan\//, '')).filter(Boolean),
    org,
    orgName: org ? orgName(org) : '',
    node: sourceNodeOf(plan, thisNode),
    description: plan.description || '',
    conditions: (plan.addresses || []).map((r) => cc(byRef.get(refKey(r))?.code) || r.display || '').filter(Boolean),
    author: refDisplay(plan.author),
    signedOff: valueOf(extOf(plan, EXT.signed)) || '',
    reviewDate: review,
    needsReview: Boolean(review) && review.slice(0, 10) < today,
    priorities: {
      scale: valueOf(subExt(priorities, 'scale')) ?? null,
      whatMatters: valueOf(subExt(priorities, 'whatMattersToMe')) || '',
    },
    placeOfCare: place(EXT.placeCare),
    placeOfDeath: place(EXT.placeDeath),
    prognosis: cc(valueOf(extOf(plan, EXT.prognosis))),
    capacity: {
      hasCapacity: typeof hasCapacity === 'boolean' ? hasCapacity : null,
      involvement: valueOf(subExt(capacity, 'involvement')) || '',
    },
    ceiling: ceilingAct ? {
      level: levelCode,
      levelText: CEILINGS.find((c) => c.code === levelCode)?.display || cc(level) || '',
      recommendations: ceilingAct.detail?.description || '',
    } : null,
    jic: jicAct ? { whereKept: valueOf(extOf(jicAct.detail, EXT.whereKept)) || '', details: jicAct.detail?.description || '' } : null,
    medicines: meds.map((m) => ({ ...m, id: m.res?.id || '', name: m.res ? cc(m.res.medicationCodeableConcept) || refDisplay(m.res.medicationReference) || 'Medicine' : '' })),
    cpr: cprPart ? { ...cprFromFlag(cprPart.res, today), ref: cprPart.ref, id: cprPart.res.id, res: cprPart.res } : null,
    adrt: adrtPart ? {
      ref: adrtPart.ref, id: adrtPart.res.id, res: adrtPart.res, active: adrtPart.res.status === 'active',
      whereKept: extOf(adrtPart.res, EXT.location)?.valueString || '',
    } : null,
    lpa: lpaPart ? { ref: lpaPart.ref, id: lpaPart.res.id, res: lpaPart.res, active: lpaPart.res.status === 'active' } : null,
    contacts: info.filter((p) => p.res?.resourceType === 'RelatedPerson').map((p) => contactOf(p.ref, p.res)),
    // referred to, but not read (withheld) or not a kind this page edits
    others: info.filter((p) => !known.has(p.ref) && p.res?.resourceType !== 'RelatedPerson').map((p) => p.raw),
    unreadMedicines: meds.filter((m) => !m.res).map((m) => m.ref),
    recordedBy: recorded ? {
      who: who?.display || who?.identifier?.value || '',
      whoId: who?.identifier?.value || '',
      org: valueOf(subExt(recorded, 'organization'))?.identifier?.value || '',
      role: role?.display || role?.code || '',
      recorded: valueOf(subExt(recorded, 'recorded')) || '',
    } : null,
  };
}

// Everything the plan pages need for one patient: { patient, current
// (the current plan's model, or null), plans (every Universal Care Plan
// of the person, current first, then newest first), byRef, outcomes }.
export async function loadPlan(patientId, reason, { thisNode = '' } = {}) {
  const { resources, outcomes } = await getAll(`Patient/${encodeURIComponent(patientId)}/$everything?_type=${PLAN_TYPES}&_count=1000`, { reason });
  const byRef = new Map(resources.map((r) => [keyOf(r), r]));
  const orgs = new Map();
  for (const r of resources) {
    if (r.resourceType !== 'Organization') continue;
    orgs.set(r.id, r.name);
    const ods = (r.identifier || []).find((i) => i.system === SYS.ods)?.value;
    if (ods) orgs.set(ods, r.name);
  }
  // organisations that wrote a plan but are not in the record's answer
  const codes = new Set();
  for (const r of resources) {
    if (!isUcpPlan(r)) continue;
    codes.add(planOrganisation(r));
  }
  await Promise.all([...codes].filter((c) => c && !orgs.has(c)).map(async (c) => {
    const name = await organisationName(c);
    if (name) orgs.set(c, name);
  }));
  const today = ukToday();
  const orgName = (c) => orgs.get(c) || c;
  const plans = resources.filter(isUcpPlan)
    .map((p) => planModel(p, byRef, { today, thisNode, orgName }))
    .sort((a, b) => (a.status === 'active' ? 0 : 1) - (b.status === 'active' ? 0 : 1) || b.lastUpdated.localeCompare(a.lastUpdated));
  const patient = resources.find((r) => r.resourceType === 'Patient' && r.id === patientId) ||
    resources.find((r) => r.resourceType === 'Patient') || null;
  return { patient, current: plans.find((p) => p.status === 'active') || null, plans, byRef, orgName, outcomes };
}

// ---- the form ----------------------------------------------------------------------

// The form's starting values: from a plan's model, or for a new plan
// (the signed-in user 'user' signs it off today).
export function formFrom(model, { user = null, today = ukToday() } = {}) {
  if (!model) {
    return {
      cpr: '', cprDate: today, cprReview: '', discussedWith: '', cprReason: '', recorderSenior: false, endorser: '', endorsed: '',
      ceiling: '', recommendations: '', scale: '', whatMatters: '', description: '', prognosis: '',
      placeOfCare: '', placeOfCareText: '', placeOfDeath: '', placeOfDeathText: '', hasCapacity: '', involvement: '',
      adrt: 'no', adrtLocation: '', lpa: 'no', contacts: [], jicWhereKept: '', jicDetails: '', medicines: [],
      author: user?.name || '', signedOff: today, planReview: '',
    };
  }
  const cpr = model.cpr;
  return {
    cpr: cpr?.code || '',
    cprDate: (cpr?.decisionDate || '').slice(0, 10),
    cprReview: (cpr?.reviewDate || '').slice(0, 10),
    discussedWith: cpr?.discussedWith || '',
    cprReason: cpr?.reason || '',
    recorderSenior: Boolean(cpr?.isRecorderSenior),
    endorser: cpr?.endorser || '',
    endorsed: (cpr?.endorsed || '').slice(0, 10),
    ceiling: model.ceiling?.level || '',
    recommendations: model.ceiling?.recommendations || '',
    scale: model.priorities.scale === null || model.priorities.scale === undefined ? '' : String(model.priorities.scale),
    whatMatters: model.priorities.whatMatters,
    description: model.description,
    prognosis: model.prognosis,
    placeOfCare: model.placeOfCare?.code || '',
    placeOfCareText: model.placeOfCare?.detail || '',
    placeOfDeath: model.placeOfDeath?.code || '',
    placeOfDeathText: model.placeOfDeath?.detail || '',
    hasCapacity: model.capacity.hasCapacity === true ? 'yes' : model.capacity.hasCapacity === false ? 'no' : '',
    involvement: model.capacity.involvement,
    adrt: model.adrt?.active ? 'yes' : 'no',
    adrtLocation: model.adrt?.active ? model.adrt.whereKept : '',
    lpa: model.lpa?.active ? 'yes' : 'no',
    contacts: model.contacts.map((c) => ({
      id: c.id, res: c.res, given: c.given, family: c.family, relationship: c.relationship, phone: c.phone, isNok: c.isNok, isLpa: c.isLpa,
    })),
    jicWhereKept: model.jic?.whereKept || '',
    jicDetails: model.jic?.details || '',
    medicines: model.medicines.filter((m) => m.res).map((m) => ({ id: m.id, res: m.res, name: m.name })),
    author: model.author,
    signedOff: (model.signedOff || '').slice(0, 10),
    planReview: (model.reviewDate || '').slice(0, 10),
  };
}

const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || '') && !Number.isNaN(Date.parse(s));

// What can be told about a form before the node sees it: dates that are
// not dates or are in the future, a scale outside 0 to 100, a phone
// number with letters. Each { field, message }. The plan's rules (what
// is required with what) are the node's: a save answers them all at
// once (issuesToFields).
export function checkForm(f, today = ukToday()) {
  const errors = [];
  const err = (field, message) => errors.push({ field, message });
  for (const [field, label] of [['cprDate', 'The date of the CPR decision'], ['cprReview', 'The review date'], ['endorsed', 'The date of endorsement'],
    ['signedOff', 'The sign-off date'], ['planReview', 'The plan\'s review date']]) {
    if (f[field] && !isDate(f[field])) err(field, `${label} must be a real date`);
  }
  if (isDate(f.cprDate) && f.cprDate > today) err('cprDate', 'The date of the CPR decision cannot be in the future');
  if (isDate(f.signedOff) && f.signedOff > today) err('signedOff', 'The plan cannot be signed off in the future');
  if (trim(f.scale) !== '' && !(/^\d{1,3}$/.test(trim(f.scale)) && Number(f.scale) <= 100)) {
    err('scale', 'The scale is a whole number from 0 (sustaining life) to 100 (comfort)');
  }
  (f.contacts || []).forEach((c, i) => {
    if (c.removed) return;
    if (trim(c.phone) && !/^\+?[\d ()-]{6,20}$/.test(trim(c.phone))) {
      err(`contact-${i}-phone`, `Contact ${i + 1}: a phone number holds digits, spaces and + ( ) - only`);
    }
  });
  return errors;
}

// ---- saving ---------------------------------------------------------------------------

// An RFC 4122 version 4 UUID (getRandomValues also works where the page
// is not a secure context, unlike crypto.randomUUID).
export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// How a save by 'user' treats the current plan: 'new' when there is
// none, 'revise' when the user's organisation published it, 'replace'
// when another organisation did (only it may revise it; any other writes
// a plan of its own, which supersedes it).
export function saveMode(current, user) {
  if (!current) return 'new';
  return !current.org || current.org === user?.org ? 'revise' : 'replace';
}

function userRef(user) {
  return clean({
    type: 'Practitioner',
    identifier: user?.sub ? { system: SYS.sds, value: user.sub } : undefined,
    display: user?.name || undefined,
  });
}

// Set (or, for an empty value, remove) extension 'url' of 'r' in place,
// keeping the order of the others so an unchanged resource stays equal.
function setExt(r, url, value) {
  const list = r.extension || [];
  const i = list.findIndex((e) => e.url === url);
  if (value === undefined || value === null || value === '') {
    if (i >= 0) list.splice(i, 1);
  } else {
    const e = { url, ...value };
    if (i >= 0) list[i] = e; else list.push(e);
  }
  if (list.length) r.extension = list; else delete r.extension;
}

// A copy of a stored resource to send again: without the server's meta
// but for the profiles its writer declared.
function copyOf(res) {
  if (!res) return null;
  const r = structuredClone(res);
  if (r.meta?.profile) r.meta = { profile: r.meta.profile }; else delete r.meta;
  return r;
}

const sct = (code, display) => ({ coding: [{ system: SYS.sct, code, display }] });
const placeCc = (code, text, old) => {
  if (old && codeIn(old, SYS.sct) === code && placeDetail(old) === trim(text)) return old;
  const p = PLACES.find((x) => x.code === code);
  return clean({ coding: code ? [{ system: SYS.sct, code, display: p?.display || code }] : undefined, text: trim(text) || undefined });
};

// The collection Bundle that saves the plan the form describes, with
// the layout that maps each entry (and each activity and supportingInfo
// of the CarePlan) back to the form, for issuesToFields. 'current' is the
// current plan's model (or null), 'mode' from saveMode: a revision sends
// the resources it read with their ids (an unchanged one is not written
// again); a new plan or a replacement sends new resources only.
export function planBundle({ patientId, current, form, user, mode = saveMode(current, user), today = ukToday() }) {
  const keep = mode === 'revise';
  const subject = { reference: `Patient/${patientId}` };
  const me = userRef(user);
  const entry = [null];
  const layout = { entries: [{ kind: 'plan' }], activity: {}, supportingInfo: {}, mode };
  const add = (kind, old, resource, extra = {}) => {
    let fullUrl;
    if (keep && old?.id) {
      resource.id = old.id;
      fullUrl = `${resource.resourceType}/${old.id}`;
    } else {
      delete resource.id;
      fullUrl = `urn:uuid:${uuid()}`;
    }
    entry.push({ fullUrl, resource });
    layout.entries.push({ kind, ...extra });
    return fullUrl;
  };
  const supporting = [];

  // The CPR decision: revised in place, so it keeps its history. Its
  // recorder changes only when the decision does.
  if (form.cpr) {
    const was = formFrom(current);
    const changed = ['cpr', 'cprDate', 'cprReview', 'discussedWith', 'cprReason', 'recorderSenior', 'endorser', 'endorsed']
      .some((k) => String(form[k] ?? '') !== String(was[k] ?? ''));
    const old = current?.cpr?.res;
    const f = copyOf(old) || { resourceType: 'Flag' };
    f.status = 'active';
    if (!f.category) f.category = [{ coding: [{ system: FLAG_CATEGORY, code: 'advance-directive', display: 'Advance Directive' }] }];
    if (codeIn(f.code, SYS.sct) !== form.cpr) f.code = sct(form.cpr, CPR_DISPLAY[form.cpr]);
    f.subject = subject;
    f.period = clean({ start: form.cprDate || undefined, end: form.cprReview || undefined });
    if (!Object.keys(f.period).length) delete f.period;
    if (changed || !f.author) f.author = me;
    setExt(f, EXT.discussed, trim(form.discussedWith) ? { valueString: trim(form.discussedWith) } : null);
    setExt(f, EXT.senior, form.recorderSenior ? { valueBoolean: true } : null);
    setExt(f, EXT.endorser, trim(form.endorser) ? {
      extension: clean([{ url: 'clinician', valueReference: { display: trim(form.endorser) } },
        form.endorsed ? { url: 'endorsed', valueDateTime: form.endorsed } : undefined]).filter(Boolean),
    } : null);
    setExt(f, EXT.cprReason, trim(form.cprReason) ? { valueString: trim(form.cprReason) } : null);
    supporting.push({ ref: add('cpr', current?.cpr, f), kind: 'cpr' });
  }
  // Advance decision to refuse treatment, lasting power of attorney: a
  // Flag each while they exist; one left out is made inactive by the node.
  if (form.adrt === 'yes') {
    const old = current?.adrt?.active ? current.adrt : null;
    const f = copyOf(old?.res) || { resourceType: 'Flag' };
    f.status = 'active';
    if (!f.category) f.category = [{ coding: [{ system: FLAG_CATEGORY, code: 'advance-directive', display: 'Advance Directive' }] }];
    f.code = f.code || sct(CODE.adrt, 'Has advance decision to refuse treatment (Mental Capacity Act 2005)');
    f.subject = subject;
    setExt(f, EXT.location, trim(form.adrtLocation) ? { valueString: trim(form.adrtLocation) } : null);
    supporting.push({ ref: add('adrt', old, f), kind: 'adrt' });
  }
  if (form.lpa === 'yes') {
    const old = current?.lpa?.active ? current.lpa : null;
    const f = copyOf(old?.res) || { resourceType: 'Flag' };
    f.status = 'active';
    f.code = f.code || sct(CODE.lpa, 'Has appointed person with personal welfare lasting power of attorney (Mental Capacity Act 2005)');
    f.subject = subject;
    supporting.push({ ref: add('lpa', old, f), kind: 'lpa' });
  }
  // Key contacts
  (form.contacts || []).forEach((c, i) => {
    if (c.removed) return;
    const rp = copyOf(c.res) || { resourceType: 'RelatedPerson', active: true };
    rp.patient = subject;
    const rel = RELATIONSHIPS.find((r) => r.code === c.relationship);
    const kept = (rp.relationship || []).filter((r) => !hasCoding(r, V3_ROLE) && !hasCoding(r, V2_0131));
    rp.relationship = [
      ...(rel ? [{ coding: [{ system: V3_ROLE, code: rel.code, display: rel.display }] }] : []),
      ...(c.isNok ? [{ coding: [{ system: V2_0131, code: 'N', display: 'Next-of-Kin' }] }] : [{ coding: [{ system: V2_0131, code: 'C', display: 'Emergency Contact' }] }]),
      ...(c.isLpa ? [{ coding: [{ system: V3_ROLE, code: LPA_ROLE, display: 'healthcare power of attorney' }] }] : []),
      ...kept,
    ];
    const oldName = rp.name?.[0] || {};
    const name = clean({ ...oldName, text: undefined, family: trim(c.family) || undefined, given: trim(c.given) ? [trim(c.given)] : undefined });
    if (Object.keys(name).length) rp.name = [name, ...(rp.name || []).slice(1)]; else delete rp.name;
    const others = (rp.telecom || []).filter((t) => t.system !== 'phone');
    const oldPhone = (rp.telecom || []).find((t) => t.system === 'phone');
    const phone = trim(c.phone) ? (oldPhone?.value === trim(c.phone) ? oldPhone : { system: 'phone', value: trim(c.phone) }) : null;
    rp.telecom = [...(phone ? [phone] : []), ...others];
    if (!rp.telecom.length) delete rp.telecom;
    supporting.push({ ref: add('contact', c.id ? c : null, rp, { index: i }), kind: 'contact', index: i });
  });
  // Just-in-case medicines
  const medRefs = [];
  (form.medicines || []).forEach((m, i) => {
    if (m.removed || !trim(m.name)) return;
    const same = m.res && cc(m.res.medicationCodeableConcept) === trim(m.name);
    const mr = same ? copyOf(m.res) : clean({
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject,
      medicationCodeableConcept: { text: trim(m.name) }, authoredOn: today,
    });
    medRefs.push({ ref: add('medicine', same ? m : null, mr, { index: i }), index: i });
  });

  // The CarePlan
  const plan = copyOf(current?.res) || {};
  plan.resourceType = 'CarePlan';
  if (keep) plan.id = current.id; else { delete plan.id; delete plan.replaces; }
  plan.status = 'active';
  plan.intent = 'plan';
  if (!hasCoding(plan.category, SYS.sct, CODE.plan)) {
    plan.category = [{ coding: [{ system: SYS.sct, code: CODE.plan, display: 'End of life care plan' }] }, ...(plan.category || [])];
  }
  plan.title = plan.title || 'Universal Care Plan';
  plan.subject = subject;
  if (!current || trim(form.author) !== trim(current.author) || !keep) {
    plan.author = trim(form.author) === trim(user?.name) ? me : (trim(form.author) ? { display: trim(form.author) } : undefined);
    if (!plan.author) delete plan.author;
  }
  if (trim(form.description)) plan.description = trim(form.description); else delete plan.description;
  setExt(plan, EXT.recorded, null);         // the node writes who saved it
  setExt(plan, EXT.signed, form.signedOff ? { valueDateTime: form.signedOff } : null);
  setExt(plan, EXT.review, form.planReview ? { valueDate: form.planReview } : null);
  const scale = trim(form.scale);
  setExt(plan, EXT.priorities, scale !== '' || trim(form.whatMatters) ? {
    extension: clean([scale !== '' ? { url: 'scale', valueInteger: Number(scale) } : undefined,
      trim(form.whatMatters) ? { url: 'whatMattersToMe', valueString: trim(form.whatMatters) } : undefined]).filter(Boolean),
  } : null);
  for (const [url, code, text, old] of [[EXT.placeCare, form.placeOfCare, form.placeOfCareText, current?.placeOfCare?.res],
    [EXT.placeDeath, form.placeOfDeath, form.placeOfDeathText, current?.placeOfDeath?.res]]) {
    setExt(plan, url, code || trim(text) ? { valueCodeableConcept: placeCc(code, text, old) } : null);
  }
  const oldPrognosis = valueOf(extOf(current?.res, EXT.prognosis));
  setExt(plan, EXT.prognosis, trim(form.prognosis)
    ? { valueCodeableConcept: cc(oldPrognosis) === trim(form.prognosis) ? oldPrognosis : { text: trim(form.prognosis) } } : null);
  setExt(plan, EXT.capacity, form.hasCapacity || trim(form.involvement) ? {
    extension: clean([form.hasCapacity ? { url: 'hasCapacity', valueBoolean: form.hasCapacity === 'yes' } : undefined,
      trim(form.involvement) ? { url: 'involvement', valueString: trim(form.involvement) } : undefined]).filter(Boolean),
  } : null);

  const oldActs = plan.activity || [];
  const activity = [];
  if (form.ceiling) {
    const old = oldActs.find((a) => hasCoding(a.detail?.code, SYS.sct, CODE.tep));
    const a = old ? structuredClone(old) : { detail: { code: sct(CODE.tep, 'Treatment escalation plan'), status: 'in-progress' } };
    const level = CEILINGS.find((c) => c.code === form.ceiling);
    if (codeIn(valueOf(extOf(a.detail, EXT.ceiling)), CEILING_SYSTEM) !== form.ceiling) {
      setExt(a.detail, EXT.ceiling, { valueCodeableConcept: { coding: [{ system: CEILING_SYSTEM, code: form.ceiling, display: level?.display || form.ceiling }] } });
    }
    if (trim(form.recommendations)) a.detail.description = trim(form.recommendations); else delete a.detail.description;
    layout.activity[activity.length] = { field: 'ceiling' };
    activity.push(a);
  }
  if (trim(form.jicWhereKept) || trim(form.jicDetails) || medRefs.length) {
    const old = oldActs.find((a) => hasCoding(a.detail?.code, SYS.ucp, CODE.jic));
    const a = old ? structuredClone(old) : { detail: { code: { coding: [{ system: SYS.ucp, code: CODE.jic, display: 'Just-in-case medicines' }] }, status: 'in-progress' } };
    setExt(a.detail, EXT.whereKept, trim(form.jicWhereKept) ? { valueString: trim(form.jicWhereKept) } : null);
    if (trim(form.jicDetails)) a.detail.description = trim(form.jicDetails); else delete a.detail.description;
    layout.activity[activity.length] = { field: 'jicWhereKept' };
    activity.push(a);
  }
  for (const m of medRefs) {
    layout.activity[activity.length] = { field: `med-${m.index}-name` };
    activity.push({ reference: { reference: m.ref } });
  }
  // activities this form does not edit, and medicines it could not read
  for (const a of oldActs) {
    if (a.reference || hasCoding(a.detail?.code, SYS.sct, CODE.tep) || hasCoding(a.detail?.code, SYS.ucp, CODE.jic)) continue;
    activity.push(a);
  }
  for (const ref of current?.unreadMedicines || []) activity.push({ reference: { reference: ref } });
  if (activity.length) plan.activity = activity; else delete plan.activity;

  const info = supporting.map((s) => ({ reference: s.ref }));
  supporting.forEach((s, k) => { layout.supportingInfo[k] = s; });
  for (const o of current?.others || []) info.push(o);
  if (info.length) plan.supportingInfo = info; else delete plan.supportingInfo;
  entry[0] = { fullUrl: keep ? `CarePlan/${current.id}` : `urn:uuid:${uuid()}`, resource: plan };
  return { bundle: { resourceType: 'Bundle', type: 'collection', entry }, layout };
}

// Friendly words for a broken rule at a field; the node's diagnostics
// when the field says nothing more specific.
function ruleMessage(field, issue, form) {
  const code = issue.code;
  const contact = /^contact-(\d+)-/.exec(field);
  const who = contact ? `Contact ${Number(contact[1]) + 1}` : '';
  const m = {
    cpr: 'Choose the CPR decision',
    cprDate: 'Enter the date the CPR decision was made',
    cprReview: code === 'value' ? 'The review date cannot be before the date of the decision'
      : 'Enter the date by which the CPR decision must be reviewed: a decision is valid only until then',
    discussedWith: 'Say with whom the decision was discussed (the person, their family, their attorney), or why it was not',
    endorser: 'Name the senior clinician who endorsed this decision, or tick that you are its senior responsible clinician',
    ceiling: 'Choose the ceiling of treatment',
    adrtLocation: 'Say where the advance decision to refuse treatment is kept',
    jicWhereKept: 'Say where the just-in-case medicines are kept, so that whoever comes can find them',
    author: 'Name the clinician responsible for the plan, who signs it off',
    signedOff: 'Enter the date the plan was signed off',
    planReview: code === 'value' ? 'The plan\'s review date cannot be before it was signed off' : 'Enter the date by which the plan is to be reviewed',
    scale: 'The scale runs from 0 (sustaining life) to 100 (comfort)',
    whatMatters: 'Give the priority scale, or what matters to the person, or both',
    hasCapacity: 'Say whether the person could take part in making this plan',
    involvement: 'The person lacked capacity: say who was involved in making the plan on their behalf',
    lpa: code === 'business-rule'
      ? `${form?.contacts?.[issue.contactIndex]?.given ? `${trim(`${form.contacts[issue.contactIndex].given} ${form.contacts[issue.contactIndex].family || ''}`)} holds` : 'A contact holds'} a lasting power of attorney: answer Yes, a lasting power of attorney is in place`
      : '',
  };
  if (contact && field.endsWith('-family')) return `${who}: enter a name`;
  if (contact && field.endsWith('-phone')) return `${who}: enter a phone number: the plan is read in emergencies to know whom to call`;
  return m[field] || issue.diagnostics || issue.details?.text || 'This is not right';
}

// The form fields a save's OperationOutcome names: each issue's
// expression (Bundle.entry[i].resource…) resolved through the layout
// planBundle gave. Resolves to [{ field, message, code }], field '' for
// an issue no single field can fix (shown in the error summary only).
export function issuesToFields(outcome, layout, form = null) {
  const out = [];
  for (const issue of outcome?.issue || []) {
    if (issue.severity === 'information' || issue.severity === 'warning') continue;
    const ex = issue.expression?.[0] || '';
    const m = /^Bundle\.entry\[(\d+)\]\.resource(.*)$/.exec(ex);
    const e = m ? layout.entries[Number(m[1])] : null;
    const rest = m ? m[2] : '';
    let field = '';
    const extra = {};
    switch (e?.kind) {
      case 'plan': {
        let a;
        if (/^\.author/.test(rest)) field = 'author';
        else if (rest.includes('ucp-signed-off')) field = 'signedOff';
        else if (rest.includes('ucp-review-date')) field = 'planReview';
        else if (rest.includes('ucp-priorities')) field = rest.includes("url='scale'") ? 'scale' : 'whatMatters';
        else if (rest.includes('ucp-capacity')) field = rest.includes('involvement') ? 'involvement' : 'hasCapacity';
        else if (rest === '.activity') field = 'ceiling';
        else if ((a = /^\.activity\[(\d+)\](.*)$/.exec(rest))) {
          const act = layout.activity[Number(a[1])];
          // a medicine without the just-in-case activity: say where they are kept
          field = act ? (act.field.startsWith('med-') && issue.code !== 'not-found' ? 'jicWhereKept' : act.field) : '';
        } else if (rest === '.supportingInfo') field = 'cpr';
        else if ((a = /^\.supportingInfo\[(\d+)\]/.exec(rest))) {
          const s = layout.supportingInfo[Number(a[1])];
          field = s ? fieldOfPart(s.kind, s.index) : '';
        } else if (rest.startsWith('.description')) field = 'description';
        break;
      }
      case 'cpr':
        if (rest.startsWith('.period.start')) field = 'cprDate';
        else if (rest.startsWith('.period.end')) field = 'cprReview';
        else if (rest.includes('ucp-cpr-discussed-with')) field = 'discussedWith';
        else if (rest.includes('ucp-cpr-senior-endorser') || rest.includes('ucp-cpr-recorder-senior')) field = 'endorser';
        else if (rest.includes('ucp-cpr-reason')) field = 'cprReason';
        else if (rest === '' || rest.startsWith('.code') || rest.startsWith('.status')) field = 'cpr';
        break;
      case 'adrt':
        field = rest.includes('ucp-document-location') ? 'adrtLocation' : 'adrt';
        break;
      case 'lpa':
        field = 'lpa';
        break;
      case 'contact':
        if (rest.startsWith('.relationship')) { field = 'lpa'; extra.contactIndex = e.index; }
        else if (rest.startsWith('.telecom')) field = `contact-${e.index}-phone`;
        else field = `contact-${e.index}-family`;
        break;
      case 'medicine':
        field = `med-${e.index}-name`;
        break;
      default:
        field = '';
    }
    out.push({ field, code: issue.code, expression: ex, message: ruleMessage(field, { ...issue, ...extra }, form) });
  }
  return out;
}

function fieldOfPart(kind, index) {
  if (kind === 'contact') return `contact-${index}-family`;
  if (kind === 'cpr') return 'cpr';
  if (kind === 'adrt') return 'adrtLocation';
  return kind === 'lpa' ? 'lpa' : '';
}

// Save the plan the form describes. Resolves to { id, version, status,
// mode }. Throws ApiError; for 400 and 422 its 'fields' are the issues
// mapped to the form (issuesToFields); 412 and 409 mean someone else
// saved a plan meanwhile (explainConflict), 403 that the policy refused.
export async function savePlan({ patientId, current, form, user, reason }) {
  const mode = saveMode(current, user);
  const { bundle, layout } = planBundle({ patientId, current, form, user, mode });
  const headers = { Prefer: 'return=minimal' };
  if (current?.version) headers['If-Match'] = `W/"${current.version}"`;
  try {
    const r = await request(`Patient/${encodeURIComponent(patientId)}/$care-plan`, { method: 'POST', body: bundle, headers, reason });
    const m = /CarePlan\/([^/]+)(?:\/_history\/(\d+))?/.exec(r.headers.get('Location') || '');
    return { id: m?.[1] || current?.id || '', version: m?.[2] || '', status: r.status, mode };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 422 || e.status === 400)) e.fields = issuesToFields(e.outcome, layout, form);
    throw e;
  }
}

// What a refused save means and what to do next, for the page to show:
// { title, text } or null when it is not a conflict.
export function explainConflict(err) {
  if (!(err instanceof ApiError)) return null;
  if (err.status === 412) {
    return {
      title: 'Someone else saved this care plan while you were editing it.',
      text: 'Nothing of yours was saved. Open the latest plan to see their changes, then make yours again (what you typed is still below).',
    };
  }
  if (err.status === 409) {
    return {
      title: 'This is no longer the person\'s current care plan.',
      text: 'Another plan was saved for this person meanwhile, so yours was not saved. Open the latest plan, check it, and revise that one.',
    };
  }
  if (err.status === 403 && err.rule === 'organisation') {
    return {
      title: 'Another organisation published this plan: only it may revise it.',
      text: 'Open the plan again: the form then saves your organisation\'s own plan, which replaces this one (it stays in the history).',
    };
  }
  return null;
}

// ---- history -------------------------------------------------------------------------

async function versions(path, reason) {
  try {
    const { resources } = await getAll(`${path}/_history?_count=100`, { reason, maxPages: 10 });
    return resources.sort((a, b) => Number(a.meta?.versionId || 0) - Number(b.meta?.versionId || 0));
  } catch {
    return [];
  }
}

// The values a revision is compared on, as [label, words].
export function planFacts(m) {
  const yes = (b) => (b === true ? 'Yes' : b === false ? 'No' : '');
  return [
    ['Status', m.status],
    ['CPR decision', m.cpr?.label || ''],
    ['Date of the CPR decision', (m.cpr?.decisionDate || '').slice(0, 10)],
    ['CPR review date', (m.cpr?.reviewDate || '').slice(0, 10)],
    ['Discussed with', m.cpr?.discussedWith || ''],
    ['Reason for the decision', m.cpr?.reason || ''],
    ['Recorded by the senior responsible clinician', m.cpr ? yes(m.cpr.isRecorderSenior) : ''],
    ['Senior endorser', m.cpr?.endorser || ''],
    ['Ceiling of treatment', m.ceiling?.levelText || ''],
    ['Clinical recommendations', m.ceiling?.recommendations || ''],
    ['Priority scale', m.priorities.scale === null || m.priorities.scale === undefined ? '' : String(m.priorities.scale)],
    ['What matters to me', m.priorities.whatMatters],
    ['Shared understanding', m.description],
    ['Prognosis', m.prognosis],
    ['Preferred place of care', m.placeOfCare?.text || ''],
    ['Preferred place of death', m.placeOfDeath?.text || ''],
    ['Capacity to take part', yes(m.capacity.hasCapacity)],
    ['Involved in making the plan', m.capacity.involvement],
    ['Advance decision to refuse treatment', m.adrt?.active ? `Yes, kept: ${m.adrt.whereKept || 'not said'}` : 'No'],
    ['Lasting power of attorney', m.lpa?.active ? 'Yes' : 'No'],
    ['Key contacts', m.contacts.map((c) => `${c.name}${c.phone ? ` ${c.phone}` : ''}${c.isNok ? ' (next of kin)' : ''}${c.isLpa ? ' (LPA)' : ''}`).join('; ')],
    ['Just-in-case medicines kept', m.jic?.whereKept || ''],
    ['Just-in-case medicines', [m.jic?.details, ...m.medicines.map((x) => x.name)].filter(Boolean).join('; ')],
    ['Responsible clinician', m.author],
    ['Signed off', (m.signedOff || '').slice(0, 10)],
    ['Plan review date', (m.reviewDate || '').slice(0, 10)],
  ];
}

function changesBetween(prev, cur) {
  if (!prev) return ['Plan created'];
  const a = new Map(planFacts(prev));
  const out = [];
  for (const [label, v] of planFacts(cur)) {
    const was = a.get(label) || '';
    if (was !== (v || '')) out.push(`${label}: ${was || '(none)'} → ${v || '(none)'}`);
  }
  return out.length ? out : ['No change to what this page shows'];
}

// The history of the current plan and of the plans it superseded
// (CarePlan.replaces, newest first): [{ id, status, rows }], each row a
// saved version { version, when, who, org, role, changes } newest first.
// A version's parts are the versions of its Flags, contacts and
// medicines as they stood when it was saved: each save writes them after
// the moment the node stamps in ucp-recorded-by.
export async function planHistory(current, reason, { thisNode = '', orgName = (c) => c } = {}) {
  if (!current) return [];
  const ids = [];
  const planVersions = new Map();
  const recordedOf = (v) => valueOf(subExt(extOf(v, EXT.recorded), 'recorded')) || '';
  // when the save that superseded a plan began (the node then revoked
  // it and made its Flags inactive, in the same transaction)
  const supersededAt = new Map();
  let next = current.id;
  while (next && !ids.includes(next) && ids.length < 10) {
    ids.push(next);
    const list = await versions(`CarePlan/${encodeURIComponent(next)}`, reason);
    planVersions.set(next, list);
    const first = list.find((v) => v.replaces?.length);
    next = refKey(first?.replaces?.[0]).replace(/^CarePlan\//, '');
    if (next && recordedOf(first)) supersededAt.set(next, Date.parse(recordedOf(first)));
  }
  const refs = new Set();
  for (const list of planVersions.values()) {
    for (const v of list) {
      for (const s of v.supportingInfo || []) refs.add(refKey(s));
      for (const a of v.activity || []) if (a.reference) refs.add(refKey(a.reference));
    }
  }
  refs.delete('');
  const partVersions = new Map(await Promise.all([...refs].map(async (ref) => [ref, await versions(ref, reason)])));
  const today = ukToday();
  const out = [];
  for (const id of ids) {
    const list = planVersions.get(id) || [];
    const starts = list.map((v, i) => {
      const rec = recordedOf(v);
      if (rec && (i === 0 || rec !== recordedOf(list[i - 1]))) return Date.parse(rec) || 0;
      return supersededAt.get(id) ?? (Date.parse(v.meta?.lastUpdated || '') || 0);
    });
    const rows = [];
    let prevModel = null;
    list.forEach((v, i) => {
      const until = i + 1 < list.length ? starts[i + 1] : Infinity;
      const byRef = new Map();
      for (const [ref, vs] of partVersions) {
        const at = vs.filter((x) => (Date.parse(x.meta?.lastUpdated || '') || 0) < until).pop();
        if (at) byRef.set(ref, at);
      }
      const model = planModel(v, byRef, { today, thisNode, orgName });
      const rec = model.recordedBy;
      const byServer = i > 0 && rec && rec.recorded === recordedOf(list[i - 1]);
      rows.push({
        version: v.meta?.versionId || '',
        when: byServer ? v.meta?.lastUpdated || '' : rec?.recorded || v.meta?.lastUpdated || '',
        who: byServer ? 'The node, when a new plan replaced this one' : rec?.who || model.author || '',
        org: byServer ? '' : rec?.org ? orgName(rec.org) : '',
        role: byServer ? '' : rec?.role || '',
        changes: byServer && v.status === 'revoked' ? ['Superseded by a new plan: recorded as revoked'] : changesBetween(prevModel, model),
      });
      prevModel = model;
    });
    rows.reverse();
    out.push({ id, status: list[list.length - 1]?.status || '', rows });
  }
  return out;
}
