// vrouterd: loads and validates the config before touching any port, then runs the router until
// SIGINT or SIGTERM. Exit status: 0 after a clean stop, 1 on a bad config or a failed start.
#include <gflags/gflags.h>

#include <csignal>
#include <cstdio>

#include "config/config.h"
#include "control/router.h"

DEFINE_string(config, "/etc/vrouter/vrouter.yaml", "YAML configuration file");
DEFINE_string(control_socket, "", "control socket path (overrides control.socket in the config)");
DEFINE_string(eal_args, "", "extra DPDK EAL arguments, space separated");
DEFINE_bool(no_huge, false, "run without hugepages even when some are free");
DEFINE_bool(check, false, "validate the config and exit");
DEFINE_string(metrics_listen, "",
              "HOST:PORT for Prometheus /metrics (overrides metrics.listen; 'off' disables)");

namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void OnSignal(int) { g_stop.store(true); }
void OnHangup(int) { g_reload.store(true); }
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
  absl::Status s = (*router)->Run(g_stop, &g_reload);
  router->reset();
  if (!s.ok()) {
    fprintf(stderr, "vrouterd: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
