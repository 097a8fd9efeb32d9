// Live reconfiguration: diffs a new config against the running one and applies only the
// difference, so every route, address and neighbour that did not change keeps forwarding.
#include <malloc.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <atomic>
#include <map>
#include <set>
#include <system_error>
#include <thread>

#include "absl/strings/str_format.h"
#include "control/router.h"
#include "drivers/log.h"

namespace vr::control {

using dataplane::NhKind;

namespace {

uint64_t Key(const config::Ip4Prefix& p) { return (uint64_t{p.addr} << 8) | p.len; }

bool SameRoute(const config::RouteConfig& a, const config::RouteConfig& b) {
  return a.prefix == b.prefix && a.type == b.type && a.via == b.via;
}

bool SameNeighbour(const config::NeighbourConfig& a, const config::NeighbourConfig& b) {
  return a.ip == b.ip && a.mac == b.mac && a.port == b.port;
}

std::string Where(const config::Location& loc) {
  if (loc.file.empty()) return "";
  return absl::StrFormat("%s:%d:%d: ", loc.file, loc.line, loc.column);
}

}  // namespace

int Router::PortByName(const std::string& name) const {
  for (uint16_t id : port_ids_) {
    if (ports_[id].port->name() == name) return id;
  }
  return -1;
}

absl::Status Router::CheckRestartOnly(const config::Config& next) const {
  const config::Config& cur = config_;
  auto restart = [](const std::string& what) {
    return absl::FailedPreconditionError(what + " changes only with a restart of vrouterd");
  };
  if (next.dataplane.workers != cur.dataplane.workers || next.dataplane.nbufs != cur.dataplane.nbufs) {
    return restart("dataplane (workers, nbufs)");
  }
  if (next.icmp.rate_per_second != cur.icmp.rate_per_second || next.icmp.burst != cur.icmp.burst) {
    return restart("icmp (the workers' token buckets)");
  }
  if (next.control.group != cur.control.group) return restart("control.group");
  if (next.knet != cur.knet) return restart("knet (the kernel interface and its route mirror)");
  // An interface that goes with IPv6 addresses would leave its connected IPv6 routes behind:
  // take the addresses off first (one reload), then the interface (another), or restart.
  auto v6_of = [](const config::Config& c) {
    std::map<std::string, std::pair<std::vector<config::Ip6Prefix>,
                                    std::optional<config::Ip6Addr>>> m;
    for (const auto& p : c.ports) m[p.name] = {p.addresses6, p.link_local};
    for (const auto& v : c.vifs) m[v.name] = {v.addresses6, v.link_local};
    return m;
  };
  auto cur6 = v6_of(cur), next6 = v6_of(next);
  for (const auto& [name, v6] : cur6) {
    if (next6.count(name) == 0 && !v6.first.empty()) {
      return restart("removing " + name + " with its IPv6 addresses");
    }
  }
  if (next.metrics.listen != cur.metrics.listen) return restart("metrics.listen");
  if ((next.metrics.interfaces == 0) != (cur.metrics.interfaces == 0)) {
    return restart("metrics.interfaces (serving /metrics/interfaces or not)");
  }
  for (const auto& np : next.ports) {
    const config::PortConfig* op = nullptr;
    for (const auto& p : cur.ports) {
      if (p.name == np.name) op = &p;
    }
    // Virtual devices come and go at run time; a PCI device is bound to the EAL at start.
    if (op == nullptr && !IsVdev(np.device)) {
      return restart(Where(np.loc) + "adding PCI port " + np.name);
    }
    if (op == nullptr) continue;
    if (op->device != np.device) return restart(Where(np.loc) + "port " + np.name + " device");
    if (op->mac != np.mac) return restart(Where(np.loc) + "port " + np.name + " mac");
  }
  for (const auto& op : cur.ports) {
    bool kept = false;
    for (const auto& np : next.ports) kept |= np.name == op.name;
    if (!kept && !IsVdev(op.device)) return restart("removing PCI port " + op.name);
  }
  return absl::OkStatus();
}

bool Router::IsVdev(const std::string& device) {
  return device.rfind("net_", 0) == 0 || device.rfind("eth_", 0) == 0;
}

absl::Status Router::AddPort(const config::PortConfig& pc) {
  // The EAL learns of the device now, as if it had been given with --vdev at start.
  if (int rc = rte_dev_probe(pc.device.c_str()); rc != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%sport %s: cannot attach device %s: %s", Where(pc.loc), pc.name, pc.device,
        rte_strerror(-rc)));
  }
  std::unique_ptr<dataplane::PortTable> views = fib_->CopyPorts();
  auto id = OpenPort(pc, views.get());
  if (!id.ok()) {
    rte_eal_hotplug_remove("vdev", pc.device.substr(0, pc.device.find(',')).c_str());
    return id.status();
  }
  if (absl::Status s = ports_[*id].port->Start(); !s.ok()) {
    port_ids_.erase(std::find(port_ids_.begin(), port_ids_.end(), *id));
    ports_[*id] = PortState();
    rte_eal_hotplug_remove("vdev", pc.device.substr(0, pc.device.find(',')).c_str());
    return s;
  }
  if (!pc.up) rte_eth_dev_set_link_down(*id);
  // Queues are set up and started before any worker polls them: publishing the table is what
  // hands the port to the workers.
  fib_->PublishPorts(std::move(views), [this] { Synchronize(); });
  ports_[*id].link_up = ports_[*id].port->LinkUp();
  VR_LOG_NOTICE("port %s (%s): added, %s", pc.name, pc.device,
                ports_[*id].port->LinkDescription());
  return absl::OkStatus();
}

