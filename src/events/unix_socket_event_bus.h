#pragma once

#include <filesystem>

#include "events/event_bus.h"

namespace argus::events {

// Events as datagrams on a Unix socket: publishers send to the path, the one subscriber
// binds it. Datagrams keep events whole and never block a worker on a slow reader.
class UnixSocketEventBus : public EventBus {
 public:
  explicit UnixSocketEventBus(std::filesystem::path path);
  ~UnixSocketEventBus() override;

  Result<void> Publish(std::string_view payload) override;
  Result<std::unique_ptr<Subscription>> Subscribe(
      std::function<void(std::string_view)> handler) override;
  bool ReachesEverySubscriber() const override { return false; }
  Result<std::unique_ptr<Subscription>> SubscribeInGroup(
      const std::string& group, std::function<void(std::string_view)> handler) override;

 private:
  std::filesystem::path path_;
  int send_socket_ = -1;
};

}  // namespace argus::events
