// rtnetlink requests for the knet link through libnl-route, each acknowledged before the next, so
// an error names the request that failed. Control-lcore only; a few requests per config change.
#include "knet/kernel_link.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <arpa/inet.h>

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

NlAddr Ip4Addr(uint32_t host_order, uint8_t len) {
  uint32_t be = htonl(host_order);
  NlAddr a(nl_addr_build(AF_INET, &be, sizeof(be)));
  if (a) nl_addr_set_prefixlen(a.get(), len);
  return a;
}

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

absl::Status KernelLink::Address(const config::Ip4Prefix& p, bool add) {
  RtAddr a(rtnl_addr_alloc());
  NlAddr local = Ip4Addr(p.addr, p.len);
  if (!a || !local) return absl::ResourceExhaustedError("knet: out of memory");
  rtnl_addr_set_ifindex(a.get(), ifindex_);
  rtnl_addr_set_family(a.get(), AF_INET);
  rtnl_addr_set_local(a.get(), local.get());
  rtnl_addr_set_prefixlen(a.get(), p.len);
  int err = add ? rtnl_addr_add(sock_.get(), a.get(), 0) : rtnl_addr_delete(sock_.get(), a.get(), 0);
  // Already there (a restart onto a persistent device) or already gone: the goal is met.
  if (err < 0 && err != -(add ? NLE_EXIST : NLE_NOADDR) && err != -NLE_OBJ_NOTFOUND) {
    return NlError(absl::StrFormat("%s address %s/%u", add ? "adding" : "removing",
                                   config::FormatIp4(p.addr), p.len),
                   err);
  }
  return absl::OkStatus();
}

absl::Status KernelLink::Route(const config::Ip4Prefix& p, bool add) {
  RtRoute r(rtnl_route_alloc());
  NlAddr dst = Ip4Addr(p.addr & config::PrefixMask(p.len), p.len);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!r || !dst || nh == nullptr) {
    if (nh != nullptr) rtnl_route_nh_free(nh);
    return absl::ResourceExhaustedError("knet: out of memory");
  }
  rtnl_route_set_family(r.get(), AF_INET);
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
    return NlError(absl::StrFormat("%s route %s/%u dev knet", add ? "adding" : "removing",
                                   config::FormatIp4(p.addr), p.len),
                   err);
  }
  return absl::OkStatus();
}

absl::Status KernelLink::Sync(std::set<Key>* have, std::set<Key> want,
                               absl::Status (KernelLink::*request)(const config::Ip4Prefix&, bool)) {
  // Only the difference goes to the kernel: a config of thousands of routes must not cost
  // thousands of requests per `vrouterctl route add`.
  for (auto it = have->begin(); it != have->end();) {
    if (want.count(*it) != 0) {
      ++it;
      continue;
    }
    auto [addr, len] = *it;
    if (absl::Status s = (this->*request)({addr, len}, false); !s.ok()) return s;
    it = have->erase(it);
  }
  for (const auto& [addr, len] : want) {
    if (have->count({addr, len}) != 0) continue;
    if (absl::Status s = (this->*request)({addr, len}, true); !s.ok()) return s;
    have->insert({addr, len});
  }
  return absl::OkStatus();
}

absl::Status KernelLink::SetAddresses(const std::vector<config::Ip4Prefix>& want) {
  std::set<Key> next;
  for (const auto& p : want) next.insert({p.addr, p.len});
  return Sync(&addresses_, std::move(next), &KernelLink::Address);
}

absl::Status KernelLink::SetRoutes(const std::vector<config::Ip4Prefix>& want) {
  std::set<Key> next;
  for (const auto& p : want) next.insert({p.addr & config::PrefixMask(p.len), p.len});
  return Sync(&routes_, std::move(next), &KernelLink::Route);
}

}  // namespace vr::knet
