// Fuzz target: the sync wire decoder (SPEC §2: bounded decoding of untrusted bodies). Every message
// a server or device decodes from the network, plus enrolment tokens. The first byte picks the
// message; the second says whether the rest is a whole frame as received (zlib inside) or a body
// that the harness seals into a frame first, so the fuzzer reaches the body grammar without having
// to produce valid deflate streams. Property checked beyond "no crash, no sanitizer report": a
// message that decodes re-encodes to bytes that decode again and encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tz/sync/protocol.hpp"

namespace {

using namespace tz::sync;

// Small limits so that the fuzzer meets them (the defaults are tens of MB).
Limits fuzz_limits() {
  Limits l;
  l.max_uncompressed = 1 << 20;
  l.max_changes = 2000;
  l.max_records = 2000;
  l.max_value_bytes = 1 << 16;
  return l;
}

template <typename T, typename Decode>
void round_trip(std::string_view frame, Decode decode) {
  auto first = decode(frame, fuzz_limits());
  if (!first.ok()) return;
  const std::string once = encode(first.value());
  auto second = decode(once, Limits{});
  if (!second.ok()) std::abort();  // our own encoding of a decoded message must decode
  if (encode(second.value()) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t which = data[0] % 9;
  const bool seal = data[1] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  auto framed = [&](MessageType type) { return seal ? seal_frame(type, rest) : std::string(rest); };
  switch (which) {
    case 0: round_trip<PushRequest>(framed(MessageType::push_request), [](auto b, auto l) { return decode_push_request(b, l); }); break;
    case 1: round_trip<PushReply>(framed(MessageType::push_reply), [](auto b, auto l) { return decode_push_reply(b, l); }); break;
    case 2: round_trip<PullRequest>(framed(MessageType::pull_request), [](auto b, auto l) { return decode_pull_request(b, l); }); break;
    case 3: round_trip<PullPage>(framed(MessageType::pull_page), [](auto b, auto l) { return decode_pull_page(b, l); }); break;
    case 4: round_trip<ErrorReply>(framed(MessageType::error_reply), [](auto b, auto l) { return decode_error_reply(b, l); }); break;
    case 5: (void)decode_signed_request(rest, fuzz_limits()); break;
    case 6: (void)decode_enrol_request(rest, fuzz_limits()); break;
    case 7: {
      (void)decode_enrol_reply_or_error(rest, fuzz_limits());
      (void)decode_grant(rest, fuzz_limits());
      (void)version_refusal(rest);
      break;
    }
    case 8: {
      auto t = decode_token(rest);
      if (t.ok() && !decode_token(encode_token(t.value())).ok()) std::abort();
      break;
    }
  }
  return 0;
}
