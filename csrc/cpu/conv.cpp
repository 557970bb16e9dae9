// Sliding-window kernels for convolution and pooling: im2col, its adjoint col2im, convolution as a GEMM per
// sample, and max pooling. Each (sample, channel) plane is independent, so planes run in parallel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>
#include "cpu/blas.h"
#include "cpu/cpu_backend.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "cpu/simd.h"

namespace tg::cpu {

namespace {

struct Planes {
  int64_t count, height, width;  // count = N * C
  explicit Planes(const DimVec& sizes) : count(sizes[0] * sizes[1]), height(sizes[2]), width(sizes[3]) {}
  int64_t size() const { return height * width; }
};

// Calls visit(out, at, lo, hi, step) for each output row of one plane's cols block: out is the row's offset in
// the block (kernel position (i, j) times oh * ow positions, plus oh * ow), and output columns [lo, hi) read the
// input at at + ow * step; the columns outside [lo, hi) (and whole rows with at < 0) fall in the padding.
template <typename Visit>
TG_ALWAYS_INLINE void for_each_window_row(const Window2d& w, const Planes& planes, Visit&& visit) {
  for (int64_t i = 0; i < w.kernel[0]; ++i)
    for (int64_t j = 0; j < w.kernel[1]; ++j) {
      int64_t x0 = j * w.dilation[1] - w.padding[1], step = w.stride[1];
      // Columns ow with 0 <= ow * step + x0 < width.
      int64_t lo = x0 >= 0 ? 0 : (-x0 + step - 1) / step;
      int64_t hi = std::min(w.out[1], planes.width - x0 <= 0 ? 0 : (planes.width - x0 + step - 1) / step);
      for (int64_t oh = 0; oh < w.out[0]; ++oh) {
        int64_t h = oh * w.stride[0] - w.padding[0] + i * w.dilation[0];
        bool inside = h >= 0 && h < planes.height && lo < hi;
        visit(((i * w.kernel[1] + j) * w.out[0] + oh) * w.out[1], inside ? h * planes.width + x0 : int64_t(-1),
              inside ? lo : 0, inside ? hi : 0, step);
      }
    }
}

// How one plane's im2col block is walked. In general row by row (for_each_window_row). With stride 1 and
// output rows as long as the input's (padding that keeps the width, as 3x3 with padding 1), each kernel
// position's block is the plane shifted by a constant, so it is one flat loop masked by where the window
// leaves the input: rows of 8 or 16 are too short for per-row loops to pay.
struct WindowPlan {
  Window2d window;
  Planes planes;
  int64_t positions;
  bool shifted;
  std::vector<int64_t> shift;   // [kh * kw]: input offset of each kernel position's block
  std::vector<uint8_t> inside;  // [kh * kw, positions]: whether the element reads the input, not padding
  // Otherwise, where it has at most kMaxGatherEntries entries: [kh * kw, positions] input offsets (-1 in the
  // padding), so im2col is one gather loop rather than a loop per output row, which for the short rows of
  // strided windows cost more than the copying (ConvTranspose2d(32, 16, 4, stride=2) fwd+bwd: -12%).
  static constexpr int64_t kMaxGatherEntries = int64_t(1) << 20;
  std::vector<int32_t> source;

  WindowPlan(const Window2d& w, const Planes& p)
      : window(w), planes(p), positions(w.out[0] * w.out[1]),
        shifted(w.stride[0] == 1 && w.stride[1] == 1 && w.out[1] == p.width) {
    if (!shifted) {
      if (w.kernel[0] * w.kernel[1] * positions <= kMaxGatherEntries && p.size() <= INT32_MAX) build_source();
      return;
    }
    for (int64_t i = 0; i < w.kernel[0]; ++i)
      for (int64_t j = 0; j < w.kernel[1]; ++j) {
        int64_t dh = i * w.dilation[0] - w.padding[0], dw = j * w.dilation[1] - w.padding[1];
        shift.push_back(dh * p.width + dw);
        for (int64_t oh = 0; oh < w.out[0]; ++oh)
          for (int64_t ow = 0; ow < w.out[1]; ++ow)
            inside.push_back(oh + dh >= 0 && oh + dh < p.height && ow + dw >= 0 && ow + dw < p.width);
      }
  }

