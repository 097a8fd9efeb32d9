// The knet frame path on the control lcore: one writev per frame to the kernel and one readv per
// frame from it, into nbufs directly, so nothing is copied twice.
#include "knet/knet.h"

#include <linux/if_tun.h>
#include <net/if.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_gro.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <sys/ioctl.h>

#include <cstring>

#include "absl/strings/str_format.h"

namespace vr::knet {

absl::StatusOr<std::unique_ptr<Knet>> Knet::Open(const KnetOptions& options,
                                                 dataplane::NbufPool* pool) {
  auto k = std::unique_ptr<Knet>(new Knet());
  k->pool_ = pool;
  k->options_ = options;
  k->bucket_.Configure(options.rate, options.burst);
  k->offload_ = options.offload;
  if (absl::Status s = k->Attach(); !s.ok()) return s;
  uint32_t room = rte_pktmbuf_data_room_size(pool->mempool()) - RTE_PKTMBUF_HEADROOM;
  uint32_t largest = options.mtu + sizeof(rte_ether_hdr);
  if (options.offload) {
    largest = 65535 + sizeof(rte_ether_hdr);
    k->gso_.direct_pool = pool->mempool();
    k->gso_.indirect_pool = pool->mempool();
    k->gso_.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
    k->gso_.flag = 0;  // incrementing IP ids, as the kernel's own segmentation does
  }
  k->segments_ = (largest + room - 1) / room;
  if (!k->FillSpare()) return absl::ResourceExhaustedError("knet: no nbufs for reading");
  return k;
}

absl::Status Knet::Attach() {
  auto tap = Tap::Open(options_.name);
  if (!tap.ok()) return tap.status();
  // The kernel chose a random MAC for the device; frames to the kernel must carry it, or the
  // kernel takes them for another host's.
  ifreq ifr{};
  if (ioctl((*tap)->fd(), SIOCGIFHWADDR, &ifr) != 0) {
    return absl::InternalError(absl::StrFormat("knet: reading %s's MAC: %s", options_.name,
                                               strerror(errno)));
  }
  std::array<uint8_t, 6> mac;
  memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  auto link = KernelLink::Open((*tap)->ifindex());
  if (!link.ok()) return link.status();
  if (absl::Status s = (*link)->Configure(options_.mtu, mac); !s.ok()) return s;
  // TUN_F_TSO4 needs TUN_F_CSUM; ECN: a segment keeps CWR only on the first, as TSO does.
  if (options_.offload) {
    if (absl::Status s = (*tap)->SetOffloads(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN); !s.ok()) {
      return s;
    }
  }
  // Only a whole success replaces the state; on failure the locals close what was opened (a
  // TAP we created goes with its descriptor).
  mac_ = mac;
  tap_ = std::move(*tap);
  link_ = std::move(*link);
  return absl::OkStatus();
}

void Knet::Detach() {
  if (tap_ == nullptr) return;
  counters_.link_lost++;
  link_.reset();  // its addresses and routes went with the device
  tap_.reset();
}

bool Knet::Check() {
  // Any TUN ioctl but TUNSETIFF answers EBADFD once the device is gone.
  ifreq ifr{};
  if (tap_ != nullptr && ioctl(tap_->fd(), TUNGETIFF, &ifr) != 0 && errno == EBADFD) Detach();
  return attached();
}

absl::Status Knet::Reattach() {
  if (tap_ != nullptr) return absl::OkStatus();
  if (absl::Status s = Attach(); !s.ok()) return s;
  counters_.recreated++;
  return absl::OkStatus();
}

Knet::~Knet() {
  // A device the operator made persistent outlives us: leave it without our addresses and
  // routes. One we created goes away with the file descriptor, and these requests are moot.
  if (link_ != nullptr) {
    (void)link_->SetRoutes({});
    (void)link_->SetAddresses({});
  }
  for (rte_mbuf* m : spare_) rte_pktmbuf_free(m);
}

bool Knet::FillSpare() {
  while (spare_.size() < segments_) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_->mempool());
    if (m == nullptr) return false;
    spare_.push_back(m);
  }
  return true;
}

