// record.js: a patient's record as a clinician reads it, built from the
// resources of Patient/$everything (one node's or a federated answer):
// the patient, sections of items (each with its date, source
// organisation and node), repeated results as series for trend charts,
// alerts for the banner, and what the answer said about items withheld
// and nodes that did not answer. Pure: no DOM, no network.
// Depends on fhir.js.

import {
  SYS, CPR, cc, hasCoding, codeIn, codeKey, refKey, keyOf, humanName, whenOf, timeOf,
  publisherOf, sourceNodeOf, isRestricted, obsValue,
} from './fhir.js';

export const DISCHARGE = [[SYS.sct, '373942005'], [SYS.loinc, '18842-5']];
export const EOL_PLAN = [SYS.sct, '736373009'];

const isDischarge = (type) => DISCHARGE.some(([s, c]) => hasCoding(type, s, c));
const isUcp = (code) => hasCoding(code, SYS.ucp);

// Ordered sections of the viewer: id, heading, what a role without
// clinical access still sees (contacts, appointments).
export const SECTIONS = [
  { id: 'allergies', title: 'Allergies and adverse reactions', clinical: true },
  { id: 'medications', title: 'Medications', clinical: true },
  { id: 'problems', title: 'Problems and procedures', clinical: true },
  { id: 'results', title: 'Results', clinical: true },
  { id: 'encounters', title: 'Encounters and discharge summaries', clinical: true },
  { id: 'documents', title: 'Documents', clinical: true },
  { id: 'careplans', title: 'Care plans', clinical: true },
  { id: 'immunisations', title: 'Immunisations', clinical: true },
  { id: 'appointments', title: 'Appointments', clinical: false },
  { id: 'contacts', title: 'Key contacts', clinical: false },
  { id: 'other', title: 'Other items', clinical: true },
];

function orgIndex(resources) {
  const byCode = new Map();
  for (const r of resources) {
    if (r.resourceType !== 'Organization') continue;
    const entry = {
      id: r.id,
      name: r.name || r.id,
      kind: codeIn(r.type, SYS.orgKind),
      ods: (r.identifier || []).find((i) => i.system === SYS.ods)?.value || '',
    };
    byCode.set(`Organization/${r.id}`, entry);
    if (entry.ods) byCode.set(entry.ods, entry);
    if (!byCode.has(r.id)) byCode.set(r.id, entry);
  }
  return byCode;
}

// The organisation an Organization reference names (by id, or by an ODS
// identifier), or null.
function orgFromRef(orgs, ref) {
  if (!ref) return null;
  const k = refKey(ref);
  if (k && orgs.has(k)) return orgs.get(k);
  const ods = ref.identifier?.system === SYS.ods ? ref.identifier.value : '';
  if (ods) return orgs.get(ods) || { name: ref.display || ods, ods };
  if (ref.display) return { name: ref.display, ods: '' };
  return null;
}

// Where an item came from: the publishing organisation (meta.tag), else
// the organisation the resource itself names, and the node.
function sourceOf(r, ctx) {
  let code = publisherOf(r);
  let org = code ? ctx.orgs.get(code) : null;
  if (!code) {
    const named = orgFromRef(ctx.orgs, r.serviceProvider || r.managingOrganization || r.custodian ||
      r.performer?.[0]?.actor || r.requester || r.recorder || r.author?.[0] || r.asserter);
    if (named && (named.ods || named.id)) { org = named; code = named.ods || named.id; }
  }
  return {
    org: code,
    orgName: org?.name || (code ? code : 'Source not recorded'),
    node: sourceNodeOf(r, ctx.thisNode),
  };
}

function practitionerName(ctx, ref) {
  if (!ref) return '';
  const p = ctx.people.get(refKey(ref));
  if (p) return p;
  return ref.display || '';
}

function medName(r, ctx) {
  if (r.medicationCodeableConcept) return cc(r.medicationCodeableConcept);
  const m = ctx.meds.get(refKey(r.medicationReference));
  return m ? cc(m.code) : (r.medicationReference?.display || 'Medicine');
}

const active = (status) => !['entered-in-error', 'refuted'].includes(status);

