// Fuzzes the packet pipeline: frames in on two net_null ports (or from the kernel through InQ),
// through a worker and the control lcore's ARP and NDP, frames out; no nbuf may go missing.
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_log.h>
#include <sanitizer/lsan_interface.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "config/config.h"
#include "control/ndp.h"
#include "control/neighbours.h"
#include "control/nexthops.h"
#include "control/vifs.h"
#include "dataplane/counters.h"
#include "dataplane/fib.h"
#include "dataplane/fib6.h"
#include "dataplane/nbuf_pool.h"
#include "dataplane/vif.h"
#include "dataplane/worker.h"
#include "dataplane/xq_ring.h"
#include "drivers/eal.h"
#include "drivers/port.h"

namespace vr::fuzz {
namespace {

using control::NeighbourTable;
using control::Ndp6Table;
using dataplane::NhKind;
using dataplane::XqAction;

// One router of each thing a frame can meet: two ports, an 802.1Q and an 802.1ad sub-interface
// (the first with a smaller MTU, so forwarding to it fragments or sends packet too big), both
// families' connected, static, blackhole, unreachable and default routes, a static neighbour per
// family, and a link-local gateway. The seeds in tests/fuzz/corpus/packet use these addresses.
constexpr char kRouterYaml[] = R"(
dataplane: {workers: 1, nbufs: 1023}
ports:
  - name: a
    device: net_null0
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24, 2001:db8:1::1/64]
    link_local: fe80::1
  - name: b
    device: net_null1
    mac: 02:00:00:00:00:02
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
vifs:
  - {name: a.100, parent: a, vlan: 100, mtu: 1280, addresses: [198.18.3.1/24, 2001:db8:3::1/64]}
  - {name: b.10.20, parent: b, outer: 10, inner: 20, addresses: [198.18.4.1/30]}
routes:
  - {prefix: 0.0.0.0/0, via: 198.18.1.254}
  - {prefix: 198.19.0.0/16, via: 198.18.2.2}
  - {prefix: 198.19.255.0/24, type: blackhole}
  - {prefix: 198.18.128.0/20, type: unreachable}
  - {prefix: 198.20.0.0/16, via: 198.18.3.2}
  - {prefix: "::/0", via: "fe80::2", port: a}
  - {prefix: 2001:db8:100::/48, via: 2001:db8:2::2}
  - {prefix: 2001:db8:ff00::/40, type: unreachable}
  - {prefix: 2001:db8:200::/48, type: blackhole}
neighbours:
  - {ip: 198.18.2.2, mac: 02:00:00:00:00:bb}
  - {ip: 2001:db8:2::2, mac: 02:00:00:00:00:bb}
)";

// A frame as a real port delivers it has 128 bytes of headroom and at most 2048 of data.
constexpr uint16_t kHeadroom = RTE_PKTMBUF_HEADROOM;
constexpr uint32_t kMaxFrame = dataplane::kNbufDataRoom - RTE_PKTMBUF_HEADROOM;
constexpr uint32_t kMaxRecords = 64;
// Rounds of control <-> worker hand-over after a burst; more means they keep bouncing a packet.
constexpr int kMaxRounds = 64;

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "packet_fuzz: %s\n", what.c_str());
  abort();
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Fail(absl::StrFormat("%s: %s", what, v.status().ToString()));
  return std::move(*v);
}

void Must(const absl::Status& s, const char* what) {
  if (!s.ok()) Fail(absl::StrFormat("%s: %s", what, s.ToString()));
}

// The frame's bytes live in a heap block of exactly headroom + length, attached to the nbuf as an
// external buffer: a read past the frame, or of a frame already freed, is then a heap error that
// AddressSanitizer reports, where in the pool's 2 KB buffers it would read stale bytes unseen.
// The nbuf itself still comes from the pool, so the pool's count still says who holds what.
void FreeHeapFrame(void* addr, void* opaque) {
  delete[] static_cast<uint8_t*>(addr);
  delete static_cast<rte_mbuf_ext_shared_info*>(opaque);
}