void Knet::ToKernel(rte_mbuf* m) {
  VnetHeader hdr{};  // no offload: the frame is whole and its checksums are as received
  Write(m, hdr, 1);
}

void Knet::Write(rte_mbuf* m, const VnetHeader& hdr, uint32_t packets) {
  if (tap_ == nullptr) {
    counters_.to_kernel_errors += packets;
    rte_pktmbuf_free(m);
    return;
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  memcpy(eth->dst_addr.addr_bytes, mac_.data(), 6);
  iovec iov[1 + kMaxSegments];
  iov[0] = {const_cast<VnetHeader*>(&hdr), sizeof(hdr)};
  int n = 1;
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    if (n == 1 + kMaxSegments) {
      counters_.to_kernel_errors += packets;
      rte_pktmbuf_free(m);
      return;
    }
    iov[n++] = {rte_pktmbuf_mtod(s, void*), rte_pktmbuf_data_len(s)};
  }
  uint32_t len = rte_pktmbuf_pkt_len(m);
  ssize_t r = tap_->WriteV(iov, n);
  counters_.to_kernel_writes++;
  if (r == ssize_t(sizeof(hdr) + len)) {
    counters_.to_kernel_packets += packets;
    counters_.to_kernel_bytes += len;
  } else {
    counters_.to_kernel_errors += packets;
    if (r == -EBADFD) Detach();
  }
  rte_pktmbuf_free(m);
}

bool Knet::GroCandidate(rte_mbuf* m) {
  if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + 40) return false;
  auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) return false;
  auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  uint32_t l3 = rte_ipv4_hdr_len(ip);
  if (ip->next_proto_id != IPPROTO_TCP ||
      (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) ||
      sizeof(rte_ether_hdr) + l3 + sizeof(rte_tcp_hdr) > rte_pktmbuf_data_len(m)) {
    return false;
  }
  auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(reinterpret_cast<const uint8_t*>(ip) + l3);
  uint32_t l4 = uint32_t(tcp->data_off >> 4) * 4;
  if (l4 < sizeof(rte_tcp_hdr) || sizeof(rte_ether_hdr) + l3 + l4 > rte_pktmbuf_data_len(m)) {
    return false;
  }
  // A merged frame goes up with its checksum marked as done, so each segment's is checked
  // first, as a NIC does before it merges; a bad one goes up alone for the kernel to drop.
  if (rte_ipv4_udptcp_cksum_verify(ip, tcp) != 0) return false;
  m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
  m->l2_len = sizeof(rte_ether_hdr);
  m->l3_len = l3;
  m->l4_len = l4;
  return true;
}

void Knet::ToKernelBurst(rte_mbuf** pkts, uint32_t n) {
  if (!offload_ || tap_ == nullptr) {
    for (uint32_t i = 0; i < n; ++i) ToKernel(pkts[i]);
    return;
  }
  // Segments of one TCP stream arriving in a burst go up as one frame (GRO), so a kernel
  // receiving a stream through knet pays a write per burst, not per segment.
  rte_mbuf* cand[RTE_GRO_MAX_BURST_ITEM_NUM];
  uint32_t nc = 0;
  auto flush = [&] {
    if (nc == 0) return;
    rte_gro_param param{};
    param.gro_types = RTE_GRO_TCP_IPV4;
    param.max_flow_num = RTE_GRO_MAX_BURST_ITEM_NUM;
    param.max_item_per_flow = RTE_GRO_MAX_BURST_ITEM_NUM;
    uint16_t out = rte_gro_reassemble_burst(cand, uint16_t(nc), &param);
    for (uint16_t i = 0; i < out; ++i) {
      rte_mbuf* m = cand[i];
      if (m->nb_segs == 1) {
        ToKernel(m);
        continue;
      }
      // Merged: one TSO frame of nb_segs segments, the first one's payload size each.
      auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
      auto* tcp = reinterpret_cast<rte_tcp_hdr*>(reinterpret_cast<uint8_t*>(ip) + m->l3_len);
      uint32_t headers = m->l2_len + m->l3_len + m->l4_len;
      ip->total_length = rte_cpu_to_be_16(uint16_t(rte_pktmbuf_pkt_len(m) - m->l2_len));
      ip->hdr_checksum = 0;
      ip->hdr_checksum = rte_ipv4_cksum(ip);
      tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);  // partial: the pseudo-header sum only
      VnetHeader hdr{};
      hdr.flags = kVnetNeedsCsum;
      hdr.gso_type = kVnetGsoTcp4;
      hdr.hdr_len = uint16_t(headers);
      hdr.gso_size = uint16_t(rte_pktmbuf_data_len(m) - headers);
      hdr.csum_start = uint16_t(m->l2_len + m->l3_len);
      hdr.csum_offset = offsetof(rte_tcp_hdr, cksum);
      counters_.to_kernel_gro++;
      Write(m, hdr, m->nb_segs);
    }
    nc = 0;
  };
  for (uint32_t i = 0; i < n; ++i) {
    if (GroCandidate(pkts[i])) {
      cand[nc++] = pkts[i];
      if (nc == RTE_DIM(cand)) flush();
    } else {
      ToKernel(pkts[i]);
    }
  }
  flush();
}

