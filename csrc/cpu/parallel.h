#pragma once
// One process-wide thread pool for CPU kernels. Work below a grain size runs inline on the caller, so
// small ops pay one comparison; above it the range is cut into one chunk per thread and, when the caller
// holds Python's GIL, the GIL is released for the duration.
#include <cstdint>
#include <utility>

namespace tg::cpu {

// Elementwise work below this many elements stays on the caller, as in PyTorch. A worker that is asleep
// costs the caller only the wake-up call: the caller runs every piece no worker has claimed yet.
constexpr int64_t kElementwiseGrain = 32768;

// Rows per parallel piece for kernels that run along rows of `row_length` elements: about one grain each.
inline int64_t rows_per_grain(int64_t row_length) {
  return row_length >= kElementwiseGrain ? 1 : kElementwiseGrain / (row_length > 0 ? row_length : 1);
}

int num_threads();
// n >= 1; also sets OpenBLAS's thread count so GEMM and the other kernels agree.
void set_num_threads(int n);

// Lets the bindings release the GIL around long kernels without cpu/ knowing about Python:
// `release` returns a token (null when nothing was released) that `reacquire` takes back.
void install_caller_lock_hooks(void* (*release)(), void (*reacquire)(void*));

// Releases the caller's lock (the GIL) for the guard's lifetime, when hooks are installed and it is held.
class CallerLockRelease {
 public:
  CallerLockRelease();
  ~CallerLockRelease();
  CallerLockRelease(const CallerLockRelease&) = delete;
  CallerLockRelease& operator=(const CallerLockRelease&) = delete;

 private:
  void* token_;
};

namespace detail {
// A borrowed callable: parallel_for's closure lives on the caller's stack for the whole run.
struct RangeFn {
  void* object;
  void (*call)(void*, int64_t, int64_t);
};
void parallel_run(int64_t n, int64_t grain, RangeFn fn);
}  // namespace detail

// Calls fn(begin, end) over disjoint pieces covering [0, n): inline up to `grain` elements, above it one
// piece per thread or per `grain` elements, whichever is fewer (PyTorch's rule).
// Exceptions thrown by fn reach the caller (the first one wins).
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= grain || num_threads() == 1) {
    if (n > 0) fn(int64_t(0), n);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  detail::parallel_run(n, grain, {const_cast<void*>(static_cast<const void*>(&fn)), [](void* f, int64_t b, int64_t e) {
                                     (*static_cast<Fn*>(f))(b, e);
                                   }});
}

}  // namespace tg::cpu
