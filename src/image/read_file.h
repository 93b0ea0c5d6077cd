#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "common/error.h"

namespace argus::image {

// Reads a whole file, refusing one larger than max_bytes (kTooLarge): up front when its size is
// known, as soon as the limit is passed otherwise (pipes, files still growing). A missing file
// is kNotFound; any other failure to open or read (a directory, no permission) is kIo.
// Messages name the path.
Result<std::vector<std::byte>> ReadFile(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace argus::image
