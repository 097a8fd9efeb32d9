// rtnetlink requests for the knet link through libnl-route, each acknowledged before the next, so
// an error names the request that failed. Control-lcore only; a few requests per config change.
#include "knet/kernel_link.h"

#include <net/if.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace vr::knet {
namespace {

// Above the kernel's connected routes (metric 0) and below what routing daemons install (BIRD
// 32, FRR 20), so a config route and a learned route for one prefix can both stand; the
// dataplane has its own rule for which wins.
constexpr uint32_t kRouteMetric = 1024;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using NlAddr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using RtLink = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using RtAddr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using RtRoute = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;

absl::Status NlError(std::string_view what, int err) {
  return absl::InternalError(absl::StrFormat("knet: %s: %s", what, nl_geterror(err)));
}

}  // namespace

void KernelLink::SockDeleter::operator()(nl_sock* s) const { nl_socket_free(s); }

absl::StatusOr<std::unique_ptr<KernelLink>> KernelLink::Open(int ifindex) {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return absl::ResourceExhaustedError("knet: cannot allocate a netlink socket");
  auto link = std::unique_ptr<KernelLink>(new KernelLink(sock, ifindex));
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) return NlError("netlink connect", err);
  return link;
}

absl::Status KernelLink::Configure(uint32_t mtu, const std::array<uint8_t, 6>& mac) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sock_.get(), ifindex_, nullptr, &raw); err < 0) {
    return NlError("reading the link", err);
  }
  RtLink orig(raw);
  RtLink change(rtnl_link_alloc());
  NlAddr lladdr(nl_addr_build(AF_LLC, mac.data(), mac.size()));
  if (!change || !lladdr) return absl::ResourceExhaustedError("knet: out of memory");
  rtnl_link_set_mtu(change.get(), mtu);
  rtnl_link_set_addr(change.get(), lladdr.get());
  rtnl_link_set_flags(change.get(), IFF_UP | IFF_NOARP);
  if (int err = rtnl_link_change(sock_.get(), orig.get(), change.get(), 0); err < 0) {
    return NlError("setting the link up, its MTU and MAC", err);
  }
  return absl::OkStatus();
}

KernelLink::Key KernelLink::Key4(uint32_t host_order, uint8_t len) {
  std::array<uint8_t, 16> b{};
  uint32_t be = htonl(host_order);
  memcpy(b.data(), &be, sizeof(be));
  return {AF_INET, b, len};
}

KernelLink::Key KernelLink::Key6(const config::Ip6Addr& a, uint8_t len) {
  return {AF_INET6, a.bytes, len};
}

namespace {

NlAddr BuildAddr(int family, const std::array<uint8_t, 16>& b, uint8_t len) {
  NlAddr a(nl_addr_build(family, b.data(), family == AF_INET ? 4 : 16));
  if (a) nl_addr_set_prefixlen(a.get(), len);
  return a;
}

std::string Text(int family, const std::array<uint8_t, 16>& b, uint8_t len) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family, b.data(), buf, sizeof(buf));
  return absl::StrFormat("%s/%u", buf, len);
}

// The prefix's network: host bits cleared, as the kernel wants a route's destination.
std::array<uint8_t, 16> Network(std::array<uint8_t, 16> b, uint8_t len, int family) {
  int bits = family == AF_INET ? 32 : 128;
  for (int i = len; i < bits; ++i) b[i / 8] &= uint8_t(~(0x80 >> (i % 8)));
  return b;
}

}  // namespace

void KernelLink::EnableIpv6() {
  if (ipv6_enabled_) return;
  // A namespace or host may have IPv6 off by default; knet0 needs it for the router's IPv6
  // addresses. A sysctl of this one interface, written where sysctl(8) would write it.
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(ifindex_, name) == nullptr) return;
  std::string path = absl::StrFormat("/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
  if (FILE* f = fopen(path.c_str(), "w")) {
    fputs("0", f);
    fclose(f);
  }
  ipv6_enabled_ = true;
}

