#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for CI and for trying --executor slurm (Debian 12's
# Slurm 22.05 and munge; no systemd; run as root).
#   scripts/slurm-local.sh up     install what is missing, configure, start munged, slurmctld and
#                                 slurmd, wait until the node takes jobs (≤ 90 s); prints
#                                 "started" when it started the controller, "running" when it
#                                 already ran
#   scripts/slurm-local.sh down   cancel every job, stop the three daemons by their PID files
set -euo pipefail
HOST=$(hostname -s)
MUNGE_PID=/run/munge/munged.pid
is_alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null; }
# the PID in file $2 when a live process named $1 holds it
pid_from() {
  local p
  p=$(cat "$2" 2>/dev/null) || return 1
  [ -n "$p" ] && is_alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
}

if [ "${1:-up}" = down ]; then
  if pid_from slurmctld /run/slurmctld.pid >/dev/null; then
    # cancel first: job steps outlive slurmd otherwise
    squeue -h -o %i | xargs -r scancel || true
    for _ in $(seq 1 30); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 1; done
  fi
  for entry in slurmd:/run/slurmd.pid slurmctld:/run/slurmctld.pid munged:$MUNGE_PID; do
    name=${entry%%:*} file=${entry#*:}
    if p=$(pid_from "$name" "$file"); then
      kill -TERM "$p"
      for _ in $(seq 1 50); do is_alive "$p" || break; sleep 0.2; done
      is_alive "$p" && kill -KILL "$p"
    fi
    rm -f "$file"
  done
  echo "slurm stopped"
  exit 0
fi

if ! { [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/bin/sbatch ] && [ -x /usr/sbin/munged ]; }; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi
KEY=/etc/munge/munge.key
if [ ! -s $KEY ]; then mungekey -c -f -k $KEY; chown munge:munge $KEY; chmod 0400 $KEY; fi
install -d -o munge -g munge -m 0755 /run/munge
pid_from munged $MUNGE_PID >/dev/null || runuser -u munge -- /usr/sbin/munged --force
munge -n </dev/null | unmunge >/dev/null || { echo "slurm-local: munge does not work" >&2; exit 1; }
install -d /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
MEM=$(awk '/MemTotal/{printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
# kill_invalid_depend: a job whose parent failed is cancelled instead of pending forever;
# EnforcePartLimits=ALL: a request the node cannot meet fails at submission.
cat > /etc/slurm/slurm.conf.new <<CONF
ClusterName=ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
EnforcePartLimits=ALL
DependencyParameters=kill_invalid_depend
KillWait=5
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$MEM
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
if cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; then
  rm /etc/slurm/slurm.conf.new
else
  mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
  if pid_from slurmctld /run/slurmctld.pid >/dev/null; then scontrol reconfigure; fi
fi
STATE=running
if ! pid_from slurmctld /run/slurmctld.pid >/dev/null; then /usr/sbin/slurmctld; STATE=started; fi
pid_from slurmd /run/slurmd.pid >/dev/null || /usr/sbin/slurmd
END=$((SECONDS + 90))
while [ $SECONDS -lt $END ]; do
  S=$(timeout 10 sinfo -h -N -o '%N %t' 2>/dev/null | awk -v h="$HOST" '$1 == h {print $2}') || S=
  case "$S" in
    idle | mix | alloc | comp) echo "$STATE: $(sinfo -h -o '%P %t CPUs(A/I/O/T)=%C')"; exit 0 ;;
    drain | drng | down) scontrol update NodeName="$HOST" State=RESUME || true ;;
  esac
  sleep 1
done
echo "slurm-local: the node did not come up in 90 s" >&2
tail -n 20 /var/log/slurm/slurm*.log >&2
exit 1
