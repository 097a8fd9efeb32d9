// The knet frame path on the control lcore: one writev per frame to the kernel and one readv per
// frame from it, into nbufs directly, so nothing is copied twice.
#include "knet/knet.h"

#include <linux/if_tun.h>
#include <net/if.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <sys/ioctl.h>

#include <cstring>

#include "absl/strings/str_format.h"

namespace vr::knet {

absl::StatusOr<std::unique_ptr<Knet>> Knet::Open(const KnetOptions& options,
                                                 dataplane::NbufPool* pool) {
  auto k = std::unique_ptr<Knet>(new Knet());
  k->pool_ = pool;
  k->mtu_ = options.mtu;
  k->bucket_.Configure(options.rate, options.burst);
  auto tap = Tap::Open(options.name);
  if (!tap.ok()) return tap.status();
  k->tap_ = std::move(*tap);
  // The kernel chose a random MAC for the device; frames to the kernel must carry it, or the
  // kernel takes them for another host's.
  ifreq ifr{};
  if (ioctl(k->tap_->fd(), SIOCGIFHWADDR, &ifr) != 0) {
    return absl::InternalError(absl::StrFormat("knet: reading %s's MAC: %s", options.name,
                                               strerror(errno)));
  }
  memcpy(k->mac_.data(), ifr.ifr_hwaddr.sa_data, 6);
  auto link = KernelLink::Open(k->tap_->ifindex());
  if (!link.ok()) return link.status();
  k->link_ = std::move(*link);
  if (absl::Status s = k->link_->Configure(options.mtu, k->mac_); !s.ok()) return s;
  uint32_t room = rte_pktmbuf_data_room_size(pool->mempool()) - RTE_PKTMBUF_HEADROOM;
  k->segments_ = (options.mtu + sizeof(rte_ether_hdr) + room - 1) / room;
  if (!k->FillSpare()) return absl::ResourceExhaustedError("knet: no nbufs for reading");
  return k;
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
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  memcpy(eth->dst_addr.addr_bytes, mac_.data(), 6);
  VnetHeader hdr{};  // no offload: the frame is whole and its checksums are as received
  iovec iov[1 + 8];
  iov[0] = {&hdr, sizeof(hdr)};
  int n = 1;
  for (rte_mbuf* s = m; s != nullptr && n < 9; s = s->next) {
    iov[n++] = {rte_pktmbuf_mtod(s, void*), rte_pktmbuf_data_len(s)};
  }
  uint32_t len = rte_pktmbuf_pkt_len(m);
  ssize_t r = tap_->WriteV(iov, n);
  if (r == ssize_t(sizeof(hdr) + len)) {
    counters_.to_kernel_packets++;
    counters_.to_kernel_bytes += len;
  } else {
    counters_.to_kernel_errors++;
  }
  rte_pktmbuf_free(m);
}

uint32_t Knet::FromKernel(uint32_t budget, const std::function<void(rte_mbuf*)>& deliver) {
  uint32_t done = 0;
  for (; done < budget; ++done) {
    if (!FillSpare()) {
      counters_.from_kernel_no_nbuf++;
      // Drain one frame anyway, so the kernel's queue cannot grow while the pool is short.
      char scrap[1];
      iovec iov{scrap, sizeof(scrap)};
      if (tap_->ReadV(&iov, 1) <= 0) break;
      continue;
    }
    VnetHeader hdr;
    iovec iov[1 + 8];
    iov[0] = {&hdr, sizeof(hdr)};
    for (uint32_t i = 0; i < segments_; ++i) {
      rte_mbuf* s = spare_[spare_.size() - 1 - i];
      iov[1 + i] = {rte_pktmbuf_mtod(s, void*), rte_pktmbuf_tailroom(s)};
    }
    ssize_t r = tap_->ReadV(iov, int(1 + segments_));
    if (r == 0) break;
    if (r < 0) {
      counters_.read_errors++;
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
    auto* eth = rte_pktmbuf_mtod(head, const rte_ether_hdr*);
    if (len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) || hdr.gso_type != kVnetGsoNone ||
        eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
      counters_.from_kernel_unsupported++;
      rte_pktmbuf_free(head);
      continue;
    }
    if (!bucket_.Take()) {
      counters_.from_kernel_rate_limited++;
      rte_pktmbuf_free(head);
      continue;
    }
    counters_.from_kernel_packets++;
    counters_.from_kernel_bytes += len;
    deliver(head);
  }
  return done;
}

}  // namespace vr::knet