// Build the record. 'resources' are the $everything resources (Patient
// first), 'outcomes' its OperationOutcome entries; 'thisNode' is the id
// of the node the browser talks to; 'now' a Date (tests fix it).
export function buildRecord(resources, outcomes = [], { thisNode = '', now = new Date() } = {}) {
  const patients = resources.filter((r) => r.resourceType === 'Patient');
  const patient = patients[0] || null;
  const ctx = {
    thisNode,
    orgs: orgIndex(resources),
    people: new Map(),
    meds: new Map(),
  };
  for (const r of resources) {
    if (r.resourceType === 'Practitioner') ctx.people.set(keyOf(r), humanNameShort(r.name));
    if (r.resourceType === 'RelatedPerson') ctx.people.set(keyOf(r), humanNameShort(r.name));
    if (r.resourceType === 'Medication') ctx.meds.set(keyOf(r), r);
  }

  const sections = Object.fromEntries(SECTIONS.map((s) => [s.id, []]));
  const ucpObs = [];
  const obsById = new Map();
  const labObs = [];
  const reports = [];
  const authorisations = new Map();
  const issuesOf = new Map();
  const flags = [];
  const consents = [];
  let count = 0;

  const item = (r, fields) => ({
    res: r,
    key: keyOf(r),
    when: whenOf(r),
    source: sourceOf(r, ctx),
    ...fields,
  });

  for (const r of resources) {
    count++;
    switch (r.resourceType) {
      case 'Patient': case 'Organization': case 'Practitioner': case 'PractitionerRole':
      case 'Location': case 'Medication': case 'Schedule': case 'Slot':
        break;
      case 'AllergyIntolerance':
        if (!active(r.verificationStatus?.coding?.[0]?.code)) break;
        sections.allergies.push(item(r, {
          title: cc(r.code) || 'Allergy',
          detail: [
            r.reaction?.map((x) => cc(x.manifestation)).filter(Boolean).join(', '),
            r.reaction?.[0]?.severity ? `severity ${r.reaction[0].severity}` : (r.criticality ? `criticality ${r.criticality}` : ''),
          ].filter(Boolean).join('; '),
          status: r.clinicalStatus?.coding?.[0]?.code || '',
        }));
        break;
      case 'MedicationRequest': {
        const based = refKey(r.basedOn?.[0]);
        if (r.intent === 'plan') authorisations.set(keyOf(r), r);
        else if (based) {
          const list = issuesOf.get(based) || [];
          list.push(r);
          issuesOf.set(based, list);
        } else {
          sections.medications.push(item(r, {
            title: medName(r, ctx),
            detail: r.dosageInstruction?.[0]?.text || '',
            status: r.status,
            kind: r.courseOfTherapyType ? cc(r.courseOfTherapyType) : 'One-off',
          }));
        }
        break;
      }
      case 'MedicationStatement':
        sections.medications.push(item(r, {
          title: medName(r, ctx), detail: r.dosage?.[0]?.text || '', status: r.status, kind: 'Statement',
        }));
        break;
      case 'Condition':
        if (!active(r.verificationStatus?.coding?.[0]?.code)) break;
        sections.problems.push(item(r, {
          title: cc(r.code) || 'Problem',
          detail: [cc(r.category), r.stage?.[0]?.summary ? `stage ${cc(r.stage[0].summary)}` : ''].filter(Boolean).join('; '),
          status: r.clinicalStatus?.coding?.[0]?.code || '',
          kind: 'Problem',
        }));
        break;
      case 'Procedure':
        sections.problems.push(item(r, {
          title: cc(r.code) || 'Procedure', detail: cc(r.bodySite), status: r.status, kind: 'Procedure',
        }));
        break;
      case 'Observation':
        obsById.set(keyOf(r), r);
        if (isUcp(r.code)) ucpObs.push(r);
        else labObs.push(r);
        break;
      case 'DiagnosticReport':
        reports.push(r);
        break;
      case 'Encounter':
        sections.encounters.push(item(r, {
          title: cc(r.type) || cc(r.class) || r.class?.code || 'Encounter',
          detail: [cc(r.reasonCode), r.hospitalization?.dischargeDisposition ? `discharged: ${cc(r.hospitalization.dischargeDisposition)}` : '']
            .filter(Boolean).join('; '),
          status: r.status,
          kind: 'Encounter',
          end: r.period?.end || '',
        }));
        break;
      case 'EpisodeOfCare':
        sections.encounters.push(item(r, {
          title: cc(r.type) || 'Episode of care', detail: '', status: r.status, kind: 'Episode of care',
        }));
        break;
      case 'ServiceRequest':
        sections.encounters.push(item(r, {
          title: cc(r.code) || 'Referral',
          detail: [cc(r.reasonCode), r.priority && r.priority !== 'routine' ? r.priority : ''].filter(Boolean).join('; '),
          status: r.status,
          kind: 'Referral',
        }));
        break;
      case 'Composition':
        if (isDischarge(r.type)) {
          sections.encounters.push(item(r, {
            title: r.title || 'Discharge summary',
            detail: '',
            status: r.status,
            kind: 'Discharge summary',
            author: r.author?.map((a) => practitionerName(ctx, a)).filter(Boolean).join(', '),
            sections: (r.section || []).map((s) => ({ title: s.title || '', text: s.text?.div || '' })),
          }));
        } else {
          sections.documents.push(item(r, {
            title: r.title || cc(r.type) || 'Document', detail: cc(r.type), status: r.status, kind: 'Composition',
            sections: (r.section || []).map((s) => ({ title: s.title || '', text: s.text?.div || '' })),
          }));
        }
        break;
      case 'DocumentReference': {
        const related = (r.context?.related || []).map(refKey);
        const isCopy = isDischarge(r.type) && related.some((k) => k.startsWith('Composition/') &&
          resources.some((x) => keyOf(x) === k));
        if (isCopy) break;   // the Composition it renders is shown
        const att = r.content?.[0]?.attachment || {};
        sections[isDischarge(r.type) ? 'encounters' : 'documents'].push(item(r, {
          title: r.description || att.title || cc(r.type) || 'Document',
          detail: [cc(r.type), att.contentType].filter(Boolean).join('; '),
          status: r.status,
          kind: isDischarge(r.type) ? 'Discharge summary' : 'Document',
          attachment: att,
        }));
        break;
      }
      case 'CarePlan':
        sections.careplans.push(item(r, {
          title: r.title || cc(r.category) || 'Care plan',
          detail: r.description || '',
          status: r.status,
          kind: hasCoding(r.category, EOL_PLAN[0], EOL_PLAN[1]) ? 'End of life care plan' : (cc(r.category?.[0]) || 'Care plan'),
          isEol: hasCoding(r.category, EOL_PLAN[0], EOL_PLAN[1]),
        }));
        break;
      case 'Goal':
        sections.careplans.push(item(r, {
          title: cc(r.description) || 'Goal', detail: '', status: r.lifecycleStatus, kind: 'Goal',
        }));
        break;
      case 'Immunization':
        sections.immunisations.push(item(r, {
          title: cc(r.vaccineCode) || 'Vaccine',
          detail: r.protocolApplied?.[0]?.doseNumberPositiveInt ? `dose ${r.protocolApplied[0].doseNumberPositiveInt}` : '',
          status: r.status,
        }));
        break;
      case 'Appointment':
        sections.appointments.push(item(r, {
          title: r.description || cc(r.serviceType) || cc(r.appointmentType) || 'Appointment',
          detail: r.end ? `until ${r.end.slice(11, 16)}` : '',
          status: r.status,
          isFuture: timeOf(r.start) > now.getTime(),
        }));
        break;
      case 'RelatedPerson':
        sections.contacts.push(item(r, {
          title: humanNameShort(r.name) || 'Contact',
          detail: cc(r.relationship),
          status: r.active === false ? 'inactive' : 'active',
          phone: (r.telecom || []).filter((t) => t.system === 'phone').map((t) => t.value).join(', '),
          isLpa: hasCoding(r.relationship, SYS.ucp, 'lpa-health-welfare'),
        }));
        break;
      case 'Flag':
        flags.push(item(r, { title: cc(r.code) || 'Flag', status: r.status }));
        break;
      case 'Consent':
        consents.push(r);
        break;
      default:
        sections.other.push(item(r, { title: r.resourceType, detail: cc(r.code || r.type), status: r.status || '' }));
    }
  }

  // Repeat medicines: one row per authorisation with its issues.
  for (const [k, auth] of authorisations) {
    const issues = (issuesOf.get(k) || []).sort((a, b) => timeOf(b.authoredOn) - timeOf(a.authoredOn));
    issuesOf.delete(k);
    sections.medications.push(item(auth, {
      title: medName(auth, ctx),
      detail: issues.length ? `${issues.length} issue${issues.length === 1 ? '' : 's'}, last ${issues[0].authoredOn?.slice(0, 10) || ''}` : 'no issues recorded',
      status: auth.status,
      kind: 'Repeat',
      lastIssued: issues[0]?.authoredOn || '',
    }));
  }
  // Issues whose authorisation is not in the answer still show.
  for (const list of issuesOf.values()) {
    for (const r of list) {
      sections.medications.push(item(r, { title: medName(r, ctx), detail: 'issue', status: r.status, kind: 'Issue' }));
    }
  }

  // Results: each report with its observations; every observation also
  // joins its series (same code), which makes trends.
  const inReport = new Set();
  for (const rep of reports) {
    const results = (rep.result || []).map((x) => obsById.get(refKey(x))).filter(Boolean);
    results.forEach((o) => inReport.add(keyOf(o)));
    sections.results.push(item(rep, {
      title: cc(rep.code) || 'Report',
      detail: rep.conclusion || cc(rep.conclusionCode) || results.map((o) => `${cc(o.code)} ${obsValue(o)}${flagOf(o) ? ` (${flagOf(o)})` : ''}`).join('; '),
      status: rep.status,
      kind: 'Report',
      results,
    }));
  }
  for (const o of labObs) {
    if (inReport.has(keyOf(o))) continue;
    sections.results.push(item(o, {
      title: cc(o.code) || 'Observation',
      detail: `${obsValue(o)}${flagOf(o) ? ` (${flagOf(o)})` : ''}`,
      status: o.status,
      kind: cc(o.category) || 'Observation',
    }));
  }
  const series = buildSeries(labObs);

  for (const list of Object.values(sections)) list.sort((a, b) => (timeOf(b.when) || 0) - (timeOf(a.when) || 0));

  // The care plan facts the banner and the emergency summary lead with.
  const plans = sections.careplans.filter((i) => i.isEol && ['active', 'draft', 'on-hold'].includes(i.status));
  const cpr = latest(ucpObs.filter((o) => hasCoding(o.code, SYS.ucp, 'cpr-decision')));
  const cprInfo = cpr ? cprOf(cpr, now) : null;
  const objection = consents.find((c) => c.status === 'active' && c.provision?.type === 'deny' &&
    (c.provision.purpose || []).some((p) => p.code === 'TREAT'));

  const withheld = outcomes.some((oo) => (oo.issue || []).some((i) => i.code === 'suppressed'));
  const partial = [];
  for (const oo of outcomes) {
    for (const i of oo.issue || []) {
      if (i.code === 'suppressed' || i.severity === 'information') continue;
      partial.push({ text: i.details?.text || i.diagnostics || 'A node did not answer', node: sourceNodeOf(oo, ''), code: i.code });
    }
  }

  const alerts = [];
  if (partial.length) alerts.push({ id: 'partial', level: 'warning', text: 'Partial record: not every node answered' });
  if (plans.length || cprInfo) {
    alerts.push({
      id: 'careplan',
      level: cprInfo?.code === CPR.no ? 'critical' : 'warning',
      text: `Care plan: ${cprInfo ? cprInfo.label : 'no CPR decision recorded'}${cprInfo?.isOverdue ? ' (review overdue)' : ''}`,
    });
  }
  const allergyNames = sections.allergies.filter((a) => a.status !== 'resolved' && a.status !== 'inactive').map((a) => a.title);
  if (allergyNames.length) alerts.push({ id: 'allergies', level: 'critical', text: `Allergies: ${allergyNames.join(', ')}` });
  if (isRestricted(patient)) alerts.push({ id: 'restricted', level: 'warning', text: 'Restricted record: contact details are withheld outside the caring organisations' });
  if (objection) alerts.push({ id: 'objection', level: 'info', text: 'The patient has objected to sharing: you see only what your organisation recorded' });
  if (withheld) alerts.push({ id: 'withheld', level: 'info', text: 'Some items were withheld under the access policy' });
  for (const f of flags.filter((x) => x.status === 'active')) alerts.push({ id: 'flag', level: 'warning', text: `Flag: ${f.title}` });

  return {
    patient,
    patientCopies: patients.length,
    patientSource: patient ? sourceOf(patient, ctx) : null,
    registeredGp: patient ? (patient.generalPractitioner || []).map((g) => orgFromRef(ctx.orgs, g)?.name || practitionerName(ctx, g) || refKey(g)).filter(Boolean) : [],
    orgs: ctx.orgs,
    sections,
    series,
    plans,
    cpr: cprInfo,
    alerts,
    withheld,
    partial,
    count,
  };
}