rte_mbuf* HeapFrame(rte_mempool* pool, const uint8_t* data, uint32_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) Fail("nbuf pool exhausted: nbufs are leaking");
  auto* buf = new uint8_t[kHeadroom + len];
  auto* shinfo = new rte_mbuf_ext_shared_info{};
  shinfo->free_cb = FreeHeapFrame;
  shinfo->fcb_opaque = shinfo;
  rte_mbuf_ext_refcnt_set(shinfo, 1);
  rte_pktmbuf_attach_extbuf(m, buf, rte_iova_t(uintptr_t(buf)), uint16_t(kHeadroom + len), shinfo);
  m->data_off = kHeadroom;
  m->data_len = uint16_t(len);
  m->pkt_len = len;
  memcpy(buf + kHeadroom, data, len);
  return m;
}

// RFC 4291 §2.5.6: fe80::/64 with the modified EUI-64 of the MAC, as control/ipv6.cc derives it.
config::Ip6Addr LinkLocalFromMac(const rte_ether_addr& mac) {
  const uint8_t* m = mac.addr_bytes;
  config::Ip6Addr a;
  a.bytes = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, uint8_t(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe,
             m[3], m[4], m[5]};
  return a;
}

// The router as control/router.cc builds it, cut down to what a frame can reach: no control
// socket, metrics, knet device or route mirror, and one worker driven by hand on this thread.
class Testbed {
 public:
  void Build();
  void RunInput(const uint8_t* data, size_t size);

 private:
  struct Vif6 {
    config::Ip6Addr link_local;
    std::vector<config::Ip6Prefix> addresses;
  };

  void AddConnected(uint32_t vif, const config::Ip4Prefix& a);
  void AddConnected6(uint32_t vif, const config::Ip6Prefix& a);
  int VifFor(uint32_t ip) const;
  int VifFor6(const config::Ip6Addr& ip) const;
  // The ARP and NDP tables start each input as Build left them (static neighbours and gateway
  // entries only), so what one input taught them cannot change how the next one runs.
  void StartNeighbours();
  void StopNeighbours();
  size_t Held() const;
  void Burst(uint16_t port, std::vector<rte_mbuf*>* pending);
  void FromKernel(const uint8_t* data, uint32_t len);
  // The control loop's part: OutQ as Router::DrainOutq handles it, then InQ on the worker.
  void Settle();
  uint32_t DrainOutq();
  void ToWorker(XqAction action, rte_mbuf* m);
  static uint16_t CheckTx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                          void* self);
  void CheckFrame(uint16_t port, rte_mbuf* m) const;

  config::Config cfg_;
  std::unique_ptr<drivers::Eal> eal_;
  std::unique_ptr<dataplane::NbufPool> pool_;
  std::unique_ptr<dataplane::Fib> fib_;
  std::unique_ptr<dataplane::Fib6> fib6_;
  std::unique_ptr<control::NexthopTable> nexthops_;
  std::unique_ptr<dataplane::VifTable> vift_;
  std::unique_ptr<control::Vifs> vifs_;
  std::vector<std::unique_ptr<drivers::Port>> ports_;
  std::vector<uint16_t> port_ids_;  // by position in the config: port_ids_[0] is "a"
  absl::flat_hash_map<uint32_t, Vif6> vif6_;
  std::unique_ptr<NeighbourTable> neighbours_;
  std::unique_ptr<Ndp6Table> ndp_;
  std::unique_ptr<dataplane::XqRing> outq_, inq_;
  std::unique_ptr<dataplane::Worker> worker_;
  dataplane::CoreCounters control_counters_;
  uint32_t nh_local_ = 0, nh_broadcast_ = 0, nh_blackhole_ = 0, nh_unreachable_ = 0;
  std::set<uint64_t> our_macs_;
  uint32_t baseline_ = 0;  // nbufs in use with no frame anywhere
};

