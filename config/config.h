// The running configuration of vrouterd as plain C++ values: no DPDK, no YAML types.
// config/loader.cc fills it from YAML; control/ turns it into ports, routes and neighbours.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
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

// Prefix arithmetic shared by the loader and the control plane (host order).
constexpr uint32_t PrefixMask(uint8_t len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
constexpr Ip4Prefix NetworkOf(const Ip4Prefix& p) { return {p.addr & PrefixMask(p.len), p.len}; }
constexpr bool Contains(const Ip4Prefix& p, uint32_t ip) {
  return (ip & PrefixMask(p.len)) == (p.addr & PrefixMask(p.len));
}

// IPv6 addresses are kept as their 16 bytes in network order (as in struct in6_addr).
struct Ip6Addr {
  std::array<uint8_t, 16> bytes{};  // network order
  bool operator==(const Ip6Addr&) const = default;
  auto operator<=>(const Ip6Addr&) const = default;
};

struct Ip6Prefix {
  Ip6Addr addr;     // the address with its host part, as written (e.g. the router's own)
  uint8_t len = 0;  // 0..128
  bool operator==(const Ip6Prefix&) const = default;
};

// Prefix arithmetic for IPv6, as NetworkOf and Contains are for IPv4.
Ip6Prefix NetworkOf6(const Ip6Prefix& p);  // host bits cleared
bool Contains6(const Ip6Prefix& p, const Ip6Addr& a);
bool IsLinkLocal6(const Ip6Addr& a);  // fe80::/10
// An IPv6 address as one 128-bit number (the first byte the most significant), for the
// arithmetic of templates (member i's address is member 0's + i * step).
absl::uint128 Ip6Value(const Ip6Addr& a);
Ip6Addr Ip6FromValue(absl::uint128 v);

// Interface groups, as the kernel's IFLA_GROUP and iproute2's /etc/iproute2/group have them: every
// port is in exactly one group (0, "default", unless told otherwise), and commands such as
// `vrouterctl link set group G down` act on all ports of a group. Names are only labels for ids.
inline constexpr uint32_t kMaxGroupId = 2147483647;  // iproute2 reads ids into an int; >= 0 only

// Where a group's name was defined; FormatConfig writes back only those from the YAML.
enum class GroupSource { kYaml, kFile, kBuiltin };

// Impairment, after the classic "insane" virtual interface: what a vif does to the packets it
// receives and sends. Impairment drops are counted apart from every other drop.
enum class ImpairMode { kPass, kDrop, kFlap };

struct ImpairmentConfig {
  ImpairMode mode = ImpairMode::kPass;
  uint32_t drop_percent = 0;  // kDrop: 1..100 of packets, pseudo-random
  uint64_t seed = 1;          // kDrop: the same seed drops the same packets of the same stream
  uint32_t on_ms = 0;         // kFlap: passes everything for on_ms (1..3600000)...
  uint32_t off_ms = 0;        // ...then drops everything for off_ms (1..3600000), and again
  bool operator==(const ImpairmentConfig&) const = default;
};

// 802.1Q / 802.1ad tag ids 1..4094, both ends included.
struct TagRange {
  uint16_t first = 0;
  uint16_t last = 0;
  uint32_t size() const { return uint32_t(last) - first + 1; }
  bool operator==(const TagRange&) const = default;
};

// Creates the members of a group in bulk: one vlan vif per id of `vlan` on port `parent`, or with
// `inner` set one qinq vif per (outer, inner) pair, outer-major. Member i gets the address
// `address` + i * address_step (same prefix length), the IPv6 address `address6` +
// i * address6_step (as 128-bit numbers, same prefix length) and the MAC `mac` + i * mac_step.
// Members are never listed one by one in Config: they are computed from the template
// (TemplateMember).
// One template member's own settings: like a listed vif's, they outrank its group's.
struct MemberConfig {
  uint16_t outer = 0;  // the member's tags: its vlan id, or its outer and inner ids
  uint16_t inner = 0;
  std::optional<uint32_t> mtu;
  std::optional<bool> up;
  std::optional<ImpairmentConfig> impairment;
  Location loc;

  bool empty() const { return !mtu && !up && !impairment; }
  // Every field but loc. A field added above must be added here too.
  bool operator==(const MemberConfig& o) const {
    return outer == o.outer && inner == o.inner && mtu == o.mtu && up == o.up &&
           impairment == o.impairment;
  }
};

struct TemplateConfig {
  std::string parent;              // a port name
  TagRange outer;                  // vlan: the 802.1Q ids; qinq: the 802.1ad (S-tag) ids
  std::optional<TagRange> inner;   // qinq only: the 802.1Q (C-tag) ids inside each outer id
  std::optional<Ip4Prefix> address;  // member 0's; none: members have no address
  uint32_t address_step = 0;       // 0 in a loaded config never: defaults to the block size
  // Member 0's IPv6 address; none: members have their link-local address only.
  std::optional<Ip6Prefix> address6;
  absl::uint128 address6_step = 0;  // 0 in a loaded config never: defaults to the block size
  std::optional<Mac> mac;          // member 0's; none: every member uses the parent's MAC
  uint32_t mac_step = 1;
  std::vector<MemberConfig> members;  // members with settings of their own, in member order
  Location loc;

  uint32_t size() const { return outer.size() * (inner ? inner->size() : 1); }
  // The same members with the same tags, addresses and MACs: members' own settings may differ,
  // and change without the block being built again.
  bool SameBlock(const TemplateConfig& o) const {
    return parent == o.parent && outer == o.outer && inner == o.inner && address == o.address &&
           address_step == o.address_step && address6 == o.address6 &&
           address6_step == o.address6_step && mac == o.mac && mac_step == o.mac_step;
  }
  // Every field but loc. A field added above must be added here too.
  bool operator==(const TemplateConfig& o) const { return SameBlock(o) && members == o.members; }
};

// What member i of a template is.
struct TemplateMemberInfo {
  uint16_t outer = 0;
  uint16_t inner = 0;  // 0 for vlan members
  std::optional<Ip4Prefix> address;
  std::optional<Ip6Prefix> address6;
  std::optional<Mac> mac;
};
TemplateMemberInfo TemplateMember(const TemplateConfig& t, uint32_t i);
// Member i's IPv6 address alone (TemplateMember computes every field).
Ip6Prefix TemplateMemberAddress6(const TemplateConfig& t, uint32_t i);
// Which member has these tags (inner 0 for a vlan template), if any.
std::optional<uint32_t> TemplateMemberIndex(const TemplateConfig& t, uint16_t outer, uint16_t inner);
// Which member's IPv6 subnet holds `ip`, if any (none in the gaps a step above the subnet's size
// leaves between members).
std::optional<uint32_t> TemplateMemberFor6(const TemplateConfig& t, const Ip6Addr& ip);
// An address6_step: decimal digits (2 for /127s), or an IPv6 address read as a 128-bit number
// ("0:0:0:1::" is one /64). FormatIp6Step writes it back: decimal below 2^32, else the address.
absl::StatusOr<absl::uint128> ParseIp6Step(std::string_view s);
std::string FormatIp6Step(absl::uint128 step);

// The name of a sub-interface that has none of its own: PARENT.VLAN, or PARENT.OUTER.INNER.
std::string SubinterfaceName(std::string_view parent, uint16_t outer, uint16_t inner);

struct GroupConfig {
  uint32_t id = 0;   // 0..kMaxGroupId
  std::string name;  // 1..32 of A-Z a-z 0-9 _ . -, not starting with a digit; may be empty
  Location loc;      // empty file for the built-in "default"
  GroupSource source = GroupSource::kYaml;  // a group added by hand is written out like a YAML one
  // The group's own settings (YAML only). A sub-interface that does not set mtu, state or
  // impairment itself takes its group's; unset here too, it takes its parent port's MTU, up, pass.
  // Ports always carry their own settings.
  std::optional<uint32_t> mtu;
  std::optional<bool> up;
  std::optional<ImpairmentConfig> impairment;
  std::vector<TemplateConfig> templates;

  // Where a name was defined does not change what it means: loc and source are left out.
  bool operator==(const GroupConfig& o) const {
    return id == o.id && name == o.name && mtu == o.mtu && up == o.up &&
           impairment == o.impairment && templates == o.templates;
  }
};

// A prefix a router advertisement carries (RFC 4861 §4.6.2: the prefix information option).
inline constexpr uint32_t kInfiniteLifetime = 0xffffffff;  // RFC 4861 §4.6.2: "infinity"
struct RaPrefixConfig {
  Ip6Prefix prefix;  // host bits zero; one of the interface's subnets
  bool on_link = true;     // the L flag
  bool autonomous = true;  // the A flag (SLAAC, RFC 4862); only for a /64
  uint32_t valid_lifetime = 2592000;     // seconds (30 days); kInfiniteLifetime: forever
  uint32_t preferred_lifetime = 604800;  // seconds (7 days); not above valid_lifetime
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const RaPrefixConfig& o) const {
    return prefix == o.prefix && on_link == o.on_link && autonomous == o.autonomous &&
           valid_lifetime == o.valid_lifetime && preferred_lifetime == o.preferred_lifetime;
  }
};

