// The control socket: a Unix stream socket served from the control lcore's loop without ever
// blocking it. Owner-only (0600), peers checked with SO_PEERCRED. Frames: 4-byte big-endian length.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vr::control {

// Request payload: the command's words separated by NUL bytes.
// Reply payload: one status byte ('0' ok, '1' error), then the text (output or error message).
constexpr size_t kMaxFrame = 1 << 20;

using CommandHandler = std::function<absl::StatusOr<std::string>(const std::vector<std::string>&)>;

class ControlSocket {
 public:
  ControlSocket() = default;
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  absl::Status Listen(const std::string& path);
  // Accepts, reads, answers and writes what is ready; waits at most `timeout_ms` for anything.
  void Poll(int timeout_ms, const CommandHandler& handler);

 private:
  struct Client {
    int fd = -1;
    std::string in, out;
    size_t out_done = 0;
    uint64_t deadline_ms = 0;
  };
  void Accept();
  bool Read(Client& c, const CommandHandler& handler);  // false: close it
  bool Write(Client& c);

  std::string path_;
  int fd_ = -1;
  std::vector<Client> clients_;
};

// Client side, for vrouterctl and tests: sends one request and returns the reply payload.
absl::StatusOr<std::string> ControlRequest(const std::string& path,
                                           const std::vector<std::string>& args);

}  // namespace vr::control