void Testbed::Build() {
  cfg_ = Must(config::ParseConfig(kRouterYaml, "packet_fuzz.yaml"), "testbed config");
  drivers::EalOptions eo;
  eo.workers = 0;  // the worker runs on this thread, driven by RunInput
  for (const auto& p : cfg_.ports) eo.devices.push_back(p.device);
  eo.force_no_huge = true;
  eo.memory_mb = 512;
  eo.extra_args = "--log-level=*:crit";
  eal_ = Must(drivers::Eal::Init(eo), "EAL");
  pool_ = Must(dataplane::NbufPool::Create(cfg_.dataplane.nbufs, rte_socket_id()), "nbuf pool");
  fib_ = Must(dataplane::Fib::Create(1 << 16, nullptr, rte_socket_id(), 1024), "FIB");
  fib6_ = Must(dataplane::Fib6::Create(1024, nullptr, rte_socket_id(), 1024), "IPv6 FIB");
  nexthops_ = std::make_unique<control::NexthopTable>(fib_.get());
  for (auto [kind, slot] : {std::pair{NhKind::kLocal, &nh_local_},
                            {NhKind::kBroadcast, &nh_broadcast_},
                            {NhKind::kBlackhole, &nh_blackhole_},
                            {NhKind::kUnreachable, &nh_unreachable_}}) {
    *slot = Must(nexthops_->Alloc(kind, 0, 0), "next hop");
  }
  vift_ = std::make_unique<dataplane::VifTable>();
  if (!vift_->ok()) Fail("cannot map the vif table");
  vifs_ = std::make_unique<control::Vifs>(vift_.get(), [] {});

  for (const auto& pc : cfg_.ports) {
    drivers::PortOptions po;
    po.name = pc.name;
    po.devargs = pc.device;
    po.mtu = pc.mtu;
    po.pool = pool_->mempool();
    rte_ether_addr mac = control::ToEther(*pc.mac);
    po.mac = &mac;
    auto port = Must(drivers::Port::Open(po), "port");
    uint16_t id = port->id();
    Must(vifs_->AddPort(id, pc.name, mac, pc.mtu, pc.up, pc.group, pc.addresses), "port vif");
    fib_->edit_ports().Poll(id);
    Must(port->Start(), "port start");
    // Every frame the router sends passes CheckFrame before net_null drops it.
    if (rte_eth_add_tx_callback(id, 0, &Testbed::CheckTx, this) == nullptr) {
      Fail("rte_eth_add_tx_callback: DPDK built without RTE_ETHDEV_RXTX_CALLBACKS?");
    }
    port_ids_.push_back(id);
    ports_.push_back(std::move(port));
    for (const auto& a : pc.addresses) AddConnected(id, a);
  }
  for (const auto& vc : cfg_.vifs) {
    int parent = -1;
    for (size_t i = 0; i < cfg_.ports.size(); ++i) {
      if (cfg_.ports[i].name == vc.parent) parent = port_ids_[i];
    }
    if (parent < 0) Fail("vif on unknown port " + vc.parent);
    uint32_t id = Must(vifs_->AddSub(vc.name, uint16_t(parent), vc.outer, vc.inner,
                                     vift_->vif(parent).mac(), vc.group,
                                     vifs_->record(parent)->default_mtu,
                                     {vc.mtu, vc.up, vc.impairment}, vc.addresses),
                       "sub-interface");
    for (const auto& a : vc.addresses) AddConnected(id, a);
  }
  // IPv6 addresses as control/ipv6.cc sets them up: a link-local per vif, then the globals.
  auto setup6 = [this](uint32_t vif, const std::vector<config::Ip6Prefix>& addresses,
                       const std::optional<config::Ip6Addr>& ll) {
    vif6_[vif].link_local = ll ? *ll : LinkLocalFromMac(vift_->vif(vif).mac());
    for (const auto& a : addresses) AddConnected6(vif, a);
  };
  for (size_t i = 0; i < cfg_.ports.size(); ++i) {
    setup6(port_ids_[i], cfg_.ports[i].addresses6, cfg_.ports[i].link_local);
  }
  for (const auto& vc : cfg_.vifs) setup6(*vifs_->ByName(vc.name), vc.addresses6, vc.link_local);
  vifs_->ForEach([this](uint32_t id) {
    our_macs_.insert(dataplane::PackMac(vift_->vif(id).mac()));
    return true;
  });

  uint32_t ring = std::bit_ceil(cfg_.dataplane.nbufs);
  outq_ = std::make_unique<dataplane::XqRing>(ring);
  inq_ = std::make_unique<dataplane::XqRing>(ring);
  dataplane::WorkerSetup ws;
  ws.fib = fib_.get();
  ws.fib6 = fib6_.get();
  ws.vifs = vift_.get();
  ws.pool = pool_.get();
  ws.outq = outq_.get();
  ws.inq = inq_.get();
  // Buckets no input can empty: a run must not depend on how fast the previous ones went.
  ws.icmp_rate = ws.icmp_burst = 1u << 30;
  ws.knet = true;
  ws.knet_rate = ws.knet_burst = 1u << 30;
  ws.knet_backlog = 1024;
  worker_ = std::make_unique<dataplane::Worker>(ws);

  StartNeighbours();
  baseline_ = pool_->InUse();
}

