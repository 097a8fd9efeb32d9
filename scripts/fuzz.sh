#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ under AddressSanitizer and UBSan: builds them in build-fuzz/
# with clang-14, replays every saved regression, then fuzzes each target for SECONDS from its seeds.
# Fails on any crash, leak, undefined behaviour, hang, out-of-memory or broken invariant.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target, 600 unless given; all targets unless named
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(packet yaml command netlink)
dir=build-fuzz

bash scripts/deps.sh
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Db_lto=false --buildtype=debugoptimized >/dev/null
fi
# Only the fuzz targets and the libraries under them; two jobs at most, on a shared 2-core box.
flock "$dir/.build.lock" ninja -C "$dir" -j "${FUZZ_JOBS:-2}" $(printf 'tests/fuzz/%s_fuzz ' "${targets[@]}")

# Every report is fatal (the build already has -fno-sanitize-recover), with a stack, symbolised.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if [ -x /usr/bin/llvm-symbolizer-14 ]; then export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14; fi

# Larger inputs where a case needs them: several full-size frames, a whole config.
declare -A max_len=([packet]=8192 [yaml]=8192 [command]=2048 [netlink]=4096)

# A crash skips EAL's cleanup: the runtime directories (--file-prefix=vrouterd-PID) of fuzzers
# that are gone are removed after each run, and so are the command target's socket and config.
run() {
  local log=$1 rc=0
  shift
  timeout --kill-after=30 $((seconds + 300)) "$@" >"$log" 2>&1 || rc=$?
  for d in /var/run/dpdk/vrouterd-*; do
    local pid=${d##*-}
    if [ -d "$d" ] && ! kill -0 "$pid" 2>/dev/null; then
      rm -rf "$d" "/tmp/vr-command-fuzz-$pid".*
    fi
  done
  return "$rc"
}

failed=0
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
  log="$dir/artifacts/$t/fuzz.log"
  shopt -s nullglob
  regressions=(tests/fuzz/regressions/"$t"/*)
  shopt -u nullglob
  if [ ${#regressions[@]} -gt 0 ] && ! run "$log" "$dir/tests/fuzz/${t}_fuzz" "${regressions[@]}"; then
    echo "fuzz $t: a saved regression fails again:"
    grep -v '^INFO' "$log" | tail -40
    failed=1
    continue
  fi
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  # New inputs go to build-fuzz/corpus/; the seeds under tests/fuzz/corpus/ are only read. The
  # outer timeout (in run) is a safety net for a report that never finishes printing.
  if ! run "$log" "$dir/tests/fuzz/${t}_fuzz" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}" \
      "${dict[@]}" -artifact_prefix="$dir/artifacts/$t/" -print_final_stats=1; then
    echo "fuzz $t: FAILED after $(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#') runs:"
    grep -v '^INFO' "$log" | grep -v '^#[0-9]' | tail -60
    echo "fuzz $t: the input is in $dir/artifacts/$t/; minimise it with"
    echo "  $dir/tests/fuzz/${t}_fuzz -minimize_crash=1 -runs=20000 ARTIFACT"
    echo "and keep the result in tests/fuzz/regressions/$t/ once fixed."
    failed=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "fuzz $t: ok, $runs runs in ${seconds} s ($((runs / seconds)) per second), $cov," \
       "${#regressions[@]} regressions replayed"
done
exit "$failed"
