// pages/privacy.js: the privacy officer dashboard (/ui/privacy): alerts
// to review (self-claimed and emergency access, same surname or address,
// restricted records, out of hours, volume) with the audit trail behind
// each, marking an alert reviewed with an outcome, and usage charts. It
// works with what the node declares: without the audit API it says so
// plainly. Data: audit-data.js.

import { h, $, clear, append, uid } from '../dom.js';
import { fmtDateTime } from '../fhir.js';
import { isAudit } from '../session.js';
import {
  features, loadReport, trailFor, reviewAlert, ALERT_LABELS, REVIEW_OUTCOMES,
} from '../audit-data.js';
import { barChart } from '../chart.js';
import { initPage, showProblem, notice, status } from '../shell.js';

const ctx = await initPage({ active: 'privacy' });
const app = $('#app');

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
      h('p', null, 'This node does not yet serve the audit trail (AuditEvent) or the audit report ($audit-report). Alerts to review and usage charts will appear here when it does.'),
      h('p', null, 'Every access is still recorded in the node\'s hash-chained audit log; the node\'s operator can list alerts with "carerecord audit".')));
    status('The privacy dashboard is not available on this node');
    return;
  }
  if (!f.report) {
    app.append(h('p', { class: 'not-available', id: 'not-available' }, 'Alerts and usage charts are not available on this node yet (no $audit-report).'));
    return;
  }
  status('Loading alerts');
  const report = await loadReport();
  renderAlerts(report.alerts, f);
  renderUsage(report.series);
  status(`${report.alerts.filter((a) => a.status !== 'reviewed').length} alerts to review`);
}

