// Runs the real `argus` binary the way users do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json/json.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/run_argus_test.h"
#include "common/base64.h"
#include "common/temp_dir_test.h"
#include "common/unused_port_test.h"

namespace argus::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSamples = ARGUS_TEST_SHARED_DIR "/data/imagenet-sample";

std::vector<Json::Value> JsonLines(const std::string& text) {
  std::vector<Json::Value> lines;
  std::istringstream in(text);
  std::string line;
  Json::CharReaderBuilder builder;
  while (std::getline(in, line)) {
    Json::Value value;
    std::istringstream line_in(line);
    std::string errors;
    EXPECT_TRUE(Json::parseFromStream(builder, line_in, &value, &errors)) << line;
    lines.push_back(value);
  }
  return lines;
}

TEST(ClassifyCommandTest, PrintsJsonLinesInTheApiShape) {
  const Outcome o =
      RunArgus("classify --json --top-k 3 " + kSamples + "/n02099712_Labrador_retriever.JPEG " +
               kSamples + "/n01440764_tench.JPEG");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto lines = JsonLines(o.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["file"].asString(), kSamples + "/n02099712_Labrador_retriever.JPEG");
  EXPECT_EQ(lines[0]["model"].asString(), "mobilenetv2-12-int8");
  ASSERT_EQ(lines[0]["labels"].size(), 3u);
  EXPECT_EQ(lines[0]["labels"][0]["wnid"].asString(), "n02099712");
  EXPECT_EQ(lines[0]["labels"][0]["name"].asString(), "Labrador Retriever");
  EXPECT_GT(lines[0]["labels"][0]["confidence"].asDouble(), 0.5);
  EXPECT_EQ(lines[0]["labels"][0]["parents"][0].asString(), "dog");
  EXPECT_EQ(lines[0]["spirit_dog"]["wnid"].asString(), "n02099712");
  EXPECT_EQ(lines[1]["labels"][0]["parents"][0].asString(), "fish");
}

TEST(ClassifyCommandTest, EngineStartupNoiseNeverReachesTheUser) {
  const Outcome o = RunArgus("classify " + kSamples + "/n01440764_tench.JPEG");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_THAT(o.err, Not(HasSubstr("Schema error")));
  EXPECT_EQ(o.err, "");
  EXPECT_THAT(o.out, HasSubstr("tench"));
  EXPECT_THAT(o.out, HasSubstr("fish, animal"));
}

TEST(ClassifyCommandTest, FailedFilesAreNamedWithTheirReasonAndExitNonZero) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-cli-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "notes.jpg") << "plain text";
  const Outcome o = RunArgus("classify --json " + (dir / "notes.jpg").string() + " " + kSamples +
                             "/n01440764_tench.JPEG " + (dir / "gone.png").string());
  EXPECT_EQ(o.exit_code, 1);
  const auto lines = JsonLines(o.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["error"]["code"].asString(), "unsupported_media");
  EXPECT_TRUE(lines[1]["error"].isNull());
  EXPECT_EQ(lines[2]["error"]["code"].asString(), "not_found");
  EXPECT_THAT(o.err, HasSubstr("2 of 3 files failed"));
  EXPECT_THAT(o.err, HasSubstr("notes.jpg: not a supported image"));
  EXPECT_THAT(o.err, HasSubstr("gone.png: "));

  const Outcome table = RunArgus("classify " + (dir / "notes.jpg").string());
  EXPECT_EQ(table.exit_code, 1);
  EXPECT_THAT(table.err, HasSubstr("notes.jpg: "));
  std::filesystem::remove_all(dir);
}

