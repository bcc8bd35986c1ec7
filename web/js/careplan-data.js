// careplan-data.js: every read and write of the Universal Care Plan goes
// through here, so the pages do not care how the node stores a plan.
//
// Today a plan is what the synthetic end-of-life plans are (docs/synth.md):
// a CarePlan (category SNOMED 736373009) whose supportingInfo names the
// CPR decision, preferred places of care and death and the lasting power
// of attorney flag (Observations coded in https://carerecord.example/
// CodeSystem/ucp) and the key contacts (RelatedPerson); activities carry
// the ceiling of treatment and just-in-case medicines; notes the advance
// decision to refuse treatment. Plans are read with Patient/$everything
// (or GET Patient/{id}/$care-plan-summary where the node declares it) and
// saved as one transaction Bundle. When the node's care plan API lands,
// only this module changes. Depends on api.js, fhir.js, record.js.

import { request, get, getAll, capabilities, hasOperation } from './api.js';
import {
  SYS, CPR, cc, hasCoding, codeIn, refKey, keyOf, whenOf, timeOf, publisherOf, sourceNodeOf, today,
} from './fhir.js';
import { cprOf, EOL_PLAN } from './record.js';

export const PLACES = [
  { code: '264362003', display: 'Home' },
  { code: '284546000', display: 'Hospice' },
  { code: '22232009', display: 'Hospital' },
  { code: '42665001', display: 'Nursing home' },
];

export const CPR_CHOICES = [
  { code: CPR.no, display: 'Not for CPR (do not attempt cardiopulmonary resuscitation)' },
  { code: CPR.yes, display: 'For CPR (attempt cardiopulmonary resuscitation)' },
  { code: CPR.unknown, display: 'CPR status unknown (not yet discussed or decided)' },
];

export const CPR_DISPLAY = {
  [CPR.yes]: 'For cardiopulmonary resuscitation',
  [CPR.no]: 'Not for cardiopulmonary resuscitation',
  [CPR.unknown]: 'Cardiopulmonary resuscitation status unknown',
};

export const CEILINGS = [
  'Full escalation including intensive care.',
  'Ward-based care, not for intensive care.',
  'Symptom control and comfort at home.',
];

export const RELATIONSHIPS = [
  { code: 'WIFE', display: 'wife' }, { code: 'HUSB', display: 'husband' }, { code: 'SPS', display: 'spouse' },
  { code: 'DAU', display: 'daughter' }, { code: 'SON', display: 'son' }, { code: 'SIS', display: 'sister' },
  { code: 'BRO', display: 'brother' }, { code: 'NIECE', display: 'niece' }, { code: 'NEPHEW', display: 'nephew' },
  { code: 'FRND', display: 'unrelated friend' },
];

const V3_ROLE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const V2_0131 = 'http://terminology.hl7.org/CodeSystem/v2-0131';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const PLAN_TYPES = 'Patient,CarePlan,Observation,RelatedPerson,MedicationRequest,Condition,Organization,Practitioner';

const ucpCode = (code, display) => ({ coding: [{ system: SYS.ucp, code, display }] });
const isUcpObs = (o, code) => o?.resourceType === 'Observation' && hasCoding(o.code, SYS.ucp, code);
const strip = (s, prefix) => {
  const t = (s || '').replace(prefix, '').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : '';
};

// ---- reading --------------------------------------------------------------------

// The resources that make a patient's plans. 'reason' is the
// X-Access-Reason value or ''. Resolves to { resources, outcomes, via }.
export async function fetchPlanResources(patientId, reason) {
  const cap = await capabilities().catch(() => null);
  if (hasOperation(cap, 'care-plan-summary')) {
    const b = await get(`Patient/${encodeURIComponent(patientId)}/$care-plan-summary`, { reason });
    const resources = [];
    const outcomes = [];
    const take = (r) => { if (r) (r.resourceType === 'OperationOutcome' ? outcomes : resources).push(r); };
    if (b?.resourceType === 'Bundle') (b.entry || []).forEach((e) => take(e.resource));
    else if (b?.resourceType === 'Parameters') (b.parameter || []).forEach((p) => { take(p.resource); (p.part || []).forEach((q) => take(q.resource)); });
    else take(b);
    return { resources, outcomes, via: 'operation' };
  }
  const r = await getAll(`Patient/${encodeURIComponent(patientId)}/$everything?_type=${PLAN_TYPES}&_count=1000`, { reason });
  return { ...r, via: 'everything' };
}

