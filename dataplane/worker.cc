// The worker loop: InQ, then an RX burst per port, then TX flush and an RCU quiescent report.
// Run to completion, bursts of 32; no system call, allocation or lock on this path.
#include "dataplane/worker.h"

#include <rte_ethdev.h>
#include <rte_prefetch.h>

namespace vr::dataplane {

Worker::Worker(const WorkerSetup& setup)
    : setup_(setup),
      fib_(setup.fib),
      icmp_bucket_(setup.icmp_rate, setup.icmp_burst),
      tx_(RTE_MAX_ETHPORTS),
      used_(setup.fib->max_nexthops(), 0) {}

int Worker::Run() {
  rte_rcu_qsbr_thread_register(setup_.rcu, setup_.index);
  rte_rcu_qsbr_thread_online(setup_.rcu, setup_.index);
  rte_mbuf* pkts[kBurst];
  while (!setup_.stop->load(std::memory_order_relaxed)) {
    uint64_t start = rte_rdtsc();
    uint32_t work = DrainInq();
    for (uint16_t port : setup_.ports) {
      uint16_t n = rte_eth_rx_burst(port, setup_.index, pkts, kBurst);
      if (n == 0) continue;
      work += n;
      counters_.rx_packets += n;
      ProcessBurst(port, pkts, n);
    }
    FlushTx();
    if (work != 0) {
      counters_.busy_polls++;
      counters_.busy_cycles += rte_rdtsc() - start;
    } else {
      counters_.idle_polls++;
    }
    rte_rcu_qsbr_quiescent(setup_.rcu, setup_.index);
  }
  FlushTx();
  rte_rcu_qsbr_thread_offline(setup_.rcu, setup_.index);
  rte_rcu_qsbr_thread_unregister(setup_.rcu, setup_.index);
  return 0;
}

void Worker::ProcessBurst(uint16_t port, rte_mbuf** pkts, uint16_t n) {
  // Headers of the whole burst are fetched before the first is parsed, so each packet's miss
  // overlaps the work on the ones before it.
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) EthInput(port, pkts[i]);
}

uint32_t Worker::DrainInq() {
  uint32_t done = 0;
  XqAction action;
  uint32_t param;
  while (done < 2 * kBurst && setup_.inq->Pop(&action, &param)) {
    ++done;
    rte_mbuf* m = setup_.pool->FromIndex(param);
    switch (action) {
      case XqAction::kTransmit:
        Transmit(Meta(m)->tx_port, m);
        break;
      case XqAction::kOutput:
        Ip4Output(m, Meta(m)->nexthop);
        break;
      default:
        rte_pktmbuf_free(m);
        break;
    }
  }
  if (done != 0) {
    setup_.inq->Flush();
    counters_.Count(Event::kInqReceived, done);
  }
  return done;
}

void Worker::Transmit(uint16_t port, rte_mbuf* m) {
  TxBuffer& b = tx_[port];
  b.pkts[b.count++] = m;
  if (b.count == kBurst) SendTx(port, b);
}

void Worker::FlushTx() {
  for (uint16_t port : setup_.ports) {
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
  if (!setup_.outq->Push(action, Meta(m)->index)) Drop(m, DropReason::kOutqFull);
}

}  // namespace vr::dataplane
