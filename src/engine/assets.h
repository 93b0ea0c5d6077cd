#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::engine {

// Where models, labels and breed photos live. An explicit setting (flag or ARGUS_ASSETS_DIR)
// wins and must exist; otherwise the first existing of ../shared/assets (from the working
// directory, then from the executable's build folder) and the folder scripts/fetch-assets
// fills (~/.local/share/argus/assets).
Result<std::filesystem::path> ResolveAssetsDir(const std::string& configured);

// The assets directory `model` needs: resolved as above for a built-in model, or when one is
// configured; none (an empty path) for the path of a manifest file, whose files are named
// relative to it.
Result<std::filesystem::path> ResolveAssetsDirFor(std::string_view model,
                                                  const std::string& configured);

}  // namespace argus::engine
