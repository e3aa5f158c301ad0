// Sets an environment variable for a scope and puts back what it was on exit; runs a test body on one
// thread and on two (TZ_THREADS: the work done beside a push's apply, decisions 135 and 138).
#pragma once
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace tz::test {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Runs body(threads) with TZ_THREADS=1 and then 2, each run named in a failure's message.
template <typename Body>
void on_one_thread_and_two(Body body) {
  for (const char* threads : {"1", "2"}) {
    INFO("TZ_THREADS=" << threads);
    ScopedEnv env("TZ_THREADS", threads);
    body(threads);
  }
}

}  // namespace tz::test