 private:
  void build_source() {
    source.assign(window.kernel[0] * window.kernel[1] * positions, -1);
    for_each_window_row(window, planes, [&](int64_t out, int64_t at, int64_t lo, int64_t hi, int64_t step) {
      for (int64_t ow = lo; ow < hi; ++ow) source[out + ow] = static_cast<int32_t>(at + ow * step);
    });
  }
};

// The row loops below run over every output column with the window's columns as a condition, rather than
// over [lo, hi) with fills around it: they compile to masked vector loads and stores instead of calls to
// memset and memcpy and scalar tails.

// One plane's block of im2col: dst [kh * kw, oh * ow] from src [H, W]. Inline into a vec::simd_call.
template <typename T>
TG_ALWAYS_INLINE void plane_to_cols(T* dst, const T* src, const WindowPlan& plan) {
  if (plan.shifted) {
    for (size_t block = 0; block < plan.shift.size(); ++block) {
      T* out = dst + block * plan.positions;
      const uint8_t* inside = plan.inside.data() + block * plan.positions;
      int64_t shift = plan.shift[block];
      for (int64_t t = 0; t < plan.positions; ++t) out[t] = inside[t] ? src[shift + t] : T(0);
    }
    return;
  }
  if (!plan.source.empty()) {
    const int32_t* source = plan.source.data();
    for (size_t t = 0; t < plan.source.size(); ++t) dst[t] = source[t] >= 0 ? src[source[t]] : T(0);
    return;
  }
  int64_t width = plan.window.out[1];
  for_each_window_row(plan.window, plan.planes, [&](int64_t out, int64_t at, int64_t lo, int64_t hi, int64_t step)
                                                    TG_INLINE_LAMBDA {
    T* row = dst + out;
    if (step == 1)
      for (int64_t ow = 0; ow < width; ++ow) row[ow] = ow >= lo && ow < hi ? src[at + ow] : T(0);
    else
      for (int64_t ow = 0; ow < width; ++ow) row[ow] = ow >= lo && ow < hi ? src[at + ow * step] : T(0);
  });
}

// Its adjoint: dst [H, W] = the sum of the elements of src [kh * kw, oh * ow] that came from each position.
template <typename T>
TG_ALWAYS_INLINE void cols_to_plane(T* dst, const T* src, const WindowPlan& plan) {
  std::fill_n(dst, plan.planes.size(), T(0));
  if (plan.shifted) {
    for (size_t block = 0; block < plan.shift.size(); ++block) {
      const T* in = src + block * plan.positions;
      const uint8_t* inside = plan.inside.data() + block * plan.positions;
      int64_t shift = plan.shift[block];
      for (int64_t t = 0; t < plan.positions; ++t)
        if (inside[t]) dst[shift + t] += in[t];
    }
    return;
  }
  int64_t width = plan.window.out[1];
  for_each_window_row(plan.window, plan.planes, [&](int64_t out, int64_t at, int64_t lo, int64_t hi, int64_t step)
                                                    TG_INLINE_LAMBDA {
    const T* row = src + out;
    if (step == 1) {
      for (int64_t ow = 0; ow < width; ++ow)
        if (ow >= lo && ow < hi) dst[at + ow] += row[ow];
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) dst[at + ow * step] += row[ow];
    }
  });
}

// Sizes of a convolution of [N, C, H, W] by [Cout, C / groups, kh, kw]: per group, a [Cout / groups, patch]
// slice of the weight times the patch rows of a sample's columns.
struct ConvShape {
  Planes planes;
  int64_t samples, channels, groups, out_per_group, patch, positions, kernel_area;
  ConvShape(const DimVec& input_sizes, const DimVec& weight_sizes, const Window2d& window, int64_t groups)
      : planes(input_sizes), samples(input_sizes[0]), channels(input_sizes[1]), groups(groups),
        out_per_group(weight_sizes[0] / groups), patch(weight_sizes[1] * weight_sizes[2] * weight_sizes[3]),
        positions(window.out[0] * window.out[1]), kernel_area(weight_sizes[2] * weight_sizes[3]) {}
  int64_t columns_size() const { return channels * kernel_area * positions; }
  // Offsets of group g's blocks: in the weight [Cout, patch], in a sample's columns [C * kh * kw, positions],
  // and in the output [N, Cout, positions] for a sample.
  int64_t weight_offset(int64_t g) const { return g * out_per_group * patch; }
  int64_t columns_offset(int64_t g) const { return g * patch * positions; }
  int64_t output_offset(int64_t sample, int64_t g) const { return (sample * groups + g) * out_per_group * positions; }
  int64_t multiply_adds() const { return samples * groups * out_per_group * patch * positions; }
};

// cols [C * kh * kw, oh * ow] = im2col of one sample of a contiguous input [N, C, H, W], and its adjoint.
template <typename T>
void sample_to_cols(T* cols, const T* in, int64_t sample, const ConvShape& shape, const WindowPlan& plan) {
  const T* src = in + sample * shape.channels * shape.planes.size();
  int64_t block = shape.kernel_area * shape.positions;
  vec::simd_call([&]() TG_INLINE_LAMBDA {
    for (int64_t c = 0; c < shape.channels; ++c) plane_to_cols(cols + c * block, src + c * shape.planes.size(), plan);
  });
}

template <typename T>
void cols_to_sample(T* out, const T* cols, int64_t sample, const ConvShape& shape, const WindowPlan& plan) {
  T* dst = out + sample * shape.channels * shape.planes.size();
  int64_t block = shape.kernel_area * shape.positions;
  vec::simd_call([&]() TG_INLINE_LAMBDA {
    for (int64_t c = 0; c < shape.channels; ++c) cols_to_plane(dst + c * shape.planes.size(), cols + c * block, plan);
  });
}

// A contiguous row-major operand of a per-sample GEMM, used transposed when `transposed`.
template <typename T>
struct Operand {
  const T* data;
  bool transposed;
};

// c [m, n] = op(a) [m, k] @ op(b) [k, n], or += with `accumulate`. `serial` GEMMs run on the calling thread,
// as the caller shares the samples out among threads.
template <typename T>
void conv_gemm(bool serial, bool accumulate, int64_t m, int64_t n, int64_t k, Operand<T> a, Operand<T> b, T* c) {
  if (k == 0) {  // an empty sum
    if (!accumulate) std::fill_n(c, m * n, T(0));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (sgemm_preferred(m, n, k)) {
      StridedMatrix sa = a.transposed ? StridedMatrix{a.data, 1, m} : StridedMatrix{a.data, k, 1};
      StridedMatrix sb = b.transposed ? StridedMatrix{b.data, 1, k} : StridedMatrix{b.data, n, 1};
      if (serial)
        sgemm_serial(m, n, k, sa, sb, c, accumulate);
      else
        sgemm(1, m, n, k, sa, sb, c, accumulate);
      return;
    }
  }
  blas_gemm<T>(a.transposed, b.transposed, m, n, k, a.data, a.transposed ? m : k, b.data, b.transposed ? k : n, c,
               n, accumulate);
}

// Whether the samples' m x n x k GEMMs are ours, which may run on several threads at once (OpenBLAS is
// called from one thread at a time and threads inside).
template <typename T>
bool serial_gemms(int64_t m, int64_t n, int64_t k) {
  return std::is_same_v<T, float> && sgemm_preferred(m, n, k);
}

// per_sample(first, last, serial) over the samples, whose GEMMs are m x n x k: shared among threads (each
// sample's columns then stay in its thread's cache) when the GEMMs are ours and there are samples enough;
// otherwise in order, each GEMM threaded inside.
template <typename T, typename PerSample>
void for_samples(const ConvShape& shape, int64_t m, int64_t n, int64_t k, PerSample per_sample) {
  std::optional<CallerLockRelease> unlocked;
  if (shape.multiply_adds() >= kGilFreeGemmWork) unlocked.emplace();
  if (serial_gemms<T>(m, n, k) && shape.samples >= num_threads())
    parallel_for(shape.samples, 1, [&](int64_t first, int64_t last) { per_sample(first, last, true); });
  else
    per_sample(0, shape.samples, false);
}

// The weight gradient sums over samples in partial sums of fixed runs of samples, at most this many (and
// at most this many elements in all), added up in order: its value never depends on the thread count.
constexpr int64_t kMaxWeightPartials = 8;
constexpr int64_t kMaxPartialElements = int64_t(1) << 22;

}  // namespace

