#pragma once

#include <drogon/HttpRequest.h>
#include <drogon/HttpResponse.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "api/api_context.h"
#include "api/request_id.h"
#include "api/routes.h"

namespace argus::api {

// Runs `handler` on the context's handler pool (api/handler_pool.h), or answers 503 "busy"
// (with Retry-After) when the pool's backlog is full. An exception the handler throws is
// logged, and answered 500 unless it had answered already, as Drogon does on its loops.
// Lines logged while the handler runs name `request_id`.
void RunOffTheLoop(ApiContext& context, std::string request_id, Callback&& callback,
                   std::function<void(Callback&&)> handler);

// A Drogon handler that runs `handler(context, request, callback, parameters...)` on the
// context's handler pool instead of the HTTP I/O loop that took the request.
// `PathParameters` are the types of the route's path parameters.
template <class... PathParameters, class Handler>
auto OffTheLoop(const std::shared_ptr<ApiContext>& context, Handler&& handler) {
  return [context, handler = std::decay_t<Handler>(std::forward<Handler>(handler))](
             const drogon::HttpRequestPtr& request, Callback&& callback,
             const PathParameters&... parameters) {
    RunOffTheLoop(*context, RequestIdOf(request), std::move(callback),
                  [context, handler, request, ... parameters = parameters](Callback&& answer) {
                    handler(context, request, std::move(answer), parameters...);
                  });
  };
}

}  // namespace argus::api
