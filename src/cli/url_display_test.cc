#include "cli/url_display.h"

#include <gtest/gtest.h>

namespace argus::cli {
namespace {

TEST(UrlDisplayTest, HidesThePasswordOnly) {
  EXPECT_EQ(WithoutPassword("nats://qa:s3cr3t@127.0.0.1:4222"), "nats://qa:***@127.0.0.1:4222");
  EXPECT_EQ(WithoutPassword("s3://KEY:SE@CRET@host:9000/bucket?region=x"),
            "s3://KEY:***@host:9000/bucket?region=x")
      << "the last @ of the authority ends the user part";
  EXPECT_EQ(WithoutPassword("nats://token@host"), "nats://token@host") << "no password";
  EXPECT_EQ(WithoutPassword("nats://host:4222/x@y"), "nats://host:4222/x@y");
  EXPECT_EQ(WithoutPassword("sqlite:///data/queue.db"), "sqlite:///data/queue.db");
  EXPECT_EQ(WithoutPassword("no scheme"), "no scheme");
}

}  // namespace
}  // namespace argus::cli
