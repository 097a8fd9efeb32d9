// The worker loop: InQ, then an RX burst per port, then TX flush and an RCU quiescent report.
// Run to completion, bursts of 32; no system call, allocation or lock on this path.
#include "dataplane/worker.h"

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "dataplane/checksum.h"

namespace vr::dataplane {

Worker::Worker(const WorkerSetup& setup)
    : setup_(setup),
      fib_(setup.fib),
      fib6_(setup.fib6),
      vifs_(setup.vifs),
      vif_rx_(kMaxVifs),
      vif_tx_(kMaxVifs),
      vif_drops_(kMaxVifs),
      group_counters_(kMaxGroupSlots),
      rng_(kMaxImpairProfiles),
      icmp_bucket_(setup.icmp_rate, setup.icmp_burst),
      knet_bucket_(setup.knet_rate, setup.knet_burst),
      icmp6_bucket_(setup.icmp_rate, setup.icmp_burst),
      tx_(RTE_MAX_ETHPORTS),
      used_(setup.fib->max_nexthops()) {}

int Worker::Run() {
  rte_rcu_qsbr_thread_register(setup_.rcu, setup_.index);
  rte_rcu_qsbr_thread_online(setup_.rcu, setup_.index);
  rte_mbuf* pkts[kBurst];
  while (!setup_.stop->load(std::memory_order_relaxed)) {
    uint64_t start = rte_rdtsc();
    // One snapshot per iteration, taken first: a port control removes is neither polled nor
    // flushed once this loop reports its quiescent state, so control may then stop the device.
    const PortTable& table = fib_->ports();
    uint32_t work = DrainInq();
    for (uint16_t i = 0; i < table.polled_count; ++i) {
      uint16_t port = table.polled[i];
      uint16_t n = rte_eth_rx_burst(port, setup_.index, pkts, kBurst);
      if (n == 0) continue;
      work += n;
      counters_.rx_packets += n;
      // An administratively down port is still drained, so its device does not back up, and
      // what it received is counted and dropped.
      const VifView& pv = vifs_->vif(port);
      if (unlikely(!vifs_->Up(pv))) {
        counters_.Drop(DropReason::kPortDown, n);
        CountDrops(port, n);
        rte_pktmbuf_free_bulk(pkts, n);
        continue;
      }
      ProcessBurst(port, pkts, n);
    }
    FlushTx(table);
    // This iteration's punts reach control as one batch (XqRing: a batch's first slot last).
    setup_.outq->Publish();
    if (work != 0) {
      counters_.busy_polls++;
      counters_.busy_cycles += rte_rdtsc() - start;
    } else {
      counters_.idle_polls++;
    }
    rte_rcu_qsbr_quiescent(setup_.rcu, setup_.index);
  }
  FlushTx();
  setup_.outq->Publish();
  rte_rcu_qsbr_thread_offline(setup_.rcu, setup_.index);
  rte_rcu_qsbr_thread_unregister(setup_.rcu, setup_.index);
  return 0;
}

void Worker::ProcessBurst(uint16_t port, rte_mbuf** pkts, uint16_t n) {
  // Headers of the whole burst are fetched before the first is parsed, so each packet's miss
  // overlaps the work on the ones before it.
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  // Frames for sub-interfaces each need their vif's view and counters, lines scattered over
  // tables of up to 2^24 entries: classifying the burst ahead lets those misses overlap too.
  // A port without sub-interfaces skips the pass: its frames are all the port's, and a tagged
  // one is dropped as vlan_unknown by EthInput.
  Classified cls[kBurst];
  const PortClassifier* pc = vifs_->find_classifier(port);
  const bool subinterfaces = pc != nullptr;
  for (uint16_t i = 0; subinterfaces && i < n; ++i) {
    cls[i] = ClassifyFrame(port, *pc, pkts[i]);
    // A tagged frame's lines. For unknown tags (kNoVif, 0) and truncated ones (kTruncatedTags,
    // one past the tables' last entry) the prefetch is of a line never used, which costs less
    // than testing for them.
    if (cls[i].tag_bytes != 0) {
      rte_prefetch0(&vifs_->vif(cls[i].vif));
      rte_prefetch0(&vif_rx_[cls[i].vif]);
    }
  }

  // Two passes over IPv4: parse and validate, prefetching each destination's route entry, then
  // look up and act per packet. The split is why: the route table misses of the burst's packets
  // overlap rather than each packet waiting on its own. IPv6 looks its destinations up at once
  // between the passes, for the same reason.
  const Lpm4::Reader routes = fib_->reader();
  rte_mbuf* ms[kBurst];
  rte_ipv4_hdr* ips[kBurst];
  uint32_t k = 0;
  rte_mbuf* ms6[kBurst];
  rte_ipv6_hdr* ips6[kBurst];
  uint8_t dst6[kBurst][16];
  uint32_t nh6[kBurst];
  uint32_t k6 = 0;
  IngressVif in;
  for (uint16_t i = 0; i < n; ++i) {
    bool group = false;
    Classified c = subinterfaces ? cls[i] : Classified{port, 0};
    rte_ipv6_hdr* ip6 = nullptr;
    rte_ipv4_hdr* ip = EthInput(port, pkts[i], c, &group, &in, &ip6);
    if (ip == nullptr) {
      if (ip6 != nullptr && Ip6Input(pkts[i], ip6)) {
        ms6[k6] = pkts[i];
        ips6[k6] = ip6;
        memcpy(dst6[k6], &ip6->dst_addr, 16);
        ++k6;
      }
      continue;
    }
    if (!Ip4Input(pkts[i], ip)) continue;
    // A link-layer broadcast is never forwarded (it is the router's or dropped): taken here, so
    // the acting pass below has no per-packet test for it.
    if (unlikely(group)) {
      Ip4Route(pkts[i], ip, routes.Lookup(Be32(ip->dst_addr)), true);
      continue;
    }
    ms[k] = pkts[i];
    ips[k] = ip;
    routes.Prefetch(Be32(ip->dst_addr));
    ++k;
  }
  Flush(&in.rx, true);
  if (k6 != 0) fib6_->LookupBulk(dst6, nh6, k6);

  // The common case, forwarded to a resolved neighbour within the egress MTU, is done right here
  // with its counter summed per burst; anything else takes the stage functions, which apply the
  // same rules in full (Ip4Route -> Ip4Forward -> Ip4Output).
  rte_mbuf* fwd[kBurst];  // forwarded on the fast path, in order
  uint16_t out_port[kBurst];
  uint32_t forwarded = 0;
  Tally tx;
  Egress egress;
  // Whether the burst leaves by one port, settled when a run starts rather than per packet.
  bool one_port = true;
  int32_t first_port = -1;
  auto start_run = [&](NexthopRun* r, uint32_t idx) {
    StartRun(r, idx, &egress);
    if (!r->fast) return;
    if (first_port < 0) first_port = r->port;
    one_port &= r->port == first_port;
    // Only a run's packets are taken, all to its vif: the tally switches here, not per packet.
    if (r->vif != tx.vif) SwitchVif(&tx, r->vif, false);
  };
  // A fast-path packet with its new Ethernet header: tags, the tally, and the block to send.
  auto take = [&](rte_mbuf* m, const NexthopRun& r) {
    if (unlikely(r.tagged)) PushTags(m, *r.out);
    tx.packets++;
    tx.bytes += rte_pktmbuf_pkt_len(m);
    fwd[forwarded] = m;
    out_port[forwarded] = r.port;
    ++forwarded;
  };
  NexthopRun run;
  for (uint32_t j = 0; j < k; ++j) {
    rte_mbuf* m = ms[j];
    rte_ipv4_hdr* ip = ips[j];
    uint32_t idx = routes.Lookup(Be32(ip->dst_addr));
    if (unlikely(idx != run.index)) start_run(&run, idx);
    // run.mtu is 0 unless the run is a fast one: the length test covers both.
    if (likely(ip->time_to_live > 1 && Be16(ip->total_length) <= run.mtu)) {
      Ip4DecrementTtl(ip);
      WriteEthernet(rte_pktmbuf_mtod(m, rte_ether_hdr*), run.l2, run.src_word);
      take(m, run);
      continue;
    }
    Ip4Route(m, ip, idx, false);
  }
  const uint32_t forwarded4 = forwarded;
  // IPv6 the same way: the checks Ip6Forward makes, in the order it makes them, with a
  // link-local source (first byte 0xfe; the exact test is Ip6Forward's) left to it.
  NexthopRun run6;
  for (uint32_t j = 0; j < k6; ++j) {
    rte_mbuf* m = ms6[j];
    rte_ipv6_hdr* ip = ips6[j];
    uint32_t idx = nh6[j];
    if (unlikely(idx != run6.index)) start_run(&run6, idx);
    if (likely(ip->hop_limits > 1 &&
               sizeof(rte_ipv6_hdr) + Be16(ip->payload_len) <= run6.mtu &&
               reinterpret_cast<const uint8_t*>(&ip->src_addr)[0] != 0xfe)) {
      ip->hop_limits--;
      auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
      WriteEthernet(eth, run6.l2, run6.src_word);
      eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
      take(m, run6);
      continue;
    }
    Ip6Route(m, ip, idx);
  }
  Flush(&tx, false);
  if (forwarded == 0) return;
  if (forwarded4 != 0) counters_.Count(Event::kIp4Forwarded, forwarded4);
  if (forwarded != forwarded4) counters_.Count(Event::kIp6Forwarded, forwarded - forwarded4);
  // Usually the whole burst leaves by one port: append it as a block, not packet by packet.
  if (one_port) {
    TxBuffer& b = tx_[out_port[0]];
    if (b.count == 0) {  // the usual case: straight to the driver, no copy
      uint16_t sent = rte_eth_tx_burst(out_port[0], setup_.index, fwd, forwarded);
      counters_.tx_packets += sent;
      if (unlikely(sent < forwarded)) {
        counters_.Drop(DropReason::kTxFull, forwarded - sent);
        rte_pktmbuf_free_bulk(&fwd[sent], forwarded - sent);
      }
      return;
    }
    if (b.count + forwarded > kBurst) SendTx(out_port[0], b);
    memcpy(&b.pkts[b.count], fwd, forwarded * sizeof(fwd[0]));
    b.count += forwarded;
    if (b.count == kBurst) SendTx(out_port[0], b);
    return;
  }
  for (uint32_t j = 0; j < forwarded; ++j) Transmit(out_port[j], fwd[j]);
}

uint32_t Worker::DrainInq() {
  uint32_t entries[2 * kBurst];
  uint32_t done = setup_.inq->PopBurst(entries, 2 * kBurst);
  // Published before the nbufs are sent or freed, for the reason DrainOutq gives on control.
  if (done != 0) setup_.inq->Flush();
  for (uint32_t i = 0; i < done; ++i) {
    rte_mbuf* m = setup_.pool->FromIndex(XqParam(entries[i]));
    switch (XqActionOf(entries[i])) {
      case XqAction::kTransmit:
        Send(Meta(m)->tx_vif, m);
        break;
      case XqAction::kOutput:
        // A held packet keeps the Ethernet header it arrived with: its EtherType says which
        // family's output it takes.
        if (rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type ==
            RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
          Ip6Output(m, Meta(m)->nexthop);
        } else {
          Ip4Output(m, Meta(m)->nexthop);
        }
        break;
      case XqAction::kFromKernel:
        FromKernel(m);
        break;
      default:
        rte_pktmbuf_free(m);
        break;
    }
  }
  if (done != 0) counters_.Count(Event::kInqReceived, done);
  return done;
}

void Worker::Send(uint32_t vif, rte_mbuf* m) {
  const VifView& out = vifs_->vif(vif);
  const VifView& parent = vifs_->vif(out.port);
  if (unlikely(!vifs_->Up(out) || !vifs_->Up(parent))) {
    counters_.Count(Event::kOutputDropped);
    return Drop(m, vif == out.port ? DropReason::kPortDown : DropReason::kVifDown);
  }
  if (uint32_t imp = vifs_->Impairment(out); unlikely(imp != 0) && Impaired(imp)) {
    counters_.Count(Event::kOutputDropped);
    CountImpaired(vif);
    rte_pktmbuf_free(m);
    return;
  }
  if (out.tag_bytes != 0) PushTags(m, out);
  vif_tx_[vif].packets++;
  vif_tx_[vif].bytes += rte_pktmbuf_pkt_len(m);
  VifCounters& g = GroupCounters(vif);
  g.tx_packets++;
  g.tx_bytes += rte_pktmbuf_pkt_len(m);
  Transmit(out.port, m);
}

bool Worker::Impaired(uint32_t profile) {
  const ImpairProfile& p = vifs_->profile(profile);
  switch (p.kind) {
    case ImpairKind::kDrop: {
      Rng& r = rng_[profile];
      if (unlikely(r.generation != p.generation)) {
        // Seeded per profile and worker: a seed replays the same drops on the same stream.
        r.state = p.seed * 0x9e3779b97f4a7c15ull + setup_.index + 1;
        r.generation = p.generation;
      }
      // xorshift64*: fast, and plenty random for choosing packets to lose.
      r.state ^= r.state >> 12;
      r.state ^= r.state << 25;
      r.state ^= r.state >> 27;
      return ((r.state * 0x2545f4914f6cdd1dull) >> 32) < p.threshold;
    }
    case ImpairKind::kFlap:
      return (rte_rdtsc() - p.epoch) % p.period_cycles >= p.on_cycles;
    default:
      return false;
  }
}

void Worker::Transmit(uint16_t port, rte_mbuf* m) {
  TxBuffer& b = tx_[port];
  b.pkts[b.count++] = m;
  if (b.count == kBurst) SendTx(port, b);
}

void Worker::FlushTx() { FlushTx(fib_->ports()); }

void Worker::FlushTx(const PortTable& table) {
  for (uint16_t i = 0; i < table.polled_count; ++i) {
    uint16_t port = table.polled[i];
    if (tx_[port].count != 0) SendTx(port, tx_[port]);
  }
}

void Worker::SendTx(uint16_t port, TxBuffer& b) {
  uint16_t sent = rte_eth_tx_burst(port, setup_.index, b.pkts, b.count);
  counters_.tx_packets += sent;
  if (sent < b.count) {
    counters_.Drop(DropReason::kTxFull, b.count - sent);
    rte_pktmbuf_free_bulk(&b.pkts[sent], b.count - sent);
  }
  b.count = 0;
}

void Worker::Punt(XqAction action, rte_mbuf* m) {
  // Punts are the slow path: reading the consumer's position here costs nothing that matters.
  if (unlikely(setup_.outq->Pending() >= setup_.outq_backlog) ||
      !setup_.outq->Push(action, Meta(m)->index)) {
    Drop(m, DropReason::kOutqFull);
  }
}

}  // namespace vr::dataplane
