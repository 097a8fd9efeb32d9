// Non-blocking control socket server (per-client buffers, deadlines, size caps) and the matching
// blocking client. A client that misbehaves gets an error reply or is dropped; the control lcore
// never waits on one: every socket call on the server side is non-blocking, each client gets at most
// one command per Poll, and a client that stalls is dropped at its deadline.
#include "control/control_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

namespace vr::control {
namespace {

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

uint32_t FrameLength(const std::string& in) {
  uint32_t len;
  memcpy(&len, in.data(), 4);
  return ntohl(len);
}

enum class Scan { kIncomplete, kComplete, kTooLarge };

Scan ScanRequest(const std::string& in) {
  if (in.size() < 4) return Scan::kIncomplete;
  uint32_t len = FrameLength(in);
  if (len > kMaxFrame) return Scan::kTooLarge;
  return in.size() >= 4 + size_t(len) ? Scan::kComplete : Scan::kIncomplete;
}

absl::Status Errno(const std::string& what, int err = errno) {
  return absl::InternalError(absl::StrFormat("%s: %s", what, strerror(err)));
}

// For connections refused before they are served: a fresh socket's send buffer is empty, so the
// short frame fits and this never blocks; if it does not fit, the client just sees the close.
void SendAndClose(int fd, std::string_view payload) {
  std::string f = Frame(payload);
  (void)!send(fd, f.data(), f.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}

// Frees a buffer's memory once it is no longer needed: one large reply must not pin a megabyte
// per client for the life of the connection.
void Release(std::string& s) {
  if (s.capacity() > 65536) std::string().swap(s);
}

// mkdir -p with 0755 for every directory made (whatever the umask), so that a group allowed on
// the socket can reach it.
absl::Status MakeParents(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  std::string dir = path.substr(0, slash);
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (mkdir(part.c_str(), 0755) == 0) {
      if (chmod(part.c_str(), 0755) != 0) return Errno("chmod " + part);
      continue;
    }
    if (errno != EEXIST) return Errno("control socket directory " + part);
    struct stat st;
    if (stat(part.c_str(), &st) != 0) return Errno("control socket directory " + part);
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrFormat("control socket directory %s exists and is not a directory", part));
    }
  }
  return absl::OkStatus();
}

enum class Probe { kLive, kStale };

// Is something listening on the socket file? A non-blocking connect never waits: it succeeds or
// says EAGAIN (backlog full, so alive) when a process serves it, ECONNREFUSED when none does.
absl::StatusOr<Probe> ProbeSocket(const sockaddr_un& addr) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  close(fd);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return Probe::kLive;
  if (err == ECONNREFUSED || err == ENOENT) return Probe::kStale;
  return Errno(absl::StrFormat("probe existing control socket %s", addr.sun_path), err);
}

absl::StatusOr<gid_t> LookupGroup(const std::string& group) {
  std::vector<char> buf(16384);
  struct group gr, *found = nullptr;
  int rc;
  while ((rc = getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 22)) {
    buf.resize(buf.size() * 4);
  }
  if (rc != 0 && rc != ENOENT && rc != ESRCH) {
    return Errno(absl::StrFormat("control socket group '%s'", group), rc);
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrFormat("control socket group '%s': no such group", group));
  }
  return gr.gr_gid;
}

// The groups the group database gives `uid` (primary `gid` included).
bool UserInGroup(uid_t uid, gid_t gid, gid_t want) {
  std::vector<char> buf(16384);
  passwd pw, *found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return false;
  int n = 64;
  std::vector<gid_t> groups(n);
  if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) {
    groups.resize(n);
    if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) return false;
  }
  groups.resize(n);
  return std::find(groups.begin(), groups.end(), want) != groups.end();
}

}  // namespace

ControlSocket::~ControlSocket() {
  for (auto& c : clients_) close(c.fd);
  if (fd_ >= 0) {
    close(fd_);
    // Only the file this instance bound: never one that replaced it meanwhile.
    struct stat st;
    if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
      unlink(path_.c_str());
    }
  }
}

