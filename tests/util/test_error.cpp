// The error catalogue (every code has both messages, an exit code and an HTTP status, in enum
// order), message templates, bilingual arguments, Failure and Result.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "tz/util/error.hpp"

using tz::Error;
using tz::ErrorCode;
using tz::Lang;

TEST_CASE("error catalogue: every code - in enum order - with both messages and both numbers", "[util]") {
  const auto& cat = tz::error_catalogue();
  const auto last = static_cast<size_t>(ErrorCode::internal);
  REQUIRE(cat.size() == last + 1);
  std::set<std::string> names;
  for (size_t i = 0; i < cat.size(); ++i) {
    const auto& info = cat[i];
    INFO("catalogue entry " << i << " (" << info.name << ")");
    CHECK(static_cast<size_t>(info.code) == i);
    CHECK_FALSE(info.name.empty());
    CHECK(names.insert(std::string(info.name)).second);  // machine names are unique
    CHECK_FALSE(info.zh.empty());
    CHECK_FALSE(info.en.empty());
    CHECK(info.zh != info.en);
    CHECK((info.exit_code == 0 || info.exit_code == 1 || info.exit_code == 2));
    CHECK(info.http_status >= 200);
    CHECK(info.http_status <= 599);
    // Success and only success has exit code 0 and a 2xx status.
    CHECK((info.exit_code == 0) == (info.code == ErrorCode::ok));
    CHECK((info.http_status < 300) == (info.code == ErrorCode::ok));
    // error_info finds the same entry.
    const auto& again = tz::error_info(info.code);
    CHECK(&again == &info);
  }
}

TEST_CASE("error catalogue: a few codes have their documented numbers and names", "[util]") {
  CHECK(tz::error_info(ErrorCode::usage).exit_code == 2);
  CHECK(tz::error_info(ErrorCode::usage).http_status == 400);
  CHECK(tz::error_info(ErrorCode::not_found).http_status == 404);
  CHECK(tz::error_info(ErrorCode::already_exists).http_status == 409);
  CHECK(tz::error_info(ErrorCode::schema_error).name == "schema_error");
  CHECK(tz::error_info(ErrorCode::import_rejected).name == "import_rejected");
  CHECK(Error(ErrorCode::store_corrupt).exit_code() == 1);
  CHECK(Error(ErrorCode::store_corrupt).name() == "store_corrupt");
  CHECK(Error().code() == ErrorCode::ok);
  CHECK(Error().exit_code() == 0);
}

TEST_CASE("format_message replaces numbered placeholders", "[util]") {
  using tz::format_message;
  CHECK(format_message("a {0} b {1} c", {"x", "y"}) == "a x b y c");
  CHECK(format_message("{1}{0}{1}", {"a", "b"}) == "bab");
  CHECK(format_message("no placeholders", {"x"}) == "no placeholders");
  CHECK(format_message("", {}) == "");
  // Multi-digit indexes.
  std::vector<std::string> many;
  for (int i = 0; i < 12; ++i) many.push_back("v" + std::to_string(i));
  CHECK(format_message("{11}-{10}-{1}", many) == "v11-v10-v1");
  // A missing argument renders as nothing.
  CHECK(format_message("x{3}y", {"a"}) == "xy");
  // Braces that are not a placeholder stay as they are.
  CHECK(format_message("{a} {} {0", {"z"}) == "{a} {} {0");
  CHECK(format_message("{{0}}", {"z"}) == "{z}");
  CHECK(format_message("{0", {"z"}) == "{0");
  // An argument that itself looks like a placeholder is not expanded again.
  CHECK(format_message("{0}{1}", {"{1}", "b"}) == "{1}b");
  // UTF-8 templates.
  CHECK(format_message("未找到：{0}", {"张三"}) == "未找到：张三");
}

TEST_CASE("Error::message renders the template in the user's language", "[util]") {
  Error e(ErrorCode::not_found, {"x.csv"});
  CHECK(e.message(Lang::zh) == "未找到：x.csv");
  CHECK(e.message(Lang::en) == "not found: x.csv");
  Error ok;
  CHECK(ok.message(Lang::zh) == "成功");
  CHECK(ok.message(Lang::en) == "success");
  // A template without placeholders ignores arguments.
  Error pw(ErrorCode::wrong_passphrase, {"ignored"});
  CHECK(pw.message(Lang::en) == "wrong passphrase: the store cannot be opened");
}

TEST_CASE("bilingual arguments are picked by language", "[util]") {
  Error e(ErrorCode::invalid_input, {tz::bilingual("姓名为空", "the name is empty")});
  CHECK(e.message(Lang::zh) == "输入有误：姓名为空");
  CHECK(e.message(Lang::en) == "invalid input: the name is empty");

  // Mixed: a bilingual argument next to a plain one.
  Error x(ErrorCode::invalid_input, {tz::bilingual("身份证号", "ID number") + " 5.22632E+17"});
  auto zh = x.message(Lang::zh);
  auto en = x.message(Lang::en);
  CHECK(zh.find("身份证号") != std::string::npos);
  CHECK(en.find("ID number 5.22632E+17") != std::string::npos);
  CHECK(zh.find("ID number") == std::string::npos);
  CHECK(en.find("身份证号") == std::string::npos);
  // The separator never leaks into a rendered message.
  CHECK(zh.find('\x1f') == std::string::npos);
  CHECK(en.find('\x1f') == std::string::npos);

  // Empty halves.
  CHECK(Error(ErrorCode::not_found, {tz::bilingual("", "thing")}).message(Lang::zh) == "未找到：");
  CHECK(Error(ErrorCode::not_found, {tz::bilingual("东西", "")}).message(Lang::en) == "not found: ");
}

TEST_CASE("Failure carries its Error - Result holds a value or an error", "[util]") {
  try {
    throw tz::Failure(ErrorCode::io_error, {"disk.bin"});
  } catch (const tz::Failure& f) {
    CHECK(f.error().code() == ErrorCode::io_error);
    CHECK(std::string(f.what()) == "io_error");
    CHECK(f.error().message(Lang::en) == "file input/output failed: disk.bin");
  }

  tz::Result<int> good = 42;
  CHECK(good.ok());
  CHECK(static_cast<bool>(good));
  CHECK(*good == 42);
  CHECK(good.take() == 42);

  tz::Result<int> bad = Error(ErrorCode::not_found, {"x"});
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().code() == ErrorCode::not_found);
  CHECK_THROWS_AS(bad.take(), tz::Failure);
  try {
    (void)bad.take();
  } catch (const tz::Failure& f) {
    CHECK(f.error().code() == ErrorCode::not_found);
    CHECK(f.error().args() == std::vector<std::string>{"x"});
  }

  tz::Status st = tz::ok_status();
  CHECK(st.ok());
}
