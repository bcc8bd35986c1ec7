// pages/careplan-form.js: the form that creates or revises a Universal
// Care Plan, every section of docs/care-plan.md: the CPR decision (its
// dates, discussion, reason, recorder and senior endorser), the ceiling
// of treatment, what matters to the person, shared understanding and
// prognosis, preferred places, capacity, ADRT, lasting power of attorney,
// key contacts, just-in-case medicines and the sign-off.
//
// The node keeps the plan's rules: saving sends the whole plan and a 422
// names every broken rule, each shown beside its field and in an error
// summary that takes the focus. The form itself checks only what needs
// no rule (real dates, a scale of 0 to 100, phone characters) as soon as
// a field is left. A save someone else's save overtook (412, 409) is
// explained with what to do next. Used by pages/careplan.js.

import { h, $, clear, append } from '../dom.js';
import { claims as readClaims, reasonHeader } from '../session.js';
import {
  formFrom, checkForm, savePlan, saveMode, explainConflict, CPR_CHOICES, CEILINGS, PLACES, RELATIONSHIPS,
} from '../careplan-data.js';
import { ApiError } from '../api.js';
import { notice, showProblem, status } from '../shell.js';

// Who may write a plan from this page: clinical roles caring directly
// (the node decides; this only decides what to offer).
export function canWrite(c) {
  return c?.purpose === 'direct-care' && ['R8000', 'R8001', 'R8003'].includes(c?.role);
}

// Fields whose errors a change to another field may resolve.
const LINKED = { recorderSenior: ['endorser'], adrt: ['adrtLocation'], hasCapacity: ['involvement'] };

