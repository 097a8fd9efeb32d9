// NDP (RFC 4861) on the control lcore: validation of neighbour solicitations and advertisements
// (§7.1), advertisements for our addresses (§7.2.4), learning from solicitations (§7.2.3) and
// advertisements (§7.2.5), resolution with bounded hold queues, and the reachable / stale /
// delay / probe cycle of §7.3. The ARP table (neighbours.cc) is the model; comments say where
// NDP differs.
#include "control/ndp.h"

#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "dataplane/icmp6.h"
#include "dataplane/ip6_check.h"
#include "drivers/log.h"

namespace vr::control {

using config::Ip6Addr;
using dataplane::DropReason;
using dataplane::Meta;
using dataplane::NhKind;

namespace {

constexpr uint64_t kDelayFirstProbeMs = 5000;  // RFC 4861 §10 DELAY_FIRST_PROBE_TIME
constexpr uint8_t kNdHopLimit = 255;           // §7.1: proof that the frame never left the link
constexpr uint32_t kNdHeader = 24;             // type, code, checksum, flags/reserved, target
constexpr uint32_t kLlOption = 8;              // type, length 1, a 6-byte MAC (§4.6.1)
constexpr uint8_t kOptSourceLl = 1;
constexpr uint8_t kOptTargetLl = 2;
constexpr uint8_t kNaRouter = 0x80;
constexpr uint8_t kNaSolicited = 0x40;
constexpr uint8_t kNaOverride = 0x20;
constexpr uint32_t kEthIp6 = sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr);

Ip6Addr AddrAt(const void* p) {
  Ip6Addr a;
  memcpy(a.bytes.data(), p, 16);
  return a;
}

bool Unspecified(const Ip6Addr& a) { return dataplane::Ip6Unspecified(a.bytes.data()); }

// ff02::1:ffXX:XXXX, the low 24 bits of `ip` (RFC 4291 §2.7.1).
Ip6Addr SolicitedNode(const Ip6Addr& ip) {
  Ip6Addr g{};
  g.bytes[0] = 0xff;
  g.bytes[1] = 0x02;
  g.bytes[11] = 0x01;
  g.bytes[12] = 0xff;
  memcpy(&g.bytes[13], &ip.bytes[13], 3);
  return g;
}

bool IsSolicitedNode(const uint8_t* a) {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  return memcmp(a, kPrefix, sizeof(kPrefix)) == 0;
}

const Ip6Addr kAllNodes = [] {
  Ip6Addr a{};
  a.bytes[0] = 0xff;
  a.bytes[1] = 0x02;
  a.bytes[15] = 0x01;
  return a;
}();

// RFC 2464 §7: 33:33 and the group's low 32 bits.
rte_ether_addr MulticastMac(const Ip6Addr& group) {
  rte_ether_addr mac{{0x33, 0x33}};
  memcpy(&mac.addr_bytes[2], &group.bytes[12], 4);
  return mac;
}

// The options of an NS or NA that matter here.
struct NdOptions {
  bool source_ll_present = false;             // any source link-layer option, usable or not
  const rte_ether_addr* source_ll = nullptr;  // a usable one: Ethernet-sized, a unicast MAC
  const rte_ether_addr* target_ll = nullptr;
};

const rte_ether_addr* UsableMac(const uint8_t* opt, uint32_t len) {
  // An option whose length is not Ethernet's is not for this link: ignored, like Linux does.
  if (len != kLlOption) return nullptr;
  auto* mac = reinterpret_cast<const rte_ether_addr*>(opt + 2);
  return rte_is_valid_assigned_ether_addr(mac) ? mac : nullptr;
}

// §7.1.1 / §7.1.2: every option has a non-zero length and ends within the message. Unknown
// options are skipped (§4.6).
bool ParseOptions(const uint8_t* p, uint32_t len, NdOptions* out) {
  for (uint32_t i = 0; i < len;) {
    if (i + 2 > len) return false;
    uint32_t olen = uint32_t{p[i + 1]} * 8;
    if (olen == 0 || i + olen > len) return false;
    if (p[i] == kOptSourceLl) {
      out->source_ll_present = true;
      out->source_ll = UsableMac(p + i, olen);
    } else if (p[i] == kOptTargetLl) {
      out->target_ll = UsableMac(p + i, olen);
    }
    i += olen;
  }
  return true;
}

// A whole NS or NA in a new nbuf: Ethernet, IPv6 (hop limit 255), the ICMPv6 message and one
// link-layer address option carrying `our_mac`.
rte_mbuf* BuildNd(rte_mempool* pool, const rte_ether_addr& eth_dst, const rte_ether_addr& our_mac,
                  const Ip6Addr& src, const Ip6Addr& dst, uint8_t type, uint8_t flags,
                  const Ip6Addr& target, uint8_t option) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  constexpr uint32_t kIcmpLen = kNdHeader + kLlOption;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, kEthIp6 + kIcmpLen));
  memset(eth, 0, kEthIp6 + kIcmpLen);
  eth->dst_addr = eth_dst;
  eth->src_addr = our_mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
  ip->vtc_flow = RTE_BE32(6u << 28);
  ip->payload_len = RTE_BE16(kIcmpLen);
  ip->proto = dataplane::kIp6NextIcmp;
  ip->hop_limits = kNdHopLimit;
  memcpy(&ip->src_addr, src.bytes.data(), 16);
  memcpy(&ip->dst_addr, dst.bytes.data(), 16);
  auto* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  icmp[0] = type;
  icmp[4] = flags;
  memcpy(icmp + 8, target.bytes.data(), 16);
  icmp[kNdHeader] = option;
  icmp[kNdHeader + 1] = 1;  // in units of 8 octets
  memcpy(icmp + kNdHeader + 2, our_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  uint16_t c = dataplane::Icmp6Checksum(ip, icmp, kIcmpLen);
  memcpy(icmp + 2, &c, 2);
  return m;
}

}  // namespace

