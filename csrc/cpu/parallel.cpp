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

class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stopping_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  // Runs fn over [0, n) in `pieces` chunks, the caller taking a share. One caller at a time.
  // Pieces are claimed from one word holding the job's number, so a worker that wakes late claims
  // nothing from a finished job, and the caller waits only for pieces already claimed: a worker the
  // scheduler has not run yet costs nothing, the caller does its share.
  void run(int64_t n, int64_t pieces, detail::RangeFn fn) {
    Job job{fn, n, pieces};
    job_.store(&job, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    claims_.store(pack(++jobs_posted_, pieces, 0), std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      generation_.fetch_add(1);
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
    int64_t pieces;
  };

  // The claim word: job number (32 bits), piece count (16), next piece (16).
  static uint64_t pack(uint64_t job, int64_t pieces, int64_t next) {
    return (job << 32) | (uint64_t(pieces) << 16) | uint64_t(next);
  }

  void take_pieces() {
    uint64_t word = claims_.load(std::memory_order_acquire);
    while (int64_t(word & 0xffff) < int64_t((word >> 16) & 0xffff)) {
      if (!claims_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) continue;
      // The claim keeps the caller waiting, so its job (on the caller's stack) is alive.
      const Job& job = *job_.load(std::memory_order_relaxed);
      const int64_t piece = int64_t(word & 0xffff);
      int64_t begin = job.n * piece / job.pieces, end = job.n * (piece + 1) / job.pieces;
      try {
        job.fn.call(job.fn.object, begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_acq_rel);
      word = claims_.load(std::memory_order_acquire);
    }
  }

  void work() {
    inside_parallel_region = true;
    uint64_t seen = 0;  // the generation at construction, even if a job was posted before this thread ran
    while (true) {
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && spins++ < kSpinRounds) pause_cpu();
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
      }
      seen = generation_.load();
      if (stopping_) return;
      take_pieces();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex sleep_mutex_, error_mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0}, claims_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<const Job*> job_{nullptr};
  uint64_t jobs_posted_ = 0;  // the caller's count, the claim word's job number
  std::exception_ptr error_;
  bool stopping_ = false;
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
  // Up to four pieces per thread, claimed in turn: a worker that starts late or is preempted holds up
  // at most one piece while the others take the rest.
  pool->run(n, std::min<int64_t>({4 * pool->threads(), n / grain, 0xffff}), fn);
}

}  // namespace detail

}  // namespace tg::cpu