export function planForm(body, { patientId, data, reason, patientLine, claims }) {
  const current = data.current;
  const user = readClaims() || claims;
  const mode = saveMode(current, user);
  const initial = formFrom(current, { user });
  const contacts = initial.contacts.map((c) => ({ ...c }));
  const medicines = initial.medicines.map((m) => ({ ...m }));
  const errors = new Map();           // field -> message shown

  append(body, [
    h('h1', null, mode === 'revise' ? 'Revise the care plan' : 'Create a care plan'),
    patientLine,
    mode === 'replace' ? h('p', { class: 'notice warning', id: 'replace-note' },
      h('strong', null, `The current plan was published by ${current.orgName || current.org}; only it may revise it. `),
      'Saving writes your organisation\'s own plan, starting from what the current one says. It replaces the current plan, which stays in the history.') : null,
  ]);

  const summaryBox = h('div', { class: 'error-summary', id: 'error-summary', tabindex: '-1', hidden: true, role: 'alert', 'aria-labelledby': 'es-title' },
    h('h2', { id: 'es-title' }, 'There is a problem'), h('ul', null));

  // ---- controls ----
  const ids = (name, hint) => [hint ? `${name}-hint` : null, `${name}-error`].filter(Boolean).join(' ');
  const errorP = (name) => h('p', { class: 'field-error', id: `${name}-error`, hidden: true });
  const wrap = (name, label, control, hint, cls = 'field') => h('div', { class: cls, id: `${name}-field` },
    h('label', { for: name }, label),
    hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null,
    errorP(name),
    control);
  const text = (name, label, value, hint, attrs = {}) => wrap(name, label,
    h('input', { type: 'text', id: name, name, value: value || '', 'aria-describedby': ids(name, hint), autocomplete: 'off', ...attrs }), hint);
  const area = (name, label, value, hint) => {
    const ta = h('textarea', { id: name, name, rows: 3, 'aria-describedby': ids(name, hint) });
    ta.value = value || '';
    return wrap(name, label, ta, hint);
  };
  const date = (name, label, value, hint) => wrap(name, label,
    h('input', { type: 'date', id: name, name, value: value || '', 'aria-describedby': ids(name, hint) }), hint);
  const select = (name, label, value, options, hint) => wrap(name, label,
    h('select', { id: name, name, 'aria-describedby': ids(name, hint) }, h('option', { value: '' }, 'Not recorded'),
      options.map((o) => h('option', { value: o.code, selected: o.code === value }, o.display))), hint);
  const radios = (name, legend, value, options, hint) => h('div', { class: 'field', id: `${name}-field` },
    h('fieldset', { 'aria-describedby': ids(name, hint) },
      h('legend', null, legend),
      hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null,
      errorP(name),
      options.map((o, i) => h('div', { class: 'radio' },
        h('input', { type: 'radio', name, id: i === 0 ? name : `${name}-${i}`, value: o.code, checked: o.code === value }),
        h('label', { for: i === 0 ? name : `${name}-${i}` }, o.display)))));
  const check = (name, label, checked, hint) => h('div', { class: 'field', id: `${name}-field` },
    errorP(name),
    h('div', { class: 'check' },
      h('input', { type: 'checkbox', id: name, name, checked, 'aria-describedby': ids(name, hint) }),
      h('label', { for: name }, label)),
    hint ? h('p', { class: 'hint', id: `${name}-hint` }, hint) : null);
  const yesNo = [{ code: 'no', display: 'No' }, { code: 'yes', display: 'Yes' }];

  // ---- contacts and medicines: rows that come and go ----
  const contactsBox = h('div', { id: 'contacts' });
  const drawContacts = () => {
    clear(contactsBox);
    contacts.forEach((c, i) => {
      if (c.removed) return;
      const id = (f) => `contact-${i}-${f}`;
      const inp = (f, label, attrs = {}) => h('div', { class: 'field inline', id: `${id(f)}-field` },
        h('label', { for: id(f) }, label),
        errorP(id(f)),
        h('input', { type: 'text', id: id(f), value: c[f] || '', 'aria-describedby': `${id(f)}-error`, autocomplete: 'off', oninput: (ev) => { c[f] = ev.target.value; }, ...attrs }));
      contactsBox.append(h('fieldset', { class: 'contact-row', id: `contact-${i}` },
        h('legend', null, `Contact ${i + 1}`),
        inp('given', 'Given name'),
        inp('family', 'Family name'),
        h('div', { class: 'field inline' }, h('label', { for: id('relationship') }, 'Relationship'),
          h('select', { id: id('relationship'), onchange: (ev) => { c.relationship = ev.target.value; } }, h('option', { value: '' }, 'Not recorded'),
            RELATIONSHIPS.map((r) => h('option', { value: r.code, selected: r.code === c.relationship }, r.display)))),
        inp('phone', 'Phone', { inputmode: 'tel' }),
        h('div', { class: 'check' }, h('input', { type: 'checkbox', id: id('nok'), checked: c.isNok, onchange: (ev) => { c.isNok = ev.target.checked; } }),
          h('label', { for: id('nok') }, 'Next of kin')),
        h('div', { class: 'check' }, h('input', { type: 'checkbox', id: id('lpa'), checked: c.isLpa, onchange: (ev) => { c.isLpa = ev.target.checked; clearError('lpa'); } }),
          h('label', { for: id('lpa') }, 'Holds a lasting power of attorney for health and welfare')),
        h('button', { type: 'button', class: 'button secondary small', onclick: () => { c.removed = true; drawContacts(); } }, `Remove contact ${i + 1}`)));
    });
  };
  const medsBox = h('div', { id: 'medicines' });
  const drawMedicines = () => {
    clear(medsBox);
    medicines.forEach((m, i) => {
      if (m.removed) return;
      const id = `med-${i}-name`;
      medsBox.append(h('div', { class: 'field med-row', id: `${id}-field` },
        h('label', { for: id }, `Medicine ${i + 1}`),
        errorP(id),
        h('input', { type: 'text', id, value: m.name || '', 'aria-describedby': `${id}-error`, autocomplete: 'off', oninput: (ev) => { m.name = ev.target.value; } }),
        h('button', { type: 'button', class: 'button secondary small', onclick: () => { m.removed = true; drawMedicines(); } }, `Remove medicine ${i + 1}`)));
    });
  };

  const form = h('form', { id: 'plan-form', novalidate: true },
    summaryBox,
    h('h2', null, 'CPR decision'),
    radios('cpr', 'CPR decision', initial.cpr, CPR_CHOICES),
    date('cprDate', 'Date of the decision', initial.cprDate),
    date('cprReview', 'Review the decision by', initial.cprReview, 'Required for a decision for or not for CPR: the decision is valid only until this date.'),
    area('discussedWith', 'Discussed with', initial.discussedWith, 'The person, their family or their attorney; or why it was not discussed.'),
    area('cprReason', 'Reason for the decision (optional)', initial.cprReason),
    check('recorderSenior', 'The clinician recording this decision is its senior responsible clinician', initial.recorderSenior,
      'Otherwise a senior clinician must endorse the decision.'),
    text('endorser', 'Senior clinician who endorsed the decision', initial.endorser),
    date('endorsed', 'Date of endorsement (optional)', initial.endorsed),
    h('h2', null, 'Ceiling of treatment'),
    radios('ceiling', 'Ceiling of treatment', initial.ceiling, CEILINGS),
    area('recommendations', 'Clinical recommendations', initial.recommendations, 'What to do and not to do in an emergency.'),
    h('h2', null, 'What matters to the person'),
    area('whatMatters', 'What matters to me', initial.whatMatters, 'In the person\'s own words where possible.'),
    text('scale', 'Priority scale (optional)', initial.scale, '0 prioritises sustaining life, 100 prioritises comfort.', { inputmode: 'numeric', class: 'input-short' }),
    h('h2', null, 'Shared understanding'),
    area('description', 'Diagnosis and situation', initial.description),
    text('prognosis', 'Prognosis', initial.prognosis, 'For example: months; weeks; days.'),
    h('h2', null, 'Preferences'),
    select('placeOfCare', 'Preferred place of care', initial.placeOfCare, PLACES),
    text('placeOfCareText', 'Place of care: details (optional)', initial.placeOfCareText),
    select('placeOfDeath', 'Preferred place of death', initial.placeOfDeath, PLACES),
    text('placeOfDeathText', 'Place of death: details (optional)', initial.placeOfDeathText, 'For example, the name of the hospice.'),
    h('h2', null, 'Capacity and involvement'),
    radios('hasCapacity', 'Could the person take part in making this plan?', initial.hasCapacity,
      [{ code: 'yes', display: 'Yes' }, { code: 'no', display: 'No, they lacked capacity' }, { code: '', display: 'Not recorded' }]),
    area('involvement', 'Who was involved in making the plan', initial.involvement, 'Required when the person lacked capacity.'),
    h('h2', null, 'Advance decision to refuse treatment'),
    radios('adrt', 'Is there an advance decision to refuse treatment (ADRT)?', initial.adrt, yesNo),
    text('adrtLocation', 'Where the ADRT document is kept', initial.adrtLocation),
    h('h2', null, 'Lasting power of attorney'),
    radios('lpa', 'Is a lasting power of attorney for health and welfare in place?', initial.lpa, yesNo,
      'Say who holds it among the key contacts below.'),
    h('h2', null, 'Key contacts'),
    contactsBox,
    h('p', null, h('button', {
      type: 'button', class: 'button secondary', id: 'add-contact',
      onclick: () => { contacts.push({ given: '', family: '', relationship: '', phone: '', isNok: false, isLpa: false }); drawContacts(); $(`#contact-${contacts.length - 1}-given`)?.focus(); },
    }, 'Add a contact')),
    h('h2', null, 'Just-in-case medicines'),
    text('jicWhereKept', 'Where they are kept', initial.jicWhereKept),
    area('jicDetails', 'Details (optional)', initial.jicDetails),
    medsBox,
    h('p', null, h('button', {
      type: 'button', class: 'button secondary', id: 'add-medicine',
      onclick: () => { medicines.push({ name: '' }); drawMedicines(); $(`#med-${medicines.length - 1}-name`)?.focus(); },
    }, 'Add a medicine')),
    h('h2', null, 'Sign-off and review'),
    text('author', 'Clinician responsible for the plan', initial.author, 'The clinician who signs the plan off.'),
    date('signedOff', 'Signed off on', initial.signedOff),
    date('planReview', 'Review the plan by', initial.planReview),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button', id: 'save-plan' }, mode === 'revise' ? 'Save the revised plan' : 'Save the care plan'),
      h('a', { class: 'button secondary', href: `/ui/careplan?patient=${encodeURIComponent(patientId)}` }, 'Cancel')),
    h('div', { id: 'save-problem' }));
  body.append(form);
  drawContacts();
  drawMedicines();

  const read = () => {
    const v = (n) => form.elements[n]?.value ?? '';
    const radio = (n) => form.querySelector(`input[name="${n}"]:checked`)?.value || '';
    return {
      cpr: radio('cpr'), cprDate: v('cprDate'), cprReview: v('cprReview'), discussedWith: v('discussedWith'), cprReason: v('cprReason'),
      recorderSenior: $('#recorderSenior').checked, endorser: v('endorser'), endorsed: v('endorsed'),
      ceiling: radio('ceiling'), recommendations: v('recommendations'), whatMatters: v('whatMatters'), scale: v('scale'),
      description: v('description'), prognosis: v('prognosis'),
      placeOfCare: v('placeOfCare'), placeOfCareText: v('placeOfCareText'), placeOfDeath: v('placeOfDeath'), placeOfDeathText: v('placeOfDeathText'),
      hasCapacity: radio('hasCapacity'), involvement: v('involvement'), adrt: radio('adrt') || 'no', adrtLocation: v('adrtLocation'),
      lpa: radio('lpa') || 'no', contacts, jicWhereKept: v('jicWhereKept'), jicDetails: v('jicDetails'), medicines,
      author: v('author'), signedOff: v('signedOff'), planReview: v('planReview'),
    };
  };

  // ---- showing problems ----
  function show(field, message) {
    const el = document.getElementById(`${field}-error`);
    if (!el) return false;
    el.textContent = message || '';
    el.hidden = !message;
    document.getElementById(`${field}-field`)?.classList.toggle('has-error', Boolean(message));
    const input = document.getElementById(field);
    if (input) input.toggleAttribute('aria-invalid', Boolean(message));
    return true;
  }
  function clearError(field) {
    for (const f of [field, ...(LINKED[field] || [])]) {
      if (!errors.has(f)) continue;
      errors.delete(f);
      show(f, '');
    }
  }
  // A field's own check, when it is left.
  function checkField(field) {
    const e = checkForm(read()).find((x) => x.field === field);
    if (e) { errors.set(field, e.message); show(field, e.message); } else clearError(field);
  }
  // Every problem at once: beside its field and in the summary, which
  // takes the focus. 'list' is [{ field, message }], field '' for a
  // problem no single field can fix.
  function showAll(list) {
    for (const f of errors.keys()) show(f, '');
    errors.clear();
    const merged = new Map();
    const general = [];
    for (const e of list) {
      if (e.field && document.getElementById(`${e.field}-error`)) {
        merged.set(e.field, merged.has(e.field) ? `${merged.get(e.field)}. ${e.message}` : e.message);
      } else general.push(e.message);
    }
    for (const [f, m] of merged) { errors.set(f, m); show(f, m); }
    const ul = clear(summaryBox.querySelector('ul'));
    for (const [f, m] of merged) ul.append(h('li', null, h('a', { href: `#${f}` }, m)));
    for (const m of general) ul.append(h('li', null, m));
    summaryBox.hidden = false;
    summaryBox.focus();
    const n = merged.size + general.length;
    status(`${n} problem${n === 1 ? '' : 's'} to fix`);
  }
  const fieldOf = (t) => (t.type === 'radio' ? t.name : t.id);
  form.addEventListener('input', (ev) => clearError(fieldOf(ev.target)));
  form.addEventListener('change', (ev) => clearError(fieldOf(ev.target)));
  form.addEventListener('focusout', (ev) => { if (ev.target.matches('input:not([type=radio]):not([type=checkbox]), textarea')) checkField(ev.target.id); });
  // Links in the error summary move the focus to the field itself.
  summaryBox.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[href^="#"]');
    if (!a) return;
    const el = document.getElementById(a.getAttribute('href').slice(1));
    if (el) { ev.preventDefault(); el.focus(); el.scrollIntoView({ block: 'center' }); }
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = $('#save-problem');
    clear(box);
    const values = read();
    const local = checkForm(values);
    if (local.length) { showAll(local); return; }
    summaryBox.hidden = true;
    const btn = $('#save-plan');
    btn.disabled = true;
    status('Saving the care plan');
    try {
      await savePlan({ patientId, current, form: values, user, reason: reasonHeader(reason) });
      location.assign(`/ui/careplan?patient=${encodeURIComponent(patientId)}&view=summary&saved=1`);
    } catch (e) {
      btn.disabled = false;
      const conflict = explainConflict(e);
      if (e instanceof ApiError && e.fields?.length) {
        showAll(e.fields);
      } else if (conflict) {
        notice(box, 'warning', h('p', null, h('strong', null, conflict.title)), h('p', null, conflict.text),
          h('p', null, h('a', { href: `/ui/careplan?patient=${encodeURIComponent(patientId)}&view=plan`, id: 'open-latest', target: '_blank', rel: 'noopener' }, 'Open the latest plan in a new tab'),
            ' · ', h('a', { href: `/ui/careplan?patient=${encodeURIComponent(patientId)}&view=edit`, id: 'edit-latest' }, 'Start again from the latest plan')));
        status(conflict.title);
        box.scrollIntoView({ block: 'center' });
      } else {
        showProblem(box, e, { what: 'Saving the care plan' });
        box.scrollIntoView({ block: 'center' });
      }
    }
  });
}