absl::Status Router::RemovePort(uint16_t id) {
  PortState& ps = ports_[id];
  std::string name = ps.port->name(), device = ps.port->devargs();
  for (const auto& a : vifs_->Addresses(id)) {
    if (absl::Status s = RemoveConnected(id, a); !s.ok()) return s;
  }
  vifs_->SetAddress(id, {});
  neighbours_->RemoveOffSubnet();  // every entry on the port: it has no subnet left
  // Unpolled in one table; after the grace period no worker touches the device or its vif.
  std::unique_ptr<dataplane::PortTable> views = fib_->CopyPorts();
  views->Unpoll(id);
  fib_->PublishPorts(std::move(views), [this] { Synchronize(); });
  vifs_->ReleaseVif(id);
  port_ids_.erase(std::find(port_ids_.begin(), port_ids_.end(), id));
  ps = PortState();  // stops and closes the device
  rte_eal_hotplug_remove("vdev", device.substr(0, device.find(',')).c_str());
  VR_LOG_NOTICE("port %s (%s): removed", name, device);
  return absl::OkStatus();
}

absl::Status Router::RemoveConnected(uint32_t vif, const config::Ip4Prefix& addr) {
  config::Ip4Prefix net = config::NetworkOf(addr);
  uint32_t bcast = addr.len < 31 ? (net.addr | ~config::PrefixMask(addr.len)) : 0;
  std::vector<uint32_t> freed;
  for (auto it = routes_.begin(); it != routes_.end();) {
    bool mine = it->vif == int(vif) &&
                ((it->type == "connected" && it->prefix == net) ||
                 (it->type == "local" && it->prefix == config::Ip4Prefix{addr.addr, 32}) ||
                 (it->type == "broadcast" && addr.len < 31 &&
                  it->prefix == config::Ip4Prefix{bcast, 32}));
    if (!mine) {
      ++it;
      continue;
    }
    (void)fib_->Delete(it->prefix.addr, it->prefix.len);
    ConfigReleases(it->prefix);
    if (it->type == "connected") freed.push_back(it->nh);
    it = routes_.erase(it);
  }
  // The connected next hop may be in flight in a worker until a grace period has passed.
  Synchronize();
  for (uint32_t nh : freed) {
    for (auto& w : workers_) __atomic_store_n(&w->used_flags()[nh], 0, __ATOMIC_RELAXED);
    nexthops_->Free(nh);
  }
  return absl::OkStatus();
}

absl::Status Router::DeleteUserRoute(const config::Ip4Prefix& prefix) {
  for (auto it = routes_.begin(); it != routes_.end(); ++it) {
    if (!(it->prefix == prefix) || !IsUserRoute(*it)) continue;
    if (absl::Status s = fib_->Delete(prefix.addr, prefix.len); !s.ok()) return s;
    if (it->type == "forward") neighbours_->ReleaseGateway(it->via);
    routes_.erase(it);
    ConfigReleases(prefix);
    return absl::OkStatus();
  }
  return absl::NotFoundError("no route " + config::FormatIp4(prefix.addr) + "/" +
                             std::to_string(prefix.len));
}

bool Router::IsUserRoute(const RouteEntry& e) {
  return e.type == "forward" || e.type == "blackhole" || e.type == "unreachable";
}