Ndp6Table::~Ndp6Table() {
  for (auto& [key, n] : table_) {
    for (rte_mbuf* m : n.held) rte_pktmbuf_free(m);
  }
}

Neighbour6* Ndp6Table::Find(const Ip6Addr& ip, uint32_t vif) {
  auto it = table_.find(Key{ip, vif});
  return it == table_.end() ? nullptr : &it->second;
}

const Neighbour6* Ndp6Table::Get(const Ip6Addr& ip, uint32_t vif) const {
  auto it = table_.find(Key{ip, vif});
  return it == table_.end() ? nullptr : &it->second;
}

Ip6Addr Ndp6Table::SourceFor(uint32_t vif, const Ip6Addr& ip) const {
  for (const auto& a : env_.vif_addresses(vif)) {
    if (config::Contains6(a, ip)) return a.addr;
  }
  return env_.vif_link_local(vif);
}

bool Ndp6Table::IsOurs(uint32_t vif, const Ip6Addr& ip) const {
  if (Unspecified(ip)) return false;
  if (env_.vif_link_local(vif) == ip) return true;
  for (const auto& a : env_.vif_addresses(vif)) {
    if (a.addr == ip) return true;
  }
  return false;
}

bool Ndp6Table::OnSubnet(uint32_t vif, const Ip6Addr& ip) const {
  for (const auto& a : env_.vif_addresses(vif)) {
    if (config::Contains6(a, ip)) return true;
  }
  return false;
}

absl::StatusOr<Neighbour6*> Ndp6Table::Create(const Ip6Addr& ip, uint32_t vif, uint64_t now_ms) {
  auto nh = env_.nexthops->Alloc6(NhKind::kNeighbour, ip.bytes.data(), vif);
  if (!nh.ok()) return nh.status();
  Neighbour6& n = table_[Key{ip, vif}];
  n.ip = ip;
  n.vif = vif;
  n.nh = *nh;
  n.last_used_ms = now_ms;
  // Like ARP's /32: a global neighbour in a connected subnet gets a /128 so packets for it find
  // its next hop in one lookup. A link-local one is never a destination the FIB routes to. A
  // /128 already there is a configured route, which stays as it is.
  if (!config::IsLinkLocal6(ip) && OnSubnet(vif, ip) && !env_.fib6->Has(ip.bytes.data(), 128)) {
    if (absl::Status s = env_.fib6->Add(ip.bytes.data(), 128, n.nh); s.ok()) {
      n.host_route = true;
    } else {
      VR_LOG_WARNING("neighbour %s: no host route: %s", config::FormatIp6(ip), s.message());
    }
  }
  return &n;
}

