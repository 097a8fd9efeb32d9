// Logging through DPDK's rte_log, so vrouterd and the PMDs share one stream, one format and one
// --log-level switch. Never used per packet.
#pragma once

#include <rte_log.h>

#include "absl/strings/str_format.h"

namespace vr {

int LogType();  // the "vrouter" rte_log type, registered on first use

template <typename... Args>
void Log(uint32_t level, const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  std::string line = absl::StrFormat(fmt, args...);
  rte_log(level, LogType(), "vrouter: %s\n", line.c_str());
}

#define VR_LOG_INFO(...) ::vr::Log(RTE_LOG_INFO, __VA_ARGS__)
#define VR_LOG_NOTICE(...) ::vr::Log(RTE_LOG_NOTICE, __VA_ARGS__)
#define VR_LOG_WARNING(...) ::vr::Log(RTE_LOG_WARNING, __VA_ARGS__)
#define VR_LOG_ERR(...) ::vr::Log(RTE_LOG_ERR, __VA_ARGS__)

}  // namespace vr
