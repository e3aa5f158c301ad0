// The collector's daily commands: add (form or --set), edit, show, find, validate, status.
#include <map>

#include "command.hpp"
#include "form.hpp"
#include "tz/crypto/natural_keys.hpp"
#include "tz/model/derive.hpp"
#include "tz/model/id_number.hpp"
#include "tz/ops/find.hpp"
#include "tz/ops/population.hpp"
#include "tz/ops/review.hpp"
#include "tz/ops/status.hpp"

namespace tz::cli {

namespace {

const char* colon(Lang lang) { return lang == Lang::zh ? "：" : ": "; }

std::string percent(size_t part, size_t whole) {
  if (whole == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

// Splits --set inputs between two entity types (a person's form may also name its household).
std::pair<std::vector<std::string>, std::vector<std::string>> split_sets(const std::vector<std::string>& sets,
                                                                         const EntitySchema& first,
                                                                         const EntitySchema& second) {
  std::vector<std::string> a, b;
  for (auto& s : sets) {
    std::string key = text::trim(s.substr(0, s.find('=')));
    if (!first.find_field(key) && second.find_field(key))
      b.push_back(s);
    else
      a.push_back(s);
  }
  return {a, b};
}

FieldValues values_of(const std::vector<ops::FieldInput>& inputs) {
  FieldValues v;
  for (auto& in : inputs) v[in.field->id] = in.value.value;
  return v;
}

}  // namespace

ValidationContext Command::validation_context(const DeviceStore& store, const region::RegionTree* tree,
                                              const CivilDate& today) {
  ValidationContext ctx;
  ctx.today = today;
  ctx.period_year = store.info().config.period.year;
  ctx.settings = &store.schema().settings();
  ctx.counties = &resources().counties;
  ctx.tree = tree;
  return ctx;
}

std::string Command::person_summary(const DeviceStore& store, const EntityId& id) {
  const auto& ps = store.schema().entity(EntityType::person);
  auto e = store.get(id);
  if (!e) return id.hex();
  std::string out = e->value_or(ps.require("name").id);
  std::string idn = e->value_or(ps.require("id_number").id);
  if (!idn.empty()) out += "（" + (args_.flags.count("full-ids") ? idn : idn::mask_id(idn)) + "）";
  for (auto* f : {"relation", "labour_ability", "declared_status", "phone"}) {
    const FieldDef& fd = ps.require(f);
    if (auto* v = e->value(fd.id); v && !v->empty()) out += " " + fd.label(lang_) + colon(lang_) + display_value(fd, *v, lang_);
  }
  return out;
}

int Command::save_and_report(DeviceStore& store, const std::vector<ops::Draft>& drafts, const std::string& collector,
                             int64_t now, const ValidationContext& ctx, const std::string& what) {
  auto r = ops::save_drafts(store, drafts, ops::EditContext{collector, now}, ctx);
  if (!r) fail(r.error());
  for (auto& [i, p] : r->problems) {
    std::string sev = tr(lang_, p.severity == Severity::error ? "severity_error" : "severity_warning");
    (p.severity == Severity::error ? err_ : out_) << sev << colon(lang_) << p.message(lang_) << "（" << p.rule_id << "）\n";
  }
  if (!r->saved) throw CliError{1, tr(lang_, "not_saved_errors")};
  if (json_) {
    json ids = json::array();
    for (auto& d : drafts) ids.push_back({{"type", entity_type_name(d.type)}, {"id", d.id.hex()}});
    print_json({{"ok", true}, {"changes", r->changes}, {"records", ids}});
  } else {
    out_ << tr(lang_, "saved", {what, std::to_string(r->changes), collector}) << "\n";
  }
  return 0;
}

int Command::cmd_add() {
  expect_words(2, tr(lang_, "arg_add_kind"));
  const std::string kind = args_.words[1];
  auto type = entity_type_from_name(kind);
  if (!type || *type == EntityType::subsidy) throw CliError{2, tr(lang_, "bad_add_kind", {kind})};
  auto store = open_store();
  const std::string who = collector(*store);
  auto tree = tree_of(*store);
  int64_t now = now_ms();
  ValidationContext ctx = validation_context(*store, tree ? &*tree : nullptr, china_date_of(now));
  const Schema& schema = store->schema();
  const auto& hs = schema.entity(EntityType::household);
  const auto& ps = schema.entity(EntityType::person);
  const auto& js = schema.entity(EntityType::job);
  const auto& vs = schema.entity(EntityType::visit);
  const auto& keys = store->natural_keys();
  const bool scripted = !args_.all("set").empty();
  const FieldId f_village = hs.require("village_code").id, f_hhno = hs.require("household_no").id;
  const FieldId f_name = ps.require("name").id, f_id = ps.require("id_number").id;

  Form form(in_, out_, lang_, ctx);
  if (!scripted) install_form_interrupt_handler(lang_);
  std::vector<ops::Draft> drafts;

  // The household a person or a household form is about: 村代码 + 户编号.
  auto household_draft = [&](FieldValues given) -> ops::Draft {
    if (!scripted) {
      form.ask_field(hs, hs.require("village_code"), {}, given);
      if (given.count(f_village) && tree)
        if (auto* r = tree->find(given[f_village])) form.say("  → " + r->name);
      form.ask_field(hs, hs.require("household_no"), {}, given);
    }
    if (!given.count(f_village) || !given.count(f_hhno))
      throw CliError{1, tr(lang_, "household_needed")};
    ops::Draft d{EntityType::household, keys.household(given[f_village], given[f_hhno]), {}};
    auto existing_hh = store->get(d.id);
    auto stored = ops::shown_values(existing_hh ? &*existing_hh : nullptr);
    if (!stored.empty()) {
      if (!scripted) form.say(tr(lang_, "household_exists", {stored.count(hs.require("head_name").id) ? stored[hs.require("head_name").id] : "-"}));
    } else {
      if (!scripted) {
        form.say(tr(lang_, "household_new"));
        form.ask_fields(hs, stored, given);
      }
    }
    for (auto& [f, v] : given)
      if (!stored.count(f) || stored[f] != v) d.values[f] = v;
    return d;
  };

  // Who a job or a visit is for: --for, or asked.
  auto subject = [&](const char* prompt_key) -> EntityId {
    std::string ref = args_.get("for");
    if (ref.empty()) {
      if (scripted) throw CliError{2, tr(lang_, "missing_option", {"--for"})};
      auto a = form.ask_text(tr(lang_, prompt_key));
      if (!a) throw CliError{1, tr(lang_, "not_saved")};
      ref = *a;
    }
    auto id = ops::locate(*store, ref, ctx.today);
    if (!id) fail(id.error());
    return *id;
  };

  try {
    if (*type == EntityType::household) {
      FieldValues given;
      if (scripted) given = values_of(ops::parse_inputs(hs, args_.all("set"), ctx).take());
      drafts.push_back(household_draft(given));
      if (!scripted && !drafts.back().values.empty()) form.review(hs, drafts.back().values);
    } else if (*type == EntityType::person) {
      FieldValues person_given, household_given;
      if (scripted) {
        auto [p_sets, h_sets] = split_sets(args_.all("set"), ps, hs);
        person_given = values_of(ops::parse_inputs(ps, p_sets, ctx).take());
        household_given = values_of(ops::parse_inputs(hs, h_sets, ctx).take());
      }
      // The person: asked field by field; a known ID warns and shows the existing person.
      ops::Draft hh;
      FieldValues stored;
      std::optional<EntityId> existing;
      auto check_known = [&](const FieldValues& answers) {
        if (existing || !answers.count(f_id)) return;
        auto c = idn::check_id(answers.at(f_id), ctx.today);
        if (!c.ok()) return;
        existing = ops::person_by_id_number(*store, c.id18);
        if (!existing) return;
        std::string summary = person_summary(*store, *existing);
        if (scripted) throw CliError{1, tr(lang_, "person_exists_scripted", {summary})};
        form.say(tr(lang_, "person_exists", {summary}));
        if (!form.confirm(tr(lang_, "edit_existing_instead"), true)) throw CliError{1, tr(lang_, "not_saved")};
        // From here on this is an edit of that person: the stored values are the defaults, the
        // household stays the person's own, and the name typed before is asked again.
        auto e = store->get(*existing);
        stored = ops::shown_values(e ? &*e : nullptr);
        person_given.erase(f_name);
        hh = ops::Draft{EntityType::household, EntityId::from_hex(stored[ps.require("household_id").id]).value_or(hh.id), {}};
        form.say(tr(lang_, "editing_existing"));
        form.forget(ps, ps.require("name"));
        form.ask_field(ps, ps.require("name"), stored, person_given);
      };
      hh = household_draft(household_given);
      if (!scripted) {
        form.ask_field(ps, ps.require("name"), stored, person_given);
        form.ask_field(ps, ps.require("id_number"), stored, person_given);
        check_known(person_given);
        form.ask_fields(ps, stored, person_given);
      } else {
        check_known(person_given);
      }
      if (!existing) person_given[ps.require("household_id").id] = hh.id.hex();
      EntityId pid;
      if (existing) {
        pid = *existing;
      } else if (person_given.count(f_id)) {
        pid = keys.person(idn::check_id(person_given[f_id], ctx.today).id18);
      } else {
        pid = keys.person_without_id(hh.id, person_given.count(f_name) ? person_given[f_name] : "");
      }
      ops::Draft person{EntityType::person, pid, {}};
      for (auto& [f, v] : person_given)
        if (!stored.count(f) || stored[f] != v) person.values[f] = v;
      if (!hh.values.empty()) drafts.push_back(hh);
      drafts.push_back(person);
      // Employed: the current job, in the same save. Not employed: 外出意愿 was asked instead.
      std::string declared = person_given.count(ps.require("declared_status").id) ? person_given[ps.require("declared_status").id] : "";
      if (!scripted && declared.size() > 3 && declared.substr(declared.size() - 2) == "01" &&
          form.confirm(tr(lang_, "add_job_now"), true)) {
        FieldValues job;
        job[js.require("person_id").id] = pid.hex();
        form.set_person_birth(birth_of_id(person_given.count(f_id) ? person_given[f_id] : stored[f_id]));
        form.ask_fields(js, {}, job);
        drafts.push_back(ops::Draft{EntityType::job, crypto::random_entity_id(), job});
      }
      if (!scripted) {
        if (!hh.values.empty()) form.review(hs, hh.values);
        form.review(ps, person_given, stored);
        if (drafts.back().type == EntityType::job) form.review(js, drafts.back().values);
      }
    } else if (*type == EntityType::job) {
      EntityId pid = subject("ask_job_person");
      if (auto row = store->get_row(pid); !row || row->entity.type != EntityType::person)
        throw CliError{1, tr(lang_, "not_a_person")};
      if (!scripted) form.say("  → " + person_summary(*store, pid));
      if (auto pe = store->get(pid)) form.set_person_birth(birth_of_id(pe->value_or(f_id)));
      FieldValues job;
      if (scripted) job = values_of(ops::parse_inputs(js, args_.all("set"), ctx).take());
      job[js.require("person_id").id] = pid.hex();
      if (!scripted) {
        form.ask_fields(js, {}, job);
        form.review(js, job);
      }
      drafts.push_back(ops::Draft{EntityType::job, crypto::random_entity_id(), job});
    } else if (*type == EntityType::visit) {
      EntityId sid = subject("ask_visit_subject");
      FieldValues visit;
      if (scripted) visit = values_of(ops::parse_inputs(vs, args_.all("set"), ctx).take());
      visit[vs.require("subject_id").id] = sid.hex();
      visit[vs.require("visitor").id] = who;
      if (!scripted) {
        form.ask_fields(vs, {}, visit);
        form.review(vs, visit);
      } else {
        for (auto& f : vs.fields)  // defaults apply to scripts too (date = today, method = 入户)
          if (!visit.count(f.id) && !f.default_value.empty())
            visit[f.id] = f.default_value == "today" ? format_date(ctx.today) : f.default_value;
      }
      drafts.push_back(ops::Draft{EntityType::visit, crypto::random_entity_id(), visit});
    }
    if (!scripted && !form.confirm(tr(lang_, "confirm_save"), true)) throw CliError{1, tr(lang_, "not_saved")};
  } catch (const FormAborted&) {
    throw CliError{1, tr(lang_, "not_saved")};
  }
  bool nothing = true;
  for (auto& d : drafts) nothing = nothing && d.values.empty();
  if (nothing) {
    out_ << tr(lang_, "nothing_changed") << "\n";
    return 0;
  }
  return save_and_report(*store, drafts, who, now, ctx, schema.entity(*type).label(lang_));
}

int Command::cmd_edit() {
  expect_words(2, tr(lang_, "arg_record"));
  auto store = open_store();
  const std::string who = collector(*store);
  auto tree = tree_of(*store);
  int64_t now = now_ms();
  ValidationContext ctx = validation_context(*store, tree ? &*tree : nullptr, china_date_of(now));
  auto id = ops::locate(*store, args_.words[1], ctx.today);
  if (!id) fail(id.error());
  auto row = store->get_row(*id);
  const EntitySchema& es = store->schema().entity(row->entity.type);
  FieldValues stored = ops::shown_values(&row->entity);
  FieldValues answers;
  if (!args_.all("set").empty()) {
    answers = values_of(ops::parse_inputs(es, args_.all("set"), ctx).take());
  } else {
    // No --set: the form, with the stored values as defaults.
    Form form(in_, out_, lang_, ctx);
    install_form_interrupt_handler(lang_);
    try {
      form.ask_fields(es, stored, answers);
      FieldValues changed;
      for (auto& [f, v] : answers)
        if (!stored.count(f) || stored[f] != v) changed[f] = v;
      answers = changed;
      if (answers.empty()) {
        out_ << tr(lang_, "nothing_changed") << "\n";
        return 0;
      }
      form.review(es, answers);
      if (!form.confirm(tr(lang_, "confirm_save"), true)) throw CliError{1, tr(lang_, "not_saved")};
    } catch (const FormAborted&) {
      throw CliError{1, tr(lang_, "not_saved")};
    }
  }
  ops::Draft d{row->entity.type, *id, {}};
  for (auto& [f, v] : answers)
    if (!stored.count(f) || stored[f] != v || row->entity.fields.at(f).conflict()) d.values[f] = v;
  if (d.values.empty()) {
    out_ << tr(lang_, "nothing_changed") << "\n";
    return 0;
  }
  return save_and_report(*store, {d}, who, now, ctx, es.label(lang_));
}

int Command::cmd_show() {
  expect_words(2, tr(lang_, "arg_record"));
  auto store = open_store();
  int64_t now = now_ms();
  auto id = ops::locate(*store, args_.words[1], china_date_of(now));
  if (!id) fail(id.error());
  auto row = store->get_row(*id);
  const Schema& schema = store->schema();
  const EntitySchema& es = schema.entity(row->entity.type);
  const bool full = args_.flags.count("full-ids") > 0;
  auto shown_value = [&](const FieldDef& f, const std::string& v) {
    // The review decision: what was decided, not the list of versions it names.
    if (f.name == "review" && ops::reviewable(schema, row->entity.type))
      return v.rfind("return:", 0) == 0 ? tr(lang_, "review_returned", {v.substr(7)}) : tr(lang_, "review_approved");
    std::string s = display_value(f, v, lang_);
    return f.type == FieldType::id_number && !full ? idn::mask_id(s) : s;
  };
  auto attribution = [&](const Version& v) {
    return tr(lang_, "attribution", {v.collector, format_china_time(v.device_ms), v.id.device.hex().substr(0, 8),
                                     std::to_string(v.id.seq.value)});
  };
  json j = {{"ok", true}, {"type", entity_type_name(row->entity.type)}, {"id", id->hex()}, {"village", row->village}};
  json jfields = json::array();
  if (!json_) out_ << es.label(lang_) << " " << id->hex() << "\n";
  for (auto& f : es.fields) {
    auto it = row->entity.fields.find(f.id);
    if (it == row->entity.fields.end() || it->second.live.empty()) {
      // Every field is listed: what is still missing matters as much as what is there.
      if (!json_ && f.prompt) out_ << "  " << f.label(lang_) << colon(lang_) << tr(lang_, "not_filled") << "\n";
      continue;
    }
    const auto& fv = it->second;
    json jf = {{"field", f.name}, {"label", f.label(lang_)}, {"conflict", fv.conflict()}, {"versions", json::array()}};
    for (auto& v : fv.live)
      jf["versions"].push_back({{"value", shown_value(f, v.value)},
                                {"version", v.id.str()},
                                {"collector", v.collector},
                                {"device_time", format_china_time(v.device_ms)}});
    jfields.push_back(jf);
    if (json_) continue;
    const Version* top = fv.shown();
    out_ << "  " << f.label(lang_) << colon(lang_) << shown_value(f, top->value);
    if (fv.conflict()) out_ << "  " << tr(lang_, "conflict_marker");
    out_ << "\n";
    for (auto& v : fv.live)
      out_ << "      " << (fv.conflict() ? shown_value(f, v.value) + "  " : "") << attribution(v) << "\n";
  }
  j["fields"] = jfields;
  // A person: household, jobs, visits and the derived status for the period.
  if (row->entity.type == EntityType::person && store->info().config.period.is_set()) {
    // The person's household, jobs and visits through the parent index (not the whole store).
    std::vector<EntityRow> kids = store->children(*id), household_kids;
    std::optional<Entity> household;
    if (row->parent) {
      household = store->get(*row->parent);
      household_kids = store->children(*row->parent);
    }
    PersonFacts facts;
    facts.person = &row->entity;
    facts.household = household ? &*household : nullptr;
    for (auto& k : kids)
      if (k.entity.type == EntityType::job || k.entity.type == EntityType::visit)
        (k.entity.type == EntityType::job ? facts.jobs : facts.visits).push_back(&k.entity);
    for (auto& k : household_kids)
      if (k.entity.type == EntityType::visit) facts.visits.push_back(&k.entity);
    Deriver deriver(schema, store->info().config.period);
    auto d = deriver.derive(facts);
    auto fc = four_clears(d, (row->flags & kFlagIdentityOk) != 0);
    const auto& bucket_field = schema.entity(EntityType::job).require("place_bucket");
    std::string bucket = d.bucket.empty() ? "-" : display_value(bucket_field, d.bucket, lang_);
    j["derived"] = {{"employed", d.employed}, {"bucket", d.bucket}, {"months", d.months}, {"in_labour_count", d.in_labour_count},
                    {"four_clears", {{"identity", fc.identity}, {"labour", fc.labour}, {"status", fc.status}, {"willingness", fc.willingness}}}};
    j["jobs"] = json::array();
    for (auto* job : facts.jobs) j["jobs"].push_back(job->id.hex());
    j["visits"] = json::array();
    for (auto* v : facts.visits) j["visits"].push_back(v->id.hex());
    if (!json_) {
      out_ << tr(lang_, "derived_line", {std::to_string(store->info().config.period.year),
                                         tr(lang_, d.employed ? "employed" : "not_employed"), bucket,
                                         std::to_string(d.months)})
           << "\n";
      auto yn = [&](bool b) { return tr(lang_, b ? "clear_yes" : "clear_no"); };
      out_ << tr(lang_, "four_clears_line", {yn(fc.identity), yn(fc.labour), yn(fc.status), yn(fc.willingness)}) << "\n";
      const auto& js = schema.entity(EntityType::job);
      for (auto* job : facts.jobs)
        out_ << "  " << js.label(lang_) << " " << job->id.hex() << colon(lang_)
             << job->value_or(js.require("start_month").id, "?") << "~" << job->value_or(js.require("end_month").id, "")
             << " " << job->value_or(js.require("employer").id) << "\n";
      const auto& vs = schema.entity(EntityType::visit);
      for (auto* v : facts.visits)
        out_ << "  " << vs.label(lang_) << colon(lang_) << v->value_or(vs.require("date").id) << " "
             << display_value(vs.require("method"), v->value_or(vs.require("method").id), lang_) << " "
             << v->value_or(vs.require("visitor").id) << "\n";
    }
    // The subsidies the county recorded for the person (sync-server subsidies record / paid).
    const auto& ss = schema.entity(EntityType::subsidy);
    const FieldDef &s_kind = ss.require("kind"), &s_status = ss.require("status");
    const FieldId s_amount = ss.require("amount").id, s_period = ss.require("period").id;
    j["subsidies"] = json::array();
    for (auto& k : kids) {
      if (k.entity.type != EntityType::subsidy) continue;
      const Entity& sub = k.entity;
      j["subsidies"].push_back({{"id", sub.id.hex()}, {"kind", sub.value_or(s_kind.id)}, {"amount", sub.value_or(s_amount)},
                                {"period", sub.value_or(s_period)}, {"status", sub.value_or(s_status.id)}});
      if (!json_)
        out_ << "  " << ss.label(lang_) << " " << sub.id.hex() << colon(lang_) << sub.value_or(s_period) << " "
             << display_value(s_kind, sub.value_or(s_kind.id), lang_) << " " << sub.value_or(s_amount) << " "
             << display_value(s_status, sub.value_or(s_status.id), lang_) << "\n";
    }
  }
  // The county's review (SPEC §8), derived from the record (a person with their jobs, a household).
  if (ops::reviewable(schema, row->entity.type)) {
    const ReviewStatus review = ops::review_status_of(*store, *id);
    j["review"] = {{"state", review_state_label(review.state, Lang::en)},
                   {"label", review_state_label(review.state, lang_)},
                   {"reason", review.reason}};
    if (!json_)
      out_ << tr(lang_, "review_line", {review_state_label(review.state, lang_)})
           << (review.reason.empty() ? "" : colon(lang_) + review.reason) << "\n";
  }
  // A household: its members.
  if (row->entity.type == EntityType::household) {
    json members = json::array();
    for (auto& child : store->children(*id))
      if (child.entity.type == EntityType::person) {
        members.push_back(child.entity.id.hex());
        if (!json_) out_ << "  " << tr(lang_, "member") << colon(lang_) << person_summary(*store, child.entity.id) << "\n";
      }
    j["members"] = members;
  }
  // History: this device's changes to the record, oldest first.
  json jhist = json::array();
  if (!json_) out_ << tr(lang_, "history") << "\n";
  for (auto& c : store->changes_after(0)) {
    if (c.entity != *id) continue;
    const FieldDef* f = es.field(c.field);
    std::string label = f ? f->label(lang_) : std::to_string(c.field);
    std::string value = f ? shown_value(*f, c.value) : c.value;
    jhist.push_back({{"version", c.version.str()}, {"field", f ? f->name : ""}, {"value", value}, {"collector", c.collector},
                     {"device_time", format_china_time(c.device_ms)}, {"replaces", c.base.size()}});
    if (!json_)
      out_ << "  " << format_china_time(c.device_ms) << "  " << c.collector << "  " << label << " = " << value << "\n";
  }
  j["history"] = jhist;
  if (json_) print_json(j);
  return 0;
}

int Command::cmd_find() {
  if (args_.words.size() < 2) throw CliError{2, tr(lang_, "missing_argument", {tr(lang_, "arg_text")})};
  std::string q;
  for (size_t i = 1; i < args_.words.size(); ++i) q += (i > 1 ? " " : "") + args_.words[i];
  auto store = open_store();
  auto tree = tree_of(*store);
  auto hits = ops::find_people(*store, q, china_date_of(now_ms()));
  const bool full = args_.flags.count("full-ids") > 0;
  if (json_) {
    json arr = json::array();
    for (auto& h : hits)
      arr.push_back({{"id", h.id.hex()}, {"village", h.village}, {"household_no", h.household_no}, {"name", h.name},
                     {"id_number", full ? h.id_number : idn::mask_id(h.id_number)}, {"phone", h.phone}, {"matched_by", h.matched_by}});
    print_json({{"ok", true}, {"count", hits.size()}, {"results", arr}});
    return 0;
  }
  ops::Table t;
  t.title = tr(lang_, "find_title", {q});
  t.headers = {tr(lang_, "col_village"), tr(lang_, "col_village_name"), tr(lang_, "col_household"), tr(lang_, "col_name"),
               tr(lang_, "col_id"), tr(lang_, "col_phone"), tr(lang_, "col_record")};
  for (auto& h : hits) {
    std::string vname;
    if (tree)
      if (auto* r = tree->find(h.village)) vname = r->name;
    t.rows.push_back({h.village, vname, h.household_no, h.name, full ? h.id_number : idn::mask_id(h.id_number), h.phone,
                      h.id.hex()});
  }
  out_ << ops::render_table(t, lang_);
  return 0;
}

int Command::cmd_validate() {
  expect_words(1, "");
  auto store = open_store();
  auto tree = tree_of(*store);
  ValidationContext ctx = validation_context(*store, tree ? &*tree : nullptr, china_date_of(now_ms()));
  const Schema& schema = store->schema();
  const auto& ps = schema.entity(EntityType::person);
  auto pop = ops::Population::load(*store);
  // village -> collector -> lines
  std::map<std::string, std::map<std::string, std::vector<std::string>>> grouped;
  json arr = json::array();
  size_t records = 0, errors = 0, warnings = 0;
  auto latest_collector = [](const Entity& e) {
    const Version* best = nullptr;
    for (auto* v : e.all_versions())
      if (!best || v->ts > best->ts) best = v;
    return best ? best->collector : std::string("-");
  };
  for (const Entity* p : pop.persons()) {
    auto facts = pop.facts(*p);
    std::vector<std::pair<const Entity*, Problem>> problems;
    auto check = [&](const Entity* e, const ValidationContext& c) {
      if (!e) return;
      for (auto& pr : validate_record(schema.entity(e->type), ops::shown_values(e), c)) problems.emplace_back(e, pr);
    };
    check(p, ctx);
    ValidationContext jctx = ctx;
    jctx.person_birth = birth_of_id(p->value_or(ps.require("id_number").id));
    for (auto* j : facts.jobs) check(j, jctx);
    for (auto* v : facts.visits) check(v, ctx);
    if (problems.empty()) continue;
    ++records;
    std::string who = p->value_or(ps.require("name").id);
    std::string idv = p->value_or(ps.require("id_number").id);
    if (!idv.empty()) who += "（" + (args_.flags.count("full-ids") ? idv : idn::mask_id(idv)) + "）";
    for (auto& [e, pr] : problems) {
      (pr.severity == Severity::error ? errors : warnings) += 1;
      std::string coll = latest_collector(*e);
      grouped[pop.village_of(*p)][coll].push_back(who + colon(lang_) + pr.message(lang_) + "（" + pr.rule_id + "）");
      arr.push_back({{"village", pop.village_of(*p)}, {"collector", coll}, {"person", p->id.hex()}, {"record", e->id.hex()},
                     {"type", entity_type_name(e->type)}, {"rule", pr.rule_id},
                     {"severity", pr.severity == Severity::error ? "error" : "warning"}, {"message", pr.message(lang_)}});
    }
  }
  if (json_) {
    print_json({{"ok", true}, {"records", records}, {"errors", errors}, {"warnings", warnings}, {"problems", arr}});
    return 0;
  }
  for (auto& [village, by_collector] : grouped) {
    std::string vname;
    if (tree)
      if (auto* r = tree->find(village)) vname = r->name;
    out_ << tr(lang_, "col_village") << " " << village << " " << vname << "\n";
    for (auto& [coll, lines] : by_collector) {
      out_ << "  " << tr(lang_, "collector_label", {coll}) << "\n";
      for (auto& l : lines) out_ << "    " << l << "\n";
    }
  }
  out_ << tr(lang_, "validate_summary", {std::to_string(records), std::to_string(errors), std::to_string(warnings)}) << "\n";
  return 0;
}

int Command::cmd_status() {
  expect_words(1, "");
  auto& res = resources();
  if (!device_store_exists(store_dir_)) fail(Error(ErrorCode::store_missing, {store_dir_.string()}));
  auto opened = open_device_store_locked(store_dir_, res.schema);  // no passphrase needed
  if (!opened) fail(opened.error());
  auto& store = **opened;
  auto tree = tree_of(store);
  auto s = ops::compute_status(store, tree ? &*tree : nullptr);
  const auto& cfg = store.info().config;
  if (json_) {
    json villages = json::array();
    auto counts = [](const ops::ClearCounts& c) {
      return json{{"village", c.code}, {"name", c.name}, {"persons", c.persons}, {"identity", c.identity},
                  {"labour", c.labour}, {"status", c.status}, {"willingness", c.willingness}, {"all", c.all}};
    };
    for (auto& v : s.villages) villages.push_back(counts(v));
    print_json({{"ok", true}, {"county", cfg.county}, {"period", cfg.period.year}, {"as_of", format_date(cfg.period.as_of)},
                {"collectors", cfg.collectors}, {"pending_changes", s.pending_changes}, {"last_sync_ms", s.last_sync_ms},
                {"villages", villages}, {"total", counts(s.total)}});
    return 0;
  }
  out_ << tr(lang_, "status_header", {cfg.county, std::to_string(cfg.period.year), format_date(cfg.period.as_of)}) << "\n";
  ops::Table t;
  t.title = tr(lang_, "four_clears_title");
  t.rows_are_persons = false;
  t.headers = {tr(lang_, "col_village"), tr(lang_, "col_village_name"), tr(lang_, "col_persons"), tr(lang_, "clear_identity"),
               tr(lang_, "clear_labour"), tr(lang_, "clear_status"), tr(lang_, "clear_willingness"), tr(lang_, "clear_all")};
  auto row = [&](const ops::ClearCounts& c, const std::string& code, const std::string& name) {
    auto cell = [&](size_t n) { return std::to_string(n) + " (" + percent(n, c.persons) + ")"; };
    return std::vector<std::string>{code, name, std::to_string(c.persons), cell(c.identity), cell(c.labour),
                                    cell(c.status), cell(c.willingness), cell(c.all)};
  };
  for (auto& v : s.villages) t.rows.push_back(row(v, v.code, v.name));
  t.rows.push_back(row(s.total, tr(lang_, "total"), ""));
  out_ << ops::render_table(t, lang_);
  out_ << tr(lang_, "pending_line", {std::to_string(s.pending_changes)}) << "\n";
  out_ << (s.last_sync_ms ? tr(lang_, "last_sync", {format_china_time(s.last_sync_ms)}) : tr(lang_, "never_synced")) << "\n";
  return 0;
}

}  // namespace tz::cli
