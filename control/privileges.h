// Dropping what vrouterd no longer needs once it is up: every capability but those the run time
// uses (RunTimeCapabilities), on every thread of the process, with the bounding set and the
// ambient set reduced to match and no_new_privs set. Why each kept one is kept: README.md
// ("Operating securely") and docs/architecture.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace vr::control {

// A set of capabilities as <linux/capability.h> numbers them: bit n is capability n.
using CapabilitySet = uint64_t;
constexpr CapabilitySet Capability(int n) { return CapabilitySet{1} << n; }

// What vrouterd needs after start-up: CAP_NET_ADMIN and CAP_NET_RAW, plus CAP_SYS_ADMIN when
// DPDK uses physical addresses as IOVA (it reads them from /proc/self/pagemap for every
// hugepage it maps at run time, and the kernel shows them only to CAP_SYS_ADMIN).
CapabilitySet RunTimeCapabilities(bool iova_is_physical);

// "CAP_NET_ADMIN,CAP_NET_RAW", "none" for the empty set.
std::string CapabilityNames(CapabilitySet caps);

struct CapabilityDrop {
  CapabilitySet kept = 0;     // what every thread now holds, permitted and effective
  CapabilitySet dropped = 0;  // what the threads held before and hold no more
  bool bounding = false;      // the bounding set was reduced to `kept` too
  size_t threads = 0;         // threads changed, this one included
};

// Reduces every thread of this process, now and to come, to `keep`: permitted and effective
// sets to `keep` (what of it they hold), inheritable and ambient sets emptied, no_new_privs set,
// and, when the process holds CAP_SETPCAP, the bounding set to `keep` as well. Capabilities
// belong to threads, and capset() changes only its caller's: every other thread is sent a
// real-time signal whose handler does the same for itself, and is waited for; threads made
// later inherit from their (reduced) creator. Then checks each thread's /proc status.
// Without CAP_SETPCAP (not root) there is no bounding set to reduce and nothing fails for it:
// `bounding` says so. An error means some thread could not be reduced; the caller must not go
// on as if it had been.
absl::StatusOr<CapabilityDrop> DropCapabilities(CapabilitySet keep);

}  // namespace vr::control
