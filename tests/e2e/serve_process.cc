#include "serve_process.h"

#include <arpa/inet.h>
#include <drogon/HttpRequest.h>
#include <drogon/UploadFile.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <json/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cstring>
#include <format>
#include <fstream>
#include <iostream>
#include <iterator>
#include <latch>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/sha256.h"
#include "events/nats_test_server.h"

namespace argus::e2e {
namespace {

// Runs `argv` (argv[0] the program's path) with stdout and stderr appended to `log`.
pid_t Spawn(std::vector<std::string> argv, const std::filesystem::path& log) {
  // Everything the child needs is made before fork: other threads of the test may hold
  // locks at that moment, so the child makes only async-signal-safe calls.
  std::vector<char*> raw;
  raw.reserve(argv.size() + 1);
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int log_file = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log_file, STDERR_FILENO);
    dup2(log_file, STDOUT_FILENO);
    execv(raw[0], raw.data());
    _exit(127);
  }
  return pid;
}

// Runs the binary as `argus COMMAND ARGUMENTS...` with stdout and stderr appended to `log`.
pid_t SpawnArgus(const std::string& command, const std::vector<std::string>& arguments,
                 const std::filesystem::path& log) {
  std::vector<std::string> argv{ARGUS_BINARY, command};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return Spawn(std::move(argv), log);
}

void KillAndReap(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

// SIGTERM and wait; the exit status, 128 + signal, or -1 (still running) after `timeout`.
int TerminateAndReap(pid_t& pid, std::chrono::seconds timeout) {
  if (pid <= 0) return -1;
  kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string ReadText(const std::filesystem::path& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

std::string ExitDescription(int status) {
  return WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                             : "status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

SyscallTrace::SyscallTrace(pid_t pid, std::filesystem::path output, const std::string& syscalls)
    : traced_(pid), output_(std::move(output)) {
  strace_ = Spawn({"/usr/bin/strace", "-f", "-y", "-qq", "-s", "4096", "-e", "trace=" + syscalls,
                   "-o", output_, "-p", std::to_string(pid)},
                  output_.string() + ".log");
  WaitUntilAttached();
}

void SyscallTrace::WaitUntilAttached() {
  ASSERT_GT(strace_, 0) << "fork: " << std::strerror(errno);
  // Traced threads show strace's pid as their TracerPid.
  auto all_traced = [this] {
    std::error_code error;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(traced_) + "/task", error)) {
      std::ifstream status(task.path() / "status");
      std::string line;
      bool traced = false;
      while (std::getline(status, line)) {
        if (line.starts_with("TracerPid:")) traced = std::stoi(line.substr(10)) == strace_;
      }
      if (!traced) return false;
    }
    return !error;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!all_traced()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "strace did not attach to every thread of " << traced_;
    ASSERT_NE(waitpid(strace_, nullptr, WNOHANG), strace_)
        << "strace exited (is it installed?); see " << output_.string() << ".log";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

SyscallTrace::~SyscallTrace() { KillAndReap(strace_); }

std::vector<std::string> SyscallTrace::Stop() {
  if (strace_ > 0) {
    kill(strace_, SIGINT);  // detaches, and the traced process goes on
    waitpid(strace_, nullptr, 0);
    strace_ = -1;
  }
  std::vector<std::string> lines;
  std::ifstream output(output_);
  for (std::string line; std::getline(output, line);) lines.push_back(line);
  return lines;
}

std::set<std::filesystem::path> FlushedPaths(const std::vector<std::string>& lines) {
  // Lines such as `1234  fdatasync(7</data/catalog.db-wal>) = 0`.
  std::set<std::filesystem::path> synced;
  for (const std::string& line : lines) {
    const auto open = line.find('<');
    const auto close = line.find(">)", open);
    if (open != std::string::npos && close != std::string::npos) {
      synced.insert(line.substr(open + 1, close - open - 1));
    }
  }
  return synced;
}

std::string RawExchange(int port, const std::string& request, std::chrono::milliseconds limit) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (auto now = std::chrono::steady_clock::now(); now < deadline;
         now = std::chrono::steady_clock::now()) {
      pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (::poll(&readable, 1, static_cast<int>(left.count()) + 1) <= 0) break;
      char buffer[4096];
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      answer.append(buffer, static_cast<std::size_t>(got));
    }
  }
  ::close(fd);
  return answer;
}

HttpResult ToResult(drogon::ReqResult result, const drogon::HttpResponsePtr& response) {
  HttpResult out;
  if (result != drogon::ReqResult::Ok || !response) return out;
  out.status = static_cast<int>(response->statusCode());
  out.body = std::string(response->body());
  out.content_type = std::string(response->getHeader("content-type"));
  for (const auto& [name, value] : response->headers()) out.headers[name] = value;
  out.location = response->getHeader("location");
  for (const auto& [name, cookie] : response->getCookies()) {
    out.cookies[name] = cookie.value();
    out.set_cookies.push_back(cookie.cookieString());
  }
  Json::CharReaderBuilder builder;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  std::string errors;
  reader->parse(out.body.data(), out.body.data() + out.body.size(), &out.json, &errors);
  return out;
}

ServeProcess::ServeProcess(std::filesystem::path data_dir, std::string command)
    : data_dir_(std::move(data_dir)), command_(std::move(command)) {
  loop_.run();
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) Kill9();
  client_.reset();
}

void ServeProcess::Start(const std::vector<std::string>& arguments) {
  // Known issue (docs/ARCHITECTURE.md): now and then the process dies with SIGSEGV inside
  // Drogon 1.9.0's main loop within its first second, with or without requests. Until that
  // is fixed a start is tried up to three times, and every crash is reported on stderr. A
  // start whose port another test took in the meantime is tried again on another port.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    switch (StartOnce(arguments)) {
      case StartOutcome::kDone:
        return;
      case StartOutcome::kPortTaken:
        // FreePort's port is free when probed, not reserved: a test running in parallel
        // may bind it first.
        std::cerr << "argus " << command_ << ": its port was taken meanwhile; another port\n";
        break;
      case StartOutcome::kCrashed:
        std::cerr << "WARNING: argus " << command_ << " crashed during start-up (attempt "
                  << attempt << "), known Drogon start-up crash; starting it again\n";
        break;
    }
  }
  FAIL() << "argus " << command_ << " did not start in three attempts:\n" << log().substr(0, 6000);
}

