#pragma once

// Test-only: a fixture with a folder of its own per test and, on request, a nats-server -js
// of its own with its store in that folder.

#include <gtest/gtest.h>

#include <memory>

#include "common/temp_dir_test.h"
#include "events/nats_test_server.h"

namespace argus {

class NatsServerTest : public TempDirTest {
 protected:
  // Starts the server; the calling test fails when it cannot.
  void StartNats() {
    auto server = nats::TestServer::Start(dir_ / "nats");
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    TempDirTest::TearDown();
  }

  std::unique_ptr<nats::TestServer> server_;
};

}  // namespace argus
