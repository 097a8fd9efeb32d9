// One worker lcore: polls its RX queue on every port, runs each packet to completion through the
// IPv4 stages, and exchanges what it cannot finish with the control lcore over InQ/OutQ.
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/fib.h"
#include "dataplane/fib6.h"
#include "dataplane/nbuf_pool.h"
#include "dataplane/token_bucket.h"
#include "dataplane/vif.h"
#include "dataplane/xq_ring.h"

namespace vr::dataplane {

constexpr uint16_t kBurst = 32;

struct WorkerSetup {
  uint32_t index = 0;          // 0-based worker number: its RX/TX queue id and RCU thread id
  Fib* fib = nullptr;
  Fib6* fib6 = nullptr;        // IPv6 routes; next hops live in `fib`
  VifTable* vifs = nullptr;
  NbufPool* pool = nullptr;
  XqRing* outq = nullptr;      // worker -> control
  XqRing* inq = nullptr;       // control -> worker
  rte_rcu_qsbr* rcu = nullptr;
  uint32_t icmp_rate = 1000;   // ICMP errors per second
  uint32_t icmp_burst = 100;
  // Frames for the router that the dataplane does not answer go to the kernel (knet), at most
  // knet_rate per second per worker; without knet they are dropped as ip4_local_unsupported.
  bool knet = false;
  uint32_t knet_rate = 500000;
  uint32_t knet_burst = 4096;
  uint32_t knet_backlog = 1024;  // OutQ entries waiting beyond which knet punts are dropped
  // OutQ entries waiting beyond which any punt (ARP, NDP, packets awaiting a neighbour) is
  // dropped as outq_full: nbufs parked for a stalled control lcore are nbufs no port can
  // receive into.
  uint32_t outq_backlog = 4096;
  const std::atomic<bool>* stop = nullptr;
};

// Two overlapping 8-byte stores: destination (its last two bytes are overwritten next), then
// source MAC and EtherType together.
inline void WriteEthernet(rte_ether_hdr* eth, uint64_t l2, uint64_t src_word) {
  auto* h = reinterpret_cast<uint8_t*>(eth);
  memcpy(h, &l2, sizeof(l2));
  memcpy(h + RTE_ETHER_ADDR_LEN, &src_word, sizeof(src_word));
}
inline void WriteEthernet(rte_ether_hdr* eth, uint64_t l2, const VifView& out) {
  WriteEthernet(eth, l2, out.src_word);
}

// Inside the router every frame has a plain 14-byte Ethernet header; a sub-interface's tags are
// inserted after the MACs on the way out. The headroom always has room for 8 bytes.
inline void PushTags(rte_mbuf* m, const VifView& out) {
  auto* h = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, out.tag_bytes));
  memmove(h, h + out.tag_bytes, 2 * RTE_ETHER_ADDR_LEN);
  memcpy(h + 2 * RTE_ETHER_ADDR_LEN, out.tags, out.tag_bytes);
}

class Worker {
 public:
  explicit Worker(const WorkerSetup& setup);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The lcore main loop; returns when *stop becomes true.
  int Run();

  // One burst received on `port`, processed to completion (frames end up queued for TX, punted,
  // or dropped). Public for tests, which feed bursts without a running loop.
  void ProcessBurst(uint16_t port, rte_mbuf** pkts, uint16_t n);
  // Sends what the TX buffers hold (of the ports in `table`, the loop's snapshot).
  void FlushTx();
  void FlushTx(const PortTable& table);
  // Handles what control queued on InQ; returns the number of entries.
  uint32_t DrainInq();

  const CoreCounters& counters() const { return counters_; }
  // A snapshot of this core's counters of one vif, read as another core may (ReadCounter).
  VifCounters vif_counters(uint32_t vif) const {
    const PacketsBytes& rx = vif_rx_[vif];
    const PacketsBytes& tx = vif_tx_[vif];
    const VifDrops& d = vif_drops_[vif];
    return {ReadCounter(rx.packets), ReadCounter(rx.bytes), ReadCounter(tx.packets),
            ReadCounter(tx.bytes),   ReadCounter(d.drops),  ReadCounter(d.impaired)};
  }
  // By group slot (VifView::group): what the group's members did while they were its members.
  const VifCounters& group_counters(uint32_t slot) const { return group_counters_[slot]; }
  uint32_t index() const { return setup_.index; }
  // Next hops used since control last cleared the flag (control ages ARP entries by it).
  uint8_t* used_flags() { return used_.data(); }

