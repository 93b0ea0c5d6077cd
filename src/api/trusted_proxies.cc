#include "api/trusted_proxies.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <format>
#include <optional>

#include "common/ascii.h"

namespace argus::api {
namespace {

struct Address {
  int family = 0;
  std::array<std::uint8_t, 16> bytes{};
  int bits = 0;  // 32 or 128
  bool was_ipv4_mapped = false;
};

constexpr int kIpv4MappedPrefixBits = 96;

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) is read as the
// IPv4 address it maps: a server listening on :: sees its IPv4 clients that way.
std::optional<Address> ParseAddress(std::string_view text) {
  const std::string copy(text);  // inet_pton wants a terminated string
  Address address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET;
    address.bits = 32;
    return address;
  }
  in6_addr ipv6{};
  if (inet_pton(AF_INET6, copy.c_str(), &ipv6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&ipv6)) {
    std::copy_n(ipv6.s6_addr + kIpv4MappedPrefixBits / 8, 4, address.bytes.begin());
    address.family = AF_INET;
    address.bits = 32;
    address.was_ipv4_mapped = true;
    return address;
  }
  std::copy_n(ipv6.s6_addr, 16, address.bytes.begin());
  address.family = AF_INET6;
  address.bits = 128;
  return address;
}

// The address as the access log and the attempt limiter name it: an IPv4-mapped one in its
// IPv4 form, so that one client has one name whichever way it came in.
std::string CanonicalAddress(std::string_view text) {
  const auto address = ParseAddress(text);
  if (!address || !address->was_ipv4_mapped) return std::string(text);
  char ipv4[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, address->bytes.data(), ipv4, sizeof ipv4);
  return ipv4;
}

bool SamePrefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                int prefix_bits) {
  const int whole_bytes = prefix_bits / 8;
  for (int i = 0; i < whole_bytes; ++i) {
    if (a[i] != b[i]) return false;
  }
  const int rest = prefix_bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole_bytes] & mask) == (b[whole_bytes] & mask);
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies proxies;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view entry = TrimSpaces(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    auto invalid = [&] {
      return Fail(ErrorCode::kInvalidArgument,
                  std::format("\"{}\" is not an IP address or network (such as 10.0.0.0/8 or "
                              "fd00::/8)",
                              entry));
    };
    const std::size_t slash = entry.find('/');
    const auto address = ParseAddress(entry.substr(0, slash));
    if (!address) return invalid();
    int prefix_bits = address->bits;
    if (slash != std::string_view::npos) {
      const std::string_view digits = entry.substr(slash + 1);
      const auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), prefix_bits);
      if (address->was_ipv4_mapped) prefix_bits -= kIpv4MappedPrefixBits;
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
          prefix_bits < 0 || prefix_bits > address->bits) {
        return invalid();
      }
    }
    proxies.networks_.push_back(
        {.family = address->family, .bytes = address->bytes, .prefix_bits = prefix_bits});
  }
  return proxies;
}

bool TrustedProxies::Contains(std::string_view text) const {
  const auto address = ParseAddress(TrimSpaces(text));
  if (!address) return false;
  for (const Network& network : networks_) {
    if (network.family == address->family &&
        SamePrefix(network.bytes, address->bytes, network.prefix_bits)) {
      return true;
    }
  }
  return false;
}

std::string TrustedProxies::ClientOf(std::string_view peer, std::string_view forwarded_for) const {
  if (!Contains(peer)) return CanonicalAddress(peer);
  std::string_view client = peer;
  while (!forwarded_for.empty()) {
    const std::size_t comma = forwarded_for.rfind(',');
    const std::string_view entry = TrimSpaces(
        comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for =
        comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    if (entry.empty()) continue;
    client = entry;
    if (!Contains(entry)) break;
  }
  return CanonicalAddress(client);
}

std::string ClientBlockOf(std::string_view address) {
  const auto parsed = ParseAddress(address);
  if (!parsed) return std::string(address);
  if (parsed->family == AF_INET) return CanonicalAddress(address);
  constexpr int kSubscriberPrefixBits = 64;
  std::array<std::uint8_t, 16> network{};
  std::copy_n(parsed->bytes.begin(), kSubscriberPrefixBits / 8, network.begin());
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, network.data(), text, sizeof text);
  return std::format("{}/{}", text, kSubscriberPrefixBits);
}

}  // namespace argus::api
