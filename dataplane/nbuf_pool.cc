// Creates the nbuf pool and numbers every buffer once, so an index survives any memory layout
// (several hugepage chunks, or --no-huge) where pointer arithmetic would not.
#include "dataplane/nbuf_pool.h"

#include <rte_errno.h>

#include "absl/strings/str_format.h"
#include "dataplane/xq_ring.h"

namespace vr::dataplane {

absl::StatusOr<std::unique_ptr<NbufPool>> NbufPool::Create(uint32_t count, int socket_id) {
  if (count == 0 || count > kXqParamMask + 1) {
    return absl::InvalidArgumentError(absl::StrFormat("nbuf pool size %u out of range", count));
  }
  // A whole cache line of private area keeps every packet's data cache-line aligned.
  uint16_t priv = RTE_ALIGN(sizeof(NbufMeta), RTE_CACHE_LINE_SIZE);
  // Names are global to the EAL; tests create several pools in one process.
  static int instance = 0;
  std::string name = absl::StrFormat("vr_nbufs_%d", instance++);
  rte_mempool* mp =
      rte_pktmbuf_pool_create(name.c_str(), count, 256, priv, kNbufDataRoom, socket_id);
  if (mp == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cannot create the nbuf pool of %u buffers: %s", count, rte_strerror(rte_errno)));
  }
  auto pool = std::unique_ptr<NbufPool>(new NbufPool(mp, count));
  pool->by_index_.reserve(count);
  rte_mempool_obj_iter(
      mp,
      [](rte_mempool*, void* arg, void* obj, unsigned) {
        auto* self = static_cast<NbufPool*>(arg);
        auto* m = static_cast<rte_mbuf*>(obj);
        Meta(m)->index = self->by_index_.size();
        self->by_index_.push_back(m);
      },
      pool.get());
  return pool;
}

NbufPool::~NbufPool() { rte_mempool_free(pool_); }

}  // namespace vr::dataplane
