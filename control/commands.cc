// The control socket's command language, iproute2-like: parses the words of a request, checks
// them, and turns changes into a new running config that Apply() diffs in. Usage errors say so.
#include <rte_ethdev.h>

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/control_socket.h"
#include "control/json.h"
#include "control/router.h"

namespace vr::control {

namespace {

constexpr const char* kCommands =
    "stats [-s] | link show [dev D | group G] | link set dev D|group G [mtu N] [up|down] "
    "[group G] [impair ...] | link add|del ... (`link help` lists them) | group show | addr show [dev D] | "
    "addr add|del PREFIX dev D | route show | route get ADDR | route add PREFIX via ADDR | "
    "route add blackhole|unreachable PREFIX | route del PREFIX | neigh show | "
    "neigh add ADDR lladdr MAC [dev D] | neigh del ADDR [dev D] | config show | reload";

using Args = std::vector<std::string>;

std::string PrefixText(const config::Ip4Prefix& p) {
  return absl::StrFormat("%s/%u", config::FormatIp4(p.addr), p.len);
}

// The loader's messages start with FILE:LINE:COL and end with the line and a caret; for a
// change typed at the CLI only the message itself means anything.
std::string CandidateError(const absl::Status& s) {
  std::string msg(s.message());
  msg = msg.substr(0, msg.find('\n'));
  for (int colons = 0; colons < 3; ++colons) {
    size_t at = msg.find(':');
    if (at == std::string::npos) return msg;
    msg = msg.substr(at + 1);
  }
  return std::string(absl::StripLeadingAsciiWhitespace(msg));
}

}  // namespace

absl::Status UsageError(std::string_view message) {
  absl::Status s = absl::InvalidArgumentError(
      absl::StrFormat("%s\nusage: %s", message, kCommands));
  s.SetPayload(kReplyUsagePayload, absl::Cord("1"));
  return s;
}

absl::Status Router::ApplyCandidate(const config::Config& next) {
  // The same validation a file gets: the candidate is written out and read back by the loader.
  auto checked = config::ParseConfig(config::FormatConfig(next), "<running config>");
  if (!checked.ok()) return absl::InvalidArgumentError(CandidateError(checked.status()));
  return Apply(*checked);
}

absl::StatusOr<std::string> Router::Execute(const std::vector<std::string>& argv) {
  Args args = argv;
  bool json = false;
  if (!args.empty() && args[0] == "-j") {
    json = true;
    args.erase(args.begin());
  }
  if (args.empty()) return UsageError("no command");
  const std::string& obj = args[0];
  std::string verb = args.size() > 1 ? args[1] : "show";
  Args rest(args.begin() + std::min<size_t>(2, args.size()), args.end());

  if (obj == "ping" && args.size() == 1) return std::string("pong\n");
  if (obj == "stats" && (args.size() == 1 || (args.size() == 2 && args[1] == "-s"))) {
    return ShowStats(json);
  }
  if (obj == "link") return LinkCommand(verb, rest, json);
  if (obj == "addr" || obj == "address") return AddrCommand(verb, rest, json);
  if (obj == "route") return RouteCommand(verb, rest, json);
  if (obj == "group") return GroupCommand(verb, rest, json);
  if (obj == "neigh" || obj == "neighbour" || obj == "neighbor") {
    return NeighCommand(verb, rest, json);
  }
  if (obj == "config" && verb == "show" && rest.empty()) {
    return config::FormatConfig(config_);
  }
  if (obj == "reload" && args.size() == 1) {
    if (absl::Status s = Reload(); !s.ok()) return s;
    return absl::StrFormat("reloaded %s\n", config_path_);
  }
  return UsageError(absl::StrFormat("unknown command \"%s\"", absl::StrJoin(args, " ")));
}

namespace {

constexpr const char* kLinkUsage =
    "link show [dev D | group G] | link set dev D|group G [mtu N] [up|down] [group G] "
    "[impair pass | impair drop PERCENT [seed S] | impair flap ON_MS OFF_MS] | "
    "link add group G template parent P vlan A[-B] | outer A[-B] inner C[-D] "
    "[address A/L [step N]] [address A6/L [step N6]] [mac M [mac-step N]] | "
    "link del group G template [parent P vlan A[-B] | outer A[-B] inner C[-D]] | "
    "link add dev NAME parent P vlan N | outer N inner M [mac M] [group G] | link del dev NAME";

absl::StatusOr<uint32_t> Number(const Args& a, size_t i, const char* what) {
  uint32_t v;
  if (i >= a.size()) return UsageError(absl::StrFormat("%s: missing value", what));
  if (!absl::SimpleAtoi(a[i], &v)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected an integer, got '%s'", what, a[i]));
  }
  return v;
}

absl::StatusOr<config::TagRange> Range(const Args& a, size_t i, const char* what) {
  if (i >= a.size()) return absl::InvalidArgumentError(absl::StrFormat("%s: expected a tag range", what));
  std::vector<std::string> parts = absl::StrSplit(a[i], '-');
  uint32_t first = 0, last = 0;
  bool ok = parts.size() <= 2 && absl::SimpleAtoi(parts[0], &first) &&
            (parts.size() == 1 ? (last = first, true) : absl::SimpleAtoi(parts[1], &last));
  if (!ok || first < 1 || last > 4094 || first > last) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expected a tag id 1..4094 or a range FIRST-LAST, got '%s'", what, a[i]));
  }
  return config::TagRange{uint16_t(first), uint16_t(last)};
}

// `impair pass | drop PERCENT [seed S] | flap ON_MS OFF_MS` from a[*i] on; *i ends on the last
// word used.
absl::StatusOr<config::ImpairmentConfig> Impairment(const Args& a, size_t* i) {
  config::ImpairmentConfig c;
  if (*i + 1 >= a.size()) return absl::InvalidArgumentError("impair: expected pass, drop or flap");
  const std::string& mode = a[++*i];
  if (mode == "pass") return c;
  if (mode == "drop") {
    auto pct = Number(a, ++*i, "impair drop");
    if (!pct.ok()) return pct.status();
    if (*pct < 1 || *pct > 100) return absl::InvalidArgumentError("impair drop: percent must be 1..100");
    c.mode = config::ImpairMode::kDrop;
    c.drop_percent = *pct;
    if (*i + 1 < a.size() && a[*i + 1] == "seed") {
      *i += 2;
      if (*i >= a.size() || !absl::SimpleAtoi(a[*i], &c.seed)) {
        return absl::InvalidArgumentError("impair drop seed: expected an integer");
      }
    }
    return c;
  }
  if (mode == "flap") {
    auto on = Number(a, ++*i, "impair flap ON_MS");
    if (!on.ok()) return on.status();
    auto off = Number(a, ++*i, "impair flap OFF_MS");
    if (!off.ok()) return off.status();
    if (*on < 1 || *off < 1 || *on > 3600000 || *off > 3600000) {
      return absl::InvalidArgumentError("impair flap: ON_MS and OFF_MS must be 1..3600000");
    }
    c.mode = config::ImpairMode::kFlap;
    c.on_ms = *on;
    c.off_ms = *off;
    return c;
  }
  return absl::InvalidArgumentError("impair: expected pass, drop or flap, got '" + mode + "'");
}

std::string ImpairText(const config::ImpairmentConfig* c) {
  if (c == nullptr || c->mode == config::ImpairMode::kPass) return "pass";
  if (c->mode == config::ImpairMode::kDrop) {
    return absl::StrFormat("drop %u%% seed %u", c->drop_percent, c->seed);
  }
  return absl::StrFormat("flap on %ums off %ums", c->on_ms, c->off_ms);
}

config::GroupConfig& GroupEntry(config::Config& c, uint32_t id) {
  for (auto& g : c.groups) {
    if (g.id == id) return g;
  }
  config::GroupConfig g;
  g.id = id;
  c.groups.push_back(g);
  std::sort(c.groups.begin(), c.groups.end(),
            [](const config::GroupConfig& a, const config::GroupConfig& b) { return a.id < b.id; });
  for (auto& e : c.groups) {
    if (e.id == id) return e;
  }
  return c.groups.front();  // not reached
}

}  // namespace

