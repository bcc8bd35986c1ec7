// ui.test.mjs: the web UI in Debian's Chromium (playwright-core) against
// the real node: sign-in with every persona, finding patients, what each
// role is and is not shown, the access-reason dialog and banner, the
// emergency care plan summary, creating and revising a plan and seeing
// it as another organisation, the patient's "who has looked at my
// record" after real accesses, the privacy dashboard on the node's real
// audit API (alerts raised by real reads, the audit trail behind them,
// recording a review, usage charts) and its not-available states when a
// node does not declare that API, the time to render a 1,000-resource
// record, accessibility (axe-core) and no console errors anywhere. Screenshots of each page are saved in
// tests/browser/artifacts/. The world: world.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildWorld, launchBrowser, pageRunner, text, openByNhs as openByNhsAt, shot, signInAs, axe, editMetadata, NHS, ORG,
  GP_CLAIMS, planBundleFor, savePlanBundle, currentPlanBundle,
} from './world.mjs';
import { fhir, NHS_SYSTEM } from '../integration/lib.mjs';

let world;
let node;
let browser;

before(async () => {
  world = await buildWorld();
  node = world.node;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await node?.close();
});

// Run 'fn' with a fresh page; screenshots and console checks follow.
const withPage = pageRunner(() => browser);
const openByNhs = (page, nhs) => openByNhsAt(page, node, nhs);

test('the node serves the UI: / redirects to /ui/, and metadata needs no token', async () => {
  await withPage(async (page) => {
    const res = await page.goto(`${node.base}/`);
    assert.equal(new URL(page.url()).pathname, '/ui/signin', 'without a token the UI sends the user to sign in');
    assert.equal(res.status(), 200);
    assert.match(await text(page, 'h1'), /Sign in/);
    assert.match(await text(page, '.brand-node'), /node local/, 'the node id comes from /fhir/metadata, read without a token');
  });
});

test('every persona signs in from the personas file and lands on its page', async () => {
  const landing = {
    'A&E clinician': ['/ui/', 'Find a patient'],
    Paramedic: ['/ui/', 'Find a patient'],
    GP: ['/ui/', 'Find a patient'],
    'Social worker': ['/ui/', 'Find a patient'],
    Receptionist: ['/ui/', 'Find a patient'],
    'Privacy officer': ['/ui/privacy', 'Privacy dashboard'],
    Patient: ['/ui/', 'JONES, Margaret'],
  };
  await withPage(async (page) => {
    await page.goto(`${node.base}/ui/signin`);
    await page.waitForSelector('button[data-persona]');
    await shot(page, 'signin');
    const labels = await page.locator('button[data-persona]').evaluateAll((bs) => bs.map((b) => b.dataset.persona));
    assert.deepEqual(labels.sort(), Object.keys(landing).sort());
  });
  for (const p of world.personas) {
    await withPage(async (page) => {
      await signInAs(page, node, p.label);
      const [path, heading] = landing[p.label];
      assert.equal(new URL(page.url()).pathname, path, p.label);
      assert.match(await text(page, 'h1'), new RegExp(heading), p.label);
      assert.equal(await text(page, '.user-name'), p.name, `${p.label}: the header names the user`);
      await shot(page, `landing-${p.label.replace(/\W+/g, '-').toLowerCase()}`);
      await page.click('#sign-out');
      await page.waitForURL(/\/ui\/signin/);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('cr.token')), null, 'sign out forgets the token');
    });
  }
});

test('a pasted token signs in; a malformed one is refused inline', async () => {
  await withPage(async (page) => {
    await page.goto(`${node.base}/ui/signin`);
    await page.fill('#token', 'not a token');
    await page.click('#token-form button[type=submit]');
    assert.match(await text(page, '#token-error'), /no spaces/);
    assert.equal(new URL(page.url()).pathname, '/ui/signin');
    await page.fill('#token', `Bearer ${node.token({ sub: 'sh-1', name: 'Dr Sexual Health', org: ORG.sexualHealth, role: 'R8000', purpose: 'direct-care' })}`);
    await page.click('#token-form button[type=submit]');
    await page.waitForURL((u) => u.pathname === '/ui/');
    assert.equal(await text(page, '.user-name'), 'Dr Sexual Health');
  });
});

