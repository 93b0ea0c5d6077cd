#include "scaler/scaling_policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "common/json.h"

namespace argus::scaler {
namespace {

using std::chrono::seconds;
const auto t0 = std::chrono::steady_clock::time_point{} + seconds(1000);

TEST(ScalingPolicyTest, DesiredIsDepthOverJobsPerWorkerClamped) {
  ScalingPolicy policy({.min_workers = 1, .max_workers = 4, .jobs_per_worker = 10});
  EXPECT_EQ(policy.Desired(0), 1);
  EXPECT_EQ(policy.Desired(1), 1);
  EXPECT_EQ(policy.Desired(10), 1);
  EXPECT_EQ(policy.Desired(11), 2);
  EXPECT_EQ(policy.Desired(40), 4);
  EXPECT_EQ(policy.Desired(1000), 4);
}

TEST(ScalingPolicyTest, ScalesOutAtOnce) {
  ScalingPolicy policy({.min_workers = 0, .max_workers = 8, .jobs_per_worker = 5});
  const auto decision = policy.Decide(23, 1, t0);
  EXPECT_EQ(decision.action, ScalingAction::kScaleOut);
  EXPECT_EQ(decision.from, 1);
  EXPECT_EQ(decision.to, 5);
  EXPECT_EQ(decision.depth, 23u);
  EXPECT_FALSE(decision.reason.empty());
}

TEST(ScalingPolicyTest, ReasonsCountOneJobOrWorkerInTheSingular) {
  ScalingPolicy one({.min_workers = 0, .max_workers = 8, .jobs_per_worker = 1});
  EXPECT_EQ(one.Decide(1, 0, t0).reason, "1 job needs 1 worker at 1 job each");
  ScalingPolicy minimum({.min_workers = 1, .max_workers = 8, .jobs_per_worker = 5});
  EXPECT_EQ(minimum.Decide(0, 0, t0).reason, "below the minimum of 1 worker");
  EXPECT_EQ(minimum.Decide(23, 1, t0).reason, "23 jobs need 5 workers at 5 jobs each");
  // A start that meets a backlog goes past the minimum for the jobs, and says so.
  ScalingPolicy backlog({.min_workers = 1, .max_workers = 8, .jobs_per_worker = 10});
  EXPECT_EQ(backlog.Decide(30, 0, t0).reason, "30 jobs need 3 workers at 10 jobs each");
}

TEST(ScalingPolicyTest, ScalesInOnlyAfterTheCooldownAndToZeroWhenAllowed) {
  ScalingPolicy policy({.min_workers = 0,
                        .max_workers = 4,
                        .jobs_per_worker = 10,
                        .scale_in_cooldown = std::chrono::seconds(30)});
  EXPECT_EQ(policy.Decide(0, 3, t0).action, ScalingAction::kHold);
  EXPECT_EQ(policy.Decide(0, 3, t0 + seconds(29)).action, ScalingAction::kHold);
  const auto decision = policy.Decide(0, 3, t0 + seconds(30));
  EXPECT_EQ(decision.action, ScalingAction::kScaleIn);
  EXPECT_EQ(decision.to, 0);
}

// Light traffic served at once leaves no depth at the moments the queue is read, but its
// jobs keep one worker: scaling to zero in it would make the next photo wait for a start.
TEST(ScalingPolicyTest, JobsThatCameAndWentBetweenDecisionsKeepOneWorker) {
  ScalingPolicy policy({.min_workers = 0,
                        .max_workers = 4,
                        .jobs_per_worker = 10,
                        .scale_in_cooldown = std::chrono::seconds(30)});
  for (int s = 0; s <= 60; s += 10) {
    const auto kept = policy.Decide(0, 1, t0 + seconds(s), std::nullopt, 1);
    EXPECT_EQ(kept.action, ScalingAction::kHold) << s;
    EXPECT_EQ(kept.desired, 1) << s;
  }
  // Between arrivals, too, the one worker is what the policy aims for (a dashboard read 0).
  EXPECT_EQ(policy.Decide(0, 1, t0 + seconds(61)).desired, 1);
  EXPECT_EQ(policy.Decide(0, 1, t0 + seconds(90)).action, ScalingAction::kHold);
  const auto idle = policy.Decide(0, 1, t0 + seconds(91));
  EXPECT_EQ(idle.action, ScalingAction::kScaleIn);
  EXPECT_EQ(idle.to, 0);
  EXPECT_EQ(idle.desired, 0);

  // With none running, jobs that left no depth were done by workers of someone else's.
  EXPECT_EQ(policy.Decide(0, 0, t0 + seconds(95), std::nullopt, 5).action, ScalingAction::kHold);

  // Two workers still go down to one in such traffic.
  EXPECT_EQ(policy.Decide(0, 2, t0 + seconds(100), std::nullopt, 3).action, ScalingAction::kHold);
  const auto fewer = policy.Decide(0, 2, t0 + seconds(130), std::nullopt, 2);
  EXPECT_EQ(fewer.action, ScalingAction::kScaleIn);
  EXPECT_EQ(fewer.to, 1);
}

TEST(ScalingPolicyTest, RenewedDemandRestartsTheCooldown) {
  ScalingPolicy policy({.min_workers = 1,
                        .max_workers = 4,
                        .jobs_per_worker = 10,
                        .scale_in_cooldown = std::chrono::seconds(30)});
  EXPECT_EQ(policy.Decide(0, 2, t0).action, ScalingAction::kHold);
  EXPECT_EQ(policy.Decide(15, 2, t0 + seconds(20)).action, ScalingAction::kHold);  // 2 needed
  EXPECT_EQ(policy.Decide(0, 2, t0 + seconds(40)).action, ScalingAction::kHold);
  EXPECT_EQ(policy.Decide(0, 2, t0 + seconds(69)).action, ScalingAction::kHold);
  const auto decision = policy.Decide(0, 2, t0 + seconds(70));
  EXPECT_EQ(decision.action, ScalingAction::kScaleIn);
  EXPECT_EQ(decision.to, 1);  // never below the minimum
}

TEST(ScalingPolicyTest, RestoresTheMinimumWhenWorkersAreMissing) {
  ScalingPolicy policy({.min_workers = 2, .max_workers = 4});
  const auto decision = policy.Decide(0, 0, t0);
  EXPECT_EQ(decision.action, ScalingAction::kScaleOut);
  EXPECT_EQ(decision.to, 2);
}

TEST(ScalingPolicyTest, HoldsFurtherWorkersBackWhileTooFewCoresAreIdle) {
  ScalingPolicy policy(
      {.min_workers = 1, .max_workers = 4, .jobs_per_worker = 10, .scale_out_idle_cores = 1.0});
  const auto held = policy.Decide(35, 1, t0, 0.4);
  EXPECT_EQ(held.action, ScalingAction::kScaleOutHeld);
  EXPECT_EQ(held.to, 1);
  EXPECT_NE(held.reason.find("0.4 cores were idle"), std::string::npos) << held.reason;
  const auto resumed = policy.Decide(35, 1, t0 + seconds(1), 1.5);
  EXPECT_EQ(resumed.action, ScalingAction::kScaleOut);
  EXPECT_EQ(resumed.to, 4);  // at once, as far as demand goes
  EXPECT_EQ(policy.Decide(35, 2, t0 + seconds(2)).action, ScalingAction::kScaleOut)
      << "an unknown load holds nothing back";

  ScalingPolicy demand_alone({.max_workers = 4, .jobs_per_worker = 10, .scale_out_idle_cores = 0});
  EXPECT_EQ(demand_alone.Decide(35, 1, t0, 0.0).to, 4) << "0 idle cores needed: demand decides";
}

TEST(ScalingPolicyTest, StartsTheMinimumAndAFirstWorkerWhateverTheLoad) {
  ScalingPolicy from_zero({.min_workers = 0, .max_workers = 4, .jobs_per_worker = 10});
  const auto first = from_zero.Decide(35, 0, t0, 0.0);
  EXPECT_EQ(first.action, ScalingAction::kScaleOut);
  EXPECT_EQ(first.to, 1);
  EXPECT_NE(first.reason.find("1 for now"), std::string::npos) << first.reason;

  ScalingPolicy with_minimum({.min_workers = 2, .max_workers = 4, .jobs_per_worker = 10});
  const auto restored = with_minimum.Decide(35, 0, t0, 0.0);
  EXPECT_EQ(restored.action, ScalingAction::kScaleOut);
  EXPECT_EQ(restored.to, 2);
  EXPECT_EQ(with_minimum.Decide(35, 2, t0, 0.0).action, ScalingAction::kScaleOutHeld);
}

TEST(ScalingPolicyTest, InconsistentBoundsAreMadeSafe) {
  ScalingPolicy policy({.min_workers = 3, .max_workers = 1, .jobs_per_worker = 0});
  EXPECT_EQ(policy.options().max_workers, 3);
  EXPECT_EQ(policy.Desired(100), 3);
}

// The OpenAPI document lists the decisions /api/v1/ops/status shows: "restart" was missing,
// so a client with strict enums could not read the status after a worker crashed.
TEST(ScalingPolicyTest, TheOpenApiDocumentListsEveryAction) {
  std::ifstream file(ARGUS_TEST_SOURCE_DIR "/src/api/openapi.json");
  const std::string text{std::istreambuf_iterator<char>(file), {}};
  Json::Value document;
  ASSERT_TRUE(ReadJson(text, document));
  const Json::Value& decisions =
      document["components"]["schemas"]["ScalerStatus"]["properties"]["decisions"];
  std::set<std::string> listed;
  for (const Json::Value& name : decisions["items"]["properties"]["action"]["enum"]) {
    listed.insert(name.asString());
  }
  std::set<std::string> actions;
  for (ScalingAction action :
       {ScalingAction::kHold, ScalingAction::kScaleOut, ScalingAction::kScaleIn,
        ScalingAction::kScaleOutHeld, ScalingAction::kRestart}) {
    actions.insert(std::string(ActionName(action)));
  }
  EXPECT_EQ(listed, actions);
}

}  // namespace
}  // namespace argus::scaler