function contactOf(rp) {
  const n = rp.name?.[0] || {};
  return {
    id: rp.id,
    res: rp,
    given: (n.given || []).join(' '),
    family: n.family || '',
    name: n.text || [...(n.given || []), n.family].filter(Boolean).join(' '),
    relationship: codeIn(rp.relationship, V3_ROLE),
    relationshipText: cc((rp.relationship || []).filter((r) => !hasCoding(r, SYS.ucp))),
    phone: (rp.telecom || []).find((t) => t.system === 'phone')?.value || '',
    isNok: hasCoding(rp.relationship, V2_0131, 'N'),
    isLpa: hasCoding(rp.relationship, SYS.ucp, 'lpa-health-welfare'),
  };
}

// Notes on the CPR decision written by this UI start with these words, so
// they can be read back into the form.
const DISCUSSED = 'Discussed with: ';
const ENDORSED = 'Senior endorser: ';

// Build the plan the pages show from a CarePlan and the resources around
// it. 'all' maps "Type/id" to resources; 'orgs' maps ODS codes to names.
export function planModel(plan, all, { now = new Date(), thisNode = '', orgName = (c) => c } = {}) {
  const info = (plan.supportingInfo || []).map((r) => all.get(refKey(r))).filter(Boolean);
  // A plan whose supportingInfo does not name a CPR decision still shows
  // the patient's latest one.
  const patientObs = [...all.values()].filter((r) => r.resourceType === 'Observation');
  const pick = (code) => info.find((o) => isUcpObs(o, code)) ||
    patientObs.filter((o) => isUcpObs(o, code)).sort((a, b) => timeOf(whenOf(b)) - timeOf(whenOf(a)))[0] || null;
  const cprObs = pick('cpr-decision');
  const care = pick('preferred-place-of-care');
  const death = pick('preferred-place-of-death');
  const lpaObs = pick('lpa-health-welfare');
  const contacts = info.filter((r) => r.resourceType === 'RelatedPerson').map(contactOf);
  const activities = plan.activity || [];
  const ceiling = activities.find((a) => hasCoding(a.detail?.code, SYS.ucp, 'ceiling-of-treatment'));
  const jicDetail = activities.find((a) => hasCoding(a.detail?.code, SYS.ucp, 'just-in-case-medicines'));
  const jicMeds = activities.map((a) => all.get(refKey(a.reference))).filter((m) => m?.resourceType === 'MedicationRequest');
  const notes = (plan.note || []).map((n) => n.text).filter(Boolean);
  const adrtNote = notes.find((n) => /advance decision/i.test(n)) || '';
  const cprNotes = (cprObs?.note || []).map((n) => n.text || '');
  const author = plan.author?.display || (all.get(refKey(plan.author)) ? nameOf(all.get(refKey(plan.author))) : '');
  const org = publisherOf(plan);
  return {
    id: plan.id,
    version: plan.meta?.versionId || '',
    lastUpdated: plan.meta?.lastUpdated || '',
    res: plan,
    status: plan.status,
    title: plan.title || 'Universal Care Plan',
    created: plan.created || plan.period?.start || '',
    author,
    org,
    orgName: org ? orgName(org) : '',
    node: sourceNodeOf(plan, thisNode),
    whatMatters: strip(plan.description, /^What matters to me:\s*/i),
    ceiling: strip(ceiling?.detail?.description, /^Ceiling of treatment:\s*/i),
    jic: [strip(jicDetail?.detail?.description, /^Just-in-case medicines:\s*/i), ...jicMeds.map((m) => cc(m.medicationCodeableConcept))].filter(Boolean).join('; '),
    adrt: adrtNote,
    hasAdrt: Boolean(adrtNote) && !/^no advance decision/i.test(adrtNote),
    notes: notes.filter((n) => n !== adrtNote),
    cpr: cprObs ? cprOf(cprObs, now) : null,
    cprObs,
    discussedWith: strip(cprNotes.find((n) => n.startsWith(DISCUSSED)), DISCUSSED),
    endorser: strip(cprNotes.find((n) => n.startsWith(ENDORSED)), ENDORSED),
    cprNote: cprNotes.filter((n) => !n.startsWith(DISCUSSED) && !n.startsWith(ENDORSED)).join(' '),
    preferredCare: care ? { code: codeIn(care.valueCodeableConcept, SYS.sct), text: cc(care.valueCodeableConcept) } : null,
    preferredDeath: death ? { code: codeIn(death.valueCodeableConcept, SYS.sct), text: cc(death.valueCodeableConcept) } : null,
    careObs: care,
    deathObs: death,
    lpaObs,
    hasLpa: lpaObs?.valueBoolean === true,
    contacts,
    conditions: (plan.addresses || []).map((r) => all.get(refKey(r))).filter(Boolean).map((c) => cc(c.code)),
  };
}

