#!/bin/sh
# bench/run.sh: the project's measuring instrument (make bench).
#
# For each store size (patients) it generates synthetic London (cached),
# imports one exchange node's data (nel) into a fresh store, starts a
# release node and loads it with wrk: read by id (and nginx serving the
# same bytes as a static file, the limit), token search, Patient
# $everything, create; then server memory; then the cost of access control
# and audit: read, $everything and token search against the same store with
# the normal binary (policy and audit on) and with a benchmark build
# without them (CR_BENCH_NO_ACCESS, built here in build-bench-noaccess/),
# alternating, and the ratio on/off. Prints one table (rows = figures,
# columns = sizes) and writes bench/results/latest.json.
# bench/README.md explains each figure and the targets.
# The emergency summary of a Universal Care Plan, as a paramedic asks for
# it, is measured too (part "careplan"): on one node per size
# (bench_care_plan_summary), and across the five nodes of the demo that
# the federation part also uses (bench_care_plan_federated).
#
# Environment (all optional):
#   BENCH_SIZES     store sizes in patients (default "10000 100000")
#   BENCH_SCALE=1m  also run 900000 patients (the most the valid test-range
#                   NHS numbers allow, rounded down; needs ~60 GB of disk
#                   and ~12 more minutes)
#   BENCH_SECONDS   seconds per wrk run (default 10)
#   BENCH_THREADS   wrk threads (default 2), BENCH_CONNS connections (16)
#   BENCH_WORK      work directory, generated data is cached there
#                   (default /tmp/carerecord-bench)
#   BENCH_SEED      synth seed (default 1)
#   BENCH_ONLY      comma list of parts to run: import,read,search,
#                   everything,create,federation,careplan,access,mpi
#                   (default: all; memory always); BENCH_ONLY=federation
#                   runs no store size
#   BENCH_FED_PATIENTS  people in the federated London (default 10000)
#   BENCH_MPI_PEOPLE  people per size for the patient matching quality
#                   section (default 20000, or as many as the node has)
#   BENCH_SKIP_IMPORT, BENCH_SKIP_READ, BENCH_SKIP_NGINX, BENCH_SKIP_SEARCH,
#   BENCH_SKIP_EVERYTHING, BENCH_SKIP_CREATE, BENCH_SKIP_ACCESS,
#   BENCH_SKIP_FEDERATION, BENCH_SKIP_MPI=1    skip one part
#   (the care plan summary, on one node and across five, is part
#   "careplan": BENCH_SKIP_CAREPLAN=1)
#   BENCH_ROUNDS    rounds of the access part (default 3; medians reported)
#   BENCH_BIN_NOACCESS  the binary without access control and audit
#                   (default build-bench-noaccess/carerecord, built by this
#                   script from the working tree)
#   BENCH_KEEP=1    keep each size's store in BENCH_WORK (a later run that
#                   skips import measures against it instead of importing)
#   BENCH_REGEN=1   regenerate synthetic data even when cached
#   BENCH_OUT       where to write the JSON (default bench/results/latest.json)
#   BENCH_BIN       the binary to measure (default build/carerecord)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/bench"
bin=${BENCH_BIN:-"$root/build/carerecord"}
bin_off=${BENCH_BIN_NOACCESS:-}
rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-16}
seed=${BENCH_SEED:-1}
sizes=${BENCH_SIZES:-"10000 100000"}
work=${BENCH_WORK:-/tmp/carerecord-bench}
out=${BENCH_OUT:-"$bench/results/latest.json"}
node=nel                        # the exchange node whose data is imported
code='http://loinc.org%7C85354-9'   # blood pressure panel, in every BP reading
started=$(date +%s)

case "${BENCH_SCALE:-}" in
  "") ;;
  1m|1M) case " $sizes " in *" 900000 "*) ;; *) sizes="$sizes 900000" ;; esac ;;
  *) echo "bench: BENCH_SCALE must be 1m (or unset)" >&2; exit 2 ;;
esac

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Which parts run: BENCH_ONLY (a list) or all but BENCH_SKIP_<PART>=1.
want() {
  if [ -n "${BENCH_ONLY:-}" ] && [ "$1" != nginx ]; then
    case ",$BENCH_ONLY," in *",$1,"*) ;; *) return 1 ;; esac
  fi
  eval "skip=\${BENCH_SKIP_$(echo "$1" | tr a-z A-Z):-}"
  [ -z "$skip" ] || [ "$skip" = 0 ]
}

# ---- tools ---------------------------------------------------------------
[ -x "$bin" ] || die "no release binary at $bin: run 'make bench' (or 'make') first"
command -v wrk >/dev/null 2>&1 ||
  die "wrk is not installed: 'make bench' installs it (sh scripts/deps.sh bench), or apt-get install wrk"
command -v curl >/dev/null 2>&1 ||
  die "curl is not installed: apt-get install curl (or sh scripts/deps.sh bench)"
nginx_bin=$(command -v nginx 2>/dev/null || true)
[ -n "$nginx_bin" ] || [ ! -x /usr/sbin/nginx ] || nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ] && want read && want nginx; then
  die "nginx is not installed: 'make bench' installs it (nginx-light), or apt-get install nginx-light; BENCH_SKIP_NGINX=1 runs without the comparison"
fi
for n in $sizes; do
  case "$n" in ''|*[!0-9]*) die "BENCH_SIZES: '$n' is not a number of patients" ;; esac
  [ "$n" -ge 1 ] && [ "$n" -le 909091 ] || die "BENCH_SIZES: $n is outside 1..909091"
done
case "$secs" in ''|*[!0-9]*|0) die "BENCH_SECONDS must be a whole number of seconds" ;; esac
case "$rounds" in ''|*[!0-9]*|0) die "BENCH_ROUNDS must be a whole number, 1 or more" ;; esac

# The binary without access control and audit, for the access part: a
# release build with CR_BENCH_NO_ACCESS in its own build directory (never
# build/, which 'make' owns). Built from the working tree, so both
# binaries measure the same source.
if want access && [ -z "$bin_off" ]; then
  command -v cmake >/dev/null 2>&1 || die "cmake is not installed (sh scripts/deps.sh build)"
  say "building the benchmark binary without access control and audit (build-bench-noaccess/)"
  if ! { cmake -S "$root" -B "$root/build-bench-noaccess" -DCMAKE_BUILD_TYPE=Release \
           -DCR_TESTS=OFF -DCR_BENCH_NO_ACCESS=ON > /dev/null &&
         cmake --build "$root/build-bench-noaccess" -j "$(nproc)" --target carerecord > /dev/null; } 2> "${TMPDIR:-/tmp}/bench-noaccess-build.$$"; then
    cat "${TMPDIR:-/tmp}/bench-noaccess-build.$$" >&2
    rm -f "${TMPDIR:-/tmp}/bench-noaccess-build.$$"
    die "cannot build build-bench-noaccess/carerecord (see above)"
  fi
  rm -f "${TMPDIR:-/tmp}/bench-noaccess-build.$$"
  bin_off="$root/build-bench-noaccess/carerecord"
fi
if want access; then
  [ -x "$bin_off" ] || die "no benchmark binary without access control at $bin_off"
  "$bin_off" version | grep -q 'benchmark build' ||
    die "$bin_off is not a CR_BENCH_NO_ACCESS build ('carerecord version' does not say so)"
fi

mkdir -p "$work"
work=$(cd "$work" && pwd)
run=$(mktemp -d "$work/run.XXXXXX")
chmod 755 "$run"     # nginx workers (user nobody when started as root) read files here
srv_pid=""
ngx_pid=""
wrk_pid=""
data=""

