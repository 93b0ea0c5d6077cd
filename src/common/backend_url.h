#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace argus {

// One implementation of an interface, chosen by the scheme of a "<scheme>://<rest>" URL.
template <typename Open>
struct UrlBackend {
  std::string_view scheme;
  std::string_view form;  // how its URLs look, for error messages
  Open open;
};

// The back end for `url`'s scheme and the rest of the URL after "://". Otherwise
// kInvalidArgument naming `what` and every accepted form; only the scheme is quoted, since
// the rest of a URL may hold credentials.
template <typename Open, std::size_t N>
Result<std::pair<const UrlBackend<Open>*, std::string_view>> FindUrlBackend(
    std::string_view what, std::string_view url, const UrlBackend<Open> (&backends)[N]) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string_view scheme = url.substr(0, scheme_end);
    for (const UrlBackend<Open>& backend : backends) {
      if (scheme == backend.scheme) return std::pair{&backend, url.substr(scheme_end + 3)};
    }
  }
  const std::string shown = scheme_end == std::string_view::npos
                                ? "has no scheme"
                                : "has scheme \"" + std::string(url.substr(0, scheme_end)) + "\"";
  std::string forms;
  for (const UrlBackend<Open>& backend : backends) {
    forms += (forms.empty() ? "" : ", ") + std::string(backend.form);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unsupported " + std::string(what) + " URL (it " + shown + "): use " + forms);
}

}  // namespace argus
