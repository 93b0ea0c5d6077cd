#include "image/vips_util.h"

#include <ranges>
#include <string>
#include <utility>

namespace argus::image::internal {

Error VipsError(ErrorCode code, std::string_view what) {
  // Copy-and-clear is one locked step, so a concurrent failure cannot be lost between the two.
  char* raw = vips_error_buffer_copy();
  const std::string_view detail(raw);

  // libvips ends every message with a newline; one line reads better in logs and JSON.
  std::string message(what);
  std::string_view separator = ": ";
  for (const auto line : std::views::split(detail, '\n')) {
    if (line.empty()) {
      continue;
    }
    message.append(separator).append(std::string_view(line));
    separator = "; ";
  }
  g_free(raw);
  return Error{code, std::move(message)};
}

}  // namespace argus::image::internal
