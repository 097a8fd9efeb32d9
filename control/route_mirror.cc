// Mirroring a kernel routing table the way VPP's linux-cp does: subscribe, then dump; apply
// notifications as they come; after ENOBUFS, or a silent kernel flush, dump again and sweep.
#include "control/route_mirror.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "drivers/log.h"

namespace vr::control {

namespace {

struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;

// Notifications are small (a route with hundreds of next hops is a few KB) but a dump datagram is
// up to 32 KB: the kernel sizes dump skbs after the reader's buffer and caps them there.
constexpr size_t kDumpMsgBuf = 64 << 10;
constexpr int kDumpRcvbuf = 1 << 20;
constexpr int kDumpAttempts = 4;  // NLM_F_DUMP_INTR: the table changed under the dump; try again
constexpr auto kFlushSettle = std::chrono::milliseconds(100);
constexpr auto kFlushSettleMax = std::chrono::seconds(1);  // however long a link keeps flapping

KernelRouteKey Key(const KernelRoute& r) { return KernelRouteKey::Of(r); }

absl::Status NlError(std::string_view what, int err) {
  return absl::UnavailableError(absl::StrFormat("route mirror: %s: %s", what, nl_geterror(err)));
}

// SO_RCVBUFFORCE, which needs CAP_NET_ADMIN, ignores net.core.rmem_max (212992 by default, far
// too small for a BGP full table); without the capability fall back to what rmem_max allows.
absl::Status SetRcvbuf(nl_sock* sk, int bytes) {
  int fd = nl_socket_get_fd(sk);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0) {
    return absl::OkStatus();
  }
  if (int err = nl_socket_set_buffer_size(sk, bytes, 0); err < 0) {
    return NlError("receive buffer", err);
  }
  VR_LOG_WARNING("route mirror: no CAP_NET_ADMIN: receive buffer capped by net.core.rmem_max");
  return absl::OkStatus();
}

uint32_t Ip4Of(nl_addr* a) {
  if (a == nullptr || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) return 0;
  uint32_t be;
  memcpy(&be, nl_addr_get_binary_addr(a), 4);
  return ntohl(be);
}

// A destination as the kernel writes it: RTA_DST of the family's size with rtm_dst_len at most
// its bits, or no RTA_DST and length 0 (a default route). libnl passes any rtm_dst_len on, and
// a /200 would be shifted by a negative count (PrefixMask).
bool KernelDst(nl_addr* dst, bool v6) {
  if (dst == nullptr) return false;
  unsigned size = v6 ? 16 : 4;
  unsigned bytes = nl_addr_get_len(dst), len = nl_addr_get_prefixlen(dst);
  return len <= size * 8 && (bytes == size || (bytes == 0 && len == 0));
}

// libnl 3.7's rtnl_route_parse trusts attribute lengths its policy leaves unchecked: a short
// RTA_VIA makes it memcpy a negative length, a short RTA_TABLE is read past its end, and an
// RTA_MULTIPATH next hop of length 0 (or one whose padding runs past the attribute) is walked
// forever, allocating a next hop a turn. The kernel's own policy (rtm_ipv4_policy,
// rtm_ipv6_policy, rtnh_ok) never writes such a message, so one that has them did not come from
// a kernel and is refused before libnl sees it (tests/fuzz/regressions/netlink/).
bool AttrShaped(const nlattr* a, int addr_len) {
  int len = nla_len(a);
  switch (nla_type(a)) {
    case RTA_DST:
    case RTA_SRC:
    case RTA_GATEWAY:
    case RTA_PREFSRC:
      return len == addr_len;
    case RTA_IIF:
    case RTA_OIF:
    case RTA_PRIORITY:
    case RTA_FLOW:
    case RTA_TABLE:
    case RTA_MARK:
    case RTA_EXPIRES:
    case RTA_UID:
    case RTA_NH_ID:
      return len >= 4;
    case RTA_VIA:
      return len >= int(offsetof(rtvia, rtvia_addr));
    case RTA_ENCAP_TYPE:
    case RTA_SPORT:
    case RTA_DPORT:
      return len >= 2;
    case RTA_PREF:
    case RTA_TTL_PROPAGATE:
    case RTA_IP_PROTO:
      return len >= 1;
    default:
      return true;
  }
}

// Every attribute libnl will read, the next hops of RTA_MULTIPATH (libnl takes the last one
// given) and theirs included.
bool KernelShaped(nlmsghdr* hdr, bool v6) {
  const int addr_len = v6 ? 16 : 4;
  nlattr* a;
  int rem;
  nlmsg_for_each_attr(a, hdr, sizeof(rtmsg), rem) {
    if (!AttrShaped(a, addr_len)) return false;
    if (nla_type(a) != RTA_MULTIPATH) continue;
    const auto* p = static_cast<const uint8_t*>(nla_data(a));
    for (int left = nla_len(a); left > 0;) {
      rtnexthop nh;
      if (left < int(sizeof(nh))) return false;
      memcpy(&nh, p, sizeof(nh));
      // libnl subtracts the aligned length from an unsigned count: past the end, it wraps.
      if (nh.rtnh_len < sizeof(nh) || int(RTNH_ALIGN(nh.rtnh_len)) > left) return false;
      nlattr* na;
      int nrem;
      nla_for_each_attr(na, reinterpret_cast<nlattr*>(const_cast<uint8_t*>(p) + RTNH_LENGTH(0)),
                        nh.rtnh_len - int(RTNH_LENGTH(0)), nrem) {
        if (!AttrShaped(na, addr_len)) return false;
      }
      p += RTNH_ALIGN(nh.rtnh_len);
      left -= int(RTNH_ALIGN(nh.rtnh_len));
    }
  }
  return true;
}

config::Ip6Addr Ip6Of(nl_addr* a) {
  config::Ip6Addr out;
  if (a == nullptr || nl_addr_get_family(a) != AF_INET6 || nl_addr_get_len(a) != 16) return out;
  memcpy(out.bytes.data(), nl_addr_get_binary_addr(a), 16);
  return out;
}

}  // namespace

