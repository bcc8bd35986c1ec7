// pages/careplan.js: the Universal Care Plan (/ui/careplan?patient=ID):
// the emergency summary (one screen, large type, the CPR decision
// unmistakable, review-date warnings), the full plan, the form to create
// or revise it with the rules shown inline, and the history of
// revisions. All data goes through careplan-data.js.

import { h, $, clear, append } from '../dom.js';
import { nhsFormat } from '../nhs.js';
import { SYS, CPR, fmtDate, fmtDateTime, age, humanName, identifierValue } from '../fhir.js';
import { isAdminRole, isEmergency, isPatient, claims as readClaims, roleLabel, reasonHeader } from '../session.js';
import {
  loadPlans, validatePlan, formFrom, savePlan, planHistory, CPR_CHOICES, PLACES, CEILINGS, RELATIONSHIPS,
} from '../careplan-data.js';
import { ApiError } from '../api.js';
import { initPage, showProblem, notice, accessBanner, status, withAccessReason } from '../shell.js';

const params = new URLSearchParams(location.search);
const patientId = params.get('patient') || '';
const ctx = await initPage({ active: 'record' });
const app = $('#app');
const VIEWS = { summary: 'Emergency summary', plan: 'Full plan', edit: 'Revise the plan', new: 'Create a plan', history: 'History' };
let view = VIEWS[params.get('view')] ? params.get('view') : 'summary';

main().catch((e) => showProblem(app, e, { what: 'Loading the care plan' }));

function canWrite(c) {
  return c?.purpose === 'direct-care' && ['R8000', 'R8001', 'R8003'].includes(c?.role);
}

async function main() {
  if (!patientId) {
    clear(app).append(h('h1', null, 'Care plan'), h('p', null, 'Open a patient\'s record first: '), h('a', { href: '/ui/' }, 'Find a patient'));
    return;
  }
  if (isAdminRole(ctx.claims)) {
    clear(app).append(h('h1', null, 'Care plan'),
      h('p', { class: 'notice info', id: 'role-note' }, `Your role (${roleLabel(ctx.claims.role)}) does not see care plans: they hold clinical decisions. The plan's key contacts are in the patient's record.`),
      h('p', null, h('a', { href: `/ui/?patient=${encodeURIComponent(patientId)}` }, 'Back to the record')));
    return;
  }
  status('Loading the care plan');
  const got = await withAccessReason([patientId], 'this patient', (reason) => loadPlans(patientId, reason, { thisNode: ctx.node }));
  if (got.cancelled) {
    clear(app).append(h('h1', null, 'Care plan not opened'), h('p', null, 'You did not state a reason, so the plan was not opened.'));
    return;
  }
  const data = got.result;
  const wanted = params.get('plan');
  const plan = (wanted && data.plans.find((p) => p.id === wanted)) || data.plans[0] || null;
  if (!plan && (view === 'summary' || view === 'plan' || view === 'history' || view === 'edit')) view = canWrite(ctx.claims) ? 'new' : 'summary';
  if (plan && view === 'new') view = 'edit';
  render(data, plan, got.reason);
}

function patientLine(p) {
  if (!p) return null;
  const a = age(p.birthDate);
  return h('p', { class: 'who', id: 'plan-patient' },
    h('strong', null, humanName(p.name)),
    ` · NHS number ${nhsFormat(identifierValue(p, SYS.nhs))} · born ${fmtDate(p.birthDate)}${a !== null ? ` (${a})` : ''}`);
}

function tabs(plan) {
  const link = (v) => {
    const href = `/ui/careplan?patient=${encodeURIComponent(patientId)}&view=${v}${plan ? `&plan=${encodeURIComponent(plan.id)}` : ''}`;
    return h('li', null, h('a', { href, 'aria-current': v === view ? 'page' : null }, VIEWS[v]));
  };
  const list = plan ? ['summary', 'plan', ...(canWrite(ctx.claims) ? ['edit'] : []), 'history'] : (canWrite(ctx.claims) ? ['new'] : ['summary']);
  return h('nav', { class: 'plan-tabs no-print', 'aria-label': 'Care plan pages' },
    h('ul', null, list.map(link), h('li', null, h('a', { href: `/ui/?patient=${encodeURIComponent(patientId)}` }, 'Whole record'))));
}

