#!/usr/bin/env bash
# Installs the Debian packages osprof needs that are missing; silent when all are present.
#   tools/install-deps.sh          build dependencies (tools/packages/build.txt)
#   tools/install-deps.sh --test   plus what the tests need (tools/packages/test.txt)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lists=("$here/packages/build.txt")
[[ "${1:-}" == "--test" ]] && lists+=("$here/packages/test.txt")

missing=()
for list in "${lists[@]}"; do
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done < "$list"
done
((${#missing[@]} == 0)) && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Try without refreshing the index first: it is quicker and works on a fresh machine image.
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/osprof-apt.log 2>&1; then
  $sudo apt-get update -qq >>/tmp/osprof-apt.log 2>&1
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/osprof-apt.log 2>&1 || {
    cat /tmp/osprof-apt.log >&2
    exit 1
  }
fi