absl::Status Router::Apply(const config::Config& next_in) {
  config::Config next = next_in;
  next.control.socket = config_.control.socket;  // fixed at start; the flag may override it
  if (absl::Status s = CheckRestartOnly(next); !s.ok()) return s;

  std::map<uint64_t, const config::RouteConfig*> old_routes, new_routes;
  for (const auto& r : config_.routes) old_routes[Key(r.prefix)] = &r;
  for (const auto& r : next.routes) new_routes[Key(r.prefix)] = &r;
  std::map<uint32_t, const config::NeighbourConfig*> old_neigh, new_neigh;
  for (const auto& n : config_.neighbours) old_neigh[n.ip] = &n;
  for (const auto& n : next.neighbours) new_neigh[n.ip] = &n;
  size_t changes = 0;

  // 0. New ports first: attaching a device is what most often fails (an interface that is not
  //    there), and failing here changes nothing. Their addresses come in step 3 like any other.
  std::vector<std::string> attached;
  for (const auto& np : next.ports) {
    if (PortByName(np.name) >= 0) continue;
    config::PortConfig bare = np;
    bare.addresses.clear();
    if (absl::Status s = AddPort(bare); !s.ok()) {
      for (const auto& name : attached) (void)RemovePort(PortByName(name));
      return s;
    }
    attached.push_back(np.name);
    ++changes;
  }
  RemoveRouterAdverts(next);

  // 1. Routes that are gone. Changed ones are replaced in place below, never deleted first: a
  //    packet to them always finds the old next hop or the new one. One pass over routes_ for
  //    them all: DeleteUserRoute's search per route made a reload that drops tens of thousands
  //    of routes quadratic (seconds of a stalled control lcore).
  std::set<uint64_t> gone;
  for (const auto& [key, r] : old_routes) {
    if (new_routes.count(key) == 0) gone.insert(key);
  }
  if (!gone.empty()) {
    absl::Status failed;
    std::vector<config::Ip4Prefix> released;
    std::erase_if(routes_, [&](const RouteEntry& e) {
      if (!failed.ok() || !IsUserRoute(e) || gone.count(Key(e.prefix)) == 0) return false;
      failed = fib_->Delete(e.prefix.addr, e.prefix.len);
      if (!failed.ok()) return false;
      if (e.type == "forward") neighbours_->ReleaseGateway(e.via);
      released.push_back(e.prefix);
      return true;
    });
    // Kernel routes the config shadowed take their prefixes, once routes_ is whole again.
    for (const auto& p : released) ConfigReleases(p);
    changes += released.size();
    if (!failed.ok()) return failed;
  }
  // 2. Static neighbours that are gone or changed.
  for (const auto& [ip, n] : old_neigh) {
    auto it = new_neigh.find(ip);
    if (it != new_neigh.end() && SameNeighbour(*n, *it->second)) continue;
    neighbours_->RemoveStatic(ip);
    ++changes;
  }
  // Ports that are gone (new ones were attached before anything else changed).
  for (const auto& op : config_.ports) {
    bool kept = false;
    for (const auto& np : next.ports) kept |= np.name == op.name;
    if (kept) continue;
    if (absl::Status s = RemovePort(PortByName(op.name)); !s.ok()) return s;
    ++changes;
  }
  // 3. Sub-interfaces that are gone, first: they may hold tags or addresses new ones want.
  if (absl::Status s = ApplyVifs(next, &changes); !s.ok()) return s;
  // 4. Ports: MTU, admin state, group and addresses. Each setting is one store workers see at
  //    once (a stamped word of the port's vif).
  bool addresses_removed = false;
  for (const auto& np : next.ports) {
    int id = PortByName(np.name);
    PortState& ps = ports_[id];
    if (ps.mtu != np.mtu || ps.up != np.up) {
      if (absl::Status s = vifs_->SetOwn(id, {np.mtu, np.up, std::nullopt}); !s.ok()) return s;
    }
    if (ps.mtu != np.mtu) {
      if (int rc = rte_eth_dev_set_mtu(id, np.mtu); rc != 0 && rc != -ENOTSUP) {
        VR_LOG_WARNING("port %s: cannot set device MTU %u: %s", np.name, np.mtu,
                       rte_strerror(-rc));
      }
      VR_LOG_NOTICE("port %s: mtu %u -> %u", np.name, ps.mtu, np.mtu);
      ps.mtu = np.mtu;
      ++changes;
    }
    if (ps.up != np.up) {
      // The peer should see it too where the device can say so (TAP, NICs); af_packet cannot.
      int rc = np.up ? rte_eth_dev_set_link_up(id) : rte_eth_dev_set_link_down(id);
      if (rc != 0 && rc != -ENOTSUP) {
        VR_LOG_WARNING("port %s: cannot set the link %s: %s", np.name, np.up ? "up" : "down",
                       rte_strerror(-rc));
      }
      VR_LOG_NOTICE("port %s: admin %s", np.name, np.up ? "up" : "down");
      ps.up = np.up;
      ++changes;
    }
    if (vifs_->record(id)->group != np.group) {
      if (absl::Status s = vifs_->MoveToGroup(id, np.group); !s.ok()) return s;
      ++changes;
    }
    std::vector<config::Ip4Prefix> old = vifs_->Addresses(id);
    if (old == np.addresses) continue;
    for (const auto& a : old) {
      if (std::find(np.addresses.begin(), np.addresses.end(), a) != np.addresses.end()) continue;
      if (absl::Status s = RemoveConnected(id, a); !s.ok()) return s;
      addresses_removed = true;
      ++changes;
    }
    vifs_->SetAddress(id, np.addresses);
    for (const auto& a : np.addresses) {
      if (std::find(old.begin(), old.end(), a) != old.end()) continue;
      if (absl::Status s = AddConnected(id, a); !s.ok()) return s;
      ++changes;
    }
  }
  if (addresses_removed) neighbours_->RemoveOffSubnet();
  // 5. Static neighbours that are new or changed.
  for (const auto& [ip, n] : new_neigh) {
    auto it = old_neigh.find(ip);
    if (it != old_neigh.end() && SameNeighbour(*n, *it->second)) continue;
    rte_ether_addr mac;
    memcpy(mac.addr_bytes, n->mac.data(), 6);
    auto vif = vifs_->ByName(n->port);
    if (!vif) return absl::NotFoundError("neighbour on unknown interface " + n->port);
    if (absl::Status s = neighbours_->AddStatic(ip, *vif, mac); !s.ok()) return s;
  }
  // 6. Routes that are new or changed: the FIB entry is overwritten, then the old gateway let go.
  for (const auto& [key, r] : new_routes) {
    auto it = old_routes.find(key);
    if (it != old_routes.end() && SameRoute(*r, *it->second)) continue;
    std::optional<RouteEntry> old;
    if (it != old_routes.end()) {
      for (auto e = routes_.begin(); e != routes_.end(); ++e) {
        if (e->prefix == r->prefix && IsUserRoute(*e)) {
          old = *e;
          routes_.erase(e);
          break;
        }
      }
    }
    if (absl::Status s = AddRoute(*r); !s.ok()) return s;
    if (old && old->type == "forward") neighbours_->ReleaseGateway(old->via);
    ++changes;
  }
  if (absl::Status s = ApplyIpv6(next, &changes); !s.ok()) return s;
  neighbours_->set_arp(next.arp);
  ndp_->set_nd(next.arp);
  config_ = next;
  VR_LOG_NOTICE("configuration applied: %zu changes", changes);
  // Interfaces that came get their link-local address; those that went take theirs along.
  for (const auto& [id, r] : vifs_->records()) {
    if (!vif6_.contains(id)) (void)SetupVif6(id, {}, std::nullopt);
  }
  for (auto it = vif6_.begin(); it != vif6_.end();) {
    if (vifs_->record(it->first) == nullptr) {
      vif6_.erase(it++);
    } else {
      ++it;
    }
  }
  ApplyRouterAdverts(next);
  RetryKernelRoutes();
  return SyncKnet();
}

