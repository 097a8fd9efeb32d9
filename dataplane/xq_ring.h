// InQ/OutQ: the single-producer single-consumer rings of 32-bit entries between a worker and the
// control lcore (DESIGN.md). Entry = | T:1 | action:7 | parameter:24 |.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace vr::dataplane {

// What an entry asks the other side to do. Values fit in 7 bits; 0 is never used, so a zeroed
// slot can never be mistaken for an entry whatever its toggle bit.
enum class XqAction : uint8_t {
  kNone = 0,
  kArpFrame = 1,    // worker -> control: an ARP frame (parameter: nbuf index)
  kResolve = 2,     // worker -> control: a routed packet whose next hop has no MAC yet (nbuf)
  kTransmit = 3,    // control -> worker: a complete frame to send on NbufMeta::tx_port (nbuf)
  kOutput = 4,      // control -> worker: a held packet whose next hop resolved; route it out (nbuf)
  kToKernel = 5,    // worker -> control: a frame for the router that the kernel answers (nbuf)
  kFromKernel = 6,  // control -> worker: a packet the kernel sent through knet; route it (nbuf)
  kNdFrame = 7,     // worker -> control: neighbour discovery, or ICMPv6 for a link-local (nbuf)
  kLinkLocalOut = 8,  // worker -> control: the router's own packet to a link-local address on
                      // the packet's vif, which control resolves with NDP (nbuf)
};

constexpr uint32_t kXqParamBits = 24;
constexpr uint32_t kXqParamMask = (1u << kXqParamBits) - 1;

constexpr uint32_t XqEncode(bool toggle, XqAction action, uint32_t param) {
  return (uint32_t{toggle} << 31) | (uint32_t(action) << kXqParamBits) | (param & kXqParamMask);
}
constexpr bool XqToggle(uint32_t e) { return e >> 31; }
constexpr XqAction XqActionOf(uint32_t e) { return XqAction((e >> kXqParamBits) & 0x7f); }
constexpr uint32_t XqParam(uint32_t e) { return e & kXqParamMask; }

// The consumer finds new entries by the toggle bit alone: the producer writes T=1 on its first lap,
// T=0 on the second, and so on, so the consumer never reads the producer's index. The producer
// must not overwrite unread entries; it keeps a private count of free slots and re-reads the
// consumer's published position only when that count runs out, which with a ring at least as big
// as the nbufs that can be in flight to it never happens on the fast path.
class XqRing {
 public:
  explicit XqRing(uint32_t capacity_pow2);
  XqRing(const XqRing&) = delete;
  XqRing& operator=(const XqRing&) = delete;

  uint32_t capacity() const { return mask_ + 1; }

  // Producer side. Returns false (and counts it) when the ring is full.
  bool Push(XqAction action, uint32_t param) {
    if (free_ == 0) {
      free_ = capacity() - (prod_ - cons_pos_.load(std::memory_order_acquire));
      if (free_ == 0) {
        overflows_.store(overflows_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return false;
      }
    }
    uint32_t idx = prod_ & mask_;
    bool toggle = ((prod_ >> shift_) & 1) == 0;  // lap 0 writes T=1
    slots_[idx].store(XqEncode(toggle, action, param), std::memory_order_release);
    ++prod_;
    --free_;
    return true;
  }

  // Consumer side: up to `max` entries into `out` (decode with XqActionOf / XqParam); returns
  // how many. Does not publish the position: call Flush after the batch.
  uint32_t PopBurst(uint32_t* out, uint32_t max) {
    uint32_t cons = cons_, n = 0;
    for (; n < max; ++n, ++cons) {
      uint32_t e = slots_[cons & mask_].load(std::memory_order_acquire);
      bool expect = ((cons >> shift_) & 1) == 0;
      if (XqToggle(e) != expect || XqActionOf(e) == XqAction::kNone) break;
      out[n] = e;
    }
    cons_ = cons;
    return n;
  }

  // Consumer side. Returns false when nothing new is there.
  bool Pop(XqAction* action, uint32_t* param) {
    uint32_t idx = cons_ & mask_;
    bool expect = ((cons_ >> shift_) & 1) == 0;
    uint32_t e = slots_[idx].load(std::memory_order_acquire);
    if (XqToggle(e) != expect || XqActionOf(e) == XqAction::kNone) return false;
    *action = XqActionOf(e);
    *param = XqParam(e);
    ++cons_;
    return true;
  }
  // Consumer: publish how far it has read. Called once per drained batch, not per entry, so the
  // producer's view of free space costs one cache line transfer per batch at most.
  void Flush() { cons_pos_.store(cons_, std::memory_order_release); }

  // Producer side: entries the consumer has not yet published as read. One load of the
  // consumer's line; for paths that may wait (the exception path), not for every packet.
  uint32_t Pending() const { return prod_ - cons_pos_.load(std::memory_order_acquire); }

  // Read from any thread; approximate while the producer runs.
  uint64_t overflows() const { return overflows_.load(std::memory_order_relaxed); }
  uint32_t Depth() const { return prod_snapshot() - cons_pos_.load(std::memory_order_relaxed); }

 private:
  uint32_t prod_snapshot() const { return __atomic_load_n(&prod_, __ATOMIC_RELAXED); }

  uint32_t mask_;
  uint32_t shift_;  // log2(capacity): bit of the index that counts laps
  std::unique_ptr<std::atomic<uint32_t>[]> slots_;
  alignas(64) uint32_t prod_ = 0;   // producer: rw
  uint32_t free_ = 0;               // producer: rw
  std::atomic<uint64_t> overflows_{0};  // producer: wo, anyone: ro
  alignas(64) uint32_t cons_ = 0;   // consumer: rw
  alignas(64) std::atomic<uint32_t> cons_pos_{0};  // consumer: wo, producer: ro (lazily)
};

}  // namespace vr::dataplane
