// Internal to config/: the error format shared by the YAML loader and the group file reader, and
// reading a whole file. Not part of the library's interface (that is config/config.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config.h"

namespace vr::config::internal {

// The lines of `text`, split at '\n' (a '\r' before it is kept; ErrorAt drops it).
std::vector<std::string_view> SplitLines(std::string_view text);

// InvalidArgument "FILE:LINE:COL: message", then line `loc.line` of `lines` and a caret under the
// column. Tabs before the column are copied so that the caret lines up whatever the tab width.
absl::Status ErrorAt(const Location& loc, const std::vector<std::string_view>& lines,
                     std::string_view message);

// The whole file, or "PATH: cannot open: <reason>" / "PATH: cannot read: <reason>".
absl::StatusOr<std::string> ReadFile(const std::string& path);

// "the name of a group: 1 to 32 ..." as it appears after "expected" in messages.
inline constexpr std::string_view kGroupNameForm =
    "a group name of 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting with a digit";

// Adds `g` to `table` unless the same id and name are there already. An id with another name, or
// a name with another id, is refused: the message names the earlier definition, and *on_name
// tells whether the name (true) or the id (false) is the part that clashes.
absl::Status AddGroup(std::vector<GroupConfig>* table, const GroupConfig& g, bool* on_name);

// Reads a group file's text into `table` (see AddGroup); errors point into the file.
absl::Status MergeGroupFile(std::string_view text, std::string_view file,
                            std::vector<GroupConfig>* table);

}  // namespace vr::config::internal
