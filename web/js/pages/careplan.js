// pages/careplan.js: the Universal Care Plan (/ui/careplan?patient=ID):
// the emergency summary (one screen, large type, the CPR decision
// unmistakable and never shown as valid once its review date has
// passed), the full plan, the form to create or revise it (careplan-
// form.js) and the history of its revisions and of the plans it
// superseded. All data goes through careplan-data.js: the summary is the
// node's $care-plan-summary, the other views read the plan's resources.

import { h, $, clear, append } from '../dom.js';
import { nhsFormat } from '../nhs.js';
import { SYS, CPR, fmtDate, fmtDateTime, age, humanName, identifierValue } from '../fhir.js';
import { isAdminRole, isEmergency, isPatient, reasonHeader, roleLabel } from '../session.js';
import {
  loadSummary, loadPlan, planHistory, organisationName, ukToday,
} from '../careplan-data.js';
import { initPage, showProblem, notice, accessBanner, status, withAccessReason } from '../shell.js';
import { planForm, canWrite } from './careplan-form.js';

const params = new URLSearchParams(location.search);
const patientId = params.get('patient') || '';
const ctx = await initPage({ active: 'record' });
const app = $('#app');
const VIEWS = {
  summary: 'Emergency summary', plan: 'Full plan', edit: 'Revise the plan', new: 'Create a plan', history: 'History',
};
let view = VIEWS[params.get('view')] ? params.get('view') : 'summary';
const link = (v, extra = '') => `/ui/careplan?patient=${encodeURIComponent(patientId)}&view=${v}${extra}`;

main().catch((e) => showProblem(app, e, { what: 'Loading the care plan' }));

async function main() {
  if (!patientId) {
    clear(app).append(h('h1', null, 'Care plan'), h('p', null, 'Open a patient\'s record first: ', h('a', { href: '/ui/' }, 'find a patient'), '.'));
    return;
  }
  // The node refuses care plans to these roles (403 role-not-permitted);
  // the page does not ask, and shows no clinical decision.
  if (isAdminRole(ctx.claims)) {
    document.title = 'Care plan — carerecord';
    clear(app).append(h('h1', null, 'Care plan'),
      h('p', { class: 'notice info', id: 'role-note' }, `Your role (${roleLabel(ctx.claims.role)}) does not see care plans: they hold clinical decisions. The plan's key contacts are in the patient's record.`),
      h('p', null, h('a', { href: `/ui/?patient=${encodeURIComponent(patientId)}` }, 'Back to the record')));
    return;
  }
  status('Loading the care plan');
  const t0 = performance.now();
  const load = view === 'summary'
    ? (reason) => loadSummary(patientId, reason, { thisNode: ctx.node })
    : (reason) => loadPlan(patientId, reason, { thisNode: ctx.node });
  const got = await withAccessReason([patientId], 'this patient', load);
  if (got.cancelled) {
    clear(app).append(h('h1', null, 'Care plan not opened'), h('p', null, 'You did not state a reason, so the plan was not opened.'));
    status('Care plan not opened');
    return;
  }
  const t1 = performance.now();
  if (view === 'summary') renderSummaryPage(got.result, got.reason);
  else renderPlanPage(got.result, got.reason);
  // Measured by the browser tests: fetching and drawing the page.
  document.body.dataset.fetchMs = String(Math.round(t1 - t0));
  document.body.dataset.renderMs = String(Math.round(performance.now() - t1));
}

// The page frame: the access banner, the tabs, a notice after saving.
function frame(hasPlan, reason) {
  document.title = `${VIEWS[view]} — carerecord`;
  const banner = h('div', { id: 'access-banner-slot' });
  accessBanner(banner, reason);
  const tabs = hasPlan
    ? ['summary', 'plan', ...(canWrite(ctx.claims) ? ['edit'] : []), 'history']
    : ['summary', ...(canWrite(ctx.claims) ? ['new'] : [])];
  const nav = h('nav', { class: 'plan-tabs no-print', 'aria-label': 'Care plan pages' },
    h('ul', null,
      tabs.map((v) => h('li', null, h('a', { href: link(v), 'aria-current': v === view ? 'page' : null }, VIEWS[v]))),
      h('li', null, h('a', { href: `/ui/?patient=${encodeURIComponent(patientId)}` }, 'Whole record'))));
  const body = h('div', { id: 'plan-view' });
  append(clear(app), [banner, nav, body]);
  if (params.get('saved')) {
    notice(body, 'info', h('strong', null, 'The care plan was saved. '),
      'Every service that may open this record sees it from now on, on every node.');
  }
  return body;
}

// ---- the emergency summary -----------------------------------------------------------

