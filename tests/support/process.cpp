// fork/exec with redirected standard streams.
#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include "temp_dir.hpp"

extern char** environ;

namespace tz::test {

namespace {

// argv and envp for execve: this process's environment with `env` applied (an empty value unsets).
struct ExecArgs {
  std::vector<std::string> envs;
  std::vector<char*> argv, envp;
  ExecArgs(const std::string& path, const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      if (!env.count(kv.substr(0, kv.find('=')))) envs.push_back(kv);
    }
    for (auto& [k, v] : env)
      if (!v.empty()) envs.push_back(k + "=" + v);
    argv.push_back(const_cast<char*>(path.c_str()));
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
};

}  // namespace

ProcessResult run_process(const std::string& path, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env, const std::string& stdin_text) {
  TempDir io;
  write_file(io / "in", stdin_text);
  ExecArgs ea(path, args, env);
  std::string in = (io / "in").string(), out = (io / "out").string(), err = (io / "err").string();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fi = open(in.c_str(), O_RDONLY);
    int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    execve(path.c_str(), ea.argv.data(), ea.envp.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ProcessResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = read_file(io / "out");
  r.err = read_file(io / "err");
  return r;
}

}  // namespace tz::test

namespace tz::test {

Conversation::Conversation(const std::string& path, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  std::signal(SIGPIPE, SIG_IGN);  // a program that has ended must not take the test with it
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
  ExecArgs ea(path, args, env);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    dup2(from_child[1], 2);
    close(to_child[1]);
    close(from_child[0]);
    execve(path.c_str(), ea.argv.data(), ea.envp.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  in_fd_ = to_child[1];
  out_fd_ = from_child[0];
}

Conversation::~Conversation() {
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::optional<std::string> Conversation::next_prompt() {
  auto pending_prompt = [&]() -> std::optional<std::string> {
    size_t nl = transcript_.rfind('\n');
    size_t start = nl == std::string::npos ? 0 : nl + 1;
    if (start < consumed_) start = consumed_;
    std::string tail = transcript_.substr(start);
    static const std::string kZh = "：";
    if ((tail.size() >= kZh.size() && tail.compare(tail.size() - kZh.size(), kZh.size(), kZh) == 0) ||
        (tail.size() >= 2 && tail.compare(tail.size() - 2, 2, ": ") == 0))
      return tail;
    return std::nullopt;
  };
  for (;;) {
    if (auto p = pending_prompt()) {
      consumed_ = transcript_.size();
      return p;
    }
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    transcript_.append(buf, static_cast<size_t>(n));
  }
}

void Conversation::answer(const std::string& line) {
  std::string l = line + "\n";
  ssize_t n = write(in_fd_, l.data(), l.size());
  (void)n;
}

void Conversation::interrupt() { kill(pid_, SIGINT); }

ProcessResult Conversation::finish() {
  if (in_fd_ >= 0) {
    close(in_fd_);
    in_fd_ = -1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(out_fd_, buf, sizeof buf)) > 0) transcript_.append(buf, static_cast<size_t>(n));
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  ProcessResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = transcript_;
  return r;
}

}  // namespace tz::test

namespace tz::test {

Background::Background(const std::string& path, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  std::signal(SIGPIPE, SIG_IGN);
  int from_child[2];
  if (pipe(from_child) != 0) throw std::runtime_error("pipe failed");
  char tmpl[] = "/tmp/tz-bg-err-XXXXXX";
  int fe = mkstemp(tmpl);
  if (fe < 0) throw std::runtime_error("mkstemp failed");
  err_path_ = tmpl;
  ExecArgs ea(path, args, env);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fi = open("/dev/null", O_RDONLY);
    dup2(fi, 0);
    dup2(from_child[1], 1);
    dup2(fe, 2);
    close(from_child[0]);
    execve(path.c_str(), ea.argv.data(), ea.envp.data());
    _exit(127);
  }
  close(fe);
  close(from_child[1]);
  out_fd_ = from_child[0];
}

Background::~Background() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (!err_path_.empty()) unlink(err_path_.c_str());
}

std::optional<std::string> Background::wait_for_line(const std::string& needle) {
  for (;;) {
    size_t nl;
    while ((nl = out_.find('\n', scanned_)) != std::string::npos) {
      std::string line = out_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    out_.append(buf, static_cast<size_t>(n));
  }
}

ProcessResult Background::stop(int signal) {
  ProcessResult r;
  if (pid_ <= 0) return r;
  kill(pid_, signal);
  char buf[4096];
  ssize_t n;
  while ((n = read(out_fd_, buf, sizeof buf)) > 0) out_.append(buf, static_cast<size_t>(n));
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = out_;
  r.err = read_file(err_path_);
  return r;
}

int open_stalled_client(int port, std::string_view first_bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      (!first_bytes.empty() && ::write(fd, first_bytes.data(), first_bytes.size()) != static_cast<ssize_t>(first_bytes.size()))) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace tz::test
