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
//
// Publication is per batch, not per entry: the producer writes a batch's first slot last. Push
// keeps the batch's first entry, and the entries after it that share its cache line, in the ring
// object (producer-private), and stores the batch's later entries to their slots as it goes;
// Publish writes the held line and then, with release, the first slot. The consumer reads slots in
// order and stops at the first whose toggle bit is not this lap's, so it stops at the first slot
// and sees no entry of the batch early. Once it acquires that slot, every store before the release
// (the batch's other slots, and the packet data written before each Push) happens before its
// later loads of the batch's slots.
// Why: published one at a time, each entry was read by a consumer polling the ring the moment it
// landed, and the slots' lines crossed between the cores about once per entry (xq_ring_bench's
// burst32: 0.7x rte_ring SP/SC). rte_ring writes a burst and publishes one tail. Here the consumer
// waits on the first slot's line, which the producer leaves alone until Publish, so a batch's
// lines cross once each: holding back the first slot alone was not enough (0.7x still), as the
// producer's stores to the rest of that line kept taking it back from the polling consumer.
// The producer calls Publish once per loop iteration (the worker after its TX flush, control at
// the end of ServeDataplane and before it polls its socket). Unpublished entries are never lost:
//  - they count as used space (the free count, Pending and Depth all include them);
//  - a Push that finds the ring full publishes what it holds before it returns false, so a
//    producer that retries a full ring waits on the consumer, never on entries it hides itself;
//  - every kMaxBatch entries Push publishes by itself, so a long loop iteration (many ports'
//    bursts, each punting) hands the consumer its work as it goes rather than all at the end, and
//    a producer that forgets Publish strands at most kMaxBatch - 1 entries, not a whole loop's.
class XqRing {
 public:
  // Above a 32-packet RX burst, so one burst's punts are one publication, and small enough that
  // the consumer never idles long behind a producer still working through its ports.
  static constexpr uint32_t kMaxBatch = 64;

  explicit XqRing(uint32_t capacity_pow2);
  XqRing(const XqRing&) = delete;
  XqRing& operator=(const XqRing&) = delete;

  uint32_t capacity() const { return mask_ + 1; }

  // Producer side. Returns false (and counts it) when the ring is full. The entry is not visible
  // to the consumer until Publish (or an automatic publication, above). action is never kNone.
  bool Push(XqAction action, uint32_t param) {
    if (free_ == 0) {
      free_ = capacity() - (prod_ - cons_pos_.load(std::memory_order_acquire));
      if (free_ == 0) {
        Publish();  // the consumer can make room only by reading what is held
        overflows_.store(overflows_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return false;
      }
    }
    bool toggle = ((prod_ >> shift_) & 1) == 0;  // lap 0 writes T=1
    uint32_t e = XqEncode(toggle, action, param);
    uint32_t pos = prod_++;
    --free_;
    if (held_[0] == 0) {
      held_[0] = e;  // nonzero: action is never kNone
      held_pos_ = pos;
    } else if ((pos ^ held_pos_) < kLineSlots) {
      held_[pos - held_pos_] = e;  // the first slot's line: Publish writes it
    } else {
      // Relaxed: the consumer cannot reach this slot before it acquires the first one, whose
      // release store comes after this one.
      slots_[pos & mask_].store(e, std::memory_order_relaxed);
      if (prod_ - held_pos_ >= kMaxBatch) Publish();
    }
    return true;
  }

  // Producer side: makes everything pushed so far visible to the consumer, with one release store
  // (the batch's first slot) after the rest of its line. With nothing held, one predictable
  // branch; with one entry held (a worker that punted one packet), one store.
  void Publish() {
    if (held_[0] == 0) return;
    if (prod_ - held_pos_ > 1) WriteHeldLine();
    slots_[held_pos_ & mask_].store(held_[0], std::memory_order_release);
    held_[0] = 0;
  }

  // Producer side: entries pushed and not yet published.
  uint32_t Unpublished() const { return held_[0] == 0 ? 0 : prod_ - held_pos_; }

  // Consumer side: up to `max` entries into `out` (decode with XqActionOf / XqParam); returns
  // how many. Does not publish the position: call Flush after the batch. Every load acquires: any
  // slot may be a batch's first, published with release.
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

  // Producer side: entries pushed (published or not) that the consumer has not yet published as
  // read. One load of the consumer's line; for paths that may wait (the exception path), not for
  // every packet.
  uint32_t Pending() const { return prod_ - cons_pos_.load(std::memory_order_acquire); }

  // Read from any thread; approximate while the producer runs. Depth counts unpublished entries
  // too: they hold slots and nbufs as much as published ones.
  uint64_t overflows() const { return overflows_.load(std::memory_order_relaxed); }
  uint32_t Depth() const { return prod_snapshot() - cons_pos_.load(std::memory_order_relaxed); }

 private:
  // Slots a cache line holds; the slots are allocated on a line boundary (xq_ring.cc).
  static constexpr uint32_t kLineSlots = 64 / sizeof(uint32_t);
  struct SlotsDelete {
    void operator()(std::atomic<uint32_t>* p) const;
  };

  uint32_t prod_snapshot() const { return __atomic_load_n(&prod_, __ATOMIC_RELAXED); }

  // The held entries after the first, up to the end of the first slot's line (or of the batch).
  void WriteHeldLine() {
    uint32_t n = prod_ - held_pos_, line_left = kLineSlots - (held_pos_ & (kLineSlots - 1));
    if (n > line_left) n = line_left;
    for (uint32_t i = 1; i < n; ++i) {
      slots_[(held_pos_ + i) & mask_].store(held_[i], std::memory_order_relaxed);
    }
  }

  uint32_t mask_;
  uint32_t shift_;  // log2(capacity): bit of the index that counts laps
  std::unique_ptr<std::atomic<uint32_t>[], SlotsDelete> slots_;
  alignas(64) uint32_t prod_ = 0;   // producer: rw
  uint32_t free_ = 0;               // producer: rw
  uint32_t held_pos_ = 0;           // producer: rw; the unpublished batch's first position
  std::atomic<uint64_t> overflows_{0};  // producer: wo, anyone: ro
  // producer: rw; the batch's entries held_pos_.. in the first slot's line; held_[0] == 0: none
  uint32_t held_[kLineSlots] = {};
  alignas(64) uint32_t cons_ = 0;   // consumer: rw
  alignas(64) std::atomic<uint32_t> cons_pos_{0};  // consumer: wo, producer: ro (lazily)
};

}  // namespace vr::dataplane
