// A small streaming JSON writer for `vrouterctl -j`: enough for objects, arrays, strings and
// numbers, with commas and escaping handled so callers cannot produce invalid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vr::control {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { Sep(); out_ += '{'; first_.push_back(true); return *this; }
  JsonWriter& EndObject() { out_ += '}'; first_.pop_back(); return *this; }
  JsonWriter& BeginArray() { Sep(); out_ += '['; first_.push_back(true); return *this; }
  JsonWriter& EndArray() { out_ += ']'; first_.pop_back(); return *this; }
  JsonWriter& Key(std::string_view k) {
    Sep();
    String(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& Value(std::string_view s) { Sep(); String(s); return *this; }
  JsonWriter& Value(const char* s) { return Value(std::string_view(s)); }
  JsonWriter& Value(uint64_t v) { Sep(); absl::StrAppend(&out_, v); return *this; }
  JsonWriter& Value(int64_t v) { Sep(); absl::StrAppend(&out_, v); return *this; }
  JsonWriter& Value(uint32_t v) { return Value(uint64_t{v}); }
  JsonWriter& Value(int v) { return Value(int64_t{v}); }
  JsonWriter& Value(bool b) { Sep(); out_ += b ? "true" : "false"; return *this; }
  JsonWriter& Null() { Sep(); out_ += "null"; return *this; }
  template <typename T>
  JsonWriter& Field(std::string_view k, T v) { Key(k); return Value(v); }

  std::string Take() { return std::move(out_); }

 private:
  void Sep() {
    if (after_key_) { after_key_ = false; return; }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  void String(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            absl::StrAppendFormat(&out_, "\\u%04x", c);
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace vr::control