KernelRouteKey KernelRouteKey::Of(const config::Ip4Prefix& p) {
  KernelRouteKey k;
  k.len = p.len;
  memcpy(k.addr.data(), &p.addr, sizeof(p.addr));
  return k;
}

KernelRouteKey KernelRouteKey::Of(const config::Ip6Prefix& p) {
  KernelRouteKey k;
  k.v6 = true;
  k.len = p.len;
  k.addr = p.addr.bytes;
  return k;
}

// One route message, sorted out. kOther: a route at a (prefix, metric) the mirror follows that
// the mirror does not take (filtered type or protocol, or a next hop the dataplane cannot use).
struct RouteMirror::Parsed {
  enum class Kind { kMirror, kOther } kind = Kind::kMirror;
  uint32_t priority = 0;
  uint32_t nhid = 0;    // the next-hop object it uses, if any
  bool append = false;  // NLM_F_APPEND: the kernel put it behind an existing alias, unused
  KernelRoute route;
};

void RouteMirror::SockDeleter::operator()(nl_sock* s) const { nl_socket_free(s); }

RouteMirror::RouteMirror(RouteMirrorOptions options, RouteMirrorSink sink)
    : options_(std::move(options)), sink_(std::move(sink)) {
  if (options_.protocols.empty()) {
    mirrored_.fill(true);
  } else {
    for (uint8_t p : options_.protocols) mirrored_[p] = true;
  }
  mirrored_[RTPROT_KERNEL] = false;
  mirrored_[options_.own_protocol] = false;
  ipv6_ = bool(sink_.remove6);
}

RouteMirror::~RouteMirror() = default;

