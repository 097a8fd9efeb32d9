// Registers vrouter's rte_log type once; its level defaults to INFO so operators see link and
// neighbour events without asking.
#include "drivers/log.h"

namespace vr {

int LogType() {
  static int type = [] {
    int t = rte_log_register_type_and_pick_level("vrouter", RTE_LOG_INFO);
    return t < 0 ? RTE_LOGTYPE_USER1 : t;
  }();
  return type;
}

}  // namespace vr
