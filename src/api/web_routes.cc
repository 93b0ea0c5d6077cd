// The web app (web/dist), dog-breed photos and thumbnails.
#include <drogon/drogon.h>

#include <fstream>
#include <sstream>
#include <string_view>

#include "api/http_errors.h"
#include "api/routes.h"
#include "engine/taxonomy.h"

namespace argus::api {
namespace {

// The client-side routes of the web app; each answers with index.html.
constexpr const char* kAppRoutes[] = {"/",         "/login", "/signup",     "/gallery",
                                      "/settings", "/ops",   "/images/{id}"};

HttpResponsePtr IndexPage(const std::filesystem::path& index) {
  auto response = HttpResponse::newFileResponse(index.string(), "", drogon::CT_TEXT_HTML);
  response->addHeader("Cache-Control", "no-cache");
  return response;
}

// A page a browser asks for at a path the app does not know (a typo, a stale bookmark) gets
// the app, which shows its own "page not found"; API clients, files and the service's own
// endpoints keep their JSON 404.
bool IsAppPageRequest(const HttpRequestPtr& request) {
  const std::string& path = request->path();
  const std::string_view last_segment = std::string_view(path).substr(path.rfind('/') + 1);
  return request->method() == drogon::Get && !path.starts_with("/api/") && path != "/healthz" &&
         path != "/readyz" && path != "/metrics" &&
         last_segment.find('.') == std::string_view::npos &&
         request->getHeader("accept").find("text/html") != std::string::npos;
}

HttpResponsePtr ImmutableImage(std::string bytes, const std::string& content_type) {
  auto response = HttpResponse::newHttpResponse();
  response->setContentTypeString(content_type);
  response->setBody(std::move(bytes));
  response->addHeader("Cache-Control", "public, max-age=31536000, immutable");
  return response;
}

}  // namespace

void RegisterWebRoutes(const std::shared_ptr<ApiContext>& context) {
  auto& app = drogon::app();
  const std::filesystem::path& web = context->options.web_dir;
  if (!web.empty()) {
    // Hashed assets are served by Drogon's static file router, precompressed variants
    // preferred, cached for a year; index.html must always be revalidated.
    app.setDocumentRoot(web.string())
        .setGzipStatic(true)
        .setBrStatic(true)
        .setStaticFileHeaders({{"Cache-Control", "public, max-age=31536000, immutable"}});
    const std::filesystem::path index = web / "index.html";
    // Asked for by its name, the page is the app's entry too, not a static file to keep.
    app.registerHandler(
        "/index.html",
        [index](const HttpRequestPtr&, Callback&& callback) { callback(IndexPage(index)); },
        {drogon::Get});
    for (const char* route : kAppRoutes) {
      app.registerHandler(
          route,
          [index](const HttpRequestPtr&, Callback&& callback) { callback(IndexPage(index)); },
          {drogon::Get});
    }
    app.registerPreRoutingAdvice([index](const HttpRequestPtr& request,
                                         drogon::AdviceCallback&& respond,
                                         drogon::AdviceChainCallback&& next) {
      if (IsAppPageRequest(request)) return respond(IndexPage(index));
      next();
    });
  }
  app.registerHandler(
      "/api/v1/breeds/{wnid}/photo",
      [context](const HttpRequestPtr&, Callback&& callback, const std::string& wnid) {
        const auto offset = engine::Taxonomy::OffsetOfWnid(wnid);
        const std::filesystem::path breeds = context->options.assets_dir / "breeds";
        std::error_code error;
        if (offset && !context->options.assets_dir.empty() &&
            engine::Taxonomy::IsIn(*offset, "dog")) {
          for (const auto& entry : std::filesystem::directory_iterator(breeds, error)) {
            if (!entry.path().filename().string().starts_with(wnid + "_")) continue;
            std::ifstream in(entry.path(), std::ios::binary);
            std::stringstream bytes;
            bytes << in.rdbuf();
            return callback(ImmutableImage(bytes.str(), "image/jpeg"));
          }
        }
        callback(
            ErrorResponse(drogon::k404NotFound, "not_found", "no reference photo for " + wnid));
      },
      {drogon::Get});
}

}  // namespace argus::api