// Router advertisements on a port or listed vif (RFC 4861 §6.2.1's router configuration
// variables); YAML key `router_advertisements`. Unset: the interface sends none.
// config/router_adverts.cc holds the derived values and the defaults' prefixes.
struct RouterAdvertConfig {
  uint32_t interval = 600;  // MaxRtrAdvInterval, seconds, 4..1800
  // MinRtrAdvInterval, seconds, 3..0.75 x interval. Unset: MinInterval()'s default.
  std::optional<uint32_t> min_interval;
  // AdvDefaultLifetime, seconds: 0 (not a default router) or interval..9000. Unset: Lifetime()'s.
  std::optional<uint32_t> lifetime;
  bool advertise_mtu = true;    // the MTU option (YAML `mtu: false` leaves it out)
  std::optional<uint32_t> mtu;  // its value, 1280..the interface's MTU; unset: the interface's
  bool managed = false;         // the M flag: addresses by DHCPv6
  bool other = false;           // the O flag: other configuration by DHCPv6
  uint32_t hop_limit = 64;      // AdvCurHopLimit, 0..255 (0: unspecified)
  uint32_t reachable_time = 0;  // AdvReachableTime, milliseconds, 0..3600000 (0: unspecified)
  uint32_t retrans_timer = 0;   // AdvRetransTimer, milliseconds (0: unspecified)
  // `auto` in `prefixes` (the default): every subnet of the interface's IPv6 addresses that
  // `prefixes` does not list itself, with the default flags and lifetimes.
  bool auto_prefixes = true;
  std::vector<RaPrefixConfig> prefixes;  // the ones listed, in file order
  Location loc;

