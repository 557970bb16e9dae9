#pragma once
// Sizes and strides live inline for up to kInline dims, so a tensor of ordinary rank
// costs no heap allocation for its shape.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace tg {

class DimVec {
 public:
  static constexpr size_t kInline = 6;
  DimVec() = default;
  explicit DimVec(size_t n, int64_t value = 0) { assign(n, value); }
  DimVec(std::initializer_list<int64_t> init) { assign(init.begin(), init.end()); }
  DimVec(const std::vector<int64_t>& v) { assign(v.data(), v.data() + v.size()); }
  DimVec(const int64_t* b, const int64_t* e) { assign(b, e); }
  DimVec(const DimVec& o) { assign(o.begin(), o.end()); }
  DimVec(DimVec&& o) noexcept { steal(o); }
  DimVec& operator=(const DimVec& o) { if (this != &o) assign(o.begin(), o.end()); return *this; }
  DimVec& operator=(DimVec&& o) noexcept { if (this != &o) { release(); steal(o); } return *this; }
  ~DimVec() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t* data() { return ptr_; }
  const int64_t* data() const { return ptr_; }
  int64_t* begin() { return ptr_; }
  int64_t* end() { return ptr_ + size_; }
  const int64_t* begin() const { return ptr_; }
  const int64_t* end() const { return ptr_ + size_; }
  int64_t& operator[](size_t i) { return ptr_[i]; }
  int64_t operator[](size_t i) const { return ptr_[i]; }
  int64_t& back() { return ptr_[size_ - 1]; }
  int64_t back() const { return ptr_[size_ - 1]; }

  void reserve(size_t n) {
    if (n <= cap_) return;
    int64_t* p = new int64_t[n];
    std::memcpy(p, ptr_, size_ * sizeof(int64_t));
    release();
    ptr_ = p;
    cap_ = n;
  }
  void resize(size_t n, int64_t value = 0) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) ptr_[i] = value;
    size_ = n;
  }
  void push_back(int64_t v) {
    if (size_ == cap_) reserve(cap_ * 2);
    ptr_[size_++] = v;
  }
  void insert(size_t pos, int64_t v) {
    push_back(0);
    std::memmove(ptr_ + pos + 1, ptr_ + pos, (size_ - 1 - pos) * sizeof(int64_t));
    ptr_[pos] = v;
  }
  void erase(size_t pos) {
    std::memmove(ptr_ + pos, ptr_ + pos + 1, (size_ - 1 - pos) * sizeof(int64_t));
    --size_;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }
  void assign(size_t n, int64_t value) { size_ = 0; resize(n, value); }
  void assign(const int64_t* b, const int64_t* e) {
    size_t n = static_cast<size_t>(e - b);
    size_ = 0;
    reserve(n);
    if (n) std::memmove(ptr_, b, n * sizeof(int64_t));
    size_ = n;
  }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }

  bool operator==(const DimVec& o) const {
    return size_ == o.size_ && std::equal(begin(), end(), o.begin());
  }
  bool operator!=(const DimVec& o) const { return !(*this == o); }

 private:
  void release() {
    if (ptr_ != inline_) delete[] ptr_;
    ptr_ = inline_;
    cap_ = kInline;
  }
  void steal(DimVec& o) {
    if (o.ptr_ == o.inline_) {
      ptr_ = inline_;
      cap_ = kInline;
      std::memcpy(inline_, o.inline_, o.size_ * sizeof(int64_t));
    } else {
      ptr_ = o.ptr_;
      cap_ = o.cap_;
      o.ptr_ = o.inline_;
      o.cap_ = kInline;
    }
    size_ = o.size_;
    o.size_ = 0;
  }
  int64_t inline_[kInline];
  int64_t* ptr_ = inline_;
  size_t size_ = 0;
  size_t cap_ = kInline;
};

}  // namespace tg
