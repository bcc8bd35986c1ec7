// audit-data.js: everything the UI reads from and writes to the node's
// audit API, and the only module that knows its shapes (docs/ui.md,
// docs/api.md): alerts to review and usage from GET /fhir/$audit-report
// (a Parameters), the audit trail from GET /fhir/AuditEvent (IHE BALP
// AuditEvents), recording a review with POST /fhir/$audit-review, and a
// patient's "who has looked at my record". Each is used only when the
// node declares it in /fhir/metadata. Depends on api.js, fhir.js.

import { get, getAll, request, capabilities, hasType, hasOperation } from './api.js';
import { cc } from './fhir.js';

const EXT = 'https://carerecord.example/StructureDefinition/audit-';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const OUR_ACTIONS = 'https://carerecord.example/CodeSystem/audit-action';
const OUR_PURPOSES = 'https://carerecord.example/CodeSystem/purpose-of-use';

export const ALERT_LABELS = {
  'self-claimed': 'Self-claimed relationship',
  emergency: 'Emergency access',
  'same-surname': 'Same surname',
  'same-address': 'Same address',
  restricted: 'Restricted record',
  flagged: 'Flagged record',
  'out-of-hours': 'Out of hours',
  'objection-overridden': 'Objection overridden',
  student: 'Healthcare student',
  volume: 'Unusual volume',
};

export const REVIEW_OUTCOMES = [
  { code: 'appropriate', display: 'Appropriate: no concern' },
  { code: 'explained', display: 'Explained by the member of staff' },
  { code: 'escalated', display: 'Escalated to the Caldicott guardian' },
  { code: 'inappropriate', display: 'Inappropriate access: reported under the organisation\'s policy' },
];

export const outcomeLabel = (code) => REVIEW_OUTCOMES.find((o) => o.code === code)?.display || code || '';

// What the audit log calls each action, for people.
const ACTION_LABELS = {
  read: 'Read', vread: 'Read a version', 'search-type': 'Search', history: 'History',
  everything: 'Opened the whole record', create: 'Created', update: 'Updated', delete: 'Deleted',
  transaction: 'Transaction', batch: 'Batch', import: 'Bulk import',
  'audit-read': 'Read the audit trail', review: 'Reviewed an alert', 110122: 'Sign-in refused',
};

// The same, said to the patient about their own record.
const PATIENT_ACTION_LABELS = {
  read: 'Looked at your record', vread: 'Looked at your record', 'search-type': 'Searched your record',
  history: 'Looked at the history of your record', everything: 'Opened your whole record',
  create: 'Added to your record', update: 'Updated your record', delete: 'Removed an entry from your record',
  transaction: 'Updated your record', batch: 'Looked at or updated your record', import: 'Added to your record',
  'audit-read': 'Looked at who has accessed your record', review: 'Reviewed an access to your record',
};

// What this node offers: { trail, report, review }.
export async function features() {
  const cap = await capabilities().catch(() => null);
  return {
    trail: hasType(cap, 'AuditEvent'),
    report: hasOperation(cap, 'audit-report'),
    review: hasOperation(cap, 'audit-review'),
  };
}

// ---- $audit-report ------------------------------------------------------------

// The value of a Parameters part, whatever its type (value[x]).
export function partValue(p) {
  if (!p) return undefined;
  for (const [k, v] of Object.entries(p)) {
    if (!k.startsWith('value')) continue;
    if (k === 'valueReference') return v.reference || v.display || '';
    if (k === 'valueCoding') return v;
    if (k === 'valueCodeableConcept') return cc(v);
    if (k === 'valueIdentifier') return v.value || '';
    return v;
  }
  return undefined;
}

const partsOf = (p, name) => (p?.part || []).filter((q) => q.name === name);
const valueOf = (p, name) => partValue(partsOf(p, name)[0]);

function review(p) {
  if (!p) return null;
  return {
    outcome: valueOf(p, 'outcome') || '',
    record: valueOf(p, 'record') ?? null,
    time: valueOf(p, 'time') || '',
    user: valueOf(p, 'user') || '',
    userName: valueOf(p, 'userName') || '',
    note: valueOf(p, 'note') || '',
  };
}