void CpuBackend::im2col(const Tensor& cols, const Tensor& in, const Window2d& window) {
  WindowPlan plan(window, Planes(in.sizes()));
  int64_t block = window.kernel[0] * window.kernel[1] * plan.positions;
  dispatch_floating(in.dtype(), "im2col", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for(plan.planes.count, rows_per_grain(block), [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t p = begin; p < end; ++p)
          plane_to_cols(cols.data<T>() + p * block, in.data<T>() + p * plan.planes.size(), plan);
      });
    });
  });
}

void CpuBackend::col2im(const Tensor& out, const Tensor& cols, const Window2d& window) {
  WindowPlan plan(window, Planes(out.sizes()));
  int64_t block = window.kernel[0] * window.kernel[1] * plan.positions;
  dispatch_floating(out.dtype(), "col2im", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for(plan.planes.count, rows_per_grain(block), [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t p = begin; p < end; ++p)
          cols_to_plane(out.data<T>() + p * plan.planes.size(), cols.data<T>() + p * block, plan);
      });
    });
  });
}

void CpuBackend::conv2d(const Tensor& out, const Tensor& in, const Tensor& weight, const Tensor& bias,
                        const Window2d& window, int64_t groups) {
  ConvShape shape(in.sizes(), weight.sizes(), window, groups);
  WindowPlan plan(window, shape.planes);
  dispatch_floating(in.dtype(), "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_samples<T>(shape, shape.out_per_group, shape.positions, shape.patch,
                   [&](int64_t first, int64_t last, bool serial) {
      Tensor cols = empty(DimVec{shape.columns_size()}, in.dtype());
      for (int64_t sample = first; sample < last; ++sample) {
        sample_to_cols(cols.data<T>(), in.data<T>(), sample, shape, plan);
        // The bias is where the GEMM starts its sums: a pass over the output saved.
        if (bias.defined()) {
          T* dst = out.data<T>() + shape.output_offset(sample, 0);
          for (int64_t c = 0; c < groups * shape.out_per_group; ++c)
            std::fill_n(dst + c * shape.positions, shape.positions, bias.data<T>()[c * bias.strides()[0]]);
        }
        for (int64_t g = 0; g < groups; ++g)
          conv_gemm<T>(serial, bias.defined(), shape.out_per_group, shape.positions, shape.patch,
                       {weight.data<T>() + shape.weight_offset(g), false},
                       {cols.data<T>() + shape.columns_offset(g), false},
                       out.data<T>() + shape.output_offset(sample, g));
      }
    });
  });
}

