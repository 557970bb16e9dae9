#pragma once
#include <cstdint>
#include <cstddef>
#include "core/error.h"

namespace tg {

// Ordered so that promotion within a category picks the larger value.
enum class ScalarType : uint8_t { Bool = 0, Int64 = 1, Float32 = 2, Float64 = 3 };
constexpr int kNumScalarTypes = 4;

inline size_t itemsize(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return 1;
    case ScalarType::Int64: return 8;
    case ScalarType::Float32: return 4;
    case ScalarType::Float64: return 8;
  }
  return 0;
}
inline bool is_floating(ScalarType t) { return t == ScalarType::Float32 || t == ScalarType::Float64; }
inline bool is_integral(ScalarType t, bool include_bool) {
  return t == ScalarType::Int64 || (include_bool && t == ScalarType::Bool);
}
// PyTorch's names: float32 prints as torch.float32.
inline const char* dtype_name(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "bool";
    case ScalarType::Int64: return "int64";
    case ScalarType::Float32: return "float32";
    case ScalarType::Float64: return "float64";
  }
  return "?";
}
// The names PyTorch's C++ messages use for dtypes ("expected Float but got Long").
inline const char* scalar_type_word(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "Bool";
    case ScalarType::Int64: return "Long";
    case ScalarType::Float32: return "Float";
    case ScalarType::Float64: return "Double";
  }
  return "?";
}
// The C type names some PyTorch messages use for dtypes ("float != double").
inline const char* cpp_type_name(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "bool";
    case ScalarType::Int64: return "long int";
    case ScalarType::Float32: return "float";
    case ScalarType::Float64: return "double";
  }
  return "?";
}
// Legacy type names used in autograd error messages (torch.FloatTensor).
inline const char* legacy_type_name(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "BoolTensor";
    case ScalarType::Int64: return "LongTensor";
    case ScalarType::Float32: return "FloatTensor";
    case ScalarType::Float64: return "DoubleTensor";
  }
  return "?";
}

// With only bool < int64 < float32 < float64, promotion is the maximum.
inline ScalarType promote_types(ScalarType a, ScalarType b) { return a > b ? a : b; }

ScalarType default_dtype();
void set_default_dtype(ScalarType t);

template <typename T> struct TypeTag { using type = T; };

// Calls fn(TypeTag<T>{}) with T the C++ type of dtype.
template <typename Fn>
decltype(auto) dispatch_all(ScalarType t, Fn&& fn) {
  switch (t) {
    case ScalarType::Bool: return fn(TypeTag<bool>{});
    case ScalarType::Int64: return fn(TypeTag<int64_t>{});
    case ScalarType::Float32: return fn(TypeTag<float>{});
    case ScalarType::Float64: return fn(TypeTag<double>{});
  }
  throw Error("unknown dtype");
}
template <typename Fn>
decltype(auto) dispatch_floating(ScalarType t, const char* op, Fn&& fn) {
  switch (t) {
    case ScalarType::Float32: return fn(TypeTag<float>{});
    case ScalarType::Float64: return fn(TypeTag<double>{});
    default: throw NotImplementedError(str_cat("\"", op, "\" not implemented for '", dtype_name(t), "'"));
  }
}
template <typename Fn>
decltype(auto) dispatch_numeric(ScalarType t, const char* op, Fn&& fn) {
  switch (t) {
    case ScalarType::Int64: return fn(TypeTag<int64_t>{});
    case ScalarType::Float32: return fn(TypeTag<float>{});
    case ScalarType::Float64: return fn(TypeTag<double>{});
    default: throw NotImplementedError(str_cat("\"", op, "\" not implemented for '", dtype_name(t), "'"));
  }
}

template <typename T> constexpr ScalarType scalar_type_of();
template <> constexpr ScalarType scalar_type_of<bool>() { return ScalarType::Bool; }
template <> constexpr ScalarType scalar_type_of<int64_t>() { return ScalarType::Int64; }
template <> constexpr ScalarType scalar_type_of<float>() { return ScalarType::Float32; }
template <> constexpr ScalarType scalar_type_of<double>() { return ScalarType::Float64; }

}  // namespace tg
