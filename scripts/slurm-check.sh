#!/usr/bin/env bash
# Scale-out on a real Slurm: installs Debian's slurm-wlm and munge, starts a one-node cluster inside this
# script (munged, slurmctld and slurmd as root, a throwaway config in a temporary folder), submits the
# README's --shard job array (4 tasks) over 2,000 digit PNGs, merges the parts, compares them with the
# unsharded run, and stops the cluster. Needs data/mnist and a digit model (both made here if missing).
# Usage: scripts/slurm-check.sh [DLPIPE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=$(realpath "${1:-.build/release/dlpipe}")
missing=()
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -f data/mnist/.done ] || DLPIPE=$bin DLPIPE_PREBUILT=1 ./scripts/fetch-data.sh mnist
[ -f models/digits.safetensors ] || "$bin" run pipelines/digits-train.conf --set vision.train.epochs=2 --set vision.train.min_test_accuracy=0 -q

work=$(mktemp -d /tmp/dlpipe-slurm.XXXXXX)
host=$(hostname -s)
mkdir -p "$work"/{state,spool,log,munge,inputs,out}
cleanup() {
  scancel --quiet --user=root 2>/dev/null || true
  for p in slurmd slurmctld munged; do [ -f "$work/$p.pid" ] && kill "$(cat "$work/$p.pid")" 2>/dev/null || true; done
  sleep 1
}
trap cleanup EXIT

# munge: a fresh key, its own socket and folders.
mungekey --create --keyfile="$work/munge/munge.key" --force
chmod 600 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/seed"

cpus=$(nproc)
memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
cat > "$work/slurm.conf" <<CONF
ClusterName=dlpipe-check
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 100); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.2
done
sinfo

# 2,000 digit PNGs: the 1,000 held-out ones and 1,000 training ones, in their label folders.
for split in test train; do
  for d in data/mnist/$split/*/; do
    label=$(basename "$d")
    mkdir -p "$work/inputs/$label"
    ls "$d" | head -n 100 | while read -r f; do cp "$d/$f" "$work/inputs/$label/$split-$f"; done
  done
done
echo "inputs: $(find "$work/inputs" -name '*.png' | wc -l) PNGs"

# The README's job array, as a batch script.
cat > "$work/classify.sbatch" <<JOB
#!/bin/bash
#SBATCH --array=0-3
#SBATCH --output=$work/log/task-%a.out
cd $repo
$bin run pipelines/digits-classify.conf --shard \$SLURM_ARRAY_TASK_ID/4 --set read.png.path=$work/inputs --set write.csv.path=$work/out/part-\$SLURM_ARRAY_TASK_ID.csv -q
JOB
started=$SECONDS
sbatch --wait "$work/classify.sbatch"
echo "job array done in $((SECONDS - started)) s"
for k in 0 1 2 3; do echo "part $k: $(($(wc -l < "$work/out/part-$k.csv") - 1)) rows"; done

"$bin" run pipelines/digits-classify.conf --set read.png.path="$work/inputs" --set write.csv.path="$work/out/all.csv" -q
head -n 1 "$work/out/all.csv" > "$work/out/merged.csv"
for k in 0 1 2 3; do tail -n +2 "$work/out/part-$k.csv"; done | sort >> "$work/out/merged.csv"
{ head -n 1 "$work/out/all.csv"; tail -n +2 "$work/out/all.csv" | sort; } > "$work/out/all-sorted.csv"
if cmp -s "$work/out/merged.csv" "$work/out/all-sorted.csv"; then
  echo "slurm-check: the 4 shards together equal the unsharded run ($(($(wc -l < "$work/out/all.csv") - 1)) rows, none twice)"
else
  diff "$work/out/merged.csv" "$work/out/all-sorted.csv" | head
  echo "slurm-check: the shards differ from the unsharded run" >&2
  exit 1
fi
