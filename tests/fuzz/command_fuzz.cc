// Fuzzes the control socket's command language: each input line is one vrouterctl request, run by
// a real Router on net_null ports; afterwards the original config must always apply back.
#include <rte_log.h>
#include <sanitizer/lsan_interface.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "config/config.h"
#include "control/router.h"

namespace vr::fuzz {
namespace {

// Something of every kind a command can name or change: two ports on different groups, listed
// vlan and qinq sub-interfaces, a small template with a member of its own, routes, neighbours and
// addresses of both families. The seeds in tests/fuzz/corpus/command use these names.
constexpr char kRouterYaml[] = R"(
dataplane: {workers: 1, nbufs: 1023}
control: {socket: %s}
metrics: {listen: ""}
groups:
  - {id: 10, name: customers, mtu: 1400}
  - id: 20
    name: wholesale
    templates:
      - parent: b
        outer: 10-11
        inner: 1-4
        address: 198.18.96.1/30
        address_step: 4
        members:
          - {outer: 10, inner: 2, state: down}
ports:
  - name: a
    device: net_null0
    mac: 02:00:00:00:00:01
    addresses: [198.18.1.1/24, 2001:db8:1::1/64]
  - name: b
    device: net_null1
    mac: 02:00:00:00:00:02
    group: 10
    addresses: [198.18.2.1/24, 2001:db8:2::1/64]
vifs:
  - {name: a.7, parent: a, vlan: 7, group: 10, addresses: [198.18.3.1/24, 2001:db8:3::1/64]}
  - {name: b.5.6, parent: b, outer: 5, inner: 6, mtu: 1300}
routes:
  - {prefix: 198.19.0.0/16, via: 198.18.2.2}
  - {prefix: 198.19.255.0/24, type: blackhole}
  - {prefix: 2001:db8:100::/48, via: 2001:db8:2::2}
  - {prefix: 2001:db8:ff00::/40, type: unreachable}
neighbours:
  - {ip: 198.18.2.2, mac: 02:00:00:00:00:bb}
  - {ip: 2001:db8:2::2, mac: 02:00:00:00:00:bb}
)";

// Requests per input, and sub-interfaces one request may add: a template of 4094 x 4094 QinQ
// members is a valid request that takes gigabytes, which says nothing about the parser.
constexpr size_t kMaxRequests = 16;
constexpr uint64_t kMaxNewVifs = 1024;

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "command_fuzz: %s\n", what.c_str());
  abort();
}

uint64_t RangeSize(const std::string& word) {
  std::vector<std::string> parts = absl::StrSplit(word, '-');
  uint32_t first = 0, last = 0;
  if (parts.size() == 1 && absl::SimpleAtoi(parts[0], &first)) return 1;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &first) ||
      !absl::SimpleAtoi(parts[1], &last) || last < first) {
    return 1;  // not a range: the router refuses it anyway
  }
  return uint64_t{last} - first + 1;
}

// The members a `link add group G template ...` request would create.
uint64_t NewVifs(const std::vector<std::string>& words) {
  uint64_t outer = 1, inner = 1;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "vlan" || words[i] == "outer") outer = RangeSize(words[i + 1]);
    if (words[i] == "inner") inner = RangeSize(words[i + 1]);
  }
  return outer * inner;
}

class Testbed {
 public:
  void Build() {
    std::string socket = absl::StrFormat("/tmp/vr-command-fuzz-%d.sock", getpid());
    path_ = absl::StrFormat("/tmp/vr-command-fuzz-%d.yaml", getpid());
    std::ofstream(path_) << absl::StrFormat(kRouterYaml, socket);
    auto cfg = config::LoadConfigFile(path_);
    if (!cfg.ok()) Fail("testbed config: " + cfg.status().ToString());
    baseline_ = *cfg;
    control::RouterOptions opts;
    opts.config_path = path_;  // what `reload` reads: the baseline
    opts.metrics_listen = "off";
    opts.no_huge = true;
    opts.eal_args = "--log-level=*:crit";
    auto router = control::Router::Create(baseline_, opts);
    if (!router.ok()) Fail("router: " + router.status().ToString());
    router_ = std::move(*router);
    baseline_text_ = Show();
  }

  ~Testbed() {
    router_.reset();
    unlink(path_.c_str());
  }

  void RunInput(absl::string_view text) {
    size_t requests = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (++requests > kMaxRequests) break;
      std::vector<std::string> words = absl::StrSplit(line, ' ');
      if (NewVifs(words) > kMaxNewVifs) continue;
      (void)router_->Execute(words);
    }
    std::string now = Show();
    if (now == baseline_text_) return;
    // Back to where every input starts. The baseline is a config the router ran: whatever the
    // commands did, applying it again must work. The router refuses to remove an interface that
    // still has IPv6 addresses (take them off first, docs/architecture.md), and so the undo
    // takes them off those first, as an operator would.
    auto running = config::ParseConfig(now, "<running config>");
    if (!running.ok()) Fail("config show is not a config: " + running.status().ToString());
    auto kept = [this](const std::string& name) {
      for (const auto& v : baseline_.vifs) {
        if (v.name == name) return true;
      }
      return false;
    };
    for (auto& v : running->vifs) {
      if (!kept(v.name)) v.addresses6.clear();
    }
    absl::Status s = router_->Apply(*running);
    if (s.ok()) s = router_->Apply(baseline_);
    if (!s.ok()) {
      Fail("the original config no longer applies: " + s.ToString() + "\nafter:\n" +
           std::string(text));
    }
    if (now = Show(); now != baseline_text_) {
      Fail("applying the original config left another:\n" + now);
    }
  }

 private:
  std::string Show() {
    auto text = router_->Execute({"config", "show"});
    if (!text.ok()) Fail("config show: " + text.status().ToString());
    return *text;
  }

  std::string path_;
  config::Config baseline_;
  std::string baseline_text_;
  std::unique_ptr<control::Router> router_;
};

Testbed* testbed = nullptr;

}  // namespace
}  // namespace vr::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // What EAL and the PMDs allocate once and keep is not a leak of the code under test.
  __lsan_disable();
  vr::fuzz::testbed = new vr::fuzz::Testbed();
  vr::fuzz::testbed->Build();
  __lsan_enable();
  // Quiet from here: neighbour and reload notices on every input would cost more than the input.
  rte_log_set_global_level(RTE_LOG_CRIT);
  atexit([] { delete vr::fuzz::testbed; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vr::fuzz::testbed->RunInput(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
