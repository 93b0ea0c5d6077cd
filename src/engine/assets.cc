#include "engine/assets.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "engine/manifest.h"

namespace argus::engine {

Result<std::filesystem::path> ResolveAssetsDir(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!configured.empty()) {
    if (fs::is_directory(configured, error)) return fs::absolute(configured);
    return Fail(ErrorCode::kNotFound, "assets directory \"" + configured +
                                          "\" (--assets-dir or ARGUS_ASSETS_DIR) does not exist");
  }
  std::vector<fs::path> candidates{fs::path("..") / "shared" / "assets"};
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back(executable.parent_path() / ".." / ".." / "shared" / "assets");
  }
  if (const char* home = std::getenv("HOME")) {
    candidates.push_back(fs::path(home) / ".local" / "share" / "argus" / "assets");
  }
  std::vector<std::string> searched_paths;
  for (const fs::path& candidate : candidates) {
    if (fs::is_directory(candidate / "models", error)) return fs::weakly_canonical(candidate);
    // The working directory's and the binary's candidates are often the same folder.
    std::string path = fs::absolute(candidate).lexically_normal().string();
    if (!std::ranges::contains(searched_paths, path)) searched_paths.push_back(std::move(path));
  }
  std::string searched;
  for (const std::string& path : searched_paths) {
    searched += (searched.empty() ? "" : ", ") + path;
  }
  return Fail(ErrorCode::kNotFound,
              "no assets directory found (searched " + searched +
                  "): set ARGUS_ASSETS_DIR (or --assets-dir) to a folder with models/ and "
                  "labels/, or run scripts/fetch-assets to download them");
}

Result<std::filesystem::path> ResolveAssetsDirFor(std::string_view model,
                                                  const std::string& configured) {
  if (configured.empty() && !std::ranges::contains(BuiltinModelNames(), model)) {
    return std::filesystem::path();
  }
  return ResolveAssetsDir(configured);
}

}  // namespace argus::engine
