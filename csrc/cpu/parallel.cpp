#include "cpu/parallel.h"

#include <pthread.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#include "core/tensor.h"

extern "C" void scipy_openblas_set_num_threads(int);

namespace tg::cpu {

namespace {

// Set on pool workers, and on a caller while its job runs: nested parallel_for calls run inline.
thread_local bool inside_parallel_region = false;

void pause_cpu() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Workers spin this many rounds for the next job before sleeping: back-to-back kernels then start at
// once, while an idle pool still leaves the cores to OpenBLAS's own threads within microseconds.
constexpr int kSpinRounds = 2000;

// A job is published as one atomic word: its generation, how many of its pieces are claimed, and how many
// there are. Claiming a piece is a compare-and-swap on that word, so a worker that wakes late finds the
// job fully claimed and goes back to waiting: the caller never waits for a worker to wake, only for the
// pieces workers have actually taken.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stopping_.store(true);
      state_.fetch_add(kGeneration);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  // Runs fn over [0, n) in `pieces` chunks (at most 65535), the caller taking whichever no worker claims.
  // The job (whose closure lives on the caller's stack) is only read by claimants of its pieces, and run
  // returns after every claimed piece is done, so no worker can read it afterwards.
  void run(int64_t n, int64_t pieces, detail::RangeFn fn) {
    job_ = Job{fn, n};
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    const uint64_t generation = (state_.load(std::memory_order_relaxed) & ~kCountMask) + kGeneration;
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      state_.store(generation | static_cast<uint64_t>(pieces), std::memory_order_release);
    }
    wake_.notify_all();
    take_pieces();
    for (int spins = 0; done_.load(std::memory_order_acquire) != pieces; ++spins) {
      if (spins < kSpinRounds) pause_cpu();
      else std::this_thread::yield();
    }
    if (error_) std::rethrow_exception(error_);
  }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

 private:
  struct Job {
    detail::RangeFn fn;
    int64_t n;
  };
  // state_ = generation << 32 | claimed << 16 | pieces.
  static constexpr uint64_t kGeneration = uint64_t(1) << 32;
  static constexpr uint64_t kClaimed = uint64_t(1) << 16;
  static constexpr uint64_t kCountMask = kGeneration - 1;

  // Claims and runs pieces of the current job until none is left; returns the state it last saw.
  uint64_t take_pieces() {
    uint64_t state = state_.load(std::memory_order_acquire);
    while (true) {
      const int64_t pieces = static_cast<int64_t>(state & 0xffff);
      const int64_t piece = static_cast<int64_t>((state >> 16) & 0xffff);
      if (piece >= pieces) return state;
      if (!state_.compare_exchange_weak(state, state + kClaimed, std::memory_order_acquire)) continue;
      const Job& job = job_;
      try {
        job.fn.call(job.fn.object, job.n * piece / pieces, job.n * (piece + 1) / pieces);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
      state = state_.load(std::memory_order_acquire);
    }
  }

  void work() {
    inside_parallel_region = true;
    while (!stopping_.load()) {
      const uint64_t seen = take_pieces();
      int spins = 0;
      while (state_.load(std::memory_order_acquire) == seen && spins++ < kSpinRounds) pause_cpu();
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      wake_.wait(lock, [&] { return state_.load() != seen; });
    }
  }

  std::vector<std::thread> workers_;
  std::mutex sleep_mutex_, error_mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<bool> stopping_{false};
  Job job_{};
  std::exception_ptr error_;
};

// OMP_NUM_THREADS is honoured as PyTorch does; otherwise one thread per online core.
int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<int>(std::max(1L, cores));
}

std::atomic<int> thread_count{default_threads()};
// Held for a whole parallel run: a second caller (another thread with the GIL released) runs its
// work inline instead of waiting, and set_num_threads never swaps the pool under a running job.
std::mutex pool_mutex;
ThreadPool* pool = nullptr;  // created on first use; leaked at exit so no join races interpreter teardown

// A forked child has none of the parent's workers: it starts a fresh pool on first use.
[[maybe_unused]] const bool fork_handler_installed = [] {
  pthread_atfork(nullptr, nullptr, [] { pool = nullptr; });
  return true;
}();

void* (*release_hook)() = nullptr;
void (*reacquire_hook)(void*) = nullptr;

}  // namespace

int num_threads() { return thread_count.load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  thread_count.store(n);
  scipy_openblas_set_num_threads(n);
}

void install_caller_lock_hooks(void* (*release)(), void (*reacquire)(void*)) {
  release_hook = release;
  reacquire_hook = reacquire;
}

CallerLockRelease::CallerLockRelease() : token_(release_hook ? release_hook() : nullptr) {}
CallerLockRelease::~CallerLockRelease() {
  if (token_) reacquire_hook(token_);
}

namespace detail {

void parallel_run(int64_t n, int64_t grain, RangeFn fn) {
  CallerLockRelease unlocked;
  std::unique_lock<std::mutex> lock(pool_mutex, std::defer_lock);
  if (inside_parallel_region || !lock.try_lock()) return fn.call(fn.object, 0, n);
  if (!pool || pool->threads() != thread_count.load()) {
    delete pool;
    pool = new ThreadPool(thread_count.load());
  }
  inside_parallel_region = true;
  struct LeaveRegion {
    ~LeaveRegion() { inside_parallel_region = false; }
  } leave;
  pool->run(n, std::min<int64_t>({pool->threads(), (n + grain - 1) / grain, 0xffff}), fn);
}

}  // namespace detail

}  // namespace tg::cpu
