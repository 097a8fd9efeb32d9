// Builds the EAL argument list: the core list, --in-memory so that two routers on one machine
// never share runtime files, vdevs and PCI allow-lists from the ports, and --no-huge as fallback.
#include "drivers/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "drivers/log.h"

namespace vr::drivers {

uint64_t FreeHugepages() {
  std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  uint64_t n = 0;
  if (f) f >> n;
  return n;
}

std::string DeviceName(const std::string& devargs) {
  return devargs.substr(0, devargs.find(','));
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

std::string LcoreMap(uint32_t workers, const std::vector<int>& cpus) {
  std::vector<std::string> parts;
  for (uint32_t l = 0; l <= workers; ++l) {
    parts.push_back(absl::StrCat(l, "@", cpus[l % cpus.size()]));
  }
  return absl::StrJoin(parts, ",");
}

bool IsVdev(const std::string& devargs) { return devargs.rfind("net_", 0) == 0 || devargs.rfind("eth_", 0) == 0; }

absl::StatusOr<std::unique_ptr<Eal>> Eal::Init(const EalOptions& opts) {
  auto eal = std::unique_ptr<Eal>(new Eal());
  auto& a = eal->args_;
  // Lcore 0 (control) and workers 1..N on the CPUs this process may use, in order. With more
  // lcores than CPUs they wrap round and share: slower, but the router still runs, as a
  // 2-CPU test machine needs for multi-worker RSS. `-l 0-N` would refuse to start instead.
  std::vector<int> cpus = AllowedCpus();
  if (opts.workers + 1 > cpus.size()) {
    VR_LOG_WARNING("%u workers and the control lcore on %zu CPUs: lcores share CPUs, so "
                   "workers poll at a fraction of their speed",
                   opts.workers, cpus.size());
  }
  a = {"vrouterd", "--lcores", LcoreMap(opts.workers, cpus), "--no-telemetry",
       "--log-level=*:notice"};
  bool pci = false;
  for (const auto& dev : opts.devices) {
    if (IsVdev(dev)) {
      a.push_back("--vdev");
    } else {
      a.push_back("-a");
      pci = true;
    }
    a.push_back(dev);
  }
  if (!pci) {
    a.push_back("--no-pci");
    // Virtual devices use no physical addresses (they copy in software). Without an IOMMU EAL
    // would pick them (IOVA as PA) and then read /proc/self/pagemap for every hugepage it maps
    // at run time, which shows them only to CAP_SYS_ADMIN: vrouterd could not drop that.
    a.push_back("--iova-mode=va");
  }
  // The nbuf pool, the two FIBs and the rings need roughly 380 MB; below that, fall back rather
  // than fail.
  constexpr uint64_t kNeededPages = 200;
  if (opts.force_no_huge || FreeHugepages() < kNeededPages) {
    if (!opts.force_no_huge) {
      VR_LOG_WARNING("only %u free 2 MB hugepages (want %u): running with --no-huge, which is "
                     "slower and cannot drive PCI devices; run `make hugepages` to fix",
                     FreeHugepages(), kNeededPages);
    }
    a.push_back("--no-huge");
    a.push_back("-m");
    a.push_back(absl::StrCat(opts.memory_mb));
    // EAL refuses --in-memory with --no-huge; a per-process prefix keeps instances apart and
    // the destructor removes its runtime directory.
    a.push_back(absl::StrCat("--file-prefix=vrouterd-", getpid()));
    eal->hugepages_ = false;
  } else {
    // --in-memory: no hugepage files and no shared runtime files, so two routers never collide
    // and a crash leaves nothing behind.
    a.push_back("--in-memory");
  }
  for (auto part : absl::StrSplit(opts.extra_args, ' ', absl::SkipEmpty())) a.emplace_back(part);

  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  int rc = rte_eal_init(argv.size(), argv.data());
  if (rc < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("DPDK EAL initialisation failed: ", rte_strerror(rte_errno),
                     " (args: ", absl::StrJoin(a, " "), ")"));
  }
  eal->runtime_dir_ = rte_eal_get_runtime_dir();
  return eal;
}

Eal::~Eal() {
  rte_eal_cleanup();
  if (!hugepages_ && !runtime_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(runtime_dir_, ignored);
  }
}

}  // namespace vr::drivers
