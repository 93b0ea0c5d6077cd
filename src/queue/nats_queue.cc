#include "queue/nats_queue.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <climits>
#include <format>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "events/nats_connection.h"

namespace argus::queue {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using nats::Deleter;
using nats::MsgPtr;

constexpr std::string_view kDefaultStream = "ARGUS_JOBS";
constexpr char kConsumer[] = "WORKERS";
// How long JetStream API calls and acknowledgements wait for the server's reply.
constexpr int64_t kReplyTimeoutMs = 5000;
// A pull request is answered when its wait ends at the latest; this much more is allowed
// for the answer to arrive.
constexpr milliseconds kPullGrace{2000};
// How often a waiting Receive checks that the connection is still up.
constexpr milliseconds kPullSlice{100};
// Most messages one Receive asks for, whatever `max` says.
constexpr std::size_t kMaxBatch = 1024;
// The server's default of 1000 would cap how many jobs all workers together may hold.
constexpr int64_t kMaxAckPending = 100'000;
constexpr char kIdHeader[] = "Argus-Job-Id";
constexpr char kReasonHeader[] = "Argus-Reason";
constexpr char kDeadAtHeader[] = "Argus-Dead-At-Ms";

constexpr int64_t Nanoseconds(milliseconds duration) { return duration.count() * 1'000'000; }

struct Names {
  std::string stream;
  std::string subject;
  std::string dead_stream;
  std::string dead_subject;
};

Names NamesFor(std::string_view name) {
  if (name.empty() || name == kDefaultStream) {
    return {std::string(kDefaultStream), "argus.jobs", "ARGUS_DEAD", "argus.dead"};
  }
  const std::string stream(name);
  return {stream, "argus.jobs." + stream, stream + "_DEAD", "argus.dead." + stream};
}

bool ParseNumber(std::string_view text, std::uint64_t& number) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

// Header values are single lines whose ends NATS may trim, so a reason is percent-encoded
// where it would not survive: '%', control characters and spaces at either end.
std::string EncodeHeaderValue(std::string_view value) {
  std::string encoded;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    const bool edge_space = byte == ' ' && (i == 0 || i + 1 == value.size());
    if (byte == '%' || byte < 0x20 || byte == 0x7f || edge_space) {
      encoded += std::format("%{:02X}", byte);
    } else {
      encoded.push_back(value[i]);
    }
  }
  return encoded;
}

std::string DecodeHeaderValue(std::string_view value) {
  std::string decoded;
  for (std::size_t i = 0; i < value.size(); ++i) {
    unsigned byte = 0;
    if (value[i] == '%' && i + 2 < value.size() &&
        std::from_chars(value.data() + i + 1, value.data() + i + 3, byte, 16).ptr ==
            value.data() + i + 3) {
      decoded.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      decoded.push_back(value[i]);
    }
  }
  return decoded;
}