test('the GP finds a patient by NHS number (checked client-side) and sees the banner, alerts, sections and sources', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await page.fill('#nhs', '9000000008');
    await page.click('#nhs-form button[type=submit]');
    assert.match(await text(page, '#nhs-error'), /not a valid NHS number/, 'Modulus 11 is checked before asking the node');
    assert.equal(new URL(page.url()).search, '');
    await shot(page, 'search-invalid-nhs');
    await page.fill('#nhs', '900 000 0009');
    await page.click('#nhs-form button[type=submit]');
    await page.waitForLoadState('networkidle');
    assert.equal(await text(page, '#pb-name'), 'JONES, Margaret');
    const banner = await text(page, '#patient-banner');
    assert.match(banner, /900 000 0009/, 'NHS number in 3-3-4');
    assert.match(banner, /12 Acacia Avenue/);
    assert.match(banner, /Green Lane Synthetic GP Practice/, 'registered GP by name');
    assert.match(banner, /\(\d+ years\)/);
    const alerts = await text(page, '#alerts');
    assert.match(alerts, /Care plan: Not for CPR \(needs review: the review date has passed\)/, 'the CPR decision Flag of the plan, never shown as valid');
    assert.match(alerts, /Allergies: Allergy to penicillin/);
    assert.match(alerts, /Some items were withheld/, 'the legally sensitive item was withheld and the answer said so');
    const all = await text(page, '#sections');
    assert.match(all, /Ramipril 5mg capsules/);
    assert.match(all, /3 issues/);
    assert.match(all, /Heart failure/);
    assert.match(all, /Discharge summary/);
    assert.match(all, /Synthetic Royal Hospital/, 'items carry their source organisation');
    assert.match(all, /node local/, 'and their node');
    assert.doesNotMatch(await page.content(), /Chlamydial/, 'a sensitive item of another organisation is absent');
    assert.equal(await page.locator('#sec-results svg.chart').count(), 1, 'a trend chart for the repeated blood pressure');
    assert.match(await page.locator('#sec-results svg.chart title').first().innerHTML(), /Blood pressure/);
    assert.equal(await page.locator('#sec-results svg.chart .series').count(), 2, 'systolic and diastolic lines');
    await shot(page, 'record-gp');
    await page.click('#view-timeline');
    assert.equal(await page.locator('#timeline').isVisible(), true);
    const orgs = await page.locator('#tl-org option').allInnerTexts();
    assert.ok(orgs.includes('Synthetic Royal Hospital') && orgs.includes('Green Lane Synthetic GP Practice'), orgs.join());
    await page.selectOption('#tl-org', ORG.hospital);
    assert.match(await text(page, '#tl-count'), /^2 of \d+ events$/);
    await shot(page, 'record-timeline');
    const v = await axe(page);
    assert.deepEqual(v, [], 'axe: record page');
  });
});

// A federated answer (stand-in until federation lands): entries from
// another node carry it in meta, and a node that did not answer is an
// OperationOutcome entry. The record says so plainly and labels items.
test('a federated answer: items from another node are labelled, an unreachable node is shown plainly', async () => {
  await withPage(async (page) => {
    await page.route('**/fhir/Patient/$everything?**', async (route) => {
      const res = await route.fetch();
      const b = await res.json();
      const allergy = b.entry.find((e) => e.resource.resourceType === 'AllergyIntolerance');
      allergy.resource.meta.tag.push({ system: 'https://carerecord.example/node', code: 'sel' });
      b.entry.push({ resource: { resourceType: 'OperationOutcome', meta: { tag: [{ system: 'https://carerecord.example/node', code: 'swl' }] },
        issue: [{ severity: 'warning', code: 'timeout', diagnostics: 'South West London did not answer within 5 seconds' }] }, search: { mode: 'outcome' } });
      await route.fulfill({ response: res, json: b });
    });
    await signInAs(page, node, 'GP');
    await openByNhs(page, NHS.p1);
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#partial-notice'), /may be incomplete.*Node swl: South West London did not answer/s);
    assert.match(await text(page, '#alerts'), /Partial record/);
    assert.match(await text(page, '#sec-allergies td.source'), /Green Lane Synthetic GP Practice\s*node sel/);
    assert.match(await text(page, '#sec-problems td.source'), /node local/);
    await shot(page, 'record-partial');
  });
});

test('name and date of birth search finds the patient', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await page.click('#name-form button[type=submit]');
    assert.match(await text(page, '#family-error'), /family name/);
    await page.fill('#family', 'jones');
    await page.fill('#dob', '1941-03-14');
    await page.click('#name-form button[type=submit]');
    await page.waitForSelector('#search-results');
    assert.match(await text(page, '#search-results'), /JONES, Margaret.*900 000 0009/s);
    await shot(page, 'search-by-name');
    await page.click('#search-results a');
    await page.waitForLoadState('networkidle');
    assert.equal(await text(page, '#pb-name'), 'JONES, Margaret');
  });
});

test('an A&E clinician with no relationship is asked why; the banner says self-claimed', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'A&E clinician');
    await openByNhs(page, NHS.p1);
    await page.waitForSelector('#access-dialog');
    assert.match(await text(page, '#access-dialog'), /No recorded care relationship/);
    await shot(page, 'dialog-self-claimed');
    await page.click('#access-ok');
    assert.match(await text(page, '#access-dialog .field-error'), /Say why/, 'an empty reason is refused inline');
    await page.click('#access-cancel');
    await page.waitForSelector('text=Record not opened');
    assert.equal(await page.locator('#patient-banner').count(), 0);
    await openByNhs(page, NHS.p1);
    await page.fill('#sc-text', 'seen in A&E today with breathlessness');
    await page.click('#access-ok');
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#access-banner'), /Self-claimed relationship.*seen in A&E today/s);
    assert.doesNotMatch(await page.content(), /Chlamydial/);
    assert.ok(page.handled.some((h) => /403/.test(h)), 'the refusal came from the node');
    await shot(page, 'record-self-claimed');
  });
});

test('a restricted record opened on a self-claimed basis comes without address and GP', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'A&E clinician');
    await openByNhs(page, NHS.p3);
    await page.fill('#sc-text', 'patient in resus');
    await page.click('#access-ok');
    await page.waitForSelector('#patient-banner');
    const banner = await text(page, '#patient-banner');
    assert.match(banner, /Address\s+Withheld \(restricted record\)/);
    assert.doesNotMatch(banner, /Acacia/);
    assert.match(await text(page, '#alerts'), /Restricted record/);
    await shot(page, 'record-restricted');
  });
});