void Ndp6Table::Remove(Neighbour6* n) { RemoveAll({Key{n->ip, n->vif}}); }

void Ndp6Table::RemoveAll(const std::vector<Key>& keys) {
  if (keys.empty()) return;
  for (const Key& k : keys) {
    Neighbour6& n = table_.at(k);
    DropHeld(&n, DropReason::kNdResolutionFailed);
    if (n.host_route) (void)env_.fib6->Delete(n.ip.bytes.data(), 128);
  }
  // One grace period for the lot: then no worker can still hold one of these next hops.
  env_.synchronize();
  for (const Key& k : keys) {
    uint32_t nh = table_.at(k).nh;
    env_.take_used(nh);
    env_.nexthops->Free(nh);
    table_.erase(k);
  }
}

absl::Status Ndp6Table::AddStatic(const Ip6Addr& ip, uint32_t vif, const rte_ether_addr& mac) {
  if (Unspecified(ip) || dataplane::Ip6Multicast(ip.bytes.data())) {
    return absl::InvalidArgumentError("a neighbour's address is one host's");
  }
  Neighbour6* n = Find(ip, vif);
  if (n == nullptr) {
    auto created = Create(ip, vif, NowMs());
    if (!created.ok()) return created.status();
    n = *created;
  }
  SetMac(n, mac, NeighState::kPermanent, NowMs());
  return absl::OkStatus();
}

void Ndp6Table::RemoveStatic(const Ip6Addr& ip, uint32_t vif) {
  Neighbour6* n = Find(ip, vif);
  if (n == nullptr || n->state != NeighState::kPermanent) return;
  if (n->route_refs == 0) return Remove(n);
  n->state = NeighState::kStale;
  n->last_used_ms = NowMs();
  VR_LOG_NOTICE("neighbour %s dev %s no longer static: stale", config::FormatIp6(ip),
                env_.vif_name(vif));
}

absl::StatusOr<uint32_t> Ndp6Table::GatewayNexthop(const Ip6Addr& ip, uint32_t vif) {
  Neighbour6* n = Find(ip, vif);
  if (n == nullptr) {
    auto created = Create(ip, vif, NowMs());
    if (!created.ok()) return created.status();
    n = *created;
  }
  n->route_refs++;
  return n->nh;
}

void Ndp6Table::ReleaseGateway(const Ip6Addr& ip, uint32_t vif) {
  Neighbour6* n = Find(ip, vif);
  if (n == nullptr || n->route_refs == 0) return;
  n->route_refs--;
  n->last_used_ms = NowMs();  // garbage collection counts from here
}

size_t Ndp6Table::RemoveOffSubnet() {
  std::vector<Key> doomed;
  for (auto& [key, n] : table_) {
    if (n.route_refs != 0) continue;
    // A link-local neighbour belongs to its link, which lasts while the vif has IPv6.
    bool stays = config::IsLinkLocal6(n.ip) ? !Unspecified(env_.vif_link_local(n.vif))
                                            : OnSubnet(n.vif, n.ip);
    if (!stays) doomed.push_back(key);
  }
  RemoveAll(doomed);
  return doomed.size();
}

