#include "common/utf8.h"

#include <glib.h>

namespace argus {

bool IsUtf8(std::string_view text) {
  return g_utf8_validate_len(text.data(), text.size(), nullptr) != 0;
}

std::string MadeUtf8(std::string_view text) {
  gchar* valid = g_utf8_make_valid(text.data(), static_cast<gssize>(text.size()));
  std::string made(valid);
  g_free(valid);
  return made;
}

bool HasSpaceControlOrFormat(std::string_view text) {
  const gchar* end = text.data() + text.size();
  for (const gchar* at = text.data(); at < end; at = g_utf8_next_char(at)) {
    const gunichar character = g_utf8_get_char(at);
    switch (g_unichar_type(character)) {
      case G_UNICODE_CONTROL:
      case G_UNICODE_FORMAT:
      case G_UNICODE_SPACE_SEPARATOR:
      case G_UNICODE_LINE_SEPARATOR:
      case G_UNICODE_PARAGRAPH_SEPARATOR:
        return true;
      default:
        break;
    }
  }
  return false;
}

}  // namespace argus
