// Deterministic roster generation: see roster_gen.hpp.
#include "roster_gen.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <random>
#include <unordered_set>

#include "tz/model/id_number.hpp"
#include "tz/model/region_tree.hpp"
#include "tz/util/civil_time.hpp"
#include "tz/util/csv.hpp"

namespace tz::bench {

namespace {

__extension__ typedef unsigned __int128 u128;

// Draws from mt19937_64 without std::*_distribution, so every standard library gives the same roster.
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t below(uint64_t n) {  // uniform in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-40)
    return static_cast<uint64_t>((static_cast<u128>(g_()) * n) >> 64);
  }
  int between(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1))); }
  double unit() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  template <typename T, size_t N>
  const T& pick(const T (&a)[N]) { return a[below(N)]; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  std::mt19937_64 g_;
};

// Common surnames, roughly by frequency (the first ones are drawn more often), with the surnames
// frequent in south-east Guizhou (吴, 杨, 龙, 石, 潘, 欧) near the front.
const char* const kSurnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "吴", "黄", "赵", "周", "龙", "石", "潘", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖",
    "田", "董", "袁", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜",
    "崔", "钟", "谭", "陆", "汪", "范", "金", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦",
    "邱", "江", "尹", "薛", "段", "雷", "侯", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "覃",
    "欧", "莫", "向", "滚", "粟", "麻", "蒙", "王"};
const char* const kCompoundSurnames[] = {"欧阳", "司马", "诸葛", "上官", "东方", "令狐", "皇甫", "慕容"};
const char* const kMaleChars[] = {
    "伟", "强", "军", "勇", "杰", "涛", "明", "超", "华", "平", "刚", "辉", "健", "鹏", "斌", "波", "宇", "浩",
    "凯", "俊", "帅", "林", "飞", "峰", "龙", "文", "成", "志", "国", "永", "兴", "昌", "福", "贵", "德", "发",
    "金", "海", "忠", "荣", "光", "正", "江", "云", "祥", "义", "先", "学", "才", "武", "宏", "毅", "锋", "松"};
const char* const kFemaleChars[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "燕", "萍", "红", "梅", "兰", "琴", "云",
    "莉", "婷", "雪", "慧", "丹", "珍", "凤", "翠", "桂", "花", "美", "春", "香", "月", "妹", "菊", "莲", "琳"};
// Supplementary-plane characters that do occur in names (𠮷 is the usual example); 4 UTF-8 bytes each.
const char* const kAstralChars[] = {"𠮷", "𡒄", "𤆬", "𨭉", "𪚥"};
const char* const kMinorityNames[] = {
    "阿依古丽·买买提", "买买提·艾力",   "热依拉·吐尔逊",   "艾力·热合曼", "古丽娜尔·阿不都", "努尔兰·吐尔洪",
    "帕提古丽·肉孜", "阿卜杜拉·买合木提", "迪丽拜尔·阿西木", "才让·多吉"};

struct Place {
  const char* name;
  const char* employer_prefix;
};
const Place kInCounty[] = {{"县城", "本县"}, {"县工业园区", "本县"}, {"本乡镇", "本县"}, {"本村", "本县"}};
const Place kInProvince[] = {{"贵阳市", "贵州"}, {"凯里市", "贵州"}, {"遵义市", "贵州"}, {"都匀市", "贵州"},
                             {"六盘水市", "贵州"}, {"安顺市", "贵州"}, {"毕节市", "贵州"}};
const Place kOutProvince[] = {
    {"广东省东莞市", "广东"}, {"广东省深圳市", "深圳"}, {"广东省广州市", "广州"}, {"广东省佛山市", "佛山"},
    {"广东省中山市", "中山"}, {"浙江省宁波市", "宁波"}, {"浙江省温州市", "温州"}, {"浙江省金华市", "浙江"},
    {"福建省泉州市", "泉州"}, {"福建省厦门市", "厦门"}, {"江苏省苏州市", "苏州"}, {"上海市", "上海"},
    {"广西壮族自治区柳州市", "广西"}, {"湖南省长沙市", "湖南"}, {"云南省昆明市", "云南"}};
