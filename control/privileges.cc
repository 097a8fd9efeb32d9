// Capabilities are per thread: capset(2), PR_CAPBSET_DROP, the ambient set and no_new_privs all
// change only the calling thread. DPDK (EAL interrupt thread, lcore workers), prometheus-cpp's
// civetweb and our own code have made threads before we get here, through the plain
// pthread_create of their shared libraries, so libcap's libpsx (which reaches only threads made
// through its wrapper) cannot reach them. Instead each other thread is sent a real-time signal
// with tgkill(2); its handler reduces that thread with raw system calls (async-signal-safe) and
// acknowledges; the caller waits for each, reduces itself, and reads every thread's /proc status
// back to check.
#include "control/privileges.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace vr::control {

namespace {

// clang-format off
constexpr const char* kNames[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON",
    "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
// clang-format on

// What one thread does to itself, decided once by the caller before any thread acts.
struct Plan {
  __user_cap_data_struct caps[2] = {};  // permitted = effective = kept; inheritable empty
  CapabilitySet bounding_drop = 0;      // bounding set entries to drop (needs CAP_SETPCAP)
  int last_cap = CAP_LAST_CAP;          // the running kernel's, from /proc
};

// Failures are reported as step * 1000 + errno.
enum Step { kBounding = 1, kAmbient, kCapset, kNoNewPrivs };
constexpr const char* kStepNames[] = {"", "PR_CAPBSET_DROP", "PR_CAP_AMBIENT_CLEAR_ALL", "capset",
                                      "PR_SET_NO_NEW_PRIVS"};

// Async-signal-safe: raw system calls on a plan nobody writes while threads read it.
int ReduceThisThread(const Plan& plan) {
  for (int cap = 0; cap <= plan.last_cap && cap < 64; ++cap) {
    if ((plan.bounding_drop & Capability(cap)) == 0) continue;
    if (syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return kBounding * 1000 + errno;
  }
  // Kernels before 4.3 have no ambient set (EINVAL): nothing to clear.
  if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    return kAmbient * 1000 + errno;
  }
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {plan.caps[0], plan.caps[1]};
  if (syscall(SYS_capset, &header, data) != 0) return kCapset * 1000 + errno;
  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return kNoNewPrivs * 1000 + errno;
  return 0;
}

// The handler's side of the hand-shake: the plan it reads, and its answer.
const Plan* g_plan = nullptr;
std::atomic<int> g_result{0};
std::atomic<pid_t> g_ack{0};

void OnReduceSignal(int) {
  int saved = errno;
  int result = ReduceThisThread(*g_plan);
  g_result.store(result, std::memory_order_relaxed);
  g_ack.store(pid_t(syscall(SYS_gettid)), std::memory_order_release);
  errno = saved;
}

std::string Describe(int result) {
  int step = result / 1000;
  return absl::StrCat(kStepNames[step >= kBounding && step <= kNoNewPrivs ? step : 0], ": ",
                      strerror(result % 1000));
}

std::vector<pid_t> Threads() {
  std::vector<pid_t> tids;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return tids;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') tids.push_back(pid_t(atoi(e->d_name)));
  }
  closedir(d);
  return tids;
}

std::string TaskPath(pid_t tid, const char* file) {
  return absl::StrFormat("/proc/self/task/%d/%s", tid, file);
}

std::string ThreadName(pid_t tid) {
  std::ifstream f(TaskPath(tid, "comm"));
  std::string name;
  std::getline(f, name);
  return absl::StrFormat("thread %d (%s)", tid, name.empty() ? "gone" : name);
}

// A field of /proc/self/task/<tid>/status as a number (hex for the Cap* masks); false if the
// thread has gone.
bool StatusField(pid_t tid, const std::string& field, int base, uint64_t* value) {
  std::ifstream f(TaskPath(tid, "status"));
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      *value = strtoull(line.c_str() + field.size() + 1, nullptr, base);
      return true;
    }
  }
  return false;
}

bool Alive(pid_t tid) { return access(TaskPath(tid, "status").c_str(), F_OK) == 0; }

// A real-time signal nobody handles, for the hand-shake.
int FreeSignal() {
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
    struct sigaction old = {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_DFL &&
        (old.sa_flags & SA_SIGINFO) == 0) {
      return sig;
    }
  }
  return -1;
}

absl::Status ReduceThread(pid_t tid, int sig) {
  uint64_t blocked = 0;
  if (StatusField(tid, "SigBlk", 16, &blocked) && (blocked & (uint64_t{1} << (sig - 1))) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s blocks signal %d, so its capabilities cannot be dropped", ThreadName(tid), sig));
  }
  g_ack.store(0, std::memory_order_relaxed);
  if (syscall(SYS_tgkill, getpid(), tid, sig) != 0) {
    if (errno == ESRCH) return absl::OkStatus();  // gone, and its capabilities with it
    return absl::InternalError(absl::StrFormat("tgkill %s: %s", ThreadName(tid), strerror(errno)));
  }
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (g_ack.load(std::memory_order_acquire) != tid) {
    if (!Alive(tid)) return absl::OkStatus();
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 2) {
      return absl::DeadlineExceededError(
          absl::StrFormat("%s did not drop its capabilities within 2 s", ThreadName(tid)));
    }
    timespec pause = {0, 20000};
    nanosleep(&pause, nullptr);
  }
  if (int result = g_result.load(std::memory_order_relaxed); result != 0) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s cannot drop its capabilities: %s", ThreadName(tid), Describe(result)));
  }
  return absl::OkStatus();
}

