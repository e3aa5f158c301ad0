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

class Generator {
 public:
  explicit Generator(const RosterSpec& spec) : spec_(spec), rng_(spec.seed * 0x9E3779B97F4A7C15ULL + 0x5EED) {
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
    const std::string& village = rng_.pick(spec_.villages);
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
  std::map<std::string, size_t> household_counter_;
  std::unordered_set<std::string> ids_, phones_;
};

}  // namespace

Roster generate_roster(const RosterSpec& spec) {
  if (spec.persons == 0) return {};
  if (spec.villages.empty()) throw std::invalid_argument("roster_gen: no villages");
  for (auto& v : spec.villages)
    if (v.size() != 12 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw std::invalid_argument("roster_gen: not a 12-digit village code: " + v);
  Roster r = Generator(spec).run();
  CivilDate as_of{spec.period_year, 11, 30};
  for (auto& p : r.persons) {
    CivilDate birth{std::stoi(p.id_number.substr(6, 4)), std::stoi(p.id_number.substr(10, 2)), std::stoi(p.id_number.substr(12, 2))};
    r.older += age_on(birth, as_of) > 64;
  }
  return r;
}

const std::vector<std::string>& roster_headers() {
  static const std::vector<std::string> h = {"村代码",   "户编号",   "姓名",     "身份证号",     "与户主关系", "联系电话",
                                             "劳动技能", "就业状态", "务工地域", "务工地点",     "务工单位",   "务工开始年月",
                                             "务工月数", "月收入",   "有组织输出", "点对点输送", "外出意愿",   "返乡回流"};
  return h;
}

std::string roster_csv(const Roster& roster, bool bom) {
  csv::Writer w(bom);
  w.add_row(roster_headers());
  std::vector<std::string> cells(roster_headers().size());
  for (auto& p : roster.persons) {
    cells = {p.village, p.household_no, p.name,       p.id_number, p.relation, p.phone,     p.labour,
             p.status,  p.bucket,       p.place,      p.employer,  p.start_month, p.months, p.income,
             p.organised, p.p2p,        p.willing,    p.returned};
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
