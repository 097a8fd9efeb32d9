#!/usr/bin/env bash
# Installs the Debian packages vrouter needs, and only those that are missing.
# Libraries are probed with pkg-config, tools with command -v; apt-get runs only when something lacks.
set -euo pipefail

declare -A pc_pkgs=(
  [libdpdk]=libdpdk-dev [libnl-3.0]=libnl-3-dev [libnl-route-3.0]=libnl-route-3-dev
  [absl_status]=libabsl-dev [gflags]=libgflags-dev [yaml-cpp]=libyaml-cpp-dev
  [gtest]=libgtest-dev [gmock]=libgmock-dev [benchmark]=libbenchmark-dev
  [prometheus-cpp-pull]=prometheus-cpp-dev
)
declare -A cmd_pkgs=(
  [meson]=meson [ninja]=ninja-build [pkg-config]=pkg-config [dpdk-testpmd]=dpdk-dev
  [ip]=iproute2 [ping]=iputils-ping [nc]=netcat-openbsd [ethtool]=ethtool [flock]=util-linux
  [tcpdump]=tcpdump [g++]=g++ [/usr/bin/python3]=python3 [sysctl]=procps
  [nc.openbsd]=netcat-openbsd   # scripts/demo.sh needs this flavour's -N, whatever `nc` points to
  [curl]=curl                   # scripts/demo.sh shows the metrics endpoint with it
  # tests/integration/test_metrics.py runs a real Prometheus server and promtool. Installing the
  # package enables a prometheus.service on systemd machines; the tests never use it (theirs
  # listens inside the router's namespace).
  [/usr/bin/prometheus]=prometheus [/usr/bin/promtool]=prometheus
  # tests/integration/test_bird.py peers two BIRDs over BGP through the dataplane. The package
  # enables a bird.service on systemd machines (Debian's config: no peers, no routes); the
  # test runs its own BIRDs, with their own sockets, inside its namespaces.
  [/usr/sbin/bird]=bird2
  [iperf3]=iperf3
  # scripts/fuzz.sh (make test, make fuzz) builds the libFuzzer targets with clang-14.
  [clang++-14]=clang-14 [llvm-symbolizer-14]=llvm-14
)
# Globs: the path holds clang's full version.
declare -A glob_pkgs=(
  [/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a]=libclang-rt-14-dev
)
declare -A file_pkgs=(
  [/usr/lib/python3/dist-packages/scapy/__init__.py]=python3-scapy
  [/usr/lib/python3/dist-packages/yaml/__init__.py]=python3-yaml   # test_metrics.py
  [/usr/share/dpdk/examples/l3fwd/main.c]=dpdk-doc   # make bench builds l3fwd from it
)

missing=()
for pc in "${!pc_pkgs[@]}"; do
  command -v pkg-config >/dev/null && pkg-config --exists "$pc" 2>/dev/null || missing+=("${pc_pkgs[$pc]}")
done
for c in "${!cmd_pkgs[@]}"; do command -v "$c" >/dev/null || missing+=("${cmd_pkgs[$c]}"); done
for f in "${!file_pkgs[@]}"; do [ -e "$f" ] || missing+=("${file_pkgs[$f]}"); done
for g in "${!glob_pkgs[@]}"; do compgen -G "$g" >/dev/null || missing+=("${glob_pkgs[$g]}"); done

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
