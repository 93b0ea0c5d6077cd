#include "catalog/catalog_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace argus::catalog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CatalogUrlTest, SqliteAbsoluteAndRelative) {
  auto absolute = ParseCatalogUrl("sqlite:///var/lib/argus/catalog.db");
  ASSERT_TRUE(absolute) << absolute.error().message;
  EXPECT_EQ(absolute->kind, CatalogUrl::Kind::kSqlite);
  EXPECT_EQ(absolute->sqlite_path, "/var/lib/argus/catalog.db");

  auto relative = ParseCatalogUrl("sqlite://data/catalog.db");
  ASSERT_TRUE(relative);
  EXPECT_EQ(relative->sqlite_path, "data/catalog.db");

  EXPECT_EQ(ParseCatalogUrl("sqlite://").error().code, ErrorCode::kInvalidArgument);
}

TEST(CatalogUrlTest, PostgresBecomesAKeywordValueConnectionString) {
  auto parsed = ParseCatalogUrl("postgresql://argus:s3cr%40t@db.internal:5433/argus_prod");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->kind, CatalogUrl::Kind::kPostgres);
  EXPECT_EQ(parsed->pg_conninfo,
            "user='argus' password='s3cr@t' host='db.internal' port='5433' dbname='argus_prod'");
  EXPECT_EQ(parsed->redacted, "postgresql://argus:***@db.internal:5433/argus_prod");
}

TEST(CatalogUrlTest, PostgresOptionalPartsAndQueryParameters) {
  auto minimal = ParseCatalogUrl("postgres://localhost");
  ASSERT_TRUE(minimal) << minimal.error().message;
  EXPECT_EQ(minimal->pg_conninfo, "host='localhost'");

  auto bare = ParseCatalogUrl("postgresql://");
  ASSERT_TRUE(bare);  // libpq defaults (PGHOST, local socket, ...)
  EXPECT_EQ(bare->pg_conninfo, "");

  auto query = ParseCatalogUrl(
      "postgresql://u@h/db?sslmode=require&connect_timeout=5&application_name=argus%20web");
  ASSERT_TRUE(query) << query.error().message;
  EXPECT_EQ(query->pg_conninfo,
            "user='u' host='h' dbname='db' sslmode='require' connect_timeout='5' "
            "application_name='argus web'");
  EXPECT_EQ(query->pg_connect_timeout_s, 5);
  EXPECT_EQ(minimal->pg_connect_timeout_s, 0);

  auto socket = ParseCatalogUrl("postgresql:///argus?host=%2Frun%2Fpostgresql");
  ASSERT_TRUE(socket) << socket.error().message;
  EXPECT_EQ(socket->pg_conninfo, "dbname='argus' host='/run/postgresql'");

  auto ipv6 = ParseCatalogUrl("postgresql://[::1]:6000/db");
  ASSERT_TRUE(ipv6) << ipv6.error().message;
  EXPECT_EQ(ipv6->pg_conninfo, "host='::1' port='6000' dbname='db'");
}

TEST(CatalogUrlTest, PostgresValuesAreQuotedAndPasswordsRedacted) {
  auto parsed = ParseCatalogUrl("postgresql://o%27neil:a%5Cb%27c%20d@h/db?password=other");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->pg_conninfo,
            R"(user='o\'neil' password='a\\b\'c d' host='h' dbname='db' password='other')");
  EXPECT_EQ(parsed->redacted, "postgresql://o%27neil:***@h/db?password=***");
}

TEST(CatalogUrlTest, RejectsMalformedUrls) {
  for (std::string_view url :
       {"", "catalog.db", "mysql://h/db", "postgresql://h:0/db", "postgresql://h:65536/db",
        "postgresql://h:5x/db", "postgresql://h/db?noequals", "postgresql://h/db?Key=1",
        "postgresql://h/d%2", "postgresql://[::1/db", "postgresql://[::1]x/db",
        "postgresql://h/db?connect_timeout=x", "postgresql://h/db?connect_timeout=-1"}) {
    auto parsed = ParseCatalogUrl(url);
    ASSERT_FALSE(parsed) << url;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

// A raw "@", "/" or "?" in the password or user name splits the URL in the wrong places (a
// piece of the password read as the host, port or database); the message says which part
// to encode, and never shows the password.
TEST(CatalogUrlTest, AnUnencodedCharacterInThePasswordOrUserIsNamedWithoutEchoingIt) {
  struct Case {
    std::string_view url;
    std::string_view part;
    std::vector<std::string_view> secret_pieces;
  };
  const Case cases[] = {
      {"postgresql://argus:s3cr@t@db.internal/argus", "the password", {"s3cr", "t@db"}},
      {"postgresql://argus:xK7/Qm99@db.internal:5432/argus", "the password", {"xK7", "Qm99"}},
      {"postgresql://argus:12/34@db.internal/argus", "the password", {"12", "34"}},
      {"postgresql://argus:xK7?Qm@db.internal/argus", "the password", {"xK7", "Qm@"}},
      {"postgresql://argus:Xq9?tok=w0rd@db.internal/argus", "the password", {"Xq9", "w0rd"}},
      {"postgresql://argus:s3cr@t/x@db.internal/argus", "the password", {"s3cr", "t/x"}},
      {"postgres://ar@gus:Zx9@db.internal/argus", "the user name", {"Zx9"}},
      {"postgres://ar/gus:Zx9@db.internal/argus", "the user name", {"Zx9"}},
  };
  for (const Case& bad : cases) {
    auto parsed = ParseCatalogUrl(bad.url);
    ASSERT_FALSE(parsed) << bad.url << " gave " << parsed->pg_conninfo;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad.url;
    const std::string& message = parsed.error().message;
    EXPECT_THAT(message, HasSubstr(std::string(bad.part) + " contains a raw")) << bad.url;
    EXPECT_THAT(message, HasSubstr("percent-encoded")) << message;
    EXPECT_THAT(message, HasSubstr("%40")) << message;
    EXPECT_THAT(message, HasSubstr("%2F")) << message;
    for (std::string_view piece : bad.secret_pieces) {
      EXPECT_THAT(message, Not(HasSubstr(std::string(piece)))) << bad.url << ": " << message;
    }
  }

  // Encoded, they are taken as they are meant; an "@" further on is a query value's.
  auto encoded = ParseCatalogUrl(
      "postgresql://ar%40gus:s3cr%40t%2Fpa%3Fss@db.internal/argus?application_name=me@host");
  ASSERT_TRUE(encoded) << encoded.error().message;
  EXPECT_EQ(encoded->pg_conninfo,
            "user='ar@gus' password='s3cr@t/pa?ss' host='db.internal' dbname='argus' "
            "application_name='me@host'");
}

}  // namespace
}  // namespace argus::catalog
