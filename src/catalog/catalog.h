#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/durability.h"
#include "common/error.h"

namespace argus::catalog {

enum class ImageStatus : std::uint8_t { kQueued, kProcessing, kDone, kFailed };
std::string_view StatusName(ImageStatus status);  // "queued", "processing", "done", "failed"
bool IsFinal(ImageStatus status);                 // done or failed: nothing more will happen

// One photo as its owner sees it. Images are stored once per content (id = sha256 of the
// bytes); each owner who uploaded it has their own entry (filename, upload time).
struct ImageRecord {
  std::string id;     // sha256 hex of the bytes
  std::string owner;  // "" for anonymous uploads
  std::string filename;
  std::string content_type;
  std::int64_t size_bytes = 0;
  int width = 0;
  int height = 0;
  ImageStatus status = ImageStatus::kQueued;
  std::string error;                // why it failed, when status is kFailed
  std::string result_json;          // the output object's JSON, when kDone
  std::string model;                // model name that produced the result
  int attempts = 0;                 // failed processing attempts so far
  int solo_attempts = 0;            // attempts begun alone this round (StartProcessingAlone)
  std::int64_t uploaded_at_ms = 0;  // this owner's upload (gallery order)
  std::int64_t created_at_ms = 0;   // first upload of this content by anyone
  std::int64_t started_at_ms = 0;   // last time a worker took it (0: never)
  std::int64_t finished_at_ms = 0;  // result or final failure stored (0: not yet)
  double inference_ms = 0;          // this image's share of its batch's inference time
};

struct NewUpload {
  std::string id;
  std::string owner;
  std::string filename;
  std::string content_type;
  std::int64_t size_bytes = 0;
  int width = 0;
  int height = 0;
};

struct AddOutcome {
  ImageRecord record;
  bool needs_job =
      false;  // no job has been enqueued for this content yet: enqueue one, then MarkEnqueued
};

// A job enqueued for an image's round of attempts, the one that started at `round_ms` (its
// record's created_at_ms). A job serves whichever round is current when a worker takes it,
// but its mark belongs to the round it was enqueued for: a round that ended before the mark
// was written (a failure within milliseconds) must not leave the next one marked without a job.
struct JobMark {
  std::string image_id;
  std::int64_t round_ms = 0;

  bool operator==(const JobMark&) const = default;
  auto operator<=>(const JobMark&) const = default;
};

struct ClassificationResult {
  std::string result_json;
  std::string model;
  double inference_ms = 0;
  // Lowercased words a search should find it by: the confident label names and their
  // parent categories ("labrador retriever", "dog", "mammal", "animal").
  std::vector<std::string> search_terms;
};

struct ResultToStore {
  std::string image_id;
  ClassificationResult result;
};

// The rule a result's search terms were made by. 0: the confident labels and their
// categories; 1: also their WordNet ancestors below the categories ("retriever"); 2: also a
// label's name without its qualifier ("crane" of "crane (bird)"), and every term's words
// split at hyphens, underscores and full stops as well as spaces ("shih tzu"); 3: no
// ancestor's word that names another category ("plant" of a sawmill), no "container" above
// wheeled vehicles, the phrases of the categories' own synsets ("domestic dog"), the
// categories of the day (person, electronics, appliance, sports, landform; buses and trains
// are vehicles), words split at parentheses too and apostrophes left out ("crane bird",
// "ladys slipper"). Results indexed by an older rule, stored before it or by a worker of an
// older version, are indexed again (ReindexOutdatedSearchTerms).
inline constexpr int kSearchTermsVersion = 3;

struct StoredResult {
  std::string image_id;
  std::string result_json;
};

struct SearchTermsOfImage {
  std::string image_id;
  std::vector<std::string> terms;
};

struct ListQuery {
  std::string owner;
  // "" for all; otherwise a search term, compared word by word in any case. When none of the
  // owner's images has it as a term, the images with a term that contains its words, in
  // order ("labrador" finds "labrador retriever"): an everyday word such as "dog" keeps its
  // meaning ("hot dog" is no dog) where the owner has dogs, and a part of a label still finds
  // something.
  std::string label;
  std::string cursor;  // "" for the first page; next_cursor of the previous page (its
                       // label_match holds for the pages after it)
  int limit = 50;      // 1..200
};

// How a list's label was searched for (ListQuery::label).
enum class LabelMatch : std::uint8_t {
  kNone,   // no label: every image
  kTerm,   // as a term
  kWords,  // as words of terms, none of the owner's images having it as a term
};

struct ListPage {
  std::vector<ImageRecord> images;  // newest upload first
  std::string next_cursor;          // "" when there is no further page; opaque
  LabelMatch label_match = LabelMatch::kNone;
};

struct StatusCounts {
  std::int64_t queued = 0, processing = 0, done = 0, failed = 0;
};

// A person with an account. The first account created is an administrator.
struct UserRecord {
  std::string id;             // random; the owner of the user's uploads
  std::string email;          // lowercased
  std::string password_hash;  // argon2id string (auth module)
  bool is_admin = false;
  std::int64_t created_at_ms = 0;
};

// A signed-in browser session; the token itself is never stored, only its hash.
struct SessionRecord {
  UserRecord user;
  std::string csrf_token;  // the value state-changing requests must echo
  std::int64_t expires_at_ms = 0;
};

// A personal API token (sent as "Authorization: Bearer"); only its hash is stored.
struct TokenRecord {
  std::string id;
  std::string user_id;
  std::string name;
  std::int64_t created_at_ms = 0;
  std::int64_t last_used_at_ms = 0;  // 0: never used
};

// The metadata catalog. Thread-safe; several processes may share one catalog (the web
// process and the workers open the same URL). Nothing throws: database failures come back as
// kUnavailable (database busy, locked past its timeout, or unreachable) or kInternal, with a
// message naming the operation.
//
// Deletes the uploaded bytes of an image whose last upload a removal took.
using BytesRemover = std::function<Result<void>()>;

// Image status: queued → processing → done; a non-final failure puts it back to queued
// (its job will be delivered again) and a final one marks it failed. done is terminal; a
// late result may still replace a final failure. Timestamps are Unix milliseconds.
class Catalog {
 public:
  virtual ~Catalog() = default;

