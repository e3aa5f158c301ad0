// The one catalogue of error codes: each has a Chinese and an English message template, a CLI exit
// code and an HTTP status. Expected failures travel as Result values; exceptions (tz::Failure) only
// end an operation and are caught at the program boundary.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tz {

enum class Lang { zh, en };

enum class ErrorCode {
  ok = 0,
  usage,              // bad command line
  invalid_input,      // a value or file the user gave is wrong
  not_found,
  already_exists,
  wrong_passphrase,
  store_missing,
  store_corrupt,
  io_error,
  disk_full,
  import_rejected,    // a roster had bad rows; nothing written
  excel_damaged_id,   // an ID column that Excel turned into a number
  encoding_error,
  schema_error,
  crypto_error,
  period_unset,
  network,            // nothing came back from the server
  server_identity,    // the server's TLS certificate is not signed by the pinned key (decision 51)
  unknown_device,     // the server does not know this device
  device_revoked,     // the server revoked this device
  rolled_back,        // the device store was restored from an older copy
  sync_refused,       // the server refused a request (its message follows)
  unauthenticated,    // HTTP API: no session, or it expired or was ended (decision 300)
  forbidden,          // HTTP API: the user's role or region scope does not allow the request
  locked_out,         // HTTP API: too many failed logins for the account (decision 300)
  read_only,          // the storage refuses writes (write-protected, or remounted read-only)
  internal,
};

struct ErrorInfo {
  ErrorCode code;
  std::string_view name;   // stable machine name, used in --json
  std::string_view zh;     // message template; {0}, {1}, ... are replaced by arguments
  std::string_view en;
  int exit_code;
  int http_status;
};

// Every code of the catalogue, in enum order.
const std::vector<ErrorInfo>& error_catalogue();
const ErrorInfo& error_info(ErrorCode code);

// An error argument given in both languages; Error::message picks the user's.
std::string bilingual(std::string_view zh, std::string_view en);

// Replaces {0}, {1}, ... in a template.
std::string format_message(std::string_view tmpl, const std::vector<std::string>& args);

// An error with its arguments; rendered in the user's language at the boundary.
class Error {
 public:
  Error() = default;
  Error(ErrorCode code, std::vector<std::string> args = {}) : code_(code), args_(std::move(args)) {}
  ErrorCode code() const { return code_; }
  const std::vector<std::string>& args() const { return args_; }
  std::string message(Lang lang) const;
  std::string_view name() const { return error_info(code_).name; }
  int exit_code() const { return error_info(code_).exit_code; }

 private:
  ErrorCode code_ = ErrorCode::ok;
  std::vector<std::string> args_;
};

// Thrown for failures that end an operation (I/O, corruption, crypto); carries an Error.
class Failure : public std::runtime_error {
 public:
  explicit Failure(Error e) : std::runtime_error(std::string(e.name())), error_(std::move(e)) {}
  Failure(ErrorCode code, std::vector<std::string> args = {}) : Failure(Error(code, std::move(args))) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// A value or an Error. Deliberately small: [[nodiscard]] so expected failures are not ignored.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }
  // The value, or throws the error as a Failure.
  T take() {
    if (!ok()) throw Failure(error());
    return std::move(value());
  }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace tz
