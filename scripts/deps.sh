#!/bin/sh
# deps.sh PROFILE...: install the Debian packages a make target needs, if any
# are missing, and say what is being installed. Profiles: build, test,
# bench, fuzz.
# Runs apt-get as root (directly, or through sudo when available).
set -eu

want=""
for profile in "$@"; do
  case "$profile" in
    build) want="$want gcc make cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev libxxhash-dev" ;;
    test)  want="$want curl ca-certificates sqlite3 chromium" ;;
    bench) want="$want nginx-light wrk curl" ;;
    fuzz)  want="$want clang libclang-rt-14-dev" ;;
    *) echo "deps.sh: unknown profile '$profile'" >&2; exit 2 ;;
  esac
done

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Tests and code generation need Node.js 18 or later and npm; any recent
# install will do, Debian's included.
for profile in "$@"; do
  if [ "$profile" = test ]; then
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
  fi
done

[ -z "$missing" ] && exit 0
echo "Installing missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "deps.sh: need root to install:$missing" >&2
  echo "Run: apt-get install$missing   (as root), then try again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
