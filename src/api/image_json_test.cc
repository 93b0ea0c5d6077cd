#include "api/image_json.h"

#include <gtest/gtest.h>

namespace argus::api {
namespace {

// A result stored before buses were vehicles is found by `vehicle` once indexed again, and
// shows it: its labels' parents are the categories of the day.
TEST(ImageJsonTest, LabelsShowTheCategoriesOfTheDay) {
  catalog::ImageRecord record;
  record.id = "an-id";
  record.status = catalog::ImageStatus::kDone;
  record.result_json =
      R"({"labels":[{"wnid":"n03769881","name":"minibus","confidence":0.7,"parents":[]},)"
      R"({"name":"no wnid","confidence":0.1,"parents":["kept"]}]})";
  const Json::Value image = ImageJson(record);
  ASSERT_EQ(image["labels"].size(), 2u);
  EXPECT_EQ(image["labels"][0]["parents"][0].asString(), "vehicle");
  EXPECT_EQ(image["labels"][1]["parents"][0].asString(), "kept") << "nothing to look up";
  EXPECT_EQ(image["labels"][0]["name"].asString(), "minibus");
}

}  // namespace
}  // namespace argus::api
