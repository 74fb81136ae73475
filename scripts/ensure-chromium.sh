#!/usr/bin/env bash
# The console's browser test drives Debian's Chromium with playwright-core (which ships no browser,
# and `npx playwright install` cannot download one here). Install it from Debian's packages when
# the machine has none; CASTFLOW_CHROMIUM points at another Chromium/Chrome binary.
set -euo pipefail
chromium_path="${CASTFLOW_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium_path" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "castflow: Chromium is required for the console's browser test. Install it (e.g. apt-get install chromium)" >&2
  echo "  or set CASTFLOW_CHROMIUM to a Chromium/Chrome binary." >&2
  exit 1
fi
echo "castflow: installing Chromium for the console's browser test (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$chromium_path" --version >&2