const Place kAbroad[] = {{"柬埔寨金边", "柬埔寨"}, {"老挝万象", "老挝"}, {"马来西亚吉隆坡", "马来西亚"}};
const char* const kTrades[] = {"鑫达", "宏远", "华盛", "恒通", "永兴", "金诚", "瑞丰", "隆鑫", "天成", "盛世",
                               "众合", "新锐", "博远", "嘉禾", "德润", "富康", "聚力", "安泰", "兴旺", "华夏"};
const char* const kIndustries[] = {"建筑工程", "电子科技", "服装", "物流", "食品", "家具制造", "劳务派遣",
                                   "餐饮管理", "物业服务", "农业开发", "五金制品", "汽车配件", "鞋业", "玩具"};

// Rich columns (RosterSpec::rich).
const char* const kEthnicities[] = {"苗族", "侗族", "汉族", "苗族", "侗族", "苗族", "水族", "布依族", "土家族", "瑶族"};
const char* const kEducation[] = {"小学", "初中", "初中", "初中", "高中", "中专", "大专及以上", "文盲或半文盲"};
const char* const kSkills[] = {"电焊", "砌筑", "钢筋工", "厨师", "电工", "驾驶", "缝纫", "家政服务", "养殖", "种植",
                               "汽车维修", "美容美发", "电子装配", "叉车", "刺绣"};
const char* const kTraining[] = {"电工培训", "焊工培训", "厨师培训", "家政培训", "驾驶培训", "电商培训", "养殖技术",
                                 "种植技术", "无", "无"};
const char* const kIntentions[] = {"外出务工", "就近就业", "自主创业", "公益性岗位", "灵活就业", "继续务农"};
const char* const kServices[] = {"岗位推荐", "技能培训", "创业贷款", "劳务输出对接", "无", "无", "无"};
const char* const kRemarks[] = {"已入户核实", "电话核实", "本人在外，家属代填", "需再次核实务工单位", "已发放补贴"};
const char* const kSources[] = {"企业", "企业", "企业", "企业", "扶贫车间", "公益性岗位", "灵活就业", "自主创业"};
const char* const kAgencies[] = {"县人力资源服务中心", "县劳务公司", "乡镇劳务工作站", "驻外劳务工作站"};
const char* const kSites[] = {"县城易地扶贫搬迁安置区", "城南安置点", "工业园区安置点", "集镇安置点"};
const char* const kGroups[] = {"一组", "二组", "三组", "四组", "五组", "六组", "上寨", "下寨", "中寨"};

class Generator {
 public:
  explicit Generator(const RosterSpec& spec) : spec_(spec), rng_(spec.seed * 0x9E3779B97F4A7C15ULL + 0x5EED) {
    if (!spec.township.empty())
      for (auto& v : spec.villages) (v.compare(0, spec.township.size(), spec.township) == 0 ? in_township_ : outside_).push_back(v);
    as_of_ = CivilDate{spec.period_year, 11, 30};
    last_month_ = YearMonth{spec.period_year, 11};
  }

  Roster run() {
    Roster out;
    out.persons.reserve(spec_.persons);
    size_t remaining = spec_.persons;
    while (remaining > 0) {
      size_t size = static_cast<size_t>(rng_.between(2, 6));
      if (remaining < 2) {
        size = remaining;
      } else if (remaining - std::min(size, remaining) < 2) {
        size = remaining <= 6 ? remaining : remaining - 2;  // never leave a lone last person
      }
      household(size, out);
      remaining -= size;
    }
    for (auto& p : out.persons) {
      bool able = p.labour == "普通劳动力" || p.labour == "技能劳动力";
      out.employed += p.status == "已就业";
      if (able && p.status != "已就业") {
        ++out.unemployed;
        out.willing += p.willing == "有";
      }
      out.returned += p.returned == "是";
    }
    return out;
  }

