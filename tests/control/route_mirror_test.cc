// RouteMirror against the real kernel: the test binary moves into a network namespace of its own
// (it runs as root), makes routes there with `ip`, and checks exactly what the sink was told.
#include "control/route_mirror.h"

#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

extern char** environ;

namespace vr::control {
namespace {

constexpr uint8_t kBird = 12, kStatic = 4, kZebra = 11;

// Every route of the tests lives in the private namespace, over vrm0 (a veth: the kernel here
// has no dummy driver) with 198.18.0.1/24; the tests' own routes are all inside 198.19.0.0/16.
class NetnsEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    if (unshare(CLONE_NEWNET) != 0) {
      perror("unshare(CLONE_NEWNET): the route mirror test needs root");
      std::abort();
    }
    for (const char* cmd :
         {"ip link set lo up", "ip link add vrm0 type veth peer name vrm1",
          "ip addr add 198.18.0.1/24 dev vrm0", "ip link set vrm0 up", "ip link set vrm1 up"}) {
      if (std::system(cmd) != 0) {
        fprintf(stderr, "%s failed\n", cmd);
        std::abort();
      }
    }
  }
};
const testing::Environment* const kNetns = testing::AddGlobalTestEnvironment(new NetnsEnvironment);

int Ip(const std::string& args) { return std::system(("ip " + args).c_str()); }

// Runs `ip -batch` over `lines`, from a file in /tmp removed afterwards.
int IpBatch(const std::vector<std::string>& lines) {
  std::string path = absl::StrFormat("/tmp/vr_route_mirror_%d.batch", getpid());
  {
    std::ofstream out(path);
    for (const auto& l : lines) out << l << '\n';
  }
  int rc = Ip("-batch " + path);
  unlink(path.c_str());
  return rc;
}

uint32_t A(const char* s) { return *config::ParseIp4(s); }
config::Ip4Prefix P(const char* s) { return *config::ParseIp4Prefix(s); }
std::string Str(const config::Ip4Prefix& p) {
  return absl::StrFormat("%s/%d", config::FormatIp4(p.addr), p.len);
}

int Vrm0() { return int(if_nametoindex("vrm0")); }

std::string Describe(const KernelRoute& r) {
  const char* type = r.type == KernelRoute::Type::kForward     ? "forward"
                     : r.type == KernelRoute::Type::kBlackhole ? "blackhole"
                                                               : "unreachable";
  return absl::StrFormat("set %s %s via %s oif %d proto %d", Str(r.prefix), type,
                         config::FormatIp4(r.gateway), r.oif, r.protocol);
}
std::string SetOf(const char* prefix, const char* via, uint8_t proto) {
  return Describe({P(prefix), KernelRoute::Type::kForward, A(via), Vrm0(), proto});
}
std::string SetOf(const char* prefix, KernelRoute::Type type, uint8_t proto) {
  return Describe({P(prefix), type, 0, 0, proto});
}
std::string RemoveOf(const char* prefix) { return "remove " + std::string(prefix); }

// What the dataplane would hold, and every call that got it there.
struct Recorder {
  std::map<std::pair<uint32_t, uint8_t>, KernelRoute> routes;
  std::vector<std::string> log;

  RouteMirrorSink Sink() {
    return {[this](const KernelRoute& r) {
              routes[{r.prefix.addr, r.prefix.len}] = r;
              log.push_back(Describe(r));
            },
            [this](const config::Ip4Prefix& p) {
              EXPECT_EQ(routes.erase({p.addr, p.len}), 1u) << Str(p) << " removed unset";
              log.push_back("remove " + Str(p));
            }};
  }
  std::vector<std::string> Take() { return std::exchange(log, {}); }
  // prefix -> gateway, for comparison with Kernel().
  std::map<std::string, std::string> Gateways() const {
    std::map<std::string, std::string> out;
    for (const auto& [k, r] : routes) out[Str(r.prefix)] = config::FormatIp4(r.gateway);
    return out;
  }
};

// The kernel's own view of the BIRD routes in the main table, prefix -> gateway.
std::map<std::string, std::string> Kernel() {
  std::map<std::string, std::string> out;
  FILE* f = popen("ip -4 -o route show table main proto bird", "r");
  char line[512];
  while (f != nullptr && fgets(line, sizeof(line), f) != nullptr) {
    std::vector<std::string> w = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    std::string prefix = w[0].find('/') == std::string::npos ? w[0] + "/32" : w[0];
    out[prefix] = w.size() > 2 && w[1] == "via" ? w[2] : "0.0.0.0";
  }
  if (f != nullptr) pclose(f);
  return out;
}