const CPR_BLOCK = {
  no: ['Do not attempt CPR', 'CPR is not recommended for this person.'],
  yes: ['For CPR', 'CPR is recommended: attempt resuscitation.'],
  unknown: ['CPR status unknown', 'The clinician who wrote this plan was not aware of a CPR decision.'],
  none: ['No CPR decision recorded', 'There is no CPR decision on record here.'],
};

function cprKind(cpr) {
  if (cpr.code === CPR.no) return 'no';
  if (cpr.code === CPR.yes) return 'yes';
  return cpr.validity === 'unknown' ? 'unknown' : 'none';
}

const tel = (phone) => h('a', { href: `tel:${phone.replace(/[^\d+]/g, '')}`, class: 'tel' }, phone);

// The CPR decision in a block of its own. A decision whose review date
// has passed (or that has none) keeps its words but loses the look of a
// valid one, and says first that it needs review.
function cprBlock(cpr) {
  const kind = cprKind(cpr);
  const needsReview = cpr.validity === 'needs-review';
  const [words, meaning] = CPR_BLOCK[kind];
  const today = ukToday();
  const review = (cpr.reviewDate || '').slice(0, 10);
  const dates = [
    cpr.decisionDate ? `Decision made ${fmtDate(cpr.decisionDate.slice(0, 10))}` : '',
    review ? `review date ${fmtDate(review)}${review < today ? ' (passed)' : ''}` : (kind === 'yes' || kind === 'no' ? 'no review date' : ''),
  ].filter(Boolean).join(' · ');
  return h('section', {
    class: ['cpr', kind, needsReview ? 'needs-review' : null], id: 'cpr-decision', 'aria-labelledby': 'cpr-words',
    'data-cpr': kind, 'data-validity': cpr.validity,
  },
  needsReview ? h('p', { class: 'validity' }, 'Needs review — not valid until reviewed') : null,
  h('h2', { class: 'decision', id: 'cpr-words' }, needsReview ? h('span', { class: 'recorded' }, 'Recorded decision: ') : null, words),
  h('p', { class: 'meaning' }, needsReview ? 'This was the decision; its review date has passed, so do not rely on it.' : meaning),
  dates ? h('p', { class: 'when' }, dates) : null,
  cpr.validity === 'valid' && review ? h('p', { class: 'valid-until' }, `Valid until ${fmtDate(review)} (its review date).`) : null);
}

function reviewWarning(cpr) {
  const review = (cpr.reviewDate || '').slice(0, 10);
  if (cpr.validity === 'needs-review') {
    return h('p', { class: 'review-warning', role: 'alert', id: 'review-warning' },
      cpr.message || 'This CPR decision needs review; do not treat it as valid.',
      ' Make your own clinical decision and seek senior advice.');
  }
  if (cpr.isDueSoon) {
    return h('p', { class: 'review-soon', id: 'review-warning' }, `The CPR decision is due for review by ${fmtDate(review)}.`);
  }
  return null;
}

function contactsList(contacts) {
  if (!contacts.length) return 'None recorded';
  return h('ul', { class: 'contacts', id: 'summary-contacts' }, contacts.map((c) => h('li', null,
    h('span', { class: 'contact-name' }, c.name || 'Name not recorded'),
    c.relationship ? ` (${c.relationship})` : '',
    c.phones.length ? [' ', c.phones.map((p, i) => [i ? ', ' : '', tel(p)])] : ' — no phone number',
    c.isNok ? h('span', { class: 'tag' }, 'Next of kin') : null,
    c.isLpa ? h('span', { class: 'tag' }, 'Lasting power of attorney') : null)));
}

function scaleOf(p) {
  if (p?.scale === null || p?.scale === undefined) return null;
  const n = Number(p.scale);
  const leaning = n < 40 ? 'towards sustaining life' : n > 60 ? 'towards comfort' : 'balanced';
  return h('span', { class: 'scale' },
    h('span', { class: 'scale-value' }, `Priority ${n} of 100 (${leaning})`),
    h('span', { class: 'scale-bar', 'aria-hidden': 'true' },
      h('span', null, 'Sustaining life'), h('meter', { min: 0, max: 100, value: n }), h('span', null, 'Comfort')));
}