void Ndp6Table::SetMac(Neighbour6* n, const rte_ether_addr& mac, NeighState state,
                       uint64_t now_ms) {
  bool changed =
      !rte_is_same_ether_addr(&mac, &n->mac) ||
      !(env_.fib->nexthop(n->nh).l2.load(std::memory_order_relaxed) & dataplane::kL2Resolved);
  n->mac = mac;
  n->state = state;
  n->probes = 0;
  n->timer_ms = now_ms + uint64_t{env_.nd.reachable_seconds} * 1000;
  if (changed) {
    // One 64-bit store: a worker sees the old MAC or the new, never half of each.
    env_.fib->nexthop(n->nh).l2.store(dataplane::kL2Resolved | dataplane::PackMac(mac),
                                      std::memory_order_release);
    char text[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(text, sizeof(text), &mac);
    VR_LOG_NOTICE("neighbour %s dev %s lladdr %s %s", config::FormatIp6(n->ip),
                  env_.vif_name(n->vif), text, NeighStateName(state));
  }
  ReleaseHeld(n);
}

void Ndp6Table::Invalidate(Neighbour6* n, NeighState state, uint64_t now_ms) {
  env_.fib->nexthop(n->nh).l2.store(0, std::memory_order_release);
  n->state = state;
  n->probes = 0;
  n->timer_ms = now_ms;
}

void Ndp6Table::ReleaseHeld(Neighbour6* n) {
  while (!n->held.empty()) {
    rte_mbuf* m = n->held.front();
    n->held.pop_front();
    Meta(m)->nexthop = n->nh;
    env_.output(m);
  }
}

void Ndp6Table::DropHeld(Neighbour6* n, DropReason reason) {
  env_.counters->Drop(reason, n->held.size());
  for (rte_mbuf* m : n->held) rte_pktmbuf_free(m);
  n->held.clear();
}

void Ndp6Table::Hold(Neighbour6* n, rte_mbuf* m, uint64_t now_ms) {
  Meta(m)->nexthop = n->nh;
  if (env_.fib->nexthop(n->nh).l2.load(std::memory_order_relaxed) & dataplane::kL2Resolved) {
    return env_.output(m);  // resolved while the packet was on its way here
  }
  if (env_.nd.hold_packets == 0) {
    env_.counters->Drop(DropReason::kNdHoldOverflow);
    return (void)rte_pktmbuf_free(m);
  }
  if (n->held.size() >= env_.nd.hold_packets) {
    // The oldest goes, the newest is kept (as the kernel's queue and the ARP table do).
    env_.counters->Drop(DropReason::kNdHoldOverflow);
    rte_pktmbuf_free(n->held.front());
    n->held.pop_front();
  }
  n->held.push_back(m);
  if (n->state == NeighState::kFailed || (n->state == NeighState::kIncomplete && n->probes == 0)) {
    n->state = NeighState::kIncomplete;
    n->probes = 0;
    SendSolicit(n, false);
    n->timer_ms = now_ms + env_.nd.retry_ms;
  }
}

void Ndp6Table::SendSolicit(Neighbour6* n, bool unicast) {
  // Counted as sent whether or not it goes, so a round always ends.
  n->probes++;
  Ip6Addr src = SourceFor(n->vif, n->ip);
  if (Unspecified(src)) {
    // §7.2.2: the source is one of the interface's addresses; from :: it would read as DAD.
    return;
  }
  // §7.2.2: to the solicited-node group to resolve, to the neighbour itself to probe (§7.3.3);
  // the source link-layer option either way, so the answer needs no resolution of its own.
  Ip6Addr dst = unicast ? n->ip : SolicitedNode(n->ip);
  rte_ether_addr eth_dst = unicast ? n->mac : MulticastMac(dst);
  rte_mbuf* m = BuildNd(env_.pool->mempool(), eth_dst, env_.vif_mac(n->vif), src, dst,
                        dataplane::kNdNeighbourSolicit, 0, n->ip, kOptSourceLl);
  if (m == nullptr) {
    env_.counters->Drop(DropReason::kNbufExhausted);
    return;
  }
  Meta(m)->tx_vif = n->vif;
  dataplane::SetPacketVif(m, n->vif);
  env_.transmit(m);
}

void Ndp6Table::Learn(const Ip6Addr& ip, uint32_t vif, const rte_ether_addr& mac, uint64_t now_ms) {
  // §7.2.3: a new entry is STALE; a known one goes STALE only if the address changed (or it had
  // none yet, which releases what it held), else its state stays.
  Neighbour6* n = Find(ip, vif);
  if (n == nullptr) {
    auto created = Create(ip, vif, now_ms);
    if (created.ok()) SetMac(*created, mac, NeighState::kStale, now_ms);
    return;
  }
  if (n->state == NeighState::kPermanent) return;
  bool has_mac = n->state != NeighState::kIncomplete && n->state != NeighState::kFailed;
  if (!has_mac || !rte_is_same_ether_addr(&mac, &n->mac)) {
    SetMac(n, mac, NeighState::kStale, now_ms);
  }
}

void Ndp6Table::LearnRouterSolicitor(const Ip6Addr& ip, uint32_t vif, const rte_ether_addr& mac) {
  if (Unspecified(ip) || IsOurs(vif, ip)) return;
  if (config::IsLinkLocal6(ip) || OnSubnet(vif, ip)) Learn(ip, vif, mac, NowMs());
}

void Ndp6Table::OnNdFrame(rte_mbuf* m) {
  uint32_t vif = dataplane::PacketVif(m);
  uint32_t len = rte_pktmbuf_data_len(m);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  // ND never carries extension headers (nor does anything else the worker punts here).
  if (len < kEthIp6 || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 ||
      rte_be_to_cpu_16(ip->payload_len) < 4 || kEthIp6 + rte_be_to_cpu_16(ip->payload_len) > len ||
      ip->proto != dataplane::kIp6NextIcmp) {
    env_.counters->Drop(DropReason::kNdInvalid);
    return (void)rte_pktmbuf_free(m);
  }
  uint32_t icmp_len = rte_be_to_cpu_16(ip->payload_len);
  auto* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  const Ip6Addr dst = AddrAt(&ip->dst_addr);
  switch (icmp[0]) {
    case dataplane::kNdNeighbourSolicit:
    case dataplane::kNdNeighbourAdvert:
      break;
    case dataplane::kNdRouterSolicit:
      if (env_.router_solicit) return env_.router_solicit(m);
      return (void)rte_pktmbuf_free(m);
    case dataplane::kNdRouterAdvert:
    case dataplane::kNdRedirect:
      // Counted as punted by the worker; a router follows neither (RFC 4861 §6.2.7's checks
      // of other routers' advertisements are not done).
      return (void)rte_pktmbuf_free(m);
    default:
      // Other ICMPv6 to a link-local address: only an echo request to ours is answered.
      if (dst != env_.vif_link_local(vif) || Unspecified(dst)) {
        env_.counters->Drop(DropReason::kIp6LinkLocal);
        return (void)rte_pktmbuf_free(m);
      }
      return OnEchoRequest(m);
  }

  // §7.1.1 (NS) and §7.1.2 (NA).
  NdOptions opts;
  bool valid = ip->hop_limits == kNdHopLimit && icmp_len >= kNdHeader &&
               dataplane::Icmp6Checksum(ip, icmp, icmp_len) == 0 && icmp[1] == 0 &&
               !dataplane::Ip6Multicast(icmp + 8) &&
               ParseOptions(icmp + kNdHeader, icmp_len - kNdHeader, &opts);
  const Ip6Addr src = AddrAt(&ip->src_addr);
  if (valid && icmp[0] == dataplane::kNdNeighbourSolicit && Unspecified(src)) {
    valid = IsSolicitedNode(dst.bytes.data()) && !opts.source_ll_present;
  }
  if (valid && icmp[0] == dataplane::kNdNeighbourAdvert) {
    valid = !(dataplane::Ip6Multicast(dst.bytes.data()) && (icmp[4] & kNaSolicited));
  }
  if (!valid) {
    env_.counters->Drop(DropReason::kNdInvalid);
    return (void)rte_pktmbuf_free(m);
  }
  const Ip6Addr target = AddrAt(icmp + 8);
  uint64_t now = NowMs();
  if (icmp[0] == dataplane::kNdNeighbourAdvert) {
    OnAdvert(vif, src, target, icmp[4], opts.target_ll, now);
    return (void)rte_pktmbuf_free(m);
  }

  // §7.2.3: a solicitation for an address that is not ours is silently discarded, learning
  // nothing (ARP, by RFC 826's merge, refreshes a sender it knows; NDP does not).
  bool dad = Unspecified(src);
  if (!IsOurs(vif, target) || (!dad && IsOurs(vif, src))) return (void)rte_pktmbuf_free(m);
  if (!dad && opts.source_ll != nullptr && (config::IsLinkLocal6(src) || OnSubnet(vif, src))) {
    Learn(src, vif, *opts.source_ll, now);
  }
  // §7.2.4: a solicited advertisement to the solicitor, or for DAD (from ::) an unsolicited one
  // to all nodes. R because this is a router; O because the address is ours, not an anycast or
  // proxied one. A unicast solicitation may lack the source option: its frame's source MAC is
  // the solicitor's.
  const rte_ether_addr our = env_.vif_mac(vif);
  rte_ether_addr eth_dst = rte_pktmbuf_mtod(m, rte_ether_hdr*)->src_addr;
  if (dad) {
    eth_dst = MulticastMac(kAllNodes);
  } else if (opts.source_ll != nullptr) {
    eth_dst = *opts.source_ll;
  }
  uint8_t flags = kNaRouter | kNaOverride | (dad ? 0 : kNaSolicited);
  rte_mbuf* reply = BuildNd(env_.pool->mempool(), eth_dst, our, target, dad ? kAllNodes : src,
                            dataplane::kNdNeighbourAdvert, flags, target, kOptTargetLl);
  rte_pktmbuf_free(m);
  if (reply == nullptr) return env_.counters->Drop(DropReason::kNbufExhausted);
  Meta(reply)->tx_vif = vif;
  dataplane::SetPacketVif(reply, vif);
  env_.transmit(reply);
}

void Ndp6Table::OnAdvert(uint32_t vif, const Ip6Addr& src, const Ip6Addr& target, uint8_t flags,
                         const rte_ether_addr* tll, uint64_t now_ms) {
  if (IsOurs(vif, target)) {
    // Someone else claims one of our addresses (we do no DAD of our own, RFC 4862 §5.4.4).
    VR_LOG_WARNING("dev %s: %s advertises our address %s", env_.vif_name(vif),
                   config::FormatIp6(src), config::FormatIp6(target));
    return;
  }
  // §7.2.5: an advertisement for an address with no entry is silently discarded.
  Neighbour6* n = Find(target, vif);
  if (n == nullptr || n->state == NeighState::kPermanent) return;
  bool solicited = flags & kNaSolicited;
  bool override = flags & kNaOverride;
  if (n->state == NeighState::kIncomplete || n->state == NeighState::kFailed) {
    // No address to compare with: take the advertised one, or ignore an advertisement without.
    // (RFC 4861 deletes failed entries; ours stay while routes use them, so FAILED is treated as
    // INCOMPLETE.)
    if (tll == nullptr) return;
    n->router = flags & kNaRouter;
    return SetMac(n, *tll, solicited ? NeighState::kReachable : NeighState::kStale, now_ms);
  }
  bool differs = tll != nullptr && !rte_is_same_ether_addr(tll, &n->mac);
  if (!override && differs) {
    // §7.2.5 (I): not allowed to replace the address; a reachable entry is in doubt.
    if (n->state == NeighState::kReachable) n->state = NeighState::kStale;
    return;
  }
  // §7.2.5 (II).
  n->router = flags & kNaRouter;
  if (solicited) {
    SetMac(n, differs ? *tll : n->mac, NeighState::kReachable, now_ms);
  } else if (differs) {
    SetMac(n, *tll, NeighState::kStale, now_ms);
  }
}

void Ndp6Table::OnEchoRequest(rte_mbuf* m) {
  uint32_t vif = dataplane::PacketVif(m);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  const Ip6Addr peer = AddrAt(&ip->src_addr);
  // The answer goes to a neighbour on this link: link-local, or in one of the vif's subnets.
  if ((!config::IsLinkLocal6(peer) && !OnSubnet(vif, peer)) ||
      !dataplane::Icmp6EchoReplyInPlace(m, sizeof(rte_ipv6_hdr))) {
    env_.counters->Drop(DropReason::kIp6LocalUnsupported);
    return (void)rte_pktmbuf_free(m);
  }
  OnLinkLocalOutput(m);  // the reply, now addressed to the peer
}

void Ndp6Table::OnLinkLocalOutput(rte_mbuf* m) {
  uint32_t vif = dataplane::PacketVif(m);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  const Ip6Addr peer = AddrAt(&ip->dst_addr);
  uint64_t now = NowMs();
  Neighbour6* n = Find(peer, vif);
  if (n == nullptr) {
    auto created = Create(peer, vif, now);
    if (!created.ok()) {
      env_.counters->Drop(DropReason::kNdResolutionFailed);
      return (void)rte_pktmbuf_free(m);
    }
    n = *created;
  }
  // Out through the neighbour's next hop, like any held packet: the worker writes Ethernet.
  Hold(n, m, now);
}

void Ndp6Table::OnResolve(rte_mbuf* m) {
  dataplane::NbufMeta* meta = Meta(m);
  const dataplane::Nexthop& nh = env_.fib->nexthop(meta->nexthop);
  Ip6Addr ip;
  if (nh.v6 && nh.kind == NhKind::kNeighbour) {
    ip = AddrAt(nh.ip6);
  } else if (nh.v6 && nh.kind == NhKind::kConnected && rte_pktmbuf_data_len(m) >= kEthIp6) {
    ip = AddrAt(&rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr))->dst_addr);
  } else {
    // A next hop freed while the packet was in the ring, or not one to resolve.
    env_.counters->Drop(DropReason::kNdResolutionFailed);
    return (void)rte_pktmbuf_free(m);
  }
  uint32_t vif = nh.vif;
  uint64_t now = NowMs();
  Neighbour6* n = Find(ip, vif);
  if (n == nullptr) {
    auto created = Create(ip, vif, now);
    if (!created.ok()) {
      env_.counters->Drop(DropReason::kNdResolutionFailed);
      return (void)rte_pktmbuf_free(m);
    }
    n = *created;
  }
  Hold(n, m, now);
}

