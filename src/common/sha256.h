#pragma once

#include <string>
#include <string_view>

namespace argus {

// Lowercase hex sha256: image ids (content addresses) and stored hashes of secrets.
std::string Sha256Hex(std::string_view bytes);

}  // namespace argus