void CpuBackend::conv2d_backward_input(const Tensor& grad_in, const Tensor& grad_out, const Tensor& weight,
                                       const Window2d& window, int64_t groups) {
  ConvShape shape(grad_in.sizes(), weight.sizes(), window, groups);
  WindowPlan plan(window, shape.planes);
  dispatch_floating(grad_in.dtype(), "conv2d_backward_input", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_samples<T>(shape, shape.patch, shape.positions, shape.out_per_group,
                   [&](int64_t first, int64_t last, bool serial) {
      Tensor cols = empty(DimVec{shape.columns_size()}, grad_in.dtype());
      for (int64_t sample = first; sample < last; ++sample) {
        for (int64_t g = 0; g < groups; ++g)
          conv_gemm<T>(serial, false, shape.patch, shape.positions, shape.out_per_group,
                       {weight.data<T>() + shape.weight_offset(g), true},
                       {grad_out.data<T>() + shape.output_offset(sample, g), false},
                       cols.data<T>() + shape.columns_offset(g));
        cols_to_sample(grad_in.data<T>(), cols.data<T>(), sample, shape, plan);
      }
    });
  });
}

void CpuBackend::conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_out, const Tensor& in,
                                        const Window2d& window, int64_t groups) {
  ConvShape shape(in.sizes(), grad_weight.sizes(), window, groups);
  WindowPlan plan(window, shape.planes);
  int64_t weight_size = grad_weight.numel();
  dispatch_floating(in.dtype(), "conv2d_backward_weight", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (shape.samples == 0) {
      std::fill_n(grad_weight.data<T>(), weight_size, T(0));
      return;
    }
    bool serial = serial_gemms<T>(shape.out_per_group, shape.patch, shape.positions);
    int64_t partials = serial ? std::clamp<int64_t>(kMaxPartialElements / weight_size, 1,
                                                   std::min(shape.samples, kMaxWeightPartials))
                              : 1;
    Tensor sums = partials > 1 ? empty(DimVec{partials * weight_size}, in.dtype()) : grad_weight;
    // Partial sum `part` over its run of samples: grad_out[sample] @ cols[sample]^T per group.
    auto sum_part = [&](int64_t part, bool on_this_thread) {
      Tensor cols = empty(DimVec{shape.columns_size()}, in.dtype());
      int64_t first = part * shape.samples / partials, last = (part + 1) * shape.samples / partials;
      for (int64_t sample = first; sample < last; ++sample) {
        sample_to_cols(cols.data<T>(), in.data<T>(), sample, shape, plan);
        for (int64_t g = 0; g < groups; ++g)
          conv_gemm<T>(on_this_thread, sample > first, shape.out_per_group, shape.patch, shape.positions,
                       {grad_out.data<T>() + shape.output_offset(sample, g), false},
                       {cols.data<T>() + shape.columns_offset(g), true},
                       sums.data<T>() + part * weight_size + shape.weight_offset(g));
      }
    };
    std::optional<CallerLockRelease> unlocked;
    if (shape.multiply_adds() >= kGilFreeGemmWork) unlocked.emplace();
    if (partials == 1) {
      sum_part(0, false);
      return;
    }
    parallel_for(partials, 1, [&](int64_t begin, int64_t end) {
      for (int64_t part = begin; part < end; ++part) sum_part(part, true);
    });
    const T* part_sums = sums.data<T>();
    T* out = grad_weight.data<T>();
    vec::simd_for(weight_size, [&](int64_t i) TG_INLINE_LAMBDA {
      T total = part_sums[i];
      for (int64_t part = 1; part < partials; ++part) total += part_sums[part * weight_size + i];
      out[i] = total;
    });
  });
}

void CpuBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& in, const Window2d& window) {
  Planes planes(in.sizes());
  int64_t positions = window.out[0] * window.out[1], width = window.out[1];
  // As ATen, each output starts from -inf at the first element of its window inside the input (stepping by
  // the dilation), which keeps that index when nothing beats -inf.
  std::vector<int64_t> first_inside(positions);
  for (int64_t oh = 0; oh < window.out[0]; ++oh)
    for (int64_t ow = 0; ow < width; ++ow) {
      int64_t h = oh * window.stride[0] - window.padding[0], w = ow * window.stride[1] - window.padding[1];
      while (h < 0) h += window.dilation[0];
      while (w < 0) w += window.dilation[1];
      first_inside[oh * width + ow] = h * planes.width + w;
    }
  dispatch_numeric(in.dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                    : std::numeric_limits<T>::lowest();
    parallel_for(planes.count, rows_per_grain(positions * window.kernel[0] * window.kernel[1]),
                 [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t p = begin; p < end; ++p) {
          const T* src = in.data<T>() + p * planes.size();
          T* best = out.data<T>() + p * positions;
          int64_t* best_at = indices.data<int64_t>() + p * positions;
          std::fill_n(best, positions, lowest);
          std::copy(first_inside.begin(), first_inside.end(), best_at);
          // Kernel positions in ATen's order (window rows, then columns) for each output; a NaN always wins.
          for_each_window_row(window, planes, [&](int64_t row, int64_t at, int64_t lo, int64_t hi, int64_t step)
                                                  TG_INLINE_LAMBDA {
            int64_t o = row % positions;
            // Selects rather than a branch: on real data whether an element wins is a coin toss.
            for (int64_t ow = lo; ow < hi; ++ow) {
              T v = src[at + ow * step], current = best[o + ow];
              bool wins = v > current;
              if constexpr (std::is_floating_point_v<T>) wins = wins || v != v;
              best[o + ow] = wins ? v : current;
              best_at[o + ow] = wins ? at + ow * step : best_at[o + ow];
            }
          });
        }
      });
    });
  });
}

}  // namespace tg::cpu
