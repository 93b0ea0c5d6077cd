#include "image/vips_init.h"

#include <vips/vips.h>

#include <mutex>

#include "common/log.h"
#include "image/vips_util.h"

namespace argus::image {
namespace {

void LogVipsMessage(const gchar* /*domain*/, GLogLevelFlags level, const gchar* message,
                    gpointer /*data*/) {
  const std::string text = internal::OneLineWithoutNoise(message != nullptr ? message : "");
  if (text.empty()) return;
  LogLine((level & G_LOG_LEVEL_WARNING) != 0 ? "warning" : "info", "vips", text);
}

}  // namespace

void InitializeVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Only a broken installation fails here; nothing in this module could work without it.
    if (VIPS_INIT("argus") != 0) {
      vips_error_exit("cannot initialise libvips");
    }
    vips_cache_set_max(0);
    vips_concurrency_set(1);
  });
}

void DropVipsWarnings() {
  g_log_set_handler(
      "VIPS", G_LOG_LEVEL_WARNING,
      [](const gchar* /*domain*/, GLogLevelFlags /*level*/, const gchar* /*message*/,
         gpointer /*data*/) {},
      nullptr);
}

void LogVipsWarnings() {
  g_log_set_handler(
      "VIPS",
      // Not G_LOG_LEVEL_INFO: libvips reports every module it loads at that level, which GLib
      // shows only when asked to (G_MESSAGES_DEBUG) and the JSON log showed at every start.
      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE), LogVipsMessage,
      nullptr);
}

}  // namespace argus::image