test('a paramedic gives a coded emergency reason, sees the emergency banner and the care plan summary', async (t) => {
  await withPage(async (page) => {
    await signInAs(page, node, 'Paramedic');
    assert.match(await text(page, '#session-banner'), /emergency access/);
    await openByNhs(page, NHS.p1);
    await page.waitForSelector('#access-dialog');
    const codes = await page.locator('#access-dialog input[name=code]').evaluateAll((xs) => xs.map((x) => x.value));
    assert.deepEqual(codes, ['life-threatening', 'lacks-capacity', 'urgent-care', 'safeguarding', 'public-health']);
    await page.click('#access-ok');
    assert.match(await text(page, '#access-dialog .field-error'), /Choose the reason/);
    await page.check('#er-life-threatening');
    await page.fill('#er-text', 'collapsed at home');
    await shot(page, 'dialog-emergency');
    await page.click('#access-ok');
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#access-banner'), /EMERGENCY ACCESS.*Immediate threat to life.*collapsed at home/s);
    await page.click('#open-summary');
    await page.waitForSelector('#cpr-decision');
    // one screen from the node's $care-plan-summary: the decision, and
    // that its review date has passed, so it is not to be relied on
    const cpr = page.locator('#cpr-decision');
    assert.equal(await cpr.getAttribute('data-cpr'), 'no');
    assert.equal(await cpr.getAttribute('data-validity'), 'needs-review');
    assert.match(await cpr.innerText(), /NEEDS REVIEW.*NOT VALID UNTIL REVIEWED.*Recorded decision:\s*DO NOT ATTEMPT CPR/is);
    assert.equal(await page.locator('#cpr-decision .valid-until').count(), 0, 'an expired decision is never shown as valid');
    assert.doesNotMatch(await cpr.innerText(), /^Valid until/m);
    assert.match(await text(page, '#review-warning'), /review date \(\d{4}-\d{2}-\d{2}\) has passed, so this decision needs review; do not treat it as valid\. Make your own clinical decision/);
    const ecs = await text(page, '#emergency-summary');
    assert.match(ecs, /Ceiling of treatment\s+Ward-based care; not for intensive care\s+Ward-based care, not for intensive care\. Oxygen/);
    assert.match(ecs, /What matters to me\s+Staying at home with my cat/);
    assert.match(ecs, /Preferred place of care\s+Home/);
    assert.match(ecs, /Preferred place of death\s+Hospice \(St Synthetic Hospice\)/);
    assert.match(ecs, /Susan Jones \(daughter\) 07700 900456\s*Next of kin\s*Lasting power of attorney/);
    assert.equal(await page.locator('#ecs-contacts a.tel').getAttribute('href'), 'tel:07700900456', 'a phone number to call from the screen');
    assert.match(ecs, /Lasting power of attorney \(health and welfare\)\s+Yes: Susan Jones/);
    assert.match(ecs, /Advance decision to refuse treatment\s+None recorded/);
    assert.match(ecs, /Just-in-case medicines\s+Kept: Blue box on top of the fridge\s+For breathlessness and agitation\s+Midazolam 10mg\/2ml/);
    assert.match(ecs, /Plan review date\s+\d+ \w+ \d{4} — overdue/);
    await page.waitForSelector('#source-org:has-text("Green Lane Synthetic GP Practice")');
    assert.match(await text(page, '#plan-source'), /Last updated by Dr Grace Green \(Clinical Practitioner\), Green Lane Synthetic GP Practice \(Z10901\), \d+ \w+ \d{4}, \d\d:\d\d\.\s+Signed off by Dr Grace Green on .*\s+Held on node local; plan version 1\./);
    assert.match(await text(page, '#access-banner'), /EMERGENCY ACCESS/, 'the reason carries over to the care plan page');
    const size = await page.locator('#cpr-decision .decision').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(size >= 32, `the CPR decision is in large type (${size}px)`);
    const d = await page.evaluate(() => ({ ...document.body.dataset }));
    t.diagnostic(`emergency care plan summary: fetch ${d.fetchMs} ms, render ${d.renderMs} ms`);
    await shot(page, 'careplan-summary-needs-review');
    assert.deepEqual(await axe(page), [], 'axe: emergency summary');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.plan-tabs').isVisible(), false, 'printed without the tabs');
    assert.equal(await page.locator('#print-summary').isVisible(), false);
    assert.equal(await page.locator('#cpr-decision').isVisible(), true);
    await shot(page, 'careplan-summary-print');
    await page.emulateMedia({ media: 'screen' });
    await page.goto(`${node.base}/ui/careplan?patient=P1&view=edit`);
    assert.match(await text(page, '#read-only'), /Emergency access is read-only/);
  });
});

// A summary may come from another node (federation): the page says where
// the plan came from (the summary's source node; federated.test.mjs sees
// it from real peers).
test('the emergency summary is one request, and names the node a plan came from when the summary does', async () => {
  await withPage(async (page) => {
    const calls = [];
    page.on('request', (r) => { if (r.url().includes('/fhir/')) calls.push(new URL(r.url()).pathname); });
    await page.route('**/fhir/Patient/P1/$care-plan-summary', async (route) => {
      const res = await route.fetch();
      const p = await res.json();
      p.meta.tag = [{ system: 'https://carerecord.example/node', code: 'sel' }];
      const node = p.parameter.find((x) => x.name === 'source')?.part.find((x) => x.name === 'node');
      if (node) node.valueCode = 'sel';
      await route.fulfill({ response: res, json: p });
    });
    await signInAs(page, node, 'GP');
    calls.length = 0;
    await page.goto(`${node.base}/ui/careplan?patient=P1&view=summary`);
    await page.waitForSelector('#plan-source');
    assert.match(await text(page, '#plan-source'), /From node sel; plan version 1\./);
    assert.deepEqual(calls.filter((c) => !c.endsWith('/metadata') && !c.startsWith('/fhir/Organization')), ['/fhir/Patient/P1/$care-plan-summary']);
  });
});