absl::StatusOr<std::unique_ptr<RouteMirror>> RouteMirror::Open(RouteMirrorOptions options,
                                                               RouteMirrorSink sink) {
  if (!sink.set || !sink.remove) {
    return absl::InvalidArgumentError("route mirror: the sink needs both set and remove");
  }
  auto mirror = std::unique_ptr<RouteMirror>(new RouteMirror(std::move(options), std::move(sink)));
  if (absl::Status s = mirror->Connect(); !s.ok()) return s;
  if (absl::Status s = mirror->Resync(); !s.ok()) return s;
  return mirror;
}

absl::Status RouteMirror::SetUpSubscriber() {
  sub_.reset(nl_socket_alloc());
  if (sub_ == nullptr) return absl::ResourceExhaustedError("route mirror: nl_socket_alloc");
  nl_sock* sk = sub_.get();
  // Notifications carry the sequence number of whatever request caused them: nothing to check.
  nl_socket_disable_seq_check(sk);
  nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, &RouteMirror::NotificationCallback, this);
  return absl::OkStatus();
}

absl::Status RouteMirror::Connect() {
  if (absl::Status s = SetUpSubscriber(); !s.ok()) return s;
  nl_sock* sk = sub_.get();
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) return NlError("connect", err);
  // Links, IPv4 addresses and next-hop objects too: the kernel flushes IPv4 routes through a
  // link that goes down, goes away or loses its last address, and those using a deleted
  // next-hop object, without a single RTM_DELROUTE (see MaybeFlushed).
  int err = nl_socket_add_memberships(sk, RTNLGRP_IPV4_ROUTE, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
                                      RTNLGRP_NEXTHOP, 0);
  if (err < 0) return NlError("subscribe", err);
  // IPv6 announces the routes it drops with a link going down or away (rt6_sync_down_dev deletes
  // them through fib6_del, which notifies), and an address deleted takes only its own prefix
  // route, announced too: the IPv6 address group is not needed. The link group above still
  // schedules a Resync, which dumps both families, for a link that carried IPv6 routes.
  if (ipv6_) {
    err = nl_socket_add_memberships(sk, RTNLGRP_IPV6_ROUTE, 0);
    if (err < 0) return NlError("subscribe ipv6", err);
  }
  // libnl's default MSG_PEEK stays: the second recvmsg per notification costs ~0.8 us of the
  // ~4.5 us a withdrawal takes, but a notification of any size arrives whole.
  if (absl::Status s = SetRcvbuf(sk, options_.rcvbuf); !s.ok()) return s;
  err = nl_socket_set_nonblocking(sk);
  if (err < 0) return NlError("nonblocking", err);
  return ConnectDump();
}

absl::Status RouteMirror::ConnectDump() {
  dump_.reset(nl_socket_alloc());
  if (dump_ == nullptr) return absl::ResourceExhaustedError("route mirror: nl_socket_alloc");
  nl_sock* sk = dump_.get();
  nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, &RouteMirror::DumpCallback, this);
  // Dump datagrams never exceed kDumpMsgBuf, so one recvmsg each, without libnl's MSG_PEEK.
  nl_socket_disable_msg_peek(sk);
  if (int err = nl_socket_set_msg_buf_size(sk, kDumpMsgBuf); err < 0) {
    return NlError("dump buffer", err);
  }
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) return NlError("connect", err);
  if (absl::Status s = SetRcvbuf(sk, kDumpRcvbuf); !s.ok()) return s;
  timeval tv{options_.dump_timeout_ms / 1000, (options_.dump_timeout_ms % 1000) * 1000};
  if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    return absl::Status(absl::ErrnoToStatusCode(errno), "route mirror: SO_RCVTIMEO");
  }
  return absl::OkStatus();
}

int RouteMirror::fd() const { return nl_socket_get_fd(sub_.get()); }