function humanNameShort(names) {
  const n = (names || [])[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [...(n.prefix || []), ...(n.given || []), n.family].filter(Boolean).join(' ');
}

function flagOf(o) {
  const code = o.interpretation?.[0]?.coding?.[0]?.code;
  return code === 'H' || code === 'HH' ? 'high' : code === 'L' || code === 'LL' ? 'low' : code === 'A' ? 'abnormal' : '';
}

function latest(list) {
  let best = null;
  for (const o of list) if (!best || (timeOf(whenOf(o)) || 0) > (timeOf(whenOf(best)) || 0)) best = o;
  return best;
}

export const CPR_LABELS = {
  [CPR.yes]: 'For CPR',
  [CPR.no]: 'Not for CPR',
  [CPR.unknown]: 'CPR status unknown',
};

// A CPR decision Observation as the banner and the summary need it: the
// code, words, decision date, review date, and whether the review date
// has passed (the decision is then no longer valid) or comes within 30
// days.
export function cprOf(o, now = new Date()) {
  const code = codeIn(o.valueCodeableConcept, SYS.sct) || '';
  const review = (o.component || []).find((c) => hasCoding(c.code, SYS.ucp, 'review-date'));
  const reviewDate = review?.valueDateTime || review?.valueDate || '';
  const reviewTime = timeOf(reviewDate);
  return {
    obs: o,
    code,
    label: CPR_LABELS[code] || cc(o.valueCodeableConcept) || 'CPR decision recorded',
    date: whenOf(o),
    review: reviewDate,
    isOverdue: Number.isFinite(reviewTime) && reviewTime < now.getTime(),
    isDueSoon: Number.isFinite(reviewTime) && reviewTime >= now.getTime() && reviewTime - now.getTime() < 30 * 86400000,
    note: (o.note || []).map((n) => n.text).join(' '),
  };
}

// Series of repeated results, by code: each { key, title, unit, lines:
// [{ label, points: [{ t, v, when, res }] }] }, only for codes with at
// least two numeric readings. Blood pressure (two components) gives two
// lines, systolic and diastolic.
export function buildSeries(observations) {
  const byKey = new Map();
  for (const o of observations) {
    const k = codeKey(o.code);
    if (!k) continue;
    const t = timeOf(whenOf(o));
    if (!Number.isFinite(t)) continue;
    let s = byKey.get(k);
    if (!s) {
      s = { key: k, title: cc(o.code), unit: '', lines: new Map() };
      byKey.set(k, s);
    }
    const add = (label, q) => {
      if (!q || typeof q.value !== 'number') return;
      if (!s.unit) s.unit = q.unit || q.code || '';
      let line = s.lines.get(label);
      if (!line) { line = { label, points: [] }; s.lines.set(label, line); }
      line.points.push({ t, v: q.value, when: whenOf(o), res: o });
    };
    if (o.valueQuantity) add(s.title, o.valueQuantity);
    for (const c of o.component || []) add(shortComponent(cc(c.code)), c.valueQuantity);
  }
  const out = [];
  for (const s of byKey.values()) {
    const lines = [...s.lines.values()].filter((l) => l.points.length >= 2);
    if (!lines.length) continue;
    for (const l of lines) l.points.sort((a, b) => a.t - b.t);
    out.push({ key: s.key, title: s.title, unit: s.unit, lines });
  }
  out.sort((a, b) => Math.max(...b.lines.map((l) => l.points.length)) - Math.max(...a.lines.map((l) => l.points.length)));
  return out;
}

function shortComponent(name) {
  if (/systolic/i.test(name)) return 'Systolic';
  if (/diastolic/i.test(name)) return 'Diastolic';
  return name;
}

// Every dated item of every section, newest first, for the timeline.
export function timeline(record) {
  const all = [];
  for (const s of SECTIONS) {
    for (const i of record.sections[s.id]) if (i.when) all.push({ ...i, section: s.title });
  }
  all.sort((a, b) => (timeOf(b.when) || 0) - (timeOf(a.when) || 0));
  return all;
}

export const patientLabel = (p) => (p ? humanName(p.name) : '');