test('the receptionist sees demographics and appointments, no clinical data', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'Receptionist');
    await openByNhs(page, NHS.p1);
    await page.waitForSelector('#patient-banner');
    assert.equal(await text(page, '#pb-name'), 'JONES, Margaret');
    const html = await page.content();
    for (const clinical of ['Penicillin', 'penicillin', 'Ramipril', 'Heart failure', 'Not for CPR', 'Discharge summary', 'Blood pressure']) {
      assert.ok(!html.includes(clinical), `the receptionist is not shown "${clinical}"`);
    }
    assert.equal(await page.locator('#sec-medications').count(), 0);
    assert.match(await text(page, '#sec-appointments'), /Annual review with the practice nurse/);
    assert.match(await text(page, '#role-note'), /Receptionist/);
    await shot(page, 'record-receptionist');
    // the care plan page asks nothing and shows no decision
    await page.goto(`${node.base}/ui/careplan?patient=P1&view=summary`);
    await page.waitForSelector('#role-note');
    assert.doesNotMatch(await page.content(), /CPR|resuscitation|Do not attempt|Midazolam/i);
    await shot(page, 'careplan-receptionist');
  });
});

test('the social worker sees care plans but not medicines', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'Social worker');
    await openByNhs(page, NHS.p1);
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#sec-careplans'), /Universal Care Plan/);
    assert.doesNotMatch(await page.content(), /Ramipril/);
    await shot(page, 'record-social-worker');
    // the summary says where the just-in-case medicines are, not which
    await page.click('#open-summary');
    await page.waitForSelector('#ecs-jic');
    assert.match(await text(page, '#ecs-jic'), /Kept: Blue box on top of the fridge/);
    assert.doesNotMatch(await page.content(), /Midazolam/);
  });
});

test('a legally sensitive item is shown at the organisation that recorded it only', async () => {
  await withPage(async (page) => {
    await page.goto(`${node.base}/ui/signin`);
    await page.fill('#token', node.token({ sub: 'sh-2', name: 'Dr Sexual Health', org: ORG.sexualHealth, role: 'R8000', purpose: 'direct-care' }));
    await page.click('#token-form button[type=submit]');
    await page.waitForURL((u) => u.pathname === '/ui/');
    await openByNhs(page, NHS.p1);
    await page.fill('#sc-text', 'clinic follow-up');
    await page.click('#access-ok');
    await page.waitForSelector('#patient-banner');
    assert.match(await text(page, '#sec-problems'), /Chlamydial infection/);
  });
});

// Accesses made beforehand by staff of two organisations: the patient
// sees each with its organisation (by name), role, what was done and why,
// and never the member of staff's name or id.
test('the patient sees who has looked at their record: organisation and role, never the member of staff', async () => {
  const persona = (label) => world.personas.find((p) => p.label === label).token;
  const ae = await fhir(node, 'GET', 'Patient/P1', { token: persona('A&E clinician'), headers: { 'x-access-reason': 'self-claimed: seen in A&E with chest pain' } });
  assert.equal(ae.status, 200, ae.text.slice(0, 300));
  const sw = await fhir(node, 'GET', 'Patient/P1/$everything', { token: persona('Social worker') });
  assert.equal(sw.status, 200, sw.text.slice(0, 300));
  await withPage(async (page) => {
    await signInAs(page, node, 'Patient');
    assert.equal(await text(page, '#pb-name'), 'JONES, Margaret');
    await page.waitForSelector('#who-looked-table');
    const rows = await page.locator('#who-looked-table tbody tr').allInnerTexts();
    assert.match(rows[0], /Synthetic Borough Adult Social Care\s*Z1L01\s+Social Worker\s+Opened your whole record\s+Direct care/, rows[0]);
    assert.match(rows[1], /Synthetic General Hospital\s*Z1B\s+Clinical Practitioner Access Role\s+Looked at your record\s+Direct care/, rows[1]);
    assert.ok(rows.every((r) => !/\bYou\b|computer system/.test(r)), 'by default, accesses by staff only');
    const section = await text(page, '#sec-who-looked');
    for (const secret of ['Dr Ada Emergency', 'ae-1', 'Sam Social', 'sw-1', 'chest pain', 'Dr Grace Green', 'gp-1'])
      assert.ok(!section.includes(secret), `the patient is not shown "${secret}"`);
    await page.check('#who-looked-all');
    assert.match(await text(page, '#who-looked-table'), /You/, 'their own visits on request');
    assert.match(await text(page, '#who-looked-table'), /Their computer system/);
    await shot(page, 'record-patient');
    assert.deepEqual(await axe(page), [], 'axe: the patient\'s record');
  });
});

