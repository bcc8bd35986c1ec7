// pages/record.js: the clinician record viewer (/ui/): find a patient
// by NHS number or by name and date of birth, then the patient banner
// with alerts, the sections of the record with each item's source, trend
// charts, and a timeline across organisations. Depends on the shared
// modules; data comes from Patient/$everything on this node.

import { h, $, clear, append, narrativeText } from '../dom.js';
import { nhsProblem, nhsDigits, nhsFormat } from '../nhs.js';
import {
  SYS, fmtDate, fmtDateTime, age, addressLine, phone, humanName, isRestricted, identifierValue,
} from '../fhir.js';
import { getAll, hasType, ApiError } from '../api.js';
import {
  isAdminRole, isAudit, isPatient, reasonFor, setReason, reasonHeader, roleLabel,
} from '../session.js';
import { buildRecord, SECTIONS, timeline } from '../record.js';
import { lineChart } from '../chart.js';
import {
  initPage, showProblem, askAccessReason, asksForReason, accessBanner, status, notice,
} from '../shell.js';

const params = new URLSearchParams(location.search);
const ctx = await initPage({ active: 'record' });
const app = $('#app');

main().catch((e) => showProblem(app, e));

async function main() {
  const c = ctx.claims;
  if (isAudit(c)) {
    clear(app).append(h('h1', null, 'Patient records'),
      h('p', null, 'You are signed in for privacy audit, which reads the audit trail, not patient records.'),
      h('p', null, h('a', { href: '/ui/privacy' }, 'Open the privacy dashboard')));
    return;
  }
  const id = params.get('patient');
  const nhs = nhsDigits(params.get('nhs'));
  if (id || nhs) return openRecord({ id, nhs });
  if (isPatient(c) && c.patient) return openRecord({ nhs: c.patient });
  return renderSearch();
}

// ---- search -------------------------------------------------------------------

function field({ id, label, hint, input }) {
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  input.id = id;
  input.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  return h('div', { class: 'field', id: `${id}-field` },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, hidden: true }),
    input);
}

function setError(id, msg) {
  const input = document.getElementById(id);
  const err = document.getElementById(`${id}-error`);
  err.textContent = msg;
  err.hidden = !msg;
  input.toggleAttribute('aria-invalid', Boolean(msg));
  document.getElementById(`${id}-field`).classList.toggle('has-error', Boolean(msg));
}

