#pragma once
// Exceptions carry the Python type they become at the binding boundary.
#include <sstream>
#include <stdexcept>
#include <string>

namespace tg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct TypeError : Error { using Error::Error; };
struct ValueError : Error { using Error::Error; };
struct IndexError : Error { using Error::Error; };
struct NotImplementedError : Error { using Error::Error; };

template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace tg

#define TG_CHECK(cond, ...) \
  do { if (!(cond)) throw ::tg::Error(::tg::str_cat(__VA_ARGS__)); } while (0)
#define TG_CHECK_TYPE(cond, ...) \
  do { if (!(cond)) throw ::tg::TypeError(::tg::str_cat(__VA_ARGS__)); } while (0)
#define TG_CHECK_VALUE(cond, ...) \
  do { if (!(cond)) throw ::tg::ValueError(::tg::str_cat(__VA_ARGS__)); } while (0)
#define TG_CHECK_INDEX(cond, ...) \
  do { if (!(cond)) throw ::tg::IndexError(::tg::str_cat(__VA_ARGS__)); } while (0)