// One 'alert' parameter. A record's alert has its record number; an
// unusual-volume alert is worked out by the report (no record) and has
// the UK day and how many patients.
function alertOf(p) {
  const record = valueOf(p, 'record') ?? null;
  const codes = partsOf(p, 'code').map(partValue);
  const user = valueOf(p, 'user') || '';
  const day = valueOf(p, 'day') || '';
  return {
    id: record !== null ? String(record) : `volume-${day}-${user}`,
    record,
    codes,
    isVolume: record === null,
    time: valueOf(p, 'time') || day,
    day,
    patients: valueOf(p, 'patients') ?? null,
    user,
    userName: valueOf(p, 'userName') || '',
    org: valueOf(p, 'organization') || '',
    role: valueOf(p, 'role') || '',
    purpose: valueOf(p, 'purpose') || '',
    reason: valueOf(p, 'reason') || '',
    patient: valueOf(p, 'patient') || '',
    // a person the node holds nothing of (a federated read) is named by
    // NHS number only
    nhs: partsOf(p, 'patient')[0]?.valueReference?.identifier?.value || '',
    action: valueOf(p, 'action') || '',
    outcome: valueOf(p, 'outcome') || '',
    status: valueOf(p, 'status') ?? null,
    basis: valueOf(p, 'basis') || '',
    rule: valueOf(p, 'rule') || '',
    supervisor: valueOf(p, 'supervisor') || '',
    review: review(partsOf(p, 'review')[0]),
  };
}

// One 'month' or 'total' parameter.
function usageOf(p) {
  return {
    month: valueOf(p, 'month') || '',
    views: valueOf(p, 'recordViews') ?? 0,
    users: valueOf(p, 'users') ?? 0,
    carePlanViews: valueOf(p, 'carePlanViews') ?? 0,
    carePlanViewsEmergency: valueOf(p, 'carePlanViewsByEmergencyServices') ?? 0,
    settings: partsOf(p, 'setting').map((s) => {
      const coding = valueOf(s, 'code') || {};
      return { code: coding.code || '', display: coding.display || coding.code || '', views: valueOf(s, 'recordViews') ?? 0 };
    }),
  };
}

// "2025-07" -> "Jul 2025"
const monthLabel = (m) => {
  const x = /^(\d{4})-(\d{2})$/.exec(m);
  return x ? new Date(Date.UTC(Number(x[1]), Number(x[2]) - 1, 1)).toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' }) : m;
};

// The usage series the dashboard charts, from the months and the total.
export function seriesOf(months, total) {
  const per = (name, title, pick) => ({ name, title, points: months.map((m) => ({ label: monthLabel(m.month), value: pick(m) })) });
  const out = [
    per('views-per-month', 'Record views per month', (m) => m.views),
    per('distinct-users', 'Distinct users per month', (m) => m.users),
    { name: 'by-care-setting', title: 'Record views by care setting', points: (total?.settings || []).map((s) => ({ label: s.display, value: s.views })) },
    per('care-plan-views-emergency', 'Care plan views by emergency services per month', (m) => m.carePlanViewsEmergency),
  ];
  return out;
}

// Read the $audit-report Parameters (docs/api.md#audit-report):
// { organization, since, until, records, unreadable, volumeThreshold,
//   alerts: [...], months: [...], total, series: [...] }.
export function parseReport(params) {
  const top = (name) => partValue((params?.parameter || []).find((p) => p.name === name));
  const list = (name) => (params?.parameter || []).filter((p) => p.name === name);
  const months = list('month').map(usageOf);
  const total = list('total').map(usageOf)[0] || null;
  return {
    organization: top('organization') || '',
    since: top('since') || '',
    until: top('until') || '',
    records: top('records') ?? 0,
    unreadable: top('unreadable') ?? 0,
    volumeThreshold: top('volumeThreshold') ?? null,
    alerts: list('alert').map(alertOf),
    months,
    total,
    series: seriesOf(months, total),
  };
}

// The report for a period (since/until: YYYY-MM-DD, both optional).
export async function loadReport({ since, until } = {}) {
  const q = new URLSearchParams();
  if (since) q.set('since', since);
  if (until) q.set('until', until);
  const qs = q.toString();
  return parseReport(await get(qs ? `$audit-report?${qs}` : '$audit-report'));
}

// ---- AuditEvent ---------------------------------------------------------------

const extOf = (ev, name) => (ev.extension || []).filter((e) => e.url === EXT + name);

