#pragma once
#include <cstddef>
#include <cstdint>
#include "core/device.h"
#include "core/ref.h"

namespace tg {

// Frees memory the storage does not own (a NumPy array's buffer, another storage).
using ExternalDeleter = void (*)(void* context);

// A block of memory shared by a tensor and its views. The version counter lives here
// because every view of the same data must see the same version; `.data` gets a fresh
// Storage aliasing the same bytes so that its writes are not tracked, as in PyTorch.
struct Storage : RefCounted {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  uint32_t version = 0;
  ExternalDeleter deleter = nullptr;  // null: memory came from the device allocator
  void* deleter_context = nullptr;

  ~Storage() override;
  static Ref<Storage> allocate(size_t nbytes, Device device);
  static Ref<Storage> wrap_external(void* data, size_t nbytes, Device device,
                                    ExternalDeleter deleter, void* context);
  // Same bytes, independent version counter.
  static Ref<Storage> alias(const Ref<Storage>& base);
};

// Device allocators keep freed blocks for reuse: fresh outputs then cost no system call
// and no page faults.
struct Allocator {
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  virtual void empty_cache() = 0;
  virtual size_t cached_bytes() const = 0;
};
Allocator& cpu_allocator();
Allocator& allocator_for(Device device);
void register_allocator(DeviceType type, Allocator* allocator);

}  // namespace tg
