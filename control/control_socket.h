// The control socket: a Unix stream socket served from the control lcore's loop without ever
// blocking it. Owner-only (0600) by default, or 0660 for a configured group; every peer is checked
// with SO_PEERCRED as well. Frames: 4-byte big-endian length, then the payload.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vr::control {

// Request payload: the command's words separated by NUL bytes.
// Reply payload: one status byte, then the text (the output, or the error message):
//   '0' ok     the command ran; the text is its output.
//   '1' error  the command, or the connection, failed; the text says why.
//   '2' usage  the request was not understood (unknown command, bad arguments); the text says
//              what was expected.
// The handler decides the status: OK is '0'; an error carrying the payload kReplyUsagePayload
// (the router's UsageError() sets it) is '2'; any other error is '1'. The socket itself only ever
// sends '1' (permission denied, too many clients, request too large, timed out), then closes.
constexpr size_t kMaxFrame = 1 << 20;  // the largest request payload accepted
constexpr char kReplyOk = '0';
constexpr char kReplyError = '1';
constexpr char kReplyUsage = '2';

using CommandHandler = std::function<absl::StatusOr<std::string>(const std::vector<std::string>&)>;

// The absl::Status payload type URL that marks a handler's error as a usage error (status '2').
inline constexpr char kReplyUsagePayload[] = "type.vrouter/usage";

class ControlSocket {
 public:
  // At most this many clients at once; a request (from connect, or from the previous reply) must
  // arrive within kClientTimeoutMs, and a reply must keep being read (no kClientTimeoutMs without
  // progress), or the client is dropped.
  static constexpr size_t kMaxClients = 64;
  static constexpr uint64_t kClientTimeoutMs = 5000;

  ControlSocket() = default;
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Creates the parent directory if missing (0755), replaces a stale socket file left by a crashed
  // instance, refuses a path that a live process serves or that is not a socket. Without `group`
  // the socket is 0600 and only root and this process's user may use it; with one it is 0660,
  // owned by that group, and the group's members may use it too.
  absl::Status Listen(const std::string& path, const std::string& group = "");
  // Accepts, reads, answers and writes what is ready; waits at most `timeout_ms` for anything,
  // and returns early when one of `wake_fds` (knet, netlink) becomes readable. Never blocks on a
  // client.
  void Poll(int timeout_ms, const CommandHandler& handler, std::span<const int> wake_fds = {});

  size_t clients() const { return clients_.size(); }

 private:
  struct Client {
    int fd = -1;
    std::string in, out;
    size_t out_done = 0;
    uint64_t deadline_ms = 0;
    bool eof = false;          // the client shut down its sending side
    bool close_after = false;  // close once `out` is written
  };
  void Accept(uint64_t now);
  bool Allowed(int fd, std::string* why) const;
  bool Read(Client& c);  // false: close it
  void Handle(Client& c, const CommandHandler& handler);
  bool Write(Client& c, uint64_t now);  // false: close it

  std::string path_;
  int fd_ = -1;
  bool have_group_ = false;
  gid_t gid_ = 0;
  std::string group_;
  dev_t dev_ = 0;  // the socket file this instance made: only that one is unlinked at the end
  ino_t ino_ = 0;
  std::vector<Client> clients_;
};

// Client side, for vrouterctl and tests: sends one request and returns the reply payload (status
// byte first). Waits at most 10 s for the reply.
absl::StatusOr<std::string> ControlRequest(const std::string& path,
                                           const std::vector<std::string>& args);

}  // namespace vr::control