// The requesting user, their organisation (ODS code) and the patient of
// an AuditEvent.
function userAgent(ev) {
  return (ev.agent || []).find((a) => a.requestor) || {};
}
function orgOf(ev) {
  return (ev.agent || []).find((a) => a.who?.identifier?.system === ODS)?.who.identifier.value || '';
}
function patientOf(ev) {
  return (ev.entity || []).find((e) => e.role?.code === '1' || /^Patient\//.test(e.what?.reference || ''))?.what?.reference || '';
}
// A person the node holds nothing of (a federated read): by NHS number.
function nhsOf(ev) {
  return (ev.entity || []).find((e) => e.role?.code === '1' && e.what?.identifier?.system === NHS_NUMBER)?.what.identifier.value || '';
}
function purposeOf(agent, ev) {
  const list = agent.purposeOfUse || ev.purposeOfEvent || [];
  return list.map((p) => p.coding?.find((c) => c.system === OUR_PURPOSES)?.code || p.text || cc(p)).filter(Boolean)[0] || '';
}

// What the event did, in words: our own action code where there is one
// (everything, audit-read, review...), else the REST interaction.
export function actionOf(ev) {
  const codes = (ev.subtype || []).map((c) => c.code);
  const own = (ev.subtype || []).find((c) => c.system === OUR_ACTIONS)?.code;
  const code = own || codes[0] || '';
  return { code, label: ACTION_LABELS[code] || code || ev.type?.display || '' };
}

// One AuditEvent as a row of the trail (the privacy officer's full view).
export function trailRow(ev) {
  const agent = userAgent(ev);
  const rv = extOf(ev, 'review')[0];
  const sub = (name) => rv?.extension?.find((e) => e.url === name);
  const status = extOf(ev, 'http-status')[0]?.valueInteger;
  return {
    id: ev.id,
    when: ev.recorded || '',
    who: agent.who?.display || agent.name || '',
    user: agent.who?.identifier?.value || '',
    org: orgOf(ev),
    role: agent.role?.[0]?.text || agent.role?.[0]?.coding?.[0]?.code || '',
    action: actionOf(ev),
    patient: patientOf(ev),
    nhs: nhsOf(ev),
    purpose: purposeOf(agent, ev),
    reason: extOf(ev, 'reason')[0]?.valueString || '',
    outcome: extOf(ev, 'outcome')[0]?.valueCode || (ev.outcome === '0' ? 'allowed' : ev.outcomeDesc || ''),
    status: status ?? null,
    alerts: extOf(ev, 'alert').map((e) => e.valueCoding?.code).filter(Boolean),
    reviewOf: sub('record')?.valueReference?.reference || '',
    reviewOutcome: sub('outcome')?.valueCode || '',
  };
}

// The start of UK day 'day' (YYYY-MM-DD) as an instant: midnight in
// London, GMT or BST.
export function ukDayStart(day) {
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const base = Date.parse(`${day}T00:00:00Z`);
  const want = `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}, 00:00`;
  for (const off of [3600000, 0]) {
    if (fmt.format(new Date(base - off)) === want) return new Date(base - off).toISOString();
  }
  return new Date(base).toISOString();
}

// The UK day of an instant, YYYY-MM-DD.
export function ukDayOf(instant) {
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return '';
  const p = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(d);
  const get = (t) => p.find((x) => x.type === t)?.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

// The query of a trail search: { patient: 'Patient/ID' or 'ID', agent:
// user id, day: YYYY-MM-DD (a UK day) }, each optional.
export function trailQuery({ patient, agent, day } = {}, count = 50) {
  const q = new URLSearchParams();
  if (patient) q.set('patient', /^Patient\//.test(patient) ? patient : `Patient/${patient}`);
  if (agent) q.set('agent', agent);
  if (day) {
    const next = new Date(Date.parse(`${day}T12:00:00Z`) + 86400000).toISOString().slice(0, 10);
    q.append('date', `ge${ukDayStart(day)}`);
    q.append('date', `lt${ukDayStart(next)}`);
  }
  q.set('_count', String(count));
  return `AuditEvent?${q}`;
}

// The criteria that show what lies behind an alert: the member of staff's
// accesses that day for unusual volume, else the accesses to the patient.
export function trailCriteria(alert) {
  if (alert.isVolume || !alert.patient) return { agent: alert.user, day: alert.day || ukDayOf(alert.time) };
  return { patient: alert.patient };
}

// One page of the audit trail: { rows, next } (next: the URL of the next
// page, or null). 'from' is a next URL from an earlier page.
export async function trailPage(criteria, from) {
  const b = await get(from || trailQuery(criteria));
  const rows = (b?.entry || []).map((e) => e.resource).filter((r) => r?.resourceType === 'AuditEvent').map(trailRow);
  return { rows, next: b?.link?.find((l) => l.relation === 'next')?.url || null };
}

// ---- $audit-review ------------------------------------------------------------

// Record the review of an alert (its record number, or for unusual
// volume the member of staff and the UK day): POST /fhir/$audit-review.
// Resolves to the review as the report gives it ({ outcome, record, time,
// user, userName, note }) once recorded; throws ApiError otherwise (409:
// already reviewed).
export function reviewParameters(alert, outcome, note) {
  const parameter = alert.isVolume
    ? [{ name: 'user', valueString: alert.user }, { name: 'day', valueDate: alert.day }]
    : [{ name: 'record', valueInteger: alert.record }];
  parameter.push({ name: 'outcome', valueCode: outcome });
  if (note) parameter.push({ name: 'note', valueString: note });
  return { resourceType: 'Parameters', parameter };
}
export async function reviewAlert(alert, outcome, note) {
  const body = reviewParameters(alert, outcome, note);
  const { json } = await request('$audit-review', { method: 'POST', body });
  const top = (name) => partValue((json?.parameter || []).find((p) => p.name === name));
  const ref = top('review') || '';
  return {
    outcome: top('outcome') || outcome,
    record: Number(ref.replace(/^AuditEvent\//, '')) || null,
    time: top('time') || '',
    user: top('user') || '',
    userName: top('userName') || '',
    note: top('note') || note || '',
  };
}

// ---- a patient's own record ----------------------------------------------------

// One AuditEvent as a patient sees it: the node never says who (only
// "a member of staff", "a source system", "a patient" or "you"), but the
// organisation, the role, what was done and why.
export function lookedRow(ev) {
  const agent = userAgent(ev);
  const who = agent.who?.display || '';
  const kind = who === 'you' ? 'you' : who === 'a source system' ? 'system' : who === 'a patient' ? 'patient' : 'staff';
  return {
    id: ev.id,
    when: ev.recorded || '',
    kind,
    who,
    org: orgOf(ev),
    role: agent.role?.[0]?.text || agent.role?.[0]?.coding?.[0]?.code || '',
    action: { code: actionOf(ev).code, label: PATIENT_ACTION_LABELS[actionOf(ev).code] || actionOf(ev).label },
    purpose: purposeOf(agent, ev),
    outcome: extOf(ev, 'outcome')[0]?.valueCode || '',
  };
}

// The names of organisations by ODS code: those the record already holds
// ('known', a Map of code -> { name }), the rest read from the node's
// directory (Organization by identifier). Codes it cannot name stay out.
export async function orgNames(codes, known) {
  const names = new Map();
  const missing = [];
  for (const c of new Set(codes)) {
    if (!c) continue;
    if (known?.get(c)?.name) names.set(c, known.get(c).name);
    else missing.push(c);
  }
  for (let i = 0; i < missing.length; i += 20) {
    const ids = missing.slice(i, i + 20).map((c) => `${ODS}|${c}`).join(',');
    const { resources } = await getAll(`Organization?identifier=${encodeURIComponent(ids)}&_count=100`, { maxPages: 1 }).catch(() => ({ resources: [] }));
    for (const o of resources) {
      const code = (o.identifier || []).find((x) => x.system === ODS)?.value;
      if (code && o.name && !names.has(code)) names.set(code, o.name);
    }
  }
  return names;
}

// Who has looked at the signed-in patient's own record: the node's
// AuditEvents about it, newest first (the node decides which are theirs).
// Resolves to { rows, more } where 'more' says there were older ones.
export async function whoLooked({ count = 200 } = {}) {
  const b = await get(`AuditEvent?_count=${count}`);
  const rows = (b?.entry || []).map((e) => e.resource).filter((r) => r?.resourceType === 'AuditEvent').map(lookedRow);
  return { rows, more: Boolean(b?.link?.find((l) => l.relation === 'next')) };
}