RouteMirrorOptions Bird() {
  RouteMirrorOptions o;
  o.protocols = {kBird};
  return o;
}

// Polls as the control lcore would until `done`, or 10 s.
bool PollUntil(RouteMirror& m, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto n = m.Poll();
    EXPECT_TRUE(n.ok()) << n.status();
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{m.fd(), POLLIN, 0};
    poll(&p, 1, 50);
  }
}

// Polls until netlink has nothing left for the mirror.
void Drain(RouteMirror& m) {
  for (;;) {
    auto n = m.Poll();
    ASSERT_TRUE(n.ok()) << n.status();
    pollfd p{m.fd(), POLLIN, 0};
    if (*n == 0 && poll(&p, 1, 0) == 0) return;
  }
}

// A change the mirror takes, to wait for: whatever came before it has been handled too, so a
// test can assert that something caused no call at all without sleeping.
void Sentinel(RouteMirror& m, Recorder& rec, const char* prefix) {
  ASSERT_EQ(Ip(absl::StrFormat("route add %s via 198.18.0.2 proto bird", prefix)), 0);
  std::string want = SetOf(prefix, "198.18.0.2", kBird);
  ASSERT_TRUE(PollUntil(m, [&] { return !rec.log.empty() && rec.log.back() == want; }));
}

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + ts.tv_nsec / 1e9;
}

class RouteMirrorTest : public testing::Test {
 protected:
  void TearDown() override {
    // Everything the tests made, in every table; the connected 198.18.0.0/24 stays.
    Ip("-4 route flush root 198.19.0.0/16 table all 2>/dev/null");
    Ip("-6 route flush root 2001:db8:19::/48 table all 2>/dev/null");
  }
};