absl::Status ControlSocket::Listen(const std::string& path, const std::string& group) {
  if (fd_ >= 0) return absl::FailedPreconditionError("control socket already listening");
  sockaddr_un addr{};
  if (path.empty()) return absl::InvalidArgumentError("control socket path is empty");
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "control socket path too long (%d bytes, at most %d): %s", path.size(),
        sizeof(addr.sun_path) - 1, path));
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());

  gid_t gid = 0;
  if (!group.empty()) {
    absl::StatusOr<gid_t> g = LookupGroup(group);
    if (!g.ok()) return g.status();
    gid = *g;
  }
  if (absl::Status s = MakeParents(path); !s.ok()) return s;

  // A socket file left by a crashed instance is in the way and is replaced; one that a live
  // process still serves is not ours to take, and anything else at the path is not ours either.
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "control socket %s: the path exists and is not a socket; remove it or choose another "
          "control.socket",
          path));
    }
    absl::StatusOr<Probe> probe = ProbeSocket(addr);
    if (!probe.ok()) return probe.status();
    if (*probe == Probe::kLive) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "control socket %s is served by another process (another vrouterd?); stop it or choose "
          "another control.socket",
          path));
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Errno("remove stale control socket " + path);
    }
  } else if (errno != ENOENT) {
    return Errno("control socket " + path);
  }

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  mode_t old = umask(0177);  // born 0600: no window where others could connect
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  umask(old);
  if (rc != 0) {
    close(fd);
    if (err == EADDRINUSE) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "control socket %s was created by another process while starting", path));
    }
    return Errno("bind " + path, err);
  }
  auto fail = [&](absl::Status s) {
    close(fd);
    unlink(path.c_str());
    return s;
  };
  if (lstat(path.c_str(), &st) != 0) return fail(Errno("stat " + path));
  if (!group.empty()) {
    // Owner stays this process's user (root for vrouterd); the group gets read and write.
    if (chown(path.c_str(), uid_t(-1), gid) != 0) {
      return fail(Errno(absl::StrFormat("chown %s to group '%s'", path, group)));
    }
    if (chmod(path.c_str(), 0660) != 0) return fail(Errno("chmod 0660 " + path));
  }
  if (listen(fd, int(kMaxClients)) != 0) return fail(Errno("listen " + path));

  fd_ = fd;
  path_ = path;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  have_group_ = !group.empty();
  gid_ = gid;
  group_ = group;
  return absl::OkStatus();
}

bool ControlSocket::Allowed(int fd, std::string* why) const {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    *why = absl::StrFormat("permission denied: cannot read the peer's credentials: %s",
                           strerror(errno));
    return false;
  }
  if (cred.uid == 0 || cred.uid == geteuid()) return true;
  if (have_group_) {
    if (cred.gid == gid_) return true;
    // The groups the peer process holds, from the kernel (no user database lookup)...
    std::vector<gid_t> groups(64);
    socklen_t glen = groups.size() * sizeof(gid_t);
    int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen);
    if (rc != 0 && errno == ERANGE) {
      groups.resize(glen / sizeof(gid_t));
      rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen);
    }
    if (rc == 0) {
      groups.resize(glen / sizeof(gid_t));
      if (std::find(groups.begin(), groups.end(), gid_) != groups.end()) return true;
    }
    // ...then the user's supplementary groups in the group database.
    if (UserInGroup(cred.uid, cred.gid, gid_)) return true;
    *why = absl::StrFormat(
        "permission denied: uid %u is not root, the socket's owner or a member of group '%s'",
        cred.uid, group_);
    return false;
  }
  *why = absl::StrFormat("permission denied: uid %u is not root or the socket's owner", cred.uid);
  return false;
}

void ControlSocket::Accept(uint64_t now) {
  while (true) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left; EMFILE and the like: retried on the next Poll
    }
    std::string why;
    if (!Allowed(fd, &why)) {
      SendAndClose(fd, std::string(1, kReplyError) + why);
      continue;
    }
    if (clients_.size() >= kMaxClients) {
      SendAndClose(fd, absl::StrFormat("%ctoo many control clients (%d); try again", kReplyError,
                                       kMaxClients));
      continue;
    }
    Client c;
    c.fd = fd;
    c.deadline_ms = now + kClientTimeoutMs;
    clients_.push_back(std::move(c));
  }
}

bool ControlSocket::Read(Client& c) {
  char buf[4096];
  // Reads no further than one whole request: a client sending faster than it is served waits in
  // its own socket buffer, not in this process's memory.
  while (!c.eof && ScanRequest(c.in) == Scan::kIncomplete) {
    ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) {
      c.eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    c.in.append(buf, n);
  }
  return true;
}

void ControlSocket::Handle(Client& c, const CommandHandler& handler) {
  if (!c.out.empty() || c.close_after) return;
  switch (ScanRequest(c.in)) {
    case Scan::kIncomplete:
      return;
    case Scan::kTooLarge:
      // Nothing after this length can be trusted to be a frame boundary: answer, then close.
      c.out = Frame(absl::StrFormat("%crequest too large: %u bytes, at most %u", kReplyError,
                                    FrameLength(c.in), kMaxFrame));
      c.in.clear();
      c.close_after = true;
      return;
    case Scan::kComplete:
      break;
  }
  uint32_t len = FrameLength(c.in);
  std::vector<std::string> args = absl::StrSplit(absl::string_view(c.in).substr(4, len), '\0');
  c.in.erase(0, 4 + size_t(len));
  Release(c.in);
  absl::StatusOr<std::string> reply = handler(args);
  if (reply.ok()) {
    c.out = Frame(std::string(1, kReplyOk) + *reply);
  } else {
    char status =
        reply.status().GetPayload(kReplyUsagePayload).has_value() ? kReplyUsage : kReplyError;
    c.out = Frame(std::string(1, status) + std::string(reply.status().message()));
  }
  c.out_done = 0;
}

