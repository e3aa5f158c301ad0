// The message catalogue of sync-server.
#include "tz/server_cli/messages.hpp"

namespace tz::server_cli {

namespace {

const cli::Catalogue& catalogue() {
  static const cli::Catalogue kTexts = {
      {"usage",
       {"用法：sync-server [--data 目录] [--lang zh|en] [--json] 命令 …\n"
        "命令（县管理员，可在 serve 运行时使用）：\n"
        "  init --county 县代码 --name 名称          新建服务器数据目录\n"
        "  regions import 文件 [--version 版本]      导入本县区划树（新版本保留已撤销的代码）\n"
        "  period set 年度 --as-of 截至日期          设置统计期\n"
        "  register import 文件                      导入建档立卡名册\n"
        "  device list | device retire 设备 [--at 序号] | device revoke 设备\n"
        "  device recover 请求文件 --out 密钥文件     为忘记口令的设备生成恢复密钥文件\n"
        "  conflicts [--region 代码]                 列出有冲突的字段\n"
        "  resolve 记录 字段 --pick 编号|--value 值  解决冲突\n"
        "  quarantine | quarantine release 编号 | quarantine reject 编号 --reason 原因\n"
        "  baseline import 文件                      导入去年外出务工人员名单（村代码、姓名、身份证号），下发到各设备\n"
        "  list 清单 [--format table|csv|xlsx] [--out 文件] [--region 代码] [--full-ids]\n"
        "  report [--format table|csv|xlsx|json] [--out 文件] [--unit person|wan] [--region 代码]\n"
        "                                            外出务工进度报表（默认全县）\n"
        "  export --out 目录 [--format csv|xlsx] [--unit person|wan] [--region 代码]\n"
        "                                            一次导出进度报表和全部五份清单到目录（身份证号打码）\n"
        "  standards | subsidies [--format table|csv|xlsx|json] [--out 文件] [--region 代码]\n"
        "                                            务工标准达标情况 / 应享补贴（规则见 schemas/policy.json）\n"
        "  subsidies record [--region 代码]          把应享补贴记为政策落实记录（应享），下发到各设备；已发放的不改\n"
        "  subsidies paid 人员 --kind transport|referral|job_keeping\n"
        "                                            把该人员本年度该类补贴记为已发放\n"
        "  token create --scope 代码[,代码…] --collector 姓名[,姓名…] [--expires-days 天数(默认 7)]\n"
        "                                            生成一次性登记令牌（令牌在最后一行）\n"
        "  token list                                列出令牌（已用/未用、到期、设备）\n"
        "  duplicates [--full-ids]                   列出可能重复的人员（每对一条：编号、姓名、身份证号、分数、理由）\n"
        "  dismiss 人员 人员                         驳回一对可能重复（不再提出）\n"
        "  verify [--full-ids]                       合并身份证号相同的重复人员（编号小的保留），再运行核查规则，把疑点作为通知发给所属范围的采集员\n"
        "  merge 记录 记录                           合并两条重复的人员或户（编号小的保留，可撤销）\n"
        "  unmerge 记录                              撤销合并（记录为被合并掉的编号，或只有一次合并的保留者）\n"
        "  backup --out 文件                         加密备份（口令取自 TAIZHANG_BACKUP_PASSPHRASE，serve 运行时可用）\n"
        "  restore 文件                              从备份恢复（先停止 serve；原目录保留为 目录.before-restore-时间）\n"
        "  audit verify [--head 序号:哈希]            检查审计链（哈希链与链头）是否完整；--head 为设备见过的链头（field-cli audit head）\n"
        "  token create … --out 文件                 同时写出令牌文件（无网络登记用，登记码另行告知）\n"
        "  bundle import 文件 --out 回复文件          导入设备的数据包，写出回复数据包\n"
        "  user add 用户名 --role reviewer|admin --agency 人社局|扶贫办 --scope 代码[,代码…]\n"
        "                                            添加审核用户（密码取自 TAIZHANG_USER_PASSWORD 或终端输入）\n"
        "  user list | user disable 用户名 | user enable 用户名\n"
        "  reconcile 文件 [--kind 社保|用工备案|国家系统] [--out 前缀] [--region 代码] [--full-ids]\n"
        "                                            与外部名单比对，写出 前缀.csv 和 前缀.xlsx\n"
        "  review 记录 [--approve | --send-back 原因]  审核通过或退回一个人（含其务工经历）或一户；不带选项时显示审核状态\n"
        "服务：\n"
        "  serve [--listen 地址:端口(默认 127.0.0.1:8443)] [--tls-cert 文件 --tls-key 文件] [--plain-http]\n"
        "        [--threads N(默认 32)] [--max-threads N(默认 256)] [--max-body 字节(默认 67108864)]\n"
        "        [--timeout 秒(默认 30)] [--session-hours 小时(默认 8)]\n"
        "        通过 HTTPS 提供同步服务和审核接口（/api/v1/login 等）；证书默认在首次启动时生成于 数据目录/tls/，由服务器签名密钥签发\n"
        "数据目录默认为 $XDG_DATA_HOME/taizhang-server（或 ~/.local/share/taizhang-server），环境变量 TAIZHANG_SERVER_DATA 可改。",
        "usage: sync-server [--data DIR] [--lang zh|en] [--json] COMMAND ...\n"
        "commands (the county admin; they work while serve runs):\n"
        "  init --county CODE --name NAME            create the server's data folder\n"
        "  regions import FILE [--version V]         import the county's region tree (a newer one keeps retired codes)\n"
        "  period set YEAR --as-of DATE              set the reporting period\n"
        "  register import FILE                      import the 建档立卡 register\n"
        "  device list | device retire ID [--at SEQ] | device revoke ID\n"
        "  device recover REQUEST --out KEYFILE      a recovery key file for a device whose passphrase is forgotten\n"
        "  conflicts [--region CODE]                 fields in conflict\n"
        "  resolve RECORD FIELD --pick N|--value V   resolve a conflict\n"
        "  quarantine | quarantine release ID | quarantine reject ID --reason TEXT\n"
        "  baseline import FILE                      import last year's list (村代码, 姓名, 身份证号); sent to devices\n"
        "  list KIND [--format table|csv|xlsx] [--out FILE] [--region CODE] [--full-ids]\n"
        "  report [--format table|csv|xlsx|json] [--out FILE] [--unit person|wan] [--region CODE]\n"
        "                                            the progress report (the whole county by default)\n"
        "  export --out DIR [--format csv|xlsx] [--unit person|wan] [--region CODE]\n"
        "                                            the report and all five lists into DIR at once (IDs masked)\n"
        "  standards | subsidies [--format table|csv|xlsx|json] [--out FILE] [--region CODE]\n"
        "                                            work standards met / subsidies due (rules: schemas/policy.json)\n"
        "  subsidies record [--region CODE]          keep the subsidies due as subsidy records (entitled), sent to devices; paid ones are not changed\n"
        "  subsidies paid PERSON --kind transport|referral|job_keeping\n"
        "                                            mark that subsidy of the person for the period as paid\n"
        "  token create --scope CODE[,CODE...] --collector NAME[,NAME...] [--expires-days N (default 7)]\n"
        "                                            make a one-time enrolment token (the token is on the last line)\n"
        "  token list                                the tokens (used/unused, expiry, device)\n"
        "  duplicates [--full-ids]                   probable duplicate persons (one line per pair: ids, names, ID numbers, score, reasons)\n"
        "  dismiss PERSON PERSON                     dismiss a probable pair (never proposed again)\n"
        "  verify [--full-ids]                       merge exact duplicates (the same ID number; the smaller id survives), then run the verification rules; findings go to the collectors of the scope\n"
        "  merge RECORD RECORD                       merge two duplicate persons or households (the smaller id survives; undoable)\n"
        "  unmerge RECORD                            undo a merge (the merged-away id, or a survivor of one merge)\n"
        "  backup --out FILE                         an encrypted backup (passphrase from TAIZHANG_BACKUP_PASSPHRASE; works while serving)\n"
        "  restore FILE                              restore from a backup (stop serve first; the old folder is kept as DIR.before-restore-TIME)\n"
        "  audit verify [--head SEQ:HASH]            check the audit chain (hash links and head); --head: a head a device has seen (field-cli audit head)\n"
        "  token create ... --out FILE               also write a token file (enrolment with no network; the code is given apart)\n"
        "  bundle import FILE --out RESPONSE         import a device's bundle and write the response bundle\n"
        "  user add NAME --role reviewer|admin --agency 人社局|扶贫办 --scope CODE[,CODE...]\n"
        "                                            add a review user (password from TAIZHANG_USER_PASSWORD or typed at a terminal)\n"
        "  user list | user disable NAME | user enable NAME\n"
        "  reconcile FILE [--kind 社保|用工备案|国家系统] [--out PREFIX] [--region CODE] [--full-ids]\n"
        "                                            compare with an external list; writes PREFIX.csv and PREFIX.xlsx\n"
        "  review RECORD [--approve | --send-back REASON]  approve a person (with their jobs) or a household, or send it back; alone, the state\n"
        "serving:\n"
        "  serve [--listen ADDR:PORT (default 127.0.0.1:8443)] [--tls-cert FILE --tls-key FILE] [--plain-http]\n"
        "        [--threads N (default 32)] [--max-threads N (default 256)] [--max-body BYTES (default 67108864)]\n"
        "        [--timeout S (default 30)] [--session-hours H (default 8)]\n"
        "        serve devices and the review API (/api/v1/login, ...) over HTTPS; the certificate is made on first start in DIR/tls/, signed by the server's key\n"
        "The data folder defaults to $XDG_DATA_HOME/taizhang-server (or ~/.local/share/taizhang-server); "
        "TAIZHANG_SERVER_DATA changes it."}},
      {"init_done", {"已在 {0} 新建服务器：{1} {2}（{3}）", "created the server in {0}: {1} {2} ({3})"}},
      {"init_no_tree", {"项目未附带该县的区划树：请运行 sync-server regions import", "no region tree ships for this county: run sync-server regions import"}},
      {"bad_tree", {"区划文件 {0} 无法读取：{1}", "the region file {0} cannot be read: {1}"}},
      {"tree_other_county", {"区划文件属于 {0}，本服务器是 {1}", "the region file is for {0}; this server serves {1}"}},
      {"regions_done",
       {"区划树版本 {0}：{1} 个村（其中 {2} 个已撤销），已发送给各设备",
        "region tree version {0}: {1} villages ({2} retired), sent to every device"}},
      {"baseline_done", {"已导入去年外出务工人员名单：{0} 人，设备下次同步时收到", "imported last year's list: {0} persons; devices receive it at their next sync"}},
      {"baseline_same", {"去年外出务工人员名单与当前相同（{0} 人），未改动", "last year's list is the same as the current one ({0} persons); nothing changed"}},
      {"regions_same", {"区划树与当前版本相同，未改动", "the region tree is the same as the current one; nothing changed"}},
      {"backup_passphrase_needed",
       {"请在环境变量 TAIZHANG_BACKUP_PASSPHRASE 中给出备份口令（与服务器分开保管；恢复时需要同一口令）",
        "give the backup passphrase in TAIZHANG_BACKUP_PASSPHRASE (keep it apart from the server; restore needs the same one)"}},
      {"backup_done",
       {"已备份 {0}（{1}）到 {2}：{3} 个文件，{4} 字节，服务器序号 {5}",
        "backed up {0} ({1}) to {2}: {3} files, {4} bytes, server sequence {5}"}},
      {"restore_done",
       {"已从 {0} 恢复 {1}（备份于 {2}，服务器序号 {3}）到 {4}；新纪元 {5}。各设备下次同步时会补交服务器缺少的修改并从头拉取",
        "restored {1} from {0} (backed up at {2}, server sequence {3}) into {4}; new epoch {5}. Each device re-sends what the "
        "server lacks and pulls from the start at its next sync"}},
      {"restore_kept_old", {"原数据目录保留在 {0}", "the previous data folder is kept at {0}"}},
      {"serve_already_running",
       {"数据目录 {0} 已有一个 sync-server serve 在运行", "another sync-server serve is already running on the data folder {0}"}},
      {"serve_running",
       {"数据目录 {0} 正由 sync-server serve 使用：请先停止它再恢复", "sync-server serve is using the data folder {0}: stop it before restoring"}},
      {"period_done", {"统计期：{0} 年，截至 {1}，已发送给各设备", "period {0}, as of {1}, sent to every device"}},
      {"period_needed", {"尚未设置统计期：请先运行 sync-server period set 年度 --as-of 截至日期",
                         "no reporting period yet: run sync-server period set YEAR --as-of DATE first"}},
      {"register_pushed",
       {"已提交到服务器：{0} 项变更（生效 {1}，冲突 {2}，隔离 {3}）",
        "pushed to the server: {0} changes ({1} applied, {2} conflicts, {3} quarantined)"}},
      {"no_device", {"没有设备“{0}”", "no device \"{0}\""}},
      {"ambiguous_device", {"“{0}”对应多台设备，请写出更多位", "\"{0}\" matches several devices; give more digits"}},
      {"admin_device", {"设备 {0} 是县管理员副本，不能{1}", "device {0} is the county admin replica and cannot be {1}"}},
      {"verb_retired", {"退役", "retired"}},
      {"verb_revoked", {"吊销", "revoked"}},
      {"bad_seq", {"--at 应为不小于 {0} 的变更序号（该设备已确认到第 {0} 号）",
                   "--at must be a change number of at least {0} (the device is acknowledged up to {0})"}},
      {"device_retired", {"设备 {0} 已退役：第 {1} 号之后的变更将被隔离", "device {0} is retired: its changes after {1} will be quarantined"}},
      {"device_revoked", {"设备 {0} 已吊销：其请求将被拒绝", "device {0} is revoked: its requests will be refused"}},
      {"devices_title", {"设备（{0} 台）", "Devices ({0})"}},
      {"col_device", {"设备", "Device"}},
      {"col_scope", {"范围", "Scope"}},
      {"col_acked", {"已确认序号", "Acked seq"}},
      {"col_status", {"状态", "Status"}},
      {"col_last_push", {"最近提交", "Last push"}},
      {"status_active", {"在用", "active"}},
      {"status_retired", {"已退役", "retired"}},
      {"status_revoked", {"已吊销", "revoked"}},
      {"admin_mark", {"（县管理员副本）", " (county admin replica)"}},
      {"never", {"从未", "never"}},
      {"conflicts_hint", {"解决：sync-server resolve 记录 字段 --pick 编号 或 --value 新值",
                          "to resolve: sync-server resolve RECORD FIELD --pick N or --value NEW"}},
      {"resolved", {"已解决：{0} 的“{1}”= {2}，已提交到服务器", "resolved: \"{1}\" of {0} = {2}, pushed to the server"}},
      {"quarantine_empty", {"隔离区为空", "the quarantine is empty"}},
      {"quarantine_title", {"隔离中的变更（{0} 项）", "Changes held in quarantine ({0})"}},
      {"quarantine_line", {"{0}  {1} {2}.{3} = {4}（{5}）：{6}", "{0}  {1} {2}.{3} = {4} ({5}): {6}"}},
      {"bad_change_id", {"变更编号应为 设备:序号（如 quarantine 所列），收到“{0}”",
                         "a change id is DEVICE:SEQ (as quarantine lists it), not \"{0}\""}},
      {"released", {"已放行变更 {0}", "released the change {0}"}},
      {"rejected", {"已驳回变更 {0}：{1}", "rejected the change {0}: {1}"}},
      {"arg_words", {"{0}", "{0}"}},
      {"range", {"应为 {0} 到 {1} 之间的整数", "must be a whole number from {0} to {1}"}},
      {"listen_form", {"应为 地址:端口（如 127.0.0.1:8443、0.0.0.0:8443、[::]:8443）",
                       "must be ADDR:PORT (such as 127.0.0.1:8443, 0.0.0.0:8443, [::]:8443)"}},
      {"tls_pair", {"--tls-cert 与 --tls-key 须同时给出", "--tls-cert and --tls-key go together"}},
      {"plain_and_cert", {"--plain-http 不能与 --tls-cert 同用", "--plain-http cannot be used with --tls-cert"}},
      {"no_server", {"{0} 中没有服务器（请先运行 sync-server init）", "{0} holds no server (run sync-server init first)"}},
      {"cert_not_signed",
       {"证书 {0} 不是由本服务器的签名密钥签发的：设备只信任该密钥签发的证书，不能使用。"
        "不带 --tls-cert 启动时会自动生成合格的证书",
        "the certificate {0} is not signed by this server's signing key: devices trust only certificates it signs, "
        "so it cannot be used. Without --tls-cert, serve makes a suitable one"}},
      {"serve_failed", {"无法在 {0} 提供服务：{1}", "cannot serve on {0}: {1}"}},
      {"serving", {"服务已启动：{0}", "serving at {0}"}},
      {"serving_plain", {"服务已启动（未加密 HTTP，仅供测试）：{0}", "serving at {0} (plain HTTP, for tests only)"}},
      {"stopped", {"收到 {0}，服务已停止", "{0} received; stopped serving"}},
      {"unknown_scope", {"区划代码 {0} 不是本县（{1}）的乡镇或村，也不是县代码", "{0} is not a township or village of the county {1}, nor its code"}},
      {"unknown_scope_no_tree",
       {"区划代码 {0} 无法核对：本服务器尚无区划树（请先运行 sync-server regions import），目前只能用县代码 {1}",
        "the code {0} cannot be checked: this server has no region tree yet (run sync-server regions import); only the county code {1} can be used"}},
      {"retired_scope", {"区划代码 {0} 已撤销（继承者：{1}）", "the code {0} is retired (successor: {1})"}},
      {"token_file_made", {"令牌文件已写入 {0}；登记码：{1}（请与文件分开告知采集员，例如电话或纸条；设备上运行 field-cli enroll --token-file 文件）",
                           "token file written to {0}; enrolment code: {1} (give it to the collector apart from the file, e.g. by phone; "
                           "on the device run field-cli enroll --token-file FILE)"}},
      {"bundle_refused", {"数据包 {0} 未被处理，服务器未做任何改动：{1}", "bundle {0} was not processed and nothing was changed: {1}"}},
      {"bundle_done", {"已导入数据包 {0}（设备 {1}）：{2} 项修改，采用 {3}，冲突 {4}，隔离待审 {5}，重复 {6}",
                       "bundle {0} imported (device {1}): {2} changes, {3} applied, {4} in conflict, {5} held for review, {6} repeats"}},
      {"bundle_registered", {"设备 {0} 已凭令牌文件完成登记", "device {0} is now registered with its token file"}},
      {"bundle_rolled_back", {"拒绝：该设备的数据曾从旧备份恢复（服务器已有其到第 {0} 号的修改），未采用任何修改；回复数据包会告知设备重新编号后再导出",
                              "refused: the device's store was restored from an older copy (the server holds its changes up to {0}); nothing was applied. "
                              "The response tells the device to renumber and export again"}},
      {"bundle_response", {"回复数据包已写入 {0}（{1} 条记录），请带回设备用 field-cli bundle import 导入",
                           "response bundle written to {0} ({1} records); import it on the device with field-cli bundle import"}},
      {"device_recovered", {"已为设备 {0} 生成恢复密钥文件 {1}（已记入审计链）。请带回设备运行 field-cli recover 密钥文件",
                            "recovery key file {1} made for device {0} (recorded in the audit chain); on the device run field-cli recover KEYFILE"}},
      {"audit_ok", {"审计链完整：共 {0} 条记录，链头第 {1} 条，哈希 {2}", "the audit chain is intact: {0} entries, head {1}, hash {2}"}},
      {"audit_broken", {"审计链已被破坏：{0}", "the audit chain is broken: {0}"}},
      {"token_made", {"已生成登记令牌：范围 {0}；采集员 {1}；有效期至 {2}", "enrolment token made: scope {0}; collectors {1}; valid until {2}"}},
      {"token_note",
       {"令牌只能使用一次。请通过可靠渠道交给采集员，在设备上运行：field-cli enroll 服务器地址 令牌",
        "the token works once. Hand it to the collector safely; on the device run: field-cli enroll SERVER-URL TOKEN"}},
      {"tokens_title", {"登记令牌（{0} 个）", "Enrolment tokens ({0})"}},
      {"col_token", {"令牌编号", "Token id"}},
      {"col_collectors", {"采集员", "Collectors"}},
      {"col_expires", {"到期", "Expires"}},
      {"col_keys", {"密钥", "Keys"}},
      {"col_token_used", {"令牌", "Token"}},
      {"token_used", {"已使用", "used"}},
      {"token_unused", {"未使用", "unused"}},
      {"token_expired", {"已过期", "expired"}},
      {"keys_enrolled", {"已登记", "enrolled"}},
      {"keys_none", {"无（本机）", "none (local)"}},
      {"arg_county_file", {"区划文件", "FILE"}},
      {"arg_year", {"年度", "YEAR"}},
      {"arg_device", {"设备", "ID"}},
      {"arg_change", {"变更编号", "ID"}},
      {"arg_user", {"用户名", "NAME"}},
      {"arg_record", {"记录", "RECORD"}},
      {"review_how", {"--approve 与 --send-back 只能选一个", "--approve and --send-back go alone"}},
      {"review_state", {"{0} 的审核状态：{1}", "review state of {0}: {1}"}},
      {"region_form", {"应为 6 位县、9 位乡镇或 12 位村代码", "must be a 6-, 9- or 12-digit code"}},
      {"verify_title", {"核查结果", "Verification"}},
      {"col_rule", {"规则", "Rule"}},
      {"col_severity", {"级别", "Severity"}},
      {"col_findings", {"发现", "Findings"}},
      {"col_notices", {"新发通知", "Notices sent"}},
      {"severity_warning", {"警示", "warning"}},
      {"severity_info", {"提示（可能属正常）", "info (may be normal)"}},
      {"verify_sep", {"：", ": "}},
      {"verify_done", {"共发现 {0} 处疑点，新发给采集员的通知 {1} 条（此前发过的不再重发）",
                       "{0} finding(s); {1} new notice(s) sent to collectors (those sent before are not sent again)"}},
      {"reconcile_problem", {"列“{0}”：{1}", "column \"{0}\": {1}"}},
      {"reconcile_refused", {"比对被拒绝：外部名单有 {0} 处问题，未写入任何文件", "reconciliation refused: {0} problem(s) in the external list; nothing was written"}},
      {"reconcile_suffix", {"-比对结果", "-reconciliation"}},
      {"reconcile_written", {"比对结果已写入 {0} 和 {1}", "the report is in {0} and {1}"}},
      {"sheet_reconcile", {"比对结果", "Reconciliation"}},
      {"sheet_summary", {"汇总", "Summary"}},
      {"password_missing",
       {"请在终端上运行以输入密码，或设置环境变量 TAIZHANG_USER_PASSWORD（密码不能写在命令行上）",
        "run this at a terminal to type the password, or set TAIZHANG_USER_PASSWORD (never on the command line)"}},
      {"password_prompt", {"新用户的密码：", "Password for the new user: "}},
      {"password_again", {"再输入一次：", "Again: "}},
      {"password_mismatch", {"两次输入的密码不一致，未添加用户", "the passwords differ; no user added"}},
      {"user_added", {"已添加用户 {0}：{1}，{2}，范围 {3}", "user {0} added: {1}, {2}, scope {3}"}},
      {"users_title", {"用户（{0} 个）", "Users ({0})"}},
      {"col_user", {"用户名", "User"}},
      {"col_role", {"角色", "Role"}},
      {"col_agency", {"部门", "Agency"}},
      {"user_disabled_mark", {"已停用", "disabled"}},
      {"user_disabled", {"已停用用户 {0}，其会话已全部结束", "user {0} disabled; their sessions are ended"}},
      {"user_enabled", {"已恢复用户 {0}", "user {0} enabled"}},
      {"arg_pair", {"人员 人员", "PERSON PERSON"}},
      {"no_id", {"（无身份证号）", "(no ID number)"}},
      {"list_sep", {"、", ", "}},
      {"dup_person", {"{0} {1} {2}", "{0} {1} {2}"}},
      {"dup_title", {"可能重复的人员：{0} 对（共核查 {1} 人）", "Probable duplicate persons: {0} pairs ({1} persons checked)"}},
      {"dup_line", {"{0}. 分数 {1}：{2} ↔ {3}；理由：{4}", "{0}. score {1}: {2} <-> {3}; reasons: {4}"}},
      {"dup_hint", {"驳回：sync-server dismiss 人员 人员（人员为实体编号或身份证号）",
                    "to dismiss: sync-server dismiss PERSON PERSON (entity ids or ID numbers)"}},
      {"dup_exact_hint", {"另有 {0} 组身份证号相同的精确重复：见 sync-server verify",
                          "{0} groups of exact duplicates (the same ID number) besides: see sync-server verify"}},
      {"reason_same_name", {"姓名相同", "same name"}},
      {"reason_same_pinyin", {"姓名同音", "same name reading (homophone)"}},
      {"reason_similar_name", {"姓名相近", "similar name"}},
      {"reason_same_birth", {"出生日期相同", "same birth date"}},
      {"reason_id_near", {"身份证号仅一处录入差错（一位不同或相邻两位颠倒）",
                          "ID numbers one typing slip apart (one character different, or two adjacent swapped)"}},
      {"reason_id_missing", {"缺少有效身份证号", "a valid ID number is missing"}},
      {"reason_same_household", {"同一户", "same household"}},
      {"reason_same_phone", {"电话相同", "same phone"}},
      {"reason_same_village", {"同一村", "same village"}},
      {"not_a_person", {"“{0}”不是人员记录", "\"{0}\" is not a person"}},
      {"same_person", {"两次给出了同一人员“{0}”", "the same person \"{0}\" was given twice"}},
      {"subsidies_recorded", {"已记录应享补贴：新增 {0} 条，更新 {1} 条，未变 {2} 条，不再应享而撤回 {3} 条；已发放 {4} 条未改动",
                              "subsidy records: {0} added, {1} updated, {2} unchanged, {3} withdrawn as no longer due; {4} paid left as they are"}},
      {"subsidy_paid", {"已记为已发放：{0} 的{1}（{2} 年度）", "marked as paid: the {1} of {0} ({2})"}},
      {"subsidy_already_paid", {"{0} 的{1}（{2} 年度）已记为已发放，未改动", "the {1} of {0} ({2}) was already marked as paid; nothing changed"}},
      {"dismissed", {"已驳回：{0} 与 {1} 不再作为可能重复提出", "dismissed: {0} and {1} will not be proposed as duplicates again"}},
      {"dedup_verify_title", {"核查 {0} 人：身份证号相同的精确重复 {1} 组", "{0} persons checked: {1} groups of exact duplicates (the same ID number)"}},
      {"verify_group", {"身份证号 {0}：合并后保留 {1}", "ID number {0}: {1} survives a merge"}},
      {"verify_households", {"村代码和户编号相同的户（及其他按键相同的记录）：合并 {0} 组",
                             "households with one village code and household number (and other records of one key): {0} merged"}},
      {"verify_merged", {"已合并 {0} 条重复记录到 {1} 个保留者", "merged {0} duplicate records into {1} survivors"}},
      {"verify_failed", {"未能合并 {0}：{1}", "could not merge {0}: {1}"}},
      {"verify_kept_apart", {"{0} 与 {1} 曾被撤销合并，保持分开（需要时用 merge 手动合并）",
                             "{0} and {1} were unmerged by a reviewer and stay apart (merge them by hand if needed)"}},
      {"merged", {"已合并：{0} 并入 {1}（移入 {2} 个版本，{3} 条下属记录改挂，{4} 个字段有冲突）",
                  "merged: {0} into {1} ({2} versions moved, {3} records placed under it, {4} fields in conflict)"}},
      {"unmerged", {"已撤销合并：{0} 与 {1} 重新分开（移回 {2} 个版本，{3} 条下属记录）",
                    "unmerged: {0} and {1} are apart again ({2} versions and {3} records moved back)"}},
      {"not_merged_away", {"“{0}”不是被合并掉的记录（或它保留了不止一次合并，请给出被合并掉的编号）",
                           "\"{0}\" is not a merged-away record (or it survived more than one merge: give the merged-away id)"}},
  };
  return kTexts;
}

}  // namespace

const cli::Messages& messages() {
  static const cli::Messages kMessages("sync-server", catalogue());
  return kMessages;
}

}  // namespace tz::server_cli