  // Records an upload by `owner` ("" for anonymous, else a user's id; kNotFound when that user
  // was deleted, as while the upload was on its way). Uploading content that already
  // exists only adds the owner's entry (or refreshes its filename and upload time) and
  // returns the stored state.
  // needs_job is true while the content is queued and MarkEnqueued has not been called for
  // it, so a retried or concurrent upload of unfinished content may enqueue twice (harmless:
  // StoreResults keeps the first result). It is also true for an image the upload created
  // after a concurrent Remove took the content's last copy, whose bytes are then gone: a
  // caller that skipped storing them because they were there checks them again.
  // kInvalidArgument for an empty id or one longer than 128 characters, or negative sizes.
  virtual Result<AddOutcome> AddUpload(const NewUpload& upload) = 0;
  // Notes that jobs for these images' rounds are in the queue, in one statement per 250
  // marks. Marks of images the catalog does not know (removed meanwhile), or whose round has
  // ended since, are skipped.
  virtual Result<void> MarkEnqueued(std::span<const JobMark> marks) = 0;
  // Images whose job may never have been enqueued (crash between AddUpload and
  // MarkEnqueued), uploaded before `before_ms`, with their current rounds: to re-enqueue at
  // start-up. Only queued images, oldest first.
  virtual Result<std::vector<JobMark>> ImagesAwaitingJob(std::int64_t before_ms) = 0;
  // For a queue found empty while images uploaded before `before_ms` are still queued with
  // their job marked: the queue lost those jobs (a NATS server restarted without its store),
  // so they are marked as awaiting one again, for ImagesAwaitingJob. Returns how many.
  virtual Result<std::size_t> ForgetLostJobs(std::int64_t before_ms) = 0;