namespace {

// What a detached mirror's socket reads: set by Receive for the length of one call. libnl's
// receive hook has no user argument, hence a thread-local.
thread_local std::span<const uint8_t> detached_datagram;

// libnl's recvmsg replaced: one datagram from "the kernel" (port 0), then EAGAIN. libnl frees
// the buffer; it is exactly the datagram's size, so a read past its end is one past the heap
// block, which AddressSanitizer sees.
int ReceiveDetached(nl_sock*, sockaddr_nl* from, unsigned char** buf, ucred** creds) {
  if (detached_datagram.empty()) return -NLE_AGAIN;
  *buf = static_cast<unsigned char*>(malloc(detached_datagram.size()));
  if (*buf == nullptr) return -NLE_NOMEM;
  memcpy(*buf, detached_datagram.data(), detached_datagram.size());
  int n = int(detached_datagram.size());
  detached_datagram = {};
  *from = sockaddr_nl{};
  from->nl_family = AF_NETLINK;
  if (creds != nullptr) *creds = nullptr;
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouteMirror>> RouteMirror::Detached(RouteMirrorOptions options,
                                                                   RouteMirrorSink sink) {
  if (!sink.set || !sink.remove) {
    return absl::InvalidArgumentError("route mirror: the sink needs both set and remove");
  }
  auto mirror = std::unique_ptr<RouteMirror>(new RouteMirror(std::move(options), std::move(sink)));
  if (absl::Status s = mirror->SetUpSubscriber(); !s.ok()) return s;
  nl_cb* cb = nl_socket_get_cb(mirror->sub_.get());
  nl_cb_overwrite_recv(cb, &ReceiveDetached);
  nl_cb_put(cb);
  return mirror;
}

int RouteMirror::Receive(std::span<const uint8_t> datagram) {
  detached_datagram = datagram;
  handled_ = 0;
  int err = nl_recvmsgs_default(sub_.get());
  detached_datagram = {};
  // A multipart message makes libnl read on for the rest, which a single datagram has not got.
  return err == -NLE_AGAIN ? 0 : err;
}

const KernelRoute* RouteMirror::Find(const config::Ip4Prefix& prefix) const {
  auto it = routes_.find(KernelRouteKey::Of(config::NetworkOf(prefix)));
  return it == routes_.end() ? nullptr : &it->second.front().route;
}

const KernelRoute* RouteMirror::Find6(const config::Ip6Prefix& prefix) const {
  auto it = routes_.find(KernelRouteKey::Of(config::NetworkOf6(prefix)));
  return it == routes_.end() ? nullptr : &it->second.front().route;
}

namespace {

// Only the kernel (port 0) speaks for its routing table; a process with CAP_NET_ADMIN can send
// to our socket too, and what it says is not a route.
bool FromKernel(nl_msg* msg) {
  const sockaddr_nl* from = nlmsg_get_src(msg);
  return from != nullptr && from->nl_pid == 0;
}

}  // namespace

int RouteMirror::NotificationCallback(nl_msg* msg, void* arg) {
  if (FromKernel(msg)) static_cast<RouteMirror*>(arg)->OnNotification(nlmsg_hdr(msg));
  return NL_OK;
}

int RouteMirror::DumpCallback(nl_msg* msg, void* arg) {
  if (FromKernel(msg)) static_cast<RouteMirror*>(arg)->OnDumped(nlmsg_hdr(msg));
  return NL_OK;
}

absl::StatusOr<uint32_t> RouteMirror::Poll(uint32_t budget) {
  handled_ = 0;
  while (handled_ < budget) {
    uint32_t before = handled_;
    // One datagram per call: notifications are never multipart.
    int err = nl_recvmsgs_default(sub_.get());
    if (err == -NLE_AGAIN) break;
    if (err == -NLE_NOMEM) {
      // libnl turns recvmsg's ENOBUFS (the kernel dropped notifications for us) into NLE_NOMEM,
      // as it does its own allocation failures, after which the rest of a datagram is lost too:
      // a Resync is the answer to both.
      counters_.overflows++;
      VR_LOG_NOTICE("route mirror: notifications lost (ENOBUFS): resync");
      Discard();
      if (!resync_pending_) {  // so that a Resync that fails is tried again by the next Poll
        resync_pending_ = true;
        resync_first_ = resync_due_ = Clock::now();
      }
      if (absl::Status s = Resync(); !s.ok()) return s;
      continue;
    }
    if (err < 0) {
      counters_.errors++;
      return NlError("receive", err);
    }
    if (handled_ == before) break;  // a datagram of nothing we handle: let poll() say when more
  }
  if (resync_pending_ && Clock::now() >= resync_due_) {
    if (absl::Status s = Resync(); !s.ok()) return s;
  }
  return handled_;
}

// What is queued when recvmsg reports ENOBUFS is all older than the loss: once the kernel drops
// a notification for a socket it marks it congested and drops every later one until the queue
// is empty. Replayed after the dump, those old changes could undo it with nothing left to put
// them right (an add whose delete was lost), so they go unread. Whatever arrives once the queue
// is empty is complete again, and replays on top of the dump that follows harmlessly.
void RouteMirror::Discard() {
  char buf[64];  // a datagram socket drops what does not fit: nothing needs reading
  int fd = nl_socket_get_fd(sub_.get());
  // Bounded, should changes come faster than they can be dropped: far more than a full queue
  // holds, so what would be left is newer than the loss.
  for (int i = 0; i < (1 << 20); i++) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) continue;  // dropped again meanwhile: keep draining
    if (n <= 0) return;
  }
}

