#pragma once

#include <drogon/HttpClient.h>
#include <json/value.h>
#include <sys/types.h>
#include <trantor/net/EventLoopThread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace argus::e2e {

struct HttpResult {
  int status = 0;  // 0: no response (connection failed or timed out)
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // lower-case name -> value
  std::string location;                        // of a redirect
  std::map<std::string, std::string> cookies;  // name -> value, from Set-Cookie
  std::vector<std::string> set_cookies;        // the Set-Cookie headers as sent
  Json::Value json;                            // parsed body when it is JSON
};

// A real `argus serve` (or `web`) process on a free loopback port with its own data
// directory, and an HTTP client for it.
class ServeProcess {
 public:
  explicit ServeProcess(std::filesystem::path data_dir, std::string command = "serve");
  ~ServeProcess();

  // Starts the binary with the extra arguments and waits until /readyz answers 200.
  void Start(const std::vector<std::string>& arguments = {});
  void Kill9();
  // SIGTERM and wait; returns the exit status (-1 when it did not exit in time).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(60));
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::string log() const;

  HttpResult Get(const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& headers = {});
  // The value of one sample (a name with its labels) in /metrics; 0 when it is absent.
  double Metric(const std::string& sample);
  HttpResult Delete(const std::string& path);
  // multipart/form-data with one part per (field, file path).
  HttpResult Upload(const std::string& path,
                    const std::vector<std::pair<std::string, std::filesystem::path>>& files,
                    double timeout_s = 120);
  HttpResult PostRaw(const std::string& path, const std::string& content_type,
                     const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  drogon::HttpClientPtr client() const { return client_; }

  // Signs up (the first account is the administrator), creates an API token and sends it
  // with every later request. Returns the token.
  std::string UseNewAccount(const std::string& email);
  // Another API token of the account UseNewAccount last signed up, made with its session as
  // tokens must be: the created token's answer.
  HttpResult CreateToken(const std::string& name);
  void UseToken(std::string token) { bearer_ = std::move(token); }
  const std::string& bearer() const { return bearer_; }
  // A JSON request with optional cookie and extra headers, without the bearer token.
  HttpResult SendJson(drogon::HttpMethod method, const std::string& path, const Json::Value& body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Blocks until every id is done or failed (long-polling), returns the final records.
  std::vector<Json::Value> AwaitAll(const std::vector<std::string>& ids, int timeout_s = 120);

 private:
  HttpResult Send(const drogon::HttpRequestPtr& request, double timeout_s);
  enum class StartOutcome : std::uint8_t {
    kDone,       // ready, or a test failure was reported
    kCrashed,    // SIGSEGV before it was ready (the known start-up crash)
    kPortTaken,  // the free port it was given was taken by another process meanwhile
  };
  StartOutcome StartOnce(const std::vector<std::string>& arguments);

  std::filesystem::path data_dir_;
  std::string command_;
  std::vector<std::string> last_arguments_;
  std::string bearer_;
  // The session of the account UseNewAccount last signed up: its cookie header and CSRF token.
  std::pair<std::string, std::string> session_;
  int port_ = 0;
  pid_t pid_ = -1;
  trantor::EventLoopThread loop_;
  drogon::HttpClientPtr client_;
};

// A real `argus worker` or `argus scaler` process (no HTTP port) with its own data
// directory, logging to DATA_DIR/process.log.
class ArgusProcess {
 public:
  ArgusProcess(std::filesystem::path data_dir, std::string command);
  ~ArgusProcess();
  ArgusProcess(const ArgusProcess&) = delete;
  ArgusProcess& operator=(const ArgusProcess&) = delete;

  // Starts the binary with the extra arguments and waits until its log contains
  // `ready_text`.
  void Start(const std::vector<std::string>& arguments, std::string_view ready_text);
  void Kill9();
  // SIGTERM and wait; returns the exit status (-1 when it did not exit in time).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(60));
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string log() const;

 private:
  std::filesystem::path data_dir_;
  std::string command_;
  pid_t pid_ = -1;
};

// strace attached to every thread of a running process, recording its calls of the
// `syscalls` (strace's list: "fsync,fdatasync") until Stop, with file descriptors shown with
// their paths and path arguments in full.
class SyscallTrace {
 public:
  // Returns once every thread of `pid` is traced; records into `output`.
  SyscallTrace(pid_t pid, std::filesystem::path output, const std::string& syscalls);
  ~SyscallTrace();
  SyscallTrace(const SyscallTrace&) = delete;
  SyscallTrace& operator=(const SyscallTrace&) = delete;

  // Detaches and returns the calls made meanwhile, one strace line each.
  std::vector<std::string> Stop();

 private:
  void WaitUntilAttached();

  pid_t traced_;
  std::filesystem::path output_;
  pid_t strace_ = -1;
};

// The paths of the files and folders in a SyscallTrace's lines of fsync and fdatasync.
std::set<std::filesystem::path> FlushedPaths(const std::vector<std::string>& lines);

HttpResult ToResult(drogon::ReqResult result, const drogon::HttpResponsePtr& response);

// Sends `request` as is on a new connection to the loopback `port` and returns what the
// server sends back within `limit` ("" when nothing came), for requests an HTTP client
// would not send.
std::string RawExchange(int port, const std::string& request, std::chrono::milliseconds limit);

// Uploads files concurrently to POST /api/v1/images of `serve`, with its bearer token, in
// requests of `per_request` files from `clients` connections. Returns the ids answered 202,
// in any order; `answered`, when given, counts the files answered 202 as they come.
std::vector<std::string> UploadConcurrently(ServeProcess& serve,
                                            const std::vector<std::filesystem::path>& files,
                                            std::size_t per_request, std::size_t clients,
                                            std::atomic<std::size_t>* answered = nullptr);

// An account's API token, and the server it sends its requests to.
struct ApiUser {
  int port = 0;
  std::string bearer;
};

// One account deleting its photos while another uploads the same photos, each pair sent at
// the same moment: DELETE /api/v1/images/{id} by `deleter` and POST /api/v1/images by
// `uploader`. For each photo, in order, the deletion's status and the id the upload was
// answered 202 with ("" otherwise).
struct DeletionRace {
  std::vector<int> deleted;
  std::vector<std::string> uploaded;
};
DeletionRace RaceDeletionsWithUploads(const ApiUser& deleter, const ApiUser& uploader,
                                      const std::vector<std::filesystem::path>& photos);

// The course workload's protocol: every file at once as `POST /` with multipart field
// `myfile`, each on a connection of its own and without an account, file i to
// targets[i % targets.size()]. Returns the answers in file order.
std::vector<HttpResult> ClassifyConcurrently(const std::vector<const ServeProcess*>& targets,
                                             const std::vector<std::filesystem::path>& files);

// A fresh temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path SharedData();
std::vector<std::filesystem::path> SamplePhotos();  // the 500 labelled photos
std::vector<std::filesystem::path> CourseImages();  // the course workload's 100 photos
// The labelled photos' file name -> (ImageNet class index, WordNet id).
std::map<std::string, std::pair<int, std::string>> SampleTruth();
// Log lines that contain every one of `parts`.
std::size_t LinesWith(const std::string& log, std::initializer_list<std::string_view> parts);
// The final records of the 500 labelled photos are all done, with the accuracy of
// `argus classify` (top-1 >= 400 and top-5 >= 470 of 500).
void ExpectEngineAccuracy(const std::vector<Json::Value>& records);

}  // namespace argus::e2e
