#include "blob/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <format>
#include <mutex>
#include <utility>

#include "common/sha256.h"

namespace argus::blob {
namespace {

// How long a request may go without a byte sent or received before it fails.
constexpr std::chrono::seconds kLongestStall{10};
// While the server is silent: how long a probe may take, and the pause before each probe
// (after the unanswered request, and after a probe that failed).
constexpr std::chrono::milliseconds kProbeWait{2000};
constexpr std::chrono::milliseconds kProbePause{250};

struct CurlCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlCleanup>;

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

// curl_global_init is not thread-safe in every libcurl; a function-local static runs it once
// before the first handle, whichever thread gets there.
void InitCurl() {
  [[maybe_unused]] static const CURLcode initialised = curl_global_init(CURL_GLOBAL_DEFAULT);
}

// A PUT's payload, read by libcurl straight from the caller's memory. It is seekable so that
// libcurl can send it again when a reused connection turns out to have been closed.
struct Upload {
  std::span<const std::byte> data;
  std::size_t offset = 0;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

int SeekUpload(void* user, curl_off_t offset, int origin) {
  auto* upload = static_cast<Upload*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > upload->data.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  upload->offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::vector<std::byte>*>(user);
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  body->insert(body->end(), bytes, bytes + size * count);
  return size * count;
}

// A failed exchange (refused, unresolvable, timed out, cut off) may succeed later; the codes
// here are misuse of libcurl or a libcurl built without what we need.
ErrorCode TransferErrorCode(CURLcode code) {
  switch (code) {
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return ErrorCode::kInternal;
    default:
      return ErrorCode::kUnavailable;
  }
}

// `code` is libcurl's outcome of the exchange, CURLE_OK when a response came.
Result<S3Response> Perform(CURL* curl, const S3ClientOptions& options, const std::string& sigv4,
                           const std::string& url, const S3Request& request, CURLcode& code) {
  code = CURLE_OK;
  Slist headers;
  std::vector<std::string> lines = {
      "x-amz-date: " + AmzTimestamp(options.clock()),
      "x-amz-content-sha256: " + Sha256Hex(request.body),
  };
  lines.insert(lines.end(), request.headers.begin(), request.headers.end());
  for (const std::string& line : lines) {
    curl_slist* list = curl_slist_append(headers.get(), line.c_str());
    if (list == nullptr) return Fail(ErrorCode::kInternal, "out of memory for S3 request headers");
    // `list` heads the grown list, so it owns the old nodes too: not to be freed here.
    (void)headers.release();
    headers.reset(list);
  }
  Slist connect_to;
  if (!options.connect_to.empty()) {
    connect_to.reset(curl_slist_append(nullptr, ("::" + options.connect_to).c_str()));
    if (!connect_to) return Fail(ErrorCode::kInternal, "out of memory for S3 request options");
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to.get());
  }

  char error_text[CURL_ERROR_SIZE] = "";
  S3Response response;
  Upload upload{request.body};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, options.credentials.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, options.credentials.secret_key.c_str());
  // Timeouts must not use signals in a multi-threaded program.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(options.timeout.count(), 10'000)));
  // A server that stops answering (hung, or behind a network that drops packets) fails a
  // request once no byte has moved either way for kLongestStall, not after the whole
  // timeout, which must leave time for large objects; a request waiting on it holds an HTTP
  // thread of the web tier.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(
      curl, CURLOPT_LOW_SPEED_TIME,
      static_cast<long>(std::chrono::ceil<std::chrono::seconds>(
                            std::min<std::chrono::milliseconds>(options.timeout, kLongestStall))
                            .count()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekUpload);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    const std::string method(request.method);  // libcurl copies it
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    // The URL carries no credentials, so it and libcurl's text are safe to show.
    return Fail(TransferErrorCode(code),
                std::format("S3 {} {} failed: {}", request.method, url,
                            error_text[0] != '\0' ? error_text : curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

std::string_view ElementText(std::string_view xml, std::string_view name) {
  const std::string open = std::format("<{}>", name);
  const std::string close = std::format("</{}>", name);
  const std::size_t begin = xml.find(open);
  if (begin == std::string_view::npos) return {};
  const std::size_t text = begin + open.size();
  const std::size_t end = xml.find(close, text);
  if (end == std::string_view::npos) return {};
  return xml.substr(text, end - text);
}

std::string XmlUnescape(std::string_view text) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string plain;
  while (!text.empty()) {
    const auto entity = std::ranges::find_if(
        kEntities, [&](const auto& candidate) { return text.starts_with(candidate.first); });
    if (entity != std::end(kEntities)) {
      plain += entity->second;
      text.remove_prefix(entity->first.size());
    } else {
      plain += text.front();
      text.remove_prefix(1);
    }
  }
  return plain;
}

std::string_view BodyText(const S3Response& response) {
  return {reinterpret_cast<const char*>(response.body.data()), response.body.size()};
}

struct S3Client::HandlePool {
  std::mutex mutex;
  std::vector<CurlHandle> idle;

  CurlHandle Take() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CurlHandle handle = std::move(idle.back());
        idle.pop_back();
        return handle;
      }
    }
    InitCurl();
    return CurlHandle(curl_easy_init());
  }

