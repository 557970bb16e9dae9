#pragma once

// CPU random number generator that reproduces PyTorch's CPU generator bit for bit:
// the same mt19937 stream after manual_seed, and the same mapping from raw draws to
// values for every fill below (see rng.cpp for the exact algorithms).

#include <cstdint>
#include <mutex>
#include <vector>

namespace tg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL);  // torch's default seed
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const;

  // Raw draws: one mt19937 output, and two outputs joined as (first << 32) | second.
  uint32_t random();
  uint64_t random64();

  // Each fills n contiguous elements exactly as torch does for a contiguous tensor
  // of n elements. Callers hold mutex() around a fill and check arguments as torch
  // does (from <= to, std >= 0, low < high, 0 <= p <= 1, n >= 0).
  void uniform(float* out, int64_t n, double from, double to);
  void uniform(double* out, int64_t n, double from, double to);
  void normal(float* out, int64_t n, double mean, double std);
  void normal(double* out, int64_t n, double mean, double std);
  void random_from_to(int64_t* out, int64_t n, int64_t low, int64_t high);  // [low, high)
  void random_from_to(float* out, int64_t n, int64_t low, int64_t high);
  void random_from_to(double* out, int64_t n, int64_t low, int64_t high);
  void randperm(int64_t* out, int64_t n);
  void bernoulli(float* out, int64_t n, double p);
  void bernoulli(double* out, int64_t n, double p);

  // Opaque snapshot of the whole generator (seed, mt19937 state, cached normal).
  std::vector<uint8_t> get_state() const;
  void set_state(const std::vector<uint8_t>& state);  // throws std::invalid_argument

  std::mutex& mutex() { return mutex_; }

 private:
  static constexpr int kStateSize = 624;

  void twist();
  double scalar_normal(double mean, double std);
  template <typename T>
  void fill_from_to(T* out, int64_t n, int64_t low, int64_t high);

  uint64_t seed_ = 0;
  uint32_t state_[kStateSize] = {};
  int index_ = kStateSize;  // next word of state_ to temper; kStateSize means "twist first"
  // torch's scalar Box-Muller makes two samples and keeps the second for the next call.
  bool has_cached_normal_ = false;
  double cached_normal_ = 0.0;
  std::mutex mutex_;
};

// The process-wide generator behind tapegrad.manual_seed / rand / randn / ...
Generator& default_generator();

}  // namespace tg