// A node that does not declare the audit trail: the section says so.
test('who has looked at the record is said to be unavailable on a node without the audit trail', async () => {
  await withPage(async (page) => {
    await editMetadata(page, (cap) => {
      cap.rest[0].resource = cap.rest[0].resource.filter((r) => r.type !== 'AuditEvent');
    });
    await signInAs(page, node, 'Patient');
    await page.waitForSelector('#sec-who-looked');
    assert.match(await text(page, '#sec-who-looked'), /Not available on this node/);
  });
});

const inDays = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);

test('the GP creates a care plan: the node\'s rules are shown at their fields, fixed, and the plan saved; the paramedic sees it', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await openByNhs(page, NHS.p5);
    await page.waitForSelector('#patient-banner');
    assert.equal(await page.locator('#open-summary').count(), 0, 'no plan yet');
    await page.goto(`${node.base}/ui/careplan?patient=P5`);
    await page.waitForSelector('#no-plan');
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-validity'), 'not-recorded');
    await page.click('#create-plan');
    await page.waitForSelector('#plan-form');
    // the form's own check, as soon as the field is left
    await page.fill('#scale', '150');
    await page.locator('#scale').blur();
    assert.match(await text(page, '#scale-error'), /from 0 \(sustaining life\) to 100 \(comfort\)/);
    await page.fill('#scale', '70');
    assert.equal(await page.locator('#scale-error').isHidden(), true);
    // a plan that breaks four of the node's rules: no review date, no
    // senior endorser, an attorney without the LPA flag, a contact
    // without a phone number
    await page.check('#cpr');          // the first choice: not for CPR
    await page.fill('#discussedWith', 'Nora and her son Tom');
    await page.check('#ceiling-2');    // symptom control
    await page.fill('#recommendations', 'Keep comfortable at home; do not transfer to hospital');
    await page.fill('#whatMatters', 'Being at home with my garden');
    await page.selectOption('#placeOfCare', '264362003');
    await page.selectOption('#placeOfDeath', '264362003');
    await page.click('#add-contact');
    await page.fill('#contact-0-given', 'Tom');
    await page.fill('#contact-0-family', 'Newplan');
    await page.selectOption('#contact-0-relationship', 'SON');
    await page.check('#contact-0-nok');
    await page.check('#contact-0-lpa');
    await page.fill('#jicWhereKept', 'Kitchen drawer by the sink');
    await page.click('#add-medicine');
    await page.fill('#med-0-name', 'Morphine sulfate 10mg/5ml oral solution');
    await page.fill('#planReview', inDays(180));
    await page.click('#save-plan');
    await page.waitForSelector('#error-summary:not([hidden])');
    const problems = await text(page, '#error-summary');
    for (const msg of [/Enter the date by which the CPR decision must be reviewed/, /Name the senior clinician who endorsed this decision/,
      /Tom Newplan holds a lasting power of attorney: answer Yes/, /Contact 1: enter a phone number/]) {
      assert.match(problems, msg);
    }
    assert.match(await text(page, '#cprReview-error'), /must be reviewed/, 'beside its field');
    assert.match(await text(page, '#endorser-error'), /senior clinician/);
    assert.match(await text(page, '#lpa-error'), /Tom Newplan/);
    assert.match(await text(page, '#contact-0-phone-error'), /phone number/);
    assert.equal(await page.locator('#cprReview').getAttribute('aria-invalid'), '');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'error-summary', 'focus moves to the summary');
    await page.click('#error-summary a[href="#endorser"]');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'endorser', 'a problem leads to its field');
    await shot(page, 'careplan-form-rules');
    assert.deepEqual(await axe(page), [], 'axe: care plan form with the node\'s problems shown');
    const nothing = await fhir(node, 'GET', 'Patient/P5/$care-plan-summary', { token: node.token(GP_CLAIMS) });
    assert.equal(nothing.json.parameter.find((p) => p.name === 'hasPlan').valueBoolean, false, 'nothing was saved');
    // fixed field by field; each problem goes as its field changes
    await page.fill('#cprReview', inDays(180));
    assert.equal(await page.locator('#cprReview-error').isHidden(), true);
    await page.check('#recorderSenior');
    assert.equal(await page.locator('#endorser-error').isHidden(), true, 'the recorder is senior: no endorser needed');
    await page.check('#lpa-1');        // yes
    assert.equal(await page.locator('#lpa-error').isHidden(), true);
    await page.fill('#contact-0-phone', '07700 900789');
    await page.click('#save-plan');
    await page.waitForURL(/view=summary.*saved=1/);
    await page.waitForSelector('#cpr-decision');
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-validity'), 'valid');
    assert.match(await text(page, '#cpr-decision'), /DO NOT ATTEMPT CPR.*Valid until/is);
    const ecs = await text(page, '#emergency-summary');
    assert.match(ecs, /Symptom control and comfort/);
    assert.match(ecs, /Tom Newplan \(son\) 07700 900789/);
    assert.match(ecs, /Yes: Tom Newplan/);
    assert.match(ecs, /Kept: Kitchen drawer by the sink\s+Morphine sulfate/);
    await shot(page, 'careplan-saved');
  });
  await withPage(async (page) => {
    await signInAs(page, node, 'Paramedic');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=summary`);
    await page.waitForSelector('#access-dialog');
    await page.check('#er-lacks-capacity');
    await page.click('#access-ok');
    await page.waitForSelector('#cpr-decision');
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-cpr'), 'no');
    const ecs = await text(page, '#emergency-summary');
    assert.match(ecs, /Being at home with my garden/);
    assert.match(ecs, /Tom Newplan/);
    await page.waitForSelector('#source-org:has-text("Green Lane Synthetic GP Practice")');
    assert.match(await text(page, '#plan-source'), /Last updated by Dr Grace Green \(Clinical Practitioner\), Green Lane Synthetic GP Practice/, 'who wrote the plan, where');
    await shot(page, 'careplan-summary-valid');
  });
});

test('the GP revises the plan; a save someone else overtook is explained; the history shows every revision and the plan it replaced', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=edit`);
    await page.waitForSelector('#plan-form');
    assert.equal(await page.inputValue('#whatMatters'), 'Being at home with my garden', 'the form starts from the saved plan');
    assert.equal(await page.isChecked('#recorderSenior'), true);
    assert.equal(await page.inputValue('#contact-0-phone'), '07700 900789');
    assert.equal(await page.inputValue('#med-0-name'), 'Morphine sulfate 10mg/5ml oral solution');
    // meanwhile a colleague revises the plan
    const { bundle, plan } = await currentPlanBundle(node, 'P5');
    bundle.entry[0].resource.description = 'Frailty; lives alone with carers twice a day';
    const partner = await savePlanBundle(node, 'P5', bundle, { ...GP_CLAIMS, sub: 'gp-2', name: 'Dr Paul Partner' }, { 'If-Match': `W/"${plan.meta.versionId}"` });
    assert.equal(partner.status, 200, partner.text);
    await page.check('#cpr-1');        // for CPR
    await page.fill('#whatMatters', 'Being at home with my garden and my son');
    await page.click('#save-plan');
    await page.waitForSelector('#save-problem .notice');
    assert.match(await text(page, '#save-problem'), /Someone else saved this care plan while you were editing it\..*Nothing of yours was saved/s);
    await shot(page, 'careplan-form-conflict');
    await page.click('#edit-latest');
    await page.waitForSelector('#plan-form');
    assert.equal(await page.inputValue('#description'), 'Frailty; lives alone with carers twice a day', 'the form starts again from the latest plan');
    await page.check('#cpr-1');
    await page.fill('#whatMatters', 'Being at home with my garden and my son');
    await page.click('#save-plan');
    await page.waitForURL(/saved=1/);
    await page.waitForSelector('#cpr-decision');
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-cpr'), 'yes');
    assert.match(await text(page, '#cpr-decision'), /FOR CPR.*CPR is recommended/is);
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=history`);
    await page.waitForSelector('#history-0 table');
    const rows = await page.locator('#history-0 tbody tr').allInnerTexts();
    assert.equal(rows.length, 3, rows.join('\n---\n'));
    assert.match(rows[0], /^3\s.*Dr Grace Green.*CPR decision: Not for CPR → For CPR.*What matters to me: Being at home with my garden → Being at home with my garden and my son/s);
    assert.match(rows[1], /^2\s.*Dr Paul Partner.*Shared understanding: \(none\) → Frailty; lives alone with carers twice a day/s);
    assert.doesNotMatch(rows[1], /CPR decision/, 'the colleague did not change the decision');
    assert.match(rows[2], /^1\s.*Dr Grace Green.*Green Lane Synthetic GP Practice.*Plan created/s);
    await shot(page, 'careplan-history');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=plan`);
    await page.waitForSelector('#plan-sign');
    assert.match(await text(page, '#plan-cpr'), /For CPR \(valid\)/);
    assert.match(await text(page, '#plan-ceiling'), /Symptom control and comfort/);
    assert.match(await text(page, '#plan-contacts'), /Tom Newplan\s+son.*07700 900789\s+Yes\s+Yes/s);
    assert.match(await text(page, '#plan-jic'), /Kitchen drawer by the sink.*Morphine sulfate/s);
    assert.match(await text(page, '#plan-sign'), /Version\s+3/);
    await shot(page, 'careplan-full');
    assert.deepEqual(await axe(page), [], 'axe: full care plan');
  });
  // another organisation writes its own plan: it supersedes the GP's,
  // which stays in the history
  const hospital = { sub: 'dr-ward', name: 'Dr Hana Ward', org: ORG.hospital, role: 'R8000', purpose: 'direct-care' };
  const own = await savePlanBundle(node, 'P5', planBundleFor('P5'), hospital, { 'X-Access-Reason': 'self-claimed: admitted to the ward today', 'If-Match': 'W/"3"' });
  assert.equal(own.status, 201, own.text);
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=history`);
    await page.waitForSelector('#history-1 table');
    assert.match(await text(page, '#history-0'), /The current plan \(1 version\).*Dr Hana Ward.*Plan created/s);
    const old = await page.locator('#history-1 tbody tr').allInnerTexts();
    assert.equal(old.length, 4);
    assert.match(old[0], /^4\s.*Superseded by a new plan/s);
    assert.match(old[1], /^3\s.*CPR decision: Not for CPR → For CPR/s);
    assert.doesNotMatch(old[1], /Lasting power of attorney/, 'what the superseding save did is not put on the version before it');
    assert.match(old[3], /^1\s.*Plan created/s);
    await shot(page, 'careplan-history-superseded');
    assert.deepEqual(await axe(page), [], 'axe: care plan history');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=edit`);
    await page.waitForSelector('#replace-note');
    assert.match(await text(page, '#replace-note'), /published by Synthetic Royal Hospital; only it may revise it/);
  });
});

