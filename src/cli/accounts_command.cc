#include "cli/accounts_command.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <format>
#include <iostream>
#include <memory>
#include <string>

#include "auth/accounts.h"
#include "catalog/catalog.h"
#include "cli/service_options.h"
#include "cli/url_display.h"

namespace argus::cli {
namespace {

struct AccountsOptions {
  StorageOptions storage;  // only its --data-dir and --catalog
  std::string email;
  bool keep_tokens = false;
};

// The service's catalog, never a new one: a mistyped --data-dir must not answer "no accounts"
// from an empty catalog made on the spot.
Result<std::unique_ptr<catalog::Catalog>> OpenServiceCatalog(const AccountsOptions& options) {
  const std::string url = options.storage.CatalogUrl();
  if (constexpr std::string_view kSqlite = "sqlite://"; url.starts_with(kSqlite)) {
    const std::filesystem::path file = url.substr(kSqlite.size());
    if (std::error_code error; !std::filesystem::is_regular_file(file, error)) {
      return Fail(ErrorCode::kNotFound,
                  "no catalog at " + file.string() +
                      ": --data-dir (ARGUS_DATA_DIR) or --catalog (ARGUS_CATALOG_URL) names the "
                      "service's, as given to argus serve");
    }
  }
  auto catalog = catalog::OpenCatalog(url, DurabilityLevel::kProcessCrash,
                                      catalog::SchemaUse::kRequireExisting);
  if (!catalog) {
    const std::string shown = WithoutPassword(url);
    const std::string& message = catalog.error().message;
    // The catalog's own message may name the URL already.
    return Fail(catalog.error().code,
                message.find(shown) != std::string::npos ? message : shown + ": " + message);
  }
  return catalog;
}

std::string DateOf(std::int64_t ms) {
  const auto at = std::chrono::time_point_cast<std::chrono::minutes>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
  return std::format("{:%Y-%m-%d %H:%M} UTC", at);
}

// The command's failure, told on stderr: exit status 1.
int Failed(std::string_view message) {
  std::cerr << "argus accounts: " << message << '\n';
  return 1;
}

std::string AccountError(const AccountsOptions& options, const Error& error) {
  return error.code == ErrorCode::kNotFound
             ? "no account with the email " + options.email + " (argus accounts list shows them)"
             : error.message;
}

int ListAccounts(const AccountsOptions& options) {
  auto catalog = OpenServiceCatalog(options);
  if (!catalog) return Failed(catalog.error().message);
  auto users = (*catalog)->ListUsers();
  if (!users) return Failed(users.error().message);
  if (users->empty()) {
    std::cout << "no accounts yet: the first to sign up becomes the administrator\n";
    return 0;
  }
  std::size_t width = std::string_view("EMAIL").size();
  for (const catalog::UserRecord& user : *users) width = std::max(width, user.email.size());
  std::cout << std::format("{:<{}}  {:<13}  {}\n", "EMAIL", width, "ROLE", "SIGNED UP");
  for (const catalog::UserRecord& user : *users) {
    std::cout << std::format("{:<{}}  {:<13}  {}\n", user.email, width,
                             user.is_admin ? "administrator" : "member",
                             DateOf(user.created_at_ms));
  }
  return 0;
}

int ResetPassword(const AccountsOptions& options) {
  auto catalog = OpenServiceCatalog(options);
  if (!catalog) return Failed(catalog.error().message);
  auth::Accounts accounts(**catalog);
  auto reset = accounts.ResetPassword(options.email, options.keep_tokens);
  if (!reset) return Failed(AccountError(options, reset.error()));
  std::cout << "New password for " << options.email << ": " << reset->password << '\n'
            << "Every session of the account has ended, and "
            << (options.keep_tokens
                    ? std::string("its API tokens still work (--keep-tokens)")
                    : std::format("its {} API token{} revoked", reset->tokens_revoked,
                                  reset->tokens_revoked == 1 ? " was" : "s were"))
            << ". Hand the password over privately, and ask for a new one to be chosen in "
               "Settings after logging in.\n";
  return 0;
}

int MakeAdmin(const AccountsOptions& options) {
  auto catalog = OpenServiceCatalog(options);
  if (!catalog) return Failed(catalog.error().message);
  auth::Accounts accounts(**catalog);
  auto user = accounts.MakeAdmin(options.email);
  if (!user) return Failed(AccountError(options, user.error()));
  std::cout << user->email << " is an administrator.\n";
  return 0;
}

}  // namespace

void AddAccountsCommand(CLI::App& app, int& exit_code) {
  CLI::App* accounts = app.add_subcommand(
      "accounts",
      "List the accounts of the service, reset a forgotten password, or name an administrator");
  accounts->require_subcommand(1);
  auto options = std::make_shared<AccountsOptions>();

  CLI::App* list = accounts->add_subcommand("list", "Every account, oldest first, with its role");
  AddCatalogOptions(*list, options->storage);
  list->callback([options, &exit_code] { exit_code = ListAccounts(*options); });

  CLI::App* reset = accounts->add_subcommand(
      "reset-password",
      "Give an account a new random password, printed once, end all its sessions and revoke "
      "its API tokens");
  AddCatalogOptions(*reset, options->storage);
  reset->add_option("email", options->email, "The account's email")->required();
  reset->add_flag("--keep-tokens", options->keep_tokens,
                  "Leave its API tokens working (a forgotten password, not a stolen account)");
  reset->callback([options, &exit_code] { exit_code = ResetPassword(*options); });

  CLI::App* make_admin = accounts->add_subcommand(
      "make-admin", "Make an account an administrator (the operations page is theirs)");
  AddCatalogOptions(*make_admin, options->storage);
  make_admin->add_option("email", options->email, "The account's email")->required();
  make_admin->callback([options, &exit_code] { exit_code = MakeAdmin(*options); });
}

}  // namespace argus::cli
