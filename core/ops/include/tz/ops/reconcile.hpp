// Reconciliation (比对, SPEC §8; decision 301): an external list — a 社保缴纳 export, a 用工备案 list or
// the national system's weekly export — compared person by person with the store's people, matched
// by the normalised 身份证号 (a 15-digit ID and its 18-digit form are one person). The report lists
// who is only ours, who is only theirs, and field-level disagreements: name, employer, place bucket
// (县内 / 省内县外 / 省外 / 境外) and insured.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tz/ops/lists.hpp"
#include "tz/ops/roster_import.hpp"
#include "tz/store/device_store.hpp"
#include "tz/sync/server_store.hpp"

namespace tz::ops {

// Which people of ours the list is expected to hold, so that "only ours" means something:
//  social_insurance (社保): those whose current job is insured; a file without a 参保 column counts
//    every row as insured;
//  employment_filing (用工备案): the employed;
//  national (国家系统) and any (no --kind): everyone.
enum class ReconcileKind { any, social_insurance, employment_filing, national };
// 社保 / 社保缴纳 / social_insurance, 用工备案 / employment_filing, 国家系统 / national; nullopt otherwise.
std::optional<ReconcileKind> parse_reconcile_kind(std::string_view text);
// The department whose system a list comes from, who alone reconciles it over the API (decision 317):
// rsj (人社局) for 社保缴纳 and 用工备案, fpb (扶贫办) for the national system's export; "" for any.
std::string reconcile_owner(ReconcileKind kind);
std::string reconcile_kind_label(ReconcileKind k, Lang lang);

// An employer's name as compared: full-width forms folded, spaces dropped.
std::string employer_key(const std::string& name);

struct ReconcileOptions {
  ReconcileKind kind = ReconcileKind::any;
  std::string region;                                   // village, township or county code; "" = all
  std::function<bool(const std::string& village)> in_scope;  // the caller's scope; empty = everything
  CivilDate today;                                      // for checking ID numbers
};

struct Discrepancy {
  enum class Kind { ours_only, theirs_only, field };
  Kind kind = Kind::ours_only;
  std::string id18;     // normalised ID (18 characters)
  std::string name;     // ours when we have the person, else theirs
  std::string village;  // ours ("" for theirs only)
  size_t line = 0;      // the external file's line (0 for ours only)
  std::string field;    // field kind: name, employer, bucket, insured
  std::string ours, theirs;  // field kind: the values as shown (Chinese labels for buckets and 是/否)
  EntityId person;      // ours (zero for theirs only)
};

struct ReconcileReport {
  ReconcileKind kind = ReconcileKind::any;
  std::string encoding;                 // as import reports it
  std::vector<std::string> compared;    // the fields compared: name, employer, bucket, insured
  size_t ours = 0;                      // our people the list is expected to hold (in scope)
  size_t theirs = 0;                    // rows of the file
  size_t matched = 0;                   // rows matching one of our people in scope
  size_t outside_scope = 0;             // rows matching one of our people outside the scope (not shown)
  std::vector<Discrepancy> rows;        // ours only (our order), field (our order), theirs only (file order)
  std::vector<ImportProblem> problems;  // bad rows: when any, nothing else is filled in
  // 用工备案 lists: the rows of the file per employer (employer_key), whatever the scope.
  std::map<std::string, uint64_t> employer_headcounts;
  size_t count(Discrepancy::Kind k) const;
  size_t persons_with_field_differences() const;
};

// The filed headcounts kept in the server store (meta kMetaFiledHeadcounts: "count\temployer key" per
// line), replaced by each 用工备案 list reconciled; read by verify's employer rule.
inline constexpr const char* kMetaFiledHeadcounts = "filed_headcounts";
std::map<std::string, uint64_t> filed_headcounts(const sync::ServerStore& server);
// After a reconciliation (the command's or the API's, decision 312): a 用工备案 list without problems
// replaces the filed headcounts with its employer_headcounts, in one write transaction, and true is
// returned; any other kind, or a refused list, keeps nothing (false).
Result<bool> keep_filed_headcounts(sync::ServerStore& server, const ReconcileReport& r);

// An Error when the file cannot be read as a whole (encoding, empty, no 姓名 or 身份证号 column, the
// period unset); a report with problems when rows are bad (every one, with line and column).
Result<ReconcileReport> reconcile(const DeviceStore& store, std::string_view file_bytes, const ReconcileOptions& o);

// The report as a table: 序号, 类别, 姓名, 身份证号 (masked unless full_ids), 村代码, 字段, 我方, 对方, 对方行号.
Table reconcile_table(const ReconcileReport& r, Lang lang, bool full_ids);
// The summary as a two-column table (项目, 数量).
Table reconcile_summary_table(const ReconcileReport& r, Lang lang);

}  // namespace tz::ops
