// The running configuration of vrouterd as plain C++ values: no DPDK, no YAML types.
// config/loader.cc fills it from YAML; control/ turns it into ports, routes and neighbours.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vr::config {

// Where a value came from, so that semantic errors found after parsing still name file:line:column.
struct Location {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

using Mac = std::array<uint8_t, 6>;

// operator== compares what a config means, never where it came from: `loc` is left out, so a config
// loaded, written back with FormatConfig and loaded again compares equal to the first.

// IPv4 addresses are kept in host byte order throughout config/.
struct Ip4Prefix {
  uint32_t addr = 0;
  uint8_t len = 0;
  bool operator==(const Ip4Prefix&) const = default;
};

struct PortConfig {
  std::string name;    // operator's name, e.g. "a" or "uplink"
  std::string device;  // DPDK devargs: a PCI address or a vdev string
  std::optional<Mac> mac;  // default: the device's own MAC
  uint32_t mtu = 1500;     // IPv4 MTU (bytes of IP packet), 68..9000
  std::vector<Ip4Prefix> addresses;  // address with its prefix length, e.g. 198.18.1.1/24
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const PortConfig& o) const {
    return name == o.name && device == o.device && mac == o.mac && mtu == o.mtu &&
           addresses == o.addresses;
  }
};

enum class RouteType { kForward, kBlackhole, kUnreachable };

struct RouteConfig {
  Ip4Prefix prefix;   // host bits must be zero
  RouteType type = RouteType::kForward;
  uint32_t via = 0;   // next hop, only for kForward; must lie in a port's connected subnet
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const RouteConfig& o) const {
    return prefix == o.prefix && type == o.type && via == o.via;
  }
};

struct NeighbourConfig {
  uint32_t ip = 0;
  Mac mac{};
  std::string port;  // resolved by the loader from the connected subnet when not given
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const NeighbourConfig& o) const {
    return ip == o.ip && mac == o.mac && port == o.port;
  }
};

struct DataplaneConfig {
  uint32_t workers = 1;     // worker lcores; lcore 0 is the control lcore
  uint32_t nbufs = 16383;   // nbuf pool size (2 KB data room each)
  bool operator==(const DataplaneConfig&) const = default;
};

struct ArpConfig {
  uint32_t hold_packets = 16;       // packets held per unresolved next hop
  uint32_t reachable_seconds = 30;  // reachable -> stale
  uint32_t retries = 3;             // requests before an entry fails
  uint32_t retry_ms = 1000;         // interval between requests
  uint32_t gc_seconds = 120;        // unused stale entries are removed after this
  bool operator==(const ArpConfig&) const = default;
};

struct IcmpConfig {
  uint32_t rate_per_second = 1000;  // ICMP error token bucket refill rate, per worker
  uint32_t burst = 100;             // bucket depth
  bool operator==(const IcmpConfig&) const = default;
};

struct ControlConfig {
  std::string socket = "/run/vrouter/control.sock";
  // A Unix group name: the socket is made 0660 and owned by this group. Empty: 0600, owner only.
  std::string group;
  bool operator==(const ControlConfig&) const = default;
};

struct Config {
  DataplaneConfig dataplane;
  ControlConfig control;
  ArpConfig arp;
  IcmpConfig icmp;
  std::vector<PortConfig> ports;
  std::vector<RouteConfig> routes;
  std::vector<NeighbourConfig> neighbours;
  bool operator==(const Config&) const = default;
};

// Parses and validates a whole file. Every error reads "FILE:LINE:COL: message", then the
// offending line and a caret under the column, so an operator can fix it without guessing.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Same, from text already in memory; `file` is only used in messages.
absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view file);

// The config as YAML in the shape docs/config.md describes, for `vrouterctl config show` and
// `config save`: ParseConfig(FormatConfig(c)) == c for any config the loader accepts. Sections and
// keys come in a fixed order and every key is written, defaults included; only optional values
// that are unset (a port's mac, control.group) are left out. Comments of the original are not kept.
std::string FormatConfig(const Config& c);

// Text helpers shared with the CLI and the tests.
absl::StatusOr<Ip4Prefix> ParseIp4Prefix(std::string_view s);
absl::StatusOr<uint32_t> ParseIp4(std::string_view s);
absl::StatusOr<Mac> ParseMac(std::string_view s);
std::string FormatIp4(uint32_t addr);
std::string FormatMac(const Mac& mac);

}  // namespace vr::config
