// The collector's view of what sync brought back: conflicts (fields with more than one value), their
// resolution, and the county's notices (quarantined, released, rejected, redirected, clock).
#include "command.hpp"
#include "tz/cli/conflicts.hpp"
#include "tz/model/id_number.hpp"
#include "tz/crypto/crypto.hpp"
#include "tz/ops/device_sync.hpp"
#include "tz/ops/review.hpp"

namespace tz::cli {

namespace {

const char* colon(Lang lang) { return lang == Lang::zh ? "：" : ": "; }

}  // namespace

// Who or what an entity is, for a line a collector reads: a person by name and (masked) ID, a
// household by 村代码/户编号, anything else by its type and the person or household it belongs to.
std::string Command::describe_entity(const DeviceStore& store, EntityType type, const EntityId& id, int depth) {
  const Schema& schema = store.schema();
  const auto& es = schema.entity(type);
  auto row = store.get_row(id);
  if (!row) return es.label(lang_) + " " + id.hex().substr(0, 8);
  const Entity& e = row->entity;
  switch (type) {
    case EntityType::person: {
      std::string out = es.label(lang_) + " " + e.value_or(es.require("name").id, "?");
      std::string idv = e.value_or(es.require("id_number").id);
      if (!idv.empty()) out += "（" + (args_.flags.count("full-ids") ? idv : idn::mask_id(idv)) + "）";
      return out;
    }
    case EntityType::household:
      return es.label(lang_) + " " + e.value_or(es.require("village_code").id, "?") + "/" +
             e.value_or(es.require("household_no").id, "?");
    default: {
      std::string out = es.label(lang_) + " " + id.hex().substr(0, 8);
      if (row->parent && depth == 0)
        if (auto parent = store.get_row(*row->parent))
          out += "（" + describe_entity(store, parent->entity.type, *row->parent, depth + 1) + "）";
      return out;
    }
  }
}

std::string Command::shown_field_value(const FieldDef* f, const std::string& v) {
  return shown_value(f, v, lang_, args_.flag("full-ids"));
}

int Command::cmd_conflicts() {
  expect_words(1, "");
  auto store = open_store();
  print_conflicts(io(), store->schema(), ops::list_conflicts(*store, text::trim(args_.get("region"))),
                  args_.flag("full-ids"));
  return 0;
}

int Command::cmd_resolve() {
  if (args_.words.size() < 3) throw CliError{2, tr(lang_, "missing_argument", {tr(lang_, "arg_resolve")})};
  expect_words(3, "");
  if (args_.has("pick") == args_.has("value")) throw CliError{2, tr(lang_, "resolve_how")};
  auto store = open_store();
  const std::string who = collector(*store);
  auto tree = tree_of(*store);
  int64_t now = now_ms();
  ValidationContext ctx = validation_context(*store, tree ? &*tree : nullptr, china_date_of(now));
  auto id = ops::locate(*store, args_.words[1], ctx.today);
  if (!id) fail(id.error());
  ops::Resolution how;
  if (args_.has("pick")) how.pick = args_.get("pick");
  if (args_.has("value")) how.value = args_.get("value");
  auto r = ops::resolve_conflict(*store, *id, args_.words[2], how, ops::EditContext{who, now}, ctx);
  if (!r) fail(r.error());
  auto type = store->get_row(*id)->entity.type;
  const FieldDef* f = store->schema().entity(type).find_field(text::trim(args_.words[2]));
  std::string label = f ? f->label(lang_) : tr(lang_, "deletion_field");
  std::string value = shown_field_value(f, r->value);
  if (json_) {
    print_json(resolved_json(type, *id, f, value, *r, who));
    return 0;
  }
  out_ << tr(lang_, "resolved", {describe_entity(*store, type, *id), label, value, std::to_string(r->replaced.size()), who})
       << "\n";
  return 0;
}

// audit head: the highest audit-chain head this device has seen, to be checked at the county
// (sync-server audit verify --head SEQ:HASH): a chain shorter than a device has seen was truncated.
int Command::cmd_audit_head() {
  expect_words(2, "");
  auto store = open_store();
  auto head = ops::kept_audit_head(*store);
  if (!head) {
    if (json_) print_json({{"ok", true}, {"seq", nullptr}, {"hash", nullptr}});
    else out_ << tr(lang_, "audit_head_none") << "\n";
    return 0;
  }
  const std::string hash = crypto::to_hex(head->hash);
  if (json_) {
    print_json({{"ok", true}, {"seq", head->seq}, {"hash", hash}, {"check", std::to_string(head->seq) + ":" + hash}});
    return 0;
  }
  out_ << tr(lang_, "audit_head", {std::to_string(head->seq), hash}) << "\n";
  return 0;
}

int Command::cmd_notices() {
  expect_words(1, "");
  auto store = open_store();
  auto list = ops::list_notices(*store);
  json jl = json::array();
  for (auto& n : list) {
    const auto& sn = n.notice;
    bool about_entity = !sn.entity.is_zero();
    std::string value = n.value ? shown_field_value(n.field, *n.value) : "";
    json j = {{"server_seq", sn.server_seq},
              {"kind", ops::notice_kind_name(sn.kind)},
              {"kind_label", ops::notice_kind_label(sn.kind, lang_)},
              {"reason", lang_ == Lang::zh ? sn.reason_zh : sn.reason_en}};
    if (about_entity) {
      j["type"] = entity_type_name(sn.type);
      j["id"] = sn.entity.hex();
      j["record"] = describe_entity(*store, sn.type, sn.entity);
      j["field"] = n.field ? n.field->name : "";
      j["label"] = n.field ? n.field->label(lang_) : "";
      j["version"] = sn.version.str();
      if (n.value) j["value"] = value;
    }
    jl.push_back(j);
  }
  // Households and people the county sent back: shown until approved again (SPEC §8).
  std::vector<std::pair<ops::ReviewItem, std::string>> sent_back;  // with the record as described
  for (auto& item : ops::review_items(*store))
    if (item.status.state == ReviewState::returned) sent_back.emplace_back(item, describe_entity(*store, item.type, item.record));
  json jr = json::array();
  for (auto& [item, record] : sent_back)
    jr.push_back({{"type", entity_type_name(item.type)}, {"id", item.record.hex()}, {"record", record}, {"reason", item.status.reason}});
  if (json_) {
    print_json({{"ok", true}, {"count", list.size()}, {"notices", jl}, {"sent_back", jr}});
    return 0;
  }
  for (auto& [item, record] : sent_back)
    out_ << "  " << tr(lang_, "sent_back_line", {record}) << colon(lang_) << item.status.reason << "\n";
  if (list.empty()) {
    if (sent_back.empty()) out_ << tr(lang_, "no_notices") << "\n";
    return 0;
  }
  out_ << tr(lang_, "notices_count", {std::to_string(list.size())}) << "\n";
  for (auto& n : list) {
    const auto& sn = n.notice;
    out_ << "  [" << sn.server_seq << "] " << ops::notice_kind_label(sn.kind, lang_);
    if (!sn.entity.is_zero()) {
      out_ << "  " << describe_entity(*store, sn.type, sn.entity);
      if (n.field) out_ << "  " << n.field->label(lang_);
      if (n.value) out_ << " = " << shown_field_value(n.field, *n.value);
    }
    const std::string& reason = lang_ == Lang::zh ? sn.reason_zh : sn.reason_en;
    if (!reason.empty()) out_ << colon(lang_) << reason;
    out_ << "\n";
  }
  return 0;
}

}  // namespace tz::cli