absl::StatusOr<std::string> Router::LinkCommand(const std::string& verb, const Args& rest,
                                                bool json) {
  if (verb == "help") return std::string(kLinkUsage) + "\n";
  if (verb == "show") {
    std::optional<uint32_t> only;
    std::optional<uint32_t> group;
    if (rest.size() == 2 && rest[0] == "dev") {
      only = vifs_->ByName(rest[1]);
      if (!only) return absl::NotFoundError("no interface " + rest[1]);
    } else if (rest.size() == 2 && rest[0] == "group") {
      group = config::GroupId(config_, rest[1]);
      if (!group) return absl::NotFoundError("no group " + rest[1]);
    } else if (!rest.empty()) {
      return UsageError("link show [dev D | group G]");
    }
    JsonWriter j;
    std::string text;
    j.BeginArray();
    auto show = [&](uint32_t id) {
      std::optional<VifInfo> v = vifs_->Info(id);
      if (!v || (group && v->group != *group)) return true;
      const PortState& parent = ports_[v->port];
      bool link_up = parent.link_up;
      char mac[RTE_ETHER_ADDR_FMT_SIZE];
      rte_ether_format_addr(mac, sizeof(mac), &v->mac);
      std::string group_name = config::GroupName(config_, v->group);
      std::string impair = ImpairText(vifs_->Profile(v->impairment));
      const char* kind = v->kind == dataplane::VifKind::kPort   ? "port"
                         : v->kind == dataplane::VifKind::kVlan ? "vlan"
                                                                : "qinq";
      j.BeginObject()
          .Field("name", v->name)
          .Field("kind", kind)
          .Field("parent", parent.port->name())
          .Field("mtu", v->mtu)
          .Field("mac", mac)
          .Field("admin_up", v->up)
          .Field("link_up", link_up)
          .Field("group", group_name)
          .Field("group_id", v->group)
          .Field("impairment", impair);
      // The vif's own counters, summed over workers (a port's: its untagged traffic).
      uint64_t c[6] = {};
      for (const auto& w : workers_) {
        const dataplane::VifCounters vc = w->vif_counters(id);
        c[0] += vc.rx_packets;
        c[1] += vc.rx_bytes;
        c[2] += vc.tx_packets;
        c[3] += vc.tx_bytes;
        c[4] += vc.drops;
        c[5] += vc.impaired;
      }
      j.Key("stats").BeginObject()
          .Field("rx_packets", c[0]).Field("rx_bytes", c[1])
          .Field("tx_packets", c[2]).Field("tx_bytes", c[3])
          .Field("drops", c[4]).Field("impairment_drops", c[5])
          .EndObject();
      if (v->kind == dataplane::VifKind::kPort) j.Field("device", parent.port->devargs());
      if (v->kind == dataplane::VifKind::kVlan) j.Field("vlan", uint32_t(v->outer));
      if (v->kind == dataplane::VifKind::kQinq) {
        j.Field("outer", uint32_t(v->outer)).Field("inner", uint32_t(v->inner));
      }
      j.EndObject();
      std::string flags = v->up ? (link_up ? "UP,LOWER_UP" : "UP,NO-CARRIER") : "DOWN";
      std::string where =
          v->kind == dataplane::VifKind::kPort
              ? "device " + parent.port->devargs()
              : v->kind == dataplane::VifKind::kVlan
                    ? absl::StrFormat("vlan id %u", v->outer)
                    : absl::StrFormat("802.1ad id %u 802.1Q id %u", v->outer, v->inner);
      std::string name = v->kind == dataplane::VifKind::kPort
                             ? v->name
                             : absl::StrCat(v->name, "@", parent.port->name());
      absl::StrAppendFormat(&text, "%u: %s: <%s> mtu %u group %s%s\n    link/ether %s %s\n",
                            id, name, flags, v->mtu, group_name,
                            impair == "pass" ? "" : " impair " + impair, mac, where);
      return true;
    };
    if (only) {
      show(*only);
    } else {
      vifs_->ForEach(show);
    }
    j.EndArray();
    return json ? j.Take() + "\n" : text;
  }
  if (verb == "set") {
    // `link set dev D ATTR...` or `link set group G ATTR...`. One command is one candidate
    // config, applied as a whole. For a group, the setting becomes the group's own (members
    // take it through their group word: one store whatever their number), and the ports and
    // listed vifs of the group are set too, as the kernel's `ip link set group` would.
    if (rest.size() < 3 || (rest[0] != "dev" && rest[0] != "group")) {
      return UsageError(kLinkUsage);
    }
    bool by_group = rest[0] == "group";
    config::Config next = config_;
    std::optional<uint32_t> gid;
    config::PortConfig* port = nullptr;
    config::VifConfig* vif = nullptr;
    config::TemplateConfig* tmpl = nullptr;  // a template member: its template in `next`,
    const Block* block = nullptr;            // its block,
    config::MemberConfig member;             // and its own settings so far
    if (by_group) {
      gid = config::GroupId(config_, rest[1]);
      if (!gid) return absl::NotFoundError("no group " + rest[1]);
    } else {
      for (auto& p : next.ports) {
        if (p.name == rest[1]) port = &p;
      }
      for (auto& v : next.vifs) {
        if (v.name == rest[1]) vif = &v;
      }
      if (port == nullptr && vif == nullptr) {
        auto id = vifs_->ByName(rest[1]);
        block = id ? vifs_->BlockOf(*id) : nullptr;
        if (block == nullptr) return absl::NotFoundError("no interface " + rest[1]);
        // A template member: its own settings live in its template's `members` list.
        for (auto& t : GroupEntry(next, block->group).templates) {
          if (t.SameBlock(block->tmpl)) tmpl = &t;
        }
        if (tmpl == nullptr) return absl::InternalError("template of " + rest[1] + " not in config");
        config::TemplateMemberInfo m = config::TemplateMember(block->tmpl, *id - block->first);
        member.outer = m.outer;
        member.inner = m.inner;
        for (const auto& e : tmpl->members) {
          if (e.outer == m.outer && e.inner == m.inner) member = e;
        }
      }
    }
    std::optional<uint32_t> mtu;
    std::optional<bool> up;
    std::optional<config::ImpairmentConfig> impair;
    std::optional<uint32_t> new_group;
    for (size_t i = 2; i < rest.size(); ++i) {
      const std::string& attr = rest[i];
      if (attr == "up" || attr == "down") {
        up = attr == "up";
      } else if (attr == "mtu") {
        auto n = Number(rest, ++i, "mtu");
        if (!n.ok()) return n.status();
        mtu = *n;
      } else if (attr == "impair") {
        auto c = Impairment(rest, &i);
        if (!c.ok()) return c.status();
        impair = *c;
      } else if (attr == "group" && !by_group && i + 1 < rest.size()) {
        auto g = config::GroupId(config_, rest[++i]);
        if (!g) return absl::NotFoundError("no group " + rest[i]);
        new_group = *g;
      } else {
        return UsageError("link set: unexpected '" + attr + "'");
      }
    }
    uint64_t members = 0;
    if (by_group) {
      config::GroupConfig& g = GroupEntry(next, *gid);
      if (mtu) g.mtu = mtu;
      if (up) g.up = up;
      if (impair) g.impairment = impair;
      for (auto& p : next.ports) {
        if (p.group != *gid) continue;
        if (mtu) p.mtu = *mtu;
        if (up) p.up = *up;
      }
      for (auto& v : next.vifs) {
        if (v.group != *gid) continue;
        if (mtu) v.mtu.reset();
        if (up) v.up.reset();
        if (impair) v.impairment.reset();
      }
      for (auto& t : g.templates) {
        for (auto& m : t.members) {
          if (mtu) m.mtu.reset();
          if (up) m.up.reset();
          if (impair) m.impairment.reset();
        }
        std::erase_if(t.members, [](const config::MemberConfig& m) { return m.empty(); });
      }
      // Counted from records and blocks: no walk over template members.
      for (const auto& [id, r] : vifs_->records()) members += r.group == *gid;
      for (const auto& [first, b] : vifs_->blocks()) members += b.group == *gid ? b.count : 0;
    } else if (port != nullptr) {
      if (impair) {
        return absl::InvalidArgumentError("impair: a port's impairment comes from its group");
      }
      if (mtu) port->mtu = *mtu;
      if (up) port->up = *up;
      if (new_group) port->group = *new_group;
    } else if (tmpl != nullptr) {
      if (new_group) {
        return absl::InvalidArgumentError(
            "group: a template member is in its template's group; list the interface under vifs "
            "to give it another");
      }
      if (mtu && *mtu > ports_[block->port].mtu) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "mtu %u is above the mtu of the member's parent port", *mtu));
      }
      if (mtu) member.mtu = mtu;
      if (up) member.up = up;
      if (impair) member.impairment = impair;
      auto at = std::find_if(tmpl->members.begin(), tmpl->members.end(), [&](const auto& e) {
        return config::TemplateMemberIndex(*tmpl, e.outer, e.inner) >=
               config::TemplateMemberIndex(*tmpl, member.outer, member.inner);
      });
      if (at != tmpl->members.end() && at->outer == member.outer && at->inner == member.inner) {
        *at = member;
      } else {
        tmpl->members.insert(at, member);  // kept in member order, as the loader sorts them
      }
    } else {
      if (mtu) vif->mtu = mtu;
      if (up) vif->up = up;
      if (impair) vif->impairment = impair;
      if (new_group) vif->group = *new_group;
    }
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return by_group ? absl::StrFormat("%u interfaces\n", members) : std::string();
  }
  if ((verb == "add" || verb == "del") && rest.size() >= 3 && rest[0] == "group" &&
      rest[2] == "template") {
    auto gid = config::GroupId(config_, rest[1]);
    if (!gid) return absl::NotFoundError("no group " + rest[1]);
    config::TemplateConfig t;
    bool have_tags = false;
    bool last_v6 = false;  // `step` is the step of the address before it
    for (size_t i = 3; i < rest.size(); ++i) {
      const std::string& w = rest[i];
      if (w == "parent" && i + 1 < rest.size()) {
        t.parent = rest[++i];
      } else if (w == "vlan" || w == "outer" || w == "inner") {
        auto r = Range(rest, ++i, w.c_str());
        if (!r.ok()) return r.status();
        if (w == "inner") {
          t.inner = *r;
        } else {
          t.outer = *r;
          have_tags = true;
        }
      } else if (w == "address" && i + 1 < rest.size()) {
        last_v6 = rest[++i].find(':') != std::string::npos;
        if (last_v6) {
          auto a = config::ParseIp6Prefix(rest[i]);
          if (!a.ok()) return a.status();
          t.address6 = *a;
        } else {
          auto a = config::ParseIp4Prefix(rest[i]);
          if (!a.ok()) return a.status();
          t.address = *a;
        }
      } else if (w == "step" && last_v6) {
        if (++i >= rest.size()) return UsageError("step: missing value");
        auto n = config::ParseIp6Step(rest[i]);
        if (!n.ok()) {
          return absl::InvalidArgumentError("step: " + std::string(n.status().message()));
        }
        t.address6_step = *n;
      } else if (w == "step") {
        auto n = Number(rest, ++i, "step");
        if (!n.ok()) return n.status();
        t.address_step = *n;
      } else if (w == "mac" && i + 1 < rest.size()) {
        auto m = config::ParseMac(rest[++i]);
        if (!m.ok()) return m.status();
        t.mac = *m;
      } else if (w == "mac-step") {
        auto n = Number(rest, ++i, "mac-step");
        if (!n.ok()) return n.status();
        t.mac_step = *n;
      } else {
        return UsageError("link add group: unexpected '" + w + "'");
      }
    }
    if (verb == "del") {
      // Every template of the group, or those on parent P with exactly these tags.
      config::Config next = config_;
      config::GroupConfig& g = GroupEntry(next, *gid);
      uint64_t n = 0;
      std::vector<config::TemplateConfig> kept;
      for (const auto& e : g.templates) {
        bool match = rest.size() == 3 ||
                     (e.parent == t.parent && e.outer == t.outer && e.inner == t.inner);
        if (match) {
          n += e.size();
        } else {
          kept.push_back(e);
        }
      }
      if (n == 0) return absl::NotFoundError("group " + rest[1] + " has no such template");
      g.templates = kept;
      if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
      return absl::StrFormat("%u interfaces removed\n", n);
    }
    if (t.parent.empty() || !have_tags) {
      return UsageError("link add group G template needs parent P and vlan or outer/inner");
    }
    if (t.address && t.address_step == 0) t.address_step = ~config::PrefixMask(t.address->len) + 1;
    // The loader refuses a length of 0 before it looks at the step.
    if (t.address6 && t.address6_step == 0 && t.address6->len != 0) {
      t.address6_step = absl::uint128(1) << (128 - t.address6->len);
    }
    config::Config next = config_;
    GroupEntry(next, *gid).templates.push_back(t);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return absl::StrFormat("%u interfaces added\n", t.size());
  }
  if (verb == "add" && rest.size() >= 2 && rest[0] == "dev") {
    config::VifConfig v;
    v.name = rest[1];
    std::optional<uint32_t> g;
    for (size_t i = 2; i < rest.size(); ++i) {
      const std::string& w = rest[i];
      if (w == "parent" && i + 1 < rest.size()) {
        v.parent = rest[++i];
      } else if (w == "vlan" || w == "outer" || w == "inner") {
        auto n = Number(rest, ++i, w.c_str());
        if (!n.ok()) return n.status();
        (w == "inner" ? v.inner : v.outer) = uint16_t(*n);
      } else if (w == "mac" && i + 1 < rest.size()) {
        auto m = config::ParseMac(rest[++i]);
        if (!m.ok()) return m.status();
        v.mac = *m;
      } else if (w == "group" && i + 1 < rest.size()) {
        g = config::GroupId(config_, rest[++i]);
        if (!g) return absl::NotFoundError("no group " + rest[i]);
      } else {
        return UsageError("link add dev: unexpected '" + w + "'");
      }
    }
    int parent = PortByName(v.parent);
    if (parent < 0) return absl::NotFoundError("no port " + v.parent);
    v.group = g ? *g : vifs_->record(parent)->group;
    config::Config next = config_;
    next.vifs.push_back(v);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  if (verb == "del" && rest.size() == 2 && rest[0] == "dev") {
    config::Config next = config_;
    auto it = std::find_if(next.vifs.begin(), next.vifs.end(),
                           [&](const config::VifConfig& v) { return v.name == rest[1]; });
    if (it == next.vifs.end()) return absl::NotFoundError("no sub-interface " + rest[1] + " listed in vifs");
    next.vifs.erase(it);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError(kLinkUsage);
}

absl::StatusOr<std::string> Router::GroupCommand(const std::string& verb, const Args& rest,
                                                 bool json) {
  if (verb != "show" || !rest.empty()) return UsageError("group show");
  JsonWriter j;
  std::string text;
  j.BeginArray();
  for (const auto& g : config_.groups) {
    uint64_t ports = 0, members = 0;
    for (uint16_t id : port_ids_) ports += vifs_->record(id)->group == g.id;
    for (const auto& [id, r] : vifs_->records()) members += r.group == g.id;
    for (const auto& [first, b] : vifs_->blocks()) members += b.group == g.id ? b.count : 0;
    std::string name = config::GroupName(config_, g.id);
    std::string settings;
    if (g.mtu) absl::StrAppendFormat(&settings, " mtu %u", *g.mtu);
    if (g.up) absl::StrAppend(&settings, *g.up ? " up" : " down");
    if (g.impairment) absl::StrAppend(&settings, " impair ", ImpairText(&*g.impairment));
    j.BeginObject()
        .Field("id", g.id)
        .Field("name", name)
        .Field("ports", ports)
        .Field("interfaces", members)
        .Field("templates", uint64_t(g.templates.size()))
        .EndObject();
    absl::StrAppendFormat(&text, "%u %s (%u interfaces, %u ports)%s\n", g.id, name, members,
                          ports, settings);
  }
  j.EndArray();
  return json ? j.Take() + "\n" : text;
}

absl::StatusOr<std::string> Router::AddrCommand(const std::string& verb, const Args& rest,
                                                bool json) {
  if (verb == "show") {
    std::optional<uint32_t> only;
    if (rest.size() == 2 && rest[0] == "dev") {
      only = vifs_->ByName(rest[1]);
      if (!only) return absl::NotFoundError("no interface " + rest[1]);
    } else if (!rest.empty()) {
      return UsageError("addr show [dev D]");
    }
    JsonWriter j;
    std::string text;
    j.BeginArray();
    auto show = [&](uint32_t id) {
      std::string name = vifs_->Name(id);
      // "port" is the key older clients read; it names any interface.
      j.BeginObject().Field("port", name).Key("addresses").BeginArray();
      for (const auto& a : vifs_->Addresses(id)) {
        j.Value(PrefixText(a));
        absl::StrAppendFormat(&text, "%s inet %s\n", name, PrefixText(a));
      }
      for (const auto& a : Addresses6Of(id)) {
        std::string p = absl::StrFormat("%s/%u", config::FormatIp6(a.addr), a.len);
        j.Value(p);
        absl::StrAppendFormat(&text, "%s inet6 %s\n", name, p);
      }
      j.EndArray();
      if (config::Ip6Addr ll = LinkLocalOf(id); ll != config::Ip6Addr{}) {
        j.Field("link_local", config::FormatIp6(ll));
        absl::StrAppendFormat(&text, "%s inet6 %s/64 scope link\n", name, config::FormatIp6(ll));
      }
      j.EndObject();
      return true;
    };
    if (only) {
      show(*only);
    } else {
      vifs_->ForEach(show);
    }
    j.EndArray();
    return json ? j.Take() + "\n" : text;
  }
  if (verb == "add" || verb == "del") {
    if (rest.size() != 3 || rest[1] != "dev") return UsageError("addr add|del PREFIX dev D");
    if (rest[0].find(':') != std::string::npos) return Addr6Command(verb, rest);
    auto prefix = config::ParseIp4Prefix(rest[0]);
    if (!prefix.ok()) return prefix.status();
    config::Config next = config_;
    std::vector<config::Ip4Prefix>* addresses = nullptr;
    for (auto& p : next.ports) {
      if (p.name == rest[2]) addresses = &p.addresses;
    }
    for (auto& v : next.vifs) {
      if (v.name == rest[2]) addresses = &v.addresses;
    }
    if (addresses == nullptr) {
      if (auto id = vifs_->ByName(rest[2]); id && vifs_->BlockOf(*id) != nullptr) {
        return absl::FailedPreconditionError(
            rest[2] + " takes its address from its template; change the template");
      }
      return absl::NotFoundError("no interface " + rest[2]);
    }
    auto at = std::find(addresses->begin(), addresses->end(), *prefix);
    if (verb == "add") {
      if (at != addresses->end()) {
        return absl::AlreadyExistsError(PrefixText(*prefix) + " is already on " + rest[2]);
      }
      addresses->push_back(*prefix);
    } else {
      if (at == addresses->end()) {
        return absl::NotFoundError(PrefixText(*prefix) + " is not on " + rest[2]);
      }
      addresses->erase(at);
    }
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError("addr show | add | del");
}

absl::StatusOr<std::string> Router::RouteCommand(const std::string& verb, const Args& rest,
                                                 bool json) {
  if (verb == "show" && rest.empty()) return ShowRoutes(json);
  if (verb == "get" && rest.size() == 1 && rest[0].find(':') != std::string::npos) {
    auto addr = config::ParseIp6(rest[0].substr(0, rest[0].find('/')));
    if (!addr.ok()) return addr.status();
    return Route6Get(*addr, json);
  }
  if (verb == "get" && rest.size() == 1) {
    auto addr = config::ParseIp4(rest[0].substr(0, rest[0].find('/')));
    if (!addr.ok()) return addr.status();
    // Longest match over the routes control knows: the same answer the workers' FIB gives.
    std::optional<RouteEntry> found;
    auto consider = [&](const RouteEntry& r) {
      if (config::Contains(r.prefix, *addr) && (!found || r.prefix.len > found->prefix.len)) {
        found = r;
      }
    };
    for (const auto& r : routes_) consider(r);
    ForEachTemplateRoute(consider);
    const RouteEntry* best = found ? &*found : nullptr;
    if (best == nullptr) {
      return absl::NotFoundError("no route to " + config::FormatIp4(*addr));
    }
    std::string port = best->vif >= 0 ? vifs_->Name(best->vif) : "";
    if (json) {
      JsonWriter j;
      j.BeginObject()
          .Field("dst", config::FormatIp4(*addr))
          .Field("prefix", PrefixText(best->prefix))
          .Field("type", best->type)
          .Key("via");
      if (best->type == "forward") {
        j.Value(config::FormatIp4(best->via));
      } else {
        j.Null();
      }
      j.Key("port");
      if (best->vif >= 0) {
        j.Value(port);
      } else {
        j.Null();
      }
      return j.EndObject().Take() + "\n";
    }
    if (best->type == "forward") {
      return absl::StrFormat("%s via %s dev %s (route %s)\n", config::FormatIp4(*addr),
                             config::FormatIp4(best->via), port, PrefixText(best->prefix));
    }
    return absl::StrFormat("%s %s%s (route %s)\n", best->type, config::FormatIp4(*addr),
                           port.empty() ? "" : " dev " + port, PrefixText(best->prefix));
  }
  if ((verb == "add" || verb == "del") && !rest.empty() &&
      rest.back().find(':') != std::string::npos) {
    return Route6Command(verb, rest);
  }
  if (verb == "add") {
    config::RouteConfig r;
    std::string prefix_text;
    if (rest.size() == 3 && rest[1] == "via") {
      prefix_text = rest[0];
      auto via = config::ParseIp4(rest[2]);
      if (!via.ok()) return via.status();
      r.via = *via;
    } else if (rest.size() == 2 && (rest[0] == "blackhole" || rest[0] == "unreachable")) {
      prefix_text = rest[1];
      r.type = rest[0] == "blackhole" ? config::RouteType::kBlackhole
                                      : config::RouteType::kUnreachable;
    } else {
      return UsageError("route add PREFIX via ADDR | route add blackhole|unreachable PREFIX");
    }
    auto prefix = config::ParseIp4Prefix(prefix_text);
    if (!prefix.ok()) return prefix.status();
    r.prefix = *prefix;
    config::Config next = config_;
    for (const auto& e : next.routes) {
      if (e.prefix == r.prefix) {
        return absl::AlreadyExistsError("route " + PrefixText(r.prefix) + " exists");
      }
    }
    next.routes.push_back(r);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  if (verb == "del" && rest.size() == 1) {
    auto prefix = config::ParseIp4Prefix(rest[0]);
    if (!prefix.ok()) return prefix.status();
    config::Config next = config_;
    auto at = std::find_if(next.routes.begin(), next.routes.end(),
                           [&](const config::RouteConfig& e) { return e.prefix == *prefix; });
    if (at == next.routes.end()) {
      return absl::NotFoundError("no route " + PrefixText(*prefix) +
                                 " (connected routes go with their address: addr del)");
    }
    next.routes.erase(at);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError("route show | get ADDR | add | del PREFIX");
}

absl::StatusOr<std::string> Router::NeighCommand(const std::string& verb, const Args& rest,
                                                 bool json) {
  if (verb == "show" && rest.empty()) return ShowNeighbours(json);
  bool add = verb == "add" && (rest.size() == 3 || rest.size() == 5) && rest[1] == "lladdr" &&
             (rest.size() == 3 || rest[3] == "dev");
  bool del = verb == "del" && (rest.size() == 1 || (rest.size() == 3 && rest[1] == "dev"));
  if ((add || del) && rest[0].find(':') != std::string::npos) return Neigh6Command(verb, rest);
  if (add) {
    config::NeighbourConfig n;
    auto ip = config::ParseIp4(rest[0]);
    if (!ip.ok()) return ip.status();
    auto mac = config::ParseMac(rest[2]);
    if (!mac.ok()) return mac.status();
    n.ip = *ip;
    n.mac = *mac;
    config::Config next = config_;
    if (rest.size() == 5) {
      n.port = rest[4];
    } else {
      // As the YAML does: the port is the one whose subnet holds the address.
      for (const auto& p : next.ports) {
        for (const auto& a : p.addresses) {
          if (config::Contains(a, n.ip)) n.port = p.name;
        }
      }
      if (n.port.empty()) {
        return absl::InvalidArgumentError(config::FormatIp4(n.ip) +
                                          " is not inside any port's subnet; name one with dev");
      }
    }
    auto at = std::find_if(next.neighbours.begin(), next.neighbours.end(),
                           [&](const config::NeighbourConfig& e) { return e.ip == n.ip; });
    if (at != next.neighbours.end()) {
      *at = n;  // as `ip neigh replace`: a static entry is corrected in place
    } else {
      next.neighbours.push_back(n);
    }
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  if (del) {
    auto ip = config::ParseIp4(rest[0]);
    if (!ip.ok()) return ip.status();
    config::Config next = config_;
    auto at = std::find_if(next.neighbours.begin(), next.neighbours.end(),
                           [&](const config::NeighbourConfig& e) { return e.ip == *ip; });
    if (at == next.neighbours.end()) {
      return absl::NotFoundError("no static neighbour " + config::FormatIp4(*ip));
    }
    next.neighbours.erase(at);
    if (absl::Status s = ApplyCandidate(next); !s.ok()) return s;
    return std::string();
  }
  return UsageError("neigh show | add ADDR lladdr MAC [dev D] | del ADDR [dev D]");
}

}  // namespace vr::control
