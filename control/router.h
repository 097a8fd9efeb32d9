// The router as the control lcore sees it: brings up EAL, pool, FIB, ports and workers from the
// config, then runs the control loop (OutQ, ARP timers, link state, control socket) until stopped.
#pragma once

#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "control/interface_metrics.h"
#include "control/ndp.h"
#include "control/neighbours.h"
#include "control/nexthops.h"
#include "control/route_mirror.h"
#include "control/router_adverts.h"
#include "control/vifs.h"
#include "dataplane/fib.h"
#include "dataplane/fib6.h"
#include "dataplane/nbuf_pool.h"
#include "dataplane/worker.h"
#include "dataplane/xq_ring.h"
#include "drivers/eal.h"
#include "drivers/port.h"
#include "knet/knet.h"

namespace vr::control {

class ControlSocket;
class MetricsServer;

// A usage error: the reply's status is '2' (kReplyUsage) and vrouterctl shows the grammar.
absl::Status UsageError(std::string_view message);

struct RouterOptions {
  std::string config_path;     // what `reload` and SIGHUP read again
  std::string control_socket;  // overrides the config when set
  std::optional<std::string> metrics_listen;  // overrides metrics.listen when set
  std::string eal_args;
  bool no_huge = false;
};

// A route as control knows it (the FIB holds only prefixes and next-hop indexes).
struct RouteEntry {
  config::Ip4Prefix prefix;
  std::string type;  // connected, local, broadcast, forward, blackhole, unreachable
  uint32_t via = 0;  // host order; forward only
  int vif = -1;      // egress vif id, or -1
  uint32_t nh = 0;
};

struct Route6Entry {
  config::Ip6Prefix prefix;
  std::string type;  // connected, local, forward, blackhole, unreachable
  config::Ip6Addr via;
  int vif = -1;
  uint32_t nh = 0;
};

class Router {
 public:
  static absl::StatusOr<std::unique_ptr<Router>> Create(const config::Config& cfg,
                                                        const RouterOptions& opts);
  ~Router();

  // Starts ports and workers, calls `started` (vrouterd drops its capabilities there: start-up
  // is over), then serves until `stop` is set; reloads the config file whenever `reload` is set
  // (SIGHUP), clearing it. Returns when all have stopped; `started`'s error stops at once.
  absl::Status Run(const std::atomic<bool>& stop, std::atomic<bool>* reload = nullptr,
                   const std::function<absl::Status()>& started = nullptr);

  // Makes `next` the running config, changing only what differs. What needs a restart (the
  // dataplane, the set of ports, a port's device or MAC) is refused and nothing is changed.
  absl::Status Apply(const config::Config& next);
  // Reads the config file again and applies it; a bad file changes nothing.
  absl::Status Reload();

  // Control-socket commands. `args` are the words after the program name; JSON when `json`.
  // Returns the text to print, or an error with the message for the user.
  absl::StatusOr<std::string> Execute(const std::vector<std::string>& args);

