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
  auto catalog = catalog::OpenCatalog(url);
  if (!catalog) {
    return Fail(catalog.error().code, WithoutPassword(url) + ": " + catalog.error().message);
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
  auto password = accounts.ResetPassword(options.email);
  if (!password) {
    return Failed(password.error().code == ErrorCode::kNotFound
                      ? "no account with the email " + options.email +
                            " (argus accounts list shows them)"
                      : password.error().message);
  }
  std::cout << "New password for " << options.email << ": " << *password << '\n'
            << "Every session of the account has ended. Hand the password over privately, "
               "and ask for a new one to be chosen in Settings after logging in.\n";
  return 0;
}

}  // namespace

void AddAccountsCommand(CLI::App& app, int& exit_code) {
  CLI::App* accounts = app.add_subcommand(
      "accounts", "List the accounts of the service, or reset a forgotten password");
  accounts->require_subcommand(1);
  auto options = std::make_shared<AccountsOptions>();

  CLI::App* list = accounts->add_subcommand("list", "Every account, oldest first, with its role");
  AddCatalogOptions(*list, options->storage);
  list->callback([options, &exit_code] { exit_code = ListAccounts(*options); });

  CLI::App* reset = accounts->add_subcommand(
      "reset-password",
      "Give an account a new random password, printed once, and end all its sessions");
  AddCatalogOptions(*reset, options->storage);
  reset->add_option("email", options->email, "The account's email")->required();
  reset->callback([options, &exit_code] { exit_code = ResetPassword(*options); });
}

}  // namespace argus::cli
