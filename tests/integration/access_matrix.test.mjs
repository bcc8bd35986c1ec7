// access_matrix.test.mjs: one person's record (P1 of access_world.mjs)
// read by every kind of principal through every read path. For each
// principal the table below says exactly which of P1's resources it may
// see; each path must then show exactly those (or, where a path starts
// from something withheld, nothing), so no path can show more than
// another:
//   read and vread of each resource, search by patient per type (and
//   _total), $everything, _revinclude from the Patient, a chain through
//   the Patient, _has, type history, and a batch of GET entries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, fhir, entryRefs, NHS_SYSTEM } from './lib.mjs';
import { NHS1, buildWorld } from './access_world.mjs';

let node;
before(async () => {
  node = await startNode();
  await buildWorld(node);
});
after(async () => { await node?.close(); });

// P1's resources, by who published them.
const P1 = [
  'Patient/P1', 'Condition/c-asthma', 'Observation/o-g1', 'DocumentReference/d-nopat', 'RelatedPerson/rp1', // G1
  'Encounter/e1', 'Observation/o-h1', 'Composition/dis1', // H1
  'Condition/c-sti', // S1 (legally sensitive)
];
const all = (...except) => P1.filter((x) => !except.includes(x));
const SUP = { 'X-Supervisor': '600000000001' };
const CLAIM = { 'X-Access-Reason': 'self-claimed: covering the ward' };
const EMERGENCY = { 'X-Access-Reason': 'emergency: lacks-capacity unconscious' };

// principal -> what of P1 it sees; 'denied' names the rule for the person
const MATRIX = [
  { label: 'GP at the registered practice', claims: { org: 'G1' }, sees: all('Condition/c-sti') },
  { label: 'hospital clinician with a recent encounter', claims: { org: 'H1' }, sees: all('Condition/c-sti') },
  { label: 'nurse (R8001) with a recent encounter', claims: { org: 'H1', role: 'R8001' }, sees: all('Condition/c-sti') },
  { label: 'clinician with no relationship', claims: { org: 'H2' }, denied: 'no-relationship' },
  { label: 'clinician with a self-claimed relationship', claims: { org: 'H2' }, headers: CLAIM, sees: all('Condition/c-sti') },
  { label: 'paramedic under emergency access', claims: { org: 'A1', role: 'R8003', purpose: 'emergency' }, headers: EMERGENCY, sees: all('Condition/c-sti') },
  { label: 'student with a supervisor', claims: { org: 'H1', role: 'R8004' }, headers: SUP, sees: all('Condition/c-sti') },
  { label: 'student without a supervisor', claims: { org: 'H1', role: 'R8004' }, denied: 'supervisor-required' },
  { label: 'receptionist at the practice', claims: { org: 'G1', role: 'R8009' }, sees: ['Patient/P1', 'RelatedPerson/rp1'] },
  { label: 'social worker at the practice', claims: { org: 'G1', role: 'R8014' }, sees: ['Patient/P1', 'RelatedPerson/rp1', 'Composition/dis1'] },
  { label: 'the patient', claims: { org: 'G1', purpose: 'patient-access', patient: NHS1 }, sees: all('Condition/c-sti', 'DocumentReference/d-nopat') },
  { label: 'another patient', claims: { org: 'G1', purpose: 'patient-access', patient: '9476719931' }, denied: 'patient-access-other-patient' },
  { label: "the practice's system", claims: { org: 'G1', purpose: 'system' }, sees: P1.slice(0, 5) },
  { label: "the hospital's system", claims: { org: 'H1', purpose: 'system' }, sees: P1.slice(5, 8) },
  { label: "the clinic's system", claims: { org: 'S1', purpose: 'system' }, sees: ['Condition/c-sti'] },
  { label: 'a researcher', claims: { org: 'G1', purpose: 'research' }, denied: 'purpose-not-permitted' },
  { label: 'a privacy officer', claims: { org: 'G1', purpose: 'audit' }, denied: 'purpose-not-permitted' },
];

const sorted = (xs) => [...xs].sort();
const typeOf = (ref) => ref.split('/')[0];
const matches = (bundle) => entryRefs(bundle, null).filter((r) => !r.startsWith('Organization/') && !r.startsWith('OperationOutcome'));

