// audit-data.js: the privacy officer dashboard's data: alerts to review
// and usage series from GET /fhir/$audit-report (a Parameters), the
// audit trail from GET /fhir/AuditEvent (IHE BALP), and recording a
// review. Each is used only when the node declares it in /fhir/metadata;
// docs/ui.md describes the shapes read here. Depends on api.js, fhir.js.

import { get, getAll, request, capabilities, hasType, hasOperation } from './api.js';
import { cc, refKey } from './fhir.js';

export const ALERT_LABELS = {
  'self-claimed': 'Self-claimed relationship',
  emergency: 'Emergency access',
  'same-surname': 'Same surname',
  'same-address': 'Same address',
  restricted: 'Restricted record',
  flagged: 'Flagged record',
  'out-of-hours': 'Out of hours',
  volume: 'Unusual volume',
  student: 'Healthcare student',
  'objection-overridden': 'Objection overridden',
};

export const REVIEW_OUTCOMES = [
  { code: 'appropriate', display: 'Appropriate: no concern' },
  { code: 'explained', display: 'Explained by the member of staff' },
  { code: 'escalated', display: 'Escalated to the Caldicott guardian' },
  { code: 'inappropriate', display: 'Inappropriate access: reported under the organisation\'s policy' },
];

// What this node offers: { trail, report, review }.
export async function features() {
  const cap = await capabilities().catch(() => null);
  return {
    trail: hasType(cap, 'AuditEvent'),
    report: hasOperation(cap, 'audit-report'),
    review: hasOperation(cap, 'audit-review'),
  };
}

// The value of a Parameters part, whatever its type (value[x]).
export function partValue(p) {
  if (!p) return undefined;
  for (const [k, v] of Object.entries(p)) {
    if (!k.startsWith('value')) continue;
    if (k === 'valueReference') return v.reference || v.display || '';
    if (k === 'valueCoding') return v.code || v.display || '';
    if (k === 'valueCodeableConcept') return cc(v);
    if (k === 'valueIdentifier') return v.value || '';
    if (k === 'valuePeriod') return v.start || '';
    return v;
  }
  if (p.resource) return p.resource;
  return undefined;
}

function partsObject(parts) {
  const o = {};
  for (const p of parts || []) {
    const v = p.part ? partsObject(p.part) : partValue(p);
    if (o[p.name] === undefined) o[p.name] = v;
    else o[p.name] = [].concat(o[p.name], v);
  }
  return o;
}

// Read the $audit-report Parameters: { alerts: [{ id, code, time, user,
// userName, org, patient, patientName, reason, status, outcome,
// auditEvent }], series: [{ name, title, points: [{ label, value }] }] }.
// Parameters named "alert" are alerts; parameters holding "point" parts
// are series (points with label and value).
export function parseReport(params) {
  const alerts = [];
  const series = [];
  for (const p of params?.parameter || []) {
    if (p.name === 'alert') {
      const o = partsObject(p.part);
      alerts.push({
        id: String(o.id ?? o.auditEvent ?? alerts.length),
        code: o.code || o.type || '',
        time: o.time || o.recorded || o.date || '',
        user: o.user || o.sub || '',
        userName: o.userName || o.name || '',
        org: o.org || o.organisation || o.organization || '',
        patient: o.patient || '',
        patientName: o.patientName || '',
        reason: o.reason || '',
        status: o.status || (o.reviewed ? 'reviewed' : 'open'),
        outcome: o.outcome || '',
        auditEvent: o.auditEvent || '',
      });
    } else if ((p.part || []).some((q) => q.name === 'point')) {
      const o = partsObject(p.part);
      const pts = [].concat(o.point || []).map((x) => ({ label: String(x.label ?? x.period ?? x.month ?? x.name ?? ''), value: Number(x.value ?? x.count ?? 0) }));
      series.push({ name: o.name || p.name, title: o.title || o.name || p.name, points: pts });
    }
  }
  return { alerts, series };
}

export async function loadReport() {
  return parseReport(await get('$audit-report'));
}

// One AuditEvent as a row of the trail.
export function trailRow(ev) {
  const agent = (ev.agent || []).find((a) => a.requestor) || (ev.agent || [])[0] || {};
  const patient = (ev.entity || []).find((e) => /^Patient\//.test(e.what?.reference || '') || e.role?.code === '1');
  return {
    id: ev.id,
    when: ev.recorded || ev.period?.start || '',
    who: agent.who?.display || agent.name || agent.who?.identifier?.value || '',
    user: agent.who?.identifier?.value || '',
    org: agent.location?.display || (agent.who?.identifier?.assigner?.display) || '',
    role: cc(agent.role?.[0]) || cc(agent.type) || '',
    action: ev.subtype?.map((s) => s.display || s.code).join(', ') || ev.type?.display || ev.type?.code || '',
    outcome: ev.outcome === '0' ? 'success' : ev.outcomeDesc || ev.outcome || '',
    patient: patient?.what?.display || refKey(patient?.what) || patient?.what?.identifier?.value || '',
    purpose: (agent.purposeOfUse || ev.purposeOfEvent || []).map(cc).join(', '),
  };
}

// The audit trail behind an alert: AuditEvents about its patient
// (newest first), or the one AuditEvent it names.
export async function trailFor(alert) {
  const q = new URLSearchParams({ _count: '100', _sort: '-date' });
  if (alert.patient) q.set('patient', alert.patient);
  else if (alert.auditEvent) q.set('_id', alert.auditEvent.replace(/^AuditEvent\//, ''));
  const { resources } = await getAll(`AuditEvent?${q}`, { maxPages: 1 });
  return resources.filter((r) => r.resourceType === 'AuditEvent').map(trailRow);
}

// Record the review of an alert: POST /fhir/$audit-review with a
// Parameters { alert, outcome, note } (the server side proposed in
// docs/ui.md). Resolves when the node has recorded it.
export async function reviewAlert(alert, outcome, note) {
  const parameter = [{ name: 'alert', valueString: alert.id }, { name: 'outcome', valueCode: outcome }];
  if (alert.auditEvent) parameter.push({ name: 'auditEvent', valueReference: { reference: alert.auditEvent } });
  if (note) parameter.push({ name: 'note', valueString: note });
  await request('$audit-review', { method: 'POST', body: { resourceType: 'Parameters', parameter } });
}
