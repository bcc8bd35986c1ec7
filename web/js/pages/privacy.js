// pages/privacy.js: the privacy officer dashboard (/ui/privacy): the
// alerts raised by the staff of the officer's organisation (self-claimed
// and emergency access, same surname or address, restricted and flagged
// records, out of hours, students, objections overridden, unusual
// volume) with a filter, the audit trail behind each (searchable by
// patient, member of staff and day), marking an alert reviewed with an
// outcome and a note, and usage charts. It works with what the node
// declares: without the audit API it says so plainly. Data: audit-data.js.

import { h, $, clear, append, uid } from '../dom.js';
import { fmtDate, fmtDateTime } from '../fhir.js';
import { isAudit, roleLabel, purposeLabel } from '../session.js';
import {
  features, loadReport, trailPage, trailCriteria, reviewAlert,
  ALERT_LABELS, REVIEW_OUTCOMES, outcomeLabel,
} from '../audit-data.js';
import { barChart } from '../chart.js';
import { initPage, showProblem, notice, status } from '../shell.js';

const ctx = await initPage({ active: 'privacy' });
const app = $('#app');
const params = new URLSearchParams(location.search);

main().catch((e) => showProblem(app, e, { what: 'Loading the dashboard' }));

async function main() {
  document.title = 'Privacy dashboard — carerecord';
  append(clear(app), [h('h1', null, 'Privacy dashboard'),
    !isAudit(ctx.claims) ? h('p', { class: 'notice info', id: 'audit-purpose-note' },
      'The audit trail is read with an audit sign-in (purpose audit); with your sign-in the node may refuse it.') : null]);
  const f = await features();
  if (!f.report && !f.trail) {
    app.append(h('section', { class: 'not-available', id: 'not-available', 'aria-labelledby': 'h-na' },
      h('h2', { id: 'h-na' }, 'Not available on this node'),
      h('p', null, 'This node does not serve the audit trail (AuditEvent) or the audit report ($audit-report), so alerts to review and usage charts cannot be shown here.'),
      h('p', null, 'Every access is still recorded in the node\'s hash-chained audit log; the node\'s operator can list alerts with "carerecord audit report".')));
    status('The privacy dashboard is not available on this node');
    return;
  }
  const trail = trailSection(f);
  if (!f.report) {
    app.append(h('p', { class: 'not-available', id: 'not-available' }, 'Alerts and usage charts are not available on this node (no $audit-report); the audit trail can still be searched.'), trail.box);
    return;
  }
  const period = { since: params.get('since') || '', until: params.get('until') || '' };
  app.append(periodForm(period));
  status('Loading alerts');
  const report = await loadReport(period);
  app.append(summary(report));
  renderAlerts(report, f, trail);
  app.append(trail.box);
  renderUsage(report);
  const open = report.alerts.filter((a) => !a.review).length;
  status(`${open} alert${open === 1 ? '' : 's'} to review`);
}

// ---- the period and the summary -----------------------------------------------

function periodForm(period) {
  const since = h('input', { type: 'date', id: 'since', name: 'since', value: period.since });
  const until = h('input', { type: 'date', id: 'until', name: 'until', value: period.until });
  return h('form', { class: 'filters no-print', id: 'period-form', method: 'get', action: '/ui/privacy', 'aria-label': 'Period of the report' },
    h('div', { class: 'field inline' }, h('label', { for: 'since' }, 'From (UK date)'), since),
    h('div', { class: 'field inline' }, h('label', { for: 'until' }, 'To (included)'), until),
    h('div', { class: 'field inline' }, h('button', { type: 'submit', class: 'button secondary' }, 'Show this period')));
}

function summary(r) {
  const period = r.since || r.until
    ? `${r.since ? `from ${fmtDate(r.since)}` : ''}${r.since && r.until ? ' ' : ''}${r.until ? `to ${fmtDate(r.until)}` : ''}`
    : 'the whole audit log';
  const open = r.alerts.filter((a) => !a.review).length;
  return h('div', { id: 'report-summary' },
    h('p', null, `Accesses by the staff of ${r.organization || 'your organisation'}, ${period}: `,
      h('strong', null, `${r.records} audit records`), `, ${r.alerts.length} alert${r.alerts.length === 1 ? '' : 's'}, `,
      h('strong', null, `${open} to review`), '.'),
    r.unreadable ? h('p', { class: 'notice warning', role: 'alert' },
      `${r.unreadable} audit records could not be read; the node's operator should run "carerecord audit verify".`) : null);
}