stop_server() {
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=""
  fi
}
stop_nginx() {
  if [ -n "$ngx_pid" ]; then
    kill "$ngx_pid" 2>/dev/null || true
    wait "$ngx_pid" 2>/dev/null || true
    ngx_pid=""
  fi
}
cleanup() {
  rc=$?
  trap - EXIT INT TERM
  [ -z "$wrk_pid" ] || kill "$wrk_pid" 2>/dev/null || true
  fed_stop
  stop_nginx
  stop_server
  rm -rf "$run"
  # a store being measured is removed unless asked to keep it; an
  # interrupted import leaves nothing a later run would trust
  if [ -n "$data" ] && { [ -z "${BENCH_KEEP:-}" ] || [ ! -f "$data/.bench-imported" ]; }; then
    rm -rf "$data"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free loopback port from the kernel (bind port 0, read it back).
free_port() {
  if command -v python3 >/dev/null 2>&1 &&
     python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null; then
    return
  fi
  if command -v node >/dev/null 2>&1 &&
     node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null; then
    return
  fi
  echo $((20000 + $$ % 20000))
}

# ---- figures: one file per size, "key value" lines -------------------------
put() { printf '%s %s\n' "$1" "$2" >> "$run/fig.$size"; }
get() { awk -v k="$2" '$1 == k { v = $2 } END { if (v == "") v = "-"; print v }' "$run/fig.$1" 2>/dev/null || echo -; }

# wrk_run NAME [wrk args...]: one wrk run with report.lua's BENCH line;
# puts NAME_rps, NAME_p50 / NAME_p90 / NAME_p99 / NAME_max (ms), NAME_n,
# NAME_errors (socket errors + non-2xx) and NAME_bytes (per response).
# Pass -t/-c first to override the default threads and connections.
wrk_run() {
  name=$1; shift
  f="$run/wrk-$name-$size.out"
  t=$threads; c=$conns
  while [ $# -gt 0 ]; do
    case "$1" in
      -t*) t=${1#-t} ;; -c*) c=${1#-c} ;; *) break ;;
    esac
    shift
  done
  cpu0=$(cpu_ticks); all0=$(busy_ticks)
  # in the background, so that a signal is handled at once (cleanup)
  BENCH_LUA="$bench" wrk -t"$t" -c"$c" -d"${secs}s" --timeout 10s "$@" > "$f" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || true
  wrk_pid=""
  cpu1=$(cpu_ticks); all1=$(busy_ticks)
  line=$(grep '^BENCH ' "$f" | tail -n1)
  if [ -z "$line" ]; then
    say "  wrk gave no result for $name:"; sed 's/^/    /' "$f" >&2
    return 0
  fi
  echo "$line" | awk -v n="$name" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      printf "%s_rps %.0f\n", n, v["rps"]
      printf "%s_p50 %.3f\n%s_p90 %.3f\n%s_p99 %.3f\n%s_max %.3f\n", n, v["p50_us"] / 1000, n, v["p90_us"] / 1000, n, v["p99_us"] / 1000, n, v["max_us"] / 1000
      printf "%s_n %d\n", n, v["requests"]
      printf "%s_errors %d\n", n, v["errors_connect"] + v["errors_read"] + v["errors_write"] + v["errors_timeout"] + v["non2xx"]
      printf "%s_bytes %.0f\n", n, v["requests"] ? v["bytes"] / v["requests"] : 0
      if (c0 != "" && c1 != "" && v["requests"] > 0) {
        printf "%s_cpu_us %.0f\n", n, (c1 - c0) / hz * 1e6 / v["requests"]
        printf "%s_cores %.2f\n", n, (c1 - c0) / hz / v["seconds"]
      }
      if (v["seconds"] > 0) printf "%s_machine %.2f\n", n, (a1 - a0) / hz / v["seconds"]
    }' c0="$cpu0" c1="$cpu1" a0="$all0" a1="$all1" hz="$hz" >> "$run/fig.$size"
  cpu=""
  [ "$(get "$size" "${name}_cpu_us")" = - ] ||
    cpu="; node CPU $(get "$size" "${name}_cpu_us") us/request, node $(get "$size" "${name}_cores") of $(get "$size" "${name}_machine") busy cores"
  say "  $name: $(get "$size" "${name}_rps") req/s, p50 $(get "$size" "${name}_p50") ms, p99 $(get "$size" "${name}_p99") ms ($t threads x $c connections$cpu)"
  errs=$(get "$size" "${name}_errors")
  if [ "$errs" != "-" ] && [ "$errs" -gt 0 ]; then
    say "  WARNING: $name had $errs errors or non-2xx answers (see $f)"
    put "${name}_warning" "$errs"
  fi
}

# rotate NAME PATH-TEMPLATE IDS-FILE [-tN -cN]: wrk over many ids.
rotate() {
  name=$1 tmpl=$2 ids=$3; shift 3
  BENCH_IDS="$ids" BENCH_PATH="$tmpl" BENCH_TOKEN="$token" \
    BENCH_REASON="$claim" \
    wrk_run "$name" "$@" -s "$bench/rotate.lua" "$base_host"
}

server_alive() {
  [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null
}

# start_server [BINARY]: a node on the store in $data (default $bin).
start_server() {
  : > "$run/serve.log"
  "${1:-$bin}" serve --listen 127.0.0.1:0 --data "$data" --quiet 2>> "$run/serve.log" &
  srv_pid=$!
  i=0
  port=""
  while [ -z "$port" ]; do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$run/serve.log" | head -n1)
    [ -n "$port" ] && break
    i=$((i + 1))
    if [ $i -gt 300 ] || ! server_alive; then
      sed 's/^/    /' "$run/serve.log" >&2
      die "the node did not start (see above)"
    fi
    sleep 0.1
  done
  base_host="http://127.0.0.1:$port"
  base="$base_host/fhir"
}

# CPU time (ticks) the node has used, empty when it is not running; the
# table's "node CPU per request" divides it by the requests of one run,
# which stays meaningful when other work shares the machine.
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {
  case "${name:-}" in nginx*) return 0 ;; esac
  if server_alive; then
    awk '{ print $14 + $15 }' "/proc/$srv_pid/stat" 2>/dev/null || true
  fi
}

# CPU ticks the whole machine has been busy (all cores), for the share
# of a run that went to wrk and to anything else running.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# start_nginx FILE: nginx (2 workers, private config, free loopback port
# in $nport) serving FILE as /file.json, the limit for serving those bytes.
start_nginx() {
  ngx="$run/nginx"
  rm -rf "$ngx"
  mkdir -p "$ngx/html" "$ngx/logs" "$ngx/tmp"
  cp "$1" "$ngx/html/file.json"
  nport=$(free_port)
  cat > "$ngx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { }
  default_type application/fhir+json;
  keepalive_requests 1000000;
  client_body_temp_path $ngx/tmp;
  proxy_temp_path $ngx/tmp;
  fastcgi_temp_path $ngx/tmp;
  uwsgi_temp_path $ngx/tmp;
  scgi_temp_path $ngx/tmp;
  server {
    listen 127.0.0.1:$nport;
    root $ngx/html;
  }
}
CONF
  "$nginx_bin" -e "$ngx/logs/error.log" -c "$ngx/nginx.conf" -p "$ngx" &
  ngx_pid=$!
  i=0
  until curl -sf -o /dev/null "http://127.0.0.1:$nport/file.json"; do
    i=$((i + 1))
    if [ $i -gt 50 ] || ! kill -0 "$ngx_pid" 2>/dev/null; then
      cat "$ngx/logs/error.log" >&2 2>/dev/null || true
      die "nginx did not start (see above); BENCH_SKIP_NGINX=1 runs without it"
    fi
    sleep 0.1
  done
}

mem_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$srv_pid/status" 2>/dev/null || true; }

# ---- the emergency summary of a Universal Care Plan ---------------------
# bench_care_plan_summary: GET Patient/{id}/$care-plan-summary as a
# paramedic of the ambulance service (purpose emergency, a coded reason on
# every request: the policy, the facts, the plan and its parts read, the
# view on each, the audit record), over up to 1000 patients with a plan,
# at 16 connections and at 1 (the p50 the issue's target is about).
bench_care_plan_summary() {
  grep -F '"https://carerecord.example/StructureDefinition/UCP-CarePlan"' \
      "$synth/$node/CarePlan.ndjson" 2>/dev/null |
    sed -n 's/.*"subject":{"reference":"Patient\/\([^"]*\)".*/\1/p' |
    awk '!seen[$0]++' | head -n 1000 > "$run/careplan.ids"
  put careplan_patients "$(wc -l < "$run/careplan.ids" | tr -d ' ')"
  if [ ! -s "$run/careplan.ids" ]; then
    say "  WARNING: no Universal Care Plans in $synth/$node; care plan summary skipped"
    return 0
  fi
  em_token=$("$bin" token --data "$data" --sub bench-paramedic --name "Bench Paramedic" \
             --org Z0A --role R8003 --purpose emergency --ttl 7200)
  reason="emergency: life-threatening unresponsive at home"
  p0=$(head -n1 "$run/careplan.ids")
  curl -sf -H "Authorization: Bearer $em_token" -H "X-Access-Reason: $reason" \
       -o "$run/careplan.json" "$base/Patient/$p0/\$care-plan-summary" ||
    die "cannot read the care plan summary of Patient/$p0"
  put careplan_bytes "$(wc -c < "$run/careplan.json" | tr -d ' ')"
  say "care plan summary as a paramedic over $(get "$size" careplan_patients) patients with a plan ($(get "$size" careplan_bytes) bytes each)"
  BENCH_IDS="$run/careplan.ids" BENCH_PATH="/fhir/Patient/{id}/\$care-plan-summary" \
    BENCH_TOKEN="$em_token" BENCH_REASON="$reason" \
    wrk_run careplan -s "$bench/rotate.lua" "$base_host"
  BENCH_IDS="$run/careplan.ids" BENCH_PATH="/fhir/Patient/{id}/\$care-plan-summary" \
    BENCH_TOKEN="$em_token" BENCH_REASON="$reason" \
    wrk_run careplan1 -t1 -c1 -s "$bench/rotate.lua" "$base_host"
}