// Every thread's /proc status against the plan: the proof that none was missed.
absl::Status Check(const CapabilityDrop& drop) {
  for (pid_t tid : Threads()) {
    struct Expect {
      const char* field;
      int base;
      uint64_t want;
      bool check;
    };
    const Expect expect[] = {
        {"CapEff", 16, drop.kept, true},
        {"CapPrm", 16, drop.kept, true},
        {"CapInh", 16, 0, true},
        {"CapAmb", 16, 0, true},
        {"CapBnd", 16, drop.kept, drop.bounding},
        {"NoNewPrivs", 10, 1, true},
    };
    for (const Expect& e : expect) {
      uint64_t got = 0;
      if (!e.check) continue;
      if (!StatusField(tid, e.field, e.base, &got)) {
        if (!Alive(tid)) break;
        if (std::string(e.field) == "CapAmb") continue;  // kernels before 4.3
        return absl::InternalError(
            absl::StrFormat("%s: no %s in its status", ThreadName(tid), e.field));
      }
      if (got != e.want) {
        return absl::InternalError(absl::StrFormat("%s still has %s %x, expected %x",
                                                   ThreadName(tid), e.field, got, e.want));
      }
    }
  }
  return absl::OkStatus();
}

int LastCap() {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (f) f >> last;
  return last;
}

}  // namespace

CapabilitySet RunTimeCapabilities(bool iova_is_physical) {
  CapabilitySet keep = Capability(CAP_NET_ADMIN) | Capability(CAP_NET_RAW);
  if (iova_is_physical) keep |= Capability(CAP_SYS_ADMIN);
  return keep;
}

std::string CapabilityNames(CapabilitySet caps) {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap) {
    if ((caps & Capability(cap)) == 0) continue;
    names.push_back(cap < int(std::size(kNames)) ? kNames[cap] : absl::StrCat("cap_", cap));
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

absl::StatusOr<CapabilityDrop> DropCapabilities(CapabilitySet keep) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct held[2] = {};
  if (syscall(SYS_capget, &header, held) != 0) {
    return absl::InternalError(absl::StrCat("capget: ", strerror(errno)));
  }
  CapabilitySet permitted = held[0].permitted | (CapabilitySet{held[1].permitted} << 32);

  static Plan plan;  // read by signal handlers: never on a stack that may go
  plan = Plan();
  plan.last_cap = LastCap();
  CapabilityDrop drop;
  drop.kept = keep & permitted;
  drop.dropped = permitted & ~keep;
  plan.caps[0].permitted = plan.caps[0].effective = uint32_t(drop.kept);
  plan.caps[1].permitted = plan.caps[1].effective = uint32_t(drop.kept >> 32);
  // Without CAP_SETPCAP (not root) the bounding set stays: it bounds only what an exec could
  // gain, and no_new_privs already stops that.
  drop.bounding = (permitted & Capability(CAP_SETPCAP)) != 0;
  if (drop.bounding) {
    CapabilitySet all =
        plan.last_cap >= 63 ? ~CapabilitySet{0} : (CapabilitySet{1} << (plan.last_cap + 1)) - 1;
    plan.bounding_drop = all & ~keep;
  }

  int sig = FreeSignal();
  if (sig < 0) return absl::InternalError("no free real-time signal to reach every thread with");
  struct sigaction action = {}, old = {};
  action.sa_handler = OnReduceSignal;
  action.sa_flags = SA_RESTART;  // the threads' blocking calls go on as if nothing happened
  sigemptyset(&action.sa_mask);
  g_plan = &plan;
  if (sigaction(sig, &action, &old) != 0) {
    return absl::InternalError(absl::StrCat("sigaction: ", strerror(errno)));
  }

  // Others first, until a fresh listing shows none new (one may have made a thread before it
  // was reduced); then this thread.
  pid_t self = pid_t(syscall(SYS_gettid));
  std::set<pid_t> done = {self};
  absl::Status status;
  for (bool again = true; again && status.ok();) {
    again = false;
    for (pid_t tid : Threads()) {
      if (!done.insert(tid).second) continue;
      again = true;
      status = ReduceThread(tid, sig);
      if (!status.ok()) break;
    }
  }
  // Ignoring discards what may still be pending (a thread that timed out), then back to before.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(sig, &ignore, nullptr);
  sigaction(sig, &old, nullptr);
  if (!status.ok()) return status;

  if (int result = ReduceThisThread(plan); result != 0) {
    return absl::PermissionDeniedError(
        absl::StrFormat("%s cannot drop its capabilities: %s", ThreadName(self), Describe(result)));
  }
  drop.threads = done.size();
  if (absl::Status s = Check(drop); !s.ok()) return s;
  return drop;
}

}  // namespace vr::control
