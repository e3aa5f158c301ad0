// Private to core/sync: the pieces of the wire codec that protocol.cpp (the sync messages) and
// protocol_auth.cpp (the identity messages) share: the bilingual labels, the bounded body reader
// whose every error names the message and the element, and the frame-opening decode template.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "tz/sync/protocol.hpp"
#include "tz/util/bytes.hpp"

namespace tz::sync::detail {

struct Label {
  std::string_view zh;
  std::string_view en;
};

inline std::string num(uint64_t v) { return std::to_string(v); }

constexpr Label message_label(MessageType t) {
  switch (t) {
    case MessageType::push_request: return {"推送请求", "PushRequest"};
    case MessageType::push_reply: return {"推送回复", "PushReply"};
    case MessageType::pull_request: return {"拉取请求", "PullRequest"};
    case MessageType::pull_page: return {"拉取页", "PullPage"};
    case MessageType::error_reply: return {"错误回复", "ErrorReply"};
    case MessageType::signed_request: return {"签名请求", "SignedRequest"};
    case MessageType::enrol_request: return {"登记请求", "EnrolRequest"};
    case MessageType::enrol_reply: return {"登记回复", "EnrolReply"};
    case MessageType::signed_reply: return {"签名回复", "SignedReply"};
  }
  return {"未知消息", "unknown message"};
}

constexpr bool known_message_type(uint8_t t) { return t >= 1 && t <= 9; }

// An invalid_input error about message (or another labelled whole, such as the enrolment token).
inline Error invalid(Label message, std::string_view zh, std::string_view en) {
  return Error(ErrorCode::invalid_input,
               {bilingual(std::string(message.zh) + "：" + std::string(zh), std::string(message.en) + ": " + std::string(en))});
}

// Thrown by WireReader only; decode_body turns it into an invalid_input Error.
struct DecodeError {
  std::string zh;
  std::string en;
};

// Reads one message body through the bounded ByteReader, keeping the path of the element being read
// (a label and an index per level, formatted only on failure) so an error says where it was. Every
// length and count is checked against the bytes left and the limits before anything is allocated.
class WireReader {
 public:
  WireReader(std::string_view body, const Limits& limits, Label message) : r_(body), size_(body.size()), limits_(limits) {
    path_.push_back({message, 0, false});
  }

  class Scope {
   public:
    Scope(WireReader& d, Label l) : d_(d), at_(d.path_.size()) { d_.path_.push_back({l, 0, false}); }
    Scope(WireReader& d, Label l, uint64_t index) : d_(d), at_(d.path_.size()) { d_.path_.push_back({l, index, true}); }
    ~Scope() { d_.path_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    // The element this level now reads: a loop over a column keeps one Scope and moves its index
    // (a Scope per element was a quarter of decoding a push of 50,000 changes).
    void index(uint64_t i) {
      d_.path_[at_].index = i;
      d_.path_[at_].has_index = true;
    }

   private:
    WireReader& d_;
    size_t at_;
  };

  const Limits& limits() const { return limits_; }
  size_t remaining() const { return r_.remaining(); }

  [[noreturn]] void fail(const std::string& zh, const std::string& en) const {
    DecodeError e;
    for (auto& p : path_) {
      e.zh.append(p.label.zh);
      e.en.append(p.label.en);
      if (p.has_index) {
        e.zh += " " + num(p.index);
        e.en += " " + num(p.index);
      }
      e.zh += "：";
      e.en += ": ";
    }
    e.zh += zh;
    e.en += en;
    throw e;
  }

  // The primitives: ByteReader does the bounded reading; its Failure becomes a located DecodeError.
  uint8_t u8() {
    if (r_.remaining() == 0) ends_early();
    return guard([&] { return r_.u8(); });
  }
  uint64_t varint() { return guard([&] { return r_.varint(); }); }
  int64_t svarint() { return guard([&] { return r_.svarint(); }); }
  std::string_view raw(size_t n) {
    if (n > r_.remaining()) ends_early();
    return guard([&] { return r_.raw(n); });
  }
  // Exactly n raw bytes, named: a key, a signature.
  std::string fixed(Label what, size_t n) {
    if (n > r_.remaining())
      fail(std::string(what.zh) + "需要 " + num(n) + " 字节，只剩 " + num(r_.remaining()) + " 字节",
           std::string(what.en) + " needs " + num(n) + " bytes but only " + num(r_.remaining()) + " are left");
    return std::string(raw(n));
  }

  // A length-prefixed string: the length is checked against the bytes left and the limit first.
  std::string str(Label what, size_t limit) {
    uint64_t n = varint();
    if (n > r_.remaining())
      fail(std::string(what.zh) + "长度 " + num(n) + " 超过剩余字节数 (" + num(r_.remaining()) + ")",
           std::string(what.en) + " length " + num(n) + " exceeds the bytes left (" + num(r_.remaining()) + ")");
    if (n > limit)
      fail(std::string(what.zh) + "长度 " + num(n) + " 超过上限 " + num(limit) + " 字节",
           std::string(what.en) + " of " + num(n) + " bytes exceeds the limit of " + num(limit));
    return std::string(raw(static_cast<size_t>(n)));
  }
  std::string str(Label what) { return str(what, limits_.max_value_bytes); }