  // curl_easy_reset clears the options but keeps the handle's open connections.
  void Give(CurlHandle handle) {
    curl_easy_reset(handle.get());
    std::lock_guard lock(mutex);
    idle.push_back(std::move(handle));
  }
};

S3Client::S3Client(S3ClientOptions options)
    : options_(std::move(options)),
      sigv4_("aws:amz:" + options_.region + ":s3"),
      pool_(std::make_unique<HandlePool>()),
      silence_(std::make_unique<SilenceWatch>([this] { return Probe(); }, kProbePause)) {}

S3Client::~S3Client() = default;

Result<S3Response> S3Client::Send(const S3Request& request) {
  if (silence_->silent()) {
    return Fail(ErrorCode::kUnavailable,
                std::format("{} is not answering (a request had no answer in time)", Name()));
  }
  bool timed_out = false;
  auto response = Exchange(options_, request, timed_out);
  if (timed_out) silence_->NoteUnanswered();
  return response;
}

Result<S3Response> S3Client::Exchange(const S3ClientOptions& options, const S3Request& request,
                                      bool& timed_out) {
  std::string url = options.scheme + "://" + HostOf() + PathOf(request.key);
  if (!request.query.empty()) url += "?" + SortedQuery(request.query);
  CurlHandle handle = pool_->Take();
  if (!handle) return Fail(ErrorCode::kInternal, "cannot create a libcurl handle");
  CURLcode code = CURLE_OK;
  auto response = Perform(handle.get(), options, sigv4_, url, request, code);
  pool_->Give(std::move(handle));
  // A stalled transfer, or a connection that never came about: the server is silent rather
  // than refusing, which fails at once anyway.
  timed_out = code == CURLE_OPERATION_TIMEDOUT;
  return response;
}

// Any response to a HEAD of the bucket, even a refusal, is an answer.
bool S3Client::Probe() {
  S3ClientOptions probing = options_;
  probing.timeout = kProbeWait;
  bool timed_out = false;
  return Exchange(probing, {.method = "HEAD", .key = ""}, timed_out).has_value();
}

std::string S3Client::PresignedGetUrl(std::string_view key, std::chrono::seconds expires) const {
  const std::string host = HostOf();
  const std::string path = PathOf(key);
  return std::format("{}://{}{}?{}", options_.scheme, host, path,
                     PresignedGetQuery(options_.credentials, options_.region, host, path,
                                       options_.clock(), expires));
}

std::string S3Client::Name() const { return "s3://" + options_.host + "/" + options_.bucket; }

std::string S3Client::HostOf() const {
  if (options_.addressing == S3Addressing::kVirtualHost)
    return options_.bucket + "." + options_.host;
  return options_.host;
}

std::string S3Client::PathOf(std::string_view key) const {
  std::string path = "/";
  if (options_.addressing == S3Addressing::kPath) {
    path += options_.bucket;
    if (!key.empty()) path += "/";
  }
  return path + UriEncode(key, true);
}

std::string S3ErrorCode(const S3Response& response) {
  return XmlUnescape(ElementText(BodyText(response), "Code"));
}

Error ResponseError(const S3Response& response, std::string_view action) {
  std::string message = std::format("{}: HTTP {}", action, response.status);
  if (const std::string code = S3ErrorCode(response); !code.empty()) message += " " + code;
  if (const auto text = ElementText(BodyText(response), "Message"); !text.empty()) {
    message += ": " + XmlUnescape(text);
  }
  ErrorCode code = ErrorCode::kIo;
  if (response.status == 429 || response.status >= 500) {
    code = ErrorCode::kUnavailable;
  } else if (response.status == 409) {
    code = ErrorCode::kConflict;
  }
  return Error{code, std::move(message)};
}

}  // namespace argus::blob