uint32_t Knet::FromKernel(uint32_t budget, const std::function<void(rte_mbuf*)>& deliver) {
  uint32_t done = 0;
  for (; done < budget && tap_ != nullptr; ++done) {
    if (!FillSpare()) {
      counters_.from_kernel_no_nbuf++;
      // Drain one frame anyway, so the kernel's queue cannot grow while the pool is short.
      char scrap[1];
      iovec iov{scrap, sizeof(scrap)};
      if (tap_->ReadV(&iov, 1) <= 0) break;
      continue;
    }
    VnetHeader hdr;
    iovec iov[1 + kMaxSegments];
    iov[0] = {&hdr, sizeof(hdr)};
    for (uint32_t i = 0; i < segments_; ++i) {
      rte_mbuf* s = spare_[spare_.size() - 1 - i];
      iov[1 + i] = {rte_pktmbuf_mtod(s, void*), rte_pktmbuf_tailroom(s)};
    }
    ssize_t r = tap_->ReadV(iov, int(1 + segments_));
    if (r == 0) break;
    if (r < 0) {
      if (r == -EBADFD) {
        Detach();
      } else {
        counters_.read_errors++;
      }
      break;
    }
    uint32_t len = uint32_t(r) > sizeof(hdr) ? uint32_t(r - sizeof(hdr)) : 0;
    // Chain the nbufs the frame filled; the others stay spare.
    rte_mbuf* head = spare_.back();
    spare_.pop_back();
    uint32_t left = len;
    rte_mbuf* tail = head;
    head->data_len = uint16_t(std::min<uint32_t>(left, rte_pktmbuf_tailroom(head)));
    left -= head->data_len;
    head->pkt_len = len;
    head->nb_segs = 1;
    while (left > 0) {
      rte_mbuf* s = spare_.back();
      spare_.pop_back();
      s->data_len = uint16_t(std::min<uint32_t>(left, rte_pktmbuf_tailroom(s)));
      left -= s->data_len;
      tail->next = s;
      tail = s;
      head->nb_segs++;
    }
    counters_.from_kernel_reads++;
    auto* eth = rte_pktmbuf_mtod(head, const rte_ether_hdr*);
    bool v4 = eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4);
    bool v6 = eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
    if (!(v4 || v6) ||
        len < sizeof(rte_ether_hdr) + (v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr))) {
      counters_.from_kernel_unsupported++;
      rte_pktmbuf_free(head);
      continue;
    }
    Finish(head, hdr, deliver);
  }
  return done;
}

void Knet::Deliver(rte_mbuf* m, const std::function<void(rte_mbuf*)>& deliver) {
  if (!bucket_.Take()) {
    counters_.from_kernel_rate_limited++;
    rte_pktmbuf_free(m);
    return;
  }
  counters_.from_kernel_packets++;
  counters_.from_kernel_bytes += rte_pktmbuf_pkt_len(m);
  deliver(m);
}

