#pragma once

// Test-only: runs the real `argus` binary the way users do, from the source folder, or a
// copy of it from another folder.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace argus::cli {

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

// `binary` run in `working_dir`. `environment`: words put before the command (NAME=VALUE,
// or `env -u NAME`). `stdout_path`: where standard output goes instead of `out`.
inline Outcome RunArgusIn(const std::filesystem::path& working_dir,
                          const std::filesystem::path& binary, const std::string& arguments,
                          const std::string& environment = "",
                          const std::string& stdout_path = "") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string out = stdout_path.empty()
                              ? std::string(dir / ("argus-cli-out-" + std::to_string(getpid())))
                              : stdout_path;
  const std::string err = dir / ("argus-cli-err-" + std::to_string(getpid()));
  const std::string command = "cd " + working_dir.string() + " && " + environment + " " +
                              binary.string() + " " + arguments + " >" + out + " 2>" + err +
                              " </dev/null";
  const int status = std::system(command.c_str());
  auto slurp = [](const std::string& path) {
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    return text.str();
  };
  Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                  stdout_path.empty() ? slurp(out) : "", slurp(err)};
  if (stdout_path.empty()) std::filesystem::remove(out);
  std::filesystem::remove(err);
  return outcome;
}

inline Outcome RunArgus(const std::string& arguments, const std::string& environment = "",
                        const std::string& stdout_path = "") {
  return RunArgusIn(ARGUS_TEST_SOURCE_DIR, ARGUS_BINARY, arguments, environment, stdout_path);
}

}  // namespace argus::cli