ServeProcess::StartOutcome ServeProcess::StartOnce(const std::vector<std::string>& arguments) {
  const bool port_chosen_here = port_ == 0;
  if (port_chosen_here) {
    auto port = nats::FreePort();
    if (!port) {
      ADD_FAILURE() << port.error().message;
      return StartOutcome::kDone;
    }
    port_ = *port;
  }
  const std::size_t log_before = log().size();
  last_arguments_ = arguments;
  std::vector<std::string> argv{"--port=" + std::to_string(port_),
                                "--data-dir=" + data_dir_.string()};
  // Clients connect to 127.0.0.1, which a test's own --host (such as ::) must also listen on.
  if (std::ranges::none_of(
          arguments, [](const std::string& argument) { return argument.starts_with("--host="); })) {
    argv.push_back("--host=127.0.0.1");
  }
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::filesystem::create_directories(data_dir_);
  const auto spawned = std::chrono::steady_clock::now();
  pid_ = SpawnArgus(command_, argv, data_dir_ / "serve.log");
  client_ = drogon::HttpClient::newHttpClient("http://127.0.0.1:" + std::to_string(port_),
                                              loop_.getLoop());
  // Ready, and past the first two seconds in which the start-up crash happens.
  bool ready = false;
  std::string not_ready;  // the last /readyz answer's reason
  while (std::chrono::steady_clock::now() - spawned < std::chrono::seconds(15)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) return StartOutcome::kCrashed;
      if (port_chosen_here &&
          log().find("Address already in use", log_before) != std::string::npos) {
        port_ = 0;
        return StartOutcome::kPortTaken;
      }
      ADD_FAILURE() << "argus " << command_ << " exited at start (" << ExitDescription(status)
                    << "):\n"
                    << log().substr(0, 6000);
      return StartOutcome::kDone;
    }
    if (!ready) {
      const HttpResult readiness = Get("/readyz");
      ready = readiness.status == 200;
      if (readiness.status != 0) not_ready = readiness.body;
    }
    if (ready && std::chrono::steady_clock::now() - spawned > std::chrono::seconds(2)) {
      return StartOutcome::kDone;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "argus " << command_ << " did not become ready: " << not_ready << "\n"
                << log().substr(0, 6000);
  return StartOutcome::kDone;
}

