#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace argus::api {

// The reverse proxies (load balancers) in front of the web tier, whose X-Forwarded-For
// header names the client they forward for. A request from anywhere else is taken as
// coming from its peer, whatever it claims, so a client cannot pick the address it is
// rate-limited and logged by.
class TrustedProxies {
 public:
  TrustedProxies() = default;  // none: every request comes from its peer

  // A comma-separated list of addresses and networks, IPv4 or IPv6:
  // "10.0.0.0/8, 192.168.1.5, fd00::/8". kInvalidArgument naming the first bad entry.
  static Result<TrustedProxies> Parse(std::string_view list);

  bool Contains(std::string_view address) const;

  // The peer, or when the peer is a trusted proxy, the last X-Forwarded-For entry that is
  // not one: each proxy appends the address it was reached from, so entries to its left
  // were written by the client and could be anything.
  std::string ClientOf(std::string_view peer, std::string_view forwarded_for) const;

  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    int family = 0;  // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};
    int prefix_bits = 0;
  };
  std::vector<Network> networks_;
};

// The addresses one client is taken to hold, for the per-address limits: an IPv4 address
// alone, or an IPv6 address's /64 ("2001:db8:1:2::/64"), the network one subscriber is given,
// each of whose addresses would otherwise have had limits of its own. Text that is no address
// stands for itself.
std::string ClientBlockOf(std::string_view address);

}  // namespace argus::api
