// vrouterctl: iproute2-like words sent to vrouterd's control socket; prints the reply.
// Exit codes: 0 ok, 1 error (message on stderr), 2 usage.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "control/control_socket.h"

namespace {

constexpr const char* kUsage =
    "usage: vrouterctl [-j] [-s SOCKET] COMMAND\n"
    "  stats [-s]      port, worker, event and drop counters\n"
    "  route show      the IPv4 routing table\n"
    "  neigh show      the ARP neighbour table\n"
    "  -j              JSON output\n"
    "  -s SOCKET       control socket (default /run/vrouter/control.sock)\n";

int Usage(const char* why) {
  if (why != nullptr) fprintf(stderr, "vrouterctl: %s\n", why);
  fputs(kUsage, stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = "/run/vrouter/control.sock";
  bool json = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (words.empty() && (a == "-j" || a == "-json")) {
      json = true;
    } else if (words.empty() && (a == "-s" || a == "--socket")) {
      if (++i >= argc) return Usage("-s needs a path");
      socket = argv[i];
    } else if (words.empty() && (a == "-h" || a == "--help" || a == "help")) {
      fputs(kUsage, stdout);
      return 0;
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return Usage("no command");
  const std::string& obj = words[0];
  bool known = obj == "stats" || ((obj == "route" || obj == "neigh") &&
                                  (words.size() == 1 || words[1] == "show"));
  if (!known) return Usage(("unknown command: " + obj).c_str());
  if (json) words.insert(words.begin(), "-j");

  auto reply = vr::control::ControlRequest(socket, words);
  if (!reply.ok()) {
    fprintf(stderr, "vrouterctl: %s\n", std::string(reply.status().message()).c_str());
    return 1;
  }
  if (reply->empty() || (*reply)[0] != '0') {
    fprintf(stderr, "vrouterctl: %s\n", reply->empty() ? "empty reply" : reply->c_str() + 1);
    return 1;
  }
  fwrite(reply->data() + 1, 1, reply->size() - 1, stdout);
  return 0;
}