// IPv6 on vrm0: enabled by hand (the namespace may inherit disable_ipv6 = 1), with an address
// that skips DAD so that routes through it can be added at once.
void EnableIpv6() {
  for (const char* ifname : {"vrm0", "vrm1"}) {
    std::ofstream(absl::StrFormat("/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname)) << "0\n";
  }
  Ip("-6 addr add 2001:db8:18::1/64 dev vrm0 nodad 2>/dev/null");
}

config::Ip6Addr A6(const char* s) { return *config::ParseIp6(s); }

std::string Describe6(const KernelRoute& r) {
  const char* type = r.type == KernelRoute::Type::kForward     ? "forward"
                     : r.type == KernelRoute::Type::kBlackhole ? "blackhole"
                                                               : "unreachable";
  return absl::StrFormat("set6 %s/%d %s via %s oif %d proto %d", config::FormatIp6(r.prefix6.addr),
                         r.prefix6.len, type, config::FormatIp6(r.gateway6), r.oif, r.protocol);
}

// Both families through one sink: IPv4 routes as Recorder logs them, IPv6 ones as Describe6.
struct Recorder6 {
  std::vector<std::string> log;
  RouteMirrorSink Sink() {
    return {[this](const KernelRoute& r) { log.push_back(r.v6 ? Describe6(r) : Describe(r)); },
            [this](const config::Ip4Prefix& p) { log.push_back("remove " + Str(p)); },
            [this](const config::Ip6Prefix& p) {
              log.push_back(absl::StrFormat("remove6 %s/%d", config::FormatIp6(p.addr), p.len));
            }};
  }
  std::vector<std::string> Take() { return std::exchange(log, {}); }
};

TEST_F(RouteMirrorTest, InitialDumpDeliversExistingRoutes) {
  ASSERT_EQ(Ip("route add 198.19.1.0/24 via 198.18.0.2 proto bird"), 0);
  Recorder rec;
  auto m = RouteMirror::Open({}, rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  // The connected route (proto kernel) is the dataplane's own business.
  EXPECT_EQ(rec.Take(), std::vector<std::string>{SetOf("198.19.1.0/24", "198.18.0.2", kBird)});
  const KernelRoute* r = (*m)->Find(P("198.19.1.0/24"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->gateway, A("198.18.0.2"));
  EXPECT_EQ(r->oif, Vrm0());
  EXPECT_EQ(r->protocol, kBird);
  EXPECT_EQ((*m)->size(), 1u);
  EXPECT_EQ((*m)->counters().resyncs, 1u);
  // SO_RCVBUFFORCE got past net.core.rmem_max; the kernel reports twice what was asked.
  int rcvbuf = 0;
  socklen_t len = sizeof(rcvbuf);
  ASSERT_EQ(getsockopt((*m)->fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len), 0);
  EXPECT_EQ(rcvbuf, 2 * RouteMirrorOptions{}.rcvbuf);
}

TEST_F(RouteMirrorTest, LiveAddReplaceDelete) {
  Recorder rec;
  auto m = RouteMirror::Open({}, rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  EXPECT_TRUE(rec.Take().empty());

  ASSERT_EQ(Ip("route add 198.19.2.0/24 via 198.18.0.2 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{SetOf("198.19.2.0/24", "198.18.0.2", kBird)});

  ASSERT_EQ(Ip("route replace 198.19.2.0/24 via 198.18.0.3 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{SetOf("198.19.2.0/24", "198.18.0.3", kBird)});

  // The same route again: the kernel announces it, the sink hears nothing.
  ASSERT_EQ(Ip("route replace 198.19.2.0/24 via 198.18.0.3 proto bird"), 0);
  Sentinel(mirror, rec, "198.19.3.0/24");
  EXPECT_EQ(rec.Take(), std::vector<std::string>{SetOf("198.19.3.0/24", "198.18.0.2", kBird)});

  ASSERT_EQ(Ip("route del 198.19.2.0/24"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{RemoveOf("198.19.2.0/24")});
  EXPECT_EQ(mirror.size(), 1u);
  EXPECT_EQ(mirror.counters().routes_set, 3u);
  EXPECT_EQ(mirror.counters().routes_removed, 1u);
}

TEST_F(RouteMirrorTest, Filters) {
  Recorder rec;
  RouteMirrorOptions o;
  o.protocols = {kBird, kStatic};
  auto m = RouteMirror::Open(o, rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  RouteMirror::Counters before = mirror.counters();

  for (const char* cmd : {
           "route add 198.19.10.0/24 via 198.18.0.2 proto 250",             // own_protocol
           "route add 198.19.11.0/24 via 198.18.0.2 proto bird table 100",  // other table
           "route add 198.19.12.0/24 via 198.18.0.2 proto zebra",           // not listed
           "route add 198.19.13.0/24 dev vrm0 proto kernel",                // connected-like
           "route add local 198.19.14.1 dev vrm0 proto bird table main",    // local type
           "route add broadcast 198.19.14.255 dev vrm0 proto bird table main",
           "route add 198.19.15.0/24 tos 0x10 via 198.18.0.2 proto bird",  // TOS: unsupported
           "route add blackhole 198.19.16.0/24 proto bird",
           "route add unreachable 198.19.17.0/24 proto bird",
           "route add prohibit 198.19.18.0/24 proto static",
           "route add 198.19.19.0/24 dev vrm0 proto static",  // no gateway
       }) {
    ASSERT_EQ(Ip(cmd), 0) << cmd;
  }
  Sentinel(mirror, rec, "198.19.20.0/24");
  int vrm0 = Vrm0();
  EXPECT_EQ(rec.Take(),
            (std::vector<std::string>{
                SetOf("198.19.16.0/24", KernelRoute::Type::kBlackhole, kBird),
                SetOf("198.19.17.0/24", KernelRoute::Type::kUnreachable, kBird),
                SetOf("198.19.18.0/24", KernelRoute::Type::kUnreachable, kStatic),
                Describe({P("198.19.19.0/24"), KernelRoute::Type::kForward, 0, vrm0, kStatic}),
                SetOf("198.19.20.0/24", "198.18.0.2", kBird),
            }));
  EXPECT_EQ(mirror.counters().ignored - before.ignored, 6u);
  EXPECT_EQ(mirror.counters().unsupported - before.unsupported, 1u);
  EXPECT_EQ(mirror.counters().errors, 0u);

  // A dump sorts them out the same way.
  Recorder again;
  auto fresh = RouteMirror::Open(o, again.Sink());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(again.routes, rec.routes);
  EXPECT_EQ((*fresh)->size(), 5u);
}

TEST_F(RouteMirrorTest, ProtocolChangeByReplaceRemoves) {
  Recorder rec;
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;

  ASSERT_EQ(Ip("route add 198.19.4.0/24 via 198.18.0.2 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  ASSERT_EQ(Ip("route replace 198.19.4.0/24 via 198.18.0.2 proto static"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 2; }));
  // And back: BIRD takes the route over again.
  ASSERT_EQ(Ip("route replace 198.19.4.0/24 via 198.18.0.3 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 3; }));
  EXPECT_EQ(rec.Take(), (std::vector<std::string>{
                            SetOf("198.19.4.0/24", "198.18.0.2", kBird),
                            RemoveOf("198.19.4.0/24"),
                            SetOf("198.19.4.0/24", "198.18.0.3", kBird),
                        }));
  EXPECT_EQ(rec.Gateways(), Kernel());
}

// Several routes for one prefix: by metric the sink sees the best; an appended alias (unused by
// the kernel while the first lives) changes nothing, and deleting it takes nothing away.
TEST_F(RouteMirrorTest, MetricsAndAliases) {
  Recorder rec;
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;

  ASSERT_EQ(Ip("route add 198.19.5.0/24 via 198.18.0.2 proto bird metric 20"), 0);
  ASSERT_EQ(Ip("route add 198.19.5.0/24 via 198.18.0.3 proto bird metric 10"), 0);
  ASSERT_EQ(Ip("route add 198.19.5.0/24 via 198.18.0.4 proto bird metric 30"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 2; }));
  ASSERT_EQ(Ip("route del 198.19.5.0/24 via 198.18.0.3 metric 10"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 3; }));
  EXPECT_EQ(rec.Take(), (std::vector<std::string>{
                            SetOf("198.19.5.0/24", "198.18.0.2", kBird),
                            SetOf("198.19.5.0/24", "198.18.0.3", kBird),
                            SetOf("198.19.5.0/24", "198.18.0.2", kBird),
                        }));

  ASSERT_EQ(Ip("route append 198.19.5.0/24 via 198.18.0.5 proto bird metric 20"), 0);
  ASSERT_EQ(Ip("route del 198.19.5.0/24 via 198.18.0.5 metric 20"), 0);
  Sentinel(mirror, rec, "198.19.6.0/24");
  EXPECT_EQ(rec.Take(), std::vector<std::string>{SetOf("198.19.6.0/24", "198.18.0.2", kBird)});

  ASSERT_EQ(Ip("route del 198.19.5.0/24 metric 20"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  ASSERT_EQ(Ip("route del 198.19.5.0/24 metric 30"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 2; }));
  EXPECT_EQ(rec.Take(), (std::vector<std::string>{SetOf("198.19.5.0/24", "198.18.0.4", kBird),
                                                  RemoveOf("198.19.5.0/24")}));
}

// The kernel drops IPv4 routes through a link set down without an RTM_DELROUTE: the link's
// notification makes the mirror dump again.
TEST_F(RouteMirrorTest, LinkDownFlushesSilently) {
  ASSERT_EQ(Ip("link add vrm2 type veth peer name vrm3"), 0);
  ASSERT_EQ(Ip("addr add 198.18.2.1/24 dev vrm2"), 0);
  ASSERT_EQ(Ip("link set vrm2 up"), 0);
  ASSERT_EQ(Ip("link set vrm3 up"), 0);
  Recorder rec;
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  ASSERT_EQ(Ip("route add 198.19.30.0/24 via 198.18.2.2 proto bird"), 0);
  ASSERT_EQ(Ip("route add 198.19.31.0/24 via 198.18.0.2 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 2; }));
  rec.Take();

  // Its last address gone, the link keeps no IPv4 route either.
  ASSERT_EQ(Ip("addr del 198.18.2.1/24 dev vrm2"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{RemoveOf("198.19.30.0/24")});
  EXPECT_EQ(mirror.counters().resyncs, 2u);
  EXPECT_EQ(rec.Gateways(), Kernel());

  ASSERT_EQ(Ip("addr add 198.18.2.1/24 dev vrm2"), 0);
  ASSERT_EQ(Ip("route add 198.19.30.0/24 via 198.18.2.2 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  rec.Take();
  ASSERT_EQ(Ip("link set vrm2 down"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{RemoveOf("198.19.30.0/24")});
  EXPECT_EQ(mirror.counters().resyncs, 3u);
  EXPECT_EQ(rec.Gateways(), Kernel());
  ASSERT_EQ(Ip("link del vrm2"), 0);
}

// Routes over next-hop objects (as FRR installs them): with net.ipv4.nexthop_compat_mode on, the
// kernel spells out their next hop and re-announces them when the object changes; deleting the
// object deletes them without a word, which a (settled) Resync catches.
TEST_F(RouteMirrorTest, NexthopObjects) {
  ASSERT_EQ(Ip("nexthop add id 5 via 198.18.0.2 dev vrm0"), 0);
  ASSERT_EQ(Ip("route add 198.19.50.0/24 nhid 5 proto bird"), 0);
  Recorder rec;
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  ASSERT_EQ(Ip("nexthop replace id 5 via 198.18.0.3 dev vrm0"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 2; }));
  ASSERT_EQ(Ip("nexthop del id 5"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 3; }));
  EXPECT_EQ(rec.Take(), (std::vector<std::string>{
                            SetOf("198.19.50.0/24", "198.18.0.2", kBird),
                            SetOf("198.19.50.0/24", "198.18.0.3", kBird),
                            RemoveOf("198.19.50.0/24"),
                        }));
  EXPECT_EQ(mirror.counters().resyncs, 2u);
}

// Changes the mirror never polled for: a Resync alone makes the sink equal to the kernel, and the
// notifications still queued replay on top of it without undoing that.
TEST_F(RouteMirrorTest, ResyncMarksAndSweeps) {
  ASSERT_EQ(Ip("route add 198.19.40.0/24 via 198.18.0.2 proto bird"), 0);
  ASSERT_EQ(Ip("route add 198.19.41.0/24 via 198.18.0.2 proto bird"), 0);
  ASSERT_EQ(Ip("route add 198.19.42.0/24 via 198.18.0.2 proto bird"), 0);
  Recorder rec;
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  EXPECT_EQ(rec.Take().size(), 3u);

  ASSERT_EQ(Ip("route del 198.19.40.0/24"), 0);                                // vanished
  ASSERT_EQ(Ip("route replace 198.19.41.0/24 via 198.18.0.9 proto bird"), 0);  // changed
  ASSERT_EQ(Ip("route add 198.19.43.0/24 via 198.18.0.2 proto bird"), 0);      // new
  ASSERT_EQ(Ip("route add 198.19.44.0/24 via 198.18.0.2 proto bird"), 0);      // new, then gone
  ASSERT_EQ(Ip("route del 198.19.44.0/24"), 0);
  ASSERT_TRUE(mirror.Resync().ok());
  EXPECT_EQ(mirror.counters().resyncs, 2u);
  // Removes first, then sets, each in hash order.
  std::vector<std::string> log = rec.Take();
  ASSERT_EQ(log.size(), 3u);
  std::sort(log.begin() + 1, log.end());
  EXPECT_EQ(log, (std::vector<std::string>{
                     RemoveOf("198.19.40.0/24"),
                     SetOf("198.19.41.0/24", "198.18.0.9", kBird),
                     SetOf("198.19.43.0/24", "198.18.0.2", kBird),
                 }));
  EXPECT_EQ(rec.Gateways(), Kernel());

  Drain(mirror);
  EXPECT_EQ(rec.Gateways(), Kernel());
  EXPECT_EQ(mirror.size(), 3u);
}

// A receive buffer far too small for a burst: the kernel drops notifications, recvmsg says
// ENOBUFS, and the mirror recovers by itself.
TEST_F(RouteMirrorTest, OverflowResyncs) {
  Recorder rec;
  RouteMirrorOptions o = Bird();
  o.rcvbuf = 4096;
  auto m = RouteMirror::Open(o, rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;

  std::vector<std::string> add, del;
  for (int i = 0; i < 3000; i++) {
    std::string route = absl::StrFormat("198.19.%d.%d/32", 100 + i / 256, i % 256);
    add.push_back("route add " + route + " via 198.18.0.2 proto bird");
    if (i % 6 == 0) del.push_back("route del " + route);
  }
  ASSERT_EQ(IpBatch(add), 0);
  ASSERT_EQ(IpBatch(del), 0);
  Drain(mirror);
  EXPECT_GE(mirror.counters().overflows, 1u);
  EXPECT_GE(mirror.counters().resyncs, 2u);
  EXPECT_EQ(mirror.size(), 2500u);
  EXPECT_EQ(rec.routes.size(), 2500u);
  EXPECT_EQ(rec.Gateways(), Kernel());

  // Notifications again once recovered.
  ASSERT_EQ(Ip("route del 198.19.100.1/32"), 0);
  ASSERT_EQ(Ip("route replace 198.19.100.2/32 via 198.18.0.7 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] {
    const KernelRoute* r = mirror.Find(P("198.19.100.2/32"));
    return mirror.size() == 2499 && r != nullptr && r->gateway == A("198.18.0.7");
  }));
  EXPECT_EQ(rec.Gateways(), Kernel());
  printf("overflow: %lu overflows, %lu resyncs, %lu events, %lu sets, %lu removes\n",
         mirror.counters().overflows, mirror.counters().resyncs, mirror.counters().events,
         mirror.counters().routes_set, mirror.counters().routes_removed);
}

// 100,000 routes: the initial dump, and a withdrawal of all of them as notifications.
TEST_F(RouteMirrorTest, Scale100k) {
  constexpr int kRoutes = 100000;
  std::vector<std::string> add, del;
  // /32s, /31s and /30s of 198.19.0.0/16: 65,536 + 32,768 + 1,696.
  for (int i = 0; i < kRoutes; i++) {
    int len = i < 65536 ? 32 : i < 98304 ? 31 : 30;
    uint32_t n = i < 65536 ? i : i < 98304 ? (i - 65536) * 2 : (i - 98304) * 4;
    std::string route = absl::StrFormat("198.19.%d.%d/%d", n >> 8, n & 0xff, len);
    add.push_back("route add " + route + " via 198.18.0.2 proto bird");
    del.push_back("route del " + route);
  }
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(IpBatch(add), 0);
  auto t1 = std::chrono::steady_clock::now();

  Recorder rec;
  double cpu0 = CpuSeconds();
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  double open_cpu = CpuSeconds() - cpu0;
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  ASSERT_EQ(mirror.size(), size_t(kRoutes));
  EXPECT_EQ(rec.routes.size(), size_t(kRoutes));

  // A Resync with nothing changed: dump and sweep, no sink call.
  cpu0 = CpuSeconds();
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(mirror.Resync().ok());
  auto t4 = std::chrono::steady_clock::now();
  double resync_cpu = CpuSeconds() - cpu0;
  EXPECT_EQ(mirror.counters().routes_set, uint64_t(kRoutes));
  EXPECT_LT(resync_cpu, 1.0);

  // The withdrawal runs beside the mirror, as a routing daemon would.
  std::string path = absl::StrFormat("/tmp/vr_route_mirror_%d.del", getpid());
  {
    std::ofstream out(path);
    for (const auto& l : del) out << l << '\n';
  }
  const char* argv[] = {"ip", "-batch", path.c_str(), nullptr};
  pid_t pid;
  auto t5 = std::chrono::steady_clock::now();
  ASSERT_EQ(posix_spawnp(&pid, "ip", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  double poll_cpu = 0;
  auto deadline = t5 + std::chrono::seconds(20);
  while (mirror.size() > 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{mirror.fd(), POLLIN, 0};
    poll(&p, 1, 50);
    double c = CpuSeconds();
    auto n = mirror.Poll();
    poll_cpu += CpuSeconds() - c;
    ASSERT_TRUE(n.ok()) << n.status();
  }
  auto t6 = std::chrono::steady_clock::now();
  bool done = mirror.size() == 0;
  int status = 0;
  waitpid(pid, &status, 0);
  unlink(path.c_str());
  EXPECT_TRUE(done);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(rec.routes.empty());

  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  printf(
      "100k: ip -batch add %.0f ms; Open (subscribe + dump + sweep) %.0f ms wall, %.0f ms CPU;"
      " idle Resync %.0f ms wall, %.0f ms CPU\n",
      ms(t0, t1), ms(t1, t2), open_cpu * 1e3, ms(t3, t4), resync_cpu * 1e3);
  printf(
      "100k withdraw: %.0f ms from ip -batch start to size()==0, Poll CPU %.0f ms;"
      " %lu events, %lu removes, %lu overflows, %lu resyncs\n",
      ms(t5, t6), poll_cpu * 1e3, mirror.counters().events, mirror.counters().routes_removed,
      mirror.counters().overflows, mirror.counters().resyncs);
}

}  // namespace
}  // namespace vr::control

namespace vr::control {
namespace {

TEST_F(RouteMirrorTest, Ipv6Routes) {
  EnableIpv6();
  ASSERT_EQ(Ip("-6 route add 2001:db8:19:1::/64 via 2001:db8:18::2 proto bird"), 0);
  ASSERT_EQ(Ip("route add 198.19.1.0/24 via 198.18.0.2 proto bird"), 0);
  // Without remove6 the mirror stays IPv4-only.
  {
    Recorder rec;
    auto m = RouteMirror::Open({}, rec.Sink());
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(rec.Take(), std::vector<std::string>{SetOf("198.19.1.0/24", "198.18.0.2", kBird)});
  }
  Recorder6 rec;
  auto m = RouteMirror::Open(Bird(), rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  // The kernel's own IPv6 routes (fe80::/64 and 2001:db8:18::/64 proto kernel, ff00::/8
  // multicast, the local ones) are not reported.
  std::vector<std::string> first = rec.Take();
  std::sort(first.begin(), first.end());
  std::string v6 = absl::StrFormat("set6 2001:db8:19:1::/64 forward via 2001:db8:18::2 oif %d "
                                   "proto %d", Vrm0(), kBird);
  EXPECT_EQ(first,
            (std::vector<std::string>{SetOf("198.19.1.0/24", "198.18.0.2", kBird), v6}));
  const KernelRoute* r = mirror.Find6({A6("2001:db8:19:1::"), 64});
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->v6);
  EXPECT_EQ(r->gateway6, A6("2001:db8:18::2"));
  EXPECT_EQ(mirror.size(), 2u);

  // A link-local gateway (a BGP or OSPFv3 next hop): reported with its oif.
  ASSERT_EQ(Ip("-6 route add 2001:db8:19:2::/64 via fe80::2 dev vrm0 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{absl::StrFormat(
                            "set6 2001:db8:19:2::/64 forward via fe80::2 oif %d proto %d", Vrm0(),
                            kBird)});
  ASSERT_EQ(Ip("-6 route add blackhole 2001:db8:19:3::/64 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{absl::StrFormat(
                            "set6 2001:db8:19:3::/64 blackhole via :: oif 0 proto %d", kBird)});
  // Filtered as for IPv4: another protocol, the kernel's.
  ASSERT_EQ(Ip("-6 route add 2001:db8:19:4::/64 via 2001:db8:18::2 proto static"), 0);
  ASSERT_EQ(Ip("-6 route del 2001:db8:19:2::/64"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 1; }));
  EXPECT_EQ(rec.Take(), std::vector<std::string>{"remove6 2001:db8:19:2::/64"});
  EXPECT_EQ(mirror.size(), 3u);

  // A resync finds nothing to change.
  ASSERT_TRUE(mirror.Resync().ok());
  EXPECT_TRUE(rec.Take().empty());
  Drain(mirror);
  EXPECT_TRUE(rec.Take().empty());
}

TEST_F(RouteMirrorTest, Ipv6ResyncSweepsBothFamilies) {
  EnableIpv6();
  Recorder6 rec;
  auto m = RouteMirror::Open({}, rec.Sink());
  ASSERT_TRUE(m.ok()) << m.status();
  RouteMirror& mirror = **m;
  rec.Take();
  ASSERT_EQ(Ip("-6 route add 2001:db8:19:5::/64 via 2001:db8:18::2 proto bird"), 0);
  ASSERT_EQ(Ip("route add 198.19.5.0/24 via 198.18.0.2 proto bird"), 0);
  ASSERT_TRUE(PollUntil(mirror, [&] { return rec.log.size() == 2; }));
  rec.Take();
  // Deleted behind the mirror's back: only a Resync (as after an overflow) can tell.
  ASSERT_EQ(Ip("-6 route del 2001:db8:19:5::/64"), 0);
  ASSERT_EQ(Ip("route del 198.19.5.0/24"), 0);
  usleep(100000);
  ASSERT_TRUE(mirror.Resync().ok());
  std::vector<std::string> got = rec.Take();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"remove 198.19.5.0/24", "remove6 2001:db8:19:5::/64"}));
  EXPECT_EQ(mirror.size(), 0u);
  Drain(mirror);  // the notifications, replayed on top of the dump, change nothing
  EXPECT_TRUE(rec.Take().empty());
}

}  // namespace
}  // namespace vr::control
