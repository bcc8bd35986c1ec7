// fhir.js: reading FHIR R4 data types for people: codes, names, dates,
// quantities, references, and where an item came from (publishing
// organisation and node). Pure functions; no dependencies.

export const SYS = {
  nhs: 'https://fhir.nhs.uk/Id/nhs-number',
  ods: 'https://fhir.nhs.uk/Id/ods-organization-code',
  sds: 'https://fhir.nhs.uk/Id/sds-user-id',
  sct: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  publisher: 'https://carerecord.example/publisher',
  node: 'https://carerecord.example/node',
  ucp: 'https://carerecord.example/CodeSystem/ucp',
  encounterKind: 'https://carerecord.example/CodeSystem/encounter-kind',
  orgKind: 'https://carerecord.example/CodeSystem/organisation-kind',
  confidentiality: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
};

export const CPR = {
  yes: '450475007',      // for CPR
  no: '450476008',       // not for CPR
  unknown: '845151000000104',
};

// The words of a CodeableConcept: its text, else the first display, else
// the first code.
export function cc(c) {
  if (!c) return '';
  if (Array.isArray(c)) return c.map(cc).filter(Boolean).join(', ');
  if (c.text) return c.text;
  const d = (c.coding || []).find((x) => x.display) || (c.coding || [])[0];
  return d ? (d.display || d.code || '') : '';
}

// True when CodeableConcept (or array of them) 'c' has system|code.
export function hasCoding(c, system, code) {
  const list = Array.isArray(c) ? c : [c];
  return list.some((x) => (x?.coding || []).some((k) => (!system || k.system === system) && (code === undefined || k.code === code)));
}

// The code of 'c' in 'system', or ''.
export function codeIn(c, system) {
  const list = Array.isArray(c) ? c : [c];
  for (const x of list) for (const k of x?.coding || []) if (k.system === system) return k.code || '';
  return '';
}

// A stable key for "the same test": the first LOINC code, else the
// first SNOMED code, else the first code, else the text.
export function codeKey(c) {
  if (!c) return '';
  const coding = c.coding || [];
  const pick = coding.find((k) => k.system === SYS.loinc) || coding.find((k) => k.system === SYS.sct) || coding[0];
  return pick ? `${pick.system || ''}|${pick.code || ''}` : `text|${c.text || ''}`;
}

// "Type/id" of a Reference, or '' (identifier-only references give '').
export function refKey(r) {
  const ref = r?.reference || '';
  const m = /([A-Za-z]+\/[A-Za-z0-9.-]{1,64})(\/_history\/\d+)?$/.exec(ref);
  return m ? m[1] : '';
}

export const keyOf = (res) => `${res.resourceType}/${res.id}`;

export function identifierValue(res, system) {
  return (res?.identifier || []).find((i) => i.system === system)?.value || '';
}

// ---- names and addresses ----------------------------------------------------

// NHS style: "OKAFOR, Priya Lorraine (Miss)".
export function humanName(names) {
  const n = (names || []).find((x) => x.use === 'official') || (names || [])[0];
  if (!n) return 'Name not known';
  if (!n.family && n.text) return n.text;
  const given = (n.given || []).join(' ');
  const prefix = (n.prefix || []).join(' ');
  return `${(n.family || '').toUpperCase()}${given ? `, ${given}` : ''}${prefix ? ` (${prefix})` : ''}`;
}