// A folder: every name an image of the accepted formats commonly has is taken, and a name
// holding control characters reaches the terminal without them.
TEST(ClassifyCommandTest, FoldersTakeEveryCommonImageExtensionAndPrintNamesSafely) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-cli-names-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path photo = kSamples + "/n01440764_tench.JPEG";
  for (const char* name : {"a.jfif", "b.pjpeg", "c.pjp", "d.hif", "e\x1b[31mred.jpg"}) {
    std::filesystem::copy_file(photo, dir / name);
  }
  const Outcome o = RunArgus("classify -q --top-k 1 " + dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  for (const char* name : {"a.jfif", "b.pjpeg", "c.pjp", "d.hif", "e?[31mred.jpg"}) {
    const std::size_t row = o.out.find((dir / name).string() + " ");
    ASSERT_NE(row, std::string::npos) << name << " in\n" << o.out;
    EXPECT_THAT(o.out.substr(row, o.out.find('\n', row) - row), HasSubstr("tench"));
  }
  EXPECT_THAT(o.out, Not(HasSubstr("\x1b")));
}

// A name that is not UTF-8 (made on another system) is in the JSON lines with U+FFFD for its
// stray bytes (before, the byte swallowed the two after it: "caf\u9baapg"), and its exact
// bytes in base64: two names that differ in a stray byte read the same otherwise.
TEST(ClassifyCommandTest, JsonLinesOfANameThatIsNotUtf8StayJsonAndGiveItsBytes) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-cli-latin1-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kSamples + "/n01440764_tench.JPEG", dir / "caf\xE8.jpg");
  std::filesystem::copy_file(kSamples + "/n01440764_tench.JPEG", dir / "caf\xE9.jpg");
  const Outcome o = RunArgus("classify --json --top-k 1 " + dir.string() + " " + kSamples +
                             "/n01440764_tench.JPEG");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto lines = JsonLines(o.out);
  ASSERT_EQ(lines.size(), 3u) << o.out;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(lines[i]["file"].asString(), (dir / "caf\uFFFD.jpg").string());
    EXPECT_EQ(lines[i]["labels"][0]["name"].asString(), "tench");
  }
  EXPECT_EQ(lines[0]["file_base64"].asString(), Base64((dir / "caf\xE8.jpg").string()));
  EXPECT_EQ(lines[1]["file_base64"].asString(), Base64((dir / "caf\xE9.jpg").string()));
  EXPECT_FALSE(lines[2].isMember("file_base64")) << "a UTF-8 name is as it is";
}

// A link to nothing in a folder is a failed file, named, as a missing file given by name is.
TEST(ClassifyCommandTest, ALinkToNothingInAFolderIsNamedAsFailed) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-cli-links-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kSamples + "/n01440764_tench.JPEG", dir / "tench.jpg");
  std::filesystem::create_symlink(dir / "gone.jpg", dir / "broken.jpg");
  const Outcome o = RunArgus("classify -q --top-k 1 " + dir.string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_THAT(o.err, HasSubstr((dir / "broken.jpg").string() + ": "));
  EXPECT_THAT(o.out, HasSubstr("tench"));
}

// A folder that cannot be read, given or met in a folder, is a failed entry, named, where its
// images were left out in silence and the command exited 0.
TEST(ClassifyCommandTest, AFolderThatCannotBeReadIsNamedAsFailed) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-cli-locked-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "locked");
  std::filesystem::copy_file(kSamples + "/n01440764_tench.JPEG", dir / "tench.jpg");
  std::filesystem::copy_file(kSamples + "/n01440764_tench.JPEG", dir / "locked" / "tench.jpg");
  std::filesystem::permissions(dir / "locked", std::filesystem::perms::none);
  // Root reads any folder: the command then runs as nobody.
  const std::string as_nobody =
      geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups" : "";
  const Outcome within = RunArgus("classify -q --top-k 1 " + dir.string(), as_nobody);
  const Outcome named = RunArgus("classify -q --top-k 1 " + (dir / "locked").string(), as_nobody);
  std::filesystem::permissions(dir / "locked", std::filesystem::perms::owner_all);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(within.exit_code, 1) << within.err;
  EXPECT_THAT(within.err, HasSubstr((dir / "locked").string() + ": "));
  EXPECT_THAT(within.err, HasSubstr("ermission denied"));
  EXPECT_THAT(within.out, HasSubstr("tench"));
  EXPECT_EQ(named.exit_code, 1) << named.err;
  EXPECT_THAT(named.err, HasSubstr((dir / "locked").string() + ": "));
  EXPECT_THAT(named.err, HasSubstr("ermission denied"));
}