void Testbed::AddConnected(uint32_t vif, const config::Ip4Prefix& a) {
  config::Ip4Prefix net = config::NetworkOf(a);
  uint32_t nh = Must(nexthops_->Alloc(NhKind::kConnected, 0, vif), "connected next hop");
  Must(fib_->Add(net.addr, net.len, nh), "connected route");
  Must(fib_->Add(a.addr, 32, nh_local_), "local route");
  if (a.len < 31) {
    Must(fib_->Add(net.addr | ~config::PrefixMask(a.len), 32, nh_broadcast_), "broadcast route");
  }
}

void Testbed::AddConnected6(uint32_t vif, const config::Ip6Prefix& a) {
  config::Ip6Prefix net = config::NetworkOf6(a);
  uint32_t nh = Must(nexthops_->Alloc6(NhKind::kConnected, nullptr, vif), "connected next hop");
  Must(fib6_->Add(net.addr.bytes.data(), net.len, nh), "connected route");
  Must(fib6_->Add(a.addr.bytes.data(), 128, nh_local_), "local route");
  Vif6& v = vif6_[vif];
  v.addresses.push_back(a);
  vift_->vif6(vif).Set(v.addresses.front().addr.bytes.data());
}

int Testbed::VifFor(uint32_t ip) const {
  for (const auto& [id, r] : vifs_->records()) {
    for (const auto& a : r.addresses) {
      if (config::Contains(a, ip)) return int(id);
    }
  }
  return -1;
}

int Testbed::VifFor6(const config::Ip6Addr& ip) const {
  for (const auto& [vif, v] : vif6_) {
    for (const auto& a : v.addresses) {
      if (config::Contains6(a, ip)) return int(vif);
    }
  }
  return -1;
}

void Testbed::StartNeighbours() {
  auto take_used = [this](uint32_t nh) {
    uint8_t* flags = worker_->used_flags();
    bool used = flags[nh] != 0;
    flags[nh] = 0;
    return used;
  };
  control::NeighbourEnv env;
  env.fib = fib_.get();
  env.pool = pool_.get();
  env.nexthops = nexthops_.get();
  env.counters = &control_counters_;
  env.vif_addresses = [this](uint32_t v) { return vifs_->Addresses(v); };
  env.vif_name = [this](uint32_t v) { return vifs_->Name(v); };
  env.vif_mac = [this](uint32_t v) { return vift_->vif(v).mac(); };
  env.transmit = [this](rte_mbuf* m) { ToWorker(XqAction::kTransmit, m); };
  env.output = [this](rte_mbuf* m) { ToWorker(XqAction::kOutput, m); };
  env.take_used = take_used;
  env.synchronize = [] {};
  env.arp = cfg_.arp;
  neighbours_ = std::make_unique<NeighbourTable>(std::move(env));

  control::Ndp6Env env6;
  env6.fib = fib_.get();
  env6.fib6 = fib6_.get();
  env6.pool = pool_.get();
  env6.nexthops = nexthops_.get();
  env6.counters = &control_counters_;
  env6.vif_addresses = [this](uint32_t v) {
    auto it = vif6_.find(v);
    return it == vif6_.end() ? std::vector<config::Ip6Prefix>{} : it->second.addresses;
  };
  env6.vif_link_local = [this](uint32_t v) {
    auto it = vif6_.find(v);
    return it == vif6_.end() ? config::Ip6Addr{} : it->second.link_local;
  };
  env6.vif_name = [this](uint32_t v) { return vifs_->Name(v); };
  env6.vif_mac = [this](uint32_t v) { return vift_->vif(v).mac(); };
  env6.transmit = [this](rte_mbuf* m) { ToWorker(XqAction::kTransmit, m); };
  env6.output = [this](rte_mbuf* m) { ToWorker(XqAction::kOutput, m); };
  env6.take_used = take_used;
  env6.synchronize = [] {};
  env6.nd = cfg_.arp;
  ndp_ = std::make_unique<Ndp6Table>(std::move(env6));

  for (const auto& n : cfg_.neighbours) {
    auto vif = vifs_->ByName(n.port);
    if (!vif) Fail("neighbour on unknown interface " + n.port);
    Must(neighbours_->AddStatic(n.ip, *vif, control::ToEther(n.mac)), "neighbour");
  }
  for (const auto& r : cfg_.routes) {
    uint32_t nh = r.type == config::RouteType::kBlackhole     ? nh_blackhole_
                  : r.type == config::RouteType::kUnreachable ? nh_unreachable_
                                                              : 0;
    if (r.type == config::RouteType::kForward) {
      int vif = VifFor(r.via);
      if (vif < 0) Fail("route via an address on no subnet");
      nh = Must(neighbours_->GatewayNexthop(r.via, uint32_t(vif)), "gateway");
    }
    Must(fib_->Add(r.prefix.addr, r.prefix.len, nh), "route");
  }
  for (const auto& n : cfg_.neighbours6) {
    auto vif = vifs_->ByName(n.port);
    if (!vif) Fail("IPv6 neighbour on unknown interface " + n.port);
    Must(ndp_->AddStatic(n.ip, *vif, control::ToEther(n.mac)), "IPv6 neighbour");
  }
  for (const auto& r : cfg_.routes6) {
    uint32_t nh = r.type == config::RouteType::kBlackhole     ? nh_blackhole_
                  : r.type == config::RouteType::kUnreachable ? nh_unreachable_
                                                              : 0;
    if (r.type == config::RouteType::kForward) {
      int vif = config::IsLinkLocal6(r.via) ? int(*vifs_->ByName(r.port)) : VifFor6(r.via);
      if (vif < 0) Fail("IPv6 route via an address on no subnet");
      nh = Must(ndp_->GatewayNexthop(r.via, uint32_t(vif)), "IPv6 gateway");
    }
    Must(fib6_->Add(r.prefix.addr.bytes.data(), r.prefix.len, nh), "IPv6 route");
  }
}