// A node that declares none of the audit API (metadata stubbed: this
// node serves it): the page says so plainly.
test('the privacy dashboard says plainly when a node does not serve the audit API', async () => {
  await withPage(async (page) => {
    await editMetadata(page, (cap) => {
      cap.rest[0].resource = cap.rest[0].resource.filter((r) => r.type !== 'AuditEvent');
      cap.rest[0].operation = cap.rest[0].operation.filter((o) => !/^audit-/.test(o.name));
    });
    await signInAs(page, node, 'Privacy officer');
    assert.match(await text(page, '#not-available'), /Not available on this node/);
    await shot(page, 'privacy-not-available');
    assert.deepEqual(await axe(page), [], 'axe: privacy dashboard, not available');
  });
});

// The officer of the GP practice (Z10901) reviews what its own staff did.
// Alerts are raised by real reads: the GP opens a restricted record (P3)
// and, with a self-claimed reason, a hospital's patient the practice does
// not care for (P9); their record numbers come from the node's report.
async function raiseAlerts() {
  const persona = (label) => world.personas.find((p) => p.label === label).token;
  const hospital = node.token({ org: ORG.hospital, sub: `sys-${ORG.hospital}` });
  const p9 = { resourceType: 'Patient', id: 'P9', meta: { tag: [{ system: 'https://carerecord.example/publisher', code: ORG.hospital }] },
    identifier: [{ system: NHS_SYSTEM, value: '9990000018' }], name: [{ family: 'Visitor', given: ['Vera'] }], gender: 'female', birthDate: '1960-02-02' };
  assert.ok([200, 201].includes((await fhir(node, 'PUT', 'Patient/P9', { token: hospital, body: p9 })).status));
  const gp = persona('GP');
  assert.equal((await fhir(node, 'GET', 'Patient/P9', { token: gp })).status, 403, 'no relationship: refused without a reason');
  assert.equal((await fhir(node, 'GET', 'Patient/P9', { token: gp, headers: { 'x-access-reason': 'self-claimed: covering the hospital diabetes clinic' } })).status, 200);
  assert.equal((await fhir(node, 'GET', 'Patient/P3', { token: gp })).status, 200);
  const report = await fhir(node, 'GET', '$audit-report', { token: persona('Privacy officer') });
  assert.equal(report.status, 200, report.text.slice(0, 300));
  const alerts = report.json.parameter.filter((p) => p.name === 'alert');
  const part = (a, n) => a.part.filter((x) => x.name === n);
  const find = (pred) => alerts.filter(pred).map((a) => part(a, 'record')[0].valueInteger).at(-1);
  return {
    claim: find((a) => part(a, 'reason')[0]?.valueString === 'self-claimed: covering the hospital diabetes clinic'),
    restricted: find((a) => part(a, 'patient')[0]?.valueReference.reference === 'Patient/P3' &&
      part(a, 'code').some((c) => c.valueCode === 'restricted') && !part(a, 'review').length),
  };
}