function renderSearch() {
  document.title = 'Find a patient — carerecord';
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  const nhsForm = h('form', { id: 'nhs-form', novalidate: true, class: 'panel' },
    h('h2', null, 'By NHS number'),
    field({ id: 'nhs', label: 'NHS number', hint: '10 digits, for example 999 000 0000', input: h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', class: 'input-nhs' }) }),
    h('button', { type: 'submit', class: 'button' }, 'Find by NHS number'));
  nhsForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = $('#nhs').value;
    const problem = nhsProblem(value);
    setError('nhs', problem);
    if (problem) { $('#nhs').focus(); return; }
    location.assign(`/ui/?nhs=${nhsDigits(value)}`);
  });

  const nameForm = h('form', { id: 'name-form', novalidate: true, class: 'panel' },
    h('h2', null, 'By name and date of birth'),
    field({ id: 'family', label: 'Family name', input: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' }) }),
    field({ id: 'given', label: 'Given name (optional)', input: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' }) }),
    field({ id: 'dob', label: 'Date of birth', hint: 'For example 31 03 1950', input: h('input', { type: 'date', autocomplete: 'off', max: new Date().toISOString().slice(0, 10) }) }),
    h('button', { type: 'submit', class: 'button' }, 'Find by name and date of birth'));
  nameForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const family = $('#family').value.trim();
    const given = $('#given').value.trim();
    const dob = $('#dob').value;
    setError('family', family ? '' : 'Enter the family name');
    setError('dob', /^\d{4}-\d{2}-\d{2}$/.test(dob) ? '' : 'Enter the date of birth');
    if (!family) { $('#family').focus(); return; }
    if (!dob) { $('#dob').focus(); return; }
    searchByName({ family, given, dob }, results, null);
  });

  clear(app).append(
    h('h1', null, 'Find a patient'),
    h('div', { class: 'search-grid' }, nhsForm, nameForm),
    results);
  $('#nhs').focus();
}

async function searchByName(q, results, reason) {
  const qs = new URLSearchParams({ family: q.family, birthdate: q.dob, _count: '50' });
  if (q.given) qs.set('given', q.given);
  status('Searching…');
  clear(results);
  let found;
  try {
    found = await getAll(`Patient?${qs}`, { reason: reasonHeader(reason), maxPages: 2 });
  } catch (e) {
    if (asksForReason(e)) {
      const r = await askAccessReason({ err: e, who: 'the people this search finds' });
      if (r) return searchByName(q, results, r);
      return;
    }
    showProblem(results, e, { what: 'The search' });
    return;
  }
  const withheld = found.outcomes.some((o) => (o.issue || []).some((i) => i.code === 'suppressed'));
  status(`${found.resources.length} found`);
  results.append(h('h2', null, `${found.resources.length} ${found.resources.length === 1 ? 'person' : 'people'} found`));
  if (found.resources.length) {
    results.append(h('table', { class: 'table', id: 'search-results' },
      h('thead', null, h('tr', null, ['Name', 'NHS number', 'Born', 'Sex', 'Postcode', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, found.resources.map((p) => {
        const nhs = identifierValue(p, SYS.nhs);
        if (reason) setReason(reason, p.id, nhs);
        return h('tr', null,
          h('td', null, humanName(p.name)),
          h('td', { class: 'nowrap' }, nhsFormat(nhs)),
          h('td', { class: 'nowrap' }, fmtDate(p.birthDate)),
          h('td', null, p.gender || ''),
          h('td', null, (p.address || [])[0]?.postalCode || ''),
          h('td', null, h('a', { href: `/ui/?patient=${encodeURIComponent(p.id)}` }, 'Open record', h('span', { class: 'visually-hidden' }, ` of ${humanName(p.name)}`))));
      }))));
  }
  if (withheld && !reason) {
    notice(results, 'info',
      h('p', null, 'Some matching records were withheld because your organisation has no recorded care relationship with them.'),
      h('button', {
        type: 'button', class: 'button secondary', id: 'search-with-reason',
        onclick: async () => {
          const r = await askAccessReason({ err: null, who: 'the people this search finds' });
          if (r) searchByName(q, results, r);
        },
      }, 'State a reason and search again'));
  } else if (withheld) {
    notice(results, 'info', 'Some items were withheld under the access policy.');
  }
}

// ---- the record ---------------------------------------------------------------

async function openRecord({ id, nhs }) {
  document.title = 'Patient record — carerecord';
  clear(app).append(h('p', { class: 'loading' }, 'Loading the record…'));
  status('Loading the record');
  const path = id
    ? `Patient/${encodeURIComponent(id)}/$everything?_count=1000`
    : `Patient/$everything?identifier=${encodeURIComponent(`${SYS.nhs}|${nhs}`)}&_count=1000`;
  let reason = reasonFor(id, nhs);
  const t0 = performance.now();
  let data;
  for (;;) {
    try {
      data = await getAll(path, { reason: reasonHeader(reason) });
      break;
    } catch (e) {
      if (asksForReason(e)) {
        clear(app).append(h('p', { class: 'loading' }, 'Waiting for a reason to open the record…'));
        const r = await askAccessReason({ err: e, who: nhs ? `the patient with NHS number ${nhsFormat(nhs)}` : 'this patient' });
        if (!r) {
          clear(app).append(h('h1', null, 'Record not opened'),
            h('p', null, 'You did not state a reason, so the record was not opened.'),
            h('p', null, h('a', { href: '/ui/' }, 'Find another patient')));
          status('Record not opened');
          return;
        }
        reason = r;
        setReason(r, id, nhs);
        continue;
      }
      clear(app);
      if (e instanceof ApiError && e.status === 404) {
        notice(app, 'info', h('p', null, h('strong', null, 'No record found')),
          h('p', null, nhs ? `This node holds no patient with NHS number ${nhsFormat(nhs)}.` : 'This node holds no such patient.'),
          h('p', null, h('a', { href: '/ui/' }, 'Search again')));
      } else {
        showProblem(app, e, { what: 'Opening the record' });
      }
      status('Record not opened');
      return;
    }
  }
  const t1 = performance.now();
  const record = buildRecord(data.resources, data.outcomes, { thisNode: ctx.node });
  if (record.patient && reason) setReason(reason, record.patient.id, identifierValue(record.patient, SYS.nhs));
  renderRecord(record, reason);
  const t2 = performance.now();
  // Measured by the browser tests (tests/browser/): fetch, and building
  // the record and its DOM from the fetched data.
  document.body.dataset.fetchMs = String(Math.round(t1 - t0));
  document.body.dataset.renderMs = String(Math.round(t2 - t1));
  document.body.dataset.resourceCount = String(record.count);
  status(`Record of ${humanName(record.patient?.name)} open: ${record.count} items`);
}

function sourceCell(i) {
  return h('td', { class: 'source' },
    h('span', { class: 'org', title: i.source.org || '' }, i.source.orgName),
    i.source.node ? h('span', { class: 'node' }, `node ${i.source.node}`) : null);
}

function renderBanner(record) {
  const p = record.patient;
  const nhs = identifierValue(p, SYS.nhs);
  const a = age(p.birthDate);
  const restricted = isRestricted(p);
  const address = addressLine(p.address);
  const tel = phone(p.telecom);
  const row = (label, value, cls) => [h('dt', null, label), h('dd', { class: cls || null }, value)];
  return h('section', { class: 'patient-banner', 'aria-labelledby': 'pb-name', id: 'patient-banner' },
    h('h1', { id: 'pb-name' }, humanName(p.name)),
    h('dl', { class: 'demographics' },
      row('NHS number', nhsFormat(nhs), 'nhs-number'),
      row('Born', p.birthDate ? `${fmtDate(p.birthDate)}${a !== null ? ` (${a} years)` : ''}` : 'Not recorded'),
      row('Sex', p.gender ? p.gender[0].toUpperCase() + p.gender.slice(1) : 'Not recorded'),
      row('Address', address || (restricted ? 'Withheld (restricted record)' : 'Not recorded'), address ? 'address' : 'withheld'),
      tel ? row('Phone', tel) : null,
      row('Registered GP', record.registeredGp.join(', ') || (restricted ? 'Withheld (restricted record)' : 'Not recorded'))),
    record.alerts.length
      ? h('ul', { class: 'alerts', 'aria-label': 'Alerts', id: 'alerts' },
        record.alerts.map((al) => h('li', { class: `alert ${al.level}`, 'data-alert': al.id }, al.text)))
      : null,
    h('div', { class: 'banner-actions no-print' },
      record.plans.length || record.cpr
        ? h('a', { class: 'button danger', href: `/ui/careplan?patient=${encodeURIComponent(p.id)}&view=summary`, id: 'open-summary' }, 'Emergency care plan summary')
        : null,
      h('a', { class: 'button secondary', href: `/ui/careplan?patient=${encodeURIComponent(p.id)}&view=${record.plans.length ? 'plan' : 'new'}` },
        record.plans.length ? 'Full care plan' : 'Care plan'),
      h('button', { type: 'button', class: 'button secondary', onclick: () => window.print() }, 'Print')));
}

const COLS = ['Date', 'Item', 'Details', 'Status', 'Source'];

function itemRow(i, extra) {
  return h('tr', { 'data-key': i.key },
    h('td', { class: 'nowrap' }, fmtDate(i.when) || '—'),
    h('td', null, i.kind && !['Problem'].includes(i.kind) ? h('span', { class: 'kind' }, i.kind) : null, h('span', { class: 'title' }, i.title), extra || null),
    h('td', null, i.detail || ''),
    h('td', null, i.status || ''),
    sourceCell(i));
}

function itemTable(items, caption, extraFor) {
  if (!items.length) return h('p', { class: 'empty' }, 'None recorded.');
  return h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, COLS.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, items.map((i) => itemRow(i, extraFor ? extraFor(i) : null))));
}

function textDetails(i) {
  if (i.sections?.length) {
    return h('details', { class: 'doc' }, h('summary', null, 'Read'),
      i.sections.map((s) => [s.title ? h('h4', null, s.title) : null, h('p', null, narrativeText(s.text))]));
  }
  const att = i.attachment;
  if (att?.data && /^text\/plain/.test(att.contentType || '')) {
    let text = '';
    try {
      text = new TextDecoder().decode(Uint8Array.from(atob(att.data), (ch) => ch.charCodeAt(0)));
    } catch { text = ''; }
    if (text) return h('details', { class: 'doc' }, h('summary', null, 'Read'), h('p', { class: 'pre' }, text.slice(0, 20000)));
  }
  return null;
}

function renderSection(s, record) {
  const items = record.sections[s.id];
  const hid = `h-${s.id}`;
  const body = [];
  if (s.id === 'results' && record.series.length) {
    body.push(h('div', { class: 'charts' },
      record.series.slice(0, 6).map((se, n) => lineChart({ title: se.title, unit: se.unit, lines: se.lines, id: `chart-${n}` }))));
  }
  if (s.id === 'encounters' || s.id === 'documents') body.push(itemTable(items, s.title, textDetails));
  else if (s.id === 'careplans') {
    body.push(itemTable(items, s.title, (i) => (i.isEol ? h('a', { href: `/ui/careplan?patient=${encodeURIComponent(record.patient.id)}&view=plan&plan=${encodeURIComponent(i.res.id)}`, class: 'inline-link' }, 'Open plan') : null)));
  } else if (s.id === 'contacts') {
    body.push(itemTable(items, s.title, (i) => [i.phone ? h('span', { class: 'phone' }, ` ${i.phone}`) : null, i.isLpa ? h('span', { class: 'tag' }, 'LPA') : null]));
  } else body.push(itemTable(items, s.title));
  return h('section', { class: 'record-section', id: `sec-${s.id}`, 'aria-labelledby': hid },
    h('h2', { id: hid }, s.title, h('span', { class: 'count' }, ` (${items.length})`)),
    body);
}

function renderTimeline(record) {
  const items = timeline(record);
  const orgs = [...new Map(items.map((i) => [i.source.org || i.source.orgName, i.source.orgName])).entries()]
    .sort((a, b) => a[1].localeCompare(b[1]));
  const list = h('ol', { class: 'timeline', id: 'timeline-list' });
  const orgSel = h('select', { id: 'tl-org' }, h('option', { value: '' }, 'All organisations'),
    orgs.map(([code, name]) => h('option', { value: code }, name)));
  const secSel = h('select', { id: 'tl-section' }, h('option', { value: '' }, 'All sections'),
    SECTIONS.filter((s) => record.sections[s.id].length).map((s) => h('option', { value: s.title }, s.title)));
  const shown = h('p', { class: 'hint', 'aria-live': 'polite', id: 'tl-count' });
  const draw = () => {
    clear(list);
    let year = '';
    let n = 0;
    for (const i of items) {
      if (orgSel.value && (i.source.org || i.source.orgName) !== orgSel.value) continue;
      if (secSel.value && i.section !== secSel.value) continue;
      n++;
      const y = i.when.slice(0, 4);
      if (y !== year) { year = y; list.append(h('li', { class: 'year' }, h('h3', null, y))); }
      list.append(h('li', { class: 'event' },
        h('span', { class: 'when' }, fmtDateTime(i.when)),
        h('span', { class: 'what' }, h('span', { class: 'kind' }, i.section.split(' ')[0]), ' ', i.title, i.detail ? ` — ${i.detail}` : ''),
        h('span', { class: 'source' }, h('span', { class: 'org' }, i.source.orgName), i.source.node ? h('span', { class: 'node' }, `node ${i.source.node}`) : null)));
    }
    shown.textContent = `${n} of ${items.length} events`;
  };
  orgSel.addEventListener('change', draw);
  secSel.addEventListener('change', draw);
  draw();
  return h('section', { id: 'timeline', 'aria-labelledby': 'h-timeline', hidden: true },
    h('h2', { id: 'h-timeline' }, 'Timeline across organisations'),
    h('div', { class: 'filters no-print' },
      h('div', { class: 'field inline' }, h('label', { for: 'tl-org' }, 'Organisation'), orgSel),
      h('div', { class: 'field inline' }, h('label', { for: 'tl-section' }, 'Section'), secSel)),
    shown, list);
}

function renderRecord(record, reason) {
  clear(app);
  if (!record.patient) {
    notice(app, 'info', 'The answer held no patient.');
    return;
  }
  document.title = `${humanName(record.patient.name)} — carerecord`;
  const bannerSlot = h('div', { id: 'access-banner-slot' });
  accessBanner(bannerSlot, reason);
  const partial = record.partial.length
    ? h('div', { class: 'notice warning', role: 'alert', id: 'partial-notice' },
      h('p', null, h('strong', null, 'This record may be incomplete: ')),
      h('ul', null, record.partial.map((p) => h('li', null, p.node ? `Node ${p.node}: ` : '', p.text))))
    : null;

  const admin = isAdminRole(ctx.claims);
  const visible = SECTIONS.filter((s) => !(admin && s.clinical) && (s.id !== 'other' || record.sections.other.length));
  const sectionsView = h('div', { id: 'sections' },
    admin ? h('p', { class: 'notice info', id: 'role-note' },
      `Your role (${roleLabel(ctx.claims.role)}) sees demographics, appointments and key contacts; clinical sections are not shown.`) : null,
    visible.map((s) => renderSection(s, record)));
  const timelineView = renderTimeline(record);

  const btnSections = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'true', id: 'view-sections' }, 'Sections');
  const btnTimeline = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', id: 'view-timeline' }, 'Timeline');
  const show = (which) => {
    const tl = which === 'timeline';
    btnSections.setAttribute('aria-pressed', String(!tl));
    btnTimeline.setAttribute('aria-pressed', String(tl));
    sectionsView.hidden = tl;
    sectionNav.hidden = tl;
    timelineView.hidden = !tl;
  };
  btnSections.addEventListener('click', () => show('sections'));
  btnTimeline.addEventListener('click', () => show('timeline'));

  const sectionNav = h('nav', { class: 'section-nav no-print', 'aria-label': 'Sections of the record' },
    h('ul', null, visible.map((s) => h('li', null, h('a', { href: `#sec-${s.id}` }, s.title, h('span', { class: 'count' }, ` ${record.sections[s.id].length}`))))));

  append(app, [
    bannerSlot,
    renderBanner(record),
    partial,
    h('p', { class: 'record-meta' }, `${record.count} items from ${new Set(Object.values(record.sections).flat().map((i) => i.source.org)).size} organisations`,
      ctx.node ? `, read on node ${ctx.node}` : '', '. Every access is recorded.'),
    h('div', { class: 'view-switch no-print', role: 'group', 'aria-label': 'How to show the record' }, btnSections, btnTimeline),
    sectionNav,
    sectionsView,
    timelineView,
    isPatient(ctx.claims) ? whoLooked(record) : null]);
}