void Testbed::StopNeighbours() {
  for (const auto& r : cfg_.routes) {
    if (r.type == config::RouteType::kForward) (void)fib_->Delete(r.prefix.addr, r.prefix.len);
  }
  for (const auto& r : cfg_.routes6) {
    if (r.type == config::RouteType::kForward) {
      (void)fib6_->Delete(r.prefix.addr.bytes.data(), r.prefix.len);
    }
  }
  for (const control::Neighbour* n : neighbours_->List()) {
    if (n->host_route) (void)fib_->Delete(n->ip, 32);
    nexthops_->Free(n->nh);
  }
  for (const control::Neighbour6* n : ndp_->List()) {
    if (n->host_route) (void)fib6_->Delete(n->ip.bytes.data(), 128);
    nexthops_->Free(n->nh);
  }
  neighbours_.reset();  // frees the packets they held
  ndp_.reset();
}

size_t Testbed::Held() const {
  size_t held = 0;
  for (const control::Neighbour* n : neighbours_->List()) held += n->held.size();
  for (const control::Neighbour6* n : ndp_->List()) held += n->held.size();
  return held;
}

void Testbed::ToWorker(XqAction action, rte_mbuf* m) {
  if (!inq_->Push(action, dataplane::Meta(m)->index)) rte_pktmbuf_free(m);
}

uint32_t Testbed::DrainOutq() {
  uint32_t entries[256];
  uint32_t n = outq_->PopBurst(entries, 256);
  if (n != 0) outq_->Flush();
  for (uint32_t i = 0; i < n; ++i) {
    rte_mbuf* m = pool_->FromIndex(dataplane::XqParam(entries[i]));
    switch (dataplane::XqActionOf(entries[i])) {
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
      default:  // kToKernel: knet would write it to the TAP and free it
        rte_pktmbuf_free(m);
    }
  }
  return n;
}

void Testbed::Settle() {
  for (int round = 0;; ++round) {
    if (round == kMaxRounds) Fail("control and worker keep handing packets to each other");
    // Each side publishes what it pushed once per pass, as Worker::Run and Router::Run do once
    // per loop (dataplane/xq_ring.h): the worker's punts before control drains them, control's
    // replies and held packets before the worker drains them.
    outq_->Publish();
    uint32_t work = DrainOutq();
    inq_->Publish();
    work += worker_->DrainInq();
    worker_->FlushTx();
    if (work == 0) return;
  }
}