void Knet::Finish(rte_mbuf* m, const VnetHeader& hdr,
                  const std::function<void(rte_mbuf*)>& deliver) {
  uint8_t gso = hdr.gso_type & ~kVnetGsoEcn;
  if (gso == kVnetGsoNone && !(hdr.flags & kVnetNeedsCsum)) return Deliver(m, deliver);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  uint32_t l3 = rte_ipv4_hdr_len(ip);
  uint32_t len = rte_pktmbuf_pkt_len(m);
  if (gso == kVnetGsoNone) {
    // A partial checksum: the field holds the pseudo-header sum; fold in the rest.
    uint32_t field = uint32_t(hdr.csum_start) + hdr.csum_offset;
    uint16_t sum = 0;
    if (field + 2 > rte_pktmbuf_data_len(m) ||
        rte_raw_cksum_mbuf(m, hdr.csum_start, len - hdr.csum_start, &sum) != 0) {
      counters_.from_kernel_bad_offload++;
      rte_pktmbuf_free(m);
      return;
    }
    uint16_t c = ~sum;
    // 0 means "no checksum" in UDP over IPv4 (and is forbidden over IPv6): send all-ones.
    bool v6 = rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type ==
              RTE_BE16(RTE_ETHER_TYPE_IPV6);
    uint8_t proto = v6 ? reinterpret_cast<const rte_ipv6_hdr*>(ip)->proto : ip->next_proto_id;
    if (c == 0 && proto == IPPROTO_UDP) c = 0xffff;
    memcpy(rte_pktmbuf_mtod_offset(m, uint8_t*, field), &c, sizeof(c));
    return Deliver(m, deliver);
  }
  // A TCP super-frame: cut into segments of gso_size payload bytes, each with its own copy of
  // the headers (a direct nbuf) and its payload left where it is (an indirect one).
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(reinterpret_cast<uint8_t*>(ip) + l3);
  uint32_t l4 = uint32_t(tcp->data_off >> 4) * 4;
  if (gso != kVnetGsoTcp4 || ip->next_proto_id != IPPROTO_TCP ||
      sizeof(rte_ether_hdr) + l3 + l4 > rte_pktmbuf_data_len(m) || hdr.gso_size == 0) {
    counters_.from_kernel_bad_offload++;
    rte_pktmbuf_free(m);
    return;
  }
  m->l2_len = sizeof(rte_ether_hdr);
  m->l3_len = l3;
  m->l4_len = l4;
  m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4;
  rte_gso_ctx ctx = gso_;
  ctx.gso_size = uint16_t(sizeof(rte_ether_hdr) + l3 + l4 + hdr.gso_size);
  rte_mbuf* segs[64];
  int n = rte_gso_segment(m, &ctx, segs, RTE_DIM(segs));
  if (n <= 0) {
    // 0: it fits one segment after all; it still needs its checksums.
    if (n < 0) {
      counters_.from_kernel_no_nbuf++;
      rte_pktmbuf_free(m);
      return;
    }
    segs[0] = m;
    n = 1;
    m = nullptr;
  } else {
    counters_.from_kernel_tso++;
  }
  for (int i = 0; i < n; ++i) {
    rte_mbuf* s = segs[i];
    s->ol_flags &= ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4);
    auto* sip = rte_pktmbuf_mtod_offset(s, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
    auto* stcp = reinterpret_cast<rte_tcp_hdr*>(reinterpret_cast<uint8_t*>(sip) + l3);
    sip->hdr_checksum = 0;
    sip->hdr_checksum = rte_ipv4_cksum(sip);
    stcp->cksum = 0;
    stcp->cksum = rte_ipv4_udptcp_cksum_mbuf(s, sip, sizeof(rte_ether_hdr) + l3);
    Deliver(s, deliver);
  }
  // The segments' payloads hold references to the super-frame; it goes when they do.
  if (m != nullptr) rte_pktmbuf_free(m);
}

}  // namespace vr::knet
