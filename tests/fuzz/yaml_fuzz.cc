// Fuzzes the YAML loader: any text is a config or an error at FILE:LINE:COL, never a crash, hang
// or undefined behaviour; and a config it accepts must load back equal from what `config save` writes.
#include <errno.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "config/config.h"

namespace {

// The name the text is parsed under: its directory is where a relative `group_file` is looked
// for, so `group_file: group` reads the repository's config/group.
const std::string kFile = VR_SOURCE_DIR "/config/fuzz.yaml";
const std::string kReadable = VR_SOURCE_DIR "/config/";

[[noreturn]] void Fail(absl::string_view what, absl::string_view detail, absl::string_view text) {
  fprintf(stderr, "yaml_fuzz: %.*s\n%.*s\n--- input ---\n%.*s\n", int(what.size()), what.data(),
          int(detail.size()), detail.data(), int(text.size()), text.data());
  abort();
}

// FILE:LINE:COL: message, LINE and COL numbers from 1.
bool Positioned(absl::string_view message) {
  if (!absl::StartsWith(message, kFile + ":")) return false;
  std::vector<absl::string_view> parts =
      absl::StrSplit(message.substr(kFile.size() + 1), absl::MaxSplits(':', 2));
  int line, col;
  return parts.size() == 3 && absl::SimpleAtoi(parts[0], &line) && line >= 1 &&
         absl::SimpleAtoi(parts[1], &col) && col >= 1;
}

}  // namespace

// The loader opens whatever `group_file:` names. The link sends its fopen here (meson: --wrap),
// so that an input naming /dev/zero, a FIFO or /dev/stdin cannot stall the run: only files
// under config/ open.
extern "C" FILE* __real_fopen(const char* path, const char* mode);
extern "C" FILE* __wrap_fopen(const char* path, const char* mode) {
  if (strncmp(path, kReadable.c_str(), kReadable.size()) != 0 || strstr(path, "/..") != nullptr) {
    errno = EACCES;
    return nullptr;
  }
  return __real_fopen(path, mode);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<vr::config::Config> c = vr::config::ParseConfig(text, kFile);
  if (!c.ok()) {
    // docs/config.md: every error names the file, line and column.
    if (!Positioned(c.status().message())) {
      Fail("an error without FILE:LINE:COL", c.status().message(), {text.data(), text.size()});
    }
    return 0;
  }
  // config/config.h: ParseConfig(FormatConfig(c)) == c for any config the loader accepts.
  std::string saved = vr::config::FormatConfig(*c);
  absl::StatusOr<vr::config::Config> again = vr::config::ParseConfig(saved, kFile);
  absl::string_view input(text.data(), text.size());
  if (!again.ok()) {
    Fail("`config save` wrote what the loader refuses", again.status().message(), input);
  }
  if (!(*again == *c)) Fail("`config save` wrote another config", saved, input);
  return 0;
}
