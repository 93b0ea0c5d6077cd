#pragma once

// Test-only: a blob store that lets a test put another process's step at a chosen moment.

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "blob/blob_store.h"

namespace argus::blob {

// The real store, with `after_first_read` run once, right after the first read of `key`:
// the moment another process's step falls between a worker's read and its next step.
class StoreWithAStepAfterARead : public BlobStore {
 public:
  StoreWithAStepAfterARead(BlobStore& store, std::string key,
                           std::function<void()> after_first_read)
      : store_(store), key_(std::move(key)), after_first_read_(std::move(after_first_read)) {}

  Result<void> Put(std::string_view key, std::span<const std::byte> data,
                   std::string_view content_type, Durability durability) override {
    return store_.Put(key, data, content_type, durability);
  }
  Result<void> MakeDurable(std::string_view key) override { return store_.MakeDurable(key); }
  Result<std::vector<std::byte>> Get(std::string_view key) override {
    auto read = store_.Get(key);
    if (key == key_ && after_first_read_) std::exchange(after_first_read_, nullptr)();
    return read;
  }
  Result<void> Delete(std::string_view key) override { return store_.Delete(key); }
  Result<bool> Exists(std::string_view key) override { return store_.Exists(key); }
  Result<void> List(std::string_view folder,
                    const std::function<bool(const ListedObject&)>& visit) override {
    return store_.List(folder, visit);
  }
  Result<std::string> PresignedGetUrl(std::string_view key, std::chrono::seconds expires) override {
    return store_.PresignedGetUrl(key, expires);
  }
  Result<std::string> LocalFileOf(std::string_view key) override { return store_.LocalFileOf(key); }

 private:
  BlobStore& store_;
  const std::string key_;
  std::function<void()> after_first_read_;
};

}  // namespace argus::blob