function nameOf(r) {
  const n = r?.name?.[0];
  if (!n) return '';
  return n.text || [...(n.prefix || []), ...(n.given || []), n.family].filter(Boolean).join(' ');
}

// Everything the care plan pages need for one patient: { patient,
// plans (end-of-life plans, newest first, active ones first), outcomes }.
export async function loadPlans(patientId, reason, { thisNode = '' } = {}) {
  const { resources, outcomes, via } = await fetchPlanResources(patientId, reason);
  const all = new Map(resources.map((r) => [keyOf(r), r]));
  const orgs = new Map();
  for (const r of resources) {
    if (r.resourceType !== 'Organization') continue;
    orgs.set(r.id, r.name);
    const ods = (r.identifier || []).find((i) => i.system === SYS.ods)?.value;
    if (ods) orgs.set(ods, r.name);
  }
  const patient = resources.find((r) => r.resourceType === 'Patient') || null;
  const order = { active: 0, draft: 1, 'on-hold': 2 };
  const plans = resources
    .filter((r) => r.resourceType === 'CarePlan' && hasCoding(r.category, EOL_PLAN[0], EOL_PLAN[1]))
    .map((p) => planModel(p, all, { thisNode, orgName: (c) => orgs.get(c) || c }))
    .sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9) || timeOf(b.created) - timeOf(a.created));
  return { patient, plans, outcomes, via, orgs };
}

// ---- validation (the rules the form shows inline) ---------------------------

const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || '') && !Number.isNaN(Date.parse(s));

// The problems with a plan form, each { field, message }: empty when it
// may be saved. 'now' is today's date (YYYY-MM-DD), for tests.
export function validatePlan(f, now = today()) {
  const errors = [];
  const err = (field, message) => errors.push({ field, message });
  if (!f.cpr) err('cpr', 'Choose the CPR decision');
  if (!f.cprDate) err('cprDate', 'Enter the date the CPR decision was made');
  else if (!isDate(f.cprDate)) err('cprDate', 'The decision date must be a real date');
  else if (f.cprDate > now) err('cprDate', 'The decision date cannot be in the future');
  if (!f.reviewDate) err('reviewDate', 'Enter the date the CPR decision must be reviewed by');
  else if (!isDate(f.reviewDate)) err('reviewDate', 'The review date must be a real date');
  else if (isDate(f.cprDate) && f.reviewDate <= f.cprDate) err('reviewDate', 'The review date must be after the decision date');
  else if (f.reviewDate < now) err('reviewDate', 'The review date has passed: a decision is not valid once its review date has passed');
  if (!(f.discussedWith || '').trim()) err('discussedWith', 'Say who the decision was discussed with, or why it was not discussed');
  if (f.cpr === CPR.no && !(f.endorser || '').trim()) err('endorser', 'A decision not to attempt CPR needs the senior clinician who endorsed it');
  if (!(f.whatMatters || '').trim()) err('whatMatters', 'Write what matters to the person, in their words');
  if (!(f.ceiling || '').trim()) err('ceiling', 'Choose or describe the ceiling of treatment');
  if (f.adrt === 'yes' && !(f.adrtLocation || '').trim()) err('adrtLocation', 'Say where the advance decision to refuse treatment is kept');
  (f.contacts || []).forEach((c, i) => {
    if (c.removed) return;
    if (!(c.given || '').trim() && !(c.family || '').trim()) err(`contact-${i}-family`, `Contact ${i + 1}: enter a name`);
    if (c.phone && !/^\+?[\d ()-]{6,20}$/.test(c.phone.trim())) err(`contact-${i}-phone`, `Contact ${i + 1}: the phone number may hold digits, spaces and + ( ) - only`);
  });
  const lpaPeople = (f.contacts || []).filter((c) => !c.removed && c.isLpa);
  if (lpaPeople.length && f.lpa !== 'yes') err('lpa', 'A contact holds a lasting power of attorney: record that an LPA for health and welfare is in place');
  if (f.lpa === 'yes' && !lpaPeople.length) err('lpa', 'Say which contact holds the lasting power of attorney');
  return errors;
}