function renderAlerts(alerts, f) {
  const open = alerts.filter((a) => a.status !== 'reviewed');
  const codes = [...new Set(alerts.map((a) => a.code))].sort();
  const filter = h('select', { id: 'alert-filter' }, h('option', { value: '' }, 'All alerts'),
    codes.map((c) => h('option', { value: c }, ALERT_LABELS[c] || c)));
  const showReviewed = h('input', { type: 'checkbox', id: 'show-reviewed' });
  const tbody = h('tbody');
  const trail = h('section', { id: 'trail', 'aria-labelledby': 'h-trail', hidden: true, tabindex: '-1' });

  const draw = () => {
    clear(tbody);
    for (const a of alerts) {
      if (filter.value && a.code !== filter.value) continue;
      if (!showReviewed.checked && a.status === 'reviewed') continue;
      tbody.append(h('tr', { class: a.status === 'reviewed' ? 'reviewed' : null, 'data-alert': a.id },
        h('td', { class: 'nowrap' }, fmtDateTime(a.time)),
        h('td', null, h('span', { class: 'alert-code' }, ALERT_LABELS[a.code] || a.code)),
        h('td', null, a.userName || a.user, a.org ? h('span', { class: 'node' }, ` ${a.org}`) : null),
        h('td', null, a.patientName || a.patient),
        h('td', null, a.reason),
        h('td', null, a.status === 'reviewed' ? `Reviewed${a.outcome ? `: ${REVIEW_OUTCOMES.find((o) => o.code === a.outcome)?.display || a.outcome}` : ''}` : 'To review'),
        h('td', { class: 'actions-cell' },
          f.trail ? h('button', { type: 'button', class: 'button secondary small', onclick: () => showTrail(a, trail) }, 'Audit trail', h('span', { class: 'visually-hidden' }, ` for alert ${a.id}`)) : null,
          a.status !== 'reviewed'
            ? h('button', {
              type: 'button', class: 'button small', disabled: !f.review, 'data-review': a.id,
              title: f.review ? null : 'Recording reviews is not available on this node yet',
              onclick: () => markReviewed(a, draw),
            }, 'Mark as reviewed', h('span', { class: 'visually-hidden' }, ` alert ${a.id}`))
            : null)));
    }
    if (!tbody.firstChild) tbody.append(h('tr', null, h('td', { colspan: 7 }, 'No alerts to show.')));
  };
  filter.addEventListener('change', draw);
  showReviewed.addEventListener('change', draw);
  draw();
  app.append(h('section', { 'aria-labelledby': 'h-alerts', id: 'alerts-section' },
    h('h2', { id: 'h-alerts' }, `Alerts to review (${open.length})`),
    !f.review ? h('p', { class: 'hint', id: 'review-unavailable' }, 'Recording the outcome of a review is not available on this node yet.') : null,
    h('div', { class: 'filters' },
      h('div', { class: 'field inline' }, h('label', { for: 'alert-filter' }, 'Show'), filter),
      h('div', { class: 'check' }, showReviewed, h('label', { for: 'show-reviewed' }, 'Include reviewed alerts'))),
    h('table', { class: 'table', id: 'alerts-table' },
      h('thead', null, h('tr', null, ['When', 'Alert', 'Who', 'Patient', 'Reason given', 'Status', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
  trail);
}

async function showTrail(alert, box) {
  clear(box);
  box.hidden = false;
  append(box, [h('h2', { id: 'h-trail' }, `Audit trail: ${alert.patientName || alert.patient || alert.id}`), h('p', { class: 'loading' }, 'Loading…')]);
  box.focus();
  try {
    const rows = await trailFor(alert);
    box.lastChild.replaceWith(rows.length
      ? h('table', { class: 'table', id: 'trail-table' },
        h('thead', null, h('tr', null, ['When', 'Who', 'Role', 'Action', 'Purpose', 'Outcome'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, rows.map((r) => h('tr', null, h('td', { class: 'nowrap' }, fmtDateTime(r.when)), h('td', null, r.who),
          h('td', null, r.role), h('td', null, r.action), h('td', null, r.purpose), h('td', null, r.outcome)))))
      : h('p', null, 'No audit events found.'));
  } catch (e) {
    const holder = h('div');
    box.lastChild.replaceWith(holder);
    showProblem(holder, e, { what: 'Reading the audit trail' });
  }
}

function markReviewed(alert, redraw) {
  const titleId = uid('rv');
  const errId = uid('rv-err');
  const dlg = h('dialog', { 'aria-labelledby': titleId, id: 'review-dialog' });
  const errBox = h('p', { class: 'field-error', id: errId, hidden: true });
  const problem = h('div');
  const form = h('form', { method: 'dialog', novalidate: true },
    h('h2', { id: titleId }, 'Mark the alert as reviewed'),
    h('p', null, `${ALERT_LABELS[alert.code] || alert.code}: ${alert.userName || alert.user} opened the record of ${alert.patientName || alert.patient} on ${fmtDateTime(alert.time)}.`),
    h('fieldset', { 'aria-describedby': errId },
      h('legend', null, 'Outcome of the review'),
      errBox,
      REVIEW_OUTCOMES.map((o) => h('div', { class: 'radio' },
        h('input', { type: 'radio', name: 'outcome', id: `rv-${o.code}`, value: o.code }),
        h('label', { for: `rv-${o.code}` }, o.display)))),
    h('div', { class: 'field' }, h('label', { for: 'rv-note' }, 'Note (optional)'), h('textarea', { id: 'rv-note', name: 'note', rows: 3 })),
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
    try {
      await reviewAlert(alert, outcome, form.elements.note.value.trim());
      alert.status = 'reviewed';
      alert.outcome = outcome;
      dlg.close();
      redraw();
      status('The review was recorded');
      notice($('#alerts-section'), 'info', 'The review was recorded.');
    } catch (e) {
      showProblem(problem, e, { what: 'Recording the review' });
    }
  });
  dlg.append(form);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  form.querySelector('input[name=outcome]').focus();
}

function renderUsage(series) {
  if (!series.length) return;
  const titles = {
    'views-per-month': 'Record views per month',
    'distinct-users': 'Distinct users per month',
    'by-care-setting': 'Views by care setting',
    'care-plan-views-emergency': 'Care plan views by emergency services',
  };
  app.append(h('section', { 'aria-labelledby': 'h-usage', id: 'usage' },
    h('h2', { id: 'h-usage' }, 'Usage'),
    h('div', { class: 'stat-grid' }, series.map((s, i) => barChart({ title: titles[s.name] || s.title, bars: s.points, id: `usage-${i}` })))));
}
