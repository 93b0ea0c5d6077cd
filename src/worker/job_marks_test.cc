#include "worker/job_marks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/temp_dir_test.h"

namespace argus::worker {
namespace {

using namespace std::chrono_literals;

// Marks written to a real SQLite catalog.
class JobMarksTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto catalog = catalog::OpenCatalog("sqlite://" + (dir_ / "catalog.db").string());
    ASSERT_TRUE(catalog) << catalog.error().message;
    catalog_ = std::move(*catalog);
  }

  // Records an upload that needs a job; returns the mark of its job.
  catalog::JobMark AddUpload(int n) {
    const std::string id = std::string(63, 'a') + std::to_string(n % 10);
    auto added = catalog_->AddUpload({.id = id, .owner = "", .filename = "photo.jpg"});
    EXPECT_TRUE(added && added->needs_job);
    return {.image_id = id, .round_ms = added ? added->record.created_at_ms : 0};
  }

  // The images a start-up recovery would enqueue again.
  std::vector<catalog::JobMark> Unmarked() {
    auto awaiting = catalog_->ImagesAwaitingJob(NowMs() + 60'000);
    EXPECT_TRUE(awaiting) << awaiting.error().message;
    return awaiting ? *awaiting : std::vector<catalog::JobMark>{};
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(JobMarksTest, PendingMarksAreWrittenWithinTheInterval) {
  JobMarks marks(*catalog_, 20ms);
  const catalog::JobMark first = AddUpload(1);
  const catalog::JobMark second = AddUpload(2);
  const catalog::JobMark never_enqueued = AddUpload(3);
  marks.Add(first);
  marks.Add(second);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Unmarked().size() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(Unmarked(), std::vector{never_enqueued});
}

TEST_F(JobMarksTest, MarksPendingAtDestructionAreWritten) {
  const catalog::JobMark id = AddUpload(1);
  {
    JobMarks marks(*catalog_, std::chrono::hours(1));
    marks.Add(id);
    EXPECT_EQ(Unmarked(), std::vector{id}) << "written before its interval";
  }
  EXPECT_TRUE(Unmarked().empty());
}

TEST_F(JobMarksTest, FlushWritesAtOnceAndSkipsRemovedImages) {
  JobMarks marks(*catalog_, std::chrono::hours(1));
  const catalog::JobMark kept = AddUpload(1);
  const catalog::JobMark removed = AddUpload(2);
  marks.Add(kept);
  marks.Add(removed);
  ASSERT_TRUE(catalog_->Remove("", removed.image_id, [] { return Result<void>(); }));
  ASSERT_TRUE(marks.Flush());
  EXPECT_TRUE(Unmarked().empty());
  EXPECT_FALSE(
      catalog_->AddUpload({.id = kept.image_id, .owner = "", .filename = "again.jpg"})->needs_job);
  EXPECT_TRUE(marks.Flush()) << "nothing pending is no error";
}

// Until its mark is written, the catalog says an image needs a job although it has one.
TEST_F(JobMarksTest, AMarkIsHeldUntilItIsWritten) {
  JobMarks marks(*catalog_, std::chrono::hours(1));
  const catalog::JobMark mark = AddUpload(1);
  const catalog::NewUpload again{.id = mark.image_id, .owner = "", .filename = "again.jpg"};
  EXPECT_FALSE(marks.Holds(mark));
  marks.Add(mark);
  EXPECT_TRUE(marks.Holds(mark));
  EXPECT_TRUE(catalog_->AddUpload(again)->needs_job)
      << "the catalog alone would queue a second job";
  ASSERT_TRUE(marks.Flush());
  EXPECT_FALSE(marks.Holds(mark));
  EXPECT_FALSE(catalog_->AddUpload(again)->needs_job);
}

// An image that failed within milliseconds of its upload, and is tried again before its
// job's mark is written, needs a job of its own: the mark of the round that ended neither
// holds the new round's job back nor marks it enqueued.
TEST_F(JobMarksTest, AMarkOfARoundThatEndedHoldsNothingForTheNext) {
  JobMarks marks(*catalog_, std::chrono::hours(1));
  const catalog::JobMark first_round = AddUpload(1);
  marks.Add(first_round);
  ASSERT_TRUE(catalog_->RecordFailure(first_round.image_id, "corrupt", true, NowMs()));
  std::this_thread::sleep_for(2ms);  // rounds are told apart by their start, in milliseconds
  auto requeued =
      catalog_->AddUpload({.id = first_round.image_id, .owner = "", .filename = "again.jpg"});
  ASSERT_TRUE(requeued && requeued->needs_job);
  const catalog::JobMark next_round{.image_id = first_round.image_id,
                                    .round_ms = requeued->record.created_at_ms};
  ASSERT_NE(next_round, first_round);
  EXPECT_TRUE(marks.Holds(first_round));
  EXPECT_FALSE(marks.Holds(next_round)) << "its job must be queued";
  ASSERT_TRUE(marks.Flush());
  EXPECT_EQ(Unmarked(), std::vector{next_round}) << "the first round's mark did not mark it";
}

}  // namespace
}  // namespace argus::worker
