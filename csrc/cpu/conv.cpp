// Sliding-window kernels for convolution and pooling: im2col, its adjoint col2im, and max pooling. Each
// (sample, channel) plane is independent, so planes run in parallel.
#include <algorithm>
#include <cmath>
#include <limits>
#include "cpu/cpu_backend.h"
#include "cpu/parallel.h"

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
void for_each_window_row(const Window2d& w, const Planes& planes, Visit&& visit) {
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

}  // namespace

void CpuBackend::im2col(const Tensor& cols, const Tensor& in, const Window2d& window) {
  Planes planes(in.sizes());
  int64_t block = window.kernel[0] * window.kernel[1] * window.out[0] * window.out[1];
  dispatch_floating(in.dtype(), "im2col", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for(planes.count, rows_per_grain(block), [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const T* src = in.data<T>() + p * planes.size();
        T* dst = cols.data<T>() + p * block;
        for_each_window_row(window, planes, [&](int64_t out, int64_t at, int64_t lo, int64_t hi, int64_t step) {
          T* row = dst + out;
          std::fill(row, row + lo, T(0));
          for (int64_t ow = lo; ow < hi; ++ow) row[ow] = src[at + ow * step];
          std::fill(row + hi, row + window.out[1], T(0));
        });
      }
    });
  });
}

void CpuBackend::col2im(const Tensor& out, const Tensor& cols, const Window2d& window) {
  Planes planes(out.sizes());
  int64_t block = window.kernel[0] * window.kernel[1] * window.out[0] * window.out[1];
  dispatch_floating(out.dtype(), "col2im", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for(planes.count, rows_per_grain(block), [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        T* dst = out.data<T>() + p * planes.size();
        const T* src = cols.data<T>() + p * block;
        std::fill_n(dst, planes.size(), T(0));
        for_each_window_row(window, planes, [&](int64_t out, int64_t at, int64_t lo, int64_t hi, int64_t step) {
          const T* row = src + out;
          for (int64_t ow = lo; ow < hi; ++ow) dst[at + ow * step] += row[ow];
        });
      }
    });
  });
}

void CpuBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& in, const Window2d& window) {
  Planes planes(in.sizes());
  int64_t positions = window.out[0] * window.out[1];
  dispatch_numeric(in.dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for(planes.count, rows_per_grain(positions * window.kernel[0] * window.kernel[1]),
                 [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const T* src = in.data<T>() + p * planes.size();
        T* dst = out.data<T>() + p * positions;
        int64_t* dst_index = indices.data<int64_t>() + p * positions;
        for (int64_t oh = 0; oh < window.out[0]; ++oh)
          for (int64_t ow = 0; ow < window.out[1]; ++ow) {
            // As ATen: the window clipped to the input, starting at its first element inside it.
            int64_t h0 = oh * window.stride[0] - window.padding[0], w0 = ow * window.stride[1] - window.padding[1];
            int64_t h1 = std::min(h0 + (window.kernel[0] - 1) * window.dilation[0] + 1, planes.height);
            int64_t w1 = std::min(w0 + (window.kernel[1] - 1) * window.dilation[1] + 1, planes.width);
            while (h0 < 0) h0 += window.dilation[0];
            while (w0 < 0) w0 += window.dilation[1];
            int64_t best_at = h0 * planes.width + w0;
            T best = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                          : std::numeric_limits<T>::lowest();
            for (int64_t h = h0; h < h1; h += window.dilation[0])
              for (int64_t x = w0; x < w1; x += window.dilation[1]) {
                int64_t at = h * planes.width + x;
                T v = src[at];
                bool is_nan = false;
                if constexpr (std::is_floating_point_v<T>) is_nan = std::isnan(v);
                if (v > best || is_nan) {
                  best = v;
                  best_at = at;
                }
              }
            dst[oh * window.out[1] + ow] = best;
            dst_index[oh * window.out[1] + ow] = best_at;
          }
      }
    });
  });
}

}  // namespace tg::cpu