// Patients see who looked at their record, where the node serves the
// audit trail (AuditEvent); until then the section says it is not
// available here.
function whoLooked(record) {
  const box = h('section', { class: 'record-section', id: 'sec-who-looked', 'aria-labelledby': 'h-who' },
    h('h2', { id: 'h-who' }, 'Who has looked at your record'));
  if (!hasType(ctx.cap, 'AuditEvent')) {
    box.append(h('p', { class: 'not-available' }, 'Not available on this node yet: the list of who looked at your record will appear here.'));
    return box;
  }
  const holder = h('div', null, 'Loading…');
  box.append(holder);
  getAll(`AuditEvent?patient=${encodeURIComponent(`Patient/${record.patient.id}`)}&_count=100`, { maxPages: 1 })
    .then(({ resources }) => {
      holder.replaceWith(resources.length
        ? h('table', { class: 'table' }, h('thead', null, h('tr', null, ['When', 'Who', 'Organisation', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, resources.map((ev) => {
            const agent = (ev.agent || []).find((x) => x.requestor) || (ev.agent || [])[0] || {};
            return h('tr', null, h('td', null, fmtDateTime(ev.recorded)), h('td', null, agent.who?.display || agent.name || ''),
              h('td', null, agent.who?.identifier?.value || ''), h('td', null, (agent.purposeOfUse || ev.purposeOfEvent || []).map((p) => p.text || p.coding?.[0]?.display || p.coding?.[0]?.code).join(', ')));
          })))
        : h('p', null, 'Nobody else has looked at your record.'));
    })
    .catch((e) => showProblem(holder, e));
  return box;
}
