#pragma once

#include <filesystem>
#include <memory>

#include "blob/blob_store.h"
#include "common/error.h"

namespace argus::blob {

// A BlobStore over a local folder: key "a/b" is the file <root>/a/b, folders are created as
// keys need them (and stay when their objects are deleted).
//
// Put writes a temporary file beside the target, fsyncs it, renames it over the target and
// fsyncs the folder, so readers see the old or the new object, never a part of either, and
// the object survives a power loss once Put returns (Durability::kRecreatable skips both
// fsyncs: the rename alone survives a crash of the process). Temporary names contain '~', which no
// key can, so they are never visible as objects. content_type is not kept: nothing reads it
// back from a local folder.
//
// A file system cannot hold both an object "a" and an object "a/b": the second Put is
// kConflict.
Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::filesystem::path& root);

}  // namespace argus::blob