for (const row of MATRIX) {
  test(`${row.label}: every path shows exactly what the policy allows`, async () => {
    const token = node.token({ role: 'R8000', purpose: 'direct-care', sub: `m-${row.label}`, ...row.claims });
    const o = { token, headers: row.headers || {} };
    const sees = new Set(row.sees || []);
    const get = (p) => fhir(node, 'GET', p, o);
    const refused = (r, what) => {
      assert.equal(r.status, 403, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal(r.json.issue[0].details.coding[0].code, row.denied, what);
    };

    // read and vread
    for (const ref of P1) {
      const r = await get(ref);
      const v = await get(`${ref}/_history/1`);
      if (sees.has(ref)) {
        assert.equal(r.status, 200, `read ${ref}: ${r.text.slice(0, 200)}`);
        assert.equal(v.status, 200, `vread ${ref}`);
      } else {
        assert.ok([403, 404].includes(r.status), `read ${ref} must be refused: ${r.status}`);
        assert.equal(v.status, r.status, `vread ${ref} answers like read`);
        if (row.denied) refused(r, `read ${ref}`);
      }
    }

    // search by patient, per type, with an accurate total
    for (const type of new Set(P1.map(typeOf))) {
      const p = type === 'Patient' ? 'Patient?_id=P1&_total=accurate'
        : type === 'RelatedPerson' ? 'RelatedPerson?patient=P1&_total=accurate'
          : `${type}?patient=P1&_total=accurate`;
      const r = await get(p);
      const want = sorted(P1.filter((x) => typeOf(x) === type && sees.has(x)));
      if (row.denied) { refused(r, p); continue; }
      if (r.status === 403) {
        assert.deepEqual(want, [], `${p} refused although ${want} may be seen`);
        assert.equal(r.json.issue[0].details.coding[0].code, 'role-not-permitted');
        continue;
      }
      assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 200)}`);
      assert.deepEqual(sorted(entryRefs(r.json)), want, p);
      assert.equal(r.json.total, want.length, `${p}: total`);
    }

    // $everything
    let r = await get('Patient/P1/$everything');
    if (row.denied) refused(r, '$everything');
    else assert.deepEqual(sorted(matches(r.json)), sorted(sees), '$everything');

    // _revinclude from the Patient: only from a Patient that was shown
    r = await get('Patient?_id=P1&_revinclude=Condition:subject&_revinclude=Observation:subject'
      + '&_revinclude=Encounter:subject&_revinclude=DocumentReference:subject'
      + '&_revinclude=Composition:subject&_revinclude=RelatedPerson:patient');
    if (row.denied) refused(r, '_revinclude');
    else assert.deepEqual(sorted(matches(r.json)), sees.has('Patient/P1') ? sorted(sees) : [], '_revinclude');

    // a chain through the Patient
    r = await get(`Observation?patient.identifier=${NHS_SYSTEM}|${NHS1}`);
    const obsSeen = sorted(P1.filter((x) => typeOf(x) === 'Observation' && sees.has(x)));
    assert.equal(r.status, 200, `chain: ${r.text.slice(0, 200)}`);
    assert.deepEqual(sorted(entryRefs(r.json)), sees.has('Patient/P1') ? obsSeen : [], 'chain');

    // _has: the Patient matches only through an Observation that may be seen
    r = await get('Patient?_has:Observation:subject:status=final&_id=P1');
    if (row.denied) refused(r, '_has');
    else assert.deepEqual(entryRefs(r.json), sees.has('Patient/P1') && obsSeen.length ? ['Patient/P1'] : [], '_has');

    // type history: P1's Observations that may be seen, each version once
    r = await get('Observation/_history?_count=1000');
    assert.equal(r.status, 200);
    const hist = (r.json.entry || []).map((e) => `Observation/${e.resource?.id}`).filter((x) => P1.includes(x));
    assert.deepEqual(sorted(hist), obsSeen, 'history');

    // a batch of GETs: each entry decided on its own
    r = await fhir(node, 'POST', '', {
      ...o, body: { resourceType: 'Bundle', type: 'batch', entry: P1.map((url) => ({ request: { method: 'GET', url } })) },
    });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    r.json.entry.forEach((e, i) => {
      const ok = e.response.status.startsWith('200');
      assert.equal(ok, sees.has(P1[i]), `batch GET ${P1[i]}: ${e.response.status}`);
    });
  });
}
