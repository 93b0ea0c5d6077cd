#include "api/request_id.h"

#include <algorithm>
#include <cstdint>
#include <format>
#include <random>
#include <string_view>

namespace argus::api {
namespace {

constexpr std::string_view kAttribute = "argus.request_id";
constexpr std::size_t kLongestGiven = 128;

bool IsUsable(std::string_view id) {
  return !id.empty() && id.size() <= kLongestGiven && std::ranges::all_of(id, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

std::string NewId() {
  // Ids need to be unique, not secret; seeded once per thread.
  thread_local std::mt19937_64 random{(std::uint64_t{std::random_device()()} << 32) |
                                      std::random_device()()};
  return std::format("{:016x}", random());
}

}  // namespace

std::string RequestIdOf(const drogon::HttpRequestPtr& request) {
  const std::string key(kAttribute);
  const auto& attributes = request->attributes();
  if (attributes->find(key)) return attributes->get<std::string>(key);
  const std::string& given = request->getHeader("x-request-id");
  std::string id = IsUsable(given) ? given : NewId();
  attributes->insert(key, id);
  return id;
}

}  // namespace argus::api