std::string_view Header(natsMsg* message, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(message, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

// The newest delivery of a job that this Queue received.
struct Delivery {
  std::string receipt;      // the consumer's delivery sequence
  std::string ack_subject;  // where JetStream takes acknowledgements for it
  // When the job was stored. With the id it names the job for the dead-letter stream's
  // deduplication: ids start again at 1 if the stream is recreated.
  int64_t stored_ns = 0;
  Clock::time_point touched;
};

class NatsQueue final : public Queue {
 public:
  NatsQueue(std::shared_ptr<nats::Connection> connection, jsCtx* js, Names names,
            milliseconds visibility_timeout)
      : connection_(std::move(connection)),
        js_(js),
        names_(std::move(names)),
        next_subject_(std::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", names_.stream, kConsumer)),
        visibility_timeout_(visibility_timeout) {}

  // Creates the streams and the consumer, or checks the ones that exist.
  Result<void> Prepare() {
    if (auto made = EnsureStream(names_.stream, names_.subject, js_WorkQueuePolicy, false); !made) {
      return made;
    }
    // ListDeadLetters walks the dead letters with direct gets.
    if (auto made = EnsureStream(names_.dead_stream, names_.dead_subject, js_LimitsPolicy, true);
        !made) {
      return made;
    }
    return EnsureConsumer();
  }

  Result<std::string> Enqueue(std::string_view body) override {
    if (auto answering = connection_->CheckAnswering(); !answering) {
      return std::unexpected(answering.error());
    }
    if (auto fits = CheckSize(body.size()); !fits) return std::unexpected(fits.error());
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = kReplyTimeoutMs;
    jsPubAck* raw_ack = nullptr;
    const natsStatus status = js_Publish(&raw_ack, js_.get(), names_.subject.c_str(), body.data(),
                                         static_cast<int>(body.size()), &options, nullptr);
    const std::unique_ptr<jsPubAck, Deleter<jsPubAck_Destroy>> ack(raw_ack);
    if (status != NATS_OK) {
      Error failure = Failure(status, "enqueue on " + names_.subject);
      RecreateWhatIsMissing();
      return std::unexpected(std::move(failure));
    }
    return std::to_string(ack->Sequence);
  }

  Result<std::vector<Message>> Receive(std::size_t max, milliseconds wait) override {
    if (max == 0) return Fail(ErrorCode::kInvalidArgument, "Receive needs max >= 1");
    if (auto ready = UseOurAckWait(); !ready) return std::unexpected(ready.error());
    auto pulled = Pull(std::min(max, kMaxBatch), std::max(wait, milliseconds(0)));
    if (!pulled) {
      RecreateWhatIsMissing();
      return std::unexpected(pulled.error());
    }

    std::vector<Message> messages;
    messages.reserve(pulled->size());
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    std::erase_if(deliveries_, [&](const auto& entry) {
      return now - entry.second.touched > 2 * visibility_timeout_;
    });
    for (const MsgPtr& message : *pulled) {
      jsMsgMetaData* raw_meta = nullptr;
      if (const natsStatus status = natsMsg_GetMetaData(&raw_meta, message.get());
          status != NATS_OK) {
        // Not acknowledged: it comes back after the visibility timeout.
        return std::unexpected(Failure(status, "read the delivery data of a job"));
      }
      const std::unique_ptr<jsMsgMetaData, Deleter<jsMsgMetaData_Destroy>> meta(raw_meta);
      const std::uint64_t id = meta->Sequence.Stream;
      Delivery& delivery = deliveries_[id];  // replaces an older delivery of the same job
      delivery = {.receipt = std::to_string(meta->Sequence.Consumer),
                  .ack_subject = natsMsg_GetReply(message.get()),
                  .stored_ns = meta->Timestamp,
                  .touched = now};
      messages.push_back(
          {.id = std::to_string(id),
           .body = std::string(natsMsg_GetData(message.get()),
                               static_cast<std::size_t>(natsMsg_GetDataLength(message.get()))),
           .delivery_count = static_cast<int>(std::min<std::uint64_t>(meta->NumDelivered, INT_MAX)),
           .receipt = delivery.receipt});
    }
    return messages;
  }

  Result<void> Ack(const Message& message) override {
    return Settle(message, "acknowledge", "+ACK");
  }

  // JetStream acknowledges one message per request.
  Result<void> AckAll(std::span<const Message> messages) override {
    std::string over;
    for (const Message& message : messages) {
      auto acked = Ack(message);
      if (acked) continue;
      if (acked.error().code != ErrorCode::kConflict) return acked;
      over += (over.empty() ? "" : ", ") + message.id;
    }
    if (!over.empty()) {
      return Fail(ErrorCode::kConflict,
                  "cannot acknowledge messages " + over + ": their deliveries are over");
    }
    return {};
  }

  Result<void> Release(const Message& message, milliseconds delay) override {
    return Settle(message, "release",
                  delay > milliseconds(0)
                      ? std::format(R"(-NAK {{"delay": {}}})", Nanoseconds(delay))
                      : std::string("-NAK"));
  }

  Result<void> ExtendVisibility(const Message& message) override {
    constexpr std::string_view kWhat = "extend the visibility of";
    auto id = ParseId(message, kWhat);
    if (!id) return std::unexpected(id.error());
    Delivery delivery;
    {
      std::lock_guard lock(mutex_);
      auto found = Current(*id, message, kWhat);
      if (!found) return std::unexpected(found.error());
      delivery = (*found)->second;
    }
    if (auto sent = Acknowledge(*id, delivery, "+WPI", kWhat); !sent) return sent;
    std::lock_guard lock(mutex_);
    if (auto found = deliveries_.find(*id);
        found != deliveries_.end() && found->second.receipt == delivery.receipt) {
      found->second.touched = Clock::now();
    }
    return {};
  }

  Result<void> MoveToDeadLetter(const Message& message, std::string_view reason) override {
    constexpr std::string_view kWhat = "dead-letter";
    auto taken = Take(message, kWhat);
    if (!taken) return std::unexpected(taken.error());
    auto& [id, delivery] = *taken;
    Result<void> moved = PublishDeadLetter(id, delivery, message.body, reason);
    if (moved) moved = Acknowledge(id, delivery, "+TERM", kWhat);
    if (!moved) Restore(id, std::move(delivery));
    return moved;
  }

  Result<std::vector<DeadLetter>> ListDeadLetters(std::size_t limit) override {
    if (auto answering = connection_->CheckAnswering(); !answering) {
      return std::unexpected(answering.error());
    }
    std::vector<DeadLetter> letters;
    jsDirectGetMsgOptions options;
    jsDirectGetMsgOptions_Init(&options);
    options.Sequence = 1;
    options.NextBySubject = names_.dead_subject.c_str();
    while (letters.size() < limit) {
      natsMsg* raw = nullptr;
      const natsStatus status =
          js_DirectGetMsg(&raw, js_.get(), names_.dead_stream.c_str(), nullptr, &options);
      if (status == NATS_NOT_FOUND) break;
      if (status != NATS_OK) {
        return std::unexpected(Failure(status, "read the dead letters in " + names_.dead_stream));
      }
      const MsgPtr letter(raw);
      std::int64_t dead_at_ms = 0;
      const std::string_view dead_at = Header(raw, kDeadAtHeader);
      std::from_chars(dead_at.data(), dead_at.data() + dead_at.size(), dead_at_ms);
      letters.push_back({.id = std::string(Header(raw, kIdHeader)),
                         .body = std::string(natsMsg_GetData(raw),
                                             static_cast<std::size_t>(natsMsg_GetDataLength(raw))),
                         .reason = DecodeHeaderValue(Header(raw, kReasonHeader)),
                         .dead_at_ms = dead_at_ms});
      options.Sequence = natsMsg_GetSequence(raw) + 1;
    }
    return letters;
  }

  Result<QueueStats> Stats() override {
    if (auto answering = connection_->CheckAnswering(); !answering) {
      return std::unexpected(answering.error());
    }
    jsConsumerInfo* raw_consumer = nullptr;
    natsStatus status = js_GetConsumerInfo(&raw_consumer, js_.get(), names_.stream.c_str(),
                                           kConsumer, nullptr, nullptr);
    const std::unique_ptr<jsConsumerInfo, Deleter<jsConsumerInfo_Destroy>> consumer(raw_consumer);
    if (status != NATS_OK) {
      Error failure =
          Failure(status, std::format("read consumer {} of {}", kConsumer, names_.stream));
      RecreateWhatIsMissing();
      return std::unexpected(std::move(failure));
    }
    auto jobs = ReadStream(names_.stream);
    if (!jobs) return std::unexpected(jobs.error());
    auto dead = ReadStream(names_.dead_stream);
    if (!dead) return std::unexpected(dead.error());
    // Not the consumer's pending count: the server updates that a moment after it has
    // acknowledged a publication. The stream's last sequence and the consumer's delivery
    // position are up to date when the calls that change them return.
    const std::uint64_t delivered = consumer->Delivered.Stream;
    return QueueStats{
        .ready = jobs->last_sequence > delivered ? jobs->last_sequence - delivered : 0,
        .in_flight = static_cast<std::uint64_t>(std::max<int64_t>(0, consumer->NumAckPending)),
        .dead = dead->messages,
        .enqueued_total = jobs->last_sequence};
  }

 private:
  // A NATS server that comes back without its JetStream store (a new volume, a wiped
  // stream) has neither the streams nor the consumer, which only Prepare makes: every Argus
  // process stayed unready until restarted. After a failed call they are made again when
  // missing, at most once a second, so the next call can succeed.
  void RecreateWhatIsMissing() {
    {
      std::lock_guard lock(mutex_);
      const auto now = Clock::now();
      if (now - last_recreation_ < std::chrono::seconds(1)) return;
      last_recreation_ = now;
    }
    if (!connection_->CheckAnswering()) return;
    (void)Prepare();  // what still fails is reported by the next call
  }

  Error Failure(natsStatus status, std::string_view what) const {
    return connection_->Failure(status, what);
  }

  struct StreamCounts {
    std::uint64_t last_sequence = 0;
    std::uint64_t messages = 0;
  };

  Result<StreamCounts> ReadStream(const std::string& stream) {
    jsStreamInfo* raw_info = nullptr;
    const natsStatus status =
        js_GetStreamInfo(&raw_info, js_.get(), stream.c_str(), nullptr, nullptr);
    const std::unique_ptr<jsStreamInfo, Deleter<jsStreamInfo_Destroy>> info(raw_info);
    if (status != NATS_OK) return std::unexpected(Failure(status, "read stream " + stream));
    return StreamCounts{.last_sequence = info->State.LastSeq, .messages = info->State.Msgs};
  }

  Result<void> CheckSize(std::size_t bytes) const {
    const int64_t limit = natsConnection_GetMaxPayload(connection_->get());
    if (std::cmp_less_equal(bytes, limit)) return {};
    return Fail(ErrorCode::kTooLarge,
                std::format("NATS at {}: a job of {} bytes exceeds the server's max_payload of {}",
                            connection_->shown(), bytes, limit));
  }

  // Adds the stream, which is idempotent when it exists with the same settings. One set up
  // differently (by an operator, or an older version) is used if it still works as ours.
  // A file-backed stream of one subject.
  Result<void> EnsureStream(const std::string& name, const std::string& subject,
                            jsRetentionPolicy retention, bool allow_direct) {
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Retention = retention;
    config.Storage = js_FileStorage;
    config.AllowDirect = allow_direct;
    jsStreamInfo* raw_info = nullptr;
    jsErrCode code{};
    natsStatus status = js_AddStream(&raw_info, js_.get(), &config, nullptr, &code);
    std::unique_ptr<jsStreamInfo, Deleter<jsStreamInfo_Destroy>> info(raw_info);
    if (status == NATS_OK) return {};
    if (code != JSStreamNameExistErr) {
      return std::unexpected(Failure(status, std::format("create stream {}", config.Name)));
    }
    raw_info = nullptr;
    status = js_GetStreamInfo(&raw_info, js_.get(), config.Name, nullptr, nullptr);
    info.reset(raw_info);
    if (status != NATS_OK) {
      return std::unexpected(Failure(status, std::format("read stream {}", config.Name)));
    }
    const jsStreamConfig& existing = *info->Config;
    const bool has_subject = std::any_of(
        existing.Subjects, existing.Subjects + existing.SubjectsLen,
        [&](const char* subject) { return std::string_view(subject) == config.Subjects[0]; });
    if (existing.Retention == config.Retention && has_subject &&
        (existing.AllowDirect || !config.AllowDirect)) {
      return {};
    }
    return Fail(ErrorCode::kUnavailable,
                std::format("NATS at {}: stream {} exists with settings Argus cannot use: it "
                            "needs {} retention, subject {}{}",
                            connection_->shown(), config.Name,
                            config.Retention == js_WorkQueuePolicy ? "work-queue" : "limits",
                            config.Subjects[0], config.AllowDirect ? " and direct get" : ""));
  }

  jsConsumerConfig ConsumerConfig() const {
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = kConsumer;
    config.AckPolicy = js_AckExplicit;
    config.AckWait = Nanoseconds(visibility_timeout_);
    config.MaxDeliver = -1;
    config.MaxAckPending = kMaxAckPending;
    return config;
  }

  // Creates the consumer when it is missing; an existing one keeps its AckWait (see
  // UseOurAckWait) but must be a pull consumer with explicit acknowledgement.
  Result<void> EnsureConsumer() {
    jsConsumerInfo* raw_info = nullptr;
    jsErrCode code{};
    natsStatus status =
        js_GetConsumerInfo(&raw_info, js_.get(), names_.stream.c_str(), kConsumer, nullptr, &code);
    std::unique_ptr<jsConsumerInfo, Deleter<jsConsumerInfo_Destroy>> info(raw_info);
    if (status == NATS_NOT_FOUND || code == JSConsumerNotFoundErr) {
      jsConsumerConfig config = ConsumerConfig();
      raw_info = nullptr;
      status =
          js_AddConsumer(&raw_info, js_.get(), names_.stream.c_str(), &config, nullptr, nullptr);
      info.reset(raw_info);
    }
    const std::string what = std::format("set up consumer {} of {}", kConsumer, names_.stream);
    if (status != NATS_OK) return std::unexpected(Failure(status, what));
    const jsConsumerConfig& existing = *info->Config;
    if (existing.AckPolicy != js_AckExplicit ||
        (existing.DeliverSubject != nullptr && *existing.DeliverSubject != '\0')) {
      return Fail(ErrorCode::kUnavailable,
                  std::format("NATS at {}: cannot {}: it exists, but is not a pull consumer with "
                              "explicit acknowledgement",
                              connection_->shown(), what));
    }
    return {};
  }

  // The consumer has one AckWait for every process; the processes that receive set it to
  // their visibility timeout (they all run with the same one).
  Result<void> UseOurAckWait() {
    if (ack_wait_set_.load()) return {};
    if (auto answering = connection_->CheckAnswering(); !answering) return answering;
    const std::string what =
        std::format("set the AckWait of consumer {} of {}", kConsumer, names_.stream);
    jsConsumerInfo* raw_info = nullptr;
    natsStatus status = js_GetConsumerInfo(&raw_info, js_.get(), names_.stream.c_str(), kConsumer,
                                           nullptr, nullptr);
    std::unique_ptr<jsConsumerInfo, Deleter<jsConsumerInfo_Destroy>> info(raw_info);
    if (status == NATS_OK && info->Config->AckWait != Nanoseconds(visibility_timeout_)) {
      jsConsumerConfig config = ConsumerConfig();
      raw_info = nullptr;
      status =
          js_UpdateConsumer(&raw_info, js_.get(), names_.stream.c_str(), &config, nullptr, nullptr);
      info.reset(raw_info);
    }
    if (status != NATS_OK) return std::unexpected(Failure(status, what));
    ack_wait_set_.store(true);
    return {};
  }

  // Asks for up to `batch` jobs with one pull request and collects the answer.
  Result<std::vector<MsgPtr>> Pull(std::size_t batch, milliseconds wait) {
    if (auto answering = connection_->CheckAnswering(); !answering) {
      return std::unexpected(answering.error());
    }
    const std::uint64_t reconnects = connection_->reconnects();
    natsConnection* connection = connection_->get();
    natsInbox* raw_inbox = nullptr;
    natsStatus status = natsInbox_Create(&raw_inbox);
    const std::unique_ptr<natsInbox, Deleter<natsInbox_Destroy>> inbox(raw_inbox);
    natsSubscription* raw_subscription = nullptr;
    if (status == NATS_OK) {
      status = natsConnection_SubscribeSync(&raw_subscription, connection, raw_inbox);
    }
    const std::unique_ptr<natsSubscription, Deleter<natsSubscription_Destroy>> subscription(
        raw_subscription);
    // A batch of large jobs may exceed nats.c's default limit of 64 MiB per subscription.
    if (status == NATS_OK) status = natsSubscription_SetPendingLimits(raw_subscription, -1, -1);
    // no_wait with expires: the server waits up to `expires` for the first message, then
    // answers at once with what it has. no_wait alone answers at once.
    const std::string request =
        wait > milliseconds(0)
            ? std::format(R"({{"batch":{},"no_wait":true,"expires":{}}})", batch, Nanoseconds(wait))
            : std::format(R"({{"batch":{},"no_wait":true}})", batch);
    if (status == NATS_OK) {
      status = natsConnection_PublishRequest(connection, next_subject_.c_str(), raw_inbox,
                                             request.data(), static_cast<int>(request.size()));
    }
    const std::string what = "receive from " + names_.stream;
    if (status != NATS_OK) return std::unexpected(Failure(status, what));

    std::vector<MsgPtr> messages;
    const auto deadline = Clock::now() + wait + kPullGrace;
    while (messages.size() < batch) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left <= milliseconds(0)) {
        if (!messages.empty()) break;
        connection_->NoteUnanswered();
        return Fail(ErrorCode::kUnavailable,
                    std::format("NATS at {}: cannot {}: no answer to the pull request",
                                connection_->shown(), what));
      }
      natsMsg* raw = nullptr;
      status = natsSubscription_NextMsg(&raw, raw_subscription, std::min(left, kPullSlice).count());
      if (status == NATS_TIMEOUT) {
        // A request sent before a reconnection is lost with the old connection.
        auto answering = connection_->CheckAnswering();
        if (answering && connection_->reconnects() == reconnects) continue;
        if (!messages.empty()) break;
        if (!answering) return std::unexpected(answering.error());
        return Fail(ErrorCode::kUnavailable,
                    std::format("NATS at {}: cannot {}: the connection was lost",
                                connection_->shown(), what));
      }
      if (status != NATS_OK) {
        if (!messages.empty()) break;
        return std::unexpected(Failure(status, what));
      }
      MsgPtr message(raw);
      // Jobs come with the subject for their acknowledgement; status messages without.
      const char* reply = natsMsg_GetReply(raw);
      if (reply != nullptr && std::string_view(reply).starts_with("$JS.ACK.")) {
        messages.push_back(std::move(message));
        continue;
      }
      // 404 (nothing there) and 408 (the wait is over) end the request.
      const std::string_view code = Header(raw, "Status");
      if (code == "404" || code == "408") break;
      if (!messages.empty()) break;
      return Fail(ErrorCode::kUnavailable,
                  std::format("NATS at {}: cannot {}: JetStream answered {} {}",
                              connection_->shown(), what, code, Header(raw, "Description")));
    }
    return messages;
  }

  Result<std::uint64_t> ParseId(const Message& message, std::string_view what) const {
    std::uint64_t id = 0;
    if (!ParseNumber(message.id, id)) {
      return Fail(
          ErrorCode::kInvalidArgument,
          std::format("cannot {} message \"{}\": not an id of this queue", what, message.id));
    }
    return id;
  }

  // The delivery `message` names, if it is the newest one this Queue received. Needs mutex_.
  Result<std::unordered_map<std::uint64_t, Delivery>::iterator> Current(std::uint64_t id,
                                                                        const Message& message,
                                                                        std::string_view what) {
    auto found = deliveries_.find(id);
    if (found == deliveries_.end() || found->second.receipt != message.receipt) {
      return Fail(ErrorCode::kConflict,
                  std::format("cannot {} message {}: this delivery is over (it timed out and was "
                              "received again, or was acknowledged, released or dead-lettered) or "
                              "was received by another Queue object",
                              what, id));
    }
    return found;
  }

  // Takes the delivery out: it is spent unless Restore puts it back.
  Result<std::pair<std::uint64_t, Delivery>> Take(const Message& message, std::string_view what) {
    auto id = ParseId(message, what);
    if (!id) return std::unexpected(id.error());
    std::lock_guard lock(mutex_);
    auto found = Current(*id, message, what);
    if (!found) return std::unexpected(found.error());
    auto node = deliveries_.extract(*found);
    return std::pair(*id, std::move(node.mapped()));
  }

  // Puts back a delivery whose change failed, so that the caller may try again, unless a
  // newer delivery of the job has arrived meanwhile.
  void Restore(std::uint64_t id, Delivery delivery) {
    std::lock_guard lock(mutex_);
    if (!deliveries_.contains(id)) deliveries_.emplace(id, std::move(delivery));
  }

  Result<void> Settle(const Message& message, std::string_view what, const std::string& kind) {
    auto taken = Take(message, what);
    if (!taken) return std::unexpected(taken.error());
    auto& [id, delivery] = *taken;
    auto sent = Acknowledge(id, delivery, kind, what);
    if (!sent) Restore(id, std::move(delivery));
    return sent;
  }

  // Sends `kind` ("+ACK", "-NAK", "+WPI", "+TERM") for a delivery as a request: JetStream
  // replies once it has applied it.
  Result<void> Acknowledge(std::uint64_t id, const Delivery& delivery, std::string_view kind,
                           std::string_view what) {
    if (auto answering = connection_->CheckAnswering(); !answering) return answering;
    natsMsg* raw_reply = nullptr;
    const natsStatus status =
        natsConnection_Request(&raw_reply, connection_->get(), delivery.ack_subject.c_str(),
                               kind.data(), static_cast<int>(kind.size()), kReplyTimeoutMs);
    const MsgPtr reply(raw_reply);
    if (status != NATS_OK) {
      return std::unexpected(Failure(status, std::format("{} message {}", what, id)));
    }
    return {};
  }

  Result<void> PublishDeadLetter(std::uint64_t id, const Delivery& delivery, std::string_view body,
                                 std::string_view reason) {
    if (auto answering = connection_->CheckAnswering(); !answering) return answering;
    const std::string what = std::format("dead-letter message {} to {}", id, names_.dead_subject);
    natsMsg* raw = nullptr;
    if (auto fits = CheckSize(body.size()); !fits) return fits;
    natsStatus status = natsMsg_Create(&raw, names_.dead_subject.c_str(), nullptr, body.data(),
                                       static_cast<int>(body.size()));
    const MsgPtr letter(raw);
    const std::string id_text = std::to_string(id);
    const std::string dead_at = std::to_string(NowMs());
    if (status == NATS_OK) status = natsMsgHeader_Set(raw, kIdHeader, id_text.c_str());
    if (status == NATS_OK) {
      status = natsMsgHeader_Set(raw, kReasonHeader, EncodeHeaderValue(reason).c_str());
    }
    if (status == NATS_OK) status = natsMsgHeader_Set(raw, kDeadAtHeader, dead_at.c_str());
    if (status != NATS_OK) return std::unexpected(Failure(status, what));
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = kReplyTimeoutMs;
    // A move retried after its TERM failed is stored once (within the stream's two-minute
    // duplicate window).
    const std::string message_id = std::format("{}-{}", id, delivery.stored_ns);
    options.MsgId = message_id.c_str();
    jsPubAck* raw_ack = nullptr;
    status = js_PublishMsg(&raw_ack, js_.get(), raw, &options, nullptr);
    const std::unique_ptr<jsPubAck, Deleter<jsPubAck_Destroy>> ack(raw_ack);
    if (status != NATS_OK) return std::unexpected(Failure(status, what));
    return {};
  }

  const std::shared_ptr<nats::Connection> connection_;
  const std::unique_ptr<jsCtx, Deleter<jsCtx_Destroy>> js_;
  const Names names_;
  const std::string next_subject_;  // where pull requests go
  const milliseconds visibility_timeout_;
  std::atomic<bool> ack_wait_set_ = false;
  std::mutex mutex_;
  Clock::time_point last_recreation_{};                     // guarded by mutex_
  std::unordered_map<std::uint64_t, Delivery> deliveries_;  // by job id
};

}  // namespace

Result<std::unique_ptr<Queue>> OpenNatsQueue(std::string_view rest, const QueueOptions& options) {
  if (options.visibility_timeout <= milliseconds(0)) {
    return Fail(ErrorCode::kInvalidArgument, "queue visibility timeout must be positive");
  }
  auto url = nats::ParseUrl(rest);
  if (!url) return std::unexpected(url.error());
  auto connection = nats::Connection::Open(*url);
  if (!connection) return std::unexpected(connection.error());
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = kReplyTimeoutMs;
  jsCtx* js = nullptr;
  if (const natsStatus status = natsConnection_JetStream(&js, (*connection)->get(), &js_options);
      status != NATS_OK) {
    return std::unexpected((*connection)->Failure(status, "use JetStream"));
  }
  auto queue = std::make_unique<NatsQueue>(std::move(*connection), js, NamesFor(url->name),
                                           options.visibility_timeout);
  if (auto prepared = queue->Prepare(); !prepared) return std::unexpected(prepared.error());
  return queue;
}

}  // namespace argus::queue
