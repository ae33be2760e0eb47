#!/usr/bin/env bash
# Install Debian's Chromium for the report's browser test, if it is not there yet.
# Playwright drives this browser (executable_path=/usr/bin/chromium); it never downloads its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "reprisma: /usr/bin/chromium is missing; install it with: sudo apt-get install chromium" >&2
  echo "reprisma: (the browser tests are skipped without it)" >&2
  exit 0
fi
echo "reprisma: installing Debian's chromium for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
