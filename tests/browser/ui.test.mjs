// ui.test.mjs: the web UI in Debian's Chromium (playwright-core) against
// the real node: sign-in with every persona, finding patients, what each
// role is and is not shown, the access-reason dialog and banner, the
// emergency care plan summary, creating and revising a plan and seeing
// it as another organisation, the privacy dashboard (its not-available
// state on this node, and against a stand-in of the audit API), the
// time to render a 1,000-resource record, accessibility (axe-core) and
// no console errors anywhere. Screenshots of each page are saved in
// tests/browser/artifacts/. The world: world.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildWorld, launchBrowser, newPage, closePage, assertNoErrors, shot, signInAs, axe, NHS, ORG,
} from './world.mjs';

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
async function withPage(fn) {
  const page = await newPage(browser);
  try {
    await fn(page);
    assertNoErrors(page);
  } finally {
    await closePage(page);
  }
}

const text = (page, sel) => page.locator(sel).innerText();

async function openByNhs(page, nhs) {
  await page.goto(`${node.base}/ui/`);
  await page.fill('#nhs', nhs);
  await page.click('#nhs-form button[type=submit]');
  await page.waitForLoadState('networkidle');
}

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
    assert.match(alerts, /Care plan: Not for CPR \(review overdue\)/);
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

test('a paramedic gives a coded emergency reason, sees the emergency banner and the care plan summary', async () => {
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
    assert.match(await text(page, '#cpr-decision'), /DO NOT ATTEMPT CPR/i);
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-cpr'), 'no');
    assert.match(await text(page, '#review-warning'), /Review date passed.*no longer valid/s);
    const ecs = await text(page, '#emergency-summary');
    assert.match(ecs, /Ward-based care, not for intensive care/);
    assert.match(ecs, /Susan Jones.*07700 900456/s);
    assert.match(ecs, /Lasting power of attorney[^\n]*\n?\s*Yes/);
    assert.match(await text(page, '#access-banner'), /EMERGENCY ACCESS/, 'the reason carries over to the care plan page');
    const size = await page.locator('#cpr-decision .decision').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(size >= 32, `the CPR decision is in large type (${size}px)`);
    await shot(page, 'emergency-summary');
    assert.deepEqual(await axe(page), [], 'axe: emergency summary');
    await page.goto(`${node.base}/ui/careplan?patient=P1&view=edit`);
    assert.match(await text(page, '#read-only'), /Emergency access is read-only/);
  });
});

// Where the node declares $care-plan-summary the pages read the plan
// from it (stand-in answer here: the same plan, but for CPR).
test('the care plan pages use $care-plan-summary when the node declares it', async () => {
  await withPage(async (page) => {
    const calls = [];
    await page.route('**/fhir/metadata', async (route) => {
      const res = await route.fetch();
      const cap = await res.json();
      cap.rest[0].resource.find((r) => r.type === 'Patient').operation.push({ name: 'care-plan-summary', definition: 'https://carerecord.example/OperationDefinition/care-plan-summary' });
      await route.fulfill({ response: res, json: cap });
    });
    const world = (await import('./world.mjs')).worldData()[ORG.gp];
    const pick = (id) => structuredClone(world.find((r) => r.id === id));
    await page.route('**/fhir/Patient/P1/$care-plan-summary', (route) => {
      calls.push(route.request().headers()['x-access-reason'] || '');
      const cpr = pick('p1-cpr');
      cpr.valueCodeableConcept.coding[0] = { system: 'http://snomed.info/sct', code: '450475007', display: 'For cardiopulmonary resuscitation' };
      cpr.component[0].valueDateTime = new Date(Date.now() + 100 * 86400000).toISOString();
      return route.fulfill({ contentType: 'application/fhir+json', json: { resourceType: 'Bundle', type: 'collection',
        entry: [pick('P1'), pick('p1-ucp'), cpr, pick('p1-kin')].map((resource) => ({ resource })) } });
    });
    await signInAs(page, node, 'GP');
    await page.goto(`${node.base}/ui/careplan?patient=P1&view=summary`);
    await page.waitForSelector('#cpr-decision');
    assert.equal(calls.length, 1, 'the operation was called');
    assert.equal(await page.locator('#cpr-decision').getAttribute('data-cpr'), 'yes');
    assert.equal(await page.locator('#review-warning').count(), 0, 'review date in the future: no warning');
    assert.match(await text(page, '#emergency-summary'), /Susan Jones/);
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

test('the patient sees their own record; who looked at it is not available on this node yet', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'Patient');
    assert.equal(await text(page, '#pb-name'), 'JONES, Margaret');
    assert.match(await text(page, '#sec-who-looked'), /Not available on this node/);
    await shot(page, 'record-patient');
  });
});