void Ndp6Table::OnTimer(uint64_t now_ms) {
  std::vector<Key> doomed;
  const uint64_t gc_ms = uint64_t{env_.nd.gc_seconds} * 1000;
  for (auto& [key, n] : table_) {
    if (n.state == NeighState::kPermanent) continue;
    bool used = env_.take_used(n.nh);
    if (used) n.last_used_ms = now_ms;
    bool idle = n.route_refs == 0 && n.held.empty() && now_ms >= n.last_used_ms + gc_ms;
    switch (n.state) {
      case NeighState::kIncomplete:
        if (n.probes == 0) {
          // Created for a route that has not carried a packet yet, and may be gone.
          if (idle) doomed.push_back(key);
          break;
        }
        if (now_ms < n.timer_ms) break;
        if (n.probes < env_.nd.retries) {
          SendSolicit(&n, false);
          n.timer_ms = now_ms + env_.nd.retry_ms;
        } else {
          DropHeld(&n, DropReason::kNdResolutionFailed);
          VR_LOG_NOTICE("neighbour %s dev %s FAILED after %u solicitations",
                        config::FormatIp6(n.ip), env_.vif_name(n.vif), n.probes);
          Invalidate(&n, NeighState::kFailed, now_ms);
          if (n.route_refs == 0) doomed.push_back(key);
        }
        break;
      case NeighState::kReachable:
        // §7.3.3: ReachableTime without confirmation. (Not randomised as §6.3.2 asks: one
        // router's entries expiring together costs nothing on a link.)
        if (now_ms >= n.timer_ms) n.state = NeighState::kStale;
        break;
      case NeighState::kStale:
        if (used) {
          // §7.3.3: a packet went out to a stale entry: give upper layers a chance to confirm
          // before probing. (ARP probes at once.)
          n.state = NeighState::kDelay;
          n.timer_ms = now_ms + kDelayFirstProbeMs;
        } else if (idle) {
          doomed.push_back(key);
        }
        break;
      case NeighState::kDelay:
        if (now_ms < n.timer_ms) break;
        n.state = NeighState::kProbe;
        n.probes = 0;
        SendSolicit(&n, true);
        n.timer_ms = now_ms + env_.nd.retry_ms;
        break;
      case NeighState::kProbe:
        if (now_ms < n.timer_ms) break;
        if (n.probes < env_.nd.retries) {
          SendSolicit(&n, true);
          n.timer_ms = now_ms + env_.nd.retry_ms;
        } else {
          VR_LOG_NOTICE("neighbour %s dev %s FAILED after %u probes", config::FormatIp6(n.ip),
                        env_.vif_name(n.vif), n.probes);
          Invalidate(&n, NeighState::kFailed, now_ms);
          if (n.route_refs == 0) doomed.push_back(key);
        }
        break;
      case NeighState::kFailed:
        // Kept while routes use it (a packet through one restarts resolution); collected once
        // they are gone.
        if (idle) doomed.push_back(key);
        break;
      case NeighState::kPermanent:
        break;
    }
  }
  RemoveAll(doomed);
}

std::vector<const Neighbour6*> Ndp6Table::List() const {
  std::vector<const Neighbour6*> out;
  out.reserve(table_.size());
  for (const auto& [key, n] : table_) out.push_back(&n);  // the map's order: address, vif
  return out;
}

}  // namespace vr::control