function renderSummaryPage(s, reason) {
  const body = frame(s.hasPlan, reason);
  const wrap = h('div', { class: 'ecs', id: 'emergency-summary' });
  const a = age(s.birthDate);
  append(wrap, [
    h('h1', null, 'Emergency care plan summary'),
    h('p', { class: 'who', id: 'plan-patient' },
      h('strong', null, s.patient.name || 'Name not shown'),
      s.nhsNumber ? ` · NHS number ${nhsFormat(s.nhsNumber)}` : '',
      s.birthDate ? ` · born ${fmtDate(s.birthDate)}${a !== null ? ` (${a} years)` : ''}` : ''),
    s.withheld ? h('p', { class: 'notice info', id: 'withheld' }, s.withheld) : null,
    cprBlock(s.cpr),
    reviewWarning(s.cpr),
  ]);
  if (!s.hasPlan) {
    wrap.append(h('p', { class: 'notice info', id: 'no-plan' }, 'No Universal Care Plan is recorded for this person. Make your own clinical decision.'));
    if (canWrite(ctx.claims)) wrap.append(h('p', { class: 'no-print' }, h('a', { class: 'button', id: 'create-plan', href: link('new') }, 'Create a care plan')));
    body.append(wrap);
    status('No care plan recorded');
    return;
  }
  const row = (id, label, ...value) => h('div', { id: `ecs-${id}` }, h('dt', null, label),
    h('dd', null, ...(value.filter((v) => v !== null && v !== '' && v !== undefined).length ? value : ['Not recorded'])));
  const lines = (...xs) => xs.filter(Boolean).map((x, i) => h('span', { class: i ? 'line sub' : 'line' }, x));
  const lpaHolders = s.contacts.filter((c) => c.isLpa).map((c) => c.name);
  append(wrap, [
    h('dl', { class: 'ecs-grid' },
      row('ceiling', 'Ceiling of treatment', ...(s.ceiling ? lines(s.ceiling.levelText, s.ceiling.recommendations) : [])),
      row('matters', 'What matters to me', ...lines(s.priorities?.whatMatters), scaleOf(s.priorities)),
      row('place-care', 'Preferred place of care', s.placeOfCare),
      row('place-death', 'Preferred place of death', s.placeOfDeath),
      row('contacts', 'Key contacts', contactsList(s.contacts)),
      row('lpa', 'Lasting power of attorney (health and welfare)',
        s.lpa ? `Yes${lpaHolders.length ? `: ${lpaHolders.join(', ')}` : ''}` : 'None recorded'),
      row('adrt', 'Advance decision to refuse treatment',
        s.adrt?.recorded ? `Yes${s.adrt.whereKept ? ` — kept: ${s.adrt.whereKept}` : ''}` : 'None recorded'),
      row('jic', 'Just-in-case medicines', ...(s.jic
        ? lines(s.jic.whereKept ? `Kept: ${s.jic.whereKept}` : 'Where kept not recorded', s.jic.details, ...s.jic.medicines)
        : ['None recorded'])),
      row('capacity', 'Capacity and involvement', ...(s.capacity ? lines(
        s.capacity.hasCapacity === true ? 'Could take part in making this plan' : s.capacity.hasCapacity === false ? 'Lacked capacity to take part in making this plan' : '',
        s.capacity.involvement ? `Involved: ${s.capacity.involvement}` : '') : [])),
      row('prognosis', 'Prognosis', s.prognosis),
      row('plan-review', 'Plan review date', s.planReviewDate
        ? h('span', { class: s.planNeedsReview ? 'overdue' : null }, fmtDate(s.planReviewDate), s.planNeedsReview ? ' — overdue: the plan needs review' : '')
        : '')),
    planSource(s),
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'button secondary', id: 'print-summary', onclick: () => window.print() }, 'Print')),
  ]);
  body.append(wrap);
  status(`Emergency summary: ${CPR_BLOCK[cprKind(s.cpr)][0]}${s.cpr.validity === 'needs-review' ? ', needs review' : ''}`);
}

// Who last changed the plan, where, and which node answered.
function planSource(s) {
  const u = s.lastUpdated;
  const org = h('span', { class: 'org-name', id: 'source-org' }, u?.orgName || u?.org || 'organisation not recorded');
  if (u?.org && !u.orgName) {
    organisationName(u.org).then((name) => { if (name) org.textContent = `${name} (${u.org})`; });
  }
  const node = s.node || s.thisNode;
  return h('div', { class: 'plan-source', id: 'plan-source' },
    h('p', null, 'Last updated by ', h('strong', null, u?.by || 'not recorded'), u?.role ? ` (${roleLabel(u.role)})` : '', ', ', org,
      u?.when ? `, ${fmtDateTime(u.when)}` : '', '.'),
    s.signedOff?.by || s.signedOff?.when
      ? h('p', null, `Signed off by ${s.signedOff.by || 'not recorded'}${s.signedOff.when ? ` on ${fmtDate(s.signedOff.when.slice(0, 10))}` : ''}.`) : null,
    h('p', null, node ? (s.node && s.node !== s.thisNode ? `From node ${node}` : `Held on node ${node}`) : 'Held on this node',
      s.plan?.version ? `; plan version ${s.plan.version}.` : '.'));
}

