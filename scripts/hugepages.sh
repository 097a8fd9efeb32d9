#!/usr/bin/env bash
# Makes sure at least $1 (default 512) free 2 MB hugepages exist, raising the pool when fewer are free.
# A machine that cannot give them is left as it is: vrouterd then falls back to --no-huge and says so.
set -u
want=${1:-512}
dir=/sys/kernel/mm/hugepages/hugepages-2048kB
[ -d "$dir" ] || { echo "hugepages: no 2 MB hugepage support; vrouterd will run with --no-huge"; exit 0; }
free=$(cat "$dir/free_hugepages"); total=$(cat "$dir/nr_hugepages")
if [ "$free" -lt "$want" ]; then
  echo $((total + want - free)) > "$dir/nr_hugepages" 2>/dev/null || true
  free=$(cat "$dir/free_hugepages")
  echo "hugepages: $free free x 2 MB (wanted $want)"
fi
mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true; }
exit 0