  // A container count: never more elements than the bytes left could hold, never above limit.
  size_t count(Label what, size_t min_element_bytes, size_t limit = std::numeric_limits<size_t>::max()) {
    uint64_t n = varint();
    if (n == 0) return 0;  // most lists of a push are empty (a change's base): no divisions
    if (n > r_.remaining() / min_element_bytes)
      fail(std::string(what.zh) + "数 " + num(n) + " 超过剩余字节数 (" + num(r_.remaining()) + ")",
           std::string(what.en) + " count " + num(n) + " exceeds the bytes left (" + num(r_.remaining()) + ")");
    if (n > limit)
      fail(std::string(what.zh) + "数 " + num(n) + " 超过上限 " + num(limit),
           std::string(what.en) + " count " + num(n) + " exceeds the limit of " + num(limit));
    return guard([&] { return r_.checked_count(n, min_element_bytes); });
  }

  template <typename T>
  T bounded(Label what) {
    uint64_t v = varint();
    if (v > std::numeric_limits<T>::max())
      fail(std::string(what.zh) + " " + num(v) + " 超出范围", std::string(what.en) + " " + num(v) + " is out of range");
    return static_cast<T>(v);
  }

  bool flag(Label what) {
    uint8_t b = u8();
    if (b > 1) fail(std::string(what.zh) + "应为 0 或 1，实为 " + num(b), std::string(what.en) + " must be 0 or 1, not " + num(b));
    return b == 1;
  }

  // Goes on from where `other`, a copy of this reader that read ahead, stopped.
  void follow(const WireReader& other) { r_ = other.r_; }

  void finish() {
    if (!r_.done())
      fail("消息末尾有 " + num(r_.remaining()) + " 个多余字节", num(r_.remaining()) + " trailing bytes after the message");
  }

 private:
  struct PathEntry {
    Label label;
    uint64_t index;
    bool has_index;
  };

  template <typename F>
  auto guard(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const Failure&) {
      size_t at = size_ - r_.remaining();
      fail("第 " + num(at) + " 字节处消息提前结束或数字格式错误",
           "the message ends early or holds a malformed number at byte " + num(at));
    }
  }
  [[noreturn]] void ends_early() const {
    fail("第 " + num(size_ - r_.remaining()) + " 字节处消息提前结束",
         "the message ends early at byte " + num(size_ - r_.remaining()));
  }

  ByteReader r_;
  size_t size_;
  const Limits& limits_;
  std::vector<PathEntry> path_;
};

// Parses a whole body labelled label with a Reader (WireReader or a class built on it): parse reads
// the elements, then nothing may be left; a DecodeError becomes an invalid_input Error.
template <typename T, typename Reader = WireReader, typename Parse>
Result<T> decode_body(std::string_view body, const Limits& limits, Label label, Parse parse) {
  Reader d(body, limits, label);
  try {
    T m = parse(d);
    d.finish();
    return m;
  } catch (const DecodeError& e) {
    return Error(ErrorCode::invalid_input, {bilingual(e.zh, e.en)});
  }
}

// Opens a frame that must be of type expected (type and version checked by open_frame) and parses
// its body as decode_body does.
template <typename T, typename Reader = WireReader, typename Parse>
Result<T> decode_message(std::string_view bytes, const Limits& limits, MessageType expected, Parse parse) {
  Label label = message_label(expected);
  if (bytes.size() >= 1 && static_cast<uint8_t>(bytes[0]) != static_cast<uint8_t>(expected)) {
    auto t = static_cast<uint8_t>(bytes[0]);
    std::string got_en = known_message_type(t) ? std::string(message_label(static_cast<MessageType>(t)).en) : "type " + num(t);
    std::string got_zh = known_message_type(t) ? std::string(message_label(static_cast<MessageType>(t)).zh) : "类型 " + num(t);
    return invalid(label, "收到的是" + got_zh, "the message is a " + got_en);
  }
  auto frame = open_frame(bytes, limits);
  if (!frame) return frame.error();
  return decode_body<T, Reader>(frame->body, limits, label, std::move(parse));
}

// A reply that may instead be an ErrorReply: that one becomes the Error it carries.
// A SignedReply is opened to its inner reply (its audit head is not checked here: DeviceSync does).
template <typename T>
Result<T> decode_or_error(std::string_view bytes, const Limits& limits, Result<T> (*decode)(std::string_view, const Limits&)) {
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == static_cast<uint8_t>(MessageType::signed_reply)) {
    auto r = decode_signed_reply(bytes, limits);
    if (!r) return r.error();
    return decode_or_error<T>(r->body, limits, decode);
  }
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == static_cast<uint8_t>(MessageType::error_reply)) {
    auto e = decode_error_reply(bytes, limits);
    if (!e) return e.error();
    return to_error(*e);
  }
  return decode(bytes, limits);
}

}  // namespace tz::sync::detail
