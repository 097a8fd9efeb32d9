// A gtest environment that starts a small DPDK EAL (no hugepages, no devices) once per test
// binary, so unit tests can use real mbufs, mempools, rte_lpm and RCU without touching the system.
#include <rte_eal.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

class EalEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    // No hugepages, and a per-process prefix (EAL refuses --in-memory with --no-huge), so
    // parallel test binaries never collide; TearDown removes the runtime directory.
    prefix_ = "--file-prefix=vr_unit_" + std::to_string(getpid());
    std::vector<const char*> args = {"vr_unit_test", "-l",        "0",        "--no-huge",
                                     "-m",           "256",       "--no-pci", "--no-telemetry",
                                     "--log-level=*:error",       prefix_.c_str()};
    if (rte_eal_init(int(args.size()), const_cast<char**>(args.data())) < 0) {
      fprintf(stderr, "rte_eal_init failed\n");
      std::abort();
    }
  }
  void TearDown() override {
    std::string dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

 private:
  std::string prefix_;
};

const testing::Environment* const kEal = testing::AddGlobalTestEnvironment(new EalEnvironment);

}  // namespace
