#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for trying the slurm profile and
# for the project's cluster test. Needs root and Debian (apt); no systemd required.
#
#   workflow/cluster/local-slurm.sh start   install if needed, configure, start, wait idle
#   workflow/cluster/local-slurm.sh stop    cancel jobs, stop the daemons
#
# Accounting is off (no slurmdbd): Snakemake's slurm plugin must then query job
# status with squeue (the slurm profile sets it) and slurm.conf keeps finished jobs
# visible to squeue for MinJobAge seconds, which must stay >= 3 x the plugin's
# first status-check delay or the plugin silently goes back to sacct and hangs.
set -euo pipefail

PARTITION=${SLURM_PARTITION:-debug}
CONF=/etc/slurm/slurm.conf
NODE=$(hostname -s)
say() { echo "[local-slurm] $*"; }

install_packages() {
  local missing=0
  for bin in slurmctld slurmd sinfo munged; do command -v "$bin" >/dev/null || missing=1; done
  [ "$missing" = 0 ] && return
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --force 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.1; done
    echo "munged did not start" >&2; exit 1
  fi
}

write_config() {
  # CPUs and memory as slurmd detects them; memory a little lower so the node is
  # never drained for "Low RealMemory".
  local detected cpus mem
  detected=$(slurmd -C | head -1)
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$detected")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$detected")
  install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/log/slurm
  install -d /var/lib/slurm/slurmd /etc/slurm
  cat >"$CONF.new" <<CONF
# written by scratchnet's workflow/cluster/local-slurm.sh
ClusterName=scratchnet
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=300
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=$((mem * 9 / 10)) State=UNKNOWN
PartitionName=${PARTITION} Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
CONF
  if cmp -s "$CONF.new" "$CONF"; then rm "$CONF.new"; return 1; fi
  mv "$CONF.new" "$CONF"
  say "wrote $CONF ($cpus CPUs, partition $PARTITION)"
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_daemon() {
  local pidfile=$1 pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$pidfile"
}

wait_idle() {
  local state=""
  for _ in $(seq 120); do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case "$state" in
      idle | mixed | allocated) say "node $NODE is $state"; return ;;
      down* | drain*) scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  echo "node $NODE not ready (state '$state'); see /var/log/slurm/" >&2
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

start() {
  [ "$(id -u)" = 0 ] || { echo "local-slurm.sh start needs root" >&2; exit 1; }
  install_packages
  start_munge
  if write_config && alive /run/slurmctld.pid; then
    say "configuration changed: restarting"
    stop_daemon /run/slurmd.pid
    stop_daemon /run/slurmctld.pid
  fi
  alive /run/slurmctld.pid || slurmctld
  alive /run/slurmd.pid || slurmd
  wait_idle
}

stop() {
  if alive /run/slurmctld.pid; then timeout 10 scancel --user="$(id -un)" 2>/dev/null || true; fi
  stop_daemon /run/slurmd.pid
  stop_daemon /run/slurmctld.pid
  stop_daemon /run/munge/munged.pid
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