void RouteMirror::OnNotification(nlmsghdr* hdr) {
  counters_.events++;
  handled_++;
  switch (hdr->nlmsg_type) {
    case RTM_NEWROUTE:
    case RTM_DELROUTE: return OnRoute(hdr);
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      if (!nlmsg_valid_hdr(hdr, sizeof(ifinfomsg))) return;
      auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(hdr));
      int ifindex = ifi->ifi_index;
      if (hdr->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_UP)) {
        MaybeFlushed([ifindex](const Slot& s) { return s.route.oif == ifindex; });
      }
      return;
    }
    case RTM_DELADDR: {
      if (!nlmsg_valid_hdr(hdr, sizeof(ifaddrmsg))) return;
      auto* ifa = static_cast<ifaddrmsg*>(nlmsg_data(hdr));
      int ifindex = int(ifa->ifa_index);
      if (ifa->ifa_family == AF_INET) {
        MaybeFlushed([ifindex](const Slot& s) { return s.route.oif == ifindex; });
      }
      return;
    }
    case RTM_DELNEXTHOP: {
      // The id's length checked first: nla_get_u32 reads four bytes whatever the attribute holds.
      nlattr* id = nlmsg_find_attr(hdr, sizeof(nhmsg), NHA_ID);
      if (id == nullptr || nla_len(id) < int(sizeof(uint32_t))) return;
      uint32_t nhid = nla_get_u32(id);
      MaybeFlushed([nhid](const Slot& s) { return s.nhid == nhid; });
      return;
    }
    default: return;
  }
}

// fib_disable_ip() drops the routes through a link set down, deleted, or left without an IPv4
// address, and sends no RTM_DELROUTE for them (routes removed for a deleted preferred source are
// announced). Which routes went depends on the kernel's next-hop bookkeeping (multipath routes
// lose only a next hop), so the mirror does not guess: it dumps again if it has any route there.
// Not at once: the kernel sends the link or address notification first and flushes after, and
// IPv4 route dumps no longer wait for RTNL, so a dump started at once could catch the flush
// halfway (a large table takes milliseconds to flush). Waiting kFlushSettle after the last such
// event also makes one dump of a burst of them.
void RouteMirror::MaybeFlushed(const std::function<bool(const Slot&)>& affected) {
  Clock::time_point now = Clock::now();
  if (resync_pending_) {
    resync_due_ = std::min(now + kFlushSettle, resync_first_ + kFlushSettleMax);
    return;
  }
  for (const auto& [key, slots] : routes_) {
    for (const Slot& s : slots) {
      if (affected(s)) {
        resync_pending_ = true;
        resync_first_ = now;
        resync_due_ = now + kFlushSettle;
        return;
      }
    }
  }
}

