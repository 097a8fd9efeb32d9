// IPv4 output: finds the next hop's MAC (or sends the packet to the control lcore to wait for
// ARP), fragments over the egress MTU when DF is clear, writes the Ethernet header and queues TX.
#include <rte_ether.h>
#include <rte_ip_frag.h>

#include "dataplane/checksum.h"
#include "dataplane/worker.h"

namespace vr::dataplane {
namespace {

// 9000-byte packets into a 68-byte MTU need 188 fragments; nobody runs that, so a bound that
// keeps the array on the stack small is fine and anything beyond it is counted as a failure.
constexpr uint16_t kMaxFragments = 64;

}  // namespace

void Worker::Ip4Output(rte_mbuf* m, uint32_t nh_index) {
  const Nexthop& nh = fib_->nexthop(nh_index);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  uint64_t l2 = nh.l2.load(std::memory_order_acquire);
  if (unlikely(!(l2 & kL2Resolved))) {
    // A connected subnet resolves the destination itself; a neighbour resolves its own address.
    NbufMeta* meta = Meta(m);
    meta->nexthop = nh_index;
    meta->dst_ip = nh.kind == NhKind::kConnected ? ip->dst_addr : nh.ip;
    counters_.Count(Event::kResolvePunted);
    return Punt(XqAction::kResolve, m);
  }
  if (unlikely(!used_[nh_index])) used_[nh_index] = 1;
  const VifView& out = vifs_->vif(nh.vif);
  if (unlikely(rte_be_to_cpu_16(ip->total_length) > vifs_->Mtu(out))) {
    return Fragment(m, nh.vif, l2);
  }
  WriteEthernet(rte_pktmbuf_mtod(m, rte_ether_hdr*), l2, out);
  Send(nh.vif, m);
}

void Worker::Fragment(rte_mbuf* m, uint32_t vif, uint64_t l2) {
  const VifView& out = vifs_->vif(vif);
  uint32_t in_vif = PacketVif(m);
  rte_pktmbuf_adj(m, sizeof(rte_ether_hdr));
  rte_mbuf* frags[kMaxFragments];
  rte_mempool* mp = setup_.pool->mempool();
  int32_t n = rte_ipv4_fragment_packet(m, frags, kMaxFragments, vifs_->Mtu(out), mp, mp);
  // The fragments reference the original's data (indirect nbufs); this drops our own reference.
  rte_pktmbuf_free(m);
  if (n < 0) {
    counters_.Drop(n == -ENOMEM ? DropReason::kNbufExhausted : DropReason::kIp4FragFailed);
    CountDrops(in_vif & (kMaxVifs - 1), 1);
    return;
  }
  for (int32_t i = 0; i < n; ++i) {
    rte_mbuf* f = frags[i];
    SetPacketVif(f, in_vif);
    Ip4SetChecksum(rte_pktmbuf_mtod(f, rte_ipv4_hdr*));
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(f, sizeof(rte_ether_hdr)));
    if (unlikely(eth == nullptr)) {
      Drop(f, DropReason::kIp4FragFailed);
      continue;
    }
    WriteEthernet(eth, l2, out);
    Send(vif, f);
  }
  counters_.Count(Event::kFragmentsSent, n);
}

}  // namespace vr::dataplane