test('review an alert through the node\'s audit API: alerts, the trail behind them, recording the review, usage charts', async () => {
  const rec = await raiseAlerts();
  assert.ok(rec.claim && rec.restricted, JSON.stringify(rec));
  await withPage(async (page) => {
    await signInAs(page, node, 'Privacy officer');
    await page.waitForSelector('#alerts-table');
    assert.match(await text(page, '#report-summary'), /Accesses by the staff of Z10901, the whole audit log: \d+ audit records/);
    const claim = await text(page, `tr[data-alert="${rec.claim}"]`);
    assert.match(claim, /Self-claimed relationship.*Dr Grace Green\s*gp-1, Clinical Practitioner\s+P9\s+self-claimed: covering the hospital diabetes clinic\s+To review/s);
    assert.match(await text(page, `tr[data-alert="${rec.restricted}"]`), /Restricted record.*P3/s);
    // the filter
    await page.selectOption('#alert-filter', 'restricted');
    assert.equal(await page.locator(`tr[data-alert="${rec.claim}"]`).count(), 0);
    assert.equal(await page.locator(`tr[data-alert="${rec.restricted}"]`).count(), 1);
    await page.selectOption('#alert-filter', '');
    // usage: four SVG charts from the report's months and total
    assert.equal(await page.locator('#usage svg.chart').count(), 4, 'usage charts drawn as SVG');
    assert.match(await text(page, '#usage'), /Record views per month.*Distinct users per month.*Record views by care setting.*Care plan views by emergency services/s);
    assert.match(await page.locator('#usage-by-care-setting desc').textContent(), /GP practice: [1-9]\d*/, 'the GP practice\'s views, by its Organization\'s type');

    // the trail behind the self-claim: the patient's accesses, this alert marked
    await page.click(`button[data-trail="${rec.claim}"]`);
    await page.waitForSelector('#trail-table');
    assert.equal(await page.inputValue('#trail-patient'), 'P9');
    const mine = await text(page, `#trail-table tr[data-record="${rec.claim}"]`);
    assert.match(mine, /This alert.*Dr Grace Green\s*gp-1\s+Clinical Practitioner Access Role\s+Read\s+P9\s+Direct care\s*self-claimed: covering the hospital diabetes clinic\s+allowed \(200\)\s+Self-claimed relationship/s);
    assert.match(await text(page, '#trail-table'), /denied \(403\)/, 'the refused attempt before it is in the trail too');
    await shot(page, 'privacy-dashboard');
    // ... and a search by member of staff and day
    await page.fill('#trail-patient', '');
    await page.fill('#trail-agent', 'gp-1');
    await page.fill('#trail-day', new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/London' }));
    await page.click('#trail-search');
    await page.waitForSelector('#trail-table');
    const who = await page.locator('#trail-table tbody tr td:nth-child(2)').allInnerTexts();
    assert.ok(who.length >= 3 && who.every((w) => /Dr Grace Green/.test(w)), who.join(' | '));
    assert.deepEqual(await axe(page), [], 'axe: privacy dashboard with alerts and trail');

    // recording the review
    await page.click(`button[data-review="${rec.claim}"]`);
    await page.waitForSelector('#review-dialog');
    await page.click('#review-save');
    assert.match(await text(page, '#review-dialog .field-error'), /Choose the outcome/);
    await page.check('#rv-explained');
    await page.fill('#rv-note', 'Covering the clinic; confirmed with the rota');
    await page.click('#review-save');
    await page.waitForSelector('#review-dialog', { state: 'detached' });
    assert.equal(await page.locator(`tr[data-alert="${rec.claim}"]`).count(), 0, 'the reviewed alert leaves the list');
    assert.match(await text(page, '#alerts-section .notice'), /recorded in the audit log/);
    await page.check('#show-reviewed');
    assert.match(await text(page, `tr[data-alert="${rec.claim}"]`), /Reviewed: Explained by the member of staff\s+by Priya Guard/);
  });
  // the review is the node's, not the page's: a new page shows it
  await withPage(async (page) => {
    await signInAs(page, node, 'Privacy officer');
    await page.waitForSelector('#alerts-table');
    assert.equal(await page.locator(`tr[data-alert="${rec.claim}"]`).count(), 0);
    await page.check('#show-reviewed');
    assert.match(await text(page, `tr[data-alert="${rec.claim}"]`), /Reviewed: Explained.*Priya Guard.*Covering the clinic; confirmed with the rota/s);
    // another officer reviews the restricted alert meanwhile: this page
    // still offers it, and the node's 409 is shown in the dialog
    const other = node.token({ sub: 'po-2', name: 'Second Officer', org: ORG.gp, role: 'R8008', purpose: 'audit' });
    const r = await fhir(node, 'POST', '$audit-review', { token: other,
      body: { resourceType: 'Parameters', parameter: [{ name: 'record', valueInteger: rec.restricted }, { name: 'outcome', valueCode: 'appropriate' }] } });
    assert.equal(r.status, 200, r.text);
    await page.click(`button[data-review="${rec.restricted}"]`);
    await page.check('#rv-appropriate');
    await page.click('#review-save');
    await page.waitForSelector('#review-problem .notice');
    assert.match(await text(page, '#review-problem'), /already reviewed/);
    assert.ok(page.handled.some((x) => /409/.test(x)));
  });
  const check = await fhir(node, 'GET', '$audit-report', { token: world.personas.find((p) => p.label === 'Privacy officer').token });
  const alert = check.json.parameter.find((p) => p.name === 'alert' && p.part.some((x) => x.name === 'record' && x.valueInteger === rec.claim));
  const review = alert.part.find((x) => x.name === 'review').part;
  assert.equal(review.find((x) => x.name === 'outcome').valueCode, 'explained');
  assert.equal(review.find((x) => x.name === 'user').valueString, 'po-1');
});

// Without $audit-review in the node's metadata, alerts are listed but the
// buttons are disabled, with a sentence saying why.
test('the privacy dashboard disables reviewing where the node does not record reviews', async () => {
  await withPage(async (page) => {
    await editMetadata(page, (cap) => {
      cap.rest[0].operation = cap.rest[0].operation.filter((o) => o.name !== 'audit-review');
    });
    await signInAs(page, node, 'Privacy officer');
    await page.waitForSelector('#alerts-table');
    assert.match(await text(page, '#review-unavailable'), /not available on this node/);
    const buttons = page.locator('button[data-review]');
    assert.ok(await buttons.count() > 0);
    assert.equal(await buttons.first().isDisabled(), true);
  });
});

test('a 1,000-resource record renders well within a second on this machine (measured)', async (t) => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    const start = Date.now();
    await openByNhs(page, NHS.p4);
    await page.waitForSelector('#patient-banner');
    const total = Date.now() - start;
    const d = await page.evaluate(() => ({ ...document.body.dataset }));
    assert.equal(Number(d.resourceCount), 1000 + 2, 'the record holds 1,000 resources (and its 2 organisations)');
    const render = Number(d.renderMs);
    t.diagnostic(`1,000-resource record: render ${render} ms, fetch ${d.fetchMs} ms, page to banner ${total} ms`);
    assert.ok(render < 5000, `render took ${render} ms`);
    assert.ok(await page.locator('#sec-results svg.chart').count() >= 2, 'trend charts for blood pressure and HbA1c');
    await shot(page, 'record-1000');
  });
});

test('the pages print without navigation and controls', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await openByNhs(page, NHS.p1);
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.site-header nav').isVisible(), false);
    assert.equal(await page.locator('.banner-actions').isVisible(), false);
    assert.equal(await page.locator('#sec-allergies').isVisible(), true);
    await shot(page, 'record-print');
  });
});

test('keyboard: the skip link comes first and leads to the main content', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await openByNhs(page, NHS.p1);
    await page.waitForSelector('#patient-banner');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    assert.deepEqual(await axe(page), [], 'axe: search page');
  });
});
