#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace argus::cli {

// Removes the request bodies Drogon spooled under `spool_dir` (its upload path) that were
// last written longer than `age` ago: a process killed mid-upload leaves its spool files
// behind, and nothing else would ever remove them. Younger files may belong to requests in
// progress. Returns how many it removed; a file it cannot remove is left.
std::size_t RemoveStaleSpoolFiles(const std::filesystem::path& spool_dir, std::chrono::minutes age);

}  // namespace argus::cli
