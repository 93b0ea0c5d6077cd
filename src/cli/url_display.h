#pragma once

#include <string>
#include <string_view>

namespace argus::cli {

// `url` as it may be logged: a password in its user part ("nats://user:secret@host",
// "s3://KEY:SECRET@host/bucket") becomes "***".
std::string WithoutPassword(std::string_view url);

}  // namespace argus::cli
