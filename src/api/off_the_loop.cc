#include "api/off_the_loop.h"

#include <atomic>
#include <exception>
#include <string>
#include <utility>

#include "api/http_errors.h"
#include "common/error.h"
#include "common/log.h"

namespace argus::api {

void RunOffTheLoop(ApiContext& context, std::string request_id, Callback&& callback,
                   std::function<void(Callback&&)> handler) {
  const Callback refuse = callback;
  const bool taken =
      context.handlers.TryRun([request_id = std::move(request_id), callback = std::move(callback),
                               handler = std::move(handler)] {
        const RequestLogScope in_hand(request_id);
        auto answered = std::make_shared<std::atomic<bool>>(false);
        Callback answer_once = [answered, callback](const drogon::HttpResponsePtr& response) {
          if (!answered->exchange(true)) callback(response);
        };
        try {
          handler(std::move(answer_once));
        } catch (const std::exception& error) {
          const Error failure{ErrorCode::kInternal,
                              std::string("a request handler failed: ") + error.what()};
          if (answered->exchange(true)) return LogLine("error", "web", failure.message);
          callback(ErrorResponse(failure));  // logs the message
        }
      });
  if (!taken) {
    refuse(ErrorResponse(drogon::k503ServiceUnavailable, "busy",
                         "the server has more requests in hand than it can start soon; retry "
                         "shortly"));
  }
}

}  // namespace argus::api