// ---- the full plan, the form, the history -------------------------------------------------

function patientLine(p) {
  if (!p) return null;
  const a = age(p.birthDate);
  return h('p', { class: 'who', id: 'plan-patient' },
    h('strong', null, humanName(p.name)),
    ` · NHS number ${nhsFormat(identifierValue(p, SYS.nhs))} · born ${fmtDate(p.birthDate)}${a !== null ? ` (${a} years)` : ''}`);
}

function renderPlanPage(data, reason) {
  const wanted = params.get('plan');
  const shown = (wanted && data.plans.find((p) => p.id === wanted)) || data.current || data.plans[0] || null;
  if (view === 'edit' && !data.current) view = 'new';
  if (view === 'new' && data.current) view = 'edit';
  if ((view === 'plan' || view === 'history') && !shown) view = 'new';
  const body = frame(Boolean(data.current), reason);
  if (view === 'plan') fullPlan(body, data, shown);
  else if (view === 'history') history(body, data, reason);
  else if (!canWrite(ctx.claims)) readOnly(body, data);
  else planForm(body, { patientId, data, reason, patientLine: patientLine(data.patient), claims: ctx.claims });
  status(VIEWS[view]);
}

function readOnly(body, data) {
  append(body, [h('h1', null, data.current ? 'Revise the care plan' : 'Create a care plan'), patientLine(data.patient),
    h('p', { class: 'notice info', id: 'read-only' },
      isEmergency(ctx.claims) ? 'Emergency access is read-only: care plans cannot be changed with this sign-in.'
        : isPatient(ctx.claims) ? 'Your care plan is written with your care team. Ask them to change it.'
          : 'Your sign-in may not change care plans.')]);
}

const yesNo = (b) => (b === true ? 'Yes' : b === false ? 'No' : '');

