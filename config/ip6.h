// Internal to config/: IPv6 prefix arithmetic and the rules an interface's IPv6 address obeys,
// shared by the loader and its tests. The public part (Ip6Addr, ParseIp6, NetworkOf6, ...) is in
// config/config.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "config/config.h"

namespace vr::config::internal {

// "2001:db8:1::1/64", and the subnet it lies in: "2001:db8:1::/64".
std::string FormatPrefix6(const Ip6Prefix& p);
std::string FormatSubnet6(const Ip6Prefix& p);

// The last address of p's subnet (all host bits set).
Ip6Addr LastOf6(const Ip6Prefix& p);

// What makes `a` no address of a host, if anything, for messages: "the unspecified address",
// "the loopback address", "a multicast address (ff00::/8)", "an IPv4-mapped address
// (::ffff:0:0/96)", or "a link-local address (fe80::/10)" (link-local is a host's address, but only
// on one link: it needs its interface named, and it is never in `addresses`).
std::optional<std::string_view> SpecialUse6(const Ip6Addr& a);

// The all-zeros host part of a subnet is its Subnet-Router anycast address (RFC 4291 §2.6.1),
// which every router on the link answers to. /127 (RFC 6164) and /128 have none.
bool IsSubnetRouterAnycast6(const Ip6Prefix& subnet, const Ip6Addr& a);

// The rules for an interface's own IPv6 address: unicast and not link-local (see SpecialUse6),
// a length of 1..128, and not the Subnet-Router anycast address. `who` names the interface in
// the message ("the port", "the vif").
absl::Status CheckHostAddress6(const Ip6Prefix& a, std::string_view who);

// The rules for a `link_local` value: in fe80::/10, with an interface id (the low 64 bits) that is
// not all zeros.
absl::Status CheckLinkLocal6(const Ip6Addr& a);

}  // namespace vr::config::internal
