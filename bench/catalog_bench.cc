// Indexing stored results again, as `argus serve` does beside its server once an upgrade
// changes the rule of the search terms (catalog::ReindexOutdatedSearchTerms). Run with
// `make bench`.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <format>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/json.h"
#include "common/sha256.h"
#include "engine/classification.h"

namespace argus {
namespace {

// What a worker stores for a photo of a Labrador: five labels, as engine::ToJson writes them.
catalog::ClassificationResult LabradorResult() {
  engine::Classification classification;
  classification.labels = {{"n02099712", "Labrador retriever", 0.61f, {"dog"}},
                           {"n02099601", "golden retriever", 0.21f, {"dog"}},
                           {"n02104029", "kuvasz", 0.08f, {"dog"}},
                           {"n02111500", "Great Pyrenees", 0.04f, {"dog"}},
                           {"n02808440", "bathtub", 0.01f, {"device"}}};
  classification.spirit_dog = {"n02099712", "Labrador retriever", 0.64f};
  return {.result_json = WriteJson(engine::ToJson(classification)),
          .model = "mobilenetv2-12-int8",
          .inference_ms = 2.0,
          .search_terms = engine::SearchTerms(classification)};
}

// A SQLite catalog of `images` finished images, in a folder removed on destruction.
class FilledCatalog {
 public:
  explicit FilledCatalog(std::size_t images) {
    std::string pattern = (std::filesystem::temp_directory_path() / "argus-bench-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    catalog_ = catalog::OpenCatalog("sqlite://" + File().string()).value();
    const catalog::ClassificationResult result = LabradorResult();
    std::vector<catalog::ResultToStore> batch;
    for (std::size_t i = 0; i < images; ++i) {
      const std::string id = Sha256Hex(std::format("image {}", i));
      (void)catalog_
          ->AddUpload({.id = id,
                       .owner = "owner",
                       .filename = "dog.jpg",
                       .content_type = "image/jpeg",
                       .size_bytes = 1000,
                       .width = 500,
                       .height = 375})
          .value();
      batch.push_back({.image_id = id, .result = result});
      if (batch.size() == 200 || i + 1 == images) {
        (void)catalog_->StoreResults(batch, 1).value();
        batch.clear();
      }
    }
  }
  ~FilledCatalog() {
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Every result as if an older version had indexed it, behind the catalog's back.
  void MarkAllOutdated() const {
    sqlite3* db = nullptr;
    sqlite3_open(File().c_str(), &db);
    sqlite3_busy_timeout(db, 10'000);
    sqlite3_exec(db, "UPDATE images SET terms_version = 0", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }

  catalog::Catalog& catalog() { return *catalog_; }

 private:
  std::filesystem::path File() const { return dir_ / "catalog.db"; }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

void BM_ReindexSearchTerms(benchmark::State& state) {
  const auto images = static_cast<std::size_t>(state.range(0));
  FilledCatalog filled(images);
  for (auto _ : state) {
    state.PauseTiming();
    filled.MarkAllOutdated();
    state.ResumeTiming();
    const std::size_t reindexed =
        catalog::ReindexOutdatedSearchTerms(filled.catalog(), [](std::string_view result_json) {
          return engine::SearchTermsOfResultJson(result_json);
        }).value();
    if (reindexed != images) state.SkipWithError("not every result was indexed again");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * images));
}
BENCHMARK(BM_ReindexSearchTerms)
    ->Arg(20'000)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(2);

}  // namespace
}  // namespace argus