bool RouteMirror::Classify(nlmsghdr* hdr, Parsed* out) {
  if (!nlmsg_valid_hdr(hdr, sizeof(rtmsg))) {
    counters_.errors++;
    return false;
  }
  // The fixed header settles most routes a dump brings (the local table, other families) before
  // the dearer parse into a libnl object.
  const auto* rtm = static_cast<const rtmsg*>(nlmsg_data(hdr));
  bool v6 = rtm->rtm_family == AF_INET6;
  if (rtm->rtm_family != AF_INET && !(v6 && ipv6_)) return false;
  if (rtm->rtm_flags & RTM_F_CLONED) {
    counters_.ignored++;
    return false;
  }
  if (rtm->rtm_table != RT_TABLE_COMPAT && rtm->rtm_table != options_.table) {
    counters_.ignored++;  // ids above 255 are in RTA_TABLE, checked below
    return false;
  }
  if (!KernelShaped(hdr, v6)) {
    counters_.errors++;
    VR_LOG_WARNING("route mirror: route message with malformed attributes");
    return false;
  }
  rtnl_route* raw = nullptr;
  if (int err = rtnl_route_parse(hdr, &raw); err < 0) {
    counters_.errors++;
    VR_LOG_WARNING("route mirror: unparseable route message: %s", nl_geterror(err));
    return false;
  }
  RoutePtr route(raw);
  if (rtnl_route_get_table(raw) != options_.table) {
    counters_.ignored++;
    return false;
  }
  // The dataplane's FIB is destination-only; these are routes of their own, next to the plain
  // one for the same prefix, so they neither replace nor withdraw it.
  if (rtm->rtm_tos != 0 || rtm->rtm_src_len != 0) {
    counters_.unsupported++;
    return false;
  }
  nl_addr* dst = rtnl_route_get_dst(raw);
  if (!KernelDst(dst, v6)) {
    counters_.errors++;
    return false;
  }
  out->route = {};
  if (v6) {
    out->route.v6 = true;
    out->route.prefix6 = config::NetworkOf6({Ip6Of(dst), uint8_t(nl_addr_get_prefixlen(dst))});
  } else {
    out->route.prefix = config::NetworkOf({Ip4Of(dst), uint8_t(nl_addr_get_prefixlen(dst))});
  }
  out->priority = rtnl_route_get_priority(raw);
  nlattr* nhid = nlmsg_find_attr(hdr, sizeof(rtmsg), RTA_NH_ID);
  out->nhid = nhid != nullptr ? nla_get_u32(nhid) : 0;  // its length is KernelShaped's
  out->append = hdr->nlmsg_flags & NLM_F_APPEND;
  out->route.protocol = rtnl_route_get_protocol(raw);
  out->kind = Parsed::Kind::kOther;
  switch (rtnl_route_get_type(raw)) {
    case RTN_UNICAST: out->route.type = KernelRoute::Type::kForward; break;
    case RTN_BLACKHOLE: out->route.type = KernelRoute::Type::kBlackhole; break;
    case RTN_UNREACHABLE:
    case RTN_PROHIBIT: out->route.type = KernelRoute::Type::kUnreachable; break;
    // local, broadcast, anycast, multicast, throw, nat: never the dataplane's. For IPv6 that
    // takes the kernel's ff00::/8 multicast and `local` routes on every interface; its fe80::/64
    // ones are RTPROT_KERNEL, dropped below.
    default:
      counters_.ignored++;
      return true;
  }
  if (!mirrored_[out->route.protocol]) {
    counters_.ignored++;
    return true;
  }
  if (out->route.type != KernelRoute::Type::kForward) {
    out->kind = Parsed::Kind::kMirror;
    return true;
  }
  // ECMP is not supported yet: a multipath route is mirrored as its first next hop.
  // A route using a next-hop object (RTA_NH_ID) has its next hops spelt out as well as long as
  // net.ipv4.nexthop_compat_mode is 1 (the default), and a change of the object is then announced
  // as RTM_NEWROUTE for every route using it; with compat mode off libnl 3.7 sees no next hop.
  rtnl_nexthop* nh = rtnl_route_get_nnexthops(raw) > 0 ? rtnl_route_nexthop_n(raw, 0) : nullptr;
  if (nh == nullptr || rtnl_route_nh_get_ifindex(nh) == 0 ||
      rtnl_route_nh_get_via(nh) != nullptr ||                       // an IPv6 gateway (RFC 5549)
      rtnl_route_nh_get_encap_mpls_dst(nh) != nullptr ||            // MPLS push
      nlmsg_find_attr(hdr, sizeof(rtmsg), RTA_ENCAP) != nullptr) {  // other lightweight tunnels
    counters_.unsupported++;
    return true;
  }
  nl_addr* gw = rtnl_route_nh_get_gateway(nh);
  if (gw != nullptr && nl_addr_get_family(gw) != (v6 ? AF_INET6 : AF_INET)) {
    counters_.unsupported++;
    return true;
  }
  // An IPv6 gateway is often link-local (BGP and OSPFv3 next hops): reported as it is, with the
  // oif that says which link it is on.
  if (v6) {
    out->route.gateway6 = Ip6Of(gw);
  } else {
    out->route.gateway = Ip4Of(gw);
  }
  out->route.oif = rtnl_route_nh_get_ifindex(nh);
  out->kind = Parsed::Kind::kMirror;
  return true;
}

