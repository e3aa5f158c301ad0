// The error catalogue's texts. A test checks that every code has both messages and both numbers.
#include "tz/util/error.hpp"

namespace tz {

const std::vector<ErrorInfo>& error_catalogue() {
  static const std::vector<ErrorInfo> kCatalogue = {
      {ErrorCode::ok, "ok", "成功", "success", 0, 200},
      {ErrorCode::usage, "usage", "用法错误：{0}", "usage error: {0}", 2, 400},
      {ErrorCode::invalid_input, "invalid_input", "输入有误：{0}", "invalid input: {0}", 1, 400},
      {ErrorCode::not_found, "not_found", "未找到：{0}", "not found: {0}", 1, 404},
      {ErrorCode::already_exists, "already_exists", "已存在：{0}", "already exists: {0}", 1, 409},
      {ErrorCode::wrong_passphrase, "wrong_passphrase", "口令错误，无法打开数据库",
       "wrong passphrase: the store cannot be opened", 1, 401},
      {ErrorCode::store_missing, "store_missing",
       "在 {0} 没有找到数据库，请先运行 field-cli init", "no store at {0}; run field-cli init first", 1, 404},
      {ErrorCode::store_corrupt, "store_corrupt", "数据库已损坏：{0}", "the store is damaged: {0}", 1, 500},
      {ErrorCode::io_error, "io_error", "读写文件失败：{0}", "file input/output failed: {0}", 1, 500},
      {ErrorCode::disk_full, "disk_full",
       "磁盘已满，未写入任何数据：{0}。已保存的数据完好；请清理该磁盘的空间（删除不需要的文件或移到别处）后重做这一步",
       "the disk is full; nothing was written: {0}. The stored data is intact; free space on that disk (delete or "
       "move files you do not need) and do this step again",
       1, 507},
      {ErrorCode::import_rejected, "import_rejected", "导入被拒绝：发现 {0} 处问题，未写入任何数据",
       "import refused: {0} problem(s) found, nothing was written", 1, 422},
      {ErrorCode::excel_damaged_id, "excel_damaged_id",
       "{0} 已被 Excel 当作数字改写，原号码无法恢复。请在 Excel 中把该列设为“文本”后重新录入，或从原始文件复制",
       "{0} was rewritten by Excel as a number and the original cannot be recovered. Format the column as "
       "Text in Excel and enter or copy the numbers again",
       1, 422},
      {ErrorCode::encoding_error, "encoding_error", "文件编码无法识别：{0}（应为 UTF-8 或 GB18030）",
       "unrecognised file encoding: {0} (expected UTF-8 or GB18030)", 1, 400},
      {ErrorCode::schema_error, "schema_error", "数据定义有误：{0}", "schema error: {0}", 1, 500},
      {ErrorCode::crypto_error, "crypto_error", "加密操作失败：{0}", "cryptographic operation failed: {0}", 1,
       500},
      {ErrorCode::period_unset, "period_unset", "尚未设置统计期（年度和截至日期）",
       "the reporting period (year and as-of date) is not set", 1, 409},
      {ErrorCode::network, "network", "无法连接服务器或连接中断：{0}。已保存的数据不受影响，可稍后重试同步",
       "the server could not be reached or the connection broke: {0}. Stored data is unaffected; sync again later",
       1, 503},
      {ErrorCode::server_identity, "server_identity",
       "服务器证书与登记时的不一致：{0} 出示的证书不是由登记时记下的县服务器密钥签发的，已拒绝连接。可能有人冒充服务器，"
       "请联系县管理员",
       "the server's certificate is not signed by the key pinned at enrolment: {0} presented a certificate the "
       "county server's signing key did not sign, so the connection was refused. Someone may be impersonating the "
       "server; contact the county administrator",
       1, 502},
      {ErrorCode::unknown_device, "unknown_device", "服务器不认识本设备（{0}），请先登记（enroll）",
       "the server does not know this device ({0}); enrol it first", 1, 403},
      {ErrorCode::device_revoked, "device_revoked", "本设备（{0}）已被县里停用，不能再同步，请联系县管理员",
       "this device ({0}) was revoked by the county and can no longer sync; contact the county administrator", 1,
       403},
      {ErrorCode::rolled_back, "rolled_back",
       "本设备的数据库是从较早的副本恢复的：服务器已持有本设备到第 {0} 号的变更。正在重新编号后重新推送，不会丢失数据",
       "this device's store was restored from an older copy: the server holds its changes up to {0}. They are "
       "renumbered and pushed again; nothing is lost",
       1, 409},
      {ErrorCode::sync_refused, "sync_refused", "服务器拒绝了请求：{0}", "the server refused the request: {0}", 1,
       400},
      {ErrorCode::unauthenticated, "unauthenticated", "未登录或登录已过期：{0}，请重新登录",
       "not logged in, or the session expired: {0}; log in again", 1, 401},
      {ErrorCode::forbidden, "forbidden", "无权操作：{0}", "not allowed: {0}", 1, 403},
      {ErrorCode::locked_out, "locked_out", "账号 {0} 登录失败次数过多，已暂时锁定，请在 {1} 之后再试",
       "account {0} is locked after too many failed logins; try again after {1}", 1, 429},
      {ErrorCode::read_only, "read_only",
       "存储设备只读，未写入任何数据：{0}。已保存的数据完好；请检查磁盘或U盘是否写保护、是否被系统改为只读（常因磁盘出错），"
       "处理后重做这一步",
       "the storage is read-only; nothing was written: {0}. The stored data is intact; check whether the disk or USB "
       "stick is write-protected or was remounted read-only by the system (often after a disk error), then do this step "
       "again",
       1, 507},
      {ErrorCode::internal, "internal", "内部错误：{0}", "internal error: {0}", 1, 500},
  };
  return kCatalogue;
}

const ErrorInfo& error_info(ErrorCode code) {
  const auto& cat = error_catalogue();
  auto i = static_cast<size_t>(code);
  if (i < cat.size() && cat[i].code == code) return cat[i];
  return cat.back();
}

std::string format_message(std::string_view tmpl, const std::vector<std::string>& args) {
  std::string out;
  out.reserve(tmpl.size() + 32);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      size_t j = i + 1;
      size_t n = 0;
      bool digits = false;
      while (j < tmpl.size() && tmpl[j] >= '0' && tmpl[j] <= '9') {
        n = n * 10 + static_cast<size_t>(tmpl[j] - '0');
        ++j;
        digits = true;
      }
      if (digits && j < tmpl.size() && tmpl[j] == '}') {
        if (n < args.size()) out += args[n];
        i = j;
        continue;
      }
    }
    out += tmpl[i];
  }
  return out;
}

namespace {
constexpr char kLangSeparator = '\x1f';
}

std::string bilingual(std::string_view zh, std::string_view en) {
  std::string s(zh);
  s += kLangSeparator;
  s += en;
  return s;
}

std::string Error::message(Lang lang) const {
  const auto& info = error_info(code_);
  std::vector<std::string> args;
  args.reserve(args_.size());
  for (auto& a : args_) {
    auto sep = a.find(kLangSeparator);
    args.push_back(sep == std::string::npos ? a : lang == Lang::zh ? a.substr(0, sep) : a.substr(sep + 1));
  }
  return format_message(lang == Lang::zh ? info.zh : info.en, args);
}

}  // namespace tz