  // MinRtrAdvInterval in milliseconds: min_interval, else RFC 4861 §6.2.1's default of
  // 0.33 x interval (the interval itself below 9 s).
  uint32_t MinIntervalMs() const;
  uint32_t Lifetime() const;  // lifetime, else 3 x interval, at most 9000

  // Every field but loc. A field added above must be added here too.
  bool operator==(const RouterAdvertConfig& o) const {
    return interval == o.interval && min_interval == o.min_interval && lifetime == o.lifetime &&
           advertise_mtu == o.advertise_mtu && mtu == o.mtu && managed == o.managed &&
           other == o.other && hop_limit == o.hop_limit && reachable_time == o.reachable_time &&
           retrans_timer == o.retrans_timer && auto_prefixes == o.auto_prefixes &&
           prefixes == o.prefixes;
  }
};

// The prefixes an interface with `addresses` advertises under `ra`: those listed, then with
// auto_prefixes every other subnet of `addresses` (each once), on-link, autonomous only for a /64.
std::vector<RaPrefixConfig> AdvertisedPrefixes(const RouterAdvertConfig& ra,
                                               const std::vector<Ip6Prefix>& addresses);

struct PortConfig {
  std::string name;    // operator's name, e.g. "a" or "uplink"
  std::string device;  // DPDK devargs: a PCI address or a vdev string
  std::optional<Mac> mac;  // default: the device's own MAC
  uint32_t mtu = 1500;     // IPv4 MTU (bytes of IP packet), 68..9000
  std::vector<Ip4Prefix> addresses;  // address with its prefix length, e.g. 198.18.1.1/24
  // IPv6 addresses with their prefix lengths, e.g. 2001:db8:1::1/64; YAML lists them in
  // `addresses` with the IPv4 ones. Never link-local: that one is link_local.
  std::vector<Ip6Prefix> addresses6;
  // YAML key `link_local`, in fe80::/10. Unset: control derives one from the MAC (EUI-64).
  std::optional<Ip6Addr> link_local;
  uint32_t group = 0;  // interface group id (named or not), 0..kMaxGroupId
  bool up = true;      // admin state: a port that is down neither sends nor receives
  std::optional<RouterAdvertConfig> router_advertisements;  // unset: none sent
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const PortConfig& o) const {
    return name == o.name && device == o.device && mac == o.mac && mtu == o.mtu &&
           addresses == o.addresses && addresses6 == o.addresses6 && link_local == o.link_local &&
           group == o.group && up == o.up && router_advertisements == o.router_advertisements;
  }
};

