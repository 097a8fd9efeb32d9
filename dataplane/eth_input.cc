// Ethernet input: finds the vif a frame belongs to (the port itself, or by its 802.1Q / 802.1ad
// tags a sub-interface), checks it is for that vif, and dispatches by EtherType.
#include <rte_ether.h>

#include "dataplane/worker.h"

namespace vr::dataplane {

rte_ipv4_hdr* Worker::EthInput(uint16_t port, rte_mbuf* m, Classified c, bool* link_broadcast,
                               Tally* rx, IngressVif* in, rte_ipv6_hdr** ip6) {
  m->port = port;  // PMDs set it too; tests and InQ re-injection may not
  SetPacketVif(m, port);
  if (unlikely(rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr))) {
    Drop(m, DropReason::kEthTruncated);
    return nullptr;
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  uint32_t vif = port;
  if (unlikely(c.tag_bytes != 0)) {
    vif = Untag(m, c);
    if (vif == kNoVif) return nullptr;
    eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  }
  if (unlikely(vif != in->vif)) {
    // A port's own admin state was checked for the whole burst; its group's impairment, and a
    // sub-interface's state and impairment, apply here. Read once per vif per burst.
    const VifView& v = vifs_->vif(vif);
    const GroupView& g = vifs_->group(v.group.load(std::memory_order_relaxed));
    in->vif = vif;
    in->mac_word = v.mac_word;
    in->up = vif == port || Effective(v.up, g.up);
    in->impair = Effective(v.impair, g.impair);
    in->open = in->up && in->impair == 0;
  }
  // Ports run promiscuous (vdevs cannot always filter by MAC), so the filter is ours: one 8-byte
  // load (the frame has at least 14) and a masked compare. A frame to our MAC is never a group
  // one, so that bit is looked at only when the compare fails.
  bool group = false;
  uint64_t dst;
  memcpy(&dst, eth, sizeof(dst));
  if (unlikely((dst & kMacMask) != in->mac_word)) {
    group = rte_is_multicast_ether_addr(&eth->dst_addr);
    if (!group) {
      Drop(m, DropReason::kL2OtherHost);
      return nullptr;
    }
  }
  if (unlikely(!in->open)) {
    if (!in->up) {
      Drop(m, DropReason::kVifDown);
      return nullptr;
    }
    if (Impaired(in->impair)) {
      CountImpaired(vif);
      rte_pktmbuf_free(m);
      return nullptr;
    }
  }
  Count(rx, vif, rte_pktmbuf_pkt_len(m), true);
  if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
    *link_broadcast = group;
    return reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  }
  if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
    if (likely(fib6_ != nullptr)) {
      *ip6 = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
    } else {
      Drop(m, DropReason::kEthertypeUnsupported);
    }
  } else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
    counters_.Count(Event::kArpFramesPunted);
    Punt(XqAction::kArpFrame, m);
  } else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
             eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_QINQ)) {
    Drop(m, DropReason::kVlanUnknown);  // tagged, on a port without sub-interfaces
  } else {
    Drop(m, DropReason::kEthertypeUnsupported);
  }
  return nullptr;
}

Worker::Classified Worker::ClassifyTagged(uint16_t port, const rte_mbuf* m) const {
  uint16_t len = rte_pktmbuf_data_len(m);
  const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
  auto be16 = [h](int at) {
    uint16_t v;
    memcpy(&v, h + at, sizeof(v));
    return rte_be_to_cpu_16(v);
  };
  uint16_t type = be16(12);
  if (type == RTE_ETHER_TYPE_VLAN) {
    if (unlikely(len < sizeof(rte_ether_hdr) + 4)) return {kTruncatedTags, 4};
    uint32_t vif = vifs_->Classify(port, false, be16(14) & 0xfff, 0);
    // Double 802.1Q tags are QinQ too: much gear sends 0x8100 outside, and af_packet puts back
    // the outer tag the kernel took out as 0x8100, whatever it was.
    if (vif == kNoVif && len >= sizeof(rte_ether_hdr) + 8 && be16(16) == RTE_ETHER_TYPE_VLAN) {
      return {vifs_->Classify(port, true, be16(14) & 0xfff, be16(18) & 0xfff), 8};
    }
    return {vif, 4};
  }
  if (type == RTE_ETHER_TYPE_QINQ) {  // 802.1ad: an S-tag, then a C-tag
    if (unlikely(len < sizeof(rte_ether_hdr) + 8)) return {kTruncatedTags, 8};
    if (be16(16) != RTE_ETHER_TYPE_VLAN) return {kNoVif, 8};
    return {vifs_->Classify(port, true, be16(14) & 0xfff, be16(18) & 0xfff), 8};
  }
  return {port, 0};
}

uint32_t Worker::Untag(rte_mbuf* m, Classified c) {
  if (unlikely(c.vif == kTruncatedTags)) {
    Drop(m, DropReason::kEthTruncated);
    return kNoVif;
  }
  if (unlikely(c.vif == kNoVif)) {
    Drop(m, DropReason::kVlanUnknown);
    return kNoVif;
  }
  // From here the frame is untagged: the MACs move up against the inner EtherType. Both loads
  // before either store, since the ranges overlap: fixed sizes the compiler keeps in registers,
  // where a memmove would be a library call per frame.
  auto* h = rte_pktmbuf_mtod(m, uint8_t*);
  uint64_t macs_lo;
  uint32_t macs_hi;
  memcpy(&macs_lo, h, sizeof(macs_lo));
  memcpy(&macs_hi, h + 8, sizeof(macs_hi));
  memcpy(h + c.tag_bytes, &macs_lo, sizeof(macs_lo));
  memcpy(h + c.tag_bytes + 8, &macs_hi, sizeof(macs_hi));
  rte_pktmbuf_adj(m, c.tag_bytes);
  SetPacketVif(m, c.vif);
  return c.vif;
}

}  // namespace vr::dataplane
