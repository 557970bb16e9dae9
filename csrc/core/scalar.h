#pragma once
#include <cstdint>
#include "core/dtype.h"

namespace tg {

// A Python number: its kind decides type promotion, its value is kept exactly.
class Scalar {
 public:
  Scalar() : kind_(ScalarType::Int64), i_(0) {}
  Scalar(double v) : kind_(ScalarType::Float64), d_(v) {}
  Scalar(float v) : kind_(ScalarType::Float64), d_(v) {}
  Scalar(int64_t v) : kind_(ScalarType::Int64), i_(v) {}
  Scalar(int v) : kind_(ScalarType::Int64), i_(v) {}
  Scalar(bool v) : kind_(ScalarType::Bool), i_(v) {}

  ScalarType kind() const { return kind_; }
  bool is_floating() const { return kind_ == ScalarType::Float64; }
  double to_double() const { return kind_ == ScalarType::Float64 ? d_ : static_cast<double>(i_); }
  int64_t to_int() const { return kind_ == ScalarType::Float64 ? static_cast<int64_t>(d_) : i_; }
  template <typename T> T to() const {
    if (kind_ == ScalarType::Float64) return static_cast<T>(d_);
    return static_cast<T>(i_);
  }

 private:
  ScalarType kind_;
  union { double d_; int64_t i_; };
};

}  // namespace tg
