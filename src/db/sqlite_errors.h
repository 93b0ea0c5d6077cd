#pragma once

#include <string_view>

namespace argus::db {

// Drogon passes on only the text of a SQLite error (sqlite3_errmsg), not its code.

// SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock the statement needs.
inline bool IsLocked(std::string_view sqlite_message) {
  return sqlite_message.find("database is locked") != std::string_view::npos ||
         sqlite_message.find("database table is locked") != std::string_view::npos;
}

// SQLITE_FULL: the disk (or the file's quota) has no room for the write.
inline bool IsDiskFull(std::string_view sqlite_message) {
  return sqlite_message.find("database or disk is full") != std::string_view::npos;
}

// SQLITE_READONLY: the file, or its folder or file system, does not take writes now.
inline bool IsReadOnly(std::string_view sqlite_message) {
  return sqlite_message.find("attempt to write a readonly database") != std::string_view::npos;
}

// SQLITE_NOTADB or SQLITE_CORRUPT: the file is not a SQLite database, or a damaged one.
inline bool IsDamaged(std::string_view sqlite_message) {
  return sqlite_message.find("file is not a database") != std::string_view::npos ||
         sqlite_message.find("database disk image is malformed") != std::string_view::npos;
}

}  // namespace argus::db