// The form's starting values: from a plan, or empty for a new one.
export function formFrom(model) {
  if (!model) {
    return {
      cpr: '', cprDate: today(), reviewDate: '', discussedWith: '', endorser: '', whatMatters: '', ceiling: '',
      preferredCare: '', preferredDeath: '', adrt: 'no', adrtLocation: '', jic: '', lpa: 'no', contacts: [], status: 'active',
    };
  }
  const adrtLoc = /kept (?:at|in) (.*?)\.?$/i.exec(model.adrt || '');
  return {
    cpr: model.cpr?.code || '',
    cprDate: (model.cpr?.date || '').slice(0, 10),
    reviewDate: (model.cpr?.review || '').slice(0, 10),
    discussedWith: model.discussedWith || (model.cprNote ? model.cprNote : ''),
    endorser: model.endorser,
    whatMatters: model.whatMatters,
    ceiling: model.ceiling,
    preferredCare: model.preferredCare?.code || '',
    preferredDeath: model.preferredDeath?.code || '',
    adrt: model.hasAdrt ? 'yes' : 'no',
    adrtLocation: adrtLoc ? adrtLoc[1] : '',
    jic: model.jic,
    lpa: model.hasLpa ? 'yes' : 'no',
    contacts: model.contacts.map((c) => ({ id: c.id, res: c.res, given: c.given, family: c.family, relationship: c.relationship, phone: c.phone, isLpa: c.isLpa, isNok: c.isNok })),
    status: model.status || 'active',
  };
}

// ---- writing ----------------------------------------------------------------------

// An RFC 4122 version 4 UUID (getRandomValues also works where the page
// is not a secure context, unlike crypto.randomUUID).
export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const placeCc = (code) => {
  const p = PLACES.find((x) => x.code === code);
  return { coding: [{ system: SYS.sct, code, display: p?.display || code }] };
};

