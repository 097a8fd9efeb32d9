// Non-blocking control socket server (per-client buffers, deadlines, size caps) and the matching
// blocking client. A client that misbehaves is dropped; the router never waits on one.
#include "control/control_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace vr::control {
namespace {

constexpr int kMaxClients = 64;
constexpr uint64_t kClientTimeoutMs = 5000;

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string Frame(std::string_view payload) {
  uint32_t n = htonl(payload.size());
  std::string out(reinterpret_cast<const char*>(&n), 4);
  out.append(payload);
  return out;
}

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrFormat("%s: %s", what, strerror(errno)));
}

}  // namespace

ControlSocket::~ControlSocket() {
  for (auto& c : clients_) close(c.fd);
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

absl::Status ControlSocket::Listen(const std::string& path) {
  path_ = path;
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("control socket path too long: " + path);
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  // A socket file left by a crashed instance is in the way; one still answered is not ours.
  if (ControlRequest(path, {"ping"}).ok()) {
    return absl::AlreadyExistsError("another vrouterd serves " + path);
  }
  unlink(path.c_str());
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Errno("socket");
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  mode_t old = umask(0177);  // born 0600: no window where others could connect
  int rc = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old);
  if (rc != 0) return Errno("bind " + path);
  if (listen(fd_, 16) != 0) return Errno("listen " + path);
  return absl::OkStatus();
}

void ControlSocket::Accept() {
  while (true) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != 0 && cred.uid != geteuid()) || clients_.size() >= kMaxClients) {
      close(fd);
      continue;
    }
    clients_.push_back(Client{fd, {}, {}, 0, NowMs() + kClientTimeoutMs});
  }
}

bool ControlSocket::Read(Client& c, const CommandHandler& handler) {
  char buf[4096];
  while (true) {
    ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c.in.append(buf, n);
    if (c.in.size() > kMaxFrame + 4) return false;
  }
  if (c.in.size() < 4 || !c.out.empty()) return true;
  uint32_t len;
  memcpy(&len, c.in.data(), 4);
  len = ntohl(len);
  if (len > kMaxFrame) {
    c.out = Frame("1request too large");
    return true;
  }
  if (c.in.size() < 4 + len) return true;
  std::vector<std::string> args = absl::StrSplit(c.in.substr(4, len), '\0');
  c.in.erase(0, 4 + len);
  absl::StatusOr<std::string> reply = handler(args);
  c.out = Frame(reply.ok() ? "0" + *reply : "1" + std::string(reply.status().message()));
  c.out_done = 0;
  return true;
}

bool ControlSocket::Write(Client& c) {
  while (c.out_done < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    c.out_done += n;
  }
  c.out.clear();
  c.out_done = 0;
  return true;
}

void ControlSocket::Poll(int timeout_ms, const CommandHandler& handler) {
  std::vector<pollfd> fds;
  fds.push_back({fd_, POLLIN, 0});
  for (auto& c : clients_) {
    fds.push_back({c.fd, short(c.out.empty() ? POLLIN : POLLOUT), 0});
  }
  if (poll(fds.data(), fds.size(), timeout_ms) <= 0) {
    if (clients_.empty()) return;
  }
  uint64_t now = NowMs();
  std::vector<Client> keep;
  for (size_t i = 0; i < clients_.size(); ++i) {
    Client& c = clients_[i];
    short ev = fds[i + 1].revents;
    bool alive = now < c.deadline_ms;
    if (alive && (ev & (POLLERR | POLLNVAL))) alive = false;
    if (alive && (ev & (POLLIN | POLLHUP))) alive = Read(c, handler);
    if (alive && !c.out.empty()) alive = Write(c);
    if (alive) {
      keep.push_back(std::move(c));
    } else {
      close(c.fd);
    }
  }
  clients_ = std::move(keep);
  if (fds[0].revents & POLLIN) Accept();
}

absl::StatusOr<std::string> ControlRequest(const std::string& path,
                                           const std::vector<std::string>& args) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status s = absl::UnavailableError(
        absl::StrFormat("cannot reach vrouterd at %s: %s", path, strerror(errno)));
    close(fd);
    return s;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req = Frame(absl::StrJoin(args, absl::string_view("\0", 1)));
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
    close(fd);
    return Errno("send");
  }
  std::string in;
  char buf[65536];
  while (true) {
    if (in.size() >= 4) {
      uint32_t len;
      memcpy(&len, in.data(), 4);
      len = ntohl(len);
      if (in.size() >= 4 + len) break;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      close(fd);
      return absl::UnavailableError("vrouterd closed the connection before replying");
    }
    in.append(buf, n);
  }
  close(fd);
  uint32_t len;
  memcpy(&len, in.data(), 4);
  return in.substr(4, ntohl(len));
}

}  // namespace vr::control
