#include "cli/spool.h"

#include <system_error>

namespace argus::cli {

std::size_t RemoveStaleSpoolFiles(const std::filesystem::path& spool_dir,
                                  std::chrono::minutes age) {
  namespace fs = std::filesystem;
  const auto cutoff = fs::file_time_type::clock::now() - age;
  std::size_t removed = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(spool_dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code status_error;
    if (!it->is_regular_file(status_error)) continue;
    const auto written = it->last_write_time(status_error);
    if (status_error || written >= cutoff) continue;
    std::error_code remove_error;
    if (fs::remove(it->path(), remove_error)) ++removed;
  }
  return removed;
}

}  // namespace argus::cli
