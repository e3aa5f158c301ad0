// The message catalogue of field-cli, laid over the shared texts of tz/cli/messages.hpp.
#include "i18n.hpp"

namespace tz::cli {

namespace {

const Catalogue& catalogue() {
  static const Catalogue kTexts = {
      {"usage",
       {"用法：field-cli [--store 目录] [--collector 姓名] [--lang zh|en] [--json] 命令 …\n"
        "命令：\n"
        "  init --county 县代码 --collector 姓名[,姓名…] --period 年度 --as-of 截至日期   新建本机数据库\n"
        "  import 文件 [--dry-run]                      导入台账（花名册）CSV\n"
        "  list 清单 [--format table|csv|xlsx] [--out 文件] [--region 代码] [--full-ids]\n"
        "  report [--format table|csv|xlsx|json] [--out 文件] [--unit person|wan] [--region 代码]\n"
        "                                               外出务工进度报表（默认本设备的范围）\n"
        "  export --out 目录 [--format csv|xlsx] [--unit person|wan] [--region 代码]\n"
        "                                               一次导出进度报表和全部五份清单到目录（身份证号打码）\n"
        "  standards | subsidies [--format table|csv|xlsx|json] [--out 文件] [--region 代码]\n"
        "                                               务工标准达标情况 / 应享补贴（规则见 schemas/policy.json）\n"
        "       清单：employed 就业人员清单、unemployed 失业人员清单、willing 有意愿外出务工人员清单、\n"
        "             returned 返乡回流人员台账、flagged 待核实\n"
        "  add household|person|job|visit [--for 对象] [--set 字段=值 …]   逐项录入（或用 --set 直接保存）\n"
        "  edit 记录 [--set 字段=值 …]                  修改（记录：记录编号、身份证号或 村代码/户编号）\n"
        "  show 记录 [--full-ids]                       查看每项的取值、录入人、时间和修改记录\n"
        "  find 文字                                    按姓名（含拼音）、身份证号或电话查找\n"
        "  validate                                     按村、采集员列出全部校验问题\n"
        "  status                                       “四清”完成情况和待同步变更（无需口令）\n"
        "  conflicts [--region 代码]                    列出有冲突（多个取值并存）的项目及每个版本\n"
        "  resolve 记录 字段 --pick 编号|--value 值      解决冲突：选定 conflicts 列出的一个版本，或给出新值\n"
        "  notices                                      县里的通知：隔离待审、放行、退回、时钟不准\n"
        "  audit head                                   本设备见过的审计链头（供县里核对 sync-server audit verify --head）\n"
        "  enroll 服务器地址 令牌                        用县里发的一次性令牌登记本机（核对服务器密钥，领取县级密钥和范围）\n"
        "  sync [--timeout 秒]                          与县服务器同步：先上传再下载；连不上时重试，超时后退出，下次从中断处继续\n"
        "  enroll --token-file 文件 [--code 登记码]       无网络时用县里给的令牌文件登记（登记码另行告知，或 TAIZHANG_ENROL_CODE）\n"
        "  bundle export --out 文件                     把未确认的修改导出为加密数据包（U 盘带到县里）\n"
        "  bundle import 文件                           导入县服务器的回复数据包（相当于一次同步）\n"
        "  recover --export 文件 | recover 密钥文件       忘记口令时：导出恢复请求交县里，再用县里给的密钥文件设新口令\n"
        "口令来自提示输入或环境变量 TAIZHANG_PASSPHRASE。",
        "usage: field-cli [--store DIR] [--collector NAME] [--lang zh|en] [--json] COMMAND ...\n"
        "commands:\n"
        "  init --county CODE --collector NAME[,NAME...] --period YEAR --as-of DATE   create this device's store\n"
        "  import FILE [--dry-run]                      import a roster CSV\n"
        "  list KIND [--format table|csv|xlsx] [--out FILE] [--region CODE] [--full-ids]\n"
        "  report [--format table|csv|xlsx|json] [--out FILE] [--unit person|wan] [--region CODE]\n"
        "                                               the progress report (the device's scope by default)\n"
        "  export --out DIR [--format csv|xlsx] [--unit person|wan] [--region CODE]\n"
        "                                               the report and all five lists into DIR at once (IDs masked)\n"
        "  standards | subsidies [--format table|csv|xlsx|json] [--out FILE] [--region CODE]\n"
        "                                               work standards met / subsidies due (rules: schemas/policy.json)\n"
        "       KIND: employed, unemployed, willing, returned, flagged\n"
        "  add household|person|job|visit [--for WHO] [--set FIELD=VALUE ...]   form (or save at once with --set)\n"
        "  edit RECORD [--set FIELD=VALUE ...]          change (RECORD: record id, ID number or village/household)\n"
        "  show RECORD [--full-ids]                     every value with who set it, when, and the history\n"
        "  find TEXT                                    by name (also pinyin), ID number or phone\n"
        "  validate                                     every rule over the store, by village and collector\n"
        "  status                                       the four clears and pending changes (no passphrase)\n"
        "  conflicts [--region CODE]                    fields with more than one value, with every version\n"
        "  resolve RECORD FIELD --pick N|--value V      resolve a conflict: a version listed by conflicts, or a new value\n"
        "  notices                                      what the county flagged, quarantined or sent back\n"
        "  audit head                                   the audit chain head this device has seen (for sync-server audit verify --head)\n"
        "  enroll URL TOKEN                             register this device with a one-time token from the county\n"
        "  sync [--timeout SECONDS]                     push then pull with the county server; retried until the timeout, resumable\n"
        "  enroll --token-file FILE [--code CODE]       enrol with no network from the county's token file (code given apart, or TAIZHANG_ENROL_CODE)\n"
        "  bundle export --out FILE                     write the unacknowledged changes to an encrypted bundle (carried to the county)\n"
        "  bundle import FILE                           import the county server's response bundle (as a sync would)\n"
        "  recover --export FILE | recover KEYFILE      forgotten passphrase: a request for the county, then its key file sets a new one\n"
        "The passphrase comes from a prompt or TAIZHANG_PASSPHRASE."}},
      {"arg_enroll", {"服务器地址 令牌", "URL TOKEN"}},
      {"plain_http_needs_flag", {"地址 {0} 不加密（http://）：只在本机测试时使用，并须加 --plain-http",
                                 "{0} is not encrypted (http://): for loopback tests only, and only with --plain-http"}},
      {"enrolled", {"已登记到 {0}：{1}（{2}），范围 {3}；采集员 {4}", "enrolled with {0}: {1} ({2}), scope {3}; collectors {4}"}},
      {"enrol_rekeyed", {"本机登记前录入的 {0} 条记录已换用县级编号", "{0} records entered before enrolment now carry the county's ids"}},
      {"enrol_next", {"下一步：field-cli sync", "next: field-cli sync"}},
      {"enrolled_file", {"已用令牌文件登记（无网络）：{0}（{1}），范围 {2}；采集员 {3}",
                         "enrolled from the token file (no network): {0} ({1}), scope {2}; collectors {3}"}},
      {"enrol_file_next", {"可以开始录入；下一步：field-cli bundle export --out 文件，带到县里导入。令牌文件含县级密钥，登记后请删除或妥善保管",
                           "you can start entering; next: field-cli bundle export --out FILE, carried to the county. The token file holds "
                           "the county secret: delete it or keep it safe"}},
      {"enrol_code_missing", {"需要登记码：用 --code 或环境变量 TAIZHANG_ENROL_CODE 给出", "the enrolment code is needed: give --code or TAIZHANG_ENROL_CODE"}},
      {"enrol_code_prompt", {"请输入登记码（12 位数字）：", "Enrolment code (12 digits): "}},
      {"token_file_refused", {"令牌文件 {0} 未能登记：{1}", "could not enrol from the token file {0}: {1}"}},
      {"bundle_exported", {"已导出数据包 {0}：{1} 项未确认的修改（第 {2} 号）", "bundle written to {0}: {1} unacknowledged changes (number {2})"}},
      {"bundle_has_registration", {"数据包中含本机的登记信息（令牌文件登记），县里导入后即完成登记",
                                   "the bundle carries this device's registration (token file); the county's import completes it"}},
      {"bundle_export_next", {"下一步：把文件带到县里，用 sync-server bundle import 导入，再把回复数据包带回来用 field-cli bundle import 导入",
                              "next: carry the file to the county (sync-server bundle import), then import the response here with field-cli bundle import"}},
      {"bundle_refused", {"回复数据包 {0} 未导入，本机未做任何改动：{1}", "response bundle {0} was not imported and nothing was changed: {1}"}},
      {"bundle_already", {"这个回复数据包（或更新的回复）已导入过，未做任何改动", "this response bundle (or a newer one) was imported before; nothing was changed"}},
      {"bundle_imported", {"已导入回复：县里处理了 {0} 项修改（采用 {1}，冲突 {2}，隔离待审 {3}，重复 {4}），下载 {5} 条记录",
                           "response imported: the county processed {0} changes ({1} applied, {2} in conflict, {3} held for review, {4} repeats); pulled {5} records"}},
      {"bundle_rolled_back", {"县服务器拒绝了数据包：本机数据曾从旧备份恢复（服务器已有本机到第 {0} 号的修改）。已重新编号，请再导出一次数据包",
                              "the county server refused the bundle: this store was restored from an older copy (the server holds its changes up to {0}). "
                              "Its changes were renumbered: export a bundle again"}},
      {"bundle_acks_skipped", {"回复中的确认信息早于本机已知的状态，已略过", "the response's acknowledgements are older than what this device knows; skipped"}},
      {"bundle_pages_skipped", {"回复中的下载内容不接续本机当前进度，已略过；请再导出一次数据包",
                                "the response's records do not continue this device's cursor; skipped: export a bundle again"}},
      {"arg_keyfile", {"密钥文件", "KEYFILE"}},
      {"recover_exported", {"恢复请求已写入 {0}（设备 {1}）。请带到县里运行 sync-server device recover，把得到的密钥文件带回，运行 field-cli recover 密钥文件",
                            "recovery request written to {0} (device {1}). At the county: sync-server device recover; then run field-cli recover KEYFILE here"}},
      {"recover_no_request", {"找不到本机的恢复请求密钥 {0}：请先运行 field-cli recover --export 文件",
                              "this store's recovery request key {0} is missing: run field-cli recover --export FILE first"}},
      {"recover_other_device", {"密钥文件是给设备 {0} 的，不是本机（{1}）", "the key file is for device {0}, not this one ({1})"}},
      {"recover_not_for_request", {"密钥文件与本机最近一次导出的恢复请求不符（请用最新的请求向县里重新申请）",
                                   "the key file does not answer this store's latest recovery request (ask again with the latest request)"}},
      {"recover_not_signed", {"密钥文件不是本县服务器签发的", "the key file is not signed by the county server"}},
      {"recovered", {"口令已重设，本机数据完好（{0} 项待上传的修改）", "the passphrase is reset; nothing was lost ({0} changes waiting to be pushed)"}},
      {"bundle_more", {"县里还有更多内容：请再导出一次数据包", "the county has more to send: export a bundle again"}},
      {"seconds_hint", {"应为秒数（正整数）", "a number of seconds"}},
      {"not_enrolled", {"本机尚未登记，请先运行 field-cli enroll 服务器地址 令牌", "this device is not enrolled; run field-cli enroll URL TOKEN first"}},
      {"progress_push", {"上传 {0} {1}/{2} 项变更", "push {0} {1}/{2} changes"}},
      {"progress_push_line", {"上传 {0}/{1} 项变更", "push {0}/{1} changes"}},
      {"progress_pull", {"下载 {0} 条记录（{1} 页）", "pull {0} records ({1} pages)"}},
      {"audit_head",
       {"本设备见过的审计链头：第 {0} 条，哈希 {1}。请县里核对：sync-server audit verify --head {0}:{1}",
        "the audit chain head this device has seen: entry {0}, hash {1}. The county checks it with: sync-server audit verify --head {0}:{1}"}},
      {"audit_head_none", {"本设备还没有收到过县服务器的审计链头（尚未同步）", "this device has not received the county server's audit chain head yet (not synced)"}},
      {"sync_retry", {"连接失败：{0}；{1} 秒后重试", "could not sync: {0}; trying again in {1} s"}},
      {"sync_gave_up", {"{0} 秒内未能完成同步：{1}。已完成的部分已保存，下次运行 sync 会从中断处继续",
                        "could not finish the sync within {0} s: {1}. What was done is kept; the next sync goes on from there"}},
      {"sync_done", {"同步完成：上传 {0} 项变更（采用 {1}，冲突 {2}，隔离待审 {3}），下载 {4} 条记录",
                     "synced: pushed {0} changes ({1} applied, {2} in conflict, {3} held for review), pulled {4} records"}},
      {"sync_rolled_back", {"注意：本机数据曾从旧备份恢复，已重新编号并补齐", "note: this store was restored from an older copy; its changes were renumbered and recovered"}},
      {"sync_new_epoch", {"注意：县服务器曾从备份恢复，本机已重新上传其缺少的变更", "note: the county server was restored from a backup; this device re-sent what it lacked"}},
      {"sync_period", {"统计期已按县里设置更新为 {0}", "the period is now the county's: {0}"}},
      {"sync_conflicts", {"有 {0} 处冲突待解决：field-cli conflicts", "{0} conflicts to resolve: field-cli conflicts"}},
      {"sync_notices", {"有 {0} 条县里的通知：field-cli notices", "{0} notices from the county: field-cli notices"}},
      {"conflicts_hint", {"解决：field-cli resolve 记录 字段 --pick 编号 或 --value 新值",
                          "to resolve: field-cli resolve RECORD FIELD --pick N or --value NEW"}},
      {"resolved", {"已解决：{0} 的{1}为“{2}”（取代 {3} 个版本，采集员 {4}）",
                    "resolved: {1} of {0} is \"{2}\" (replacing {3} versions, collector {4})"}},
      {"no_notices", {"没有通知", "no notices"}},
      {"notices_count", {"共 {0} 条通知：", "{0} notices:"}},
      {"passphrase_prompt", {"请输入数据库口令：", "Passphrase: "}},
      {"passphrase_again", {"请再次输入口令：", "Passphrase again: "}},
      {"passphrase_mismatch", {"两次输入的口令不一致", "the two passphrases differ"}},
      {"passphrase_missing", {"需要口令：请在终端输入，或设置环境变量 TAIZHANG_PASSPHRASE",
                              "a passphrase is needed: type it at a terminal or set TAIZHANG_PASSPHRASE"}},
      {"passphrase_short", {"口令太短：至少 8 个字符", "the passphrase is too short: at least 8 characters"}},
      {"bad_collector", {"采集员“{0}”不是本机的采集员（本机：{1}）", "collector \"{0}\" is not one of this device's ({1})"}},
      {"init_done",
       {"已在 {0} 新建数据库：{1}（{2}），采集员 {3}，统计期 {4} 年，截至 {5}",
        "created the store in {0}: {1} ({2}), collectors {3}, period {4}, as of {5}"}},
      {"init_no_tree", {"注意：项目未附带该县的区划树，村代码将提示为“未知”，直到从县里同步到区划",
                        "note: no region tree ships for this county; village codes warn as unknown until one arrives"}},
      {"form_interrupted", {"已取消，未保存任何内容。", "Cancelled; nothing was saved."}},
      {"form_input_ended", {"输入已结束，未保存任何内容。", "The input ended; nothing was saved."}},
      {"yes_no", {"是/否", "yes/no"}},
      {"yes", {"是", "yes"}},
      {"no", {"否", "no"}},
      {"answer_yes_no", {"请回答“是”或“否”", "please answer yes or no"}},
      {"form_review", {"请核对{0}：", "Please check the {0}:"}},
      {"not_saved_errors", {"有错误，未保存。请改正后重试", "there are errors; nothing was saved. Fix them and try again"}},
      {"not_saved", {"未保存", "nothing was saved"}},
      {"saved", {"已保存{0}：{1} 项字段变更（采集员 {2}）", "saved the {0}: {1} field changes (collector {2})"}},
      {"bad_add_kind", {"add 后应为 household、person、job 或 visit，收到“{0}”", "add takes household, person, job or visit, not \"{0}\""}},
      {"household_needed", {"需要村代码和户编号（--set 村代码=… --set 户编号=…）", "the village code and household number are needed (--set 村代码=… --set 户编号=…)"}},
      {"household_exists", {"  该户已登记，户主：{0}", "  this household is registered; head: {0}"}},
      {"household_new", {"  新户：将同时登记此户", "  a new household: it will be registered too"}},
      {"ask_job_person", {"务工人员（身份证号或记录编号）", "Person (ID number or record id)"}},
      {"ask_visit_subject", {"摸查对象（身份证号、记录编号，或 村代码/户编号）", "Visited (ID number, record id, or village code/household number)"}},
      {"person_exists_scripted", {"该身份证号已登记：{0}。修改请用 field-cli edit", "this ID number is already registered: {0}. Use field-cli edit to change it"}},
      {"person_exists", {"注意：该身份证号已登记：{0}", "note: this ID number is already registered: {0}"}},
      {"edit_existing_instead", {"继续将修改此人的记录，是否继续？", "Go on and change this person's record?"}},
      {"add_job_now", {"现在录入当前务工经历？", "Enter the current job now?"}},
      {"not_a_person", {"这不是一个劳动力的记录", "that record is not a person"}},
      {"confirm_save", {"确认保存？", "Save?"}},
      {"nothing_changed", {"没有改动，未写入任何内容", "nothing changed; nothing was written"}},
      {"conflict_marker", {"【有冲突：以下取值并存，待核实】", "[conflict: these values stand side by side until resolved]"}},
      {"derived_line", {"{0} 年：{1}，务工地域 {2}，务工 {3} 个月", "{0}: {1}, where {2}, {3} months worked"}},
      {"employed", {"已就业", "employed"}},
      {"not_employed", {"未就业", "not employed"}},
      {"clear_yes", {"清", "clear"}},
      {"clear_no", {"未清", "not clear"}},
      {"four_clears_line", {"四清：人员底数{0}、劳动能力{1}、就业状态{2}、外出意愿{3}", "four clears: identity {0}, labour ability {1}, employment status {2}, willingness {3}"}},
      {"review_line", {"县里审核：{0}", "county review: {0}"}},
      {"review_approved", {"审核通过", "approved"}},
      {"review_returned", {"退回：{0}", "sent back: {0}"}},
      {"sent_back_line", {"[审核退回，修改后等待县里复核] {0}", "[sent back by the county; fix it and wait for review] {0}"}},
      {"member", {"成员", "member"}},
      {"not_filled", {"（未填写）", "(not filled in)"}},
      {"more_warnings", {"……另有 {0} 处提示未列出（field-cli validate 或 --json 可看全部）",
                         "... {0} more warnings not shown (field-cli validate or --json lists them all)"}},
      {"editing_existing", {"  将修改此人原有的记录（所属户不变）；直接回车保留原值", "  changing this person's existing record (household unchanged); Enter keeps a value"}},
      {"arg_record", {"记录（记录编号、身份证号或 村代码/户编号）", "RECORD (record id, ID number or village/household)"}},
      {"arg_text", {"查找内容", "TEXT"}},
      {"arg_add_kind", {"household、person、job 或 visit", "household, person, job or visit"}},
      {"history", {"修改记录（本机）：", "History (this device):"}},
      {"find_title", {"查找“{0}”", "Search \"{0}\""}},
      {"col_village", {"村代码", "Village code"}},
      {"col_village_name", {"村名称", "Village"}},
      {"col_household", {"户编号", "Household"}},
      {"col_name", {"姓名", "Name"}},
      {"col_id", {"身份证号", "ID number"}},
      {"col_phone", {"联系电话", "Phone"}},
      {"col_record", {"记录编号", "Record id"}},
      {"col_persons", {"人数", "Persons"}},
      {"collector_label", {"采集员 {0}", "collector {0}"}},
      {"validate_summary", {"共 {0} 人的记录有问题：错误 {1} 处，提示 {2} 处", "{0} persons' records have problems: {1} errors, {2} warnings"}},
      {"status_header", {"本机数据：{0} 县，{1} 年度，截至 {2}", "This device: county {0}, period {1}, as of {2}"}},
      {"four_clears_title", {"“四清”完成情况", "The four clears"}},
      {"clear_identity", {"人员底数清", "Identity"}},
      {"clear_labour", {"劳动能力清", "Labour ability"}},
      {"clear_status", {"就业状态清", "Employment status"}},
      {"clear_willingness", {"外出意愿清", "Willingness"}},
      {"clear_all", {"四清齐全", "All four"}},
      {"total", {"合计", "Total"}},
      {"pending_line", {"待同步的变更：{0} 项", "changes waiting to sync: {0}"}},
      {"last_sync", {"上次同步：{0}", "last sync: {0}"}},
      {"never_synced", {"尚未同步过", "never synced"}},
  };
  return kTexts;
}

}  // namespace

const Messages& messages() {
  static const Messages kMessages("field-cli", catalogue());
  return kMessages;
}

std::string tr(Lang lang, std::string_view key, const std::vector<std::string>& args) {
  return messages().tr(lang, key, args);
}

std::vector<std::string_view> message_keys() { return messages().keys(); }

bool has_both_languages(std::string_view key) { return messages().has_both_languages(key); }

}  // namespace tz::cli