 private:
  // Stages, one per file: eth_input.cc, ip4_input.cc, ip4_forward.cc, icmp4.cc, ip4_output.cc.

  // The vif a frame's tags name, found before the frame is processed: the port itself with
  // tag_bytes 0 for an untagged frame; kNoVif for unknown tags; kTruncatedTags when the frame
  // ends inside them.
  static constexpr uint32_t kTruncatedTags = 1u << 24;  // above every vif id
  static_assert(kTruncatedTags == kMaxVifs, "one past the vif tables' end: prefetched, never read");
  struct Classified {
    uint32_t vif;
    uint16_t tag_bytes;
  };
  // Inline: every frame of a port with sub-interfaces passes here; an untagged one costs two
  // compares.
  static Classified ClassifyFrame(uint16_t port, const PortClassifier& pc, const rte_mbuf* m) {
    // A runt is EthInput's to drop.
    if (unlikely(rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr))) return {port, 0};
    uint16_t type = rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type;
    if (likely(type != RTE_BE16(RTE_ETHER_TYPE_VLAN) && type != RTE_BE16(RTE_ETHER_TYPE_QINQ))) {
      return {port, 0};
    }
    return ClassifyTagged(pc, m);
  }
  static Classified ClassifyTagged(const PortClassifier& pc, const rte_mbuf* m);

  // No vif has this id (ids are below 2^24), unlike kNoVif, which is 0 and so also port 0's.
  static constexpr uint32_t kNoCachedVif = ~uint32_t{0};
  // Packets and bytes one vif took in or sent during a burst, added to its counters once: the
  // common burst is one vif's, and a per-packet add would chain every packet to the previous
  // one's store.
  // The group is tallied apart from the vif: over a burst spread across a group's members the
  // vif changes every packet but the group does not, and its counters are then added to once.
  // Per packet only the vif's two sums move; they join the group's when the vif changes. The
  // owner switches the vif where it changes anyway (the ingress vif cache, a next-hop run), so
  // no packet pays a separate compare for it.
  struct Tally {
    uint32_t vif = kNoCachedVif;
    uint32_t packets = 0;
    uint64_t bytes = 0;
    uint32_t group = 0;  // the group slot of the packets in group_packets
    uint32_t group_packets = 0;
    uint64_t group_bytes = 0;
  };
  void SwitchVif(Tally* t, uint32_t vif, bool rx) {
    SwitchVif(t, vif, vifs_->vif(vif).group.load(std::memory_order_relaxed), rx);
  }
  void SwitchVif(Tally* t, uint32_t vif, uint32_t group, bool rx) {
    FlushVif(t, rx);
    t->vif = vif;
    if (unlikely(group != t->group)) {
      FlushGroup(t, rx);
      t->group = group;
    }
  }
  void FlushVif(Tally* t, bool rx) {
    if (t->packets == 0) return;
    PacketsBytes& c = (rx ? vif_rx_ : vif_tx_)[t->vif];
    c.packets += t->packets;
    c.bytes += t->bytes;
    t->group_packets += t->packets;
    t->group_bytes += t->bytes;
    t->packets = 0;
    t->bytes = 0;
  }
  void FlushGroup(Tally* t, bool rx) {
    if (t->group_packets == 0) return;
    VifCounters& gc = group_counters_[t->group];
    (rx ? gc.rx_packets : gc.tx_packets) += t->group_packets;
    (rx ? gc.rx_bytes : gc.tx_bytes) += t->group_bytes;
    t->group_packets = 0;
    t->group_bytes = 0;
  }
  void Flush(Tally* t, bool rx) {
    FlushVif(t, rx);
    FlushGroup(t, rx);
  }
  // What input checks of the vif a frame arrived on: its MAC and whether it takes frames,
  // filled when the vif changes (for frames spread over sub-interfaces, every frame). Why a
  // closed vif is closed, down or impaired, is worked out only for its frames.
  // The received tally switches with it: `rx.vif` is the vif these fields are of.
  struct IngressVif {
    Tally rx;
    uint64_t mac_word = 0;
    bool open = false;  // up and not impaired
  };
  // Returns the IPv4 header of a frame that goes on, or nullptr when it was punted, dropped, or
  // is IPv6: then `*ip6` is set to its header (the caller's to check, left alone otherwise).
  rte_ipv4_hdr* EthInput(uint16_t port, rte_mbuf* m, Classified c, bool* link_broadcast,
                         IngressVif* in, rte_ipv6_hdr** ip6);
  // The egress vif's effective MTU and whether it may send at all (up, not impaired, its parent
  // up), read once per vif per burst rather than per packet: a burst usually leaves by one vif,
  // and a settings change is seen from the next burst, microseconds later.
  struct Egress {
    uint32_t vif = kNoCachedVif;
    uint32_t mtu = 0;  // 0 when the vif may not send: no packet fits
  };
  uint32_t EgressMtu(Egress* e, uint32_t vif) const {
    if (unlikely(vif != e->vif)) {
      const VifView& out = vifs_->vif(vif);
      const GroupView& og = vifs_->group(out.group.load(std::memory_order_relaxed));
      bool can_send = Effective(out.up, og.up) && Effective(out.impair, og.impair) == 0 &&
                      (out.tag_bytes == 0 || vifs_->Up(vifs_->vif(out.port)));
      e->vif = vif;
      e->mtu = can_send ? Effective(out.mtu, og.mtu) : 0;
    }
    return e->mtu;
  }
  // The next hop of the packet before, and what it allows: the packets of a burst mostly share
  // one, so its entry, L2 word and egress vif are read once per run of equal next hops, not
  // once per packet. A change control makes is seen from the next burst.
  struct NexthopRun {
    uint32_t index = kNoCachedNexthop;
    bool fast = false;  // a resolved neighbour: the fast path applies
    uint32_t vif = 0;
    // EgressMtu (0 when the vif may not send), and 0 when the run is not a fast one: no
    // packet fits, so the acting loop's length test is the only per-packet one.
    uint32_t mtu = 0;
    uint64_t l2 = 0;
    const VifView* out = nullptr;
    // Copied from *out: packet stores may alias the view, so fields read through the pointer
    // would be loaded again for every packet.
    uint64_t src_word = 0;
    uint16_t port = 0;
    bool tagged = false;
  };
  static constexpr uint32_t kNoCachedNexthop = ~uint32_t{0} - 1;  // neither an index nor kNoRoute
  void StartRun(NexthopRun* r, uint32_t index, Egress* egress) {
    r->index = index;
    r->fast = false;
    r->mtu = 0;
    if (index == Fib::kNoRoute) return;  // Fib6::kNoRoute is the same value
    const Nexthop& h = fib_->nexthop(index);
    r->l2 = h.l2.load(std::memory_order_acquire);
    r->fast = h.kind == NhKind::kNeighbour && (r->l2 & kL2Resolved);
    if (!r->fast) return;
    r->vif = h.vif;
    r->out = &vifs_->vif(h.vif);
    r->src_word = r->out->src_word;
    r->port = r->out->port;
    r->tagged = r->out->tag_bytes != 0;
    r->mtu = EgressMtu(egress, h.vif);
    // Marked when a run starts, not per packet: control ages neighbours by this flag.
    if (unlikely(!used_[index])) used_[index] = 1;
  }
  // A tagged frame: drops it when its tags named no vif, or takes them out. Returns kNoVif when
  // dropped.
  uint32_t Untag(rte_mbuf* m, Classified c);
  // Whether an impairment profile drops this packet now.
  bool Impaired(uint32_t profile);
  // Returns false when the packet was dropped.
  bool Ip4Input(rte_mbuf* m, rte_ipv4_hdr* ip);
  void Ip4Route(rte_mbuf* m, rte_ipv4_hdr* ip, uint32_t nh, bool link_broadcast);
  void Ip4Forward(rte_mbuf* m, rte_ipv4_hdr* ip, uint32_t nh_index);
  void Ip4Local(rte_mbuf* m, rte_ipv4_hdr* ip);
  void IcmpError(rte_mbuf* m, uint8_t type, uint8_t code, uint16_t mtu);
  // A packet the kernel sent through knet: routed like one the router originates.
  void FromKernel(rte_mbuf* m);
  // A packet for the router that the dataplane does not answer: up to the kernel, within the
  // rate and the backlog bound.
  void ToKernel(rte_mbuf* m);
  // IPv6 (ip6_input.cc, icmp6.cc). Ip6Input checks a packet before the burst's route lookup
  // and returns false when it was punted or dropped; Ip6Route takes it on from the lookup when
  // the fast path in ProcessBurst does not.
  bool Ip6Input(rte_mbuf* m, rte_ipv6_hdr* ip);
  void Ip6Route(rte_mbuf* m, rte_ipv6_hdr* ip, uint32_t nh);
  void Ip6Local(rte_mbuf* m, rte_ipv6_hdr* ip);
  void Ip6Forward(rte_mbuf* m, rte_ipv6_hdr* ip, uint32_t nh_index);
  void Ip6Output(rte_mbuf* m, uint32_t nh_index);
  void RouteOriginated6(rte_mbuf* m);
  void Icmp6Error(rte_mbuf* m, uint8_t type, uint8_t code, uint32_t param);
  // Routes a packet the router itself originates (echo reply, ICMP error): no TTL decrement.
  void RouteOriginated(rte_mbuf* m);
  // Resolves L2 for a routed packet, fragments it if needed, and queues it for TX.
  void Ip4Output(rte_mbuf* m, uint32_t nh_index);
  void Fragment(rte_mbuf* m, uint32_t vif, uint64_t l2);

  // Sends a frame with a 14-byte header out of `vif`: admin state, impairment, tags, counters.
  void Send(uint32_t vif, rte_mbuf* m);
  void Transmit(uint16_t port, rte_mbuf* m);
  void Punt(XqAction action, rte_mbuf* m);
  void Drop(rte_mbuf* m, DropReason reason) {
    counters_.Drop(reason);
    CountDrops(PacketVif(m) & (kMaxVifs - 1), 1);
    rte_pktmbuf_free(m);
  }
  // A vif's counters move with its group's: a group counts what its members did while they
  // were its members, so its series only grow, and a scrape reads a line per group rather than
  // one per member (reading 65,536 members' lines, which this core writes, cost forwarding 2-4%
  // at ten scrapes a second).
  VifCounters& GroupCounters(uint32_t vif) {
    return group_counters_[vifs_->vif(vif).group.load(std::memory_order_relaxed)];
  }
  void CountDrops(uint32_t vif, uint32_t n) {
    vif_drops_[vif].drops += n;
    GroupCounters(vif).drops += n;
  }
  void CountImpaired(uint32_t vif) {
    counters_.Count(Event::kImpairmentDropped);
    vif_drops_[vif].impaired++;
    vif_drops_[vif].drops++;
    VifCounters& g = GroupCounters(vif);
    g.impaired++;
    g.drops++;
  }

  struct TxBuffer {
    uint16_t count = 0;
    rte_mbuf* pkts[kBurst];
  };
  void SendTx(uint16_t port, TxBuffer& b);

  WorkerSetup setup_;
  Fib* fib_;
  Fib6* fib6_;
  VifTable* vifs_;
  CoreCounters counters_;
  LazyArray<PacketsBytes> vif_rx_;  // by vif
  LazyArray<PacketsBytes> vif_tx_;
  LazyArray<VifDrops> vif_drops_;
  LazyArray<VifCounters> group_counters_;  // by group slot
  struct Rng {
    uint64_t state = 0;
    uint32_t generation = ~0u;
  };
  std::vector<Rng> rng_;  // per impairment profile: this worker's pseudo-random stream
  TokenBucket icmp_bucket_;
  TokenBucket knet_bucket_;
  TokenBucket icmp6_bucket_;
  std::vector<TxBuffer> tx_;  // indexed by port id
  LazyArray<uint8_t> used_;  // by next hop; worker: wo (sets), control: clears while aging
};

}  // namespace vr::dataplane
