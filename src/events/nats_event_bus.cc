#include "events/nats_event_bus.h"

#include <condition_variable>
#include <format>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "events/nats_connection.h"

namespace argus::events {
namespace {

// Subscribe waits this long for the server to confirm the new interest.
constexpr int64_t kFlushTimeoutMs = 2000;

// Calls the handler on the subscription's own nats.c thread.
class NatsSubscription final : public Subscription {
 public:
  NatsSubscription(std::shared_ptr<nats::Connection> connection,
                   std::function<void(std::string_view)> handler)
      : connection_(std::move(connection)), handler_(std::move(handler)) {}
  NatsSubscription(const NatsSubscription&) = delete;
  NatsSubscription& operator=(const NatsSubscription&) = delete;

  // After Unsubscribe, nats.c may still be running the handler or about to; the completion
  // callback says when it is done for good.
  ~NatsSubscription() override {
    if (subscription_ == nullptr) return;
    natsSubscription_Unsubscribe(subscription_);
    if (completion_set_) {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [this] { return completed_; });
    }
    natsSubscription_Destroy(subscription_);
  }

  // In a queue group (`group` not ""), the server hands each message to one of its members.
  Result<void> Start(const std::string& subject, const std::string& group) {
    natsConnection* connection = connection_->get();
    natsStatus status =
        group.empty()
            ? natsConnection_Subscribe(&subscription_, connection, subject.c_str(), OnMessage, this)
            : natsConnection_QueueSubscribe(&subscription_, connection, subject.c_str(),
                                            group.c_str(), OnMessage, this);
    if (status == NATS_OK) {
      // Fails only for a subscription that is closed already: no handler runs any more.
      status = natsSubscription_SetOnCompleteCB(subscription_, OnComplete, this);
      completion_set_ = status == NATS_OK;
    }
    // Once the server answers the flush it has the interest: every later event reaches us.
    if (status == NATS_OK) status = natsConnection_FlushTimeout(connection, kFlushTimeoutMs);
    if (status != NATS_OK) {
      return std::unexpected(connection_->Failure(status, "subscribe to " + subject));
    }
    return {};
  }

 private:
  // noexcept: an exception must not unwind through nats.c.
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* raw, void* closure) noexcept {
    const nats::MsgPtr message(raw);
    static_cast<NatsSubscription*>(closure)->handler_(std::string_view(
        natsMsg_GetData(raw), static_cast<std::size_t>(natsMsg_GetDataLength(raw))));
  }

  // Notifies under the lock, so the destructor cannot free the object before this returns.
  static void OnComplete(void* closure) noexcept {
    auto* self = static_cast<NatsSubscription*>(closure);
    std::lock_guard lock(self->mutex_);
    self->completed_ = true;
    self->done_.notify_all();
  }

  const std::shared_ptr<nats::Connection> connection_;
  const std::function<void(std::string_view)> handler_;
  natsSubscription* subscription_ = nullptr;
  bool completion_set_ = false;
  std::mutex mutex_;
  std::condition_variable done_;
  bool completed_ = false;
};

class NatsEventBus final : public EventBus {
 public:
  NatsEventBus(std::shared_ptr<nats::Connection> connection, std::string subject)
      : connection_(std::move(connection)), subject_(std::move(subject)) {}
  NatsEventBus(const NatsEventBus&) = delete;
  NatsEventBus& operator=(const NatsEventBus&) = delete;
  // Publications are buffered: send what is left before the connection may close.
  ~NatsEventBus() override {
    if (connection_->CheckAnswering()) {
      natsConnection_FlushTimeout(connection_->get(), kFlushTimeoutMs);
    }
  }

  Result<void> Publish(std::string_view payload) override {
    const int64_t limit = natsConnection_GetMaxPayload(connection_->get());
    if (std::cmp_greater(payload.size(), limit)) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::format("an event of {} bytes exceeds the max_payload of NATS at {} ({})",
                              payload.size(), connection_->shown(), limit));
    }
    const natsStatus status = natsConnection_Publish(
        connection_->get(), subject_.c_str(), payload.data(), static_cast<int>(payload.size()));
    if (status != NATS_OK) {
      return std::unexpected(connection_->Failure(status, "publish to " + subject_));
    }
    return {};
  }

  Result<std::unique_ptr<Subscription>> Subscribe(
      std::function<void(std::string_view)> handler) override {
    return Start("", std::move(handler));
  }

  bool ReachesEverySubscriber() const override { return true; }

  Result<std::unique_ptr<Subscription>> SubscribeInGroup(
      const std::string& group, std::function<void(std::string_view)> handler) override {
    if (group.empty()) return Fail(ErrorCode::kInvalidArgument, "an event group needs a name");
    return Start(group, std::move(handler));
  }

 private:
  // In the queue group `group`, or with "" outside any.
  Result<std::unique_ptr<Subscription>> Start(const std::string& group,
                                              std::function<void(std::string_view)> handler) {
    auto subscription = std::make_unique<NatsSubscription>(connection_, std::move(handler));
    if (auto started = subscription->Start(subject_, group); !started) {
      return std::unexpected(started.error());
    }
    return subscription;
  }

  const std::shared_ptr<nats::Connection> connection_;
  const std::string subject_;
};

}  // namespace

Result<std::unique_ptr<EventBus>> OpenNatsEventBus(std::string_view rest) {
  auto url = nats::ParseUrl(rest);
  if (!url) return std::unexpected(url.error());
  auto connection = nats::Connection::Open(*url);
  if (!connection) return std::unexpected(connection.error());
  return std::make_unique<NatsEventBus>(
      std::move(*connection), url->name.empty() ? "argus.events" : "argus.events." + url->name);
}

}  // namespace argus::events