absl::StatusOr<config::Config> Router::ParseConfigFile() {
  if (!workers_running_) return config::LoadConfigFile(config_path_);
  // A large file takes seconds (about 20 us and 2.6 KB a route entry, most of it yaml-cpp's).
  // Parsing is pure, so it runs on a thread of its own while this lcore goes on answering ARP
  // and NDP, draining OutQ and serving knet: with the lcore held for the whole parse, hosts
  // lost the router's MAC (their probes unanswered) and stopped sending to it. The control
  // socket's clients wait, as for any command; only Apply, after, changes anything.
  absl::StatusOr<config::Config> next = absl::UnknownError("not parsed");
  std::atomic<bool> done{false};
  std::thread parser;
  try {
    parser = std::thread([&] {
      next = config::LoadConfigFile(config_path_);
      done.store(true, std::memory_order_release);
    });
  } catch (const std::system_error&) {
    return config::LoadConfigFile(config_path_);  // no thread to be had: parse here
  }
  while (!done.load(std::memory_order_acquire)) {
    if (ServeDataplane() == 0) rte_delay_us_sleep(500);
  }
  parser.join();
  return next;
}

absl::Status Router::Reload() {
  absl::Status s = [&] {
    auto next = ParseConfigFile();
    if (!next.ok()) return next.status();
    return Apply(*next);
  }();
  if (s.ok()) {
    ++reloads_ok_;
  } else {
    ++reloads_failed_;
  }
  // Parsing takes about 2.7 KB per YAML entry (yaml-cpp's tree), all freed by now; without this
  // the heap kept it: a refused file of a million routes left vrouterd 2.6 GB larger for good.
  malloc_trim(0);
  return s;
}

}  // namespace vr::control
