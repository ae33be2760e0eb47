"""A single-node Slurm cluster on localhost, for the cluster tests: Debian's slurmctld, slurmd and
munged, each started in the foreground as a child of this process (so each is stopped by its own
pid), with its key, sockets, state and logs under one folder.

The configuration is also written to /etc/slurm/slurm.conf, where Slurm's commands look for it
(and removed again at the end): snakemake-executor-plugin-slurm-jobstep clears every SLURM_*
variable but the job's ids before it calls `srun` inside a job, SLURM_CONF included, so a
configuration anywhere else is not found there. A slurm.conf this module did not write (a
machine that is part of a real cluster) is never touched: the cluster does not start.

    with LocalSlurm(tmp_path / "slurm") as cluster:
        subprocess.run(["sinfo"], env=cluster.env)

Run as a script to keep a cluster up by hand (Ctrl-C stops every daemon it started):

    python -m tests.cluster.slurm_cluster /tmp/slurm-try
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sinfo", "squeue", "sbatch", "srun", "scancel", "scontrol")
PARTITION = "reprisma"
CPUS = 2
MEMORY_MARGIN_MB = 1024  # kept back from the node's memory for the system and the daemons
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# Written by tests/cluster/slurm_cluster.py"
# seconds each step of a test session took (install, daemons, each Snakemake run): the cluster
# tests' conftest prints them in pytest's summary
TIMINGS: dict[str, float] = {}


class SlurmError(RuntimeError):
    pass


def find(cmd: str) -> str | None:
    return shutil.which(cmd) or next((p for p in (f"/usr/sbin/{cmd}", f"/usr/bin/{cmd}") if os.access(p, os.X_OK)), None)


def missing_commands() -> list[str]:
    return [cmd for cmd in DAEMONS + CLIENTS if find(cmd) is None]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_memory_mb() -> int:
    """The node's RealMemory: MemTotal from /proc/meminfo, in MB, less a margin (slurmd drains a
    node that claims more memory than it has)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            total_mb = int(line.split()[1]) // 1024
            return max(512, total_mb - MEMORY_MARGIN_MB)
    raise SlurmError("/proc/meminfo has no MemTotal line")


