// vrouterctl: iproute2-like words sent to vrouterd's control socket; prints the reply.
// Exit codes: 0 ok, 1 error (message on stderr), 2 usage. The grammar lives in vrouterd.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/control_socket.h"

namespace {

constexpr const char* kUsage =
    "usage: vrouterctl [-j] [-s SOCKET] COMMAND\n"
    "       vrouterctl [-j] [-s SOCKET] -batch FILE\n"
    "  stats [-s]                              counters: ports, workers, events, drops\n"
    "  link show [dev D]                       ports: MTU, MAC, link state\n"
    "  link set dev D mtu N\n"
    "  addr show [dev D] | add PREFIX dev D | del PREFIX dev D\n"
    "  route show | get ADDR | add PREFIX via ADDR | add blackhole|unreachable PREFIX | del PREFIX\n"
    "  neigh show | add ADDR lladdr MAC [dev D] | del ADDR\n"
    "  config show | config save FILE          the running config as YAML\n"
    "  reload                                  re-read the config file, apply the difference\n"
    "  -j             JSON output\n"
    "  -s SOCKET      control socket (default /run/vrouter/control.sock)\n"
    "  -batch FILE    one command per line ('-' for stdin); stops at the first error\n";

int Usage(const std::string& why) {
  if (!why.empty()) fprintf(stderr, "vrouterctl: %s\n", why.c_str());
  fputs(kUsage, stderr);
  return 2;
}

struct Result {
  int code = 0;         // 0, 1 or 2, as the process exit code
  std::string output;   // stdout on success, the message otherwise
};

Result Send(const std::string& socket, bool json, std::vector<std::string> words) {
  if (json) words.insert(words.begin(), "-j");
  auto reply = vr::control::ControlRequest(socket, words);
  if (!reply.ok()) return {1, std::string(reply.status().message())};
  if (reply->empty()) return {1, "empty reply from vrouterd"};
  int code = (*reply)[0] == '0' ? 0 : (*reply)[0] == '2' ? 2 : 1;
  return {code, reply->substr(1)};
}

// `config save FILE` is the client's: the file is written with the caller's rights, whole or
// not at all (a temporary file renamed over it).
Result SaveConfig(const std::string& socket, const std::string& path) {
  Result r = Send(socket, false, {"config", "show"});
  if (r.code != 0) return r;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << r.output;
    out.close();
    if (!out) return {1, path + ": cannot write: " + strerror(errno)};
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return {1, path + ": cannot write: " + strerror(err)};
  }
  return {0, ""};
}

Result Run(const std::string& socket, bool json, const std::vector<std::string>& words) {
  if (words.size() == 3 && words[0] == "config" && words[1] == "save") {
    return SaveConfig(socket, words[2]);
  }
  if (words.size() >= 2 && words[0] == "config" && words[1] == "save") {
    return {2, "usage: config save FILE"};
  }
  return Send(socket, json, words);
}

int Report(const Result& r, const std::string& where) {
  if (r.code == 0) {
    fwrite(r.output.data(), 1, r.output.size(), stdout);
  } else {
    std::string msg = r.output;
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    fprintf(stderr, "vrouterctl: %s%s\n", where.c_str(), msg.c_str());
  }
  return r.code;
}

int Batch(const std::string& socket, bool json, const std::string& file) {
  std::ifstream in;
  std::istream* src = &std::cin;
  if (file != "-") {
    in.open(file);
    if (!in) return Report({1, file + ": cannot open: " + strerror(errno)}, "");
    src = &in;
  }
  std::string line;
  int number = 0;
  while (std::getline(*src, line)) {
    ++number;
    std::string text = line.substr(0, line.find('#'));
    std::vector<std::string> words =
        absl::StrSplit(absl::string_view(text), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.empty()) continue;
    Result r = Run(socket, json, words);
    if (r.code != 0) return Report(r, file + ":" + std::to_string(number) + ": ");
    Report(r, "");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = "/run/vrouter/control.sock";
  std::string batch;
  bool json = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (words.empty() && (a == "-j" || a == "-json")) {
      json = true;
    } else if (words.empty() && (a == "-s" || a == "--socket")) {
      if (++i >= argc) return Usage("-s needs a path");
      socket = argv[i];
    } else if (words.empty() && (a == "-batch" || a == "-b")) {
      if (++i >= argc) return Usage("-batch needs a file");
      batch = argv[i];
    } else if (words.empty() && (a == "-h" || a == "--help" || a == "help")) {
      fputs(kUsage, stdout);
      return 0;
    } else if (words.empty() && a.size() > 1 && a[0] == '-' && a != "-s") {
      return Usage("unknown option " + a);
    } else {
      words.push_back(a);
    }
  }
  if (!batch.empty()) {
    if (!words.empty()) return Usage("-batch takes no command");
    return Batch(socket, json, batch);
  }
  if (words.empty()) return Usage("no command");
  Result r = Run(socket, json, words);
  if (r.code == 2) {
    std::string msg = r.output.substr(0, r.output.find('\n'));
    return Usage(msg);
  }
  return Report(r, "");
}
