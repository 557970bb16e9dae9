#pragma once
// Intrusive reference counting: one allocation per object, and a raw pointer can be
// turned back into an owning reference (the Python wrapper holds exactly that).
#include <atomic>
#include <utility>

namespace tg {

struct RefCounted {
  mutable std::atomic<int> refcount_{0};
  RefCounted() = default;
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;
  virtual ~RefCounted() = default;
};

template <typename T>
class Ref {
 public:
  Ref() = default;
  Ref(std::nullptr_t) {}
  explicit Ref(T* p) : p_(p) { retain(); }
  Ref(const Ref& o) : p_(o.p_) { retain(); }
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  template <typename U>
  Ref(const Ref<U>& o) : p_(o.get()) { retain(); }
  ~Ref() { release(); }
  Ref& operator=(const Ref& o) { Ref(o).swap(*this); return *this; }
  Ref& operator=(Ref&& o) noexcept { Ref(std::move(o)).swap(*this); return *this; }
  void swap(Ref& o) noexcept { std::swap(p_, o.p_); }
  void reset() { release(); p_ = nullptr; }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(const Ref& o) const { return p_ == o.p_; }
  bool operator!=(const Ref& o) const { return p_ != o.p_; }
  int use_count() const { return p_ ? p_->refcount_.load(std::memory_order_relaxed) : 0; }

  // A new reference to p unless p is null or already being destroyed (count at zero).
  static Ref try_retain(T* p) {
    if (!p) return Ref();
    int count = p->refcount_.load(std::memory_order_relaxed);
    while (count > 0) {
      if (p->refcount_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel)) return adopt(p);
    }
    return Ref();
  }

  // Hands the reference over to the caller, who must later adopt() it.
  T* leak() { T* p = p_; p_ = nullptr; return p; }
  static Ref adopt(T* p) { Ref r; r.p_ = p; return r; }

 private:
  void retain() { if (p_) p_->refcount_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (p_ && p_->refcount_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
  }
  T* p_ = nullptr;
};

template <typename T, typename... Args>
Ref<T> make_ref(Args&&... args) { return Ref<T>(new T(std::forward<Args>(args)...)); }

}  // namespace tg