// The transaction Bundle that saves a plan: the CarePlan and everything
// its supportingInfo names, created (POST, urn:uuid) or revised (PUT,
// the CarePlan with If-Match so two people revising at once cannot
// overwrite each other). 'user' holds the token's claims (name, org, sub).
export function planTransaction({ patientId, existing, form, user }) {
  const entries = [];
  const meta = (type) => ({
    profile: [`https://fhir.hl7.org.uk/StructureDefinition/UKCore-${type}`],
    tag: user?.org ? [{ system: SYS.publisher, code: user.org }] : undefined,
  });
  const subject = { reference: `Patient/${patientId}` };
  const author = { display: user?.name || 'Unknown author', ...(user?.sub ? { identifier: { system: SYS.sds, value: user.sub } } : {}) };
  const put = (type, id, resource, extra = {}) => {
    entries.push({ fullUrl: `${type}/${id}`, resource: { resourceType: type, id, ...resource }, request: { method: 'PUT', url: `${type}/${id}`, ...extra } });
    return `${type}/${id}`;
  };
  const post = (type, resource) => {
    const full = `urn:uuid:${uuid()}`;
    entries.push({ fullUrl: full, resource: { resourceType: type, ...resource }, request: { method: 'POST', url: type } });
    return full;
  };
  const save = (type, old, resource) => (old ? put(type, old.id, resource) : post(type, resource));
  const clean = (o) => JSON.parse(JSON.stringify(o));   // drops undefined

  const survey = [{ coding: [{ system: OBS_CAT, code: 'survey', display: 'Survey' }] }];
  const performer = [author];
  const supporting = [];

  // CPR decision
  const notes = [`${DISCUSSED}${form.discussedWith.trim()}`];
  if ((form.endorser || '').trim()) notes.push(`${ENDORSED}${form.endorser.trim()}`);
  supporting.push(save('Observation', existing?.cprObs, clean({
    meta: meta('Observation'),
    status: existing?.cprObs ? 'amended' : 'final',
    category: survey,
    code: ucpCode('cpr-decision', 'CPR decision'),
    subject,
    effectiveDateTime: form.cprDate,
    performer,
    valueCodeableConcept: { coding: [{ system: SYS.sct, code: form.cpr, display: CPR_DISPLAY[form.cpr] }] },
    note: notes.map((text) => ({ text })),
    component: [{ code: ucpCode('review-date', 'Review date'), valueDateTime: form.reviewDate }],
  })));
  // Preferred places
  for (const [key, code, display, old] of [
    ['preferredCare', 'preferred-place-of-care', 'Preferred place of care', existing?.careObs],
    ['preferredDeath', 'preferred-place-of-death', 'Preferred place of death', existing?.deathObs],
  ]) {
    if (!form[key]) continue;
    supporting.push(save('Observation', old, clean({
      meta: meta('Observation'), status: old ? 'amended' : 'final', category: survey, code: ucpCode(code, display), subject,
      effectiveDateTime: today(), performer, valueCodeableConcept: placeCc(form[key]),
    })));
  }
  // Lasting power of attorney flag (kept, set false, when withdrawn)
  if (form.lpa === 'yes' || existing?.lpaObs) {
    supporting.push(save('Observation', existing?.lpaObs, clean({
      meta: meta('Observation'), status: existing?.lpaObs ? 'amended' : 'final', category: survey,
      code: ucpCode('lpa-health-welfare', 'Lasting power of attorney for health and welfare'), subject,
      effectiveDateTime: today(), performer, valueBoolean: form.lpa === 'yes',
    })));
  }
  // Key contacts
  for (const c of form.contacts || []) {
    if (c.removed) continue;
    const rel = RELATIONSHIPS.find((r) => r.code === c.relationship);
    const relationship = [];
    if (rel) relationship.push({ coding: [{ system: V3_ROLE, code: rel.code, display: rel.display }] });
    relationship.push({ coding: [{ system: V2_0131, code: c.isNok ? 'N' : 'C', display: c.isNok ? 'Next-of-Kin' : 'Emergency Contact' }] });
    if (c.isLpa) relationship.push({ coding: [{ system: SYS.ucp, code: 'lpa-health-welfare', display: 'Lasting power of attorney for health and welfare' }] });
    const base = c.res ? { ...c.res } : {};
    delete base.resourceType; delete base.id;
    supporting.push(save('RelatedPerson', c.id ? { id: c.id } : null, clean({
      ...base,
      meta: c.res?.meta ? { profile: c.res.meta.profile, tag: c.res.meta.tag } : meta('RelatedPerson'),
      active: true,
      patient: subject,
      relationship,
      name: [{ family: c.family?.trim() || undefined, given: c.given?.trim() ? [c.given.trim()] : undefined }],
      telecom: c.phone?.trim() ? [{ system: 'phone', value: c.phone.trim(), use: 'mobile' }] : undefined,
    })));
  }

  const activity = [{
    detail: { code: ucpCode('ceiling-of-treatment', 'Ceiling of treatment'), status: 'in-progress', description: `Ceiling of treatment: ${form.ceiling.trim()}` },
  }];
  if ((form.jic || '').trim()) {
    activity.push({ detail: { code: ucpCode('just-in-case-medicines', 'Just-in-case medicines'), status: 'in-progress', description: `Just-in-case medicines: ${form.jic.trim()}` } });
  }
  // keep activities this form does not edit (e.g. a just-in-case
  // MedicationRequest of the synthetic plans)
  for (const a of existing?.res?.activity || []) {
    if (hasCoding(a.detail?.code, SYS.ucp, 'ceiling-of-treatment') || hasCoding(a.detail?.code, SYS.ucp, 'just-in-case-medicines')) continue;
    if (a.reference && (form.jic || '').trim()) continue;
    activity.push(a);
  }
  const plan = clean({
    ...(existing?.res || {}),
    resourceType: undefined,
    id: undefined,
    meta: existing?.res?.meta ? { profile: existing.res.meta.profile, tag: existing.res.meta.tag } : meta('CarePlan'),
    status: form.status || 'active',
    intent: 'plan',
    category: [{ coding: [{ system: EOL_PLAN[0], code: EOL_PLAN[1], display: 'End of life care plan' }] }],
    title: 'Universal Care Plan',
    description: `What matters to me: ${form.whatMatters.trim()}`,
    subject,
    period: { start: existing?.res?.period?.start || today() },
    created: existing?.res?.created || today(),
    author,
    supportingInfo: supporting.map((reference) => ({ reference })),
    activity,
    note: [{ text: form.adrt === 'yes' ? `Advance decision to refuse treatment (ADRT) in place; the original is kept at ${form.adrtLocation.trim()}.` : 'No advance decision to refuse treatment recorded.' }],
  });
  if (existing) put('CarePlan', existing.id, plan, existing.version ? { ifMatch: `W/"${existing.version}"` } : {});
  else post('CarePlan', plan);
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

// Save a plan. Resolves to the CarePlan's id; throws ApiError (a 400
// names the element at fault in its expression, a 412 means someone else
// revised the plan first).
export async function savePlan(args) {
  const bundle = planTransaction(args);
  const { json } = await request('', { method: 'POST', body: bundle, headers: { Prefer: 'return=minimal' } });
  const i = bundle.entry.findIndex((e) => e.resource.resourceType === 'CarePlan');
  const loc = json?.entry?.[i]?.response?.location || '';
  const m = /CarePlan\/([^/]+)/.exec(loc);
  return m ? m[1] : args.existing?.id || '';
}

// ---- revision history ---------------------------------------------------------

async function versions(path, reason) {
  try {
    const { resources } = await getAll(`${path}/_history?_count=100`, { reason, maxPages: 10 });
    return resources;
  } catch {
    return [];
  }
}

function diff(prev, cur, fields) {
  if (!prev) return ['Created'];
  const out = [];
  for (const [label, f] of fields) {
    const a = f(prev);
    const b = f(cur);
    if (a !== b) out.push(`${label}: ${a || '(none)'} → ${b || '(none)'}`);
  }
  return out.length ? out : ['No change to the fields shown here'];
}

const PLAN_FIELDS = [
  ['Status', (p) => p.status],
  ['What matters', (p) => strip(p.description, /^What matters to me:\s*/i)],
  ['Ceiling of treatment', (p) => strip((p.activity || []).find((a) => hasCoding(a.detail?.code, SYS.ucp, 'ceiling-of-treatment'))?.detail?.description, /^Ceiling of treatment:\s*/i)],
  ['Notes', (p) => (p.note || []).map((n) => n.text).join(' ')],
  ['Supporting items', (p) => String((p.supportingInfo || []).length)],
];
const CPR_FIELDS = [
  ['Decision', (o) => cc(o.valueCodeableConcept)],
  ['Decision date', (o) => (o.effectiveDateTime || '').slice(0, 10)],
  ['Review date', (o) => ((o.component || []).find((c) => hasCoding(c.code, SYS.ucp, 'review-date'))?.valueDateTime || '').slice(0, 10)],
  ['Notes', (o) => (o.note || []).map((n) => n.text).join(' ')],
];

// The plan's revisions and its CPR decision's, newest first: each
// { when, version, what, who, changes }.
export async function planHistory(model, reason) {
  const [planVersions, cprVersions] = await Promise.all([
    versions(`CarePlan/${encodeURIComponent(model.id)}`, reason),
    model.cprObs ? versions(`Observation/${encodeURIComponent(model.cprObs.id)}`, reason) : [],
  ]);
  const rows = [];
  const walk = (list, what, fields, who) => {
    const sorted = [...list].sort((a, b) => Number(a.meta?.versionId || 0) - Number(b.meta?.versionId || 0));
    sorted.forEach((r, i) => rows.push({
      when: r.meta?.lastUpdated || '',
      version: r.meta?.versionId || '',
      what,
      who: who(r),
      changes: diff(sorted[i - 1], r, fields),
    }));
  };
  walk(planVersions, 'Care plan', PLAN_FIELDS, (r) => r.author?.display || refKey(r.author));
  walk(cprVersions, 'CPR decision', CPR_FIELDS, (r) => r.performer?.[0]?.display || refKey(r.performer?.[0]));
  rows.sort((a, b) => timeOf(b.when) - timeOf(a.when));
  return rows;
}
