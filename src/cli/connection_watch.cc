#include "cli/connection_watch.h"

#include <linux/sockios.h>
// Not <netinet/tcp.h>: glibc's tcp_info lacks tcpi_bytes_received.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>

#include <vector>

#include "cli/process_sockets.h"
#include "common/peer_key.h"

namespace argus::cli {
namespace {

constexpr std::uint8_t kTcpEstablished = 1;  // TCP_ESTABLISHED, which <linux/tcp.h> leaves out

std::optional<std::string> PeerKeyOf(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  return PeerKey(reinterpret_cast<const sockaddr*>(&address));
}

std::optional<tcp_info> TcpInfoOf(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  return info;
}

// Whether the client has left at least half the send buffer's worth of answers unread.
bool AnswersLeftUnread(int fd) {
  int queued = 0;
  int buffer = 0;
  socklen_t length = sizeof buffer;
  if (ioctl(fd, SIOCOUTQ, &queued) != 0 ||
      getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0) {
    return false;
  }
  return queued > 0 && queued >= buffer / 2;
}

}  // namespace

ConnectionWatch::Watched* ConnectionWatch::Find(const std::string& key) {
  auto found = by_peer_.find(key);
  if (found == by_peer_.end()) return nullptr;
  // The descriptor may have been closed, or taken by another connection, since.
  if (PeerKeyOf(found->second.fd) != key) {
    by_peer_.erase(found);
    return nullptr;
  }
  return &found->second;
}

ConnectionWatch::Watched* ConnectionWatch::FindOrRescan(const std::string& key,
                                                        Clock::time_point now) {
  Watched* watched = Find(key);
  // At most one look through the descriptors per interval, however many requests come on
  // connections not yet known, or however many waiting clients have gone.
  if (watched == nullptr && now - last_rescan_ >= limits_.rescan_interval) {
    Rescan(now);
    watched = Find(key);
  }
  return watched;
}

void ConnectionWatch::Rescan(Clock::time_point now) {
  last_rescan_ = now;
  std::unordered_map<std::string, Watched> found;
  ForEachFd([&](int fd) {
    if (!IsOnPort(fd, port_, SocketRole::kConnected)) return;
    auto key = PeerKeyOf(fd);
    auto info = TcpInfoOf(fd);
    if (!key || !info) return;
    auto known = by_peer_.find(*key);
    if (known != by_peer_.end() && known->second.fd == fd) {
      found.emplace(*key, known->second);
    } else {
      found.emplace(*key, Watched{.fd = fd, .received_at_request = info->tcpi_bytes_received});
    }
  });
  by_peer_ = std::move(found);
}

bool ConnectionWatch::RequestArrived(const sockaddr* peer, Clock::time_point now) {
  const std::string key = PeerKey(peer);
  std::lock_guard lock(mutex_);
  Watched* watched = FindOrRescan(key, now);
  if (watched == nullptr) return true;
  if (AnswersLeftUnread(watched->fd)) {
    ::shutdown(watched->fd, SHUT_RDWR);
    by_peer_.erase(key);
    return false;
  }
  if (auto info = TcpInfoOf(watched->fd)) watched->received_at_request = info->tcpi_bytes_received;
  watched->receiving_since.reset();
  return true;
}

bool ConnectionWatch::IsConnected(const std::string& peer_key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Watched* watched = FindOrRescan(peer_key, now);
  if (watched == nullptr) return false;
  // A client that hung up leaves the socket open here until its answer is given up
  // (CLOSE_WAIT): only an established connection has someone to read the answer.
  const auto info = TcpInfoOf(watched->fd);
  return info && info->tcpi_state == kTcpEstablished;
}

int ConnectionWatch::ShutSlowSenders(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Rescan(now);
  const Clock::time_point previous_sweep = last_sweep_ == Clock::time_point{} ? now : last_sweep_;
  last_sweep_ = now;
  std::vector<std::string> shut;
  for (auto& [key, watched] : by_peer_) {
    auto info = TcpInfoOf(watched.fd);
    if (!info || info->tcpi_state != kTcpEstablished) continue;
    const std::uint64_t received = info->tcpi_bytes_received - watched.received_at_request;
    if (received == 0) continue;  // quiet: idle, or waiting for its answer
    if (!watched.receiving_since) {
      watched.receiving_since = previous_sweep;
      continue;
    }
    const auto elapsed = now - *watched.receiving_since;
    if (elapsed < limits_.grace) continue;
    const double seconds = std::chrono::duration<double>(elapsed).count();
    if (static_cast<double>(received) <
        seconds * static_cast<double>(limits_.min_bytes_per_second)) {
      ::shutdown(watched.fd, SHUT_RDWR);
      shut.push_back(key);
    }
  }
  for (const std::string& key : shut) by_peer_.erase(key);
  return static_cast<int>(shut.size());
}

}  // namespace argus::cli
