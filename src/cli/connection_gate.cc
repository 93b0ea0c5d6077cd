#include "cli/connection_gate.h"

#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <iterator>
#include <string>

#include "cli/process_sockets.h"

namespace argus::cli {

int ConnectionsReceivingOn(std::uint16_t port, std::chrono::milliseconds within) {
  int receiving = 0;
  ForEachFd([&](int fd) {
    if (!IsOnPort(fd, port, SocketRole::kConnected)) return;
    tcp_info info{};
    socklen_t length = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return;
    if (info.tcpi_state == TCP_ESTABLISHED &&
        info.tcpi_last_data_recv < static_cast<std::uint32_t>(within.count())) {
      ++receiving;
    }
  });
  return receiving;
}

Result<int> ShutConnectionGate(std::uint16_t port) {
  // A TCP socket's filter sees the packet from its TCP header on, whose byte 13 holds the
  // flags. A SYN without ACK, a new client's first packet, is dropped; every other packet
  // passes, so that a handshake under way when the gate shut still completes and its
  // request is answered (dropping its last ACK left the client sending into a connection
  // that was then reset, 1 in 8,700 requests).
  constexpr std::uint32_t kTcpFlagsOffset = 13;
  constexpr std::uint32_t kSynAndAck = 0x12;
  constexpr std::uint32_t kSynOnly = 0x02;
  sock_filter refuse_new_clients[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, kTcpFlagsOffset),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, kSynAndAck),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kSynOnly, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
  };
  const sock_fprog program{.len = std::size(refuse_new_clients), .filter = refuse_new_clients};
  int shut = 0;
  int failure = 0;
  const bool listed = ForEachFd([&](int fd) {
    if (!IsOnPort(fd, port, SocketRole::kListening)) return;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
      failure = errno;
      return;
    }
    ++shut;
  });
  if (!listed) return Fail(ErrorCode::kIo, "cannot list /proc/self/fd");
  if (failure != 0) {
    return Fail(ErrorCode::kIo,
                std::string("cannot stop the listening socket: ") + std::strerror(failure));
  }
  return shut;
}

}  // namespace argus::cli