// The decoder's warnings about a damaged file are not the command's output; a file cut short
// is refused, as the service refuses it.
TEST(ClassifyCommandTest, DamagedFilesLeaveNoLibvipsWarningsAndTruncatedOnesFail) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-cli-damaged-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ifstream in(kSamples + "/n01440764_tench.JPEG", std::ios::binary);
  const std::string photo((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "damaged.jpg", std::ios::binary)
      << photo.substr(0, photo.size() / 2) << "\xFF\xD9";
  std::ofstream(dir / "cut.jpg", std::ios::binary) << photo.substr(0, photo.size() - 2);
  const Outcome damaged = RunArgus("classify -q " + (dir / "damaged.jpg").string());
  const Outcome cut = RunArgus("classify -q " + (dir / "cut.jpg").string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(damaged.exit_code, 0) << damaged.err;
  EXPECT_EQ(damaged.err, "");
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_THAT(cut.err, HasSubstr("cut.jpg: the JPEG data is truncated"));
  EXPECT_THAT(cut.err, Not(HasSubstr("VIPS")));
}

TEST(ClassifyCommandTest, OutputThatCannotBeWrittenIsAnError) {
  const Outcome o = RunArgus("classify -q " + kSamples + "/n01440764_tench.JPEG", "", "/dev/full");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.err, HasSubstr("cannot write the results"));
}

// `argus classify DIR | head -1` ends when head does, like other command-line tools.
TEST(ClassifyCommandTest, AReaderThatStopsReadingStopsTheCommand) {
  const std::string command =
      "cd " ARGUS_TEST_SOURCE_DIR " && bash -c '" ARGUS_BINARY " classify --json -q " + kSamples +
      " 2>/dev/null | head -c 1 >/dev/null; " + "exit ${PIPESTATUS[0]}'";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGPIPE);
}

TEST(ClassifyCommandTest, HelpExplainsEveryOption) {
  const Outcome top = RunArgus("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_THAT(top.out, HasSubstr("classify"));
  EXPECT_THAT(top.out, HasSubstr("--assets-dir"));
  const Outcome classify = RunArgus("classify --help");
  EXPECT_EQ(classify.exit_code, 0);
  for (const char* option : {"--json", "--top-k", "--model", "--batch", "--decode-threads",
                             "--engine-threads", "--max-bytes", "--max-pixels", "--quiet"}) {
    EXPECT_THAT(classify.out, HasSubstr(option));
  }
}

TEST(ClassifyCommandTest, BadUsageAndSetupProblemsExitWithTwo) {
  EXPECT_EQ(RunArgus("classify").exit_code, 2);
  EXPECT_EQ(RunArgus("classify --top-k 0 x.jpg").exit_code, 2);
  const Outcome model = RunArgus("classify --model nosuchmodel " + kSamples);
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_THAT(model.err, HasSubstr("unknown model"));
  const Outcome assets = RunArgus("classify " + kSamples, "ARGUS_ASSETS_DIR=/nonexistent");
  EXPECT_EQ(assets.exit_code, 2);
  EXPECT_THAT(assets.err, HasSubstr("ARGUS_ASSETS_DIR"));
}

TEST(ClassifyCommandTest, GlobalOptionsWorkAfterTheCommandsNameToo) {
  const Outcome o = RunArgus("classify -q --assets-dir " ARGUS_TEST_SHARED_DIR "/assets " +
                             kSamples + "/n01440764_tench.JPEG");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("tench"));
}

