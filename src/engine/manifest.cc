#include "engine/manifest.h"

#include <json/json.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/json.h"

namespace argus::engine {
namespace {

#include "engine/builtin_manifests.inc"  // kBuiltinManifests: {name, json} from models/*.json

Result<std::string> RequireString(const Json::Value& object, const char* key,
                                  std::string_view context) {
  const Json::Value& value = object[key];
  if (!value.isString() || value.asString().empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(context) + "." + key + " must be a non-empty string");
  }
  return value.asString();
}

Result<void> ReadTriple(const Json::Value& object, const char* key, std::array<float, 3>& out) {
  const Json::Value& value = object[key];
  if (value.isNull()) return {};
  if (!value.isArray() || value.size() != 3) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("preprocess.") + key + " must be an array of 3 numbers");
  }
  for (Json::ArrayIndex i = 0; i < 3; ++i) {
    if (!value[i].isNumeric()) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("preprocess.") + key + " must hold numbers");
    }
    out[i] = value[i].asFloat();
  }
  return {};
}

Result<int> ReadPositiveInt(const Json::Value& object, const char* key, int fallback,
                            std::string_view context) {
  const Json::Value& value = object[key];
  if (value.isNull()) return fallback;
  if (!value.isInt() || value.asInt() <= 0 || value.asInt() > 8192) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(context) + "." + key + " must be a whole number from 1 to 8192");
  }
  return value.asInt();
}

std::filesystem::path Resolve(const std::filesystem::path& base, const std::string& file) {
  const std::filesystem::path path(file);
  return path.is_absolute() ? path : base / path;
}

}  // namespace

Result<ModelManifest> ParseManifest(std::string_view json, const std::filesystem::path& base_dir) {
  Json::Value root;
  std::string errors;
  if (!ReadJson(json, root, &errors) || !root.isObject()) {
    return Fail(ErrorCode::kInvalidArgument, "manifest is not a JSON object: " + errors);
  }
  const Json::Value& input = root["input"];
  const Json::Value& output = root["output"];
  const Json::Value& preprocess = root["preprocess"];
  const Json::Value& labels = root["labels"];
  for (const auto& [section, value] :
       {std::pair{"input", &input}, std::pair{"output", &output}, std::pair{"labels", &labels}}) {
    if (!value->isObject()) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("manifest needs an object \"") + section + "\"");
    }
  }
  if (!preprocess.isNull() && !preprocess.isObject()) {
    return Fail(ErrorCode::kInvalidArgument, "manifest \"preprocess\" must be an object");
  }

  ModelManifest manifest;
  auto name = RequireString(root, "name", "manifest");
  auto file = RequireString(root, "file", "manifest");
  auto input_name = RequireString(input, "name", "input");
  auto output_name = RequireString(output, "name", "output");
  auto synsets = RequireString(labels, "synsets", "labels");
  for (const auto* field : {&name, &file, &input_name, &output_name, &synsets}) {
    if (!*field) return std::unexpected(field->error());
  }
  manifest.name = *name;
  manifest.version = root["version"].isString() ? root["version"].asString() : *name;
  manifest.model_file = Resolve(base_dir, *file);
  manifest.input_name = *input_name;
  manifest.output_name = *output_name;
  manifest.synsets_file = Resolve(base_dir, *synsets);
  if (labels["names"].isString())
    manifest.names_file = Resolve(base_dir, labels["names"].asString());

  const std::string layout = input["layout"].isString() ? input["layout"].asString() : "NCHW";
  if (layout != "NCHW") {
    return Fail(ErrorCode::kInvalidArgument,
                "input.layout \"" + layout + "\" is not supported (only NCHW)");
  }
  const std::string channels = input["channels"].isString() ? input["channels"].asString() : "RGB";
  if (channels != "RGB" && channels != "BGR") {
    return Fail(ErrorCode::kInvalidArgument, "input.channels must be \"RGB\" or \"BGR\"");
  }
  const std::string kind = output["kind"].isString() ? output["kind"].asString() : "logits";
  if (kind != "logits" && kind != "probabilities") {
    return Fail(ErrorCode::kInvalidArgument, "output.kind must be \"logits\" or \"probabilities\"");
  }
  manifest.output_kind = kind == "logits" ? OutputKind::kLogits : OutputKind::kProbabilities;

  image::Preprocessing& p = manifest.preprocessing;
  p.channel_order = channels == "RGB" ? image::ChannelOrder::kRgb : image::ChannelOrder::kBgr;
  auto width = ReadPositiveInt(input, "width", 224, "input");
  auto height = ReadPositiveInt(input, "height", 224, "input");
  if (!width) return std::unexpected(width.error());
  if (!height) return std::unexpected(height.error());
  p.crop_width = *width;
  p.crop_height = *height;
  auto short_side = ReadPositiveInt(preprocess, "resize_short_side",
                                    std::max(*width, *height) * 8 / 7, "preprocess");
  if (!short_side) return std::unexpected(short_side.error());
  if (*short_side < std::max(*width, *height)) {
    return Fail(ErrorCode::kInvalidArgument,
                "preprocess.resize_short_side must be at least the input width and height");
  }
  p.resize_short_side = *short_side;
  if (preprocess["scale"].isNumeric()) p.scale = preprocess["scale"].asFloat();
  if (auto mean = ReadTriple(preprocess, "mean", p.mean); !mean)
    return std::unexpected(mean.error());
  if (auto std = ReadTriple(preprocess, "std", p.std); !std) return std::unexpected(std.error());
  if (std::ranges::any_of(p.std, [](float s) { return s == 0.0f; })) {
    return Fail(ErrorCode::kInvalidArgument, "preprocess.std must not contain 0");
  }
  return manifest;
}

Result<ModelManifest> LoadManifest(std::string_view name_or_path,
                                   const std::filesystem::path& assets_dir) {
  for (const auto& [name, json] : kBuiltinManifests) {
    if (name == name_or_path) return ParseManifest(json, assets_dir);
  }
  const std::filesystem::path path(name_or_path);
  std::ifstream in(path);
  if (!in) {
    std::string known;
    for (const auto& name : BuiltinModelNames())
      known += (known.empty() ? "" : ", ") + std::string(name);
    return Fail(ErrorCode::kNotFound, "unknown model \"" + std::string(name_or_path) +
                                          "\": neither a built-in model (" + known +
                                          ") nor a readable manifest file");
  }
  std::stringstream text;
  text << in.rdbuf();
  auto manifest = ParseManifest(text.str(), path.parent_path());
  if (!manifest) {
    return Fail(manifest.error().code, path.string() + ": " + manifest.error().message);
  }
  return manifest;
}

std::vector<std::string_view> BuiltinModelNames() {
  std::vector<std::string_view> names;
  for (const auto& entry : kBuiltinManifests) names.push_back(entry.first);
  return names;
}

}  // namespace argus::engine