function render(data, plan, reason) {
  document.title = `${VIEWS[view]} — carerecord`;
  const banner = h('div', { id: 'access-banner-slot' });
  accessBanner(banner, reason);
  const body = h('div', { id: 'plan-view' });
  append(clear(app), [banner, tabs(plan), body]);
  if (params.get('saved')) notice(body, 'info', h('strong', null, 'The care plan was saved. '), 'It is visible now to every service that may open this record.');
  if (view === 'summary') summary(body, data, plan);
  else if (view === 'plan') fullPlan(body, data, plan);
  else if (view === 'history') history(body, data, plan, reason);
  else editForm(body, data, plan);
  status(VIEWS[view]);
}

// ---- emergency summary ------------------------------------------------------------

const CPR_WORDS = {
  [CPR.no]: ['no', 'Do not attempt CPR'],
  [CPR.yes]: ['yes', 'For CPR'],
  [CPR.unknown]: ['unknown', 'CPR status unknown'],
};

function cprBox(cpr) {
  if (!cpr) {
    return h('section', { class: 'cpr none', id: 'cpr-decision', 'aria-label': 'CPR decision' },
      h('span', { class: 'decision' }, 'No CPR decision recorded'),
      h('p', { class: 'when' }, 'Make your own clinical decision.'));
  }
  const [cls, words] = CPR_WORDS[cpr.code] || ['unknown', cpr.label];
  return h('section', { class: `cpr ${cls}`, id: 'cpr-decision', 'aria-label': 'CPR decision', 'data-cpr': cls },
    h('span', { class: 'decision' }, words),
    h('p', { class: 'when' }, `Decision made ${fmtDate(cpr.date)}${cpr.review ? ` · review by ${fmtDate(cpr.review.slice(0, 10))}` : ''}`));
}

function reviewWarning(cpr) {
  if (!cpr) return null;
  if (cpr.isOverdue) {
    return h('p', { class: 'review-warning', role: 'alert', id: 'review-warning' },
      `Review date passed on ${fmtDate(cpr.review.slice(0, 10))}: this decision is no longer valid until it is reviewed. Make your own clinical decision and seek senior advice.`);
  }
  if (cpr.isDueSoon) {
    return h('p', { class: 'review-soon', id: 'review-warning' }, `Review due by ${fmtDate(cpr.review.slice(0, 10))}.`);
  }
  return null;
}

function contactList(plan) {
  if (!plan.contacts.length) return 'None recorded';
  return h('ul', { class: 'plain' }, plan.contacts.map((c) => h('li', null,
    `${c.name}${c.relationshipText ? ` (${c.relationshipText})` : ''}`, c.phone ? ` — ${c.phone}` : '', c.isLpa ? ' — holds LPA' : '')));
}

function summary(body, data, plan) {
  const wrap = h('div', { class: 'ecs', id: 'emergency-summary' });
  wrap.append(h('h1', null, 'Emergency care plan summary'));
  if (data.patient) wrap.append(patientLine(data.patient));
  if (!plan) {
    wrap.append(h('p', { class: 'notice info', id: 'no-plan' }, 'No Universal Care Plan is recorded for this person on this node.'));
    if (canWrite(ctx.claims)) wrap.append(h('p', null, h('a', { class: 'button', href: `/ui/careplan?patient=${encodeURIComponent(patientId)}&view=new` }, 'Create a care plan')));
    body.append(wrap);
    return;
  }
  const row = (label, value) => h('div', null, h('dt', null, label), h('dd', null, value || 'Not recorded'));
  append(wrap, [
    cprBox(plan.cpr),
    reviewWarning(plan.cpr),
    h('dl', { class: 'ecs-grid' },
      row('Ceiling of treatment', plan.ceiling),
      row('What matters to me', plan.whatMatters),
      row('Preferred place of care', plan.preferredCare?.text),
      row('Preferred place of death', plan.preferredDeath?.text),
      row('Advance decision to refuse treatment', plan.adrt || 'None recorded'),
      row('Lasting power of attorney (health and welfare)', plan.hasLpa ? 'Yes' : 'None recorded'),
      row('Key contacts', contactList(plan)),
      row('Just-in-case medicines', plan.jic || 'None recorded')),
    h('p', { class: 'plan-source' }, `Plan by ${plan.author || 'unknown author'}, ${plan.orgName || plan.org || 'organisation not recorded'}${plan.node ? ` (node ${plan.node})` : ''}; ` +
      `created ${fmtDate(plan.created)}${plan.lastUpdated ? `, last changed ${fmtDateTime(plan.lastUpdated)}` : ''}.`),
    h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'button secondary', onclick: () => window.print() }, 'Print')),
  ]);
  body.append(wrap);
}

