#pragma once
// A lock for critical sections of a few instructions (allocator free lists, grad
// accumulators): one atomic exchange to take, one store to release.
#include <atomic>
#include <thread>

namespace tg {

class SpinLock {
 public:
  void lock() {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace tg