// ---- alerts -------------------------------------------------------------------

const codesLabel = (a) => a.codes.map((c) => ALERT_LABELS[c] || c).join(', ');
const patientLabel = (ref) => (ref || '').replace(/^Patient\//, '');
// The patient of an alert: their id here, else their NHS number.
const alertPatient = (a) => patientLabel(a.patient) || (a.nhs ? `NHS ${a.nhs}` : '');

function statusCell(a) {
  if (!a.review) return 'To review';
  const rv = a.review;
  return h('span', null, h('strong', null, `Reviewed: ${outcomeLabel(rv.outcome)}`),
    h('span', { class: 'hint-inline' }, ` by ${rv.userName || rv.user}${rv.time ? `, ${fmtDateTime(rv.time)}` : ''}`),
    rv.note ? h('span', { class: 'review-note' }, ` “${rv.note}”`) : null);
}

function renderAlerts(report, f, trail) {
  const { alerts } = report;
  const open = alerts.filter((a) => !a.review);
  const codes = [...new Set(alerts.flatMap((a) => a.codes))].sort();
  const filter = h('select', { id: 'alert-filter' }, h('option', { value: '' }, 'All alerts'),
    codes.map((c) => h('option', { value: c }, ALERT_LABELS[c] || c)));
  const showReviewed = h('input', { type: 'checkbox', id: 'show-reviewed' });
  const tbody = h('tbody');
  const heading = h('h2', { id: 'h-alerts' });

  const draw = () => {
    clear(tbody);
    heading.textContent = `Alerts to review (${alerts.filter((a) => !a.review).length})`;
    for (const a of alerts) {
      if (filter.value && !a.codes.includes(filter.value)) continue;
      if (!showReviewed.checked && a.review) continue;
      tbody.append(h('tr', { class: a.review ? 'reviewed' : null, 'data-alert': a.id },
        h('td', { class: 'nowrap' }, a.isVolume ? fmtDate(a.day) : fmtDateTime(a.time)),
        h('td', null, h('span', { class: 'alert-code' }, codesLabel(a)),
          a.isVolume ? ` — ${a.patients} patients in one day` : null),
        h('td', null, a.userName || a.user, h('span', { class: 'node' }, ` ${a.user}${a.role ? `, ${roleLabel(a.role)}` : ''}`)),
        h('td', null, alertPatient(a) || '—'),
        h('td', null, a.reason, a.supervisor ? ` (supervisor ${a.supervisor})` : null,
          a.outcome && a.outcome !== 'allowed' ? h('span', { class: 'node' }, ` ${a.outcome}${a.rule ? `: ${a.rule}` : ''}`) : null),
        h('td', null, statusCell(a)),
        h('td', { class: 'actions-cell' },
          f.trail ? h('button', {
            type: 'button', class: 'button secondary small', 'data-trail': a.id,
            onclick: () => trail.show(trailCriteria(a), a),
          }, 'Audit trail', h('span', { class: 'visually-hidden' }, ` for alert ${a.id}`)) : null,
          !a.review
            ? h('button', {
              type: 'button', class: 'button small', disabled: !f.review, 'data-review': a.id,
              title: f.review ? null : 'Recording reviews is not available on this node',
              onclick: () => markReviewed(a, draw),
            }, 'Mark as reviewed', h('span', { class: 'visually-hidden' }, ` alert ${a.id}`))
            : null)));
    }
    if (!tbody.firstChild) tbody.append(h('tr', null, h('td', { colspan: 7 }, alerts.length ? 'No alerts to show with this filter.' : 'No alerts in this period.')));
  };
  filter.addEventListener('change', draw);
  showReviewed.addEventListener('change', draw);
  draw();
  app.append(h('section', { 'aria-labelledby': 'h-alerts', id: 'alerts-section' },
    heading,
    !f.review ? h('p', { class: 'hint', id: 'review-unavailable' }, 'Recording the outcome of a review is not available on this node.') : null,
    alerts.some((a) => a.isVolume) ? h('p', { class: 'hint', id: 'volume-note' },
      `Unusual volume is more than ${report.volumeThreshold} patients by one person in one day; its audit trail shows that day's accesses, and marking it reviewed covers that person's day.`) : null,
    h('div', { class: 'filters' },
      h('div', { class: 'field inline' }, h('label', { for: 'alert-filter' }, 'Show'), filter),
      h('div', { class: 'check' }, showReviewed, h('label', { for: 'show-reviewed' }, 'Include reviewed alerts'))),
    h('table', { class: 'table', id: 'alerts-table' },
      h('caption', { class: 'visually-hidden' }, 'Alerts raised by your organisation\'s staff'),
      h('thead', null, h('tr', null, ['When', 'Alert', 'Who', 'Patient', 'Reason given', 'Status', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  return open;
}

// ---- the audit trail ----------------------------------------------------------

// The drill-down: a search of the audit trail by patient, member of staff
// and UK day, prefilled from an alert. Returns { box, show(criteria, alert) }.
function trailSection(f) {
  const box = h('section', { id: 'trail', 'aria-labelledby': 'h-trail', hidden: true, tabindex: '-1' });
  if (!f.trail) return { box, show: () => {} };
  const patient = h('input', { type: 'text', id: 'trail-patient', name: 'patient', autocomplete: 'off', spellcheck: 'false' });
  const agent = h('input', { type: 'text', id: 'trail-agent', name: 'agent', autocomplete: 'off', spellcheck: 'false' });
  const day = h('input', { type: 'date', id: 'trail-day', name: 'day' });
  const results = h('div', { id: 'trail-results', 'aria-live': 'polite' });
  const form = h('form', { id: 'trail-form', class: 'filters', novalidate: true },
    h('div', { class: 'field inline' }, h('label', { for: 'trail-patient' }, 'Patient (id)'), patient),
    h('div', { class: 'field inline' }, h('label', { for: 'trail-agent' }, 'Member of staff (user id)'), agent),
    h('div', { class: 'field inline' }, h('label', { for: 'trail-day' }, 'Day'), day),
    h('div', { class: 'field inline' }, h('button', { type: 'submit', class: 'button secondary', id: 'trail-search' }, 'Search the audit trail')));
  append(box, [
    h('h2', { id: 'h-trail' }, 'Audit trail'),
    h('p', { class: 'hint' }, 'Every access by your organisation\'s staff, newest first. Your own searches here are recorded too.'),
    form, results]);
  let current = null;   // the alert the trail was opened for

  const search = async (criteria) => {
    clear(results).append(h('p', { class: 'loading' }, 'Loading…'));
    const tbody = h('tbody');
    const more = h('button', { type: 'button', class: 'button secondary small', id: 'trail-more', hidden: true }, 'Show older events');
    let next = null;
    const load = async () => {
      const page = await trailPage(criteria, next);
      next = page.next;
      for (const r of page.rows) tbody.append(trailTr(r, current));
      more.hidden = !next;
      return page.rows.length;
    };
    try {
      const n = await load();
      clear(results);
      if (!n) {
        results.append(h('p', { id: 'trail-empty' }, 'No audit events match.'));
        return;
      }
      results.append(h('table', { class: 'table', id: 'trail-table' },
        h('caption', { class: 'visually-hidden' }, 'Audit events'),
        h('thead', null, h('tr', null, ['When', 'Who', 'Role', 'Action', 'Patient', 'Purpose and reason', 'Outcome', 'Alerts'].map((t) => h('th', { scope: 'col' }, t)))),
        tbody), more);
      more.addEventListener('click', () => load().catch((e) => showProblem(results, e, { what: 'Reading the audit trail' })));
      status(`${n} audit events`);
    } catch (e) {
      showProblem(results, e, { what: 'Reading the audit trail' });
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    current = null;
    search({ patient: patient.value.trim(), agent: agent.value.trim(), day: day.value });
  });
  return {
    box,
    show(criteria, alert) {
      current = alert || null;
      patient.value = patientLabel(criteria.patient);
      agent.value = criteria.agent || '';
      day.value = criteria.day || '';
      box.hidden = false;
      box.focus();
      search(criteria);
    },
  };
}

function trailTr(r, alert) {
  const isAlert = alert && alert.record !== null && String(alert.record) === r.id;
  return h('tr', { 'data-record': r.id, class: isAlert ? 'this-alert' : null },
    h('td', { class: 'nowrap' }, fmtDateTime(r.when), isAlert ? h('strong', { class: 'tag' }, ' This alert') : null),
    h('td', null, r.who, r.user && r.user !== r.who ? h('span', { class: 'node' }, ` ${r.user}`) : null),
    h('td', null, r.role),
    h('td', null, r.action.label, r.reviewOf ? ` ${r.reviewOf.replace('AuditEvent/', 'record ')}${r.reviewOutcome ? `: ${outcomeLabel(r.reviewOutcome)}` : ''}` : null),
    h('td', null, alertPatient(r)),
    h('td', null, purposeLabel(r.purpose), r.reason ? h('span', { class: 'node' }, ` ${r.reason}`) : null),
    h('td', null, r.outcome, r.status ? ` (${r.status})` : null),
    h('td', null, r.alerts.map((c) => ALERT_LABELS[c] || c).join(', ')));
}

// ---- reviewing ----------------------------------------------------------------

function markReviewed(alert, redraw) {
  const titleId = uid('rv');
  const errId = uid('rv-err');
  const dlg = h('dialog', { 'aria-labelledby': titleId, id: 'review-dialog' });
  const errBox = h('p', { class: 'field-error', id: errId, hidden: true });
  const problem = h('div', { id: 'review-problem' });
  const form = h('form', { method: 'dialog', novalidate: true },
    h('h2', { id: titleId }, 'Mark the alert as reviewed'),
    h('p', null, alert.isVolume
      ? `${codesLabel(alert)}: ${alert.userName || alert.user} (${alert.user}) opened the records of ${alert.patients} patients on ${fmtDate(alert.day)}.`
      : `${codesLabel(alert)}: ${alert.userName || alert.user} (${alert.user}) opened the record of patient ${alertPatient(alert) || '(none named)'} on ${fmtDateTime(alert.time)}.`),
    alert.reason ? h('p', null, `Reason given: ${alert.reason}`) : null,
    h('fieldset', { 'aria-describedby': errId },
      h('legend', null, 'Outcome of the review'),
      errBox,
      REVIEW_OUTCOMES.map((o) => h('div', { class: 'radio' },
        h('input', { type: 'radio', name: 'outcome', id: `rv-${o.code}`, value: o.code }),
        h('label', { for: `rv-${o.code}` }, o.display)))),
    h('div', { class: 'field' }, h('label', { for: 'rv-note' }, 'Note (optional)'),
      h('p', { class: 'hint', id: 'rv-note-hint' }, 'Kept in the audit log with the review; it cannot be changed later.'),
      h('textarea', { id: 'rv-note', name: 'note', rows: 3, maxlength: 2000, 'aria-describedby': 'rv-note-hint' })),
    problem,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button', id: 'review-save' }, 'Record the review'),
      h('button', { type: 'button', class: 'button secondary', onclick: () => dlg.close() }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const outcome = form.querySelector('input[name=outcome]:checked')?.value;
    if (!outcome) {
      errBox.textContent = 'Choose the outcome of the review';
      errBox.hidden = false;
      form.querySelector('input[name=outcome]').focus();
      return;
    }
    const save = $('#review-save', form);
    save.disabled = true;
    try {
      alert.review = await reviewAlert(alert, outcome, form.elements.note.value.trim());
      dlg.close();
      redraw();
      status('The review was recorded');
      notice($('#alerts-section'), 'info', `The review of ${alert.isVolume ? `the unusual volume of ${alert.userName || alert.user} on ${fmtDate(alert.day)}` : `alert ${alert.id}`} was recorded in the audit log.`);
    } catch (e) {
      save.disabled = false;
      showProblem(problem, e, { what: 'Recording the review' });
    }
  });
  dlg.append(form);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  form.querySelector('input[name=outcome]').focus();
}

// ---- usage --------------------------------------------------------------------

function renderUsage(report) {
  if (!report.months.length && !report.total) return;
  const t = report.total;
  app.append(h('section', { 'aria-labelledby': 'h-usage', id: 'usage' },
    h('h2', { id: 'h-usage' }, 'Usage'),
    t ? h('p', { id: 'usage-total' }, `${t.views} record views by ${t.users} people; ${t.carePlanViews} care plan views, ${t.carePlanViewsEmergency} of them by emergency services.`) : null,
    h('div', { class: 'stat-grid' }, report.series.filter((s) => s.points.length)
      .map((s) => barChart({ title: s.title, bars: s.points, id: `usage-${s.name}` })))));
}
