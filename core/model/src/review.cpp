// The derived review state (review.hpp).
#include "tz/model/review.hpp"
#include "tz/util/sorted.hpp"

#include <algorithm>

namespace tz {

namespace {

constexpr std::string_view kApprove = "approve:", kReturn = "return:";

std::vector<VersionId> live_except(const std::vector<const Entity*>& record, FieldId review_field) {
  std::vector<VersionId> out;
  for (size_t i = 0; i < record.size(); ++i)
    for (auto& [f, fv] : record[i]->fields)
      if (i > 0 || f != review_field)
        for (auto& v : fv.live) out.push_back(v.id);
  sort_unique(out);
  return out;
}

}  // namespace

std::string approval_value(const std::vector<const Entity*>& record, FieldId review_field) {
  std::string out(kApprove);
  bool first = true;
  for (auto& id : live_except(record, review_field)) {
    out += (first ? "" : ",") + id.str();
    first = false;
  }
  return out;
}

std::string return_value(std::string_view reason) { return std::string(kReturn) + std::string(reason); }

ReviewStatus review_status(const std::vector<const Entity*>& record, FieldId review_field) {
  ReviewStatus s;
  if (record.empty()) return s;
  const std::string* v = record[0]->value(review_field);
  if (!v || v->empty()) return s;
  if (v->rfind(kReturn, 0) == 0) {
    s.state = ReviewState::returned;
    s.reason = v->substr(kReturn.size());
    return s;
  }
  if (v->rfind(kApprove, 0) != 0) return s;
  std::string_view rest = std::string_view(*v).substr(kApprove.size());
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto colon = item.find(':');
    if (colon != std::string_view::npos) {
      auto dev = DeviceId::from_hex(item.substr(0, colon));
      const std::string_view seq = item.substr(colon + 1);
      if (dev && !seq.empty() && seq.size() <= 18 && std::all_of(seq.begin(), seq.end(), [](char c) { return c >= '0' && c <= '9'; }))
        s.approved.push_back(VersionId{*dev, Seq{std::stoull(std::string(seq))}});
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(s.approved.begin(), s.approved.end());
  s.state = live_except(record, review_field) == s.approved ? ReviewState::approved : ReviewState::pending;
  return s;
}

std::string review_state_label(ReviewState s, Lang lang) {
  const bool zh = lang == Lang::zh;
  switch (s) {
    case ReviewState::unreviewed: return zh ? "未审核" : "not reviewed";
    case ReviewState::approved: return zh ? "已通过" : "approved";
    case ReviewState::pending: return zh ? "待复核" : "to review again";
    case ReviewState::returned: return zh ? "已退回" : "sent back";
  }
  return "";
}

bool reviewer_only(const FieldDef& f) { return f.name == kReviewFieldName; }

Problem reviewer_only_problem(const FieldDef& f) {
  return Problem{"reviewer_only", Severity::error, f.name, "“" + f.label_zh + "”只能由县审核人员设定",
                 "\"" + f.label_en + "\" can only be set by the county's reviewers"};
}

}  // namespace tz
