// Router advertisements (RFC 4861 §6.2): what an advertisement carries (§4.2, §4.6), when
// unsolicited ones go (§6.2.4), how solicitations are checked (§6.1.1) and answered (§6.2.6),
// and the final ones of an interface that stops (§6.2.5).
#include "control/router_adverts.h"

#include <algorithm>
#include <cstring>

#include "dataplane/icmp6.h"
#include "dataplane/ip6_check.h"
#include "drivers/log.h"

namespace vr::control {

using config::Ip6Addr;
using dataplane::DropReason;
using dataplane::Event;

namespace {

constexpr uint8_t kNdHopLimit = 255;    // §6.1.1: proof that the frame never left the link
constexpr uint32_t kRsHeader = 8;       // type, code, checksum, reserved
constexpr uint32_t kRaHeader = 16;      // ... hop limit, flags, lifetime, reachable, retrans
constexpr uint32_t kLlOption = 8;       // type, length 1, a 6-byte MAC (§4.6.1)
constexpr uint32_t kMtuOption = 8;      // §4.6.4
constexpr uint32_t kPrefixOption = 32;  // §4.6.2
constexpr uint8_t kOptSourceLl = 1;
constexpr uint8_t kOptPrefix = 3;
constexpr uint8_t kOptMtu = 5;
constexpr uint8_t kManaged = 0x80, kOther = 0x40;      // RA flags
constexpr uint8_t kOnLink = 0x80, kAutonomous = 0x40;  // prefix flags
constexpr uint32_t kMinMtu = 1280;                     // RFC 8200 §5
// As many prefix options as fit IPv6's minimum MTU beside the rest (the loader's limit).
constexpr size_t kMaxPrefixes = 32;
constexpr uint32_t kEthIp6 = sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr);

const Ip6Addr kAllNodes = [] {
  Ip6Addr a{};
  a.bytes[0] = 0xff;
  a.bytes[1] = 0x02;
  a.bytes[15] = 0x01;
  return a;
}();

void Put16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

void Put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace

bool ValidRouterSolicit(const rte_ipv6_hdr* ip, const uint8_t* icmp, uint32_t len,
                        const rte_ether_addr** sll) {
  *sll = nullptr;
  // §6.1.1, in its order: hop limit 255, a valid checksum, code 0, at least 8 bytes, every
  // option with a length above zero (and, as everywhere, inside the message).
  if (ip->hop_limits != kNdHopLimit || len < kRsHeader ||
      dataplane::Icmp6Checksum(ip, icmp, len) != 0 || icmp[1] != 0) {
    return false;
  }
  bool source_ll = false;
  for (uint32_t i = kRsHeader; i < len;) {
    if (i + 2 > len) return false;
    uint32_t olen = uint32_t{icmp[i + 1]} * 8;
    if (olen == 0 || i + olen > len) return false;
    if (icmp[i] == kOptSourceLl) {
      source_ll = true;
      // One of another link's length is ignored (as for NS, §4.6.1); so is a group MAC.
      auto* mac = reinterpret_cast<const rte_ether_addr*>(icmp + i + 2);
      *sll = olen == kLlOption && rte_is_valid_assigned_ether_addr(mac) ? mac : nullptr;
    }
    i += olen;
  }
  // From the unspecified address, no source link-layer address option.
  if (dataplane::Ip6Unspecified(reinterpret_cast<const uint8_t*>(&ip->src_addr)) && source_ll) {
    *sll = nullptr;
    return false;
  }
  return true;
}

rte_mbuf* BuildRouterAdvert(rte_mempool* pool, const config::RouterAdvertConfig& cfg,
                            const RaInterface& ifc, bool final) {
  std::vector<config::RaPrefixConfig> prefixes = config::AdvertisedPrefixes(cfg, ifc.addresses);
  if (prefixes.size() > kMaxPrefixes) prefixes.resize(kMaxPrefixes);
  uint32_t mtu = cfg.mtu ? std::min(*cfg.mtu, ifc.mtu) : ifc.mtu;
  bool mtu_option = cfg.advertise_mtu && mtu >= kMinMtu;
  uint32_t icmp_len = kRaHeader + kLlOption + (mtu_option ? kMtuOption : 0) +
                      uint32_t(prefixes.size()) * kPrefixOption;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, kEthIp6 + icmp_len));
  if (eth == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  memset(eth, 0, kEthIp6 + icmp_len);
  // RFC 2464 §7: 33:33 and the group's low 32 bits.
  eth->dst_addr = {{0x33, 0x33, 0, 0, 0, 0x01}};
  eth->src_addr = ifc.mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
  ip->vtc_flow = RTE_BE32(6u << 28);
  ip->payload_len = rte_cpu_to_be_16(uint16_t(icmp_len));
  ip->proto = dataplane::kIp6NextIcmp;
  ip->hop_limits = kNdHopLimit;
  // §6.1.2: hosts take advertisements only from a link-local source.
  memcpy(&ip->src_addr, ifc.link_local.bytes.data(), 16);
  memcpy(&ip->dst_addr, kAllNodes.bytes.data(), 16);

  uint8_t* p = reinterpret_cast<uint8_t*>(ip + 1);
  uint8_t* icmp = p;
  // §4.2.
  p[0] = dataplane::kNdRouterAdvert;
  p[4] = uint8_t(cfg.hop_limit);
  p[5] = (cfg.managed ? kManaged : 0) | (cfg.other ? kOther : 0);
  Put16(p + 6, final ? 0 : cfg.Lifetime());
  Put32(p + 8, cfg.reachable_time);
  Put32(p + 12, cfg.retrans_timer);
  p += kRaHeader;
  // §4.6.1: so that hosts need not resolve the router before they send to it.
  p[0] = kOptSourceLl;
  p[1] = 1;  // in units of 8 bytes
  memcpy(p + 2, ifc.mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  p += kLlOption;
  if (mtu_option) {
    // §4.6.4.
    p[0] = kOptMtu;
    p[1] = 1;
    Put32(p + 4, mtu);
    p += kMtuOption;
  }
  for (const config::RaPrefixConfig& pc : prefixes) {
    // §4.6.2: the prefix with its host bits zero.
    config::Ip6Prefix net = config::NetworkOf6(pc.prefix);
    p[0] = kOptPrefix;
    p[1] = 4;
    p[2] = net.len;
    p[3] = (pc.on_link ? kOnLink : 0) | (pc.autonomous ? kAutonomous : 0);
    Put32(p + 4, pc.valid_lifetime);
    Put32(p + 8, pc.preferred_lifetime);
    memcpy(p + 16, net.addr.bytes.data(), 16);
    p += kPrefixOption;
  }
  uint16_t c = dataplane::Icmp6Checksum(ip, icmp, icmp_len);
  memcpy(icmp + 2, &c, 2);
  return m;
}

const RouterAdverts::Advertiser* RouterAdverts::Get(uint32_t vif) const {
  auto it = ifaces_.find(vif);
  return it == ifaces_.end() ? nullptr : &it->second;
}

void RouterAdverts::Configure(uint32_t vif, const std::optional<config::RouterAdvertConfig>& cfg,
                              uint64_t now_ms) {
  auto it = ifaces_.find(vif);
  if (!cfg.has_value()) {
    if (it == ifaces_.end() || it->second.stopping) return;
    // §6.2.5: hosts drop the router from their default router lists at once, rather than when
    // its lifetime runs out. The first final advertisement goes now, the others 3 s apart.
    Advertiser& a = it->second;
    a.stopping = true;
    a.finals_left = kMaxFinalRtrAdvertisements;
    a.solicited_ms.reset();
    a.next_ms = now_ms;
    Due(a.next_ms);
    VR_LOG_NOTICE("dev %s: router advertisements off", env_.interface(vif).name);
    return;
  }
  if (it != ifaces_.end() && !it->second.stopping && it->second.cfg == *cfg) return;
  if (it == ifaces_.end() || it->second.stopping) {
    VR_LOG_NOTICE("dev %s: router advertisements on", env_.interface(vif).name);
  }
  Advertiser& a = ifaces_[vif];
  a.cfg = *cfg;
  a.stopping = false;
  a.finals_left = 0;
  Restart(a, now_ms);
}

void RouterAdverts::Recheck(uint64_t now_ms) {
  for (auto& [vif, a] : ifaces_) {
    if (a.stopping || !a.seen.exists) continue;
    RaInterface ifc = env_.interface(vif);
    if (ifc.exists && !ifc.SameAdvert(a.seen)) Restart(a, now_ms);
  }
}

void RouterAdverts::Restart(Advertiser& a, uint64_t now_ms) {
  // §6.2.4: an interface that becomes advertising, or whose advertised information changes,
  // may send its first few advertisements sooner: here the first at once, rate limits kept.
  a.initial_sent = 0;
  a.solicited_ms.reset();
  a.next_ms = a.last_ms ? std::max(now_ms, *a.last_ms + kMinDelayBetweenRasMs) : now_ms;
  Due(a.next_ms);
}

void RouterAdverts::Remove(uint32_t vif) {
  auto it = ifaces_.find(vif);
  if (it == ifaces_.end()) return;
  if (!it->second.stopping || it->second.finals_left > 0) Transmit(vif, it->second, true);
  ifaces_.erase(it);
}

void RouterAdverts::StopAll() {
  for (auto& [vif, a] : ifaces_) {
    if (!a.stopping || a.finals_left > 0) Transmit(vif, a, true);
  }
  ifaces_.clear();
}

bool RouterAdverts::Transmit(uint32_t vif, Advertiser& a, bool final) {
  RaInterface ifc = env_.interface(vif);
  if (!ifc.exists || !ifc.up) return false;
  a.seen = ifc;
  rte_mbuf* m = BuildRouterAdvert(env_.pool->mempool(), a.cfg, ifc, final);
  if (m == nullptr) {
    env_.counters->Drop(DropReason::kNbufExhausted);
    return false;
  }
  dataplane::Meta(m)->tx_vif = vif;
  dataplane::SetPacketVif(m, vif);
  env_.transmit(m);
  env_.counters->Count(Event::kNdRouterAdvertsSent);
  return true;
}

void RouterAdverts::Send(uint32_t vif, Advertiser& a, uint64_t now_ms) {
  a.solicited_ms.reset();
  if (!Transmit(vif, a, false)) {
    // Down (or out of nbufs): look again in a second; once it is up it starts as an interface
    // that just became advertising.
    a.initial_sent = 0;
    a.next_ms = now_ms + 1000;
    return;
  }
  a.sent++;
  a.last_ms = now_ms;
  a.initial_sent++;
  // §6.2.4: whenever a multicast advertisement goes, the next unsolicited one is due after a
  // random time in [MinRtrAdvInterval, MaxRtrAdvInterval]; for the first few, 16 s at most.
  uint64_t wait = Uniform(a.cfg.MinIntervalMs(), uint64_t{a.cfg.interval} * 1000);
  if (a.initial_sent <= kMaxInitialRtrAdvertisements) {
    wait = std::min<uint64_t>(wait, kMaxInitialRtrAdvertIntervalMs);
  }
  a.next_ms = now_ms + wait;
}

void RouterAdverts::OnSolicit(rte_mbuf* m, uint64_t now_ms) {
  uint32_t vif = dataplane::PacketVif(m);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr));
  // The caller checked that the frame holds the whole IPv6 payload, which is ICMPv6.
  uint32_t len = rte_be_to_cpu_16(ip->payload_len);
  const auto* icmp = reinterpret_cast<const uint8_t*>(ip + 1);
  const rte_ether_addr* sll = nullptr;
  if (!ValidRouterSolicit(ip, icmp, len, &sll)) {
    env_.counters->Drop(DropReason::kNdRouterSolicitInvalid);
    return (void)rte_pktmbuf_free(m);
  }
  env_.counters->Count(Event::kNdRouterSolicitsReceived);
  Ip6Addr src;
  memcpy(src.bytes.data(), &ip->src_addr, 16);
  // §6.2.6: a solicitation from an address (not ::) with a source link-layer address updates
  // the neighbour cache.
  if (sll != nullptr) env_.learn(vif, src, *sll);
  rte_pktmbuf_free(m);

  // §6.2.6: only an advertising interface answers, with a multicast advertisement after a
  // random delay of up to MAX_RA_DELAY_TIME, and at least MIN_DELAY_BETWEEN_RAS after the last
  // multicast one; if the next unsolicited one comes sooner, that is the answer.
  auto it = ifaces_.find(vif);
  if (it == ifaces_.end() || it->second.stopping) return;
  Advertiser& a = it->second;
  uint64_t delay = Uniform(0, kMaxRaDelayTimeMs);
  uint64_t due = now_ms + delay;
  if (a.last_ms && now_ms < *a.last_ms + kMinDelayBetweenRasMs) {
    due = *a.last_ms + kMinDelayBetweenRasMs + delay;
  }
  if (due >= a.next_ms) return;
  // Several solicitations before the answer get that one answer.
  if (a.solicited_ms && *a.solicited_ms <= due) return;
  a.solicited_ms = due;
  Due(due);
}

void RouterAdverts::OnTimer(uint64_t now_ms) {
  if (now_ms < next_due_ms_) return;
  next_due_ms_ = UINT64_MAX;
  for (auto it = ifaces_.begin(); it != ifaces_.end();) {
    uint32_t vif = it->first;
    Advertiser& a = it->second;
    if (a.stopping) {
      if (now_ms >= a.next_ms) {
        Transmit(vif, a, true);
        a.next_ms = now_ms + kMinDelayBetweenRasMs;
        if (--a.finals_left == 0) {
          it = ifaces_.erase(it);
          continue;
        }
      }
    } else if (now_ms >= std::min(a.next_ms, a.solicited_ms.value_or(UINT64_MAX))) {
      Send(vif, a, now_ms);
    }
    Due(std::min(a.next_ms, a.solicited_ms.value_or(UINT64_MAX)));
    ++it;
  }
}

}  // namespace vr::control