// "Priya Okafor" for prose.
export function plainName(names) {
  const n = (names || []).find((x) => x.use === 'official') || (names || [])[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [...(n.prefix || []), ...(n.given || []), n.family].filter(Boolean).join(' ');
}

export function addressLine(addrs) {
  const a = (addrs || []).find((x) => x.use === 'home') || (addrs || [])[0];
  if (!a) return '';
  if (a.text) return a.text;
  return [...(a.line || []), a.city, a.district, a.postalCode].filter(Boolean).join(', ');
}

export function phone(telecoms) {
  return (telecoms || []).filter((t) => t.system === 'phone' && t.value).map((t) => t.value).join(', ');
}

// ---- dates --------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// "2024-08-31" -> "31 Aug 2024"; "2024-08" -> "Aug 2024"; "2024" stays.
export function fmtDate(s) {
  if (!s) return '';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(s);
  if (!m) return s;
  if (!m[2]) return m[1];
  if (!m[3]) return `${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

// With the time when there is one (UK time): "31 Aug 2024, 09:00".
export function fmtDateTime(s) {
  if (!s) return '';
  if (!/T\d{2}:\d{2}/.test(s)) return fmtDate(s);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(d);
  const get = (t) => parts.find((p) => p.type === t)?.value || '';
  return `${get('day')} ${get('month')} ${get('year')}, ${get('hour')}:${get('minute')}`;
}

// Milliseconds since the epoch of a FHIR date or dateTime (partial dates
// at their start), or NaN.
export function timeOf(s) {
  if (!s) return NaN;
  if (/^\d{4}$/.test(s)) return Date.UTC(Number(s), 0, 1);
  if (/^\d{4}-\d{2}$/.test(s)) return Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, 1);
  return Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
}

// Whole years between a birth date and 'now' (a Date).
export function age(birthDate, now = new Date()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate || '');
  if (!m) return null;
  let a = now.getUTCFullYear() - Number(m[1]);
  const md = (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  if (md < Number(m[2]) * 100 + Number(m[3])) a--;
  return a;
}

// Today as YYYY-MM-DD (UTC).
export const today = () => new Date().toISOString().slice(0, 10);

// ---- values -------------------------------------------------------------------

export function quantity(q) {
  if (!q || q.value === undefined) return '';
  const unit = q.unit || q.code || '';
  return `${q.value}${unit ? ` ${unit}` : ''}`;
}

// The value of an Observation (or component) as words.
export function obsValue(o) {
  if (!o) return '';
  if (o.valueQuantity) return quantity(o.valueQuantity);
  if (o.valueCodeableConcept) return cc(o.valueCodeableConcept);
  if (o.valueString !== undefined) return o.valueString;
  if (o.valueBoolean !== undefined) return o.valueBoolean ? 'Yes' : 'No';
  if (o.valueInteger !== undefined) return String(o.valueInteger);
  if (o.valueDateTime) return fmtDateTime(o.valueDateTime);
  if (o.component?.length) {
    const qs = o.component.filter((c) => c.valueQuantity);
    if (qs.length === 2 && qs[0].valueQuantity.unit === qs[1].valueQuantity.unit) {
      return `${qs[0].valueQuantity.value}/${qs[1].valueQuantity.value} ${qs[0].valueQuantity.unit || ''}`.trim();
    }
    return o.component.map((c) => `${cc(c.code)} ${obsValue(c)}`).join('; ');
  }
  if (o.dataAbsentReason) return `(${cc(o.dataAbsentReason)})`;
  return '';
}

// The date that places a resource in time, for sorting and the timeline.
export function whenOf(r) {
  switch (r.resourceType) {
    case 'Encounter': return r.period?.start || '';
    case 'Condition': return r.onsetDateTime || r.recordedDate || r.onsetPeriod?.start || '';
    case 'AllergyIntolerance': return r.recordedDate || r.onsetDateTime || '';
    case 'MedicationRequest': return r.authoredOn || '';
    case 'MedicationStatement': return r.effectiveDateTime || r.effectivePeriod?.start || r.dateAsserted || '';
    case 'Observation': return r.effectiveDateTime || r.effectivePeriod?.start || r.issued || '';
    case 'DiagnosticReport': return r.effectiveDateTime || r.effectivePeriod?.start || r.issued || '';
    case 'Procedure': return r.performedDateTime || r.performedPeriod?.start || '';
    case 'Immunization': return r.occurrenceDateTime || r.recorded || '';
    case 'Composition': return r.date || '';
    case 'DocumentReference': return r.date || r.context?.period?.start || '';
    case 'CarePlan': return r.created || r.period?.start || '';
    case 'Appointment': return r.start || r.created || '';
    case 'ServiceRequest': return r.authoredOn || r.occurrenceDateTime || '';
    case 'EpisodeOfCare': return r.period?.start || '';
    case 'Consent': return r.dateTime || '';
    case 'Flag': return r.period?.start || '';
    case 'Communication': return r.sent || r.received || '';
    case 'RelatedPerson': return r.period?.start || '';
    default: return r.meta?.lastUpdated || '';
  }
}

// ---- where an item came from --------------------------------------------------

// The ODS code of the organisation that published 'r' (meta.tag), or ''.
export function publisherOf(r) {
  return (r?.meta?.tag || []).find((t) => t.system === SYS.publisher)?.code || '';
}

// The node an item came from: a federated answer marks each entry's
// source node in meta (a tag of https://carerecord.example/node, or
// meta.source ending in the node id); otherwise it is this node's own.
export function sourceNodeOf(r, thisNode) {
  const tag = (r?.meta?.tag || []).find((t) => t.system === SYS.node);
  if (tag?.code) return tag.code;
  const src = r?.meta?.source || '';
  if (src) {
    const m = /[#/]([A-Za-z0-9._-]+)\/?$/.exec(src);
    if (m) return m[1];
  }
  return thisNode || '';
}

// True when the Patient is a restricted record (v3-Confidentiality R/V).
export function isRestricted(p) {
  return (p?.meta?.security || []).some((s) => s.system === SYS.confidentiality && (s.code === 'R' || s.code === 'V'));
}
