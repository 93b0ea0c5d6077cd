#pragma once

#include <filesystem>
#include <memory>

#include "common/error.h"
#include "queue/queue.h"

namespace argus::queue {

// The embedded durable queue: one SQLite file that the web tier and every worker process
// open at once, reached through Drogon's DbClient with one connection per Queue object.
//
// Every change is a single SQL statement, atomic across threads and processes without an
// explicit transaction. Receive claims its batch with one
// UPDATE ... WHERE id IN (SELECT ... ORDER BY id LIMIT n) RETURNING, so two receivers never
// take the same delivery; each claim sets a fresh random receipt on the messages it takes.
// Ack, Release, ExtendVisibility and MoveToDeadLetter match on id and receipt, so using a
// delivery that timed out and was received again is kConflict and changes nothing.
// Release spends the receipt; acknowledging a message whose timeout passed but that nobody
// has received again still succeeds (as in SQS).
//
// Durability: WAL journal. With DurabilityLevel::kProcessCrash (synchronous=NORMAL) a
// returned Enqueue/Ack survives the crash or kill of any process, and a power loss or kernel
// crash may lose the last few commits (the file itself stays consistent); kPowerLoss
// (synchronous=FULL) flushes the log at every commit, so they survive those too.
//
// A waiting Receive is woken by every Enqueue (and every Release without delay) in any
// process, through a Unix socket per waiting queue object in the folder "<file>.wake" (see
// WakeChannel). It also polls with a read-only query every 200 ms, for messages whose
// visibility timeout or release delay runs out; where the socket cannot be made it polls
// only, every 1 ms at first and backing off to 20 ms.
//
// Dead letters stay in the same table (state 'dead', with reason and time), so moving one
// is a single UPDATE; ListDeadLetters returns them in enqueue order. Timestamps are
// wall-clock milliseconds, shared by every process on the machine.
//
// Missing parent folders of `file` are created. kIo when the file cannot be opened or
// created, kUnavailable when it is not a usable queue database.
Result<std::unique_ptr<Queue>> OpenSqliteQueue(const std::filesystem::path& file,
                                               const QueueOptions& options);

}  // namespace argus::queue
