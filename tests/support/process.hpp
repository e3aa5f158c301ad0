// Runs a real program (fork + exec) with extra environment variables and stdin text, and returns its
// exit status and output. Output goes through temporary files, so large output cannot deadlock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tz::test {

struct ProcessResult {
  int exit_code = -1;   // when it exited
  int signal = 0;       // when a signal ended it
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::string& path, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {}, const std::string& stdin_text = {});

// A hostile client of a server on 127.0.0.1:port: connects, writes `first_bytes` (nothing, or the
// start of a TLS record it never finishes) and stalls; the caller closes the descriptor. -1 when the
// connection fails.
int open_stalled_client(int port, std::string_view first_bytes);

}  // namespace tz::test

namespace tz::test {

// A program driven at its prompts, as a person at a terminal would: the test reads until the
// program waits at a prompt (the pending output ends with "：" or ": "), then answers. No sleeps.
class Conversation {
 public:
  Conversation(const std::string& path, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env = {});
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  // The next prompt (its last line), or nullopt once the program has closed its output.
  std::optional<std::string> next_prompt();
  void answer(const std::string& line);
  void interrupt();         // SIGINT, as Ctrl-C
  ProcessResult finish();   // closes stdin, reads the rest, waits
  const std::string& transcript() const { return transcript_; }

 private:
  int pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string transcript_;
  size_t consumed_ = 0;  // transcript up to here belongs to earlier prompts
};

}  // namespace tz::test

namespace tz::test {

// A long-running program (a server) started in the background: its standard output is read line by
// line (wait_for_line blocks on the pipe, no sleeps); stop() sends SIGTERM and waits for the exit.
class Background {
 public:
  Background(const std::string& path, const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // The first line of output containing `needle` (earlier lines are kept in output()); nullopt if the
  // program closed its output first.
  std::optional<std::string> wait_for_line(const std::string& needle);
  ProcessResult stop(int signal = 15);
  int pid() const { return pid_; }
  const std::string& output() const { return out_; }

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
  size_t scanned_ = 0;
  std::string err_path_;
};

}  // namespace tz::test

