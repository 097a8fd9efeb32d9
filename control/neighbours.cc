// ARP (RFC 826) on the control lcore: learning by the merge rule, replies for our addresses,
// resolution with bounded hold queues, and the reachable/stale/probe/failed aging cycle.
#include "control/neighbours.h"

#include <time.h>

#include "absl/strings/str_format.h"
#include "drivers/log.h"

namespace vr::control {

using dataplane::DropReason;
using dataplane::Event;
using dataplane::Meta;
using dataplane::NhKind;

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string_view NeighStateName(NeighState s) {
  switch (s) {
    case NeighState::kIncomplete: return "incomplete";
    case NeighState::kReachable: return "reachable";
    case NeighState::kStale: return "stale";
    case NeighState::kDelay: return "delay";
    case NeighState::kProbe: return "probe";
    case NeighState::kFailed: return "failed";
    case NeighState::kPermanent: return "permanent";
  }
  return "unknown";
}

namespace {

bool InPrefix(uint32_t ip, const config::Ip4Prefix& p) {
  uint32_t mask = config::PrefixMask(p.len);
  return (ip & mask) == (p.addr & mask);
}

}  // namespace

NeighbourTable::~NeighbourTable() {
  for (auto& [ip, n] : table_) {
    for (rte_mbuf* m : n.held) rte_pktmbuf_free(m);
  }
}

Neighbour* NeighbourTable::Find(uint32_t ip) {
  auto it = table_.find(ip);
  return it == table_.end() ? nullptr : &it->second;
}

uint32_t NeighbourTable::SourceFor(uint32_t vif, uint32_t ip) const {
  for (const auto& a : env_.vif_addresses(vif)) {
    if (InPrefix(ip, a)) return a.addr;
  }
  return 0;
}

bool NeighbourTable::IsOurs(uint32_t vif, uint32_t ip) const {
  for (const auto& a : env_.vif_addresses(vif)) {
    if (a.addr == ip) return true;
  }
  return false;
}

absl::StatusOr<Neighbour*> NeighbourTable::Create(uint32_t ip, uint32_t vif, uint64_t now_ms) {
  auto nh = env_.nexthops->Alloc(NhKind::kNeighbour, rte_cpu_to_be_32(ip), vif);
  if (!nh.ok()) return nh.status();
  Neighbour& n = table_[ip];
  n.ip = ip;
  n.vif = vif;
  n.nh = *nh;
  n.last_used_ms = now_ms;
  // The /32 sends packets for this host straight to its next hop: one FIB lookup per packet.
  if (absl::Status s = env_.fib->Add(ip, 32, n.nh); s.ok()) {
    n.host_route = true;
  } else {
    VR_LOG_WARNING("neighbour %s: no host route: %s", config::FormatIp4(ip), s.message());
  }
  return &n;
}

void NeighbourTable::Remove(Neighbour* n) {
  DropHeld(n, DropReason::kArpResolutionFailed);
  if (n->host_route) (void)env_.fib->Delete(n->ip, 32);
  env_.synchronize();
  env_.take_used(n->nh);
  env_.nexthops->Free(n->nh);
  table_.erase(n->ip);
}

absl::Status NeighbourTable::AddStatic(uint32_t ip, uint32_t vif, const rte_ether_addr& mac) {
  Neighbour* n = Find(ip);
  if (n == nullptr) {
    auto created = Create(ip, vif, NowMs());
    if (!created.ok()) return created.status();
    n = *created;
  }
  SetMac(n, mac, NeighState::kPermanent, NowMs());
  return absl::OkStatus();
}

void NeighbourTable::RemoveStatic(uint32_t ip) {
  Neighbour* n = Find(ip);
  if (n == nullptr || n->state != NeighState::kPermanent) return;
  if (n->route_refs == 0) return Remove(n);
  n->state = NeighState::kStale;
  n->last_used_ms = NowMs();
  VR_LOG_NOTICE("neighbour %s dev %s no longer static: stale", config::FormatIp4(ip),
                env_.vif_name(n->vif));
}

void NeighbourTable::ReleaseGateway(uint32_t ip) {
  Neighbour* n = Find(ip);
  if (n != nullptr && n->route_refs > 0) n->route_refs--;
}

size_t NeighbourTable::RemoveOffSubnet() {
  std::vector<uint32_t> doomed;
  for (auto& [ip, n] : table_) {
    if (n.route_refs == 0 && SourceFor(n.vif, ip) == 0) doomed.push_back(ip);
  }
  for (uint32_t ip : doomed) Remove(&table_[ip]);
  return doomed.size();
}

const Neighbour* NeighbourTable::Get(uint32_t ip) const {
  auto it = table_.find(ip);
  return it == table_.end() ? nullptr : &it->second;
}

absl::StatusOr<uint32_t> NeighbourTable::GatewayNexthop(uint32_t ip, uint32_t vif) {
  Neighbour* n = Find(ip);
  if (n == nullptr) {
    auto created = Create(ip, vif, NowMs());
    if (!created.ok()) return created.status();
    n = *created;
  }
  n->route_refs++;
  return n->nh;
}

void NeighbourTable::SetMac(Neighbour* n, const rte_ether_addr& mac, NeighState state,
                            uint64_t now_ms) {
  bool changed = !rte_is_same_ether_addr(&mac, &n->mac) ||
                 !(env_.fib->nexthop(n->nh).l2.load(std::memory_order_relaxed) &
                   dataplane::kL2Resolved);
  n->mac = mac;
  n->state = state;
  n->probes = 0;
  n->timer_ms = now_ms + uint64_t{env_.arp.reachable_seconds} * 1000;
  if (changed) {
    env_.fib->nexthop(n->nh).l2.store(dataplane::kL2Resolved | dataplane::PackMac(mac),
                                      std::memory_order_release);
    char text[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(text, sizeof(text), &mac);
    VR_LOG_NOTICE("neighbour %s dev %s lladdr %s %s", config::FormatIp4(n->ip),
                  env_.vif_name(n->vif), text, NeighStateName(state));
  }
  ReleaseHeld(n);
}

void NeighbourTable::Invalidate(Neighbour* n, NeighState state, uint64_t now_ms) {
  env_.fib->nexthop(n->nh).l2.store(0, std::memory_order_release);
  n->state = state;
  n->probes = 0;
  n->timer_ms = now_ms;
}

void NeighbourTable::ReleaseHeld(Neighbour* n) {
  while (!n->held.empty()) {
    rte_mbuf* m = n->held.front();
    n->held.pop_front();
    Meta(m)->nexthop = n->nh;
    env_.counters->Count(Event::kArpReleased);
    env_.output(m);
  }
}

void NeighbourTable::DropHeld(Neighbour* n, DropReason reason) {
  env_.counters->Drop(reason, n->held.size());
  for (rte_mbuf* m : n->held) rte_pktmbuf_free(m);
  n->held.clear();
}

void NeighbourTable::SendRequest(Neighbour* n, bool unicast) {
  uint32_t src = SourceFor(n->vif, n->ip);
  rte_mbuf* m = rte_pktmbuf_alloc(env_.pool->mempool());
  if (m == nullptr) {
    env_.counters->Drop(DropReason::kNbufExhausted);
    return;
  }
  auto* eth = reinterpret_cast<rte_ether_hdr*>(
      rte_pktmbuf_append(m, sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)));
  const rte_ether_addr our = env_.vif_mac(n->vif);
  if (unicast) {
    eth->dst_addr = n->mac;
  } else {
    memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
  }
  eth->src_addr = our;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = our;
  arp->arp_data.arp_sip = rte_cpu_to_be_32(src);
  memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
  arp->arp_data.arp_tip = rte_cpu_to_be_32(n->ip);
  Meta(m)->tx_vif = n->vif;
  dataplane::SetPacketVif(m, n->vif);
  n->probes++;
  env_.counters->Count(Event::kArpRequestsSent);
  env_.transmit(m);
}

void NeighbourTable::OnArpFrame(rte_mbuf* m) {
  uint32_t vif = dataplane::PacketVif(m);
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) {
    env_.counters->Drop(DropReason::kArpInvalid);
    return (void)rte_pktmbuf_free(m);
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
      arp->arp_plen != 4 || (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
      rte_is_multicast_ether_addr(&arp->arp_data.arp_sha)) {
    env_.counters->Drop(DropReason::kArpInvalid);
    return (void)rte_pktmbuf_free(m);
  }
  uint32_t sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
  uint32_t tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
  uint64_t now = NowMs();
  bool for_us = IsOurs(vif, tip);
  bool learnable = sip != 0 && SourceFor(vif, sip) != 0 && !IsOurs(vif, sip);

  // RFC 826 merge: refresh a sender we already know; learn it if the frame is for us.
  Neighbour* n = learnable ? Find(sip) : nullptr;
  if (n != nullptr && n->vif != vif) n = nullptr;
  if (n != nullptr && n->state != NeighState::kPermanent) {
    bool solicited = op == RTE_ARP_OP_REPLY && for_us;
    SetMac(n, arp->arp_data.arp_sha, solicited ? NeighState::kReachable : NeighState::kStale, now);
    if (solicited) env_.counters->Count(Event::kArpRepliesReceived);
  } else if (n == nullptr && learnable && for_us) {
    if (auto created = Create(sip, vif, now); created.ok()) {
      SetMac(*created, arp->arp_data.arp_sha,
             op == RTE_ARP_OP_REPLY ? NeighState::kReachable : NeighState::kStale, now);
    }
  }
  if (!for_us) {
    env_.counters->Drop(DropReason::kArpNotForUs);
    return (void)rte_pktmbuf_free(m);
  }
  if (op != RTE_ARP_OP_REQUEST) return (void)rte_pktmbuf_free(m);

  // Answer in place: the request becomes its own reply.
  const rte_ether_addr our = env_.vif_mac(vif);
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = arp->arp_data.arp_sip;
  arp->arp_data.arp_sha = our;
  arp->arp_data.arp_sip = rte_cpu_to_be_32(tip);
  eth->dst_addr = arp->arp_data.arp_tha;
  eth->src_addr = our;
  Meta(m)->tx_vif = vif;
  dataplane::SetPacketVif(m, vif);
  env_.counters->Count(Event::kArpRepliesSent);
  env_.transmit(m);
}

void NeighbourTable::OnResolve(rte_mbuf* m) {
  dataplane::NbufMeta* meta = Meta(m);
  const dataplane::Nexthop& nh = env_.fib->nexthop(meta->nexthop);
  uint32_t ip = rte_be_to_cpu_32(meta->dst_ip);
  uint64_t now = NowMs();
  Neighbour* n = Find(ip);
  if (n == nullptr) {
    auto created = Create(ip, nh.vif, now);
    if (!created.ok()) {
      env_.counters->Drop(DropReason::kArpResolutionFailed);
      return (void)rte_pktmbuf_free(m);
    }
    n = *created;
  }
  meta->nexthop = n->nh;
  if (env_.fib->nexthop(n->nh).l2.load(std::memory_order_relaxed) & dataplane::kL2Resolved) {
    return env_.output(m);  // resolved while the packet was on its way here
  }
  if (n->held.size() >= env_.arp.hold_packets) {
    // Like the kernel's arp_queue: the oldest goes, the newest is kept.
    env_.counters->Drop(DropReason::kArpHoldOverflow);
    rte_pktmbuf_free(n->held.front());
    n->held.pop_front();
  }
  n->held.push_back(m);
  env_.counters->Count(Event::kArpHeld);
  if (n->state == NeighState::kFailed || (n->state == NeighState::kIncomplete && n->probes == 0)) {
    n->state = NeighState::kIncomplete;
    n->probes = 0;
    SendRequest(n, false);
    n->timer_ms = now + env_.arp.retry_ms;
  }
}

void NeighbourTable::OnTimer(uint64_t now_ms) {
  std::vector<uint32_t> doomed;
  for (auto& [ip, n] : table_) {
    if (n.state == NeighState::kPermanent) continue;
    if (env_.take_used(n.nh)) n.last_used_ms = now_ms;
    switch (n.state) {
      case NeighState::kIncomplete:
        if (n.probes == 0 || now_ms < n.timer_ms) break;
        if (n.probes < env_.arp.retries) {
          SendRequest(&n, false);
          n.timer_ms = now_ms + env_.arp.retry_ms;
        } else {
          DropHeld(&n, DropReason::kArpResolutionFailed);
          VR_LOG_NOTICE("neighbour %s dev %s FAILED after %u requests", config::FormatIp4(ip),
                        env_.vif_name(n.vif), n.probes);
          Invalidate(&n, NeighState::kFailed, now_ms);
          if (n.route_refs == 0) doomed.push_back(ip);
        }
        break;
      case NeighState::kReachable:
        if (now_ms >= n.timer_ms) n.state = NeighState::kStale;
        break;
      case NeighState::kStale:
        if (n.last_used_ms + 1000 > now_ms) {
          // In use but unconfirmed: ask the host itself, keeping its MAC meanwhile.
          n.state = NeighState::kProbe;
          n.probes = 0;
          SendRequest(&n, true);
          n.timer_ms = now_ms + env_.arp.retry_ms;
        } else if (n.route_refs == 0 &&
                   now_ms - n.last_used_ms >= uint64_t{env_.arp.gc_seconds} * 1000) {
          doomed.push_back(ip);
        }
        break;
      case NeighState::kProbe:
        if (now_ms < n.timer_ms) break;
        if (n.probes < env_.arp.retries) {
          SendRequest(&n, true);
          n.timer_ms = now_ms + env_.arp.retry_ms;
        } else {
          Invalidate(&n, NeighState::kFailed, now_ms);
          if (n.route_refs == 0) doomed.push_back(ip);
        }
        break;
      case NeighState::kDelay:  // NDP's; ARP probes a used stale entry at once
      case NeighState::kFailed:
      case NeighState::kPermanent:
        break;
    }
  }
  for (uint32_t ip : doomed) Remove(&table_[ip]);
}

std::vector<const Neighbour*> NeighbourTable::List() const {
  std::vector<const Neighbour*> out;
  for (const auto& [ip, n] : table_) out.push_back(&n);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->ip < b->ip; });
  return out;
}

}  // namespace vr::control
