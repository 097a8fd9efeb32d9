// DropCapabilities reaches every thread, whatever it is doing, and says which one it could not
// reach. Each case runs in a child process: capabilities, once dropped, do not come back.
#include "control/privileges.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace vr::control {
namespace {

// Runs `body` in a child; its return value is the exit status.
int InChild(const std::function<int()>& body) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

uint64_t Field(pid_t tid, const std::string& name, int base = 16) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(name + ":", 0) == 0)
      return strtoull(line.c_str() + name.size() + 1, nullptr, base);
  }
  return ~0ull;
}

pid_t Tid() { return pid_t(syscall(SYS_gettid)); }

bool Root() { return geteuid() == 0; }

// The thread `tid` holds exactly `caps` and can gain nothing more.
bool Reduced(pid_t tid, CapabilitySet caps, bool bounding) {
  bool ok = Field(tid, "CapEff") == caps && Field(tid, "CapPrm") == caps &&
            Field(tid, "CapInh") == 0 && Field(tid, "NoNewPrivs", 10) == 1 &&
            (!bounding || Field(tid, "CapBnd") == caps);
  if (!ok)
    fprintf(stderr, "thread %d: CapEff %lx CapBnd %lx\n", tid, Field(tid, "CapEff"),
            Field(tid, "CapBnd"));
  return ok;
}

TEST(Privileges, NamesTheKeptSet) {
  EXPECT_EQ(CapabilityNames(RunTimeCapabilities(false)), "CAP_NET_ADMIN,CAP_NET_RAW");
  EXPECT_EQ(CapabilityNames(RunTimeCapabilities(true)), "CAP_NET_ADMIN,CAP_NET_RAW,CAP_SYS_ADMIN");
  EXPECT_EQ(CapabilityNames(0), "none");
}

TEST(Privileges, EveryThreadWhateverItIsDoing) {
  if (!Root()) GTEST_SKIP() << "needs root";
  const CapabilitySet keep = Capability(CAP_NET_RAW) | Capability(CAP_NET_ADMIN);
  int rc = InChild([&] {
    std::atomic<bool> stop{false};
    std::vector<pid_t> tids(3);
    std::atomic<int> ready{0};
    int pipefd[2];
    if (pipe(pipefd) != 0) return 2;
    std::vector<std::thread> threads;
    // Blocked in read(2): SA_RESTART must resume it, not fail it.
    threads.emplace_back([&] {
      tids[0] = Tid();
      ready++;
      char c = 0;
      ssize_t n = read(pipefd[0], &c, 1);
      if (n != 1 || c != 'x') stop = true;
    });
    // Spinning, as a worker lcore does.
    threads.emplace_back([&] {
      tids[1] = Tid();
      ready++;
      while (!stop.load()) {
      }
    });
    // Sleeping in short naps.
    threads.emplace_back([&] {
      tids[2] = Tid();
      ready++;
      while (!stop.load()) usleep(1000);
    });
    while (ready.load() != 3) usleep(100);
    auto drop = DropCapabilities(keep);
    if (!drop.ok()) {
      fprintf(stderr, "%s\n", std::string(drop.status().message()).c_str());
      return 3;
    }
    if (drop->kept != keep || !drop->bounding || drop->threads != 4) return 4;
    bool ok = Reduced(Tid(), keep, true);
    for (pid_t t : tids) ok &= Reduced(t, keep, true);
    // A thread made now inherits the reduced set.
    pid_t later = 0;
    std::thread([&] {
      later = Tid();
      ok &= Reduced(later, keep, true);
    }).join();
    if (write(pipefd[1], "x", 1) != 1) return 5;
    threads[0].join();
    bool read_ok = !stop.load();
    stop = true;
    for (size_t i = 1; i < threads.size(); ++i) threads[i].join();
    if (!read_ok) return 6;
    return ok ? 0 : 7;
  });
  EXPECT_EQ(rc, 0);
}

TEST(Privileges, AThreadThatBlocksTheSignalIsNamed) {
  if (!Root()) GTEST_SKIP() << "needs root";
  int rc = InChild([] {
    std::atomic<bool> stop{false}, ready{false};
    std::thread t([&] {
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      pthread_setname_np(pthread_self(), "deaf");
      ready = true;
      while (!stop.load()) usleep(1000);
    });
    while (!ready.load()) usleep(100);
    auto drop = DropCapabilities(Capability(CAP_NET_RAW));
    stop = true;
    t.join();
    if (drop.ok()) return 1;
    std::string message(drop.status().message());
    fprintf(stderr, "%s\n", message.c_str());
    return message.find("(deaf) blocks signal") != std::string::npos ? 0 : 2;
  });
  EXPECT_EQ(rc, 0);
}

// Not root (here: a thread that holds only CAP_NET_RAW and no CAP_SETPCAP): nothing to drop,
// the bounding set stays, and that is no error.
TEST(Privileges, NothingToDropIsNoError) {
  int rc = InChild([] {
    __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return 1;
    data[0].effective = data[0].permitted &= 1u << CAP_NET_RAW;
    data[0].inheritable = data[1].effective = data[1].permitted = data[1].inheritable = 0;
    if (syscall(SYS_capset, &header, data) != 0) return 2;
    CapabilitySet held = data[0].permitted;
    auto drop = DropCapabilities(Capability(CAP_NET_RAW) | Capability(CAP_NET_ADMIN));
    if (!drop.ok()) {
      fprintf(stderr, "%s\n", std::string(drop.status().message()).c_str());
      return 3;
    }
    if (drop->kept != held || drop->dropped != 0 || drop->bounding) return 4;
    return Reduced(Tid(), held, false) ? 0 : 5;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace vr::control
