// knet: the router's one interface to the Linux kernel. Frames for the router that the dataplane
// does not answer go to the kernel through a TAP device; what the kernel sends comes back as nbufs
// for a worker to route. Owned and driven by the control lcore.
#pragma once

#include <rte_gso.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/nbuf_pool.h"
#include "dataplane/token_bucket.h"
#include "knet/kernel_link.h"
#include "knet/tap.h"

namespace vr::knet {

struct KnetOptions {
  std::string name = "knet0";
  uint32_t mtu = 1500;
  uint32_t rate = 500000;  // frames per second from the kernel; beyond, dropped and counted
  uint32_t burst = 4096;
  // Let the kernel hand over TCP super-frames of up to 64 KB (TSO) with checksums left to us, and
  // segment them here: one read per 64 KB instead of one per MTU-sized segment.
  bool offload = true;
};

// Control-lcore counters, read by the same lcore for `stats` and /metrics.
struct KnetCounters {
  uint64_t to_kernel_packets = 0;
  uint64_t to_kernel_bytes = 0;
  uint64_t to_kernel_errors = 0;    // the write failed (the kernel's queue, a frame too big)
  uint64_t to_kernel_writes = 0;    // system calls: merged frames count once
  uint64_t to_kernel_gro = 0;       // of which TCP segments merged into one frame
  uint64_t from_kernel_packets = 0;   // packets on the wire: a TSO frame counts its segments
  uint64_t from_kernel_bytes = 0;
  uint64_t from_kernel_reads = 0;     // frames read, TSO super-frames as one
  uint64_t from_kernel_tso = 0;       // of which TSO super-frames segmented here
  uint64_t from_kernel_unsupported = 0;  // not IPv4 (IPv6 waits for dual stack), or malformed
  uint64_t from_kernel_rate_limited = 0;
  uint64_t from_kernel_no_nbuf = 0;  // no nbufs to read into or segment with
  uint64_t from_kernel_bad_offload = 0;  // an offload request we cannot honour (bad offsets)
  uint64_t read_errors = 0;
  uint64_t link_lost = 0;   // times the kernel removed the TAP device under us (ip link del)
  uint64_t recreated = 0;   // times it was made again after that
};

class Knet {
 public:
  // Nbufs one frame may span either way: 64 KB in 2 KB nbufs, with room to spare.
  static constexpr int kMaxSegments = 64;

  static absl::StatusOr<std::unique_ptr<Knet>> Open(const KnetOptions& options,
                                                    dataplane::NbufPool* pool);
  ~Knet();

  // Without a device (attached() false) there is no fd to wait on and the ifindex is 0.
  int fd() const { return tap_ != nullptr ? tap_->fd() : -1; }
  int ifindex() const { return tap_ != nullptr ? tap_->ifindex() : 0; }
  const std::string& name() const { return options_.name; }
  const std::array<uint8_t, 6>& mac() const { return mac_; }
  KernelLink& link() { return *link_; }  // only while attached()

  // The kernel can delete the device while we hold it (`ip link del knet0`): the descriptor
  // then reads and writes EBADFD and polls POLLERR for ever. Knet notices on the next read or
  // write (or Check()), closes it and is detached: frames for the kernel are dropped and
  // counted as to_kernel_errors until Reattach() makes the device again (new ifindex and MAC,
  // no addresses or routes: the caller puts those back).
  bool attached() const { return tap_ != nullptr; }
  bool Check();  // probes the descriptor; returns attached()
  absl::Status Reattach();
  const KnetCounters& counters() const { return counters_; }

  // Hands a frame (14-byte Ethernet header first) to the kernel; consumes the nbuf.
  void ToKernel(rte_mbuf* m);
  // The same for a batch; with offloads, TCP segments of one stream are merged first.
  void ToKernelBurst(rte_mbuf** pkts, uint32_t n);
  // Reads at most `budget` frames the kernel sent and passes each IPv4 one, as an nbuf, to
  // `deliver`; the rest are counted and dropped. Returns the number of frames read.
  uint32_t FromKernel(uint32_t budget, const std::function<void(rte_mbuf*)>& deliver);

 private:
  Knet() = default;
  // Opens (or reattaches to) the TAP device, reads its MAC and configures its kernel side.
  absl::Status Attach();
  void Detach();  // the device is gone: close our end
  // Nbufs for the largest frame the kernel may send, chained on demand: a read lands in as many
  // of them as it needs and the rest stay for the next read.
  bool FillSpare();
  // Writes a frame of `packets` wire packets behind `hdr`; consumes `m`.
  void Write(rte_mbuf* m, const VnetHeader& hdr, uint32_t packets);
  // A single-nbuf TCP/IPv4 segment with a valid checksum: fills its lengths for rte_gro.
  static bool GroCandidate(rte_mbuf* m);
  // Completes what the kernel left to us (a partial checksum, TSO) and passes the resulting
  // packets on; consumes `m`.
  void Finish(rte_mbuf* m, const VnetHeader& hdr, const std::function<void(rte_mbuf*)>& deliver);
  void Deliver(rte_mbuf* m, const std::function<void(rte_mbuf*)>& deliver);

  KnetOptions options_;
  std::unique_ptr<Tap> tap_;
  std::unique_ptr<KernelLink> link_;
  dataplane::NbufPool* pool_ = nullptr;
  std::array<uint8_t, 6> mac_{};
  dataplane::TokenBucket bucket_{1, 1};
  std::vector<rte_mbuf*> spare_;
  uint32_t segments_ = 1;  // nbufs the largest frame the kernel may send needs
  bool offload_ = false;
  rte_gso_ctx gso_{};
  KnetCounters counters_;
};

}  // namespace vr::knet