# pick_everything: the $everything patients (150-250 resources each) of
# the running node's store, in $run/everything.ids (empty when none),
# chosen once per size.
pick_everything() {
  [ ! -f "$run/everything.ids.$size" ] || return 0
  say "choosing \$everything patients: probing $(wc -l < "$run/everything.cand" | tr -d ' ') large records"
  : > "$run/everything.tot"
  while read -r p; do
    tot=$(curl -s -H "$auth" -H "X-Access-Reason: $claim" "$base/Patient/$p/\$everything" 2>/dev/null | head -c 400 |
          sed -n 's/.*"total":\([0-9]*\).*/\1/p')
    [ -n "$tot" ] && echo "$tot $p" >> "$run/everything.tot"
  done < "$run/everything.cand"
  awk '$1 >= 150 && $1 <= 250' "$run/everything.tot" | head -n 200 > "$run/everything.pick"
  if [ "$(wc -l < "$run/everything.pick")" -lt 5 ]; then
    sort -k1,1nr "$run/everything.tot" | awk '$1 <= 250' | head -n 20 > "$run/everything.pick"
    say "  WARNING: fewer than 5 records of 150-250 resources in this store; using the $(wc -l < "$run/everything.pick" | tr -d ' ') largest"
  fi
  : > "$run/everything.ids"
  if [ -s "$run/everything.pick" ]; then
    awk '{ print $2 }' "$run/everything.pick" > "$run/everything.ids"
    put everything_patients "$(wc -l < "$run/everything.ids" | tr -d ' ')"
    put everything_resources "$(awk '{ s += $1 } END { printf "%.0f", s / NR }' "$run/everything.pick")"
    put everything_resources_min "$(sort -n "$run/everything.pick" | head -n1 | cut -d' ' -f1)"
    put everything_resources_max "$(sort -n "$run/everything.pick" | tail -n1 | cut -d' ' -f1)"
    say "  $(get "$size" everything_patients) patients, $(get "$size" everything_resources_min)-$(get "$size" everything_resources_max) resources each (mean $(get "$size" everything_resources))"
  fi
  touch "$run/everything.ids.$size"
}