def slurm_conf(root: Path, node: str, ctld_port: int, slurmd_port: int, memory_mb: int) -> str:
    return f"""\
{MARKER}: one node on localhost, no accounting database, no cgroups
# (linuxproc process tracking, task/none: no cgroup.conf is read), everything under {root}
ClusterName=reprisma-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# finished jobs stay visible to squeue for 10 minutes: snakemake-executor-plugin-slurm reads
# their state there (--slurm-status-command squeue), as there is no slurmdbd for sacct
MinJobAge=600
ReturnToService=2
SlurmdParameters=config_overrides
MailProg=/bin/true
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName={node} NodeAddr=127.0.0.1 CPUs={CPUS} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


class LocalSlurm:
    """munged, slurmctld and slurmd for one node named after this machine, on loopback ports.
    `env` is the environment clients (sinfo, sbatch, snakemake --executor slurm) need."""

    def __init__(self, root: Path, start_timeout: float = 60.0):
        self.root = Path(root)
        self.start_timeout = start_timeout
        self.node = socket.gethostname().split(".")[0]
        self.procs: dict[str, subprocess.Popen] = {}
        self.conf_text: str | None = None
        # clients read /etc/slurm/slurm.conf; nothing of an outer allocation or configuration leaks in
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_"))}

    # -- configuration -------------------------------------------------------------------------

    def write_config(self) -> None:
        for sub in ("munge", "state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        os.chmod(self.root / "munge", 0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        if SYSTEM_CONF.exists() and not SYSTEM_CONF.read_text(errors="replace").startswith(MARKER):
            raise SlurmError(f"{SYSTEM_CONF} exists and was not written by this test (a real cluster's node?); "
                             "not touching it")
        conf = slurm_conf(self.root, self.node, free_port(), free_port(), node_memory_mb())
        (self.root / "slurm.conf").write_text(conf)
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        tmp = SYSTEM_CONF.with_name(f".slurm.conf.{os.getpid()}")
        tmp.write_text(conf)
        os.chmod(tmp, 0o644)
        os.replace(tmp, SYSTEM_CONF)
        self.conf_text = conf

    def remove_config(self) -> None:
        """Remove /etc/slurm/slurm.conf if it is still the one this cluster wrote."""
        if self.conf_text is not None and SYSTEM_CONF.exists() and SYSTEM_CONF.read_text(errors="replace") == self.conf_text:
            SYSTEM_CONF.unlink()
        self.conf_text = None

    # -- daemons -------------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.root / "log" / f"{name}.out", "ab")
        # a session of its own: stop() signals the daemon's process group (slurmd's job steps too)
        self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env, start_new_session=True)
        log.close()

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SlurmError(f"{name} exited ({proc.returncode}) while the cluster started:\n{self.logs()}")

    def _wait(self, what: str, ready) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if ready():
                return
            time.sleep(0.2)
        raise SlurmError(f"timed out after {self.start_timeout:.0f} s waiting for {what}:\n{self.logs()}")

    def client(self, *argv: str, check: bool = False, timeout: float = 30) -> subprocess.CompletedProcess:
        out = subprocess.run([find(argv[0]) or argv[0], *argv[1:]], env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        if check and out.returncode != 0:
            raise SlurmError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
        return out

    def node_state(self) -> str:
        out = self.client("sinfo", "--noheader", "--nodes", self.node, "--format=%T")
        return out.stdout.strip() if out.returncode == 0 else ""

    def start(self) -> "LocalSlurm":
        missing = missing_commands()
        if missing:
            raise SlurmError(f"missing Slurm/munge commands: {', '.join(missing)} (scripts/install_slurm.sh installs them)")
        self.write_config()
        sock = self.root / "munge" / "munge.socket"
        self._spawn("munged", [find("munged"), "--foreground", "--force", f"--socket={sock}",
                               f"--key-file={self.root / 'munge' / 'munge.key'}",
                               f"--pid-file={self.root / 'munge' / 'munged.pid'}",
                               f"--seed-file={self.root / 'munge' / 'munged.seed'}",
                               f"--log-file={self.root / 'log' / 'munged.log'}"])
        self._wait("munged's socket", sock.exists)
        conf = str(SYSTEM_CONF)
        self._spawn("slurmctld", [find("slurmctld"), "-D", "-i", "-f", conf])
        self._wait("slurmctld", lambda: "UP" in self.client("scontrol", "ping").stdout)
        self._spawn("slurmd", [find("slurmd"), "-D", "-N", self.node, "-f", conf])
        self._wait(f"node {self.node} idle in sinfo", lambda: self.node_state() == "idle")
        return self

    def job_durations(self) -> dict[str, float]:
        """Seconds from allocation to completion of each job, from slurmctld's log."""
        from datetime import datetime

        started, took = {}, {}
        log = self.root / "log" / "slurmctld.log"
        for line in (log.read_text(errors="replace").splitlines() if log.exists() else []):
            m = re.match(r"\[([^\]]+)\] (?:sched: Allocate JobId=(\d+)|_job_complete: JobId=(\d+) WEXITSTATUS)", line)
            if m:
                when = datetime.fromisoformat(m.group(1))
                if m.group(2):
                    started[m.group(2)] = when
                elif m.group(3) in started:
                    took[m.group(3)] = (when - started[m.group(3)]).total_seconds()
        return took

    def logs(self, tail: int = 40) -> str:
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            lines = path.read_text(errors="replace").splitlines()[-tail:]
            parts.append(f"--- {path.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel what is still queued or running and wait (15 s at most) until it has ended, then
        stop slurmd, slurmctld and munged (in that order), each by its own pid and process group:
        TERM, and KILL after 15 s; last, remove /etc/slurm/slurm.conf."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            try:
                self.client("scancel", "--full", "--partition", PARTITION, timeout=15)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and self.client(
                        "squeue", "--noheader", "--states=PENDING,RUNNING,COMPLETING,SUSPENDED", timeout=15).stdout.strip():
                    time.sleep(0.5)
            except (subprocess.TimeoutExpired, OSError):
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait(timeout=15)
        self.remove_config()

    def running(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is None]

    def __enter__(self) -> "LocalSlurm":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group's id is the daemon's pid
    except ProcessLookupError:
        pass


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "/tmp/reprisma-slurm").resolve()
    started = time.monotonic()
    with LocalSlurm(root) as cluster:
        print(f"cluster up in {time.monotonic() - started:.1f} s (node {cluster.node}, {SYSTEM_CONF}); Ctrl-C stops it",
              flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
