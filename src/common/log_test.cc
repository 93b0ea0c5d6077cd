#include "common/log.h"

#include <gtest/gtest.h>
#include <json/json.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/json.h"

namespace argus {
namespace {

// Processes sharing one stderr pipe, as `argus serve` and its workers do, each log many
// lines at once: every line that arrives is one whole JSON object.
TEST(LogTest, LinesOfProcessesSharingStderrStayWhole) {
  constexpr int kProcesses = 4;
  constexpr int kLinesEach = 2000;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(pipe_fds[0]);
      dup2(pipe_fds[1], STDERR_FILENO);
      const std::string filler(500, static_cast<char>('a' + p));
      for (int i = 0; i < kLinesEach; ++i) {
        LogLine("info", "test", std::to_string(p) + " " + std::to_string(i) + " " + filler);
      }
      _exit(0);
    }
    children.push_back(child);
  }
  close(pipe_fds[1]);
  std::string received;
  char buffer[65536];
  for (ssize_t n = read(pipe_fds[0], buffer, sizeof buffer); n > 0;
       n = read(pipe_fds[0], buffer, sizeof buffer)) {
    received.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  for (const pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  int whole = 0;
  std::size_t start = 0;
  for (std::size_t end = received.find('\n'); end != std::string::npos;
       start = end + 1, end = received.find('\n', start)) {
    const std::string line = received.substr(start, end - start);
    Json::Value value;
    ASSERT_TRUE(ReadJson(line, value) && value.isObject()) << "not one JSON line: " << line;
    EXPECT_EQ(value["component"].asString(), "test");
    ++whole;
  }
  EXPECT_EQ(start, received.size()) << "the last line ends with its newline";
  EXPECT_EQ(whole, kProcesses * kLinesEach);
}

// Lines written while a request is in hand name it; those before and after do not.
TEST(LogTest, LinesWrittenForARequestNameIt) {
  ::testing::internal::CaptureStderr();
  LogLine("info", "test", "before");
  {
    RequestLogScope outer("req-1");
    LogLine("error", "test", "during");
    {
      RequestLogScope inner("req-2");
      LogLine("error", "test", "nested");
    }
    LogLine("error", "test", "after nested");
  }
  LogLine("info", "test", "after");
  const std::string logged = ::testing::internal::GetCapturedStderr();
  std::vector<Json::Value> lines;
  std::size_t start = 0;
  for (std::size_t end = logged.find('\n'); end != std::string::npos;
       start = end + 1, end = logged.find('\n', start)) {
    Json::Value line;
    ASSERT_TRUE(ReadJson(logged.substr(start, end - start), line));
    lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 5u) << logged;
  EXPECT_FALSE(lines[0].isMember("request_id"));
  EXPECT_EQ(lines[1]["request_id"].asString(), "req-1");
  EXPECT_EQ(lines[2]["request_id"].asString(), "req-2");
  EXPECT_EQ(lines[3]["request_id"].asString(), "req-1");
  EXPECT_FALSE(lines[4].isMember("request_id"));
}

}  // namespace
}  // namespace argus