# ---- the cost of access control and audit ---------------------------------
# median NAME: the median of NAME_1 .. NAME_R's req/s, p50, p99 and node
# CPU per request, put as NAME_rps, NAME_p50, NAME_p99, NAME_cpu_us.
median() {
  for k in rps p50 p99 cpu_us; do
    m=$(r=1; while [ $r -le "$rounds" ]; do get "$size" "${1}_${r}_$k"; r=$((r + 1)); done |
        grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END {
          if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
          else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    put "${1}_$k" "$m"
  done
}

# access_side on|off BINARY ROUND: one node, the three loads.
access_side() {
  side=$1 sbin=$2 rnd=$3
  start_server "$sbin"
  pid0=$(head -n1 "$run/read.ids")
  # a second of warm-up, not counted: both sides start from a fresh node
  wrk -t"$threads" -c"$conns" -d1s -H "$auth" -H "X-Access-Reason: $claim" "$base/Patient/$pid0" > /dev/null 2>&1 || true
  wrk_run "acc_read_${side}_$rnd" -s "$bench/report.lua" -H "$auth" -H "X-Access-Reason: $claim" "$base/Patient/$pid0"
  # the same with 128 connections: commits of the audit log then hold
  # more records each, which is what the cost of a record depends on
  wrk_run "acc_read128_${side}_$rnd" -c128 -s "$bench/report.lua" -H "$auth" -H "X-Access-Reason: $claim" "$base/Patient/$pid0"
  [ ! -s "$run/everything.ids" ] ||
    rotate "acc_everything_${side}_$rnd" "/fhir/Patient/{id}/\$everything" "$run/everything.ids"
  rotate "acc_search_${side}_$rnd" "/fhir/Observation?patient=Patient/{id}&code=$code" "$run/search.ids"
  stop_server
}

# access_part: read, $everything and token search with policy and audit
# (the binary measured) and without (CR_BENCH_NO_ACCESS) on the same store,
# BENCH_ROUNDS rounds alternating the two so that a change in the
# machine's load hits both; the medians and their ratio on/off.
access_part() {
  if [ ! -f "$run/everything.ids.$size" ]; then
    start_server
    pick_everything
    stop_server
  fi
  b0=$(busy_ticks); sleep 1; b1=$(busy_ticks)
  put acc_others_cores "$(awk -v a="$b0" -v b="$b1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')"
  r=1
  while [ "$r" -le "$rounds" ]; do
    say "access control and audit, round $r of $rounds: on ($bin)"
    access_side on "$bin" "$r"
    say "access control and audit, round $r of $rounds: off ($bin_off)"
    access_side off "$bin_off" "$r"
    r=$((r + 1))
  done
  for part in read read128 everything search; do
    median "acc_${part}_on"
    median "acc_${part}_off"
    put "acc_${part}_ratio" "$(awk -v a="$(get "$size" "acc_${part}_on_rps")" -v b="$(get "$size" "acc_${part}_off_rps")" \
      'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }')"
    say "  $part: on $(get "$size" "acc_${part}_on_rps") req/s, off $(get "$size" "acc_${part}_off_rps") req/s, ratio $(get "$size" "acc_${part}_ratio") (medians of $rounds)"
  done
}

# ---- one store size ------------------------------------------------------
bench_size() {
  size=$1
  : > "$run/fig.$size"
  put patients "$size"
  synth="$work/synth-$size-s$seed"
  data="$work/data-$size-s$seed"
  say "== $size patients"

  # disk: NDJSON of all five nodes ~24 KB per patient; the node's store
  # ~16 KB per patient in the end but ~28 KB at the peak of the import
  # (its WAL, before the checkpoint); ask for both plus a quarter.
  need_kb=$((size * 28 * 5 / 4))
  if [ ! -f "$synth/manifest.json" ] || [ -n "${BENCH_REGEN:-}" ]; then
    need_kb=$((need_kb + size * 24 * 5 / 4))
  fi
  avail_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
  if [ "$avail_kb" -lt "$need_kb" ]; then
    say "SKIPPED $size patients: needs about $((need_kb / 1024)) MB free in $work, only $((avail_kb / 1024)) MB available (set BENCH_WORK to a bigger disk)"
    put skipped "disk"
    return 0
  fi

  # 1. synthetic London, cached per size and seed. The cache also records a
  # fingerprint of the generator (the bytes of a 2,000-person world with
  # the same seed), so data made by an older generator is regenerated.
  if [ -f "$synth/manifest.json" ] && [ -z "${BENCH_REGEN:-}" ] &&
     grep -q "\"patients\": *$size," "$synth/manifest.json" &&
     grep -q "\"seed\": *$seed," "$synth/manifest.json" &&
     [ "$(cat "$synth/.bench-fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
    say "synthetic data: cached in $synth"
    put synth_s cached
  else
    say "generating synthetic London: $size patients, seed $seed -> $synth"
    rm -rf "$synth" "$synth.tmp"
    t0=$(date +%s.%N)
    "$bin" synth --patients "$size" --seed "$seed" --out "$synth.tmp" -q > "$run/synth.log" ||
      { cat "$run/synth.log" >&2; die "synth failed"; }
    echo "$fingerprint" > "$synth.tmp/.bench-fingerprint"
    mv "$synth.tmp" "$synth"
    t1=$(date +%s.%N)
    put synth_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
    say "  $(head -n1 "$run/synth.log" | sed 's/ -> .*//')"
  fi
  ls "$synth/$node/"*.ndjson > /dev/null 2>&1 || die "no NDJSON for node $node in $synth"

  # 2. ids from the node's data (awk: no other tools needed)
  say "choosing patients from $synth/$node"
  # resources per patient: the first Patient reference of each line (the
  # compartment owner: subject, patient or participant actor), or the
  # Patient's own id
  cat "$synth/$node/"*.ndjson | awk '
    match($0, /"reference":"Patient\/[^"]+"/) { n[substr($0, RSTART + 21, RLENGTH - 22)]++; next }
    match($0, /^\{"resourceType":"Patient","id":"[^"]+"/) { n[substr($0, RSTART + 32, RLENGTH - 33)]++ }
    END { for (k in n) print n[k], k }' | sort -k1,1nr -k2,2 > "$run/counts"
  # 1000 patients spread over the whole file, for reads
  awk 'match($0, /^\{"resourceType":"Patient","id":"[^"]+"/) { print substr($0, RSTART + 32, RLENGTH - 33) }' \
    "$synth/$node/Patient.ndjson" > "$run/patients.all"
  awk -v n="$(wc -l < "$run/patients.all")" 'BEGIN { s = n > 1000 ? n / 1000 : 1; next_i = 0 }
    NR - 1 >= next_i { print; next_i += s }' "$run/patients.all" | head -n 1000 > "$run/read.ids"
  # 1000 patients with blood pressure panels, spread the same way
  grep -F '"code":"85354-9"' "$synth/$node/Observation.ndjson" |
    sed -n 's/.*"subject":{"reference":"Patient\/\([^"]*\)".*/\1/p' | awk '!seen[$0]++' > "$run/search.all"
  awk -v n="$(wc -l < "$run/search.all")" 'BEGIN { s = n > 1000 ? n / 1000 : 1; next_i = 0 }
    NR - 1 >= next_i { print; next_i += s }' "$run/search.all" | head -n 1000 > "$run/search.ids"
  # $everything candidates: the biggest compartments (a patient's bundle
  # also holds ~20-30 practitioners and organisations it refers to)
  awk '$1 >= 100 && $1 <= 240 { print $2 }' "$run/counts" | head -n 400 > "$run/everything.cand"
  [ -s "$run/everything.cand" ] || head -n 50 "$run/counts" | awk '{ print $2 }' > "$run/everything.cand"
  put search_patients "$(wc -l < "$run/search.ids" | tr -d ' ')"

  # 3. import into a fresh store
  if ! want import && [ -f "$data/.bench-imported" ]; then
    say "import skipped: using the store kept in $data"
  else
    want import || say "import skipped but no kept store in $data: importing anyway"
    rm -rf "$data"
    say "importing node $node ($(du -sh "$synth/$node" | cut -f1) NDJSON) into $data"
    if ! "$bin" import -q --data "$data" "$synth/$node/"*.ndjson > "$run/import.log" 2>&1; then
      sed 's/^/    /' "$run/import.log" >&2
      die "import failed"
    fi
    line=$(grep '^imported ' "$run/import.log" | tail -n1)
    say "  $line"
    # imported N resources from F file(s) in S s (R resources/s); B bad line(s) skipped
    echo "$line" | awk '{
      for (i = 1; i <= NF; i++) {
        if ($i == "imported") print "import_resources", $(i + 1)
        if ($i == "in") print "import_s", $(i + 1)
        if ($i ~ /^\(/ && $(i + 1) ~ /^resources\/s/) { v = $i; gsub(/[(]/, "", v); print "import_rps", v }
        if ($i ~ /^bad/) { v = $(i - 1); print "import_bad", v }
      }
    }' >> "$run/fig.$size"
    [ -n "$(get "$size" import_rps | grep -v '^-$')" ] || say "  WARNING: could not read the import summary line"
    touch "$data/.bench-imported"
  fi
  put db_mb "$(du -sk "$data" | awk '{ printf "%.0f", $1 / 1024 }')"
  say "  store on disk: $(get "$size" db_mb) MB"

  # other work on the machine perturbs every figure: say how busy it is
  b0=$(busy_ticks); sleep 1; b1=$(busy_ticks)
  put others_cores "$(awk -v a="$b0" -v b="$b1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')"
  if awk -v c="$(get "$size" others_cores)" 'BEGIN { exit !(c > 0.25) }'; then
    say "  WARNING: other processes keep $(get "$size" others_cores) cores busy before the load; figures will be low and noisy"
  fi

  # 4. a node and a token
  start_server
  say "node pid $srv_pid on $base"
  # An A&E clinician (R1K) with no recorded relationship to the people
  # asked for, who states one on every request: the full access decision
  # (facts, relationship, self-claim with its alert, item by item) runs
  # for every request, as for a clinician in A&E.
  token=$("$bin" token --data "$data" --sub bench --name Bench --org R1K \
          --role R8000 --purpose direct-care --ttl 7200)
  auth="Authorization: Bearer $token"
  claim="self-claimed: attending A&E (bench)"
  put rss_start_mb "$(awk -v k="$(mem_kb VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')"

  # (a) read by id of one Patient, (b) nginx serving the same bytes
  if want read; then
    pid0=$(head -n1 "$run/read.ids")
    curl -sf -H "$auth" -H "X-Access-Reason: $claim" -o "$run/served.json" "$base/Patient/$pid0" ||
      die "cannot read Patient/$pid0 back from the node"
    put read_bytes "$(wc -c < "$run/served.json" | tr -d ' ')"
    if want nginx && [ -n "$nginx_bin" ]; then
      say "nginx: serving the same $(get "$size" read_bytes) bytes as a static file"
      start_nginx "$run/served.json"
      wrk_run nginx -s "$bench/report.lua" "http://127.0.0.1:$nport/file.json"
      stop_nginx
    fi
    say "read by id: Patient/$pid0"
    wrk_run read -s "$bench/report.lua" -H "$auth" -H "X-Access-Reason: $claim" "$base/Patient/$pid0"
    say "read by id, rotating over $(wc -l < "$run/read.ids" | tr -d ' ') patients"
    rotate read1000 "/fhir/Patient/{id}" "$run/read.ids"
  fi

  # (c) token search: one patient's blood pressure panels
  if want search && server_alive; then
    say "token search: Observation?patient=Patient/ID&code=http://loinc.org|85354-9 over $(get "$size" search_patients) patients"
    rotate search "/fhir/Observation?patient=Patient/{id}&code=$code" "$run/search.ids"
    rotate search1 "/fhir/Observation?patient=Patient/{id}&code=$code" "$run/search.ids" -t1 -c1
  fi

  # (c2) searches that touch a whole type, one at a time on an idle node:
  # a page of 1,000 Patients with their Observations, a sort on four
  # keys, and the default total (every match decided by the policy)
  if want search && server_alive; then
    heavy() { # KEY PATH: median of 5 answers' wall time (ms)
      for i in 1 2 3 4 5 6; do
        curl -sf -o /dev/null -w '%{time_total}\n' -H "$auth" -H "X-Access-Reason: $claim" "$base/$2" ||
          echo fail
      done | tail -n 5 | sort -n | awk 'NR == 3 { v = $1 } /fail/ { bad = 1 }
        END { if (bad) print "-"; else printf "%.1f", v * 1000 }' > "$run/heavy"
      put "$1" "$(cat "$run/heavy")"
      say "  $2: $(get "$size" "$1") ms (median of 5, after one not counted)"
    }
    heavy heavy_rev_ms 'Patient?_count=1000&_revinclude=Observation:subject&_total=none'
    heavy heavy_sort_ms 'Observation?_sort=code,-date,value-quantity,_lastUpdated&_count=100&_total=none'
    heavy heavy_default_ms 'Patient?_sort=family&_count=10'
    heavy heavy_total_ms 'Patient?_sort=family&_count=10&_total=accurate'
    heavy heavy_chain_ms "Observation?subject:Patient.gender=female&_count=10"
  fi

  # (d) Patient/$everything for patients with 150-250 resources
  if want everything && server_alive; then
    pick_everything
    if [ -s "$run/everything.ids" ]; then
      # nginx serving one of these Bundles as a file: the limit for
      # moving that many bytes at 16 connections on this machine
      if want nginx && [ -n "$nginx_bin" ] &&
         curl -sf -H "$auth" -H "X-Access-Reason: $claim" -o "$run/everything.json" "$base/Patient/$(head -n1 "$run/everything.ids")/\$everything"; then
        put everything_file_bytes "$(wc -c < "$run/everything.json" | tr -d ' ')"
        say "nginx: serving one \$everything Bundle ($(get "$size" everything_file_bytes) bytes) as a static file"
        start_nginx "$run/everything.json"
        wrk_run nginx_everything -s "$bench/report.lua" "http://127.0.0.1:$nport/file.json"
        stop_nginx
      fi
      rotate everything "/fhir/Patient/{id}/\$everything" "$run/everything.ids"
      rotate everything1 "/fhir/Patient/{id}/\$everything" "$run/everything.ids" -t1 -c1
    else
      say "  WARNING: no \$everything answers; skipped"
    fi
  fi

  # (d2) the emergency summary of a Universal Care Plan
  if want careplan && server_alive; then
    bench_care_plan_summary
  fi

  # (e) create
  if want create && server_alive; then
    say "create: POST /fhir/Patient"
    BENCH_BODY="$bench/patient.json" BENCH_TOKEN="$token" \
      wrk_run create -s "$bench/create.lua" "$base/Patient"
  fi

  # (f) memory after the load
  if server_alive; then
    put rss_mb "$(awk -v k="$(mem_kb VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')"
    put hwm_mb "$(awk -v k="$(mem_kb VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')"
    say "server memory after the load: RSS $(get "$size" rss_mb) MB, peak $(get "$size" hwm_mb) MB"
    put db_after_mb "$(du -sk "$data" | awk '{ printf "%.0f", $1 / 1024 }')"
    put wal_after_mb "$(du -sk "$data/carerecord.db-wal" 2>/dev/null | awk '{ printf "%.0f", $1 / 1024 }')"
    say "store on disk after the load: $(get "$size" db_after_mb) MB, of which WAL $(get "$size" wal_after_mb) MB"
  else
    say "ERROR: the node died during the load; its log:"
    tail -n 20 "$run/serve.log" | sed 's/^/    /' >&2
    put server_died 1
  fi
  stop_server

  # (g) what access control and audit cost: on and off, same store
  if want access; then
    access_part
  fi

  if [ -n "${BENCH_KEEP:-}" ]; then
    say "store kept in $data"
  else
    rm -rf "$data"
  fi
}

# ---- patient matching quality (mpi) ---------------------------------------
# Not a load test: `carerecord mpi evaluate` takes the node's synthetic
# Patients of each size, adds noisy duplicates (typos, swapped or wrong
# birth dates, missing fields, moves: src/synth/dupes.c), indexes them all
# as a node does and compares the links and the review list with the
# truth. Figures: precision and recall of automatic links, the review
# list (pairs, and the share that are true), recall counting the review
# list, and the indexing cost per record. bench/README.md, docs/mpi.md.
bench_mpi() {
  size=$1
  pfile="$work/synth-$size-s$seed/$node/Patient.ndjson"
  [ -f "$pfile" ] || { say "mpi: no $pfile; skipped"; return 0; }
  people=${BENCH_MPI_PEOPLE:-20000}
  say "patient matching: $people people of $size, noisy duplicates (carerecord mpi evaluate)"
  if ! "$bin" mpi evaluate --in "$pfile" --people "$people" --seed "$seed" \
       --work "$run/mpi-$size" --json > "$run/mpi-$size.json" 2> "$run/mpi-$size.log"; then
    sed 's/^/    /' "$run/mpi-$size.log" >&2
    say "  WARNING: mpi evaluate failed"
    return 0
  fi
  # {"people":N,...}: one "key value" figure per member, prefixed mpi_
  tr -d '{}' < "$run/mpi-$size.json" | tr ',' '\n' | tr -d '"' |
    awk -F: 'NF == 2 { print "mpi_" $1, $2 }' >> "$run/fig.$size"
  say "  precision $(get "$size" mpi_precision), recall $(get "$size" mpi_recall) (with the review list $(get "$size" mpi_recall_with_review)); review list $(get "$size" mpi_review_pairs) pairs; $(get "$size" mpi_us_per_record) us per record ($(get "$size" mpi_cpu_us_per_record) us CPU)"
}

# ---- federation: five nodes on loopback (carerecord demo) ----------------
# Kept apart from the per-size runs above: its own figures file (fig.fed),
# its own table block and its own "federation" member in the JSON.
fed_pid=""
fed_stopped=""
fed_stop() {
  [ -z "$fed_stopped" ] || kill -CONT "$fed_stopped" 2>/dev/null || true
  fed_stopped=""
  if [ -n "$fed_pid" ]; then
    kill -INT "$fed_pid" 2>/dev/null || true
    wait "$fed_pid" 2>/dev/null || true
    fed_pid=""
  fi
}
fput() { printf '%s %s\n' "$1" "$2" >> "$run/fig.fed"; }

# Five consecutive free loopback ports (the demo's nodes), or nothing.
fed_ports() {
  for try in 1 2 3 4 5 6 7 8 9 10; do
    b=$(( 20000 + ($$ * 7 + try * 977) % 40000 ))
    ok=1
    for k in 0 1 2 3 4; do
      if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$((b + k))/" 2>/dev/null ||
         [ "$?" -ne 7 ]; then ok=0; break; fi
    done
    [ "$ok" = 1 ] && { echo "$b"; return; }
  done
}

# value of "name": "..." inside the persona whose "key" is $2 (demo.json is
# written one member a line)
fed_persona() {
  awk -v want="$2" -v name="$3" '
    /"key":/ { k = $0; sub(/.*"key": *"/, "", k); sub(/".*/, "", k) }
    k == want && $0 ~ "\"" name "\":" { v = $0; sub(/^[^:]*: *"/, "", v); sub(/",? *$/, "", v); print v; exit }' "$1"
}

# fed_demo_start: the five-node demo (BENCH_FED_PATIENTS people), started
# once for the parts that use it (federation, and careplan's summary across
# nodes); sets fdir, fj (demo.json), nel (its first node), tok and reason
# (the demo's paramedic). Returns 1, saying why, when it cannot start. Data
# made by another generator (the fingerprint, as for the store sizes) is
# made again, so the demo holds what today's generator writes (its
# Universal Care Plans, say).
fed_demo_start() {
  [ -z "$fed_pid" ] || return 0
  fed_n=${BENCH_FED_PATIENTS:-10000}
  fdir="$work/fed-$fed_n-s$seed"
  fport=$(fed_ports)
  [ -n "$fport" ] || { say "five nodes SKIPPED: no 5 free loopback ports"; return 1; }
  if [ -d "$fdir" ] && [ "$(cat "$fdir/.bench-fingerprint" 2>/dev/null)" != "$fingerprint" ]; then
    say "the demo's data in $fdir was made by another generator: making it again"
    rm -rf "$fdir"
  fi
  say "== five nodes: $fed_n people (carerecord demo, ports $fport-$((fport + 4)), data in $fdir)"
  rm -f "$fdir/demo.json"
  "$bin" demo --data "$fdir" --patients "$fed_n" --seed "$seed" --base-port "$fport" --quiet \
    > "$run/demo.out" 2> "$run/demo.log" &
  fed_pid=$!
  i=0
  until [ -f "$fdir/demo.json" ]; do
    i=$((i + 1))
    if [ $i -gt 6000 ] || ! kill -0 "$fed_pid" 2>/dev/null; then
      sed 's/^/    /' "$run/demo.log" >&2
      fed_pid=""
      die "carerecord demo did not start (see above)"
    fi
    sleep 0.1
  done
  echo "$fingerprint" > "$fdir/.bench-fingerprint"
  fj="$fdir/demo.json"
  tok=$(fed_persona "$fj" PARAMEDIC token)
  reason=$(fed_persona "$fj" PARAMEDIC reason)
  nel="http://127.0.0.1:$fport"
  # "NHS-number node" for every synthetic Patient of every node
  for r in nel ncl nwl sel swl; do
    sed -n 's/.*"system":"https:\/\/fhir.nhs.uk\/Id\/nhs-number","value":"\([0-9]*\)".*/\1/p' \
      "$fdir/synthetic/$r/Patient.ndjson" | sed "s/\$/ $r/"
  done | sort > "$run/fed.where"
}

# fed_load IDS TEMPLATE C1 C8 LOCAL1: wrk at nel as the demo's paramedic
# (its reason on every request), rotating over the ids in file IDS put
# into path TEMPLATE: a 2 s warm-up (the connections between the nodes),
# then 1 connection (figures C1), 8 over 2 threads (C8), and 1 connection
# with X-Federation: local (LOCAL1: nel's own part alone).
fed_load() {
  BENCH_HEADERS="X-Access-Reason: $reason" BENCH_IDS="$1" BENCH_PATH="$2" BENCH_TOKEN="$tok" \
    BENCH_LUA="$bench" wrk -t1 -c1 -d2s -s "$bench/rotate.lua" "$nel" > /dev/null 2>&1 || true
  BENCH_HEADERS="X-Access-Reason: $reason" BENCH_IDS="$1" BENCH_PATH="$2" BENCH_TOKEN="$tok" \
    wrk_run "$3" -t1 -c1 -s "$bench/rotate.lua" "$nel"
  BENCH_HEADERS="X-Access-Reason: $reason" BENCH_IDS="$1" BENCH_PATH="$2" BENCH_TOKEN="$tok" \
    wrk_run "$4" -t2 -c8 -s "$bench/rotate.lua" "$nel"
  say "the same people, asked at nel for its own part only (X-Federation: local)"
  BENCH_HEADERS="X-Access-Reason: $reason
X-Federation: local" BENCH_IDS="$1" BENCH_PATH="$2" BENCH_TOKEN="$tok" \
    wrk_run "$5" -t1 -c1 -s "$bench/rotate.lua" "$nel"
}

bench_federation() {
  size=fed
  : > "$run/fig.fed"
  fed_demo_start || { fput skipped ports; return 0; }
  say "== federation: federated \$everything across the five nodes"
  fput patients "$fed_n"
  # people with records on exactly three nodes (and none elsewhere),
  # one of them nel, where they are asked for (so nel's own part can
  # be timed alone for the same people)
  awk '{ n[$1]++; if ($2 == "nel") h[$1] = 1 } END { for (k in n) if (n[k] == 3 && h[k]) print k }' \
    "$run/fed.where" | sort | head -n 200 > "$run/fed.ids"
  [ -s "$run/fed.ids" ] || { say "  no one has records on three nodes; SKIPPED"; fput skipped people; return 0; }
  fput people "$(wc -l < "$run/fed.ids" | tr -d ' ')"
  # a sample answer: how big, and from how many nodes
  one=$(head -n1 "$run/fed.ids")
  curl -s -H "Authorization: Bearer $tok" -H "X-Access-Reason: $reason" \
    "$nel/fhir/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number%7C$one" > "$run/fed.one.json"
  fput resources "$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$run/fed.one.json" | head -n1)"
  fput outcomes "$(grep -o '"mode":"outcome"' "$run/fed.one.json" | wc -l | tr -d ' ')"
  say "  $(get fed people) people with records on 3 nodes, nel one of them; e.g. $one: $(get fed resources) resources merged, $(get fed outcomes) outcome entries; asked at nel (emergency access)"
  say "federated \$everything across five nodes"
  fed_load "$run/fed.ids" "/fhir/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{id}" \
    fed1 fed8 local1
  # one node hung: stopped (SIGSTOP) it still accepts connections and
  # never answers; take one holding data for the people asked about
  hung=$(awk -v id="$one" '$1 == id && $2 != "nel" { print $2; exit }' "$run/fed.where")
  hpid=$(awk -v want="$hung" '/"id":/ { i = $0; sub(/.*"id": *"/, "", i); sub(/".*/, "", i) }
    i == want && /"pid":/ { p = $0; gsub(/[^0-9]/, "", p); print p; exit }' "$fj")
  if [ -n "$hpid" ]; then
    say "node $hung (pid $hpid) hung: answer time of the same read, 10 times"
    kill -STOP "$hpid"
    fed_stopped=$hpid
    : > "$run/fed.hung"
    for id in $(awk -v h="$hung" '$2 == h { print $1 }' "$run/fed.where" |
                grep -F -x -f "$run/fed.ids" | head -n 10); do
      curl -s -o "$run/fed.hung.json" -w '%{time_total}\n' -H "Authorization: Bearer $tok" \
        -H "X-Access-Reason: $reason" \
        "$nel/fhir/Patient/\$everything?identifier=https://fhir.nhs.uk/Id/nhs-number%7C$id" >> "$run/fed.hung"
    done
    kill -CONT "$hpid"
    fed_stopped=""
    grep -q '"node-timeout"' "$run/fed.hung.json" && fput hung_named 1
    fput hung_runs "$(wc -l < "$run/fed.hung" | tr -d ' ')"
    fput hung_max "$(awk '{ v = $1 * 1000; if (v > m) m = v } END { printf "%.0f", m }' "$run/fed.hung")"
    fput hung_mean "$(awk '{ s += $1 * 1000 } END { if (NR) printf "%.0f", s / NR }' "$run/fed.hung")"
    say "  max $(get fed hung_max) ms, mean $(get fed hung_mean) ms over $(get fed hung_runs) reads (deadline 2000 ms)$( [ "$(get fed hung_named)" = 1 ] || echo '; WARNING: the answer did not name the hung node')"
  fi
}

# ---- the emergency summary across five nodes (part "careplan") ----------
# bench_care_plan_federated: GET nel/fhir/Patient/$care-plan-summary?
# identifier=<NHS number> as the demo's paramedic (purpose emergency, its
# reason on every request) for the people with a Universal Care Plan (on
# any node) whose record is on nel and on at least one other node: nel's
# own summary, the locator, each peer's summary in parallel (its policy,
# its audit record), the plan saved last chosen, nel's audit record. At 1
# connection (the latency the issue's target is about) and 8, and the same
# people with X-Federation: local (nel's summary alone) at 1.
bench_care_plan_federated() {
  size=cpfed
  : > "$run/fig.cpfed"
  fed_demo_start || { put skipped ports; return 0; }
  put patients "$fed_n"
  sd="$fdir/synthetic"
  # the NHS numbers of the people with a plan: each node's plans' subjects
  for r in nel ncl nwl sel swl; do
    sed -n 's/^{"resourceType":"Patient","id":"\([^"]*\)".*"system":"https:\/\/fhir.nhs.uk\/Id\/nhs-number","value":"\([0-9]*\)".*/\1 \2/p' \
      "$sd/$r/Patient.ndjson" > "$run/cpfed.nhs"
    grep -F '"https://carerecord.example/StructureDefinition/UCP-CarePlan"' "$sd/$r/CarePlan.ndjson" 2>/dev/null |
      sed -n 's/.*"subject":{"reference":"Patient\/\([^"]*\)".*/\1/p' |
      awk 'NR == FNR { nhs[$1] = $2; next } ($1 in nhs) { print nhs[$1] }' "$run/cpfed.nhs" -
  done | sort -u > "$run/cpfed.planned"
  put plans "$(wc -l < "$run/cpfed.planned" | tr -d ' ')"
  # ... whose record is on nel and on another node
  awk 'NR == FNR { p[$1] = 1; next } { n[$1]++; if ($2 == "nel") h[$1] = 1 }
    END { for (k in n) if (p[k] && h[k] && n[k] >= 2) print k }' \
    "$run/cpfed.planned" "$run/fed.where" | sort | head -n 200 > "$run/cpfed.ids"
  if [ ! -s "$run/cpfed.ids" ]; then
    say "  WARNING: no one with a Universal Care Plan has records on nel and another node; summary across nodes skipped"
    put skipped people
    return 0
  fi
  put people "$(wc -l < "$run/cpfed.ids" | tr -d ' ')"
  tmpl="/fhir/Patient/\$care-plan-summary?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{id}"
  one=$(head -n1 "$run/cpfed.ids")
  curl -s -H "Authorization: Bearer $tok" -H "X-Access-Reason: $reason" \
    -o "$run/cpfed.one.json" "$nel/fhir/Patient/\$care-plan-summary?identifier=https://fhir.nhs.uk/Id/nhs-number%7C$one"
  put bytes "$(wc -c < "$run/cpfed.one.json" | tr -d ' ')"
  grep -q '"name":"hasPlan","valueBoolean":true' "$run/cpfed.one.json" ||
    say "  WARNING: the summary of $one shows no plan: $(head -c 300 "$run/cpfed.one.json")"
  put node_issues "$(grep -o '"name":"nodeIssue"' "$run/cpfed.one.json" | wc -l | tr -d ' ')"
  say "care plan summary across five nodes: $(get cpfed people) of $(get cpfed plans) people with a plan have records on nel and another node; asked at nel as a paramedic ($(get cpfed bytes) bytes, $(get cpfed node_issues) node issues)"
  fed_load "$run/cpfed.ids" "$tmpl" cpfed1 cpfed8 cplocal1
}

fed_table() {
  [ -s "$run/fig.fed" ] || return 0
  printf '\nfederation: five nodes on loopback, %s people; federated $everything (emergency access) of %s people with records on three nodes (nel one of them), asked at nel\n' \
    "$(get fed patients)" "$(get fed people)"
  printf '%-58s %18s   %s\n' "resources in one merged answer (e.g.)" "$(get fed resources)" ""
  printf '%-58s %18s   %s\n' "federated \$everything p50 / p99, 1 connection (ms)" "$(pair fed fed1_p50 fed1_p99)" "<= 5 / <= 20"
  printf '%-58s %18s   %s\n' "federated \$everything (req/s), 8 connections" "$(get fed fed8_rps)" ""
  printf '%-58s %18s   %s\n' "federated \$everything p50 / p99, 8 connections (ms)" "$(pair fed fed8_p50 fed8_p99)" ""
  printf '%-58s %18s   %s\n' "single node (X-Federation: local) p50 / p99, 1 conn (ms)" "$(pair fed local1_p50 local1_p99)" ""
  printf '%-58s %18s   %s\n' "one node hung: answer time max / mean (ms)" "$(pair fed hung_max hung_mean)" "<= 2050 (deadline + 50)"
}

cpfed_table() {
  [ -s "$run/fig.cpfed" ] || return 0
  printf '\ncare plan summary across five nodes (%s people): %s people with a plan and records on nel and another node, asked at nel as a paramedic\n' \
    "$(get cpfed patients)" "$(get cpfed people)"
  printf '%-58s %18s   %s\n' "federated summary p50 / p99, 1 connection (ms)" "$(pair cpfed cpfed1_p50 cpfed1_p99)" "p50 <= 5"
  printf '%-58s %18s   %s\n' "federated summary (req/s), 8 connections" "$(get cpfed cpfed8_rps)" ""
  printf '%-58s %18s   %s\n' "federated summary p50 / p99, 8 connections (ms)" "$(pair cpfed cpfed8_p50 cpfed8_p99)" ""
  printf '%-58s %18s   %s\n' "nel alone (X-Federation: local) p50 / p99, 1 conn (ms)" "$(pair cpfed cplocal1_p50 cplocal1_p99)" "p50 <= 2"
}

cpfed_json() { # the "care_plan_summary_federated" member, appended to $1
  [ -s "$run/fig.cpfed" ] || return 0
  sed -i '$ d' "$1"
  {
    printf '  ,"care_plan_summary_federated": {"nodes": 5, "patients": %s, "people_with_plan": %s, "people_asked": %s, "bytes": %s,\n' \
      "$(jnum cpfed patients)" "$(jnum cpfed plans)" "$(jnum cpfed people)" "$(jnum cpfed bytes)"
    printf '    "targets": {"p50_ms": 5, "local_p50_ms": 2},\n'
    printf '    "c1": %s,\n    "c8": %s,\n    "local_c1": %s}\n}\n' \
      "$(lat cpfed cpfed1)" "$(lat cpfed cpfed8)" "$(lat cpfed cplocal1)"
  } >> "$1"
}

fed_json() { # the "federation" member, appended to the JSON in $1
  [ -s "$run/fig.fed" ] || return 0
  sed -i '$ d' "$1"
  {
    printf '  ,"federation": {"nodes": 5, "patients": %s, "people_on_three_nodes": %s, "resources_in_sample": %s,\n' \
      "$(jnum fed patients)" "$(jnum fed people)" "$(jnum fed resources)"
    printf '    "targets": {"p50_ms": 5, "p99_ms": 20, "hung_ms": 2050},\n'
    printf '    "c1": %s,\n    "c8": %s,\n    "local_c1": %s,\n' "$(lat fed fed1)" "$(lat fed fed8)" "$(lat fed local1)"
    printf '    "hung": {"deadline_ms": 2000, "runs": %s, "max_ms": %s, "mean_ms": %s, "named": %s}}\n}\n' \
      "$(jnum fed hung_runs)" "$(jnum fed hung_max)" "$(jnum fed hung_mean)" \
      "$( [ "$(get fed hung_named)" = 1 ] && echo true || echo false)"
  } >> "$1"
}

# the generator's fingerprint (see bench_size): a world of 2,000 people,
# large enough to hold every kind of record the generator makes (care
# plans are made for about one person in a hundred), in ~0.2 s
"$bin" synth --patients 2000 --seed "$seed" --out "$run/fp" -q > /dev/null ||
  die "carerecord synth does not work"
fingerprint=$(cat "$run/fp"/*/*.ndjson | cksum | awk '{ print $1 "-" $2 }')
rm -rf "$run/fp"

say "carerecord bench: sizes $sizes; wrk $threads threads x $conns connections, ${secs}s per run; work dir $work"
for s in $sizes; do
  [ "${BENCH_ONLY:-}" = federation ] || bench_size "$s"
done
if want careplan; then bench_care_plan_federated; fi
if want federation; then bench_federation; fi
fed_stop
if want mpi; then
  for s in $sizes; do
    [ "$(get "$s" skipped)" != - ] || bench_mpi "$s"
  done
fi
elapsed=$(( $(date +%s) - started ))

# ---- the table -------------------------------------------------------------
ratio() {   # read / nginx for size $1
  awk -v a="$(get "$1" read_rps)" -v b="$(get "$1" nginx_rps)" \
    'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'
}
pair() { # "A / B" of two figures
  a=$(get "$1" "$2"); b=$(get "$1" "$3")
  if [ "$a" = - ] && [ "$b" = - ]; then echo -; else echo "$a / $b"; fi
}

row() { # label target then one value per size (from a command)
  label=$1 target=$2 cmd=$3
  printf '%-40s' "$label"
  for s in $sizes; do printf ' %18s' "$(eval "$cmd")"; done
  printf '   %s\n' "$target"
}

{
  printf '\n%-40s' "figure"
  for s in $sizes; do printf ' %18s' "$s pts"; done
  printf '   %s\n' "target"
  row "resources imported (node $node)"      ""              'get $s import_resources'
  row "import (resources/s)"                 ">= 50000"      'get $s import_rps'
  row "store on disk (MB)"                   ""              'get $s db_mb'
  row "other work before load (cores)"       "0"             'get $s others_cores'
  row "nginx static file (req/s)"            "(72-87k)"      'get $s nginx_rps'
  row "read by id (req/s)"                   ""              'get $s read_rps'
  row "read / nginx"                         ">= 0.70"       'ratio $s'
  row "read p50 / p99 (ms)"                  ""              'pair $s read_p50 read_p99'
  row "read, node CPU per request (us)"      ""              'get $s read_cpu_us'
  row "read, 1000 patients (req/s)"          ""              'get $s read1000_rps'
  row "token search (req/s)"                 ""              'get $s search_rps'
  row "token search p50 / p99 (ms)"          ""              'pair $s search_p50 search_p99'
  row "token search p50, 1 connection (ms)"  "<= 1"          'get $s search1_p50'
  row "token search, node CPU/request (us)"  ""              'get $s search_cpu_us'
  row "1,000 Patients + Observations (ms)"   ""              'get $s heavy_rev_ms'
  row "Observations sorted on 4 keys (ms)"   ""              'get $s heavy_sort_ms'
  row "Patients, default total (ms)"         ""              'get $s heavy_default_ms'
  row "Patients, accurate total (ms)"        ""              'get $s heavy_total_ms'
  row "Observations of women, a chain (ms)"  ""              'get $s heavy_chain_ms'
  row "\$everything resources (mean)"        "~200"          'get $s everything_resources'
  row "nginx, one \$everything file (req/s)" ""              'get $s nginx_everything_rps'
  row "\$everything (req/s)"                 ""              'get $s everything_rps'
  row "\$everything p50 / p99 (ms)"          "<= 2 / <= 10"  'pair $s everything_p50 everything_p99'
  row "\$everything p50, 1 connection (ms)"  ""              'get $s everything1_p50'
  row "\$everything, node CPU/request (us)"  ""              'get $s everything_cpu_us'
  row "care plan summary (req/s)"           ""              'get $s careplan_rps'
  row "care plan summary p50 / p99 (ms)"     ""              'pair $s careplan_p50 careplan_p99'
  row "care plan summary p50, 1 conn (ms)"   "<= 2"          'get $s careplan1_p50'
  row "care plan summary, node CPU/req (us)" ""              'get $s careplan_cpu_us'
  row "create (req/s)"                       ">= 10000"      'get $s create_rps'
  row "create p50 / p99 (ms)"                ""              'pair $s create_p50 create_p99'
  row "create, node CPU per request (us)"    ""              'get $s create_cpu_us'
  row "server RSS after load / peak (MB)"    "<= 50"         'pair $s rss_mb hwm_mb'
  row "store after load / its WAL (MB)"      ""              'pair $s db_after_mb wal_after_mb'
  row "access+audit: other work before (cores)" "0"          'get $s acc_others_cores'
  row "  read on / off (req/s)"               ""              'pair $s acc_read_on_rps acc_read_off_rps'
  row "  read, ratio on / off"                ">= 0.85"       'get $s acc_read_ratio'
  row "  read, node CPU/request on / off (us)" ""            'pair $s acc_read_on_cpu_us acc_read_off_cpu_us'
  row "  read p99 on / off (ms)"              ""              'pair $s acc_read_on_p99 acc_read_off_p99'
  row "  read, 128 conns, on / off (req/s)"   ""              'pair $s acc_read128_on_rps acc_read128_off_rps'
  row "  read, 128 conns, ratio on / off"     ""              'get $s acc_read128_ratio'
  row "  \$everything on / off (req/s)"       ""              'pair $s acc_everything_on_rps acc_everything_off_rps'
  row "  \$everything, ratio on / off"        ">= 0.85"       'get $s acc_everything_ratio'
  row "  \$everything p99 on / off (ms)"      ""              'pair $s acc_everything_on_p99 acc_everything_off_p99'
  row "  token search on / off (req/s)"       ""              'pair $s acc_search_on_rps acc_search_off_rps'
  row "  token search, ratio on / off"        ">= 0.85"       'get $s acc_search_ratio'
  for s in $sizes; do
    [ "$(get "$s" skipped)" = - ] || printf '\n%s patients: SKIPPED (not enough disk in %s)' "$s" "$work"
  done
  cpfed_table
  fed_table
  printf '\n%s threads x %s connections, %ss per run, %s cores; took %dm%02ds\n' \
    "$threads" "$conns" "$secs" "$(nproc)" $((elapsed / 60)) $((elapsed % 60))
  ! want access ||
    printf 'access on / off: medians of %s alternating rounds; off = %s\n' "$rounds" "$bin_off"
}
if want mpi; then
  printf '\n%-40s' "patient matching (mpi evaluate)"
  for s in $sizes; do printf ' %18s' "$s pts"; done
  printf '\n'
  row "people / records"                     ""              'pair $s mpi_people mpi_records'
  row "true pairs (duplicates)"              ""              'get $s mpi_true_pairs'
  row "precision of links"                   ""              'get $s mpi_precision'
  row "recall of links"                      ""              'get $s mpi_recall'
  row "review list (pairs / true share)"     ""              'pair $s mpi_review_pairs mpi_review_precision'
  row "recall, links + review list"          ""              'get $s mpi_recall_with_review'
  row "indexing, wall / CPU (us per record)"  ""              'pair $s mpi_us_per_record mpi_cpu_us_per_record'
fi

# ---- the JSON ----------------------------------------------------------------
jnum() { # a figure as a JSON number (or null)
  v=$(get "$1" "$2")
  case "$v" in ''|-|*[!0-9.]*) echo null ;; *) echo "$v" ;; esac
}
jstr() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
acc_side() { # {"rps":..,"rounds_rps":[..]} of access part $2, side $3, size $1
  runs=$(r=1; sep=""; while [ $r -le "$rounds" ]; do
           printf '%s%s' "$sep" "$(jnum "$1" "acc_${2}_${3}_${r}_rps")"; sep=", "; r=$((r + 1)); done)
  printf '{"rps": %s, "p50_ms": %s, "p99_ms": %s, "node_cpu_us_per_request": %s, "rounds_rps": [%s]}' \
    "$(jnum "$1" "acc_${2}_${3}_rps")" "$(jnum "$1" "acc_${2}_${3}_p50")" \
    "$(jnum "$1" "acc_${2}_${3}_p99")" "$(jnum "$1" "acc_${2}_${3}_cpu_us")" "$runs"
}
acc() { # {"on": {..}, "off": {..}, "ratio": R} of access part $2, size $1
  printf '{"on": %s, "off": %s, "ratio": %s}' "$(acc_side "$1" "$2" on)" \
    "$(acc_side "$1" "$2" off)" "$(jnum "$1" "acc_${2}_ratio")"
}
lat() { # {"rps":..,"p50_ms":..,...} for figure name $2 of size $1
  printf '{"rps": %s, "p50_ms": %s, "p90_ms": %s, "p99_ms": %s, "max_ms": %s, "requests": %s, "errors": %s, "bytes_per_response": %s, "node_cpu_us_per_request": %s, "node_cores_busy": %s, "machine_cores_busy": %s}' \
    "$(jnum "$1" "${2}_rps")" "$(jnum "$1" "${2}_p50")" "$(jnum "$1" "${2}_p90")" \
    "$(jnum "$1" "${2}_p99")" "$(jnum "$1" "${2}_max")" "$(jnum "$1" "${2}_n")" \
    "$(jnum "$1" "${2}_errors")" "$(jnum "$1" "${2}_bytes")" \
    "$(jnum "$1" "${2}_cpu_us")" "$(jnum "$1" "${2}_cores")" "$(jnum "$1" "${2}_machine")"
}

mkdir -p "$(dirname "$out")"
commit=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(cd "$root" && git status --porcelain --untracked-files=no -- src CMakeLists.txt 2>/dev/null | head -n1)
[ "$bin" = "$root/build/carerecord" ] || dirty="BENCH_BIN: not necessarily built from it"
{
  printf '{\n'
  printf '  "when": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "seconds_taken": %d,\n' "$elapsed"
  [ -z "$dirty" ] || [ "${dirty#BENCH_BIN}" != "$dirty" ] || dirty="with local changes"
  printf '  "commit": %s,\n' "$(jstr "$commit${dirty:+ ($dirty)}")"
  printf '  "version": %s,\n' "$(jstr "$("$bin" version 2>/dev/null | head -n1)")"
  printf '  "binary": %s,\n' "$(jstr "$bin")"
  printf '  "machine": {"cores": %s, "cpu": %s, "memory_mb": %s, "kernel": %s},\n' \
    "$(nproc)" "$(jstr "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)")" \
    "$(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)" "$(jstr "$(uname -r)")"
  printf '  "wrk": {"threads": %s, "connections": %s, "seconds": %s, "version": %s},\n' \
    "$threads" "$conns" "$secs" "$(jstr "$(wrk -v 2>&1 | head -n1 | awk '{ print $2 }')")"
  printf '  "node": "%s", "seed": %s,\n' "$node" "$seed"
  printf '  "targets": {"read_ratio_to_nginx": 0.7, "create_rps": 10000, "rss_mb": 50, "search_p50_ms": 1, "everything_p50_ms": 2, "everything_p99_ms": 10, "import_rps": 50000, "access_ratio_on_off": 0.85},\n'
  printf '  "mpi": ['
  sep=""
  for s in $sizes; do
    printf '%s{"patients": %s, "people": %s, "records": %s, "true_pairs": %s, "linked_pairs": %s, "true_links": %s, "precision": %s, "recall": %s, "review_pairs": %s, "review_true": %s, "review_precision": %s, "recall_with_review": %s, "us_per_record": %s, "cpu_us_per_record": %s}' \
      "$sep" "$s" "$(jnum "$s" mpi_people)" "$(jnum "$s" mpi_records)" "$(jnum "$s" mpi_true_pairs)" \
      "$(jnum "$s" mpi_linked_pairs)" "$(jnum "$s" mpi_true_links)" "$(jnum "$s" mpi_precision)" \
      "$(jnum "$s" mpi_recall)" "$(jnum "$s" mpi_review_pairs)" "$(jnum "$s" mpi_review_true)" \
      "$(jnum "$s" mpi_review_precision)" "$(jnum "$s" mpi_recall_with_review)" "$(jnum "$s" mpi_us_per_record)" \
      "$(jnum "$s" mpi_cpu_us_per_record)"
    sep=", "
  done
  printf '],\n'
  printf '  "sizes": ['
  sep=""
  for s in $sizes; do
    printf '%s\n    {\n' "$sep"; sep=","
    printf '      "patients": %s,\n' "$s"
    if [ "$(get "$s" skipped)" != - ]; then
      printf '      "skipped": %s\n    }' "$(jstr "$(get "$s" skipped)")"
      continue
    fi
    printf '      "synth_seconds": %s, "synth_cached": %s,\n' "$(jnum "$s" synth_s)" \
      "$( [ "$(get "$s" synth_s)" = cached ] && echo true || echo false)"
    printf '      "import": {"resources": %s, "seconds": %s, "resources_per_s": %s, "bad_lines": %s},\n' \
      "$(jnum "$s" import_resources)" "$(jnum "$s" import_s)" "$(jnum "$s" import_rps)" "$(jnum "$s" import_bad)"
    printf '      "store_mb": %s,\n' "$(jnum "$s" db_mb)"
    printf '      "other_work_cores_before_load": %s,\n' "$(jnum "$s" others_cores)"
    printf '      "read_bytes": %s,\n' "$(jnum "$s" read_bytes)"
    printf '      "nginx": %s,\n' "$(lat "$s" nginx)"
    printf '      "read": %s,\n' "$(lat "$s" read)"
    r=$(ratio "$s"); [ "$r" = - ] && r=null
    printf '      "read_ratio_to_nginx": %s,\n' "$r"
    printf '      "read_1000_patients": %s,\n' "$(lat "$s" read1000)"
    printf '      "search": {"patients": %s, "c16": %s, "c1": %s},\n' \
      "$(jnum "$s" search_patients)" "$(lat "$s" search)" "$(lat "$s" search1)"
    printf '      "everything": {"patients": %s, "resources_mean": %s, "resources_min": %s, "resources_max": %s, "c16": %s, "c1": %s},\n' \
      "$(jnum "$s" everything_patients)" "$(jnum "$s" everything_resources)" \
      "$(jnum "$s" everything_resources_min)" "$(jnum "$s" everything_resources_max)" \
      "$(lat "$s" everything)" "$(lat "$s" everything1)"
    printf '      "nginx_everything_file": {"bytes": %s, "load": %s},\n' \
      "$(jnum "$s" everything_file_bytes)" "$(lat "$s" nginx_everything)"
    printf '      "care_plan_summary": {"target_p50_ms_c1": 2, "patients": %s, "bytes": %s, "c16": %s, "c1": %s},\n' \
      "$(jnum "$s" careplan_patients)" "$(jnum "$s" careplan_bytes)" \
      "$(lat "$s" careplan)" "$(lat "$s" careplan1)"
    printf '      "create": %s,\n' "$(lat "$s" create)"
    if want access; then
      printf '      "access": {"rounds": %s, "binary_off": %s, "target_ratio": 0.85, "other_work_cores_before": %s,\n' "$rounds" "$(jstr "$bin_off")" "$(jnum "$s" acc_others_cores)"
      printf '        "read": %s,\n' "$(acc "$s" read)"
      printf '        "read_128_connections": %s,\n' "$(acc "$s" read128)"
      printf '        "everything": %s,\n' "$(acc "$s" everything)"
      printf '        "search": %s},\n' "$(acc "$s" search)"
    fi
    printf '      "memory": {"rss_start_mb": %s, "rss_mb": %s, "peak_rss_mb": %s},\n' \
      "$(jnum "$s" rss_start_mb)" "$(jnum "$s" rss_mb)" "$(jnum "$s" hwm_mb)"
    printf '      "store_after_load_mb": %s, "wal_after_load_mb": %s,\n' \
      "$(jnum "$s" db_after_mb)" "$(jnum "$s" wal_after_mb)"
    printf '      "server_died": %s\n    }' "$( [ "$(get "$s" server_died)" = 1 ] && echo true || echo false)"
  done
  printf '\n  ]\n}\n'
} > "$out"
cpfed_json "$out"
fed_json "$out"
say "wrote $out (took $((elapsed / 60))m$((elapsed % 60))s)"