  // kNotFound unless `owner` uploaded `id`.
  virtual Result<ImageRecord> Get(std::string_view owner, std::string_view id) = 0;
  // The image whatever its owners, for workers (owner and filename left empty,
  // uploaded_at_ms 0). kNotFound for an unknown id.
  virtual Result<ImageRecord> GetImage(std::string_view id) = 0;
  // Those of `ids` that are images, whatever their owners.
  virtual Result<std::set<std::string>> KnownImages(std::span<const std::string> ids) = 0;
  // One page of the owner's gallery, newest upload first (ties broken by id). The cursor
  // holds the position of the previous page's last entry (not an offset), so uploads and
  // removals between requests neither repeat nor skip other entries (an entry uploaded again
  // meanwhile moves to the front). kInvalidArgument for a limit outside 1..200 or a cursor
  // this catalog did not make.
  virtual Result<ListPage> List(const ListQuery& query) = 0;
  // Removes the owner's entry. When no owner is left the image row goes too (with its search
  // terms; an upload of the same content later starts afresh), and `remove_bytes` deletes the
  // uploaded bytes before the removal commits, while it holds the image's row: an upload of
  // the same content that found the bytes stored waits for the commit, then gets a new image
  // (needs_job) and stores the bytes again (see AddUpload). A failure of the remover undoes
  // the removal and is returned. Returns whether no owner is left; the caller then deletes the
  // image's other objects. kNotFound unless `owner` uploaded `id`.
  virtual Result<bool> Remove(std::string_view owner, std::string_view id,
                              const BytesRemover& remove_bytes) = 0;
  // As Remove, while the owner's last upload of `id` is older than `before_ms`; kNotFound
  // otherwise. A sweep removing what it listed so leaves alone a photo sent again since.
  virtual Result<bool> RemoveUploadedBefore(std::string_view owner, std::string_view id,
                                            std::int64_t before_ms,
                                            const BytesRemover& remove_bytes) = 0;
  // Gives the owner's failed image another round, as uploading it again does: queued, its
  // error, attempts (alone too) and times cleared, awaiting its job (needs_job). kNotFound
  // unless `owner` uploaded `id`; kConflict, naming the status, unless it failed.
  virtual Result<AddOutcome> Requeue(std::string_view owner, std::string_view id) = 0;

  // A worker took a batch of images: status processing, started_at_ms = now_ms, in two
  // statements. For each id, in order, its status afterwards: kProcessing, or kDone /
  // kFailed for an image that had finished (a duplicate delivery, left alone), or nullopt
  // for an unknown id (removed while queued).
  virtual Result<std::vector<std::optional<ImageStatus>>> StartProcessing(
      std::span<const std::string> ids, std::int64_t now_ms) = 0;
  // As StartProcessing of this one image, with no other in the worker's hands: counts the
  // attempt in solo_attempts as well. An attempt alone that ends without an outcome (the
  // worker crashed) was the image's own doing, not another image's of its batch.
  virtual Result<std::optional<ImageStatus>> StartProcessingAlone(std::string_view id,
                                                                  std::int64_t now_ms) = 0;
  // Stores a worker's batch of results in one transaction, all or nothing. Idempotent: the
  // first result stored for an image wins. Element i is true when this call stored
  // results[i] (status done, its search terms indexed lowercased for List's label filter),
  // false when the image already had a result or is gone.
  virtual Result<std::vector<bool>> StoreResults(std::span<const ResultToStore> results,
                                                 std::int64_t now_ms) = 0;
  // Up to `limit` finished images whose search terms were made by a rule older than
  // kSearchTermsVersion.
  virtual Result<std::vector<StoredResult>> ResultsWithOutdatedTerms(int limit) = 0;
  // Replaces each finished image's search terms (lowercased, as StoreResults does) and
  // records them as made by kSearchTermsVersion, in one transaction; an image that is gone
  // is passed over.
  virtual Result<void> ReplaceSearchTerms(std::span<const SearchTermsOfImage> images) = 0;
  // For each id, in order, whether the catalog has the image (some owner kept it).
  virtual Result<std::vector<bool>> Exist(std::span<const std::string> ids) = 0;
  // A failed attempt: counts it and keeps the error; `final` marks the image failed
  // (finished_at_ms = now_ms), otherwise it goes back to queued. A no-op for an image
  // already done or failed (a late duplicate); kNotFound for an unknown id.
  virtual Result<void> RecordFailure(std::string_view id, std::string_view error, bool final,
                                     std::int64_t now_ms) = 0;
  // Distinct contents per status (an image uploaded by two owners counts once).
  virtual Result<StatusCounts> CountByStatus() = 0;