// A sub-interface listed on its own: a vlan (802.1Q `vlan`) or qinq (802.1ad `outer` with 802.1Q
// `inner`) vif on a port. Unset settings come from the group, then the parent (see GroupConfig).
struct VifConfig {
  std::string name;    // default SubinterfaceName(parent, outer, inner); 1..31 of A-Z a-z 0-9 _ . -
  std::string parent;  // a port name
  uint16_t outer = 0;  // vlan: the 802.1Q id; qinq: the 802.1ad id. 1..4094
  uint16_t inner = 0;  // qinq: the 802.1Q id 1..4094; 0 for a vlan vif
  std::optional<Mac> mac;  // default: the parent's
  std::optional<uint32_t> mtu;
  std::vector<Ip4Prefix> addresses;
  std::vector<Ip6Prefix> addresses6;  // as a port's
  std::optional<Ip6Addr> link_local;  // as a port's; unset: derived from the vif's MAC
  uint32_t group = 0;  // the loader fills in the parent's group when the YAML does not say
  std::optional<bool> up;
  std::optional<ImpairmentConfig> impairment;
  std::optional<RouterAdvertConfig> router_advertisements;  // as a port's
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const VifConfig& o) const {
    return name == o.name && parent == o.parent && outer == o.outer && inner == o.inner &&
           mac == o.mac && mtu == o.mtu && addresses == o.addresses &&
           addresses6 == o.addresses6 && link_local == o.link_local && group == o.group &&
           up == o.up && impairment == o.impairment &&
           router_advertisements == o.router_advertisements;
  }
};

// Vif ids are 24 bits (InQ/OutQ entries carry them): ports and sub-interfaces together, at most.
inline constexpr uint32_t kMaxVifs = 1u << 24;

enum class RouteType { kForward, kBlackhole, kUnreachable };

// The IPv6 FIB's size in routes: static, kernel and neighbour host routes together (connected
// subnets, template members' included, are outside it). A config with more static IPv6 routes
// could never be installed, so the loader refuses it.
inline constexpr uint32_t kMaxRoutes6 = 1u << 16;

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

// An IPv6 static route: an entry of the YAML `routes` list whose prefix is IPv6.
struct Route6Config {
  Ip6Prefix prefix;  // host bits must be zero; ::/0 is the default route
  RouteType type = RouteType::kForward;
  Ip6Addr via;       // next hop, only for kForward: in a port's or vif's IPv6 subnet, or link-local
  std::string port;  // the port or vif of a link-local via; empty for any other via
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const Route6Config& o) const {
    return prefix == o.prefix && type == o.type && via == o.via && port == o.port;
  }
};

// A static IPv6 neighbour (NDP entry): an entry of the YAML `neighbours` list whose ip is IPv6.
struct Neighbour6Config {
  Ip6Addr ip;
  Mac mac{};
  std::string port;  // resolved by the loader from the connected subnet; given for a link-local ip
  Location loc;

