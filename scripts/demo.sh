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
token=$("$bin" token --data "$data" --sub demo-clinician --name "Dr Ada Demo" \
        --org R1K --role R8000 --purpose direct-care --ttl 43200)
nhs=$(sed -n 's/.*"system":"https:\/\/fhir.nhs.uk\/Id\/nhs-number","value":"\([0-9]*\)".*/\1/p' \
      "$data"/synthetic/nel/Patient.ndjson 2>/dev/null | head -n1)
nhs=${nhs:-9000000009}
cat <<TXT

carerecord is running: FHIR base $base  (data in $data)

A token for an A&E clinician (Dr Ada Demo, organisation R1K, role R8000,
purpose direct-care), valid for 12 hours:

  export TOKEN=$token

Try:
  curl -s $base/metadata | head -c 300; echo
  curl -s -H "Authorization: Bearer \$TOKEN" '$base/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  curl -s -H "Authorization: Bearer \$TOKEN" '$base/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number|$nhs'
  curl -s -H "Authorization: Bearer \$TOKEN" '$base/Condition?clinical-status=active&_include=Condition:subject&_count=5'

Request log lines follow. Press Ctrl-C to stop.

TXT
tail -f "$log" --pid=$pid &
wait $pid
