// The TAP device behind knet: a file descriptor on /dev/net/tun that the control lcore reads and
// writes frames through, each prefixed by a virtio-net header (IFF_VNET_HDR) for offloads.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace vr::knet {

// struct virtio_net_hdr from <linux/virtio_net.h>, which C++ cannot include (a field is named
// `class`). Little-endian, as TUN uses it on this host.
struct VnetHeader {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;      // Ethernet + IP + TCP header bytes of a GSO frame
  uint16_t gso_size;     // payload bytes per segment
  uint16_t csum_start;   // where the checksum to complete starts counting
  uint16_t csum_offset;  // and where it is stored, from csum_start
};
static_assert(sizeof(VnetHeader) == 10);
constexpr uint8_t kVnetNeedsCsum = 1;
constexpr uint8_t kVnetGsoNone = 0;
constexpr uint8_t kVnetGsoTcp4 = 1;
constexpr uint8_t kVnetGsoEcn = 0x80;

class Tap {
 public:
  // Creates the TAP device `name`, or attaches to a persistent one of that name left by an
  // earlier run or made by the operator. Non-blocking. The device goes away with the last fd,
  // so a crashed vrouterd leaves nothing behind unless the device was made persistent.
  static absl::StatusOr<std::unique_ptr<Tap>> Open(const std::string& name);
  ~Tap();
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }

  // Offloads the kernel may leave to us on frames it sends (TUN_F_* bits: checksum, TSO).
  absl::Status SetOffloads(unsigned flags);

  // One frame each: [virtio_net_hdr][Ethernet frame]. Return bytes, 0 when nothing is waiting
  // (read) or the kernel's queue is full (write), or -errno.
  ssize_t ReadV(const iovec* iov, int n) { return Result(readv(fd_, iov, n)); }
  ssize_t WriteV(const iovec* iov, int n) { return Result(writev(fd_, iov, n)); }

 private:
  Tap(int fd, std::string name, int ifindex) : fd_(fd), name_(std::move(name)), ifindex_(ifindex) {}
  static ssize_t Result(ssize_t r) { return r >= 0 ? r : (errno == EAGAIN ? 0 : -errno); }

  int fd_;
  std::string name_;
  int ifindex_;
};

}  // namespace vr::knet