// ---- the full plan -------------------------------------------------------------------

function fullPlan(body, data, plan) {
  const kv = (pairs) => h('dl', { class: 'kv' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v || 'Not recorded')]));
  const statusWords = { active: 'Active', draft: 'Draft', 'on-hold': 'On hold', revoked: 'Withdrawn', completed: 'Completed' };
  append(body, [
    h('h1', null, plan.title),
    patientLine(data.patient),
    h('section', { 'aria-labelledby': 'h-clin' }, h('h2', { id: 'h-clin' }, 'Clinical recommendations'),
      kv([
        ['CPR decision', plan.cpr ? `${plan.cpr.label} (made ${fmtDate(plan.cpr.date)})` : 'No CPR decision recorded'],
        ['Review CPR decision by', plan.cpr?.review ? `${fmtDate(plan.cpr.review.slice(0, 10))}${plan.cpr.isOverdue ? ' — OVERDUE: the decision is no longer valid' : ''}` : ''],
        ['Discussed with', plan.discussedWith || plan.cprNote],
        ['Senior endorser', plan.endorser],
        ['Ceiling of treatment', plan.ceiling],
      ])),
    h('section', { 'aria-labelledby': 'h-under' }, h('h2', { id: 'h-under' }, 'Shared understanding'),
      kv([
        ['Diagnoses', plan.conditions.join(', ')],
        ['Advance decision to refuse treatment', plan.adrt],
      ])),
    h('section', { 'aria-labelledby': 'h-matters' }, h('h2', { id: 'h-matters' }, 'What matters to me'), h('p', null, plan.whatMatters || 'Not recorded')),
    h('section', { 'aria-labelledby': 'h-pref' }, h('h2', { id: 'h-pref' }, 'Preferences'),
      kv([['Preferred place of care', plan.preferredCare?.text], ['Preferred place of death', plan.preferredDeath?.text]])),
    h('section', { 'aria-labelledby': 'h-contacts' }, h('h2', { id: 'h-contacts' }, 'Key contacts and lasting power of attorney'),
      kv([['Lasting power of attorney (health and welfare)', plan.hasLpa ? 'Yes' : 'None recorded']]),
      plan.contacts.length ? h('table', { class: 'table' },
        h('thead', null, h('tr', null, ['Name', 'Relationship', 'Phone', 'LPA'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, plan.contacts.map((c) => h('tr', null, h('td', null, c.name), h('td', null, c.relationshipText), h('td', null, c.phone), h('td', null, c.isLpa ? 'Yes' : '')))))
        : h('p', null, 'No contacts recorded.')),
    h('section', { 'aria-labelledby': 'h-jic' }, h('h2', { id: 'h-jic' }, 'Just-in-case medicines'), h('p', null, plan.jic || 'None recorded')),
    plan.notes.length ? h('section', { 'aria-labelledby': 'h-notes' }, h('h2', { id: 'h-notes' }, 'Notes'), plan.notes.map((n) => h('p', null, n))) : null,
    h('section', { 'aria-labelledby': 'h-sign' }, h('h2', { id: 'h-sign' }, 'Sign-off'),
      kv([
        ['Status', statusWords[plan.status] || plan.status],
        ['Written by', plan.author],
        ['Organisation', `${plan.orgName || plan.org || ''}${plan.node ? ` (node ${plan.node})` : ''}`],
        ['Created', fmtDate(plan.created)],
        ['Last changed', plan.lastUpdated ? `${fmtDateTime(plan.lastUpdated)} (version ${plan.version})` : ''],
      ])),
  ]);
}

// ---- history ---------------------------------------------------------------------------

async function history(body, data, plan, reason) {
  append(body, [h('h1', null, 'History of this care plan'), patientLine(data.patient)]);
  const holder = h('div', null, h('p', { class: 'loading' }, 'Loading the revisions…'));
  body.append(holder);
  const rows = await planHistory(plan, reasonHeader(reason));
  clear(holder);
  if (!rows.length) { holder.append(h('p', null, 'No revisions could be read.')); return; }
  holder.append(h('table', { class: 'table', id: 'history-table' },
    h('thead', null, h('tr', null, ['When', 'What', 'Version', 'By', 'Changes'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, rows.map((r) => h('tr', null,
      h('td', { class: 'nowrap' }, fmtDateTime(r.when)),
      h('td', null, r.what),
      h('td', null, r.version),
      h('td', null, r.who || ''),
      h('td', null, h('ul', { class: 'changes' }, r.changes.map((c) => h('li', null, c)))))))));
}

// ---- create or revise --------------------------------------------------------------------

function editForm(body, data, plan) {
  const isNew = !plan;
  append(body, [h('h1', null, isNew ? 'Create a care plan' : 'Revise the care plan'), patientLine(data.patient)]);
  if (!canWrite(ctx.claims)) {
    body.append(h('p', { class: 'notice info', id: 'read-only' },
      isEmergency(ctx.claims) ? 'Emergency access is read-only: care plans cannot be changed with this sign-in.'
        : isPatient(ctx.claims) ? 'Your care plan is written with your care team. Ask them to change it.'
          : 'Your sign-in may not change care plans.'));
    return;
  }
  const initial = formFrom(plan);
  const touched = new Set();
  let submitted = false;
  let contacts = initial.contacts.map((c) => ({ ...c }));

  const summaryBox = h('div', { class: 'error-summary', id: 'error-summary', tabindex: '-1', hidden: true, 'aria-labelledby': 'es-title' },
    h('h2', { id: 'es-title' }, 'There is a problem'), h('ul', null));

  const fieldWrap = (name, label, control, hint) => h('div', { class: 'field', id: `${name}-field` },
    h('label', { for: name }, label),
    hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null,
    h('p', { class: 'field-error', id: `${name}-error`, hidden: true }),
    control);
  const describe = (name, hint) => [hint ? `${name}-hint` : null, `${name}-error`].filter(Boolean).join(' ');
  const text = (name, label, value, hint, attrs = {}) => fieldWrap(name, label,
    h('input', { type: 'text', id: name, name, value: value || '', 'aria-describedby': describe(name, hint), autocomplete: 'off', ...attrs }), hint);
  const area = (name, label, value, hint) => {
    const ta = h('textarea', { id: name, name, rows: 3, 'aria-describedby': describe(name, hint) });
    ta.value = value || '';
    return fieldWrap(name, label, ta, hint);
  };
  const date = (name, label, value, hint) => fieldWrap(name, label,
    h('input', { type: 'date', id: name, name, value: value || '', 'aria-describedby': describe(name, hint) }), hint);
  const select = (name, label, value, options) => fieldWrap(name, label,
    h('select', { id: name, name, 'aria-describedby': describe(name) }, h('option', { value: '' }, 'Not recorded'),
      options.map((o) => h('option', { value: o.code, selected: o.code === value }, o.display))));
  const radios = (name, legend, value, options, hint) => h('div', { class: 'field', id: `${name}-field` },
    h('fieldset', { 'aria-describedby': describe(name, hint) },
      h('legend', null, legend),
      hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null,
      h('p', { class: 'field-error', id: `${name}-error`, hidden: true }),
      options.map((o, i) => h('div', { class: 'radio' },
        h('input', { type: 'radio', name, id: i === 0 ? name : `${name}-${i}`, value: o.code, checked: o.code === value }),
        h('label', { for: i === 0 ? name : `${name}-${i}` }, o.display)))));

  const ceilingIsStandard = CEILINGS.includes(initial.ceiling);
  const contactsBox = h('div', { id: 'contacts' });
  const drawContacts = () => {
    clear(contactsBox);
    contacts.forEach((c, i) => {
      if (c.removed) return;
      const id = (f) => `contact-${i}-${f}`;
      const inp = (f, label, attrs = {}) => h('div', { class: 'field inline', id: `${id(f)}-field` },
        h('label', { for: id(f) }, label),
        h('p', { class: 'field-error', id: `${id(f)}-error`, hidden: true }),
        h('input', { type: 'text', id: id(f), value: c[f] || '', 'aria-describedby': `${id(f)}-error`, autocomplete: 'off', oninput: (ev) => { c[f] = ev.target.value; }, ...attrs }));
      contactsBox.append(h('fieldset', { class: 'contact-row', id: `contact-${i}` },
        h('legend', null, `Contact ${i + 1}`),
        inp('given', 'Given name'),
        inp('family', 'Family name'),
        h('div', { class: 'field inline' }, h('label', { for: id('relationship') }, 'Relationship'),
          h('select', { id: id('relationship'), onchange: (ev) => { c.relationship = ev.target.value; } }, h('option', { value: '' }, 'Not recorded'),
            RELATIONSHIPS.map((r) => h('option', { value: r.code, selected: r.code === c.relationship }, r.display)))),
        inp('phone', 'Phone', { inputmode: 'tel' }),
        h('div', { class: 'check' }, h('input', { type: 'checkbox', id: id('nok'), checked: c.isNok, onchange: (ev) => { c.isNok = ev.target.checked; } }), h('label', { for: id('nok') }, 'Next of kin')),
        h('div', { class: 'check' }, h('input', { type: 'checkbox', id: id('lpa'), checked: c.isLpa, onchange: (ev) => { c.isLpa = ev.target.checked; revalidate(); } }), h('label', { for: id('lpa') }, 'Holds lasting power of attorney for health and welfare')),
        h('button', { type: 'button', class: 'button secondary small', onclick: () => { c.removed = true; drawContacts(); revalidate(); } }, `Remove contact ${i + 1}`)));
    });
  };

  const form = h('form', { id: 'plan-form', novalidate: true },
    summaryBox,
    h('h2', null, 'CPR decision'),
    radios('cpr', 'CPR decision', initial.cpr, CPR_CHOICES.map((c) => ({ code: c.code, display: c.display }))),
    date('cprDate', 'Date of the decision', initial.cprDate),
    date('reviewDate', 'Review the decision by', initial.reviewDate, 'Usually 6 to 12 months after the decision. The decision is not valid once this date has passed.'),
    area('discussedWith', 'Discussed with', initial.discussedWith, 'The person, their family or carers; or why it was not discussed.'),
    text('endorser', 'Senior clinician who endorsed the decision', initial.endorser, 'Required when the decision is not to attempt CPR.'),
    h('h2', null, 'What matters to the person'),
    area('whatMatters', 'What matters to me', initial.whatMatters, 'In the person\'s own words where possible.'),
    h('h2', null, 'Ceiling of treatment'),
    radios('ceilingChoice', 'Ceiling of treatment', ceilingIsStandard ? initial.ceiling : (initial.ceiling ? 'other' : ''),
      [...CEILINGS.map((c) => ({ code: c, display: c })), { code: 'other', display: 'Other (describe below)' }]),
    text('ceilingOther', 'Other ceiling of treatment', ceilingIsStandard ? '' : initial.ceiling),
    h('h2', null, 'Preferences'),
    select('preferredCare', 'Preferred place of care', initial.preferredCare, PLACES),
    select('preferredDeath', 'Preferred place of death', initial.preferredDeath, PLACES),
    h('h2', null, 'Advance decision to refuse treatment'),
    radios('adrt', 'Is there an advance decision to refuse treatment (ADRT)?', initial.adrt, [{ code: 'no', display: 'No' }, { code: 'yes', display: 'Yes' }]),
    text('adrtLocation', 'Where the original ADRT is kept', initial.adrtLocation),
    h('h2', null, 'Just-in-case medicines'),
    area('jic', 'Which medicines, and where they are kept', initial.jic),
    h('h2', null, 'Key contacts and lasting power of attorney'),
    radios('lpa', 'Is a lasting power of attorney for health and welfare in place?', initial.lpa, [{ code: 'no', display: 'No' }, { code: 'yes', display: 'Yes' }]),
    contactsBox,
    h('p', null, h('button', { type: 'button', class: 'button secondary', id: 'add-contact', onclick: () => { contacts.push({ given: '', family: '', relationship: '', phone: '', isNok: false, isLpa: false }); drawContacts(); document.getElementById(`contact-${contacts.length - 1}-given`)?.focus(); } }, 'Add a contact')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button', id: 'save-plan' }, isNew ? 'Save the care plan' : 'Save the revised plan'),
      h('a', { class: 'button secondary', href: `/ui/careplan?patient=${encodeURIComponent(patientId)}${plan ? `&plan=${encodeURIComponent(plan.id)}` : ''}` }, 'Cancel')),
    h('div', { id: 'save-problem' }));
  body.append(form);
  drawContacts();

  const read = () => {
    const v = (n) => form.elements[n]?.value ?? '';
    const radio = (n) => form.querySelector(`input[name="${n}"]:checked`)?.value || '';
    const choice = radio('ceilingChoice');
    return {
      cpr: radio('cpr'),
      cprDate: v('cprDate'),
      reviewDate: v('reviewDate'),
      discussedWith: v('discussedWith'),
      endorser: v('endorser'),
      whatMatters: v('whatMatters'),
      ceiling: choice === 'other' ? v('ceilingOther') : choice,
      preferredCare: v('preferredCare'),
      preferredDeath: v('preferredDeath'),
      adrt: radio('adrt') || 'no',
      adrtLocation: v('adrtLocation'),
      jic: v('jic'),
      lpa: radio('lpa') || 'no',
      contacts,
      status: initial.status,
    };
  };
  // Errors are shown for fields the user has left, and for all of them
  // once they try to save; they clear as soon as the field is right.
  const fieldOf = (name) => (name === 'ceiling' ? 'ceilingChoice' : name);
  function revalidate() {
    const errors = validatePlan(read());
    const byField = new Map(errors.map((e) => [fieldOf(e.field), e.message]));
    for (const el of form.querySelectorAll('.field-error')) {
      const name = el.id.replace(/-error$/, '');
      const msg = byField.get(name);
      const show = msg && (submitted || touched.has(name));
      el.textContent = show ? msg : '';
      el.hidden = !show;
      document.getElementById(`${name}-field`)?.classList.toggle('has-error', Boolean(show));
      const input = document.getElementById(name);
      if (input) input.toggleAttribute('aria-invalid', Boolean(show));
    }
    return errors;
  }
  const touch = (ev) => {
    const name = ev.target.name || ev.target.id;
    if (!name) return;
    touched.add(name.startsWith('ceiling') ? 'ceilingChoice' : name);
    if (name === 'ceilingOther') touched.add('ceilingChoice');
    revalidate();
  };
  // Leaving a field marks it touched; typing or choosing re-checks at
  // once, so an error clears while the field is still being corrected
  // (and the page does not move under a click on the next field).
  form.addEventListener('focusout', touch);
  form.addEventListener('change', touch);
  form.addEventListener('input', () => revalidate());

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submitted = true;
    const errors = revalidate();
    const list = summaryBox.querySelector('ul');
    clear(list);
    if (errors.length) {
      errors.forEach((e) => list.append(h('li', null, h('a', { href: `#${fieldOf(e.field)}` }, e.message))));
      summaryBox.hidden = false;
      summaryBox.focus();
      status(`${errors.length} problem${errors.length === 1 ? '' : 's'} to fix`);
      return;
    }
    summaryBox.hidden = true;
    const btn = $('#save-plan');
    btn.disabled = true;
    status('Saving the care plan');
    try {
      const id = await savePlan({ patientId, existing: plan, form: read(), user: readClaims() });
      location.assign(`/ui/careplan?patient=${encodeURIComponent(patientId)}&view=summary&plan=${encodeURIComponent(id)}&saved=1`);
    } catch (e) {
      btn.disabled = false;
      const box = $('#save-problem');
      if (e instanceof ApiError && e.status === 412) {
        clear(box);
        notice(box, 'warning', h('strong', null, 'Someone else revised this plan while you were editing it. '),
          'Open the plan again to see their changes, then make yours.');
      } else {
        showProblem(box, e, { what: 'Saving the care plan' });
      }
      box.scrollIntoView({ block: 'center' });
    }
  });
}