 private:
  Router() = default;
  absl::Status Build(const config::Config& cfg, const RouterOptions& opts);
  // Opens and configures a port (not started), records it, and fills its view in `views`.
  absl::StatusOr<uint16_t> OpenPort(const config::PortConfig& pc, dataplane::PortTable* views);
  absl::Status AddPort(const config::PortConfig& pc);  // at run time: probe, open, start, poll
  absl::Status RemovePort(uint16_t id);                 // at run time: unpoll, wait, stop, close
  // A router address on a vif: its subnet (connected), itself (local) and the subnet's broadcast
  // in the FIB. AddConnected records the routes for `route show`; template members' routes are
  // not recorded one by one (they are computed from the template), hence AddConnectedFib.
  absl::Status AddConnected(uint32_t vif, const config::Ip4Prefix& addr);
  absl::StatusOr<uint32_t> AddConnectedFib(uint32_t vif, const config::Ip4Prefix& addr);
  void DeleteConnectedFib(const config::Ip4Prefix& addr);
  // Sub-interfaces (vifs.cc keeps the books; these add and remove their routes too).
  absl::Status AddSubinterface(const config::VifConfig& vc);
  absl::Status RemoveSubinterface(uint32_t id);
  absl::Status AddTemplate(uint32_t group, const config::TemplateConfig& t);
  absl::Status RemoveTemplate(uint32_t first);
  // The vif whose connected subnet holds `ip` (host order), or -1.
  int VifForAddress(uint32_t ip) const;
  // Every template member's routes, as `route show` lists them.
  void ForEachTemplateRoute(const std::function<void(const RouteEntry&)>& fn) const;
  // Template members' IPv6 side, by arithmetic (subinterfaces.cc): their connected subnet and
  // own address (local, with no /128 in the FIB: dataplane::Fib6::AddConnected) for `route
  // show`; the member whose IPv6 subnet holds `ip` (-1: none); whether a prefix is a member's
  // subnet or, longer, holds a member's own address (kernel routes may not take either).
  void ForEachTemplateRoute6(const std::function<void(const Route6Entry&)>& fn) const;
  int MemberForAddress6(const config::Ip6Addr& ip) const;
  bool TemplateHolds6(const config::Ip6Prefix& p) const;
  // A vif's global IPv6 addresses and link-local address, whether a port, a listed vif (vif6_)
  // or a template member (computed); none and :: for an id not in use.
  std::vector<config::Ip6Prefix> Addresses6Of(uint32_t vif) const;
  config::Ip6Addr LinkLocalOf(uint32_t vif) const;
  absl::Status AddRoute(const config::RouteConfig& r);
  uint32_t DrainOutq(dataplane::XqRing& q);
  // Whether any worker used next hop `nh` since the last call, clearing the flags (aging).
  bool TakeUsed(uint32_t nh);
  // ipv6.cc: the IPv6 side of bring-up, after IPv4's: link-local and global addresses of ports
  // and listed vifs, static neighbours and routes, the NDP table.
  absl::Status BuildIpv6(const config::Config& cfg);
  absl::Status SetupVif6(uint32_t vif, const std::vector<config::Ip6Prefix>& addresses,
                         const std::optional<config::Ip6Addr>& link_local);
  absl::Status AddConnected6(uint32_t vif, const config::Ip6Prefix& a);
  absl::Status AddRoute6(const config::Route6Config& r);
  int VifForAddress6(const config::Ip6Addr& ip) const;
  absl::Status RemoveConnected6(uint32_t vif, const config::Ip6Prefix& a);
  absl::Status DeleteRoute6(const config::Ip6Prefix& prefix);
  // Reload: IPv6 routes, static neighbours and addresses changed between config_ and `next`.
  absl::Status ApplyIpv6(const config::Config& next, size_t* changes);
  // Router advertisements (ipv6.cc): what an interface is to them, and which interfaces send
  // them under `next` (those whose addresses or MTU changed advertise again soon).
  RaInterface RaInterfaceOf(uint32_t vif) const;
  void ApplyRouterAdverts(const config::Config& next);
  void RemoveRouterAdverts(const config::Config& next);  // of interfaces `next` has no more
  // Gives the kernel (knet) the router's addresses and the config's routes, as they are now.
  absl::Status SyncKnet();
  // The kernel removed knet's device (`ip link del`): say so once, make it again and give it
  // back its addresses and routes; retried every second while that fails.
  void RecoverKnet(uint64_t now);
  void PollLinks();
  // What the control lcore owes the workers and the kernel, once: OutQ (ARP and NDP frames,
  // packets to resolve or for the kernel), knet, the route mirror, neighbour and advertisement
  // timers. The control loop's body, and what Reload keeps doing while a file is parsed.
  uint32_t ServeDataplane();
  void Synchronize();
  void ToWorker(dataplane::XqAction action, rte_mbuf* m);

  // kernel_routes.cc: what the route mirror reports, resolved and installed.
  struct KernelRouteState {
    KernelRoute route;
    uint32_t nh = 0;
    bool installed = false;    // in the FIB
    bool gateway_ref = false;  // holds a reference on its gateway's neighbour entry
    int gateway_vif = -1;      // IPv6: the vif of the NDP gateway reference it holds
    const char* why = "";      // why it is not installed
  };
  absl::Status OpenRouteMirror();
  void OnKernelRoute(const KernelRoute& r);
  void OnKernelRouteGone(const config::Ip4Prefix& p);
  void OnKernelRouteGone6(const config::Ip6Prefix& p);
  void ReleaseKernelGateway(KernelRouteState& s);
  void InstallKernelRoute(KernelRouteState& s);
  void UninstallKernelRoute(KernelRouteState& s);
  bool ConfigHolds(const config::Ip4Prefix& p) const;
  bool ConfigHolds6(const config::Ip6Prefix& p) const;
  bool ConfigRoute6(const config::Ip6Prefix& p) const;  // routes6_ has it
  // A config route or address took a prefix a kernel route held in the FIB, or let it go.
  void ConfigTakes(const config::Ip4Prefix& p);
  void ConfigReleases(const config::Ip4Prefix& p);
  // Addresses changed: kernel routes whose gateway was outside every subnet get another try.
  void RetryKernelRoutes();

  // commands.cc
  using Args = std::vector<std::string>;
  absl::Status ApplyCandidate(const config::Config& next);
  absl::StatusOr<std::string> LinkCommand(const std::string& verb, const Args& rest, bool json);
  absl::StatusOr<std::string> AddrCommand(const std::string& verb, const Args& rest, bool json);
  absl::StatusOr<std::string> RouteCommand(const std::string& verb, const Args& rest, bool json);
  absl::StatusOr<std::string> Route6Command(const std::string& verb, const Args& rest);
  absl::StatusOr<std::string> Addr6Command(const std::string& verb, const Args& rest);
  absl::StatusOr<std::string> Neigh6Command(const std::string& verb, const Args& rest);
  absl::StatusOr<std::string> Route6Get(const config::Ip6Addr& addr, bool json) const;
  absl::StatusOr<std::string> GroupCommand(const std::string& verb, const Args& rest, bool json);
  absl::StatusOr<std::string> NeighCommand(const std::string& verb, const Args& rest, bool json);
  // reconfigure.cc
  absl::Status CheckRestartOnly(const config::Config& next) const;
  // The config file, parsed; while workers run, on another thread (see reconfigure.cc).
  absl::StatusOr<config::Config> ParseConfigFile();
  absl::Status RemoveConnected(uint32_t vif, const config::Ip4Prefix& addr);
  absl::Status ApplyVifs(const config::Config& next, size_t* changes);
  absl::Status DeleteUserRoute(const config::Ip4Prefix& prefix);
  static bool IsUserRoute(const RouteEntry& e);
  int PortByName(const std::string& name) const;
  static bool IsVdev(const std::string& device);

