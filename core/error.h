// Errors: every failure mixgrad reports is a mixgrad::Error with a message that names the shape, file or
// value involved and what was expected. MG_CHECK builds such a message from stream-able parts.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace mg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}
}  // namespace detail

}  // namespace mg

// MG_CHECK(cond, "what", shape, "expected", ...) throws mg::Error with the parts concatenated.
#define MG_CHECK(cond, ...)                          \
  do {                                               \
    if (!(cond)) ::mg::detail::fail(__VA_ARGS__);    \
  } while (0)
#define MG_FAIL(...) ::mg::detail::fail(__VA_ARGS__)
