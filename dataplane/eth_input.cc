// Ethernet input: finds the vif a frame belongs to (the port itself, or by its 802.1Q / 802.1ad
// tags a sub-interface), checks it is for that vif, and dispatches by EtherType.
#include <rte_ether.h>

#include "dataplane/checksum.h"
#include "dataplane/worker.h"

namespace vr::dataplane {

rte_ipv4_hdr* Worker::EthInput(uint16_t port, rte_mbuf* m, Classified c, bool* link_broadcast,
                               IngressVif* in, rte_ipv6_hdr** ip6) {
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
  if (unlikely(vif != in->rx.vif)) {
    // A port's own admin state was checked for the whole burst; its group's impairment, and a
    // sub-interface's state and impairment, apply here. Read once per vif per burst.
    const VifView& v = vifs_->vif(vif);
    uint32_t slot = v.group.load(std::memory_order_relaxed);
    const GroupView& g = vifs_->group(slot);
    SwitchVif(&in->rx, vif, slot, true);
    in->mac_word = v.mac_word;
    in->open = (vif == port || Effective(v.up, g.up)) && Effective(v.impair, g.impair) == 0;
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
    const VifView& v = vifs_->vif(vif);
    if (vif != port && !vifs_->Up(v)) {
      Drop(m, DropReason::kVifDown);
      return nullptr;
    }
    if (Impaired(vifs_->Impairment(v))) {
      CountImpaired(vif);
      rte_pktmbuf_free(m);
      return nullptr;
    }
  }
  in->rx.packets++;
  in->rx.bytes += rte_pktmbuf_pkt_len(m);
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

Worker::Classified Worker::ClassifyTagged(const PortClassifier& pc, const rte_mbuf* m) {
  uint16_t len = rte_pktmbuf_data_len(m);
  const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
  // Tag words as they are on the wire: EtherTypes compare against constants in network order,
  // and only the 12-bit ids are swapped (a builtin, which the compiler folds with the mask).
  auto raw = [h](int at) {
    uint16_t v;
    memcpy(&v, h + at, sizeof(v));
    return v;
  };
  auto id = [&raw](int at) { return uint16_t(Be16(raw(at)) & 0xfff); };
  uint16_t type = raw(12);
  if (type == RTE_BE16(RTE_ETHER_TYPE_QINQ)) {  // 802.1ad: an S-tag, then a C-tag
    if (unlikely(len < sizeof(rte_ether_hdr) + 8)) return {kTruncatedTags, 8};
    if (unlikely(raw(16) != RTE_BE16(RTE_ETHER_TYPE_VLAN))) return {kNoVif, 8};
    return {pc.Lookup(true, id(14), id(18)), 8};
  }
  if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
    if (unlikely(len < sizeof(rte_ether_hdr) + 4)) return {kTruncatedTags, 4};
    uint32_t vif = pc.Lookup(false, id(14), 0);
    // Double 802.1Q tags are QinQ too: much gear sends 0x8100 outside, and af_packet puts back
    // the outer tag the kernel took out as 0x8100, whatever it was.
    if (vif == kNoVif && len >= sizeof(rte_ether_hdr) + 8 &&
        raw(16) == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
      return {pc.Lookup(true, id(14), id(18)), 8};
    }
    return {vif, 4};
  }
  return {kNoVif, 0};  // not reached: ClassifyFrame sends only tagged frames here
}

uint32_t Worker::Untag(rte_mbuf* m, Classified c) {
  // kNoVif is 0 and kTruncatedTags above every vif id: one compare for both.
  if (unlikely(c.vif - 1 >= kTruncatedTags - 1)) {
    Drop(m, c.vif == kNoVif ? DropReason::kVlanUnknown : DropReason::kEthTruncated);
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
  // rte_pktmbuf_adj's length check is ClassifyTagged's, done already.
  m->data_off += c.tag_bytes;
  m->data_len -= c.tag_bytes;
  m->pkt_len -= c.tag_bytes;
  SetPacketVif(m, c.vif);
  return c.vif;
}

}  // namespace vr::dataplane
