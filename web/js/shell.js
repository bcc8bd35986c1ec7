// shell.js: what every page shares: the header (who is signed in, the
// node, navigation, sign out), the access banner, status messages, the
// access-reason dialog (self-claimed relationship or emergency access)
// and the way problems are shown. Depends on dom.js, session.js, api.js.

import { h, $, clear, append, uid } from './dom.js';
import {
  token, claims as readClaims, personaLabel, signOut, roleLabel, purposeLabel, isAudit, isPatient,
  isEmergency, EMERGENCY_REASONS, reasonHeader, secondsLeft, reasonFor, setReason,
} from './session.js';
import { ApiError, capabilities, nodeId } from './api.js';

// Set up the page: header, navigation, banner. With requireToken and no
// token, go to the sign-in page. Resolves to { claims, cap, node }.
export async function initPage({ requireToken = true, active = '' } = {}) {
  if (requireToken && !token()) {
    window.location.replace(`/ui/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    return new Promise(() => {});   // the page is going away
  }
  const c = readClaims();
  let cap = null;
  try { cap = await capabilities(); } catch { cap = null; }
  const node = nodeId(cap);
  renderHeader(c, node, active);
  if (token()) sessionBanner(c);
  return { claims: c, cap, node };
}

function renderHeader(c, node, active) {
  const header = $('#site-header');
  if (!header) return;
  clear(header);
  const links = [];
  if (token() && !isAudit(c)) links.push(['record', '/ui/', isPatient(c) ? 'My record' : 'Find a patient']);
  if (token() && isAudit(c)) links.push(['privacy', '/ui/privacy', 'Privacy dashboard']);
  links.push(['signin', '/ui/signin', token() ? 'Switch user' : 'Sign in']);
  append(header, [
    h('div', { class: 'brand' },
      h('a', { href: '/ui/', class: 'brand-name' }, 'carerecord'),
      h('span', { class: 'brand-node' }, node ? `Shared care record · node ${node}` : 'Shared care record')),
    h('nav', { 'aria-label': 'Main' },
      h('ul', null, links.map(([id, href, text]) => h('li', null,
        h('a', { href, 'aria-current': id === active ? 'page' : null }, text))))),
    token() ? h('div', { class: 'user', id: 'user-box' },
      h('span', { class: 'user-name' }, c?.name || personaLabel() || 'Signed in'),
      c ? h('span', { class: 'user-role' }, `${roleLabel(c.role)} · ${c.org} · ${purposeLabel(c.purpose)}`) : null,
      h('button', { type: 'button', class: 'button secondary small', id: 'sign-out', onclick: () => { signOut(); location.assign('/ui/signin'); } }, 'Sign out'))
      : null,
  ]);
}

function sessionBanner(c) {
  const left = secondsLeft(c);
  if (left !== null && left < 0) {
    notice($('#session-banner'), 'warning', 'Your sign-in has expired.', h('a', { href: '/ui/signin' }, 'Sign in again'));
  } else if (isEmergency(c)) {
    notice($('#session-banner'), 'emergency', 'You are signed in for emergency access: read-only, and every record you open is reported to the privacy officer.');
  }
}

// A notice box: level is info, warning, critical or emergency.
export function notice(container, level, ...content) {
  if (!container) return null;
  const box = h('div', { class: `notice ${level}`, role: level === 'info' ? 'status' : 'alert' }, ...content);
  container.append(box);
  return box;
}

// The banner that says on what basis the open record is being read.
export function accessBanner(container, reason) {
  if (!container) return;
  clear(container);
  if (!reason) return;
  if (reason.kind === 'emergency') {
    const r = EMERGENCY_REASONS.find((x) => x.code === reason.code);
    container.append(h('div', { class: 'access-banner emergency', role: 'status', id: 'access-banner' },
      h('strong', null, 'EMERGENCY ACCESS'), ` — ${r ? r.display : reason.code}${reason.text ? `: ${reason.text}` : ''}. `,
      'This access is recorded and your privacy officer will review it.'));
  } else {
    container.append(h('div', { class: 'access-banner claimed', role: 'status', id: 'access-banner' },
      h('strong', null, 'Self-claimed relationship'), ` — ${reason.text}. `,
      'This access is recorded and your privacy officer will review it.'));
  }
}

// Polite announcements for screen readers (and a visible line).
export function status(text) {
  const el = $('#status');
  if (el) el.textContent = text;
}

// Show what went wrong, in words, with what to do. 'err' is an ApiError,
// a network error, or anything thrown.
export function showProblem(container, err, { what = 'The request' } = {}) {
  if (!container) return;
  clear(container);
  if (err instanceof ApiError) {
    if (err.status === 401) {
      notice(container, 'warning', h('p', null, h('strong', null, 'Your sign-in is not valid or has expired. ')),
        h('p', null, err.message), h('p', null, h('a', { href: '/ui/signin' }, 'Sign in again')));
      return;
    }
    const heading = err.status === 403 ? 'Access refused' : err.status === 404 ? 'Not found' : `${what} failed (${err.status})`;
    notice(container, err.status === 404 ? 'info' : 'warning',
      h('p', null, h('strong', null, heading)),
      h('p', null, err.message),
      err.rule ? h('p', { class: 'rule' }, `Rule: ${err.rule}`) : null);
    return;
  }
  notice(container, 'warning', h('p', null, h('strong', null, `${what} could not reach the node.`)),
    h('p', null, String(err?.message || err)));
}

// ---- the access reason dialog ----------------------------------------------

// Ask why the user needs this record. 'err' is the 403 that asked
// (no-relationship or reason-required); 'who' names the patient for the
// dialog. Resolves to a reason ({ kind, code, text }) or null when the
// user cancels. Emergency tokens choose a coded reason; direct-care
// tokens state a self-claimed relationship.
export function askAccessReason({ err, who = 'this patient', claims: c = readClaims() }) {
  const emergency = isEmergency(c);
  const titleId = uid('dlg-title');
  const errId = uid('dlg-err');
  const dlg = h('dialog', { class: 'access-dialog', 'aria-labelledby': titleId, id: 'access-dialog' });
  const form = h('form', { method: 'dialog', novalidate: true });
  const errorBox = h('p', { class: 'field-error', id: errId, hidden: true });
  const heading = emergency ? 'Emergency access: give a reason' : 'No recorded care relationship';
  const intro = emergency
    ? `You are opening the record of ${who} under emergency access. Choose the reason; it is recorded and reported to your privacy officer.`
    : `Your organisation has no recorded care relationship with ${who}. If you are caring for this person, say why you need the record: the access is recorded and reported to your privacy officer.`;

  let field;
  if (emergency) {
    field = h('fieldset', { 'aria-describedby': errId },
      h('legend', null, 'Reason for emergency access'),
      EMERGENCY_REASONS.map((r) => h('div', { class: 'radio' },
        h('input', { type: 'radio', name: 'code', id: `er-${r.code}`, value: r.code, required: true }),
        h('label', { for: `er-${r.code}` }, r.display))),
      h('label', { for: 'er-text' }, 'Details (optional)'),
      h('input', { type: 'text', id: 'er-text', name: 'text', maxlength: 200, autocomplete: 'off' }));
  } else {
    field = h('div', { class: 'field' },
      h('label', { for: 'sc-text' }, 'Why do you need this record?'),
      h('p', { class: 'hint', id: 'sc-hint' }, 'For example: "seeing the patient in clinic today", "covering for a colleague on the ward".'),
      h('textarea', { id: 'sc-text', name: 'text', rows: 3, maxlength: 300, required: true, 'aria-describedby': `sc-hint ${errId}` }));
  }
  append(form, [
    h('h2', { id: titleId }, heading),
    h('p', null, intro),
    err?.message ? h('p', { class: 'server-said' }, h('span', { class: 'visually-hidden' }, 'The node said: '), err.message) : null,
    field,
    errorBox,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: emergency ? 'button danger' : 'button', value: 'ok', id: 'access-ok' },
        emergency ? 'Open the record (emergency access)' : 'Open the record'),
      h('button', { type: 'button', class: 'button secondary', value: 'cancel', id: 'access-cancel', onclick: () => dlg.close('cancel') }, 'Cancel')),
  ]);
  dlg.append(form);
  document.body.append(dlg);

  return new Promise((resolve) => {
    form.addEventListener('submit', (ev) => {
      const data = new FormData(form);
      const text = String(data.get('text') || '').trim();
      let reason = null;
      if (emergency) {
        const code = String(data.get('code') || '');
        if (!code) {
          ev.preventDefault();
          errorBox.textContent = 'Choose the reason for emergency access';
          errorBox.hidden = false;
          form.querySelector('input[name=code]')?.focus();
          return;
        }
        reason = { kind: 'emergency', code, text };
      } else {
        if (!text) {
          ev.preventDefault();
          errorBox.textContent = 'Say why you need this record';
          errorBox.hidden = false;
          const ta = form.querySelector('textarea');
          ta.setAttribute('aria-invalid', 'true');
          ta.focus();
          return;
        }
        reason = { kind: 'self-claimed', text };
      }
      dlg.dataset.reason = reasonHeader(reason);
      dlg.reasonValue = reason;
    });
    dlg.addEventListener('close', () => {
      const r = dlg.returnValue === 'ok' ? dlg.reasonValue || null : null;
      dlg.remove();
      resolve(r);
    });
    dlg.showModal();
    (form.querySelector('input[name=code], textarea') || form.querySelector('button')).focus();
  });
}

// True when a 403 can be answered by stating a reason.
export const asksForReason = (err) => err instanceof ApiError && err.status === 403 &&
  ['no-relationship', 'reason-required'].includes(err.rule);

// Run 'fetcher(reasonHeader)' for a patient known by 'keys' (id, NHS
// number), asking for a reason and retrying when the node answers that
// one is needed. Resolves to { result, reason }, or { cancelled: true }
// when the user declines to give one.
export async function withAccessReason(keys, who, fetcher) {
  let reason = reasonFor(...keys);
  for (;;) {
    try {
      return { result: await fetcher(reasonHeader(reason)), reason };
    } catch (e) {
      if (!asksForReason(e)) throw e;
      const r = await askAccessReason({ err: e, who });
      if (!r) return { cancelled: true, reason: null };
      reason = r;
      setReason(r, ...keys);
    }
  }
}
