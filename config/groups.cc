// Interface group names: the iproute2-format group file, the table the loader merges it into, and
// the lookups the CLI uses. Also the error format and file reading shared with config/loader.cc.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/config.h"
#include "config/diagnostic.h"

namespace vr::config {
namespace internal {

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t nl; (nl = text.find('\n')) != std::string_view::npos; text.remove_prefix(nl + 1)) {
    lines.push_back(text.substr(0, nl));
  }
  lines.push_back(text);
  return lines;
}

absl::Status ErrorAt(const Location& loc, const std::vector<std::string_view>& lines,
                     std::string_view message) {
  std::string_view line =
      loc.line >= 1 && static_cast<size_t>(loc.line) <= lines.size() ? lines[loc.line - 1] : "";
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string pad;
  for (size_t i = 0; i + 1 < static_cast<size_t>(loc.column); ++i) {
    pad += i < line.size() && line[i] == '\t' ? '\t' : ' ';
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s:%d:%d: %s\n%s\n%s^", loc.file, loc.line, loc.column, message, line, pad));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  std::string text;
  char buf[65536];
  while (size_t n = std::fread(buf, 1, sizeof(buf), f.get())) text.append(buf, n);
  if (std::ferror(f.get())) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot read"));
  return text;
}

namespace {

std::string Origin(const GroupConfig& g) {
  if (g.source == GroupSource::kBuiltin) return "built in";
  return absl::StrFormat("%s:%d", g.loc.file, g.loc.line);
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

absl::Status AddGroup(std::vector<GroupConfig>* table, const GroupConfig& g, bool* on_name) {
  for (const GroupConfig& t : *table) {
    if (t.id == g.id && t.name == g.name) return absl::OkStatus();
  }
  for (const GroupConfig& t : *table) {
    if (t.id == g.id) {
      *on_name = false;
      return absl::InvalidArgumentError(absl::StrFormat(
          "group %u is already named '%s' (%s); a group has one name", g.id, t.name, Origin(t)));
    }
  }
  for (const GroupConfig& t : *table) {
    if (t.name == g.name) {
      *on_name = true;
      return absl::InvalidArgumentError(absl::StrFormat(
          "group name '%s' already means group %u (%s)", g.name, t.id, Origin(t)));
    }
  }
  table->push_back(g);
  return absl::OkStatus();
}

// Each line as iproute2 reads it (lib/rt_names.c): leading blanks, then '#' for a comment, or an
// id, blanks and a name. iproute2 ignores whatever follows the name; here only a comment may.
absl::Status MergeGroupFile(std::string_view text, std::string_view file,
                            std::vector<GroupConfig>* table) {
  std::vector<std::string_view> lines = SplitLines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view line = lines[n];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto error = [&](size_t col, std::string_view message) {
      return ErrorAt({std::string(file), static_cast<int>(n + 1), static_cast<int>(col + 1)},
                     lines, message);
    };
    auto skip_blanks = [&](size_t i) {
      while (i < line.size() && IsBlank(line[i])) ++i;
      return i;
    };
    auto word_end = [&](size_t i) {
      while (i < line.size() && !IsBlank(line[i])) ++i;
      return i;
    };
    size_t id_at = skip_blanks(0);
    if (id_at == line.size() || line[id_at] == '#') continue;
    size_t id_end = word_end(id_at);
    absl::StatusOr<uint32_t> id = ParseGroupId(line.substr(id_at, id_end - id_at));
    if (!id.ok()) return error(id_at, std::string(id.status().message()));
    size_t name_at = skip_blanks(id_end);
    if (name_at == line.size() || line[name_at] == '#') {
      return error(name_at, "expected a group name after the id, got nothing");
    }
    size_t name_end = word_end(name_at);
    std::string_view name = line.substr(name_at, name_end - name_at);
    if (!IsGroupName(name)) {
      return error(name_at,
                   absl::StrFormat("expected %s, got '%s'", internal::kGroupNameForm, name));
    }
    size_t rest = skip_blanks(name_end);
    if (rest < line.size() && line[rest] != '#') {
      return error(rest, absl::StrFormat("unexpected '%s' after the group name; a line is \"ID "
                                         "NAME\", optionally followed by a # comment",
                                         line.substr(rest, word_end(rest) - rest)));
    }
    GroupConfig g{*id, std::string(name),
                  Location{std::string(file), static_cast<int>(n + 1), static_cast<int>(id_at + 1)},
                  GroupSource::kFile};
    bool on_name = false;
    if (absl::Status s = AddGroup(table, g, &on_name); !s.ok()) {
      return error(on_name ? name_at : id_at, std::string(s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<std::vector<GroupConfig>> ParseGroupFile(std::string_view text,
                                                        std::string_view file) {
  std::vector<GroupConfig> groups;
  if (absl::Status s = internal::MergeGroupFile(text, file, &groups); !s.ok()) return s;
  return groups;
}

absl::StatusOr<std::vector<GroupConfig>> LoadGroupFile(const std::string& path) {
  absl::StatusOr<std::string> text = internal::ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseGroupFile(*text, path);
}

std::optional<uint32_t> GroupId(const Config& c, std::string_view name_or_id) {
  if (absl::StatusOr<uint32_t> id = ParseGroupId(name_or_id); id.ok()) return *id;
  for (const GroupConfig& g : c.groups) {
    if (!g.name.empty() && g.name == name_or_id) return g.id;
  }
  return std::nullopt;
}

std::string GroupName(const Config& c, uint32_t id) {
  // A group listed for its settings only has no name.
  for (const GroupConfig& g : c.groups) {
    if (g.id == id && !g.name.empty()) return g.name;
  }
  return std::to_string(id);
}

}  // namespace vr::config