TEST(ClassifyCommandTest, AMistypedCommandIsNamed) {
  const Outcome o = RunArgus("clasify photo.jpg");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.err, HasSubstr("unknown command \"clasify\""));
}

TEST(ClassifyCommandTest, SizesTakeUnitsAndZeroIsRefusedInWords) {
  const Outcome small =
      RunArgus("classify -q --max-bytes 1KiB " + kSamples + "/n01440764_tench.JPEG");
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_THAT(small.err, HasSubstr("larger than the limit of 1024 bytes"));
  const Outcome zero = RunArgus("classify --max-bytes 0 " + kSamples);
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_THAT(zero.err, HasSubstr("not a whole number of at least 1"));
}

class ClassifyAwayFromTheCheckoutTest : public TempDirTest {
 protected:
  // The binary copied away from the checkout, run from the test's folder with a home of
  // its own: no assets directory is found.
  Outcome RunCopiedArgus(const std::string& arguments) {
    const std::filesystem::path binary = dir_ / "bin" / "argus";
    if (!std::filesystem::exists(binary)) {
      std::filesystem::create_directories(binary.parent_path());
      std::filesystem::copy_file(ARGUS_BINARY, binary);
    }
    return RunArgusIn(dir_, binary, arguments, "env -u ARGUS_ASSETS_DIR HOME=" + dir_.string());
  }
};

// A manifest names its files relative to itself: it needs no assets directory.
TEST_F(ClassifyAwayFromTheCheckoutTest, AManifestFileNeedsNoAssetsDirectory) {
  const std::filesystem::path model = dir_ / "model";
  std::filesystem::create_directories(model);
  std::filesystem::copy_file(ARGUS_TEST_SOURCE_DIR "/models/mobilenetv2-12-int8.json",
                             model / "manifest.json");
  for (const char* folder : {"models", "labels"}) {
    std::filesystem::create_directory_symlink(
        std::filesystem::path(ARGUS_TEST_SHARED_DIR "/assets") / folder, model / folder);
  }
  const Outcome builtin = RunCopiedArgus("classify -q " + kSamples + "/n01440764_tench.JPEG");
  EXPECT_EQ(builtin.exit_code, 2);
  EXPECT_THAT(builtin.err, HasSubstr("no assets directory found (searched "));
  EXPECT_THAT(builtin.err, HasSubstr((dir_ / ".local/share/argus/assets").string()));

  const Outcome manifest = RunCopiedArgus("classify -q --model model/manifest.json " + kSamples +
                                          "/n01440764_tench.JPEG");
  EXPECT_EQ(manifest.exit_code, 0) << manifest.err;
  EXPECT_THAT(manifest.out, HasSubstr("tench"));
}

// `argus serve` without the model's assets refuses to start, naming where it looked, and
// does not first warn that breed photos will be missing.
TEST_F(ClassifyAwayFromTheCheckoutTest, ServeWithoutAssetsRefusesToStartWithoutWarningsFirst) {
  const Outcome refused = RunCopiedArgus("serve --port=" + std::to_string(UnusedLoopbackPort()) +
                                         " --data-dir=" + (dir_ / "data").string());
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("no assets directory found (searched "));
  EXPECT_THAT(refused.err, Not(HasSubstr("spirit dogs")));
  const std::string searched = (dir_.parent_path() / "shared" / "assets").string();
  EXPECT_EQ(refused.err.find(searched), refused.err.rfind(searched))
      << "the working directory's candidate and the binary's are one folder, named once";
}

TEST(ClassifyCommandTest, TheSecondModelWorksToo) {
  const Outcome o = RunArgus("classify --json --model mobilenetv2-12-fp32-from-int8 " + kSamples +
                             "/n01440764_tench.JPEG");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto lines = JsonLines(o.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["model"].asString(), "mobilenetv2-12-fp32-from-int8");
  EXPECT_EQ(lines[0]["labels"][0]["wnid"].asString(), "n01440764");
}

}  // namespace
}  // namespace argus::cli
