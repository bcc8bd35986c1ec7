// session.js: who is signed in (the bearer token, kept in sessionStorage
// so it ends with the browser tab) and the access reasons stated for
// patients during this session. The token is never checked here (the
// node does that on every request); its claims are only read to label
// the screen and to choose what to offer. No dependencies.

const TOKEN = 'cr.token';
const LABEL = 'cr.persona';
const REASON = 'cr.reason.';

export const ROLES = {
  R8000: 'Clinical Practitioner',
  R8001: 'Nurse',
  R8003: 'Health Professional',
  R8004: 'Healthcare Student',
  R8008: 'Admin/Clinical Support',
  R8009: 'Receptionist',
  R8010: 'Clerical',
  R8014: 'Social Worker',
};

export const PURPOSES = {
  'direct-care': 'Direct care',
  emergency: 'Emergency access',
  'patient-access': 'Patient access',
  audit: 'Privacy audit',
  research: 'Research',
  system: 'Source system',
};

// The node's default emergency reasons (docs/access.md). A node may
// configure others; its 403 reason-invalid answer then lists them.
export const EMERGENCY_REASONS = [
  { code: 'life-threatening', display: 'Immediate threat to life or of serious harm' },
  { code: 'lacks-capacity', display: 'The patient is unconscious or lacks capacity and care cannot wait' },
  { code: 'urgent-care', display: 'Urgent care is needed before a care relationship can be recorded' },
  { code: 'safeguarding', display: 'Immediate safeguarding concern for a child or an adult at risk' },
  { code: 'public-health', display: 'Public health emergency or major incident' },
];

const store = () => window.sessionStorage;

export const token = () => store().getItem(TOKEN) || '';
export const personaLabel = () => store().getItem(LABEL) || '';

export function signIn(tok, label = '') {
  store().setItem(TOKEN, tok.trim());
  if (label) store().setItem(LABEL, label); else store().removeItem(LABEL);
}

export function signOut() {
  store().clear();
}

// The JWT payload, decoded without verification, or null when the token
// is not a JWT (an opaque token from an identity provider still works;
// the screen then shows less about the user).
export function decodeClaims(tok) {
  const parts = String(tok || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(b64), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    const c = JSON.parse(json);
    return c && typeof c === 'object' ? c : null;
  } catch {
    return null;
  }
}

export const claims = () => decodeClaims(token());

export const roleLabel = (code) => ROLES[code] || code || 'unknown role';
export const purposeLabel = (p) => PURPOSES[p] || p || 'unknown purpose';

// Roles that see demographics, appointments and contacts only (the
// node's default table; the node decides, this only shapes the screen).
export const isAdminRole = (c) => ['R8008', 'R8009', 'R8010'].includes(c?.role);
export const isEmergency = (c) => c?.purpose === 'emergency';
export const isPatient = (c) => c?.purpose === 'patient-access';
export const isAudit = (c) => c?.purpose === 'audit';

// Seconds until the token expires (negative when it has), or null.
export function secondsLeft(c) {
  return c && typeof c.exp === 'number' ? Math.round(c.exp - Date.now() / 1000) : null;
}

// ---- access reasons, per patient, for this session -------------------------
//
// A reason is { kind: 'emergency' | 'self-claimed', code, text } and
// travels as X-Access-Reason on every request about that patient. It is
// kept under each key the patient is known by (id, NHS number).

export function reasonHeader(r) {
  if (!r) return '';
  if (r.kind === 'emergency') return `emergency: ${r.code}${r.text ? ` ${r.text}` : ''}`;
  return `self-claimed: ${r.text}`;
}

export function reasonFor(...keys) {
  for (const k of keys) {
    if (!k) continue;
    const v = store().getItem(REASON + k);
    if (v) {
      try { return JSON.parse(v); } catch { /* ignore */ }
    }
  }
  return null;
}

export function setReason(r, ...keys) {
  for (const k of keys) if (k) store().setItem(REASON + k, JSON.stringify(r));
}