void ServeProcess::Kill9() { KillAndReap(pid_); }

int ServeProcess::Terminate(std::chrono::seconds timeout) {
  return TerminateAndReap(pid_, timeout);
}

std::string ServeProcess::log() const { return ReadText(data_dir_ / "serve.log"); }

HttpResult ServeProcess::Send(const drogon::HttpRequestPtr& request, double timeout_s) {
  if (!bearer_.empty() && request->getHeader("authorization").empty()) {
    request->addHeader("Authorization", "Bearer " + bearer_);
  }
  auto [result, response] = client_->sendRequest(request, timeout_s);
  return ToResult(result, response);
}

double ServeProcess::Metric(const std::string& sample) {
  const std::string body = "\n" + Get("/metrics").body;
  const std::size_t at = body.find("\n" + sample + " ");
  return at == std::string::npos ? 0.0 : std::stod(body.substr(at + sample.size() + 2));
}

HttpResult ServeProcess::Get(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  auto request = drogon::HttpRequest::newHttpRequest();
  request->setMethod(drogon::Get);
  const auto query = path.find('?');
  request->setPath(path.substr(0, query));
  if (query != std::string::npos) {
    std::istringstream pairs(path.substr(query + 1));
    std::string pair;
    while (std::getline(pairs, pair, '&')) {
      const auto equals = pair.find('=');
      request->setParameter(pair.substr(0, equals),
                            equals == std::string::npos ? "" : pair.substr(equals + 1));
    }
  }
  for (const auto& [name, value] : headers) request->addHeader(name, value);
  return Send(request, 120);
}

HttpResult ServeProcess::Delete(const std::string& path) {
  auto request = drogon::HttpRequest::newHttpRequest();
  request->setMethod(drogon::Delete);
  request->setPath(path);
  return Send(request, 30);
}

HttpResult ServeProcess::Upload(
    const std::string& path,
    const std::vector<std::pair<std::string, std::filesystem::path>>& files, double timeout_s) {
  std::vector<drogon::UploadFile> uploads;
  uploads.reserve(files.size());
  for (const auto& [field, file] : files) uploads.emplace_back(file.string(), "", field);
  auto request = drogon::HttpRequest::newFileUploadRequest(uploads);
  request->setMethod(drogon::Post);
  request->setPath(path);
  return Send(request, timeout_s);
}

HttpResult ServeProcess::PostRaw(const std::string& path, const std::string& content_type,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  auto request = drogon::HttpRequest::newHttpRequest();
  request->setMethod(drogon::Post);
  request->setPath(path);
  request->setContentTypeString(content_type);
  request->setBody(body);
  for (const auto& [name, value] : headers) request->addHeader(name, value);
  return Send(request, 30);
}

std::vector<Json::Value> ServeProcess::AwaitAll(const std::vector<std::string>& ids,
                                                int timeout_s) {
  std::vector<Json::Value> records;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (const std::string& id : ids) {
    Json::Value record;
    while (std::chrono::steady_clock::now() < deadline) {
      const HttpResult result = Get("/api/v1/images/" + id + "?wait=10");
      record = result.json;
      const std::string status = record["status"].asString();
      if (result.status == 200 && (status == "done" || status == "failed")) break;
    }
    records.push_back(record);
  }
  return records;
}

HttpResult ServeProcess::SendJson(drogon::HttpMethod method, const std::string& path,
                                  const Json::Value& body,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  auto request = body.isNull() ? drogon::HttpRequest::newHttpRequest()
                               : drogon::HttpRequest::newHttpJsonRequest(body);
  request->setMethod(method);
  request->setPath(path);
  for (const auto& [name, value] : headers) request->addHeader(name, value);
  auto [result, response] = client_->sendRequest(request, 30);
  return ToResult(result, response);
}

std::string ServeProcess::UseNewAccount(const std::string& email) {
  Json::Value credentials(Json::objectValue);
  credentials["email"] = email;
  credentials["password"] = "correct horse battery";
  const HttpResult signup = SendJson(drogon::Post, "/api/v1/auth/signup", credentials);
  EXPECT_EQ(signup.status, 201) << signup.body;
  const std::string session =
      signup.cookies.contains("argus_session") ? signup.cookies.at("argus_session") : "";
  const std::string csrf =
      signup.cookies.contains("argus_csrf") ? signup.cookies.at("argus_csrf") : "";
  session_ = {"argus_session=" + session, csrf};
  const HttpResult token = CreateToken("e2e");
  EXPECT_EQ(token.status, 201) << token.body;
  bearer_ = token.json["token"].asString();
  return bearer_;
}