void Testbed::Burst(uint16_t port, std::vector<rte_mbuf*>* pending) {
  if (pending->empty()) return;
  worker_->ProcessBurst(port, pending->data(), uint16_t(pending->size()));
  pending->clear();
  worker_->FlushTx();
  Settle();
}

// What knet hands the worker, after the checks knet/knet.cc makes, of a frame that the kernel
// built: its IPv4 header has a sane length and a correct checksum, its length fields say the
// frame's length (the kernel writes them even for raw sockets with IP_HDRINCL).
// TTL 0 is left as it comes: a raw socket with IP_HDRINCL can make the kernel send it, and
// FromKernel must drop it (tests/fuzz/regressions/packet/kernel-frame-ttl-0).
void Testbed::FromKernel(const uint8_t* data, uint32_t len) {
  std::vector<uint8_t> f(data, data + len);
  if (len < sizeof(rte_ether_hdr)) return;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
  uint32_t l3 = len - sizeof(rte_ether_hdr);
  if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
    if (l3 < sizeof(rte_ipv4_hdr)) return;
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    if (rte_ipv4_hdr_len(ip) < sizeof(rte_ipv4_hdr) || rte_ipv4_hdr_len(ip) > l3) return;
    ip->version_ihl = uint8_t(0x40 | (ip->version_ihl & 0x0f));
    ip->total_length = rte_cpu_to_be_16(uint16_t(l3));
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  } else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
    if (l3 < sizeof(rte_ipv6_hdr)) return;
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
    ip->vtc_flow = (ip->vtc_flow & RTE_BE32(0x0fffffff)) | RTE_BE32(0x60000000);
    ip->payload_len = rte_cpu_to_be_16(uint16_t(l3 - sizeof(rte_ipv6_hdr)));
  } else {
    return;
  }
  ToWorker(XqAction::kFromKernel, HeapFrame(pool_->mempool(), f.data(), len));
  Settle();
}

uint16_t Testbed::CheckTx(uint16_t port, uint16_t, rte_mbuf** pkts, uint16_t n, void* self) {
  for (uint16_t i = 0; i < n; ++i) static_cast<const Testbed*>(self)->CheckFrame(port, pkts[i]);
  return n;
}

// What every frame on the wire must be, whatever came in. Reading all its bytes here, in
// instrumented code, also catches a frame that points into freed memory (a fragment whose
// original is gone) or past the end of its buffer.
void Testbed::CheckFrame(uint16_t port, rte_mbuf* m) const {
  uint32_t total = 0, segs = 0;
  volatile uint8_t sink = 0;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* p = rte_pktmbuf_mtod(s, const uint8_t*);
    uint8_t x = 0;
    for (uint16_t j = 0; j < s->data_len; ++j) x ^= p[j];
    sink = sink ^ x;
    total += s->data_len;
    ++segs;
  }
  if (total != m->pkt_len || segs != m->nb_segs) {
    Fail(absl::StrFormat("port %u: frame of pkt_len %u and %u segments holds %u bytes in %u", port,
                         m->pkt_len, m->nb_segs, total, segs));
  }
  uint32_t len = m->data_len;  // the headers are all in the first segment
  if (len < sizeof(rte_ether_hdr)) Fail(absl::StrFormat("port %u: a %u-byte frame", port, len));
  const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
  uint64_t src = 0;
  memcpy(&src, h + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
  if (!our_macs_.contains(src)) Fail(absl::StrFormat("port %u: a frame from another MAC", port));
  uint32_t off = 2 * RTE_ETHER_ADDR_LEN;
  uint16_t type;
  for (;;) {  // past the tags PushTags wrote
    if (off + 2 > len) Fail(absl::StrFormat("port %u: frame ends in its tags", port));
    memcpy(&type, h + off, 2);
    off += 2;
    if (type != RTE_BE16(RTE_ETHER_TYPE_VLAN) && type != RTE_BE16(RTE_ETHER_TYPE_QINQ)) break;
    if (off + 2 > len) Fail(absl::StrFormat("port %u: frame ends in its tags", port));
    off += 2;
  }
  uint32_t l3 = m->pkt_len - off;
  if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
    if (len - off < sizeof(rte_ipv4_hdr)) Fail("IPv4 frame shorter than its header");
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(h + off);
    uint32_t hl = rte_ipv4_hdr_len(ip);
    if ((ip->version_ihl >> 4) != 4 || hl < sizeof(rte_ipv4_hdr) || hl > len - off) {
      Fail("IPv4 header with a bad version or length sent");
    }
    if (rte_raw_cksum(ip, hl) != 0xffff) Fail("IPv4 header with a bad checksum sent");
    if (rte_be_to_cpu_16(ip->total_length) > l3 || rte_be_to_cpu_16(ip->total_length) < hl) {
      Fail(absl::StrFormat("IPv4 total length %u in %u bytes sent",
                           rte_be_to_cpu_16(ip->total_length), l3));
    }
    if (ip->time_to_live == 0) Fail("IPv4 packet with TTL 0 sent");
  } else if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
    if (l3 < sizeof(rte_ipv6_hdr) || len - off < sizeof(rte_ipv6_hdr)) {
      Fail("IPv6 frame shorter than its header");
    }
    const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(h + off);
    if (sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip->payload_len) > l3) {
      Fail("IPv6 payload length beyond the frame sent");
    }
  } else if (type != RTE_BE16(RTE_ETHER_TYPE_ARP)) {
    Fail(absl::StrFormat("port %u: EtherType 0x%04x sent", port, rte_be_to_cpu_16(type)));
  }
}