absl::Status KernelLink::Address(const Key& k, bool add) {
  auto [family, bytes, len] = k;
  RtAddr a(rtnl_addr_alloc());
  NlAddr local = BuildAddr(family, bytes, len);
  if (!a || !local) return absl::ResourceExhaustedError("knet: out of memory");
  rtnl_addr_set_ifindex(a.get(), ifindex_);
  rtnl_addr_set_family(a.get(), family);
  rtnl_addr_set_local(a.get(), local.get());
  rtnl_addr_set_prefixlen(a.get(), len);
  // The router's IPv6 addresses are its own already (the dataplane answers NDP for them): no
  // duplicate address detection on knet, which would hold them tentative for a second.
  if (family == AF_INET6) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  int err = add ? rtnl_addr_add(sock_.get(), a.get(), 0) : rtnl_addr_delete(sock_.get(), a.get(), 0);
  // Already there (a restart onto a persistent device) or already gone: the goal is met.
  if (err < 0 && err != -(add ? NLE_EXIST : NLE_NOADDR) && err != -NLE_OBJ_NOTFOUND) {
    return NlError(absl::StrFormat("%s address %s", add ? "adding" : "removing",
                                   Text(family, bytes, len)),
                   err);
  }
  return absl::OkStatus();
}

absl::Status KernelLink::Route(const Key& k, bool add) {
  auto [family, bytes, len] = k;
  RtRoute r(rtnl_route_alloc());
  NlAddr dst = BuildAddr(family, Network(bytes, len, family), len);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!r || !dst || nh == nullptr) {
    if (nh != nullptr) rtnl_route_nh_free(nh);
    return absl::ResourceExhaustedError("knet: out of memory");
  }
  rtnl_route_set_family(r.get(), family);
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), config::kVrouterRouteProtocol);
  rtnl_route_set_scope(r.get(), RT_SCOPE_LINK);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  rtnl_route_set_priority(r.get(), kRouteMetric);
  rtnl_route_set_dst(r.get(), dst.get());
  rtnl_route_nh_set_ifindex(nh, ifindex_);
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns it now
  int err = add ? rtnl_route_add(sock_.get(), r.get(), NLM_F_CREATE)
                : rtnl_route_delete(sock_.get(), r.get(), 0);
  if (err < 0 && err != -(add ? NLE_EXIST : NLE_OBJ_NOTFOUND)) {
    return NlError(absl::StrFormat("%s route %s dev knet", add ? "adding" : "removing",
                                   Text(family, bytes, len)),
                   err);
  }
  return absl::OkStatus();
}

absl::Status KernelLink::Sync(std::set<Key>* have, std::set<Key> want,
                              absl::Status (KernelLink::*request)(const Key&, bool)) {
  // Only the difference goes to the kernel: a config of thousands of routes must not cost
  // thousands of requests per `vrouterctl route add`.
  for (auto it = have->begin(); it != have->end();) {
    if (want.count(*it) != 0) {
      ++it;
      continue;
    }
    if (absl::Status s = (this->*request)(*it, false); !s.ok()) return s;
    it = have->erase(it);
  }
  for (const Key& k : want) {
    if (have->count(k) != 0) continue;
    if (absl::Status s = (this->*request)(k, true); !s.ok()) return s;
    have->insert(k);
  }
  return absl::OkStatus();
}

absl::Status KernelLink::SetAddresses(const std::vector<config::Ip4Prefix>& want,
                                      const std::vector<config::Ip6Prefix>& want6) {
  std::set<Key> next;
  for (const auto& p : want) next.insert(Key4(p.addr, p.len));
  for (const auto& p : want6) next.insert(Key6(p.addr, p.len));
  if (!want6.empty()) EnableIpv6();
  return Sync(&addresses_, std::move(next), &KernelLink::Address);
}

absl::Status KernelLink::SetRoutes(const std::vector<config::Ip4Prefix>& want,
                                   const std::vector<config::Ip6Prefix>& want6) {
  std::set<Key> next;
  for (const auto& p : want) next.insert(Key4(p.addr & config::PrefixMask(p.len), p.len));
  for (const auto& p : want6) next.insert(Key6(config::NetworkOf6(p).addr, p.len));
  if (!want6.empty()) EnableIpv6();
  return Sync(&routes_, std::move(next), &KernelLink::Route);
}

}  // namespace vr::knet