HttpResult ServeProcess::CreateToken(const std::string& name) {
  Json::Value body(Json::objectValue);
  body["name"] = name;
  return SendJson(drogon::Post, "/api/v1/tokens", body,
                  {{"Cookie", session_.first}, {"X-CSRF-Token", session_.second}});
}

ArgusProcess::ArgusProcess(std::filesystem::path data_dir, std::string command)
    : data_dir_(std::move(data_dir)), command_(std::move(command)) {}

ArgusProcess::~ArgusProcess() { Kill9(); }

void ArgusProcess::Start(const std::vector<std::string>& arguments, std::string_view ready_text) {
  std::vector<std::string> argv{"--data-dir=" + data_dir_.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::filesystem::create_directories(data_dir_);
  // Ready is read from the log of this start only.
  const std::size_t earlier_log = log().size();
  pid_ = SpawnArgus(command_, argv, data_dir_ / "process.log");
  // Loading the model takes a second; far longer on a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "argus " << command_ << " exited at start (" << ExitDescription(status)
                    << "):\n"
                    << log().substr(earlier_log, 6000);
      return;
    }
    if (log().find(ready_text, earlier_log) != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "argus " << command_ << " did not log \"" << ready_text << "\" in time:\n"
                << log().substr(earlier_log, 6000);
}

void ArgusProcess::Kill9() { KillAndReap(pid_); }

int ArgusProcess::Terminate(std::chrono::seconds timeout) {
  return TerminateAndReap(pid_, timeout);
}

std::string ArgusProcess::log() const { return ReadText(data_dir_ / "process.log"); }

std::vector<HttpResult> ClassifyConcurrently(const std::vector<const ServeProcess*>& targets,
                                             const std::vector<std::filesystem::path>& files) {
  std::vector<HttpResult> results(files.size());
  std::vector<drogon::HttpClientPtr> clients;
  clients.reserve(files.size());
  trantor::EventLoopThread loop;
  loop.run();
  std::latch done(static_cast<std::ptrdiff_t>(files.size()));
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ServeProcess& target = *targets[i % targets.size()];
    clients.push_back(drogon::HttpClient::newHttpClient(
        "http://127.0.0.1:" + std::to_string(target.port()), loop.getLoop()));
    auto request = drogon::HttpRequest::newFileUploadRequest(
        {drogon::UploadFile(files[i].string(), "", "myfile")});
    request->setMethod(drogon::Post);
    request->setPath("/");
    clients.back()->sendRequest(
        request,
        [&results, &done, i](drogon::ReqResult result, const drogon::HttpResponsePtr& response) {
          results[i] = ToResult(result, response);
          done.count_down();
        },
        120);
  }
  done.wait();
  return results;
}

std::vector<std::string> UploadConcurrently(ServeProcess& serve,
                                            const std::vector<std::filesystem::path>& files,
                                            std::size_t per_request, std::size_t clients,
                                            std::atomic<std::size_t>* answered) {
  std::mutex mutex;
  std::vector<std::string> ids;
  std::atomic<std::size_t> next = 0;
  std::vector<std::jthread> threads;
  threads.reserve(clients);
  for (std::size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      trantor::EventLoopThread loop;
      loop.run();
      auto client = drogon::HttpClient::newHttpClient(
          "http://127.0.0.1:" + std::to_string(serve.port()), loop.getLoop());
      for (std::size_t start = next.fetch_add(per_request); start < files.size();
           start = next.fetch_add(per_request)) {
        std::vector<drogon::UploadFile> uploads;
        for (std::size_t i = start; i < std::min(files.size(), start + per_request); ++i) {
          uploads.emplace_back(files[i].string(), "", "file" + std::to_string(i));
        }
        auto request = drogon::HttpRequest::newFileUploadRequest(uploads);
        request->setMethod(drogon::Post);
        request->setPath("/api/v1/images");
        request->addHeader("Authorization", "Bearer " + serve.bearer());
        auto [result, response] = client->sendRequest(request, 60);
        const HttpResult r = ToResult(result, response);
        if (r.status != 202) continue;
        std::lock_guard lock(mutex);
        for (const auto& image : r.json["images"]) ids.push_back(image["id"].asString());
        if (answered) answered->fetch_add(uploads.size());
      }
    });
  }
  threads.clear();
  return ids;
}

