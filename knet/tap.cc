// Opening the TAP device: TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR. Errors say what the
// operator can do about them (another process holding the name, a non-TAP interface of that name).
#include "knet/tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace vr::knet {

absl::StatusOr<std::unique_ptr<Tap>> Tap::Open(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrFormat("knet: bad interface name '%s'", name));
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("knet: cannot open /dev/net/tun: %s (is the tun module loaded, and are we "
                        "root or CAP_NET_ADMIN?)",
                        strerror(errno)));
  }
  ifreq ifr{};
  memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    int err = errno;
    close(fd);
    const char* hint = err == EBUSY ? " (another process holds it)"
                       : err == EINVAL
                           ? " (an interface of that name exists and is not a TAP device; "
                             "remove it or choose another knet.name)"
                           : "";
    return absl::FailedPreconditionError(
        absl::StrFormat("knet: cannot create TAP device %s: %s%s", name, strerror(err), hint));
  }
  // The 10-byte header: no merged receive buffers, so no num_buffers field.
  int hdr = sizeof(VnetHeader);
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0) {
    int err = errno;
    close(fd);
    return absl::InternalError(absl::StrFormat("knet: TUNSETVNETHDRSZ: %s", strerror(err)));
  }
  auto tap = std::unique_ptr<Tap>(new Tap(fd, ifr.ifr_name, int(if_nametoindex(ifr.ifr_name))));
  if (tap->ifindex_ == 0) {
    return absl::InternalError(absl::StrFormat("knet: %s has no ifindex", name));
  }
  if (absl::Status s = tap->SetOffloads(0); !s.ok()) return s;
  return tap;
}

absl::Status Tap::SetOffloads(unsigned flags) {
  if (ioctl(fd_, TUNSETOFFLOAD, flags) != 0) {
    return absl::InternalError(
        absl::StrFormat("knet: TUNSETOFFLOAD 0x%x on %s: %s", flags, name_, strerror(errno)));
  }
  return absl::OkStatus();
}

Tap::~Tap() { close(fd_); }

}  // namespace vr::knet
