#pragma once

// Test-only: s3rver (npm, installed by `npm ci` in tests/tools) on a loopback port,
// the S3-compatible server of the S3 blob store's integration tests. It accepts only the
// key pair S3RVER:S3RVER and does not check SigV4 signatures (s3_signing_test.cc checks
// those against AWS's examples).

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <format>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "common/error.h"

namespace argus::blob {

struct PlainResponse {
  int status = 0;  // 0: no response
  std::string body;
  std::string content_type;
};

// A plain GET with no credentials, as a browser fetches a presigned URL.
inline PlainResponse PlainGet(const std::string& url) {
  PlainResponse response;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION,
      +[](char* data, std::size_t size, std::size_t count, void* body) {
        static_cast<std::string*>(body)->append(data, size * count);
        return size * count;
      });
  if (curl_easy_perform(curl) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    const char* type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) response.content_type = type;
  }
  curl_easy_cleanup(curl);
  return response;
}

class S3rver {
 public:
  // Starts s3rver and waits until it answers HTTP. Fails, saying how to install it, when
  // tests/tools/node_modules lacks it.
  static Result<std::unique_ptr<S3rver>> Start() {
    const std::filesystem::path tools =
        std::filesystem::path(ARGUS_TEST_SOURCE_DIR) / "tests/tools";
    const std::filesystem::path script = tools / "node_modules/s3rver/bin/s3rver.js";
    if (!std::filesystem::exists(script)) {
      return Fail(ErrorCode::kUnavailable,
                  std::format("s3rver is not installed ({} is missing): run `npm ci` in "
                              "tests/tools, i.e. cd {} && npm ci",
                              script.string(), tools.string()));
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "argus-s3rver-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Fail(ErrorCode::kIo, "cannot create a folder for s3rver");
    }
    const std::filesystem::path dir = pattern;
    // Port 0: the kernel picks a free port and s3rver prints it, so parallel test programs
    // never race for one.
    const pid_t pid = Spawn(script, dir, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::string log;
    while (std::chrono::steady_clock::now() < deadline && ::waitpid(pid, nullptr, WNOHANG) == 0) {
      std::ostringstream text;
      text << std::ifstream(dir / "log").rdbuf();
      log = text.str();
      constexpr std::string_view kListening = "S3rver listening on 127.0.0.1:";
      if (const std::size_t at = log.find(kListening); at != std::string::npos) {
        const int port = std::atoi(log.c_str() + at + kListening.size());
        if (Answers(port)) return std::unique_ptr<S3rver>(new S3rver(pid, port, script, dir));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(dir);
    return Fail(ErrorCode::kUnavailable, "s3rver did not start; its output:\n" + log);
  }

  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;
  ~S3rver() {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  int port() const { return port_; }

  // An outage: the server goes away, its objects stay for Restart.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::kill(pid_, SIGCONT);  // a paused server takes the signal once it runs
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // A server that stops answering: its process stopped (SIGSTOP; returns once it has
  // stopped), its connections left open, until Resume (SIGCONT).
  void Pause() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGSTOP);
    while (::waitpid(pid_, nullptr, WUNTRACED) < 0 && errno == EINTR) {
    }
  }
  void Resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  // The server back on its port, with the objects it had.
  Result<void> Restart() {
    Stop();
    pid_ = Spawn(script_, dir_, port_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Answers(port_)) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Fail(ErrorCode::kUnavailable, std::format("s3rver did not restart on {}", port_));
  }

  // An s3:// URL for `bucket`. Virtual-host requests go to BUCKET.s3.localhost, which
  // libcurl resolves to the loopback itself and s3rver (--service-endpoint localhost) maps
  // to the bucket.
  std::string Url(std::string_view bucket, bool virtual_host) const {
    if (virtual_host) {
      return std::format("s3://S3RVER:S3RVER@s3.localhost:{}/{}?scheme=http&addressing=virtual",
                         port_, bucket);
    }
    return std::format("s3://S3RVER:S3RVER@127.0.0.1:{}/{}?scheme=http", port_, bucket);
  }

 private:
  S3rver(pid_t pid, int port, std::filesystem::path script, std::filesystem::path dir)
      : pid_(pid), port_(port), script_(std::move(script)), dir_(std::move(dir)) {}

  // Port 0: the kernel's choice, which s3rver prints.
  static pid_t Spawn(const std::filesystem::path& script, const std::filesystem::path& dir,
                     int port) {
    // Everything the child needs is made before fork: after it, only async-signal-safe calls.
    const std::string script_arg = script.string();
    const std::string port_arg = std::to_string(port);
    const std::string data_arg = (dir / "data").string();
    const std::string log_path = (dir / "log").string();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    // s3rver must not outlive a test program that crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    // s3rver's continuation tokens (a listing of over 1,000 keys) are DES-encrypted, which
    // OpenSSL 3 keeps in its legacy provider: without it the second page is a 500.
    ::execlp("node", "node", "--openssl-legacy-provider", script_arg.c_str(), "-d",
             data_arg.c_str(), "-a", "127.0.0.1", "-p", port_arg.c_str(), "--no-vhost-buckets",
             "--service-endpoint", "localhost", nullptr);
    constexpr std::string_view kNoNode = "cannot run node: is Node.js installed?\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kNoNode.data(), kNoNode.size());
    ::_exit(127);
  }

  // Any HTTP answer will do: the server is up.
  static bool Answers(int port) {
    CURL* curl = curl_easy_init();
    const std::string url = std::format("http://127.0.0.1:{}/", port);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION,
        +[](char*, std::size_t size, std::size_t count, void*) { return size * count; });
    const bool answered = curl_easy_perform(curl) == CURLE_OK;
    curl_easy_cleanup(curl);
    return answered;
  }

  pid_t pid_;
  int port_;
  std::filesystem::path script_;
  std::filesystem::path dir_;
};

// One s3rver for the whole test program, started on first use and stopped when the program
// ends; each test takes a bucket of its own.
inline Result<S3rver*> SharedS3rver() {
  static const Result<std::unique_ptr<S3rver>> server = S3rver::Start();
  if (!server) return std::unexpected(server.error());
  return server->get();
}

inline std::string NewBucketName() {
  static std::atomic<int> next = 0;
  return std::format("bucket-{}", ++next);
}

}  // namespace argus::blob