// The kernel identifies an IPv4 route by (table, prefix, TOS, metric). A second route with all
// four equal exists only through `ip route append` (unused while the first lives) or `prepend`
// (used ahead of the first); the mirror follows the one in use when it is told, and keeps no
// list of the others: when the used one is deleted, the sink loses the prefix until a Resync.
void RouteMirror::OnRoute(nlmsghdr* hdr) {
  Parsed p;
  if (!Classify(hdr, &p)) return;
  if (hdr->nlmsg_type == RTM_NEWROUTE) {
    if (p.kind == Parsed::Kind::kMirror) return Upsert(p);
    // A replace (or prepend) put a route the mirror does not take where one it took may be,
    // e.g. `ip route replace ... proto static` over a BIRD route: that one is gone.
    if (!p.append) Erase(p, /*only_if_same=*/false);
    return;
  }
  // A delete names the route it removed: only that one goes, whatever filter would say of it
  // now; a delete of an unused alias or of a route never mirrored leaves the mirror alone.
  Erase(p, /*only_if_same=*/true);
}

void RouteMirror::Upsert(const Parsed& p) {
  KernelRouteKey key = Key(p.route);
  auto [it, inserted] = routes_.try_emplace(key);
  Slots& slots = it->second;
  if (inserted) {
    slots.push_back({p.priority, p.nhid, p.route});
    return Announce(key, nullptr);
  }
  KernelRoute before = slots.front().route;
  auto pos = std::lower_bound(slots.begin(), slots.end(), p.priority,
                              [](const Slot& s, uint32_t prio) { return s.priority < prio; });
  if (pos != slots.end() && pos->priority == p.priority) {
    if (p.append) return;  // an alias behind the one in use
    *pos = Slot{p.priority, p.nhid, p.route};
  } else {
    slots.insert(pos, Slot{p.priority, p.nhid, p.route});
  }
  Announce(key, &before);
}

