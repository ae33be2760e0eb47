#!/usr/bin/env bash
# Install Debian's Slurm (slurmctld, slurmd, sinfo, sbatch, ...) and munge for the cluster test
# (tests/cluster: a single-node cluster on localhost, replay and live capture with --executor slurm),
# if they are not there yet. Installing starts no daemon that the test depends on: the test writes
# its own slurm.conf and munge key under a temporary folder and starts (and stops) its own daemons.
set -euo pipefail
have() { for cmd in slurmctld slurmd sinfo sbatch munged; do command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || return 1; done; }
if have; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "reprisma: Slurm or munge is missing; install them with: sudo apt-get install slurm-wlm munge" >&2
  echo "reprisma: (the cluster tests are skipped without them)" >&2
  exit 0
fi
echo "reprisma: installing Debian's slurm-wlm and munge for the cluster tests" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's packages start their daemons on install where an init system runs; policy-rc.d keeps
# them stopped (the test runs its own, with its own configuration), and is removed afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; own_policy=1; fi
trap 'if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