 private:
  struct Member {
    const char* relation;
    int age;
    bool male;
  };

  void household(size_t size, Roster& out) {
    const std::vector<std::string>* from = &spec_.villages;
    if (!in_township_.empty()) {
      from = township_count_ < spec_.township_persons || outside_.empty() ? &in_township_ : &outside_;
      if (from == &in_township_) township_count_ += size;
    }
    const std::string& village = rng_.pick(*from);
    size_t& counter = household_counter_[village];
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04zu", ++counter);
    std::string household_no = village + buf;
    ++out.households;

    std::string surname = rng_.chance(0.01) ? rng_.pick(kCompoundSurnames) : surname_draw();
    std::vector<Member> members;
    int head_age = rng_.chance(0.7) ? rng_.between(35, 58) : rng_.between(25, 62);
    bool head_male = rng_.chance(0.88);
    members.push_back({"户主", head_age, head_male});
    int parents = 0;
    for (size_t i = 1; i < size; ++i) {
      if (i == 1 && rng_.chance(0.85)) {
        members.push_back({"配偶", std::clamp(head_age + rng_.between(-5, 4), 20, 64), !head_male});
        continue;
      }
      double r = rng_.unit();
      int max_child_age = head_age - 20;
      if (max_child_age >= 16 && r < 0.72) {
        members.push_back({"子女", rng_.between(16, std::min(max_child_age, 40)), rng_.chance(0.52)});
      } else if (parents < 2 && r < 0.90) {
        int age = head_age + rng_.between(22, 30);
        if (age > 64 && !rng_.chance(0.45)) age = rng_.between(55, 64);  // most parents kept in working age
        members.push_back({"父母", age, parents == 0 ? rng_.chance(0.5) : !members.back().male});
        ++parents;
      } else if (r < 0.97) {
        members.push_back({"兄弟姐妹", std::clamp(head_age + rng_.between(-8, 8), 16, 64), rng_.chance(0.5)});
      } else if (head_age >= 55 && r < 0.99) {
        members.push_back({"孙子女", rng_.between(16, 19), rng_.chance(0.5)});
      } else {
        members.push_back({"其他", rng_.between(18, 60), rng_.chance(0.5)});
      }
    }
    for (auto& m : members) out.persons.push_back(person(village, household_no, surname, m));
  }

  std::string surname_draw() {
    // Skewed towards the front of the list: the minimum of two uniform draws.
    size_t n = std::size(kSurnames);
    return kSurnames[std::min(rng_.below(n), rng_.below(n))];
  }

  std::string name_of(const std::string& household_surname, const Member& m) {
    ++name_seq_;
    if (name_seq_ % 331 == 17 || rng_.chance(0.002)) return rng_.pick(kMinorityNames);
    // Spouses and parents (and now and then others) have their own surname.
    std::string surname = household_surname;
    std::string_view rel = m.relation;
    bool own_surname = rel == "配偶" || (rel == "父母" && !m.male) || rng_.chance(0.03);
    if (own_surname)
      surname = rng_.chance(0.005) ? rng_.pick(kCompoundSurnames) : surname_draw();
    std::string given = m.male ? rng_.pick(kMaleChars) : rng_.pick(kFemaleChars);
    if (rng_.chance(0.72)) given += m.male ? rng_.pick(kMaleChars) : rng_.pick(kFemaleChars);
    if (name_seq_ % 997 == 41 || rng_.chance(0.001)) given = rng_.chance(0.5) ? rng_.pick(kAstralChars) + given.substr(0, 3)
                                                                              : given.substr(0, 3) + rng_.pick(kAstralChars);
    return surname + given;
  }