bool ControlSocket::Write(Client& c, uint64_t now) {
  while (c.out_done < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;  // EPIPE, ECONNRESET: it went away
    }
    c.out_done += n;
    // The deadline drops clients that stall, not replies that are long: a client still
    // reading (a route show of a million members is tens of MB) gets more time with each piece.
    c.deadline_ms = now + kClientTimeoutMs;
  }
  c.out.clear();
  Release(c.out);
  c.out_done = 0;
  if (c.close_after) return false;
  c.deadline_ms = now + kClientTimeoutMs;  // the next request has its own time
  return true;
}

void ControlSocket::Poll(int timeout_ms, const CommandHandler& handler,
                         std::span<const int> wake_fds) {
  if (fd_ < 0) return;
  std::vector<pollfd> fds;
  fds.reserve(clients_.size() + 1 + wake_fds.size());
  fds.push_back({fd_, POLLIN, 0});
  uint64_t now = NowMs();
  int timeout = timeout_ms;
  for (auto& c : clients_) {
    short events = 0;
    if (!c.out.empty()) {
      events = POLLOUT;
    } else if (!c.close_after && !c.eof && ScanRequest(c.in) == Scan::kIncomplete) {
      events = POLLIN;
    } else {
      timeout = 0;  // a request is already buffered (or a state to settle): no waiting
    }
    fds.push_back({c.fd, events, 0});
    uint64_t left = c.deadline_ms > now ? c.deadline_ms - now : 0;
    if (timeout < 0 || uint64_t(timeout) > left) timeout = int(left);
  }
  for (int fd : wake_fds) fds.push_back({fd, POLLIN, 0});
  if (poll(fds.data(), fds.size(), timeout) < 0) {
    for (auto& p : fds) p.revents = 0;  // EINTR: deadlines are still checked below
  }
  now = NowMs();
  std::vector<Client> keep;
  keep.reserve(clients_.size());
  for (size_t i = 0; i < clients_.size(); ++i) {
    Client& c = clients_[i];
    short ev = fds[i + 1].revents;
    // POLLERR: the peer closed with our reply unread, or the like.
    bool alive = !(ev & (POLLERR | POLLNVAL));
    if (alive && (ev & (POLLIN | POLLHUP)) && c.out.empty()) alive = Read(c);
    if (alive) Handle(c, handler);
    if (alive && !c.out.empty()) alive = Write(c, now);
    // The client closed its side and nothing whole is left to answer: done (a partial request
    // is discarded).
    if (alive && c.out.empty() && c.eof && ScanRequest(c.in) == Scan::kIncomplete) alive = false;
    if (alive && now >= c.deadline_ms) {
      if (c.out.empty()) {
        SendAndClose(c.fd, absl::StrFormat("%ctimed out: no whole request within %u ms",
                                           kReplyError, kClientTimeoutMs));
      } else {
        close(c.fd);  // mid-reply: a second frame would corrupt the first
      }
      continue;
    }
    if (alive) {
      keep.push_back(std::move(c));
    } else {
      close(c.fd);
    }
  }
  clients_ = std::move(keep);
  if (fds[0].revents & POLLIN) Accept(now);
}

absl::StatusOr<std::string> ControlRequest(const std::string& path,
                                           const std::vector<std::string>& args) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("control socket path too long: " + path);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status s = absl::UnavailableError(
        absl::StrFormat("cannot reach vrouterd at %s: %s", path, strerror(errno)));
    close(fd);
    return s;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string req = Frame(absl::StrJoin(args, absl::string_view("\0", 1)));
  int send_err = 0;
  for (size_t done = 0; done < req.size();) {
    ssize_t n = send(fd, req.data() + done, req.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      send_err = errno;
      break;
    }
    done += n;
  }
  // Even when sending failed, the server may have answered why before closing (permission
  // denied, too many clients): read what is there.
  std::string in;
  char buf[65536];
  int read_err = 0;
  while (!(in.size() >= 4 && in.size() >= 4 + size_t(FrameLength(in)))) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      read_err = n < 0 ? errno : 0;
      break;
    }
    in.append(buf, n);
  }
  close(fd);
  if (in.size() >= 4 && in.size() >= 4 + size_t(FrameLength(in))) {
    return in.substr(4, FrameLength(in));
  }
  if (send_err != 0) {
    return absl::UnavailableError(
        absl::StrFormat("cannot send to vrouterd at %s: %s", path, strerror(send_err)));
  }
  if (read_err == EAGAIN || read_err == EWOULDBLOCK) {
    return absl::DeadlineExceededError(
        absl::StrFormat("vrouterd at %s did not reply within %d s", path, tv.tv_sec));
  }
  return absl::UnavailableError(
      absl::StrFormat("vrouterd at %s closed the connection before replying%s", path,
                      read_err != 0 ? std::string(": ") + strerror(read_err) : ""));
}

}  // namespace vr::control
