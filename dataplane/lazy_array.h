// A fixed-capacity array of zeroed, trivially constructible entries whose memory the kernel
// commits only when touched: tables sized for 2^24 vifs cost what is used, not what could be.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <type_traits>

namespace vr::dataplane {

template <typename T>
class LazyArray {
  static_assert(std::is_trivially_destructible_v<T>, "entries are never destroyed one by one");

 public:
  LazyArray() = default;
  explicit LazyArray(size_t n) : size_(n) {
    void* p = mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      size_ = 0;
      return;
    }
    // Transparent huge pages where the kernel has them: fewer TLB misses on random access.
    madvise(p, n * sizeof(T), MADV_HUGEPAGE);
    data_ = static_cast<T*>(p);  // all-zero bytes are a valid T for every T used here
  }
  ~LazyArray() {
    if (data_ != nullptr) munmap(data_, size_ * sizeof(T));
  }
  LazyArray(LazyArray&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  LazyArray& operator=(LazyArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  LazyArray(const LazyArray&) = delete;
  LazyArray& operator=(const LazyArray&) = delete;

  bool ok() const { return data_ != nullptr; }
  size_t size() const { return size_; }
  T* data() { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vr::dataplane
