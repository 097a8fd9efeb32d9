// vrouterd: loads and validates the config before touching any port, brings the router up,
// drops the capabilities the run time does not need, then runs until SIGINT or SIGTERM.
// Exit status: 0 after a clean stop, 1 on a bad config or a failed start.
#include <gflags/gflags.h>
#include <rte_eal.h>

#include <atomic>
#include <bit>
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "control/privileges.h"
#include "control/router.h"
#include "drivers/log.h"

DEFINE_string(config, "/etc/vrouter/vrouter.yaml", "YAML configuration file");
DEFINE_string(control_socket, "", "control socket path (overrides control.socket in the config)");
DEFINE_string(eal_args, "", "extra DPDK EAL arguments, space separated");
DEFINE_bool(no_huge, false, "run without hugepages even when some are free");
DEFINE_bool(check, false, "validate the config and exit");
DEFINE_string(metrics_listen, "",
              "HOST:PORT for Prometheus /metrics (overrides metrics.listen; 'off' disables)");
DEFINE_bool(keep_capabilities, false,
            "keep every capability after start-up (debugging only: e.g. a NIC's driver that "
            "needs more at run time than README.md's 'Operating securely' lists)");

namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void OnSignal(int) { g_stop.store(true); }
void OnHangup(int) { g_reload.store(true); }

// Start-up is over (EAL, ports, knet, netlink, control socket and metrics are up): what is
// left to do needs only RunTimeCapabilities. No capability means nothing to drop, not an error.
absl::Status DropCapabilities() {
  if (FLAGS_keep_capabilities) {
    VR_LOG_WARNING("capabilities: all kept (--keep_capabilities)");
    return absl::OkStatus();
  }
  bool physical = rte_eal_iova_mode() == RTE_IOVA_PA;
  vr::control::CapabilitySet keep = vr::control::RunTimeCapabilities(physical);
  auto drop = vr::control::DropCapabilities(keep);
  if (!drop.ok()) {
    return absl::Status(
        drop.status().code(),
        absl::StrCat("cannot drop capabilities after start-up: ", drop.status().message()));
  }
  if (physical) {
    VR_LOG_WARNING(
        "capabilities: keeping CAP_SYS_ADMIN: DPDK uses physical addresses (no IOMMU) and reads "
        "them from /proc/self/pagemap for the memory it maps at run time; bind the NICs to "
        "vfio-pci with an IOMMU to drop it");
  }
  if (drop->dropped == 0 && !drop->bounding) {
    VR_LOG_NOTICE("capabilities: none to drop (not running as root); no_new_privs set");
  } else {
    VR_LOG_NOTICE("capabilities: kept %s, dropped %d%s, on %zu threads; no_new_privs set",
                  vr::control::CapabilityNames(drop->kept), std::popcount(drop->dropped),
                  drop->bounding ? " (bounding set too)" : "", drop->threads);
  }
  if (vr::control::CapabilitySet missing = keep & ~drop->kept; missing != 0) {
    VR_LOG_WARNING(
        "capabilities: running without %s: ports added by reload and changes to knet0 "
        "may fail",
        vr::control::CapabilityNames(missing));
  }
  return absl::OkStatus();
}
}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("userspace IPv4 router on DPDK; see README.md");
  gflags::ParseCommandLineFlags(&argc, &argv, true);

  auto cfg = vr::config::LoadConfigFile(FLAGS_config);
  if (!cfg.ok()) {
    fprintf(stderr, "vrouterd: %s\n", std::string(cfg.status().message()).c_str());
    return 1;
  }
  if (FLAGS_check) {
    printf("%s: ok\n", FLAGS_config.c_str());
    return 0;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGHUP, OnHangup);
  std::signal(SIGPIPE, SIG_IGN);

  vr::control::RouterOptions opts;
  opts.config_path = FLAGS_config;
  opts.control_socket = FLAGS_control_socket;
  if (!FLAGS_metrics_listen.empty()) opts.metrics_listen = FLAGS_metrics_listen;
  opts.eal_args = FLAGS_eal_args;
  opts.no_huge = FLAGS_no_huge;
  auto router = vr::control::Router::Create(*cfg, opts);
  if (!router.ok()) {
    fprintf(stderr, "vrouterd: %s\n", std::string(router.status().message()).c_str());
    return 1;
  }
  absl::Status s = (*router)->Run(g_stop, &g_reload, DropCapabilities);
  router->reset();
  if (!s.ok()) {
    fprintf(stderr, "vrouterd: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