  // A unique 18-character ID of the village's county for someone of `age` on the as-of date.
  std::string id_number(const std::string& county6, int age, bool male, CivilDate* birth_out) {
    int64_t anchor = days_from_civil(CivilDate{as_of_.year - age, as_of_.month, as_of_.day});
    for (int attempt = 0;; ++attempt) {
      CivilDate birth = civil_from_days(anchor - static_cast<int64_t>(rng_.below(365)));
      int seq = rng_.between(0, 499) * 2 + (male ? 1 : 0);  // odd for men, even for women
      char first17[24];
      std::snprintf(first17, sizeof first17, "%s%04d%02d%02d%03d", county6.c_str(), birth.year, birth.month, birth.day, seq);
      if (!ids_.insert(first17).second) {
        if (attempt > 1000) throw std::runtime_error("roster_gen: ID space exhausted");
        continue;
      }
      *birth_out = birth;
      return std::string(first17) + idn::check_char(first17);
    }
  }

  std::string phone() {
    for (;;) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "1%d%09llu", rng_.between(3, 9), static_cast<unsigned long long>(rng_.below(1000000000ULL)));
      if (phones_.insert(buf).second) return buf;
    }
  }

  GenPerson person(const std::string& village, const std::string& household_no, const std::string& surname, const Member& m) {
    GenPerson p;
    p.village = village;
    p.household_no = household_no;
    p.relation = m.relation;
    p.name = name_of(surname, m);
    CivilDate birth;
    p.id_number = id_number(village.substr(0, 6), m.age, m.male, &birth);
    if (rng_.chance(0.97)) p.phone = phone();

    double lr = rng_.unit();
    if (m.age > 64 && rng_.chance(0.5)) p.labour = "丧失劳动力";
    else if (lr < 0.03) p.labour = "丧失劳动力";
    else if (lr < 0.045) p.labour = "无劳动力";
    else if (lr < 0.80) p.labour = "普通劳动力";
    else p.labour = "技能劳动力";
    bool able = p.labour == "普通劳动力" || p.labour == "技能劳动力";

    // The earliest month the person was 16 in (the start month's min-age rule), one month of margin.
    YearMonth earliest{birth.year + 16, birth.month + 1};
    if (earliest.month > 12) earliest = YearMonth{earliest.year + 1, 1};
    if (able && rng_.chance(0.70) && earliest <= last_month_) {
      p.status = "已就业";
      job(p, earliest);
    } else if (able) {
      p.status = rng_.chance(0.6) ? "未就业" : "失业";
      p.willing = rng_.chance(0.45) ? "有" : "无";
    } else {
      p.status = "未就业";
    }
    p.returned = rng_.chance(0.05) ? "是" : "否";
    return p;
  }

  void job(GenPerson& p, YearMonth earliest) {
    double b = rng_.unit();
    const Place* place;
    if (b < 0.30) p.bucket = "县内", place = &rng_.pick(kInCounty);
    else if (b < 0.55) p.bucket = "省内县外", place = &rng_.pick(kInProvince);
    else if (b < 0.98) p.bucket = "省外", place = &rng_.pick(kOutProvince);
    else p.bucket = "境外", place = &rng_.pick(kAbroad);
    p.place = place->name;
    if (p.bucket == "县内" && rng_.chance(0.15)) {
      p.employer = std::string("本村就业扶贫车间");
    } else {
      p.employer = std::string(place->employer_prefix) + rng_.pick(kTrades) + rng_.pick(kIndustries) +
                   (rng_.chance(0.9) ? "有限公司" : "有限责任公司");
    }
    // Start month: mostly within the period year, else up to eight years before; never before the
    // person turned 16, never after the as-of month.
    YearMonth first_of_year{spec_.period_year, 1};
    YearMonth start;
    if (rng_.chance(0.7)) start = YearMonth{spec_.period_year, rng_.between(1, last_month_.month)};
    else start = YearMonth{spec_.period_year - rng_.between(1, 8), rng_.between(1, 12)};
    if (start < earliest) start = earliest;
    p.start_month = format_year_month(start);
    int elapsed = last_month_.index() - std::max(start, first_of_year).index() + 1;
    p.months = std::to_string(rng_.between(1, std::min(10, elapsed)));
    p.income = std::to_string(rng_.between(15, 90) * 100);
    bool organised = rng_.chance(0.3);
    p.organised = organised ? "是" : "否";
    p.p2p = organised && (p.bucket == "省外" || p.bucket == "省内县外") && rng_.chance(0.5) ? "是" : "否";
  }

  const RosterSpec& spec_;
  Rng rng_;
  CivilDate as_of_;
  YearMonth last_month_;
  size_t name_seq_ = 0;
  std::vector<std::string> in_township_, outside_;
  size_t township_count_ = 0;
  std::map<std::string, size_t> household_counter_;
  std::unordered_set<std::string> ids_, phones_;
};