function fullPlan(body, data, m) {
  const kv = (id, pairs) => h('dl', { class: 'kv', id }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v || 'Not recorded')]));
  const section = (id, title, ...content) => h('section', { class: 'plan-section', 'aria-labelledby': `h-${id}` }, h('h2', { id: `h-${id}` }, title), ...content);
  const cpr = m.cpr;
  const cprWords = cpr ? `${cpr.label}${cpr.validity === 'needs-review' ? ' — NEEDS REVIEW: not valid until reviewed' : cpr.validity === 'valid' ? ' (valid)' : ''}` : 'No CPR decision recorded';
  const statusWords = { active: 'Current', revoked: 'Superseded by a newer plan', draft: 'Draft', completed: 'Completed' };
  const rec = m.recordedBy;
  append(body, [
    h('h1', null, m.title),
    patientLine(data.patient),
    m.status !== 'active' ? notice(h('div'), 'warning', 'This plan was superseded: it is kept for the record. ',
      data.current ? h('a', { href: link('plan') }, 'Open the current plan') : null) : null,
    section('cpr', 'CPR decision', kv('plan-cpr', [
      ['Decision', cprWords],
      ['Date of the decision', cpr?.decisionDate ? fmtDate(cpr.decisionDate.slice(0, 10)) : ''],
      ['Review date', cpr?.reviewDate ? `${fmtDate(cpr.reviewDate.slice(0, 10))}${cpr.validity === 'needs-review' ? ' (passed)' : ''}` : ''],
      ['Discussed with', cpr?.discussedWith],
      ['Reason for the decision', cpr?.reason],
      ['Recorded by', cpr ? `${cpr.recordedBy || 'not recorded'}${cpr.isRecorderSenior ? ', the senior responsible clinician' : ''}` : ''],
      ['Senior endorser', cpr?.endorser ? `${cpr.endorser}${cpr.endorsed ? ` (${fmtDate(cpr.endorsed.slice(0, 10))})` : ''}` : (cpr?.isRecorderSenior ? 'Not needed: recorded by the senior clinician' : '')],
    ])),
    section('ceiling', 'Ceiling of treatment and clinical recommendations', kv('plan-ceiling', [
      ['Ceiling of treatment', m.ceiling?.levelText],
      ['Clinical recommendations', m.ceiling?.recommendations],
    ])),
    section('matters', 'What matters to the person', kv('plan-matters', [
      ['What matters to me', m.priorities.whatMatters],
      ['Priority scale', scaleOf(m.priorities)],
    ])),
    section('understanding', 'Shared understanding', kv('plan-understanding', [
      ['Diagnosis and situation', m.description],
      ['Problems the plan is about', m.conditions.join(', ')],
      ['Prognosis', m.prognosis],
    ])),
    section('preferences', 'Preferences', kv('plan-preferences', [
      ['Preferred place of care', m.placeOfCare?.text],
      ['Preferred place of death', m.placeOfDeath?.text],
    ])),
    section('capacity', 'Capacity and involvement', kv('plan-capacity', [
      ['Could take part in making the plan', yesNo(m.capacity.hasCapacity)],
      ['Who was involved', m.capacity.involvement],
    ])),
    section('adrt', 'Advance decision to refuse treatment and lasting power of attorney', kv('plan-legal', [
      ['Advance decision to refuse treatment', m.adrt?.active ? `Yes — kept: ${m.adrt.whereKept || 'not recorded'}` : 'None recorded'],
      ['Lasting power of attorney (health and welfare)', m.lpa?.active ? 'Yes' : 'None recorded'],
    ])),
    section('contacts', 'Key contacts', m.contacts.length
      ? h('table', { class: 'table', id: 'plan-contacts' },
        h('thead', null, h('tr', null, ['Name', 'Relationship', 'Phone', 'Next of kin', 'Lasting power of attorney'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, m.contacts.map((c) => h('tr', null, h('td', null, c.name), h('td', null, c.relationshipText),
          h('td', null, c.phone ? tel(c.phone) : ''), h('td', null, c.isNok ? 'Yes' : ''), h('td', null, c.isLpa ? 'Yes' : '')))))
      : h('p', null, 'No contacts recorded.')),
    section('jic', 'Just-in-case medicines', kv('plan-jic', [
      ['Where they are kept', m.jic?.whereKept],
      ['Details', m.jic?.details],
      ['Medicines', m.medicines.map((x) => x.name || 'Not shown to you').join('; ')],
    ])),
    section('sign', 'Sign-off and review', kv('plan-sign', [
      ['Status', statusWords[m.status] || m.status],
      ['Responsible clinician', m.author],
      ['Signed off', m.signedOff ? fmtDate(m.signedOff.slice(0, 10)) : ''],
      ['Plan review date', m.reviewDate ? `${fmtDate(m.reviewDate.slice(0, 10))}${m.needsReview ? ' — overdue: the plan needs review' : ''}` : ''],
      ['Last saved by', rec ? `${rec.who || 'not recorded'}${rec.role ? ` (${roleLabel(rec.role)})` : ''}, ${data.orgName(rec.org) || rec.org}${rec.recorded ? `, ${fmtDateTime(rec.recorded)}` : ''}` : ''],
      ['Published by', `${m.orgName || m.org || 'not recorded'}${m.node ? ` (node ${m.node})` : ''}`],
      ['Version', m.version],
      ['Replaces', m.replaces.length ? h('a', { href: link('history') }, 'An earlier plan: see the history') : 'No earlier plan'],
    ])),
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'button secondary', onclick: () => window.print() }, 'Print')),
  ]);
}

async function history(body, data, reason) {
  append(body, [h('h1', null, 'History of the care plan'), patientLine(data.patient)]);
  const holder = h('div', { id: 'history', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading the revisions…'));
  body.append(holder);
  const groups = await planHistory(data.current || data.plans[0], reasonHeader(reason), { thisNode: ctx.node, orgName: data.orgName });
  clear(holder);
  holder.removeAttribute('aria-busy');
  if (!groups.length) { holder.append(h('p', null, 'No revisions could be read.')); return; }
  groups.forEach((g, n) => {
    const title = n === 0 ? (g.status === 'active' ? 'The current plan' : 'The plan') : 'A plan it superseded';
    holder.append(h('section', { class: 'history-plan', 'aria-labelledby': `hh-${n}`, id: `history-${n}` },
      h('h2', { id: `hh-${n}` }, title, h('span', { class: 'count' }, ` (${g.rows.length} version${g.rows.length === 1 ? '' : 's'})`)),
      h('table', { class: 'table history-table' },
        h('thead', null, h('tr', null, ['Version', 'Saved', 'By', 'What changed'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, g.rows.map((r) => h('tr', null,
          h('td', null, r.version),
          h('td', { class: 'nowrap' }, fmtDateTime(r.when)),
          h('td', null, r.who, r.role || r.org ? h('span', { class: 'sub block' }, [r.role ? roleLabel(r.role) : '', r.org].filter(Boolean).join(', ')) : null),
          h('td', null, h('ul', { class: 'changes' }, r.changes.map((c) => h('li', null, c))))))))));
  });
  status('History loaded');
}