// Input: records of [kind][length, 2 bytes big-endian][length bytes]. kind & 3: 0 a frame on
// port a, 1 on port b, 2 a frame from the kernel, 3 a tick of the ARP and NDP timers `length` x
// 100 ms on (no bytes follow). Consecutive frames of one port make one burst of up to 32.
void Testbed::RunInput(const uint8_t* data, size_t size) {
  std::vector<rte_mbuf*> pending;
  uint16_t pending_port = 0;
  size_t at = 0;
  for (uint32_t records = 0; at + 3 <= size && records < kMaxRecords; ++records) {
    uint8_t kind = data[at] & 3;
    uint32_t len = uint32_t(data[at + 1]) << 8 | data[at + 2];
    at += 3;
    if (kind == 3) {
      Burst(pending_port, &pending);
      uint64_t now = control::NowMs() + uint64_t{len} * 100;
      neighbours_->OnTimer(now);
      ndp_->OnTimer(now);
      Settle();
      continue;
    }
    len = std::min<uint32_t>({len, uint32_t(size - at), kMaxFrame});
    if (kind == 2) {
      Burst(pending_port, &pending);
      FromKernel(data + at, len);
    } else {
      uint16_t port = port_ids_[kind];
      if (port != pending_port || pending.size() == dataplane::kBurst) {
        Burst(pending_port, &pending);
      }
      pending_port = port;
      pending.push_back(HeapFrame(pool_->mempool(), data + at, len));
    }
    at += len;
  }
  Burst(pending_port, &pending);

  // Every nbuf is back in the pool but the packets ARP and NDP hold for resolution.
  uint32_t in_use = pool_->InUse();
  size_t held = Held();
  if (in_use != baseline_ + held) {
    Fail(absl::StrFormat("%u nbufs in use, %u held by ARP and NDP, %u at rest: %d lost", in_use,
                         held, baseline_, int(in_use) - int(baseline_ + held)));
  }
  StopNeighbours();
  StartNeighbours();
  if (pool_->InUse() != baseline_) Fail("nbufs still in use after the tables were reset");
}

Testbed* testbed = nullptr;

}  // namespace
}  // namespace vr::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // What EAL and the PMDs allocate once and keep is not a leak of the code under test.
  __lsan_disable();
  vr::fuzz::testbed = new vr::fuzz::Testbed();
  vr::fuzz::testbed->Build();
  __lsan_enable();
  // Quiet from here: neighbour and reload notices on every input would cost more than the input.
  rte_log_set_global_level(RTE_LOG_CRIT);
  // Ports closed and EAL cleaned up at the end of a run, so no runtime directory stays behind.
  atexit([] { delete vr::fuzz::testbed; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vr::fuzz::testbed->RunInput(data, size);
  return 0;
}
