// Bring-up in dependency order (EAL, pool, RCU, FIB, ports, routes, rings, workers) and the
// control loop. Teardown runs in reverse, so no port, nbuf or hugepage outlives the process.
#include "control/router.h"

#include <poll.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <bit>

#include "absl/strings/str_format.h"
#include "control/control_socket.h"
#include "control/metrics.h"
#include "drivers/log.h"

namespace vr::control {

using dataplane::NhKind;
using dataplane::XqAction;

namespace {

// Room for a connected next hop per vif of a million sub-interfaces beside the static and
// learned ones; the table is committed as used, so unused room costs address space only.
constexpr uint32_t kMaxNexthops = 1u << 22;
// IPv6 routes: connected and static ones, ND host routes, mirrored ones. The groups below the
// first level cost 1 KiB each in hugepages; providers' /48-/64 take about one a route, a pool of
// subscriber /64s far less (docs/architecture.md). Template members' subnets come on top of
// both: they are outside max_routes, and the groups they need are added from the config.
using config::kMaxRoutes6;
constexpr uint32_t kTbl8Groups6 = 1u << 14;

// The tbl8 groups the config's templates' IPv6 subnets take at most (dataplane::Fib6::GroupsFor).
uint64_t TemplateGroups6(const config::Config& cfg) {
  uint64_t groups = 0;
  for (const auto& g : cfg.groups) {
    for (const auto& t : g.templates) {
      if (!t.address6) continue;
      config::Ip6Addr step = config::Ip6FromValue(t.address6_step);
      groups += dataplane::Fib6::GroupsFor(t.address6->addr.bytes.data(), t.address6->len,
                                           step.bytes.data(), t.size());
    }
  }
  return groups;
}

// InQ entries control pushed become visible to the workers when published (dataplane/xq_ring.h):
// control publishes at the end of ServeDataplane, before its loop waits in Poll, and before it
// waits on a worker. Control is the only producer of every InQ, and, once the workers have
// stopped, of every OutQ.
void PublishAll(std::vector<std::unique_ptr<dataplane::XqRing>>& rings) {
  for (auto& q : rings) q->Publish();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> Router::Create(const config::Config& cfg,
                                                       const RouterOptions& opts) {
  auto r = std::unique_ptr<Router>(new Router());
  if (absl::Status s = r->Build(cfg, opts); !s.ok()) return s;
  return r;
}

absl::Status Router::Build(const config::Config& cfg, const RouterOptions& opts) {
  config_ = cfg;
  config_path_ = opts.config_path;
  if (!opts.control_socket.empty()) config_.control.socket = opts.control_socket;

  drivers::EalOptions eo;
  eo.workers = cfg.dataplane.workers;
  for (const auto& p : cfg.ports) eo.devices.push_back(p.device);
  eo.extra_args = opts.eal_args;
  eo.force_no_huge = opts.no_huge;
  auto eal = drivers::Eal::Init(eo);
  if (!eal.ok()) return eal.status();
  eal_ = std::move(*eal);
  if (rte_lcore_count() != cfg.dataplane.workers + 1) {
    return absl::FailedPreconditionError("EAL did not give one lcore per worker plus control");
  }

  auto pool = dataplane::NbufPool::Create(cfg.dataplane.nbufs, rte_socket_id());
  if (!pool.ok()) return pool.status();
  pool_ = std::move(*pool);

  size_t rcu_size = rte_rcu_qsbr_get_memsize(cfg.dataplane.workers);
  rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("vr_rcu", rcu_size, RTE_CACHE_LINE_SIZE));
  if (rcu_ == nullptr || rte_rcu_qsbr_init(rcu_, cfg.dataplane.workers) != 0) {
    return absl::ResourceExhaustedError("cannot set up RCU");
  }
  auto fib = dataplane::Fib::Create(kMaxNexthops, rcu_, rte_socket_id());
  if (!fib.ok()) return fib.status();
  fib_ = std::move(*fib);
  uint64_t groups6 = std::min<uint64_t>(kTbl8Groups6 + TemplateGroups6(cfg),
                                         dataplane::Fib6::kMaxTbl8Groups);
  auto fib6 = dataplane::Fib6::Create(kMaxRoutes6, rcu_, rte_socket_id(), uint32_t(groups6));
  if (!fib6.ok()) return fib6.status();
  fib6_ = std::move(*fib6);
  nexthops_ = std::make_unique<NexthopTable>(fib_.get());
  for (auto [kind, slot] : {std::pair{NhKind::kLocal, &nh_local_},
                            {NhKind::kBroadcast, &nh_broadcast_},
                            {NhKind::kBlackhole, &nh_blackhole_},
                            {NhKind::kUnreachable, &nh_unreachable_}}) {
    auto nh = nexthops_->Alloc(kind, 0, 0);
    if (!nh.ok()) return nh.status();
    *slot = *nh;
  }
  fib6_->SetOwnAddresses(&fib_->nexthop(0), nh_local_);

  vift_ = std::make_unique<dataplane::VifTable>();
  if (!vift_->ok()) return absl::ResourceExhaustedError("cannot map the vif table");
  vifs_ = std::make_unique<Vifs>(vift_.get(), [this] { Synchronize(); });
  vifs_->set_slot_released([this](uint32_t group, uint32_t slot) { ReleaseGroupSlot(group, slot); });

  ports_.resize(RTE_MAX_ETHPORTS);
  for (const auto& pc : cfg.ports) {
    auto id = OpenPort(pc, &fib_->edit_ports());
    if (!id.ok()) return id.status();
  }

  NeighbourEnv env;
  env.fib = fib_.get();
  env.pool = pool_.get();
  env.nexthops = nexthops_.get();
  env.counters = &control_counters_;
  env.vif_addresses = [this](uint32_t v) { return vifs_->Addresses(v); };
  env.vif_name = [this](uint32_t v) { return vifs_->Name(v); };
  env.vif_mac = [this](uint32_t v) { return vift_->vif(v).mac(); };
  env.transmit = [this](rte_mbuf* m) { ToWorker(XqAction::kTransmit, m); };
  env.output = [this](rte_mbuf* m) { ToWorker(XqAction::kOutput, m); };
  env.take_used = [this](uint32_t nh) { return TakeUsed(nh); };
  env.synchronize = [this] { Synchronize(); };
  env.arp = cfg.arp;
  neighbours_ = std::make_unique<NeighbourTable>(std::move(env));

  for (uint16_t id : port_ids_) {
    for (const auto& a : vifs_->record(id)->addresses) {
      if (absl::Status s = AddConnected(id, a); !s.ok()) return s;
    }
  }
  // Group settings, then sub-interfaces listed one by one, then templates' members.
  for (const auto& g : cfg.groups) {
    if (absl::Status s = vifs_->SetGroup(g.id, {g.mtu, g.up, g.impairment}); !s.ok()) return s;
  }
  for (const auto& vc : cfg.vifs) {
    if (absl::Status s = AddSubinterface(vc); !s.ok()) return s;
  }
  for (const auto& g : cfg.groups) {
    for (const auto& t : g.templates) {
      if (absl::Status s = AddTemplate(g.id, t); !s.ok()) return s;
    }
  }
  for (const auto& nc : cfg.neighbours) {
    rte_ether_addr mac;
    memcpy(mac.addr_bytes, nc.mac.data(), 6);
    auto vif = vifs_->ByName(nc.port);
    if (!vif) return absl::InvalidArgumentError("neighbour on unknown interface " + nc.port);
    if (absl::Status s = neighbours_->AddStatic(nc.ip, *vif, mac); !s.ok()) return s;
  }
  for (const auto& rc : cfg.routes) {
    if (absl::Status s = AddRoute(rc); !s.ok()) return s;
  }
  if (absl::Status s = BuildIpv6(cfg); !s.ok()) return s;

  // Each ring holds as many entries as there are nbufs, so it can never overflow.
  uint32_t ring_size = std::bit_ceil(cfg.dataplane.nbufs);
  for (uint32_t w = 0; w < cfg.dataplane.workers; ++w) {
    outqs_.push_back(std::make_unique<dataplane::XqRing>(ring_size));
    inqs_.push_back(std::make_unique<dataplane::XqRing>(ring_size));
    dataplane::WorkerSetup ws;
    ws.index = w;
    ws.fib = fib_.get();
    ws.fib6 = fib6_.get();
    ws.vifs = vift_.get();
    ws.pool = pool_.get();
    ws.outq = outqs_.back().get();
    ws.inq = inqs_.back().get();
    ws.rcu = rcu_;
    ws.icmp_rate = cfg.icmp.rate_per_second;
    ws.icmp_burst = cfg.icmp.burst;
    ws.knet = cfg.knet.enabled;
    ws.knet_rate = cfg.knet.rate;
    ws.knet_burst = cfg.knet.burst;
    // An eighth of the pool at most may wait for the kernel; the rest stays for forwarding.
    ws.knet_backlog = std::min<uint32_t>(1024, cfg.dataplane.nbufs / 8);
    // All punts together at most a quarter of the pool: a control lcore that stalls (a busy
    // shared core, a long reload) then costs ARP and resolution, never every port's receive.
    ws.outq_backlog = std::min<uint32_t>(ws.outq->capacity() - 1, cfg.dataplane.nbufs / 4);
    ws.stop = &workers_stop_;
    workers_.push_back(std::make_unique<dataplane::Worker>(ws));
  }
  if (cfg.knet.enabled) {
    knet::KnetOptions ko;
    ko.name = cfg.knet.name;
    ko.mtu = cfg.knet.mtu;
    ko.rate = cfg.knet.rate;
    ko.burst = cfg.knet.burst;
    ko.offload = cfg.knet.offload;
    auto k = knet::Knet::Open(ko, pool_.get());
    if (!k.ok()) return k.status();
    knet_ = std::move(*k);
    if (absl::Status s = SyncKnet(); !s.ok()) return s;
    // After the config's routes and addresses, so a kernel route for a prefix the config holds
    // is known from the start to be shadowed.
    if (cfg.knet.mirror) {
      if (absl::Status s = OpenRouteMirror(); !s.ok()) return s;
    }
  }
  socket_ = std::make_unique<ControlSocket>();
  if (absl::Status s = socket_->Listen(config_.control.socket, config_.control.group); !s.ok()) {
    return s;
  }
  std::string listen = opts.metrics_listen.value_or(config_.metrics.listen);
  if (!listen.empty() && listen != "off") {
    auto metrics = MetricsServer::Start(listen);
    if (!metrics.ok()) return metrics.status();
    metrics_ = std::move(*metrics);
    if (config_.metrics.interfaces > 0) {
      std::vector<const dataplane::Worker*> workers;
      for (const auto& w : workers_) workers.push_back(w.get());
      interface_metrics_ = std::make_shared<InterfaceMetrics>(std::move(workers));
      metrics_->ServeInterfaces(interface_metrics_);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> Router::OpenPort(const config::PortConfig& pc,
                                          dataplane::PortTable* views) {
  drivers::PortOptions po;
  po.name = pc.name;
  po.devargs = pc.device;
  po.queues = config_.dataplane.workers;
  po.mtu = pc.mtu;
  po.pool = pool_->mempool();
  rte_ether_addr mac;
  if (pc.mac) {
    memcpy(mac.addr_bytes, pc.mac->data(), 6);
    po.mac = &mac;
  }
  auto port = drivers::Port::Open(po);
  if (!port.ok()) return port.status();
  uint16_t id = (*port)->id();
  if (absl::Status s = vifs_->AddPort(id, pc.name, (*port)->mac(), pc.mtu, pc.up, pc.group,
                                      pc.addresses);
      !s.ok()) {
    return s;
  }
  ports_[id] = PortState();
  ports_[id].port = std::move(*port);
  ports_[id].mtu = pc.mtu;
  ports_[id].up = pc.up;
  port_ids_.push_back(id);
  views->Poll(id);
  return id;
}

absl::StatusOr<uint32_t> Router::AddConnectedFib(uint32_t vif, const config::Ip4Prefix& addr) {
  config::Ip4Prefix net = config::NetworkOf(addr);
  auto nh = nexthops_->Alloc(NhKind::kConnected, 0, vif);
  if (!nh.ok()) return nh.status();
  if (absl::Status s = fib_->Add(net.addr, net.len, *nh); !s.ok()) {
    nexthops_->Free(*nh);
    return s;
  }
  ConfigTakes(net);
  if (absl::Status s = fib_->Add(addr.addr, 32, nh_local_); !s.ok()) return s;
  ConfigTakes({addr.addr, 32});
  if (addr.len < 31) {
    uint32_t bcast = net.addr | ~config::PrefixMask(addr.len);
    if (absl::Status s = fib_->Add(bcast, 32, nh_broadcast_); !s.ok()) return s;
    ConfigTakes({bcast, 32});
  }
  return *nh;
}

void Router::DeleteConnectedFib(const config::Ip4Prefix& addr) {
  config::Ip4Prefix net = config::NetworkOf(addr);
  (void)fib_->Delete(net.addr, net.len);
  (void)fib_->Delete(addr.addr, 32);
  if (addr.len < 31) (void)fib_->Delete(net.addr | ~config::PrefixMask(addr.len), 32);
  ConfigReleases(net);
  ConfigReleases({addr.addr, 32});
  if (addr.len < 31) ConfigReleases({net.addr | ~config::PrefixMask(addr.len), 32});
}

absl::Status Router::AddConnected(uint32_t vif, const config::Ip4Prefix& addr) {
  auto nh = AddConnectedFib(vif, addr);
  if (!nh.ok()) return nh.status();
  config::Ip4Prefix net = config::NetworkOf(addr);
  int v = int(vif);
  routes_.push_back({net, "connected", 0, v, *nh});
  routes_.push_back({{addr.addr, 32}, "local", 0, v, nh_local_});
  if (addr.len < 31) {
    routes_.push_back({{net.addr | ~config::PrefixMask(addr.len), 32}, "broadcast", 0, v,
                       nh_broadcast_});
  }
  return absl::OkStatus();
}

absl::Status Router::AddRoute(const config::RouteConfig& r) {
  RouteEntry e{r.prefix, "forward", r.via, -1, 0};
  switch (r.type) {
    case config::RouteType::kBlackhole:
      e.type = "blackhole";
      e.nh = nh_blackhole_;
      break;
    case config::RouteType::kUnreachable:
      e.type = "unreachable";
      e.nh = nh_unreachable_;
      break;
    case config::RouteType::kForward: {
      e.vif = VifForAddress(r.via);
      if (e.vif < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s:%d:%d: route via %s is not inside any interface's subnet", r.loc.file,
            r.loc.line, r.loc.column, config::FormatIp4(r.via)));
      }
      auto nh = neighbours_->GatewayNexthop(r.via, e.vif);
      if (!nh.ok()) return nh.status();
      e.nh = *nh;
      break;
    }
  }
  if (absl::Status s = fib_->Add(r.prefix.addr, r.prefix.len, e.nh); !s.ok()) return s;
  ConfigTakes(r.prefix);
  routes_.push_back(e);
  return absl::OkStatus();
}

absl::Status Router::SyncKnet() {
  // Without its device (the kernel removed it), RecoverKnet syncs the new one whole.
  if (knet_ == nullptr || !knet_->attached()) return absl::OkStatus();
  // Ports' and listed vifs' addresses; template members' are not given to the kernel (tens of
  // thousands of addresses on one kernel interface would cost more than they serve).
  std::vector<config::Ip4Prefix> addresses;
  for (const auto& [id, r] : vifs_->records()) {
    addresses.insert(addresses.end(), r.addresses.begin(), r.addresses.end());
  }
  std::vector<config::Ip6Prefix> addresses6;
  for (const auto& [id, v] : vif6_) {
    addresses6.insert(addresses6.end(), v.addresses.begin(), v.addresses.end());
  }
  std::vector<config::Ip4Prefix> routes;
  for (const auto& r : config_.routes) routes.push_back(r.prefix);
  std::vector<config::Ip6Prefix> routes6;
  for (const auto& r : config_.routes6) routes6.push_back(r.prefix);
  absl::Status s = knet_->link().SetAddresses(addresses, addresses6);
  if (s.ok()) s = knet_->link().SetRoutes(routes, routes6);
  // The device vanished under the requests: not this change's fault, and RecoverKnet will
  // give the new device everything.
  if (!s.ok() && !knet_->Check()) return absl::OkStatus();
  return s;
}

void Router::RecoverKnet(uint64_t now) {
  if (knet_->attached() || now < knet_retry_ms_) return;
  if (knet_retry_ms_ == 0) {
    VR_LOG_ERR("knet: %s was removed from the kernel; frames for the kernel are dropped "
               "(to_kernel_errors) until it is made again",
               knet_->name());
  }
  knet_retry_ms_ = now + 1000;
  if (absl::Status s = knet_->Reattach(); !s.ok()) {
    if (knet_error_ != s.message()) {
      knet_error_ = std::string(s.message());
      VR_LOG_ERR("knet: cannot make %s again, retrying every second: %s", knet_->name(),
                 knet_error_);
    }
    return;
  }
  knet_retry_ms_ = 0;
  knet_error_.clear();
  if (absl::Status s = SyncKnet(); !s.ok()) {
    VR_LOG_ERR("knet: %s made again (ifindex %d), but not all its addresses and routes: %s",
               knet_->name(), knet_->ifindex(), s.message());
    return;
  }
  VR_LOG_NOTICE("knet: %s made again (ifindex %d) with the router's addresses and routes; "
                "kernel routes over it are the routing daemons' to put back",
                knet_->name(), knet_->ifindex());
}

bool Router::TakeUsed(uint32_t nh) {
  bool used = false;
  for (auto& w : workers_) {
    uint8_t* flags = w->used_flags();
    if (__atomic_load_n(&flags[nh], __ATOMIC_RELAXED)) {
      used = true;
      __atomic_store_n(&flags[nh], 0, __ATOMIC_RELAXED);
    }
  }
  return used;
}

void Router::ToWorker(XqAction action, rte_mbuf* m) {
  // Control's own frames go to worker 0; every worker has a TX queue on every port.
  if (!inqs_[0]->Push(action, dataplane::Meta(m)->index)) {
    control_counters_.Drop(dataplane::DropReason::kInqFull);
    rte_pktmbuf_free(m);
  }
}

void Router::Synchronize() {
  if (workers_running_) rte_rcu_qsbr_synchronize(rcu_, RTE_QSBR_THRID_INVALID);
}

uint32_t Router::DrainOutq(dataplane::XqRing& q) {
  std::array<uint32_t, 256> entries;
  uint32_t n = q.PopBurst(entries.data(), entries.size());
  // Published before any nbuf of the batch is freed or sent: the ring holds as many entries as
  // there are nbufs, and a worker that got one of them back and punted it again before we
  // published would find the ring full.
  if (n != 0) q.Flush();
  // Frames for the kernel are written after the batch, together, so knet can merge a TCP
  // stream's segments into one write.
  std::array<rte_mbuf*, 256> to_kernel;
  uint32_t nk = 0;
  for (uint32_t i = 0; i < n; ++i) {
    XqAction action = dataplane::XqActionOf(entries[i]);
    rte_mbuf* m = pool_->FromIndex(dataplane::XqParam(entries[i]));
    switch (action) {
      case XqAction::kArpFrame:
        neighbours_->OnArpFrame(m);
        break;
      case XqAction::kResolve:
        if (rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type ==
            RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
          ndp_->OnResolve(m);
        } else {
          neighbours_->OnResolve(m);
        }
        break;
      case XqAction::kNdFrame:
        ndp_->OnNdFrame(m);
        break;
      case XqAction::kLinkLocalOut:
        ndp_->OnLinkLocalOutput(m);
        break;
      case XqAction::kToKernel:
        if (knet_ != nullptr) {
          to_kernel[nk++] = m;
        } else {
          rte_pktmbuf_free(m);
        }
        break;
      default:
        rte_pktmbuf_free(m);
    }
  }
  if (nk != 0) knet_->ToKernelBurst(to_kernel.data(), nk);
  return n;
}

void Router::PollLinks() {
  for (uint16_t id : port_ids_) {
    PortState& ps = ports_[id];
    bool up = ps.port->LinkUp();
    if (up != ps.link_up) {
      VR_LOG_NOTICE("port %s (%s): %s", ps.port->name(), ps.port->devargs(),
                    ps.port->LinkDescription());
      ps.link_up = up;
    }
  }
}

uint32_t Router::ServeDataplane() {
  uint32_t work = 0;
  for (auto& q : outqs_) work += DrainOutq(*q);
  if (knet_ != nullptr) {
    work += knet_->FromKernel(256, [this](rte_mbuf* m) { ToWorker(XqAction::kFromKernel, m); });
    if (!knet_->attached()) RecoverKnet(NowMs());
  }
  if (mirror_ != nullptr) {
    auto handled = mirror_->Poll();
    if (!handled.ok()) {
      VR_LOG_ERR("kernel route mirror: %s", handled.status().message());
    } else {
      work += *handled;
    }
  }
  uint64_t now = NowMs();
  if (now >= next_timer_ms_) {
    neighbours_->OnTimer(now);
    ndp_->OnTimer(now);
    next_timer_ms_ = now + 100;
  }
  ra_->OnTimer(now);
  // Here, not only in Run's loop: ParseConfigFile serves the dataplane through this alone while a
  // reload parses, which takes seconds, and ARP replies must not wait for it.
  PublishAll(inqs_);
  return work;
}

absl::Status Router::Run(const std::atomic<bool>& stop, std::atomic<bool>* reload,
                         const std::function<absl::Status()>& started) {
  for (uint16_t id : port_ids_) {
    if (absl::Status s = ports_[id].port->Start(); !s.ok()) return s;
    // Best effort, as for `link set down`: af_packet cannot, TAP and NICs drop their carrier.
    if (!ports_[id].up) rte_eth_dev_set_link_down(id);
  }
  unsigned lcore = 0;
  size_t w = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (w >= workers_.size()) break;
    rte_eal_remote_launch(
        [](void* arg) { return static_cast<dataplane::Worker*>(arg)->Run(); },
        workers_[w].get(), lcore);
    ++w;
  }
  workers_running_ = true;
  absl::Status status = started ? started() : absl::OkStatus();
  if (status.ok()) {
    VR_LOG_NOTICE("forwarding: %zu ports, %zu workers, %u nbufs (%s), control socket %s",
                  port_ids_.size(), workers_.size(), pool_->size(),
                  eal_->hugepages() ? "hugepages" : "no hugepages", config_.control.socket);
    PollLinks();
  }

  uint64_t next_link = NowMs() + 1000, next_metrics = NowMs();
  next_timer_ms_ = NowMs();
  while (status.ok() && !stop.load(std::memory_order_relaxed)) {
    uint32_t work = ServeDataplane();
    uint64_t now = NowMs();
    if (reload != nullptr && reload->exchange(false)) {
      absl::Status s = Reload();
      if (s.ok()) {
        VR_LOG_NOTICE("SIGHUP: reloaded %s", config_path_);
      } else {
        VR_LOG_ERR("SIGHUP: %s not applied, running config unchanged: %s", config_path_,
                   s.message());
      }
    }
    if (now >= next_link) {
      PollLinks();
      next_link = now + 1000;
    }
    if (now >= next_metrics) {
      PublishMetrics();
      next_metrics = now + 500;
    }
    // Waiting on the socket is the control lcore's idle: short, so OutQ stays drained.
    std::array<int, 2> wake;
    size_t nwake = 0;
    if (knet_ != nullptr && knet_->attached()) wake[nwake++] = knet_->fd();
    if (mirror_ != nullptr) wake[nwake++] = mirror_->fd();
    // What this pass sent the workers after ServeDataplane (a reload's router advertisements)
    // goes out before the wait; what commands send in Poll, at the next pass, which does not wait
    // first. With nothing held, one branch per InQ.
    PublishAll(inqs_);
    socket_->Poll(work != 0 ? 0 : 1,
                  [this](const std::vector<std::string>& args) { return Execute(args); },
                  std::span<const int>(wake.data(), nwake));
  }

  // RFC 4861 §6.2.5: a final router advertisement on each advertising interface, so hosts stop
  // using the router now rather than when its lifetime runs out; the workers send it.
  if (ra_->size() != 0) {
    ra_->StopAll();
    PublishAll(inqs_);  // the wait below is for the worker to take them
    for (uint64_t deadline = NowMs() + 100; inqs_[0]->Depth() != 0 && NowMs() < deadline;) {
      rte_delay_us_sleep(100);
    }
    rte_delay_us_sleep(1000);  // the worker's TX buffers go out once per loop
  }
  workers_stop_.store(true);
  rte_eal_mp_wait_lcore();
  workers_running_ = false;
  // The workers are gone (rte_eal_mp_wait_lcore ordered their last writes before this), so
  // control may publish in their place whatever they pushed after their last Publish, and the
  // rings' own held entries too: nothing held in a ring would be freed below.
  PublishAll(outqs_);
  PublishAll(inqs_);
  for (auto& q : outqs_) {
    XqAction a;
    uint32_t p;
    while (q->Pop(&a, &p)) rte_pktmbuf_free(pool_->FromIndex(p));
  }
  for (auto& q : inqs_) {
    XqAction a;
    uint32_t p;
    while (q->Pop(&a, &p)) rte_pktmbuf_free(pool_->FromIndex(p));
  }
  VR_LOG_NOTICE("stopped");
  return status;
}

Router::~Router() {
  // Reverse order of Build: nothing may hold an nbuf when the pool goes, nor a port when EAL does.
  metrics_.reset();  // first: its threads read nothing of ours, but stop them before we go
  socket_.reset();
  mirror_.reset();
  knet_.reset();  // holds spare nbufs; its TAP device goes with it
  ra_.reset();
  ndp_.reset();
  neighbours_.reset();
  workers_.clear();
  vifs_.reset();
  for (auto& ps : ports_) ps.port.reset();
  nexthops_.reset();
  fib6_.reset();
  fib_.reset();
  vift_.reset();
  rte_free(rcu_);
  pool_.reset();
  eal_.reset();
}

}  // namespace vr::control