DeletionRace RaceDeletionsWithUploads(const ApiUser& deleter, const ApiUser& uploader,
                                      const std::vector<std::filesystem::path>& photos) {
  DeletionRace race{.deleted = std::vector<int>(photos.size()),
                    .uploaded = std::vector<std::string>(photos.size())};
  std::barrier both(2);
  auto client_thread = [&](const ApiUser& user, auto send) {
    return std::jthread([&, send] {
      trantor::EventLoopThread loop;
      loop.run();
      auto client = drogon::HttpClient::newHttpClient(
          "http://127.0.0.1:" + std::to_string(user.port), loop.getLoop());
      for (std::size_t i = 0; i < photos.size(); ++i) {
        both.arrive_and_wait();
        send(client, i);
      }
    });
  };
  {
    std::jthread deleting =
        client_thread(deleter, [&](const drogon::HttpClientPtr& client, std::size_t i) {
          std::ifstream in(photos[i], std::ios::binary);
          const std::string bytes{std::istreambuf_iterator<char>(in), {}};
          auto request = drogon::HttpRequest::newHttpRequest();
          request->setMethod(drogon::Delete);
          request->setPath("/api/v1/images/" + Sha256Hex(bytes));
          request->addHeader("Authorization", "Bearer " + deleter.bearer);
          auto [result, response] = client->sendRequest(request, 30);
          race.deleted[i] = ToResult(result, response).status;
        });
    std::jthread uploading =
        client_thread(uploader, [&](const drogon::HttpClientPtr& client, std::size_t i) {
          auto request = drogon::HttpRequest::newFileUploadRequest(
              {drogon::UploadFile(photos[i].string(), "", "file")});
          request->setMethod(drogon::Post);
          request->setPath("/api/v1/images");
          request->addHeader("Authorization", "Bearer " + uploader.bearer);
          auto [result, response] = client->sendRequest(request, 30);
          const HttpResult uploaded = ToResult(result, response);
          if (uploaded.status == 202)
            race.uploaded[i] = uploaded.json["images"][0]["id"].asString();
        });
  }
  return race;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/argus-e2e-XXXXXX";
  path_ = mkdtemp(pattern);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path SharedData() { return ARGUS_TEST_SHARED_DIR "/data"; }

std::size_t LinesWith(const std::string& log, std::initializer_list<std::string_view> parts) {
  std::istringstream lines(log);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    count += std::ranges::all_of(
        parts, [&](std::string_view part) { return line.find(part) != std::string::npos; });
  }
  return count;
}

std::vector<std::filesystem::path> CourseImages() {
  std::vector<std::filesystem::path> files;
  files.reserve(100);
  for (int i = 0; i < 100; ++i) {
    files.push_back(SharedData() / "cse546-imagenet-100" / std::format("test_{}.JPEG", i));
  }
  return files;
}

std::vector<std::filesystem::path> SamplePhotos() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(SharedData() / "imagenet-sample")) {
    if (entry.path().extension() == ".JPEG") files.push_back(entry.path());
  }
  std::ranges::sort(files);
  return files;
}

std::map<std::string, std::pair<int, std::string>> SampleTruth() {
  std::map<std::string, std::pair<int, std::string>> truth;
  std::ifstream tsv(SharedData() / "imagenet-sample" / "labels.tsv");
  std::string file, wnid;
  int index = 0;
  while (tsv >> file >> index >> wnid) truth[file] = {index, wnid};
  return truth;
}

void ExpectEngineAccuracy(const std::vector<Json::Value>& records) {
  const auto truth = SampleTruth();
  std::size_t top1 = 0, top5 = 0;
  for (const Json::Value& record : records) {
    ASSERT_EQ(record["status"].asString(), "done") << record.toStyledString();
    const auto& [index, wnid] = truth.at(record["filename"].asString());
    top1 += record["labels"][0]["wnid"].asString() == wnid;
    for (const auto& label : record["labels"]) top5 += label["wnid"].asString() == wnid;
  }
  EXPECT_EQ(records.size(), 500u);
  EXPECT_GE(top1, 400u) << "top-1 of 500";
  EXPECT_GE(top5, 470u) << "top-5 of 500";
}

}  // namespace argus::e2e