void RouteMirror::Erase(const Parsed& p, bool only_if_same) {
  KernelRouteKey key = Key(p.route);
  auto it = routes_.find(key);
  if (it == routes_.end()) return;
  Slots& slots = it->second;
  auto pos = std::find_if(slots.begin(), slots.end(),
                          [&](const Slot& s) { return s.priority == p.priority; });
  if (pos == slots.end()) return;
  if (only_if_same && !(p.kind == Parsed::Kind::kMirror && pos->route == p.route)) return;
  KernelRoute before = slots.front().route;
  slots.erase(pos);
  if (slots.empty()) routes_.erase(it);
  Announce(key, &before);
}

void RouteMirror::Removed(const KernelRoute& r) {
  counters_.routes_removed++;
  if (r.v6) {
    sink_.remove6(r.prefix6);
  } else {
    sink_.remove(r.prefix);
  }
}

void RouteMirror::Announce(const KernelRouteKey& key, const KernelRoute* before) {
  auto it = routes_.find(key);
  if (it == routes_.end()) {
    if (before != nullptr) Removed(*before);
    return;
  }
  const KernelRoute& now = it->second.front().route;
  if (before != nullptr && *before == now) return;
  counters_.routes_set++;
  sink_.set(now);
}

void RouteMirror::OnDumped(nlmsghdr* hdr) {
  if (hdr->nlmsg_type != RTM_NEWROUTE || fresh_ == nullptr) return;
  Parsed p;
  if (!Classify(hdr, &p) || p.kind != Parsed::Kind::kMirror) return;
  Slots& slots = (*fresh_)[Key(p.route)];
  auto pos = std::lower_bound(slots.begin(), slots.end(), p.priority,
                              [](const Slot& s, uint32_t prio) { return s.priority < prio; });
  // A dump lists aliases in the order the kernel uses them: the first is the one in use.
  if (pos != slots.end() && pos->priority == p.priority) return;
  slots.insert(pos, Slot{p.priority, p.nhid, p.route});
}

absl::Status RouteMirror::Dump(View* fresh) {
  if (dump_ == nullptr) {
    if (absl::Status s = ConnectDump(); !s.ok()) return s;
  }
  fresh_ = fresh;
  int err = 0;
  // One dump per family, into the same view: each ends with its own NLMSG_DONE.
  for (int family : {AF_INET, AF_INET6}) {
    if (family == AF_INET6 && !ipv6_) break;
    err = nl_rtgen_request(dump_.get(), RTM_GETROUTE, family, NLM_F_DUMP);
    if (err >= 0) err = nl_recvmsgs_default(dump_.get());
    if (err < 0) break;
  }
  fresh_ = nullptr;
  if (err == -NLE_DUMP_INTR) return absl::AbortedError("route mirror: dump interrupted");
  if (err < 0) {
    // The rest of a dump that timed out could still arrive and confuse the next one.
    dump_.reset();
    return NlError("dump", err);
  }
  return absl::OkStatus();
}

absl::Status RouteMirror::Resync() {
  // A dump that starts before a pending flush has settled does not stand for it.
  bool settled = resync_pending_ && Clock::now() >= resync_due_;
  View fresh;
  fresh.reserve(routes_.size());
  absl::Status status;
  for (int attempt = 0; attempt < kDumpAttempts; attempt++) {
    fresh.clear();
    status = Dump(&fresh);
    if (!absl::IsAborted(status)) break;
  }
  if (!status.ok()) {
    counters_.errors++;
    VR_LOG_WARNING("%s", status.message());
    return status;
  }
  counters_.resyncs++;
  // Sweep: what the sink holds and the kernel no longer has goes first, then what is new or
  // changed; a route the dump confirms unchanged costs the sink nothing.
  for (const auto& [key, slots] : routes_) {
    if (!fresh.contains(key)) Removed(slots.front().route);
  }
  for (const auto& [key, slots] : fresh) {
    auto it = routes_.find(key);
    if (it == routes_.end() || !(it->second.front().route == slots.front().route)) {
      counters_.routes_set++;
      sink_.set(slots.front().route);
    }
  }
  routes_ = std::move(fresh);
  if (settled) resync_pending_ = false;
  return absl::OkStatus();
}

}  // namespace vr::control
