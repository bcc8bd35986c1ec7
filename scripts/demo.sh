#!/bin/sh
# demo.sh: run one node on the embedded default store (./carerecord-data,
# 127.0.0.1:8080). On first run it loads 200 synthetic patients (North
# East London's exchange) so there is a record to look at; then it prints
# a token and commands to try. Ctrl-C stops the node cleanly.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/carerecord"
data=${CARERECORD_DATA:-./carerecord-data}
listen=${CARERECORD_LISTEN:-127.0.0.1:8080}
log=$(mktemp /tmp/carerecord-demo.XXXXXX)

if [ ! -f "$data/carerecord.db" ]; then
  echo "First run: generating and loading 200 synthetic patients into $data"
  mkdir -p "$data"
  "$bin" synth --patients 200 --seed 1 --out "$data/synthetic" -q > /dev/null
  "$bin" import -q --data "$data" "$data"/synthetic/nel/*.ndjson
fi

"$bin" serve --listen "$listen" --data "$data" 2> "$log" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"; exit 0' INT TERM
i=0
until grep -q '"listening on' "$log"; do
  if ! kill -0 $pid 2>/dev/null; then cat "$log" >&2; exit 1; fi
  i=$((i + 1)); [ $i -gt 100 ] && { cat "$log" >&2; exit 1; }
  sleep 0.1
done
base=$(sed -n 's/.*FHIR base \([^,]*\),.*/\1/p' "$log" | head -n1)
mint() { "$bin" token --data "$data" --ttl 43200 "$@"; }
first=$(head -n1 "$data"/synthetic/nel/Patient.ndjson 2>/dev/null || true)
nhs=$(printf '%s' "$first" | sed -n 's/.*"system":"https:\/\/fhir.nhs.uk\/Id\/nhs-number","value":"\([0-9]*\)".*/\1/p')
nhs=${nhs:-9000000009}
gp=$(printf '%s' "$first" | sed -n 's/.*"generalPractitioner":\[{"reference":"Organization\/\([A-Z0-9]*\)".*/\1/p')
gp=${gp:-Z10501}
gp_token=$(mint --sub demo-gp --name "Dr Grace Demo" --org "$gp" --role R8000 --purpose direct-care)
ae_token=$(mint --sub demo-clinician --name "Dr Ada Demo" --org R1K --role R8000 --purpose direct-care)
em_token=$(mint --sub demo-paramedic --name "Pat Medic" --org RRU --role R8003 --purpose emergency)
pt_token=$(mint --sub "patient-$nhs" --name "Demo Patient" --org "$gp" --role R8000 --purpose patient-access --patient "$nhs")
# someone with a Universal Care Plan, for the emergency summary (or the
# first patient, whose summary then says there is no plan)
plan_pid=$(grep -F 'UCP-CarePlan' "$data"/synthetic/nel/CarePlan.ndjson 2>/dev/null | head -n1 |
           sed -n 's/.*"subject":{"reference":"Patient\/\([^"]*\)".*/\1/p')
[ -n "$plan_pid" ] || plan_pid=$(printf '%s' "$first" | sed -n 's/^{"resourceType":"Patient","id":"\([^"]*\)".*/\1/p')
cat <<TXT

carerecord is running: FHIR base $base  (data in $data)

Tokens, valid for 12 hours (every access is checked and audited):

  # a GP at the patient's own practice ($gp): sees the whole record
  export GP=$gp_token
  # an A&E clinician (R1K) with no recorded relationship: refused unless
  # they state a reason (X-Access-Reason: self-claimed: <why>), which alerts
  export AE=$ae_token
  # a paramedic under emergency access (break glass; needs a coded reason)
  export PARAMEDIC=$em_token
  # the patient ($nhs) reading their own record
  export PATIENT=$pt_token

Try:
  curl -s $base/metadata | head -c 300; echo
  curl -s -H "Authorization: Bearer \$GP" '$base/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  curl -s -H "Authorization: Bearer \$AE" '$base/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  curl -s -H "Authorization: Bearer \$AE" -H 'X-Access-Reason: self-claimed: seen in A&E today' '$base/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  curl -s -H "Authorization: Bearer \$PARAMEDIC" -H 'X-Access-Reason: emergency: life-threatening unconscious at scene' '$base/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  curl -s -H "Authorization: Bearer \$PATIENT" '$base/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  # the emergency summary of a Universal Care Plan, as the paramedic reads it
  curl -s -H "Authorization: Bearer \$PARAMEDIC" -H 'X-Access-Reason: emergency: life-threatening unconscious at scene' '$base/Patient/$plan_pid/\$care-plan-summary'

Request log lines follow. Press Ctrl-C to stop.

TXT
tail -f "$log" --pid=$pid &
wait $pid
