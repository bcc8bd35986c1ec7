#!/bin/sh
# bench/run.sh: measure a release node under load and compare it with the
# limit (nginx serving the same bytes as a static file). Prints a table and
# writes bench/results/latest.json. See bench/README.md for each figure.
# Tunables: BENCH_SECONDS (default 10), BENCH_THREADS (2), BENCH_CONNS (16).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/carerecord"
secs=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-16}
work=$(mktemp -d /tmp/carerecord-bench.XXXXXX)
out="$root/bench/results/latest.json"
srv_pid=""
ngx_pid=""

cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
  [ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() { printf '%s\n' "$*" >&2; }

# A free port from the kernel, by binding port 0 and reading it back.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + $$ % 20000))
}

# wrk_rate URL [wrk args...] -> requests per second (and the latency lines
# on stderr).
wrk_run() {
  wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" > "$work/wrk.out" 2>&1 || true
  grep -E 'Requests/sec|Latency  |50%|99%|Non-2xx' "$work/wrk.out" >&2 || true
  awk '/Requests\/sec/ { print $2 }' "$work/wrk.out"
}
wrk_pct() { awk -v p="$1" '$1 == p { print $2 }' "$work/wrk.out"; }

say "== starting a release node"
"$bin" serve --listen 127.0.0.1:0 --data "$work/data" --quiet 2> "$work/serve.log" &
srv_pid=$!
i=0
until port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -n1) && [ -n "$port" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
base="http://127.0.0.1:$port/fhir"
token=$("$bin" token --data "$work/data" --sub bench --name "Bench User" \
        --org R1K --role R8000 --purpose direct-care --ttl 3600)

loc=$(curl -sf -D - -o "$work/created.json" -X POST "$base/Patient" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/fhir+json' \
        --data-binary @"$root/bench/patient.json" | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')
id=$(echo "$loc" | sed 's|.*/Patient/\([^/]*\)/.*|\1|')
curl -sf "$base/Patient/$id" -H "Authorization: Bearer $token" -o "$work/served.json"
bytes=$(wc -c < "$work/served.json")

say "== nginx serving the same $bytes bytes as a static file"
mkdir -p "$work/nginx/html" "$work/nginx/logs"
cp "$work/served.json" "$work/nginx/html/patient.json"
nport=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/fhir+json;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    root $work/nginx/html;
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
ngx_pid=$!
sleep 0.5
nginx_rps=$(wrk_run "http://127.0.0.1:$nport/patient.json")
kill "$ngx_pid" 2>/dev/null || true
wait "$ngx_pid" 2>/dev/null || true
ngx_pid=""

say "== carerecord: read by id"
read_rps=$(wrk_run -H "Authorization: Bearer $token" "$base/Patient/$id")
read_p50=$(wrk_pct 50%)
read_p99=$(wrk_pct 99%)

say "== carerecord: create"
create_rps=$(BENCH_BODY="$root/bench/patient.json" BENCH_TOKEN="$token" \
             wrk_run -s "$root/bench/create.lua" "$base/Patient")
create_p50=$(wrk_pct 50%)
create_p99=$(wrk_pct 99%)

rss_kb=$(awk '/VmRSS/ { print $2 }' /proc/$srv_pid/status)
hwm_kb=$(awk '/VmHWM/ { print $2 }' /proc/$srv_pid/status)
ratio=$(awk -v a="$read_rps" -v b="$nginx_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }')

printf '\n%-34s %14s\n' "figure" "value" 
printf '%-34s %14s\n' "nginx static read (req/s)" "$nginx_rps"
printf '%-34s %14s\n' "read by id (req/s)" "$read_rps"
printf '%-34s %14s\n' "read / nginx" "$ratio"
printf '%-34s %14s\n' "read p50 / p99" "$read_p50 / $read_p99"
printf '%-34s %14s\n' "create (req/s)" "$create_rps"
printf '%-34s %14s\n' "create p50 / p99" "$create_p50 / $create_p99"
printf '%-34s %14s\n' "server RSS now / peak (MB)" "$((rss_kb / 1024)) / $((hwm_kb / 1024))"
printf '%-34s %14s\n' "resource size (bytes)" "$bytes"

mkdir -p "$(dirname "$out")"
cat > "$out" <<JSON
{
  "when": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": {"cores": $(nproc), "wrk_threads": $threads, "wrk_connections": $conns, "seconds": $secs},
  "resource_bytes": $bytes,
  "nginx_read_rps": $nginx_rps,
  "read_rps": $read_rps,
  "read_ratio_to_nginx": $ratio,
  "read_latency": {"p50": "$read_p50", "p99": "$read_p99"},
  "create_rps": $create_rps,
  "create_latency": {"p50": "$create_p50", "p99": "$create_p99"},
  "server_rss_mb": $((rss_kb / 1024)),
  "server_peak_rss_mb": $((hwm_kb / 1024))
}
JSON
say ""
say "wrote $out"
