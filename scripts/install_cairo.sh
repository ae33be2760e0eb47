#!/usr/bin/env bash
# Install Debian's cairo library and the DejaVu fonts for the report's prisma.png / prisma.pdf
# (CairoSVG, a pinned Python dependency, draws with libcairo; DejaVu Sans stands in for Helvetica,
# so every Debian machine draws the same glyphs), if they are not there yet.
set -euo pipefail
have_cairo() { ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2'; }
have_fonts() { [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; }
if have_cairo && have_fonts; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "reprisma: libcairo2 or fonts-dejavu-core is missing; install them with: sudo apt-get install libcairo2 fonts-dejavu-core" >&2
  echo "reprisma: (without libcairo2 the report stage cannot write prisma.png and prisma.pdf)" >&2
  exit 0
fi
echo "reprisma: installing Debian's libcairo2 and fonts-dejavu-core for prisma.png / prisma.pdf" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libcairo2 fonts-dejavu-core >/dev/null
