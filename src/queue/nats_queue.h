#pragma once

#include <memory>
#include <string_view>

#include "common/error.h"
#include "queue/queue.h"

namespace argus::queue {

// The queue on NATS JetStream, shared by processes on any number of machines. `rest` is the
// URL after "nats://": "host:port" or "host:port/NAME" (see nats::ParseUrl; credentials as
// "user:password@host:port"). Without NAME the jobs go to the stream ARGUS_JOBS on subject
// argus.jobs and dead letters to ARGUS_DEAD on argus.dead; with it, to NAME on
// argus.jobs.NAME and NAME_DEAD on argus.dead.NAME.
//
// Jobs: a file-backed stream with work-queue retention, one message per job, the id its
// stream sequence. Enqueue returns once JetStream acknowledged the publication: the server
// has written the job to its files (it syncs them to disk every two minutes by default, so
// a power loss, unlike a crash of the server, can lose recent jobs).
//
// Delivery: one durable pull consumer, WORKERS, shared by every process, with explicit
// acknowledgement, AckWait = the visibility timeout and unlimited deliveries: the caller
// dead-letters by delivery_count (JetStream would keep a job that ran out of MaxDeliver in
// the stream, invisible, so moving it is ours to do). A Queue that receives sets the
// consumer's AckWait to its own visibility timeout before its first Receive; Queues that
// only enqueue or count (web tier, scaler) leave it alone. Receive is one pull request
// {batch, no_wait, expires = wait}: the server answers as soon as it has a message, with
// what it has then, so only the first message is waited for. delivery_count is JetStream's
// count of deliveries.
//
// Receipts: the receipt is the consumer's delivery sequence, new for every delivery. Each
// Queue keeps the newest delivery it received of every job it holds; Ack, Release,
// ExtendVisibility and MoveToDeadLetter act on that delivery only, so a receipt that was
// spent, belongs to an older delivery (the job timed out and came back here) or to another
// Queue object is kConflict. JetStream acknowledges by stream sequence, so a late Ack from
// a process whose delivery timed out and went elsewhere still succeeds (as in SQS).
// Deliveries untouched for two visibility timeouts are forgotten.
//
// Each of those four waits for JetStream's reply (nats.c's Nak and InProgress do not), so
// its effect is in place when it returns. Release is a NAK with delay, ExtendVisibility an
// in-progress notice (a new AckWait), MoveToDeadLetter a publication of body and reason
// (headers Argus-Job-Id, Argus-Reason, Argus-Dead-At-Ms) to the dead-letter stream (limits
// retention, deduplicated by job so that a retried move is stored once) followed by TERM.
// ListDeadLetters returns them in the order they were dead-lettered.
//
// Stats: ready = jobs never delivered (the stream's last sequence minus the consumer's
// delivery position: its pending count lags a publication by a moment), in_flight = the
// consumer's ack-pending count (delivered and not acknowledged, including released jobs
// waiting for their retry), dead = messages in the dead-letter stream. Three requests, not
// one snapshot: under traffic the counts are off by the jobs moving meanwhile.
//
// Every process creates the streams and the consumer when they are missing; identical
// settings make that idempotent, and a stream set up differently by an operator is reused
// when its retention and subject still fit. The connection reconnects forever: while NATS
// is away every operation fails at once with kUnavailable, and a waiting Receive stops.
//
// A job must fit the server's max_payload (1 MiB by default); dead-lettering adds headers,
// so a job within a few hundred bytes of the limit cannot be dead-lettered (kTooLarge).
Result<std::unique_ptr<Queue>> OpenNatsQueue(std::string_view rest, const QueueOptions& options);

}  // namespace argus::queue
