#include "api/trusted_proxies.h"

#include <gtest/gtest.h>

namespace argus::api {
namespace {

TEST(TrustedProxiesTest, MatchesAddressesAndNetworksOfBothFamilies) {
  auto proxies = TrustedProxies::Parse(" 10.0.0.0/8,192.168.1.5 , fd00::/8,172.16.0.0/12");
  ASSERT_TRUE(proxies) << proxies.error().message;
  EXPECT_TRUE(proxies->Contains("10.200.3.4"));
  EXPECT_TRUE(proxies->Contains("192.168.1.5"));
  EXPECT_FALSE(proxies->Contains("192.168.1.6"));
  EXPECT_TRUE(proxies->Contains("172.31.255.255"));
  EXPECT_FALSE(proxies->Contains("172.32.0.1")) << "a prefix that is not a whole byte";
  EXPECT_TRUE(proxies->Contains("fd12::1"));
  EXPECT_FALSE(proxies->Contains("fe80::1"));
  EXPECT_FALSE(proxies->Contains("not an address"));
}

// A server listening on :: sees its IPv4 peers as IPv4-mapped IPv6 addresses.
TEST(TrustedProxiesTest, AnIpv4MappedAddressIsTheIpv4AddressItMaps) {
  auto proxies = TrustedProxies::Parse("10.0.0.0/8, ::ffff:192.168.0.0/112");
  ASSERT_TRUE(proxies) << proxies.error().message;
  EXPECT_TRUE(proxies->Contains("::ffff:10.0.0.1"));
  EXPECT_TRUE(proxies->Contains("::FFFF:10.9.8.7"));
  EXPECT_FALSE(proxies->Contains("::ffff:11.0.0.1"));
  EXPECT_TRUE(proxies->Contains("192.168.3.4")) << "a mapped network holds the IPv4 addresses";
  EXPECT_FALSE(proxies->Contains("192.169.0.1"));
  EXPECT_FALSE(proxies->Contains("::10.0.0.1")) << "IPv4-compatible is not IPv4-mapped";
  EXPECT_EQ(proxies->ClientOf("::ffff:10.0.0.2", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(proxies->ClientOf("::ffff:10.0.0.2", "::ffff:198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(proxies->ClientOf("::ffff:203.0.113.7", ""), "203.0.113.7")
      << "one client, one name, whichever way it came in";
  EXPECT_EQ(proxies->ClientOf("fe80::1", ""), "fe80::1");
  EXPECT_FALSE(TrustedProxies::Parse("::ffff:10.0.0.0/95")) << "wider than the mapped range";
}

TEST(TrustedProxiesTest, RefusesWhatIsNotAnAddressOrNetwork) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "localhost", "10.0.0",
                          "fd00::/129", "10.0.0.0/-1"}) {
    const auto parsed = TrustedProxies::Parse(std::string("127.0.0.1,") + bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find(bad), std::string::npos) << parsed.error().message;
  }
  const auto none = TrustedProxies::Parse(" , ");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(TrustedProxiesTest, TheClientIsThePeerUnlessThePeerIsATrustedProxy) {
  auto proxies = TrustedProxies::Parse("10.0.0.0/8");
  ASSERT_TRUE(proxies);
  EXPECT_EQ(proxies->ClientOf("203.0.113.7", "198.51.100.1"), "203.0.113.7")
      << "anyone else's header is ignored";
  EXPECT_EQ(proxies->ClientOf("10.0.0.2", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(proxies->ClientOf("10.0.0.2", "1.2.3.4, 198.51.100.1"), "198.51.100.1")
      << "what the client wrote to the left is not believed";
  EXPECT_EQ(proxies->ClientOf("10.0.0.2", "198.51.100.1, 10.0.0.9"), "198.51.100.1")
      << "a chain of trusted proxies is walked back";
  EXPECT_EQ(proxies->ClientOf("10.0.0.2", ""), "10.0.0.2");
  EXPECT_EQ(proxies->ClientOf("10.0.0.2", "10.0.0.3"), "10.0.0.3");
  EXPECT_EQ(TrustedProxies().ClientOf("10.0.0.2", "198.51.100.1"), "10.0.0.2");
}

// 40 sign-ups from one /64 each got their own limit.
TEST(ClientBlockOfTest, AnIpv6ClientIsItsSlash64AndAnIpv4ClientItsAddress) {
  EXPECT_EQ(ClientBlockOf("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientBlockOf("2001:db8:1:2::1"), ClientBlockOf("2001:db8:1:2:ffff::9"));
  EXPECT_NE(ClientBlockOf("2001:db8:1:2::1"), ClientBlockOf("2001:db8:1:3::1"));
  EXPECT_EQ(ClientBlockOf("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientBlockOf("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientBlockOf("not an address"), "not an address");
}

}  // namespace
}  // namespace argus::api