// The rich columns, from a generator of their own (the base roster does not depend on them).
void enrich(Roster& r, const RosterSpec& spec) {
  r.rich = true;
  Rng rng(spec.seed * 0xD1B54A32D192ED03ULL + 0x21C4);
  const CivilDate as_of{spec.period_year, 11, 30};
  for (size_t i = 0; i < r.persons.size();) {
    // A household: consecutive rows with the same 户编号; its columns are written on every row.
    size_t j = i;
    while (j < r.persons.size() && r.persons[j].household_no == r.persons[i].household_no) ++j;
    std::string head_name = r.persons[i].name, address;
    address = std::string(rng.pick(kGroups)) + std::to_string(rng.between(1, 120)) + "号";
    bool relocated = rng.chance(0.12);
    std::string mode = relocated ? (rng.chance(0.8) ? "集中安置" : "分散安置") : "";
    std::string site = relocated && mode == "集中安置" ? rng.pick(kSites) : "";
    std::string ethnicity = rng.pick(kEthnicities);
    for (size_t k = i; k < j; ++k) {
      auto& p = r.persons[k];
      p.head_name = head_name;
      p.address = address;
      p.relocated = relocated ? "是" : "否";
      p.relocation_mode = mode;
      p.relocation_site = site;
      p.ethnicity = rng.chance(0.9) ? ethnicity : rng.pick(kEthnicities);
      CivilDate birth{std::stoi(p.id_number.substr(6, 4)), std::stoi(p.id_number.substr(10, 2)), std::stoi(p.id_number.substr(12, 2))};
      int age = age_on(birth, as_of);
      p.education = age > 55 && rng.chance(0.5) ? "小学" : rng.pick(kEducation);
      double h = rng.unit();
      p.health = p.labour == "丧失劳动力" || p.labour == "无劳动力" ? (h < 0.5 ? "长期慢性病" : h < 0.8 ? "残疾" : "患有大病")
                                                                     : (h < 0.95 ? "健康" : "长期慢性病");
      bool able = p.labour == "普通劳动力" || p.labour == "技能劳动力";
      if (able && (p.labour == "技能劳动力" || rng.chance(0.4))) p.skills = rng.pick(kSkills);
      if (able) p.training_need = rng.pick(kTraining);
      if (able) p.intention = p.status == "已就业" && rng.chance(0.8) ? "稳定现有工作" : rng.pick(kIntentions);
      p.service_needs = rng.pick(kServices);
      p.student = age <= 22 && rng.chance(0.3) ? "是" : "否";
      if (rng.chance(0.3)) p.remarks = rng.pick(kRemarks);
      if (p.willing == "有") p.willing_where = rng.chance(0.5) ? "省外" : rng.chance(0.5) ? "省内县外" : "县内";
      if (p.returned == "是") {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", spec.period_year, rng.between(1, 11), rng.between(1, 28));
        p.returned_date = buf;
      }
      if (p.status == "已就业") {
        if (p.employer != "本村就业扶贫车间") {
          static const char kCodeChars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
          p.credit_code = "91";
          for (int c = 0; c < 16; ++c) p.credit_code += kCodeChars[rng.below(sizeof kCodeChars - 1)];
          p.source = rng.pick(kSources);
        } else {
          p.source = "扶贫车间";
        }
        p.industry = p.employer.find("建筑") != std::string::npos ? "建筑业"
                     : p.employer.find("餐饮") != std::string::npos ? "住宿和餐饮业"
                     : p.employer.find("物流") != std::string::npos ? "交通运输业"
                                                                        : "制造业";
        bool contract = rng.chance(0.6);
        p.contract = contract ? "是" : "否";
        if (contract) p.contract_months = std::to_string(rng.pick({6, 12, 12, 24, 36}));
        p.insured = rng.chance(0.55) ? "是" : "否";
        if (p.organised == "是") {
          p.agency = rng.pick(kAgencies);
          p.fare = std::to_string(rng.between(8, 60) * 10);
        }
      }
    }
    i = j;
  }
}

}  // namespace