test('the GP creates a care plan with inline validation, the paramedic sees it, a revision shows in the history', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await openByNhs(page, NHS.p5);
    await page.waitForSelector('#patient-banner');
    assert.equal(await page.locator('#open-summary').count(), 0, 'no plan yet');
    await page.goto(`${node.base}/ui/careplan?patient=P5`);
    await page.waitForSelector('#plan-form');
    await page.fill('#cprDate', '');
    await page.click('#save-plan');
    await page.waitForSelector('#error-summary:not([hidden])');
    const summary = await text(page, '#error-summary');
    for (const msg of [/Choose the CPR decision/, /date the CPR decision was made/, /reviewed by/, /discussed with/, /what matters/i, /ceiling of treatment/]) {
      assert.match(summary, msg);
    }
    assert.equal(await page.evaluate(() => document.activeElement.id), 'error-summary', 'focus moves to the summary');
    await shot(page, 'careplan-form-errors');
    // fix field by field; each error goes as soon as its field is right
    await page.check('#cpr');          // the first choice: not for CPR
    const today = new Date().toISOString().slice(0, 10);
    const review = new Date(Date.now() + 180 * 86400000).toISOString().slice(0, 10);
    await page.fill('#cprDate', today);
    await page.fill('#reviewDate', today);
    await page.locator('#reviewDate').blur();
    assert.match(await text(page, '#reviewDate-error'), /after the decision date/);
    await page.fill('#reviewDate', review);
    await page.locator('#reviewDate').blur();
    assert.equal(await page.locator('#reviewDate-error').isHidden(), true);
    await page.fill('#discussedWith', 'Nora and her son');
    await page.fill('#whatMatters', 'Being at home with my garden');
    await page.check('input[name=ceilingChoice] >> nth=2');
    await page.click('#add-contact');
    await page.fill('#contact-0-given', 'Tom');
    await page.fill('#contact-0-family', 'Newplan');
    await page.fill('#contact-0-phone', '07700 900789');
    await page.check('#contact-0-lpa');
    assert.match(await text(page, '#endorser-error'), /senior clinician/, 'not for CPR needs an endorser');
    assert.match(await text(page, '#lpa-error'), /lasting power of attorney/);
    await page.fill('#endorser', 'Dr Senior Consultant');
    await page.check('#lpa-1');        // yes
    await page.selectOption('#preferredCare', '264362003');
    await page.click('#save-plan');
    await page.waitForURL(/view=summary.*saved=1/);
    await page.waitForSelector('#cpr-decision');
    assert.match(await text(page, '#cpr-decision'), /DO NOT ATTEMPT CPR/i);
    assert.match(await text(page, '#emergency-summary'), /Symptom control and comfort at home/);
    await shot(page, 'careplan-saved');
  });
  await withPage(async (page) => {
    await signInAs(page, node, 'Paramedic');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=summary`);
    await page.waitForSelector('#access-dialog');
    await page.check('#er-lacks-capacity');
    await page.click('#access-ok');
    await page.waitForSelector('#cpr-decision');
    const ecs = await text(page, '#emergency-summary');
    assert.match(ecs, /DO NOT ATTEMPT CPR/i);
    assert.match(ecs, /Being at home with my garden/);
    assert.match(ecs, /Tom Newplan/);
    assert.match(ecs, /Dr Grace Green, Green Lane Synthetic GP Practice/, 'the plan names its author and organisation');
  });
  await withPage(async (page) => {
    await signInAs(page, node, 'GP');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=edit`);
    await page.waitForSelector('#plan-form');
    assert.equal(await page.inputValue('#whatMatters'), 'Being at home with my garden', 'the form starts from the saved plan');
    await page.check('#cpr-1');        // for CPR
    await page.fill('#whatMatters', 'Being at home with my garden and my son');
    await page.click('#save-plan');
    await page.waitForURL(/saved=1/);
    assert.match(await text(page, '#cpr-decision'), /For CPR/i);
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=history`);
    await page.waitForSelector('#history-table');
    const hist = await text(page, '#history-table');
    assert.match(hist, /Care plan\s+2/);
    assert.match(hist, /What matters: Being at home with my garden → Being at home with my garden and my son/);
    assert.match(hist, /Decision: Not for cardiopulmonary resuscitation → For cardiopulmonary resuscitation/);
    await shot(page, 'careplan-history');
    await page.goto(`${node.base}/ui/careplan?patient=P5&view=plan`);
    await page.waitForSelector('#h-sign');
    assert.match(await text(page, 'main'), /Dr Senior Consultant/);
    await shot(page, 'careplan-full');
  });
});

test('the privacy dashboard says plainly that the audit API is not available on this node', async () => {
  await withPage(async (page) => {
    await signInAs(page, node, 'Privacy officer');
    assert.match(await text(page, '#not-available'), /Not available on this node/);
    await shot(page, 'privacy-not-available');
    assert.deepEqual(await axe(page), [], 'axe: privacy dashboard');
  });
});

test('review an alert through the node\'s audit API', { todo: 'GET /fhir/$audit-report and $audit-review are not served yet (docs/ui.md proposes the review)' }, () => {});

// The dashboard against a stand-in of the audit API in the shape
// docs/ui.md describes, so its drawing, drill-down and review are tested
// before the node serves them.
test('the privacy dashboard lists alerts, drills down to the trail, records a review and draws usage (stand-in API)', async () => {
  await withPage(async (page) => {
    const reviews = [];
    await page.route('**/fhir/metadata', async (route) => {
      const res = await route.fetch();
      const cap = await res.json();
      cap.rest[0].resource.push({ type: 'AuditEvent', interaction: [{ code: 'read' }, { code: 'search-type' }] });
      cap.rest[0].operation.push({ name: 'audit-report', definition: 'https://carerecord.example/OperationDefinition/audit-report' },
        { name: 'audit-review', definition: 'https://carerecord.example/OperationDefinition/audit-review' });
      await route.fulfill({ response: res, json: cap });
    });
    const part = (name, v) => ({ name, ...v });
    await page.route('**/fhir/$audit-report', (route) => route.fulfill({
      contentType: 'application/fhir+json',
      json: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'alert', part: [part('id', { valueString: 'a1' }), part('code', { valueCode: 'self-claimed' }), part('time', { valueInstant: '2026-01-05T09:30:00Z' }),
            part('user', { valueString: 'ae-1' }), part('userName', { valueString: 'Dr Ada Emergency' }), part('org', { valueString: 'Z1A' }),
            part('patient', { valueReference: { reference: 'Patient/P1' } }), part('patientName', { valueString: 'JONES, Margaret' }),
            part('reason', { valueString: 'seen in A&E today' }), part('auditEvent', { valueReference: { reference: 'AuditEvent/ev1' } })] },
          { name: 'alert', part: [part('id', { valueString: 'a2' }), part('code', { valueCode: 'same-surname' }), part('time', { valueInstant: '2026-01-06T22:10:00Z' }),
            part('userName', { valueString: 'Dr Jones' }), part('patientName', { valueString: 'JONES, Margaret' }), part('status', { valueCode: 'open' })] },
          { name: 'views-per-month', part: [part('name', { valueString: 'views-per-month' }),
            ...[['2025-11', 12], ['2025-12', 30], ['2026-01', 18]].map(([l, v]) => ({ name: 'point', part: [part('label', { valueString: l }), part('value', { valueInteger: v })] }))] },
          { name: 'care-plan-views-emergency', part: [part('name', { valueString: 'care-plan-views-emergency' }),
            ...[['2025-12', 3], ['2026-01', 5]].map(([l, v]) => ({ name: 'point', part: [part('label', { valueString: l }), part('value', { valueInteger: v })] }))] },
        ],
      },
    }));
    await page.route('**/fhir/AuditEvent?**', (route) => route.fulfill({
      contentType: 'application/fhir+json',
      json: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: {
        resourceType: 'AuditEvent', id: 'ev1', recorded: '2026-01-05T09:30:00Z', outcome: '0',
        type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
        subtype: [{ code: 'read', display: 'read' }],
        agent: [{ requestor: true, who: { display: 'Dr Ada Emergency', identifier: { value: 'ae-1' } }, purposeOfUse: [{ text: 'self-claimed: seen in A&E today' }] }],
        entity: [{ what: { reference: 'Patient/P1', display: 'JONES, Margaret' } }],
      } }] },
    }));
    await page.route('**/fhir/$audit-review', async (route) => {
      reviews.push(route.request().postDataJSON());
      await route.fulfill({ contentType: 'application/fhir+json', json: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'recorded' }] } });
    });
    await signInAs(page, node, 'Privacy officer');
    await page.waitForSelector('#alerts-table');
    const rows = await page.locator('#alerts-table tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0], /Self-claimed relationship.*Dr Ada Emergency.*JONES, Margaret.*seen in A&E today.*To review/s);
    assert.equal(await page.locator('#usage svg.chart').count(), 2, 'usage charts drawn as SVG');
    assert.match(await text(page, '#usage'), /Record views per month.*Care plan views by emergency services/s);
    await page.click('tr[data-alert=a1] >> text=Audit trail');
    await page.waitForSelector('#trail-table');
    assert.match(await text(page, '#trail-table'), /Dr Ada Emergency.*read.*self-claimed/s);
    await shot(page, 'privacy-dashboard');
    await page.click('button[data-review=a1]');
    await page.waitForSelector('#review-dialog');
    await page.click('#review-save');
    assert.match(await text(page, '#review-dialog .field-error'), /Choose the outcome/);
    await page.check('#rv-explained');
    await page.fill('#rv-note', 'Covering A&E; confirmed with the rota');
    await page.click('#review-save');
    await page.waitForSelector('#review-dialog', { state: 'detached' });
    assert.equal(reviews.length, 1);
    const p = Object.fromEntries(reviews[0].parameter.map((x) => [x.name, x.valueString ?? x.valueCode ?? x.valueReference?.reference]));
    assert.deepEqual(p, { alert: 'a1', outcome: 'explained', auditEvent: 'AuditEvent/ev1', note: 'Covering A&E; confirmed with the rota' });
    assert.equal(await page.locator('#alerts-table tbody tr').count(), 1, 'the reviewed alert leaves the list');
    await page.check('#show-reviewed');
    assert.match(await text(page, 'tr[data-alert=a1]'), /Reviewed: Explained/);
    assert.deepEqual(await axe(page), [], 'axe: privacy dashboard with alerts');
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