  // Events and drops of every core, summed (the control lcore's own included).
  struct Totals {
    std::array<uint64_t, dataplane::kEventCount> events{};
    std::array<uint64_t, dataplane::kDropReasonCount> drops{};
  };
  Totals SumCounters() const;
  // metrics_export.cc: every series /metrics serves, built on the control lcore.
  void PublishMetrics();
  void PublishInterfaceDirectory();

  std::string ShowStats(bool json) const;
  std::string ShowRoutes(bool json) const;
  std::string ShowNeighbours(bool json) const;

  // The device behind a port; its addresses and group are its vif's (vifs_).
  struct PortState {
    std::unique_ptr<drivers::Port> port;
    bool link_up = false;  // carrier, as the device reports it
    bool up = true;        // admin state, from the config
    uint32_t mtu = 1500;
  };

  config::Config config_;  // the running config: what `config show` prints
  std::string config_path_;
  uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  std::unique_ptr<drivers::Eal> eal_;
  std::unique_ptr<dataplane::NbufPool> pool_;
  rte_rcu_qsbr* rcu_ = nullptr;
  std::unique_ptr<dataplane::Fib> fib_;
  std::unique_ptr<dataplane::Fib6> fib6_;
  std::unique_ptr<dataplane::VifTable> vift_;  // what workers read
  std::unique_ptr<Vifs> vifs_;                 // the books control keeps of it
  std::unique_ptr<NexthopTable> nexthops_;
  std::vector<PortState> ports_;  // by DPDK port id
  std::vector<uint16_t> port_ids_;
  std::vector<RouteEntry> routes_;
  std::unique_ptr<NeighbourTable> neighbours_;
  std::unique_ptr<Ndp6Table> ndp_;
  std::unique_ptr<RouterAdverts> ra_;
  // A port's or listed vif's IPv6 side: its link-local and global addresses.
  struct Vif6 {
    config::Ip6Addr link_local;
    std::vector<config::Ip6Prefix> addresses;
  };
  absl::flat_hash_map<uint32_t, Vif6> vif6_;
  // A template block went since the last ApplyIpv6: NDP entries on its members that a route
  // kept are looked at again once the routes are gone.
  bool blocks6_removed_ = false;
  std::vector<Route6Entry> routes6_;
  std::vector<std::unique_ptr<dataplane::XqRing>> outqs_, inqs_;
  std::vector<std::unique_ptr<dataplane::Worker>> workers_;
  std::atomic<bool> workers_stop_{false};
  bool workers_running_ = false;
  dataplane::CoreCounters control_counters_;
  std::unique_ptr<knet::Knet> knet_;  // null without a knet section
  uint64_t next_timer_ms_ = 0;        // ServeDataplane's next neighbour timer run
  uint64_t knet_retry_ms_ = 0;        // RecoverKnet's next attempt
  std::string knet_error_;            // its last failure, logged once
  std::unique_ptr<RouteMirror> mirror_;  // null without knet or with knet.mirror off
  absl::flat_hash_map<KernelRouteKey, KernelRouteState> kernel_routes_;  // by prefix, both families
  uint64_t kernel_unresolved_ = 0;  // kernel routes the dataplane could not install
  std::unique_ptr<ControlSocket> socket_;
  std::unique_ptr<MetricsServer> metrics_;
  // metrics_export.cc. A group's counters: what it kept from slots it gave back, plus its
  // current slot's, summed over workers, less what that slot counted for the groups that held
  // it before. Series only grow while vrouterd runs, whatever the members do.
  dataplane::VifCounters GroupCounters(uint32_t group) const;
  dataplane::VifCounters SlotCounters(uint32_t slot) const;
  void ReleaseGroupSlot(uint32_t group, uint32_t slot);
  absl::flat_hash_map<uint32_t, dataplane::VifCounters> slot_baseline_;  // by slot
  absl::flat_hash_map<uint32_t, dataplane::VifCounters> group_kept_;     // by group id
  // /metrics/interfaces, when metrics.interfaces asks for it; rebuilt when this key changes.
  std::shared_ptr<InterfaceMetrics> interface_metrics_;
  std::tuple<uint64_t, uint64_t, uint32_t> interface_directory_key_{~0ull, 0, 0};
  uint32_t nh_local_ = 0, nh_broadcast_ = 0, nh_blackhole_ = 0, nh_unreachable_ = 0;
};

}  // namespace vr::control
