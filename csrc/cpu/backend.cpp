#include "cpu/cpu_backend.h"

namespace tg::cpu {
namespace {
// Registered at load time so that every device lookup finds the CPU.
struct RegisterCpu {
  RegisterCpu() {
    static CpuBackend backend;
    register_backend(DeviceType::CPU, &backend);
  }
} register_cpu;
}  // namespace
}  // namespace tg::cpu