Roster generate_roster(const RosterSpec& spec) {
  if (spec.persons == 0) return {};
  if (spec.villages.empty()) throw std::invalid_argument("roster_gen: no villages");
  for (auto& v : spec.villages)
    if (v.size() != 12 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw std::invalid_argument("roster_gen: not a 12-digit village code: " + v);
  Roster r = Generator(spec).run();
  if (spec.rich) enrich(r, spec);
  CivilDate as_of{spec.period_year, 11, 30};
  for (auto& p : r.persons) {
    CivilDate birth{std::stoi(p.id_number.substr(6, 4)), std::stoi(p.id_number.substr(10, 2)), std::stoi(p.id_number.substr(12, 2))};
    r.older += age_on(birth, as_of) > 64;
  }
  return r;
}

const std::vector<std::string>& roster_headers(bool rich) {
  static const std::vector<std::string> h = {"村代码",   "户编号",   "姓名",     "身份证号",     "与户主关系", "联系电话",
                                             "劳动技能", "就业状态", "务工地域", "务工地点",     "务工单位",   "务工开始年月",
                                             "务工月数", "月收入",   "有组织输出", "点对点输送", "外出意愿",   "返乡回流"};
  static const std::vector<std::string> rich_h = [] {
    auto out = h;
    for (const char* c : {"民族", "文化程度", "健康状况", "掌握技能", "培训需求", "就业意向", "服务需求", "在校生", "备注",
                          "意愿务工地域", "返乡日期", "户主姓名", "家庭住址", "易地扶贫搬迁", "安置方式", "安置点",
                          "统一社会信用代码", "所属行业", "就业渠道", "签订劳动合同", "合同期限(月)", "参加社会保险",
                          "输出机构", "交通费用"})
      out.push_back(c);
    return out;
  }();
  return rich ? rich_h : h;
}

std::string roster_csv(const Roster& roster, bool bom) {
  csv::Writer w(bom);
  w.add_row(roster_headers(roster.rich));
  std::vector<std::string> cells(roster_headers(roster.rich).size());
  for (auto& p : roster.persons) {
    cells = {p.village, p.household_no, p.name,       p.id_number, p.relation, p.phone,     p.labour,
             p.status,  p.bucket,       p.place,      p.employer,  p.start_month, p.months, p.income,
             p.organised, p.p2p,        p.willing,    p.returned};
    if (roster.rich)
      cells.insert(cells.end(), {p.ethnicity, p.education, p.health, p.skills, p.training_need, p.intention, p.service_needs,
                                 p.student, p.remarks, p.willing_where, p.returned_date, p.head_name, p.address, p.relocated,
                                 p.relocation_mode, p.relocation_site, p.credit_code, p.industry, p.source, p.contract,
                                 p.contract_months, p.insured, p.agency, p.fare});
    w.add_row(cells);
  }
  return w.take();
}

std::vector<std::string> villages_of_tree(std::string_view tree_csv) {
  auto tree = region::RegionTree::parse_csv(tree_csv, "bench").take();
  std::vector<std::string> out;
  for (auto* r : tree.villages()) out.push_back(r->code);
  return out;
}

}  // namespace tz::bench
