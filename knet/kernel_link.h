// knet's side of the kernel configured through libnl-3 (rtnetlink), never by running `ip`: the
// TAP link's state, MTU and MAC, the router's addresses on it, and routes into the dataplane.
#pragma once

#include <netlink/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace vr::knet {

class KernelLink {
 public:
  static absl::StatusOr<std::unique_ptr<KernelLink>> Open(int ifindex);

  // Up, IFF_NOARP (the dataplane resolves every neighbour; see docs/architecture.md), MTU, MAC.
  absl::Status Configure(uint32_t mtu, const std::array<uint8_t, 6>& mac);
  // Makes the link's addresses `want` (IPv4 and IPv6): adds what is missing, removes what it
  // added before and is no longer wanted. Addresses it did not add are left alone. IPv6 is
  // enabled on the link when it gets an IPv6 address.
  absl::Status SetAddresses(const std::vector<config::Ip4Prefix>& want,
                            const std::vector<config::Ip6Prefix>& want6 = {});
  // The same for routes through the link (protocol vrouter, no gateway: the kernel hands the
  // packet to knet and the dataplane routes it).
  absl::Status SetRoutes(const std::vector<config::Ip4Prefix>& want,
                         const std::vector<config::Ip6Prefix>& want6 = {});

 private:
  // An address or prefix of either family: family, 16 bytes (IPv4 in the first 4), length.
  using Key = std::tuple<int, std::array<uint8_t, 16>, uint8_t>;
  static Key Key4(uint32_t host_order, uint8_t len);
  static Key Key6(const config::Ip6Addr& a, uint8_t len);
  struct SockDeleter {
    void operator()(nl_sock* s) const;
  };
  KernelLink(nl_sock* sock, int ifindex) : sock_(sock), ifindex_(ifindex) {}
  absl::Status Address(const Key& p, bool add);
  absl::Status Route(const Key& p, bool add);
  // Removes from the kernel what `have` holds and `want` does not, then adds `want`.
  absl::Status Sync(std::set<Key>* have, std::set<Key> want,
                    absl::Status (KernelLink::*request)(const Key&, bool));
  void EnableIpv6();

  std::unique_ptr<nl_sock, SockDeleter> sock_;
  int ifindex_;
  bool ipv6_enabled_ = false;
  std::set<Key> addresses_, routes_;
};

}  // namespace vr::knet
