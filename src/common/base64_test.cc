#include "common/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace argus {
namespace {

TEST(Base64Test, EncodesAsRfc4648Says) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64("caf\xe9.jpg"), "Y2Fm6S5qcGc=");
  EXPECT_EQ(Base64Url("\xfb\xff"), "-_8");
}

TEST(Base64Test, UrlFormRoundTripsAndRefusesWhatItWouldNotWrite) {
  using namespace std::string_literals;
  for (const std::string& bytes :
       {""s, "a"s, "ab"s, "abc"s, "1796675055177:0f3a"s, "\xff\x00\xfe"s}) {
    EXPECT_EQ(FromBase64Url(Base64Url(bytes)), bytes);
  }
  for (const char* text : {"a", "Zg==", "Zm9v!", "Zh", "Zm9 v"}) {
    EXPECT_EQ(FromBase64Url(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace argus