  // Accounts. Emails are compared lowercased; kConflict when the email is taken.
  virtual Result<UserRecord> CreateUser(std::string_view email, std::string_view password_hash,
                                        std::int64_t now_ms) = 0;
  virtual Result<UserRecord> FindUserByEmail(std::string_view email) = 0;  // kNotFound
  // Every account, oldest first, for the operator (`argus accounts list`).
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;
  virtual Result<void> CreateSession(std::string_view token_hash, std::string_view user_id,
                                     std::string_view csrf_token, std::int64_t expires_at_ms) = 0;
  // kNotFound for an unknown or expired session.
  virtual Result<SessionRecord> FindSession(std::string_view token_hash, std::int64_t now_ms) = 0;
  virtual Result<void> DeleteSession(std::string_view token_hash) = 0;
  // Replaces the user's password hash `replaced_hash` and ends every session of theirs except
  // the one whose hash is `kept_session_hash` (none when empty), in one transaction: a changed
  // password signs out whoever else was signed in. kNotFound for an unknown user, or when the
  // hash is no longer `replaced_hash` (changed meanwhile: two changes at once do not both
  // pass the check of the old password).
  virtual Result<void> SetPasswordHash(std::string_view user_id, std::string_view replaced_hash,
                                       std::string_view password_hash,
                                       std::string_view kept_session_hash) = 0;
  // Deletes the account with its sessions and API tokens; its uploads are the caller's to
  // remove, as their owner (Remove). Uploads still on their way wait for it to end, and
  // later ones are refused (AddUpload), so a removal after it finds every upload left.
  // kNotFound for an unknown user.
  virtual Result<void> DeleteUser(std::string_view user_id) = 0;
  // Makes the user an administrator (already one: no change). kNotFound for an unknown user.
  virtual Result<void> MakeAdmin(std::string_view user_id) = 0;
  // Up to `limit` deleted accounts that still own uploads: what a removal after DeleteUser
  // left when it failed part-way.
  virtual Result<std::vector<std::string>> DeletedUsersWithUploads(int limit) = 0;
  // Up to `limit` finished (done or failed) images uploaded without an account before
  // `before_ms`, oldest first: what the anonymous retention removes (as owner "", with
  // RemoveUploadedBefore).
  // Unfinished ones wait for their result, however old.
  virtual Result<std::vector<std::string>> AnonymousUploadsBefore(std::int64_t before_ms,
                                                                  int limit) = 0;
  virtual Result<TokenRecord> CreateApiToken(std::string_view user_id, std::string_view name,
                                             std::string_view token_hash, std::int64_t now_ms) = 0;
  virtual Result<std::vector<TokenRecord>> ListApiTokens(std::string_view user_id) = 0;
  // kNotFound unless `user_id` owns the token.
  virtual Result<void> RevokeApiToken(std::string_view user_id, std::string_view token_id) = 0;
  // The token's user (kNotFound when revoked or unknown); records the use (to the minute,
  // so that most requests only read).
  virtual Result<UserRecord> FindUserByApiToken(std::string_view token_hash,
                                                std::int64_t now_ms) = 0;
};

// Indexes every result whose search terms are outdated again, with the terms `terms_of`
// makes of its stored JSON, in batches; returns how many. Idempotent, so processes that
// start together may all run it. A stop request ends it between batches, and what is left
// waits for the next run. `progress`, when given, hears the running total after each batch.
Result<std::size_t> ReindexOutdatedSearchTerms(
    Catalog& catalog,
    const std::function<std::vector<std::string>(std::string_view result_json)>& terms_of,
    const std::stop_token& stop = {},
    const std::function<void(std::size_t reindexed)>& progress = {});

// Whether opening a catalog may create its schema.
enum class SchemaUse : std::uint8_t {
  // A database without one gets it: a service's first start.
  kCreateWhenMissing,
  // A database without one is kNotFound and left unwritten: tools that act on a service's
  // catalog, where a new empty one would only hide a wrong path.
  kRequireExisting,
};

// Opens the catalog at `url` and applies pending schema migrations:
//   "sqlite:///abs/path/catalog.db" or "sqlite://relative.db" (relative to the working
//     directory; created when missing, its directory must exist): one connection in WAL
//     mode, waiting up to 5 s for another process's write lock, its commits flushed to
//     disk as `durability` asks;
//   "postgresql://user:pass@host:port/db?param=value" (or "postgres://"; percent-encoded
//     parts; query parameters are libpq keywords such as sslmode or connect_timeout;
//     durability is the server's synchronous_commit, on by default).
// kInvalidArgument for a malformed or unsupported URL, a PostgreSQL host that does not
// resolve or a server that refuses the connection for good (authentication, an unknown role
// or database), kIo when the SQLite file cannot be opened, kUnavailable when PostgreSQL
// cannot be reached (within connect_timeout, else 10 s); see db::PinPostgresServer.
Result<std::unique_ptr<Catalog>> OpenCatalog(
    std::string_view url, DurabilityLevel durability = DurabilityLevel::kProcessCrash,
    SchemaUse schema = SchemaUse::kCreateWhenMissing);

}  // namespace argus::catalog