  // Every field but loc. A field added above must be added here too.
  bool operator==(const Neighbour6Config& o) const {
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

struct MetricsConfig {
  // HOST:PORT the Prometheus endpoint listens on (IPv4 address or [IPv6]); empty: no endpoint.
  std::string listen = "127.0.0.1:9420";
  // Per-vif series on /metrics/interfaces for at most this many vifs; 0: that path is not served.
  uint32_t interfaces = 0;
  bool operator==(const MetricsConfig&) const = default;
};

// The kernel exception path (knet/): one TAP device to the Linux kernel, and the routes the kernel
// learns mirrored into the FIB. Off unless the config has a `knet` section.
struct KnetConfig {
  bool enabled = false;
  std::string name = "knet0";    // the TAP device's name in the kernel
  uint32_t mtu = 1500;
  // Packets per second to the kernel (per worker) and from it (in all); beyond, dropped and
  // counted, so the exception path never takes the forwarding budget.
  uint32_t rate = 500000;
  uint32_t burst = 4096;
  // TCP segmentation and checksums the kernel leaves to knet (TSO over IFF_VNET_HDR): one read
  // per 64 KB of a kernel TCP stream instead of one per segment.
  bool offload = true;
  bool mirror = true;            // mirror kernel routes into the FIB
  uint32_t table = 254;          // the kernel table mirrored (254: main)
  // RTPROT_* numbers of the routes mirrored; empty: every protocol but kernel (2, the kernel's
  // connected routes, which the dataplane has already) and vrouter's own (250).
  std::vector<uint8_t> protocols;
  bool operator==(const KnetConfig&) const = default;
};

// Routes vrouterd installs in the kernel carry this protocol, so the mirror never takes them back.
constexpr uint8_t kVrouterRouteProtocol = 250;

// Route protocol names as iproute2 knows them (/etc/iproute2/rt_protos), for knet.mirror.
std::optional<uint8_t> RouteProtocolByName(std::string_view name);
std::string RouteProtocolName(uint8_t protocol);

struct Config {
  DataplaneConfig dataplane;
  ControlConfig control;
  MetricsConfig metrics;
  KnetConfig knet;
  ArpConfig arp;
  IcmpConfig icmp;
  // The group file named by `group_file:`, made absolute (relative paths are taken from the YAML
  // file's directory) and lexically normalised: what was read, and what FormatConfig writes back,
  // so that the text loads the same file wherever it is stored. Empty: no group file.
  std::string group_file;
  // The group names known: the built-in 0 "default", then those of group_file and of the YAML's
  // `groups`, each id and each name once, sorted by id. A port may also use an id with no name.
  std::vector<GroupConfig> groups;
  std::vector<PortConfig> ports;
  std::vector<VifConfig> vifs;  // sub-interfaces listed one by one (templates are in groups)
  std::vector<RouteConfig> routes;
  std::vector<NeighbourConfig> neighbours;
  std::vector<Route6Config> routes6;          // the IPv6 entries of `routes`, in file order
  std::vector<Neighbour6Config> neighbours6;  // the IPv6 entries of `neighbours`, in file order
  bool operator==(const Config&) const = default;
};

// Parses and validates a whole file. Every error reads "FILE:LINE:COL: message", then the
// offending line and a caret under the column, so an operator can fix it without guessing.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Same, from text already in memory. `file` is used in messages, and its directory is where a
// relative `group_file` is looked for (the current directory when `file` has none).
absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view file);

// The config as YAML in the shape docs/config.md describes, for `vrouterctl config show` and
// `config save`: ParseConfig(FormatConfig(c)) == c for any config the loader accepts. Sections and
// keys come in a fixed order and every key is written, defaults included; only optional values
// that are unset (a port's mac and link_local, control.group, group_file) are left out, and so are
// a port's group when it is 0 and its state when it is up. IPv6 addresses, routes and neighbours
// follow the IPv4 ones in the same YAML lists. `groups` lists only the groups of source kYaml: the
// file's are read from group_file again. Comments of the original are not kept.
std::string FormatConfig(const Config& c);

// A group file in iproute2's format (/etc/iproute2/group): "ID NAME" lines, '#' comments, blank
// lines; see docs/config.md. Returns its entries in file order (a repeated line once), source
// kFile. Errors read "FILE:LINE:COL: message" plus the line and a caret, like the YAML loader's.
absl::StatusOr<std::vector<GroupConfig>> ParseGroupFile(std::string_view text,
                                                        std::string_view file);
absl::StatusOr<std::vector<GroupConfig>> LoadGroupFile(const std::string& path);

// The id a command-line group argument means: a name of c.groups, or an id 0..kMaxGroupId (decimal,
// or hex after 0x), which needs no name. nullopt when it is neither.
std::optional<uint32_t> GroupId(const Config& c, std::string_view name_or_id);
// The group's name in c.groups, or its id in decimal when it has none.
std::string GroupName(const Config& c, uint32_t id);

// Text helpers shared with the CLI and the tests.
absl::StatusOr<Ip4Prefix> ParseIp4Prefix(std::string_view s);
absl::StatusOr<uint32_t> ParseIp4(std::string_view s);
absl::StatusOr<Mac> ParseMac(std::string_view s);
// A group id, 0..kMaxGroupId: decimal without leading zeros, or "0x" and hex digits.
absl::StatusOr<uint32_t> ParseGroupId(std::string_view s);
// 1..32 characters from A-Z a-z 0-9 _ . -, the first not a digit (so a name never reads as an id).
bool IsGroupName(std::string_view s);
std::string FormatIp4(uint32_t addr);
std::string FormatMac(const Mac& mac);
// IPv6 text as RFC 4291 §2.2 writes it (inet_pton's grammar, including a trailing dotted IPv4
// part); no zone ("%eth0"), no prefix, no spaces. The prefix form is ADDRESS/LEN, LEN 0..128.
absl::StatusOr<Ip6Addr> ParseIp6(std::string_view s);
absl::StatusOr<Ip6Prefix> ParseIp6Prefix(std::string_view s);
// RFC 5952's canonical text: lower case, no leading zeros, the longest run of zero groups as "::".
std::string FormatIp6(const Ip6Addr& a);

}  // namespace vr::config
