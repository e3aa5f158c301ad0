// FlatMap's look-up by an integer key, and SmallVector against std::vector: the same results for every operation the code uses, inline and
// on the heap, with elements that own memory (ASan in the ci preset catches a lost or doubled one).
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "tz/util/flat_map.hpp"
#include "tz/util/small_vector.hpp"

using tz::SmallVector;

namespace {

// Long enough to live on the heap, so a copy or destroy that goes wrong shows.
std::string item(int i) { return "element number " + std::to_string(i) + " with a long tail"; }

template <typename V>
std::vector<std::string> as_vector(const V& v) {
  return std::vector<std::string>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("SmallVector keeps its first element inline and grows onto the heap", "[util][small_vector]") {
  SmallVector<std::string, 1> v;
  CHECK(v.empty());
  CHECK(v.capacity() == 1);
  v.push_back(item(0));
  CHECK(v.capacity() == 1);  // still inline
  const std::string* inline_at = v.data();
  v.push_back(item(1));
  CHECK(v.data() != inline_at);  // moved to the heap
  for (int i = 2; i < 40; ++i) v.emplace_back(item(i));
  REQUIRE(v.size() == 40);
  for (int i = 0; i < 40; ++i) CHECK(v[i] == item(i));
  CHECK(v.front() == item(0));
  CHECK(v.back() == item(39));
  CHECK_THROWS_AS(v.at(40), std::out_of_range);
  // Appending an element of itself when full: the new element is made before the storage moves.
  SmallVector<std::string, 1> self{item(7)};
  self.push_back(self[0]);
  CHECK(as_vector(self) == std::vector<std::string>{item(7), item(7)});
}

TEST_CASE("SmallVector copies and moves inline and heap contents", "[util][small_vector]") {
  for (int n : {0, 1, 2, 9}) {
    INFO(n);
    SmallVector<std::string, 1> a;
    for (int i = 0; i < n; ++i) a.push_back(item(i));
    const auto want = as_vector(a);
    SmallVector<std::string, 1> copy(a);
    CHECK(as_vector(copy) == want);
    CHECK(copy == a);
    SmallVector<std::string, 1> moved(std::move(copy));
    CHECK(as_vector(moved) == want);
    CHECK(copy.empty());  // NOLINT: a moved-from SmallVector is empty and usable
    copy.push_back(item(99));
    CHECK(copy.size() == 1);
    SmallVector<std::string, 1> assigned{item(50), item(51), item(52)};
    assigned = a;
    CHECK(as_vector(assigned) == want);
    SmallVector<std::string, 1> move_assigned{item(60)};
    move_assigned = std::move(assigned);
    CHECK(as_vector(move_assigned) == want);
    const auto& same = move_assigned;
    move_assigned = same;  // self-assignment keeps the contents
    CHECK(as_vector(move_assigned) == want);
  }
}

TEST_CASE("SmallVector insert - erase - erase_if - resize behave as std::vector's", "[util][small_vector]") {
  std::mt19937 rng(7);
  SmallVector<std::string, 1> s;
  std::vector<std::string> v;
  for (int step = 0; step < 3000; ++step) {
    const int op = static_cast<int>(rng() % 6);
    const size_t at = v.empty() ? 0 : rng() % (v.size() + 1);
    if (op == 0 || v.size() < 2) {
      s.insert(s.begin() + at, item(step));
      v.insert(v.begin() + static_cast<long>(at), item(step));
    } else if (op == 1 && at < v.size()) {
      s.erase(s.begin() + at);
      v.erase(v.begin() + static_cast<long>(at));
    } else if (op == 2) {
      const size_t b = std::min(at, v.size()), e = std::min(v.size(), b + rng() % 3);
      s.erase(s.begin() + b, s.begin() + e);
      v.erase(v.begin() + static_cast<long>(b), v.begin() + static_cast<long>(e));
    } else if (op == 3) {
      const char last = static_cast<char>('0' + rng() % 10);
      // The last digit of the item's number (resize adds empty strings: those stay).
      auto odd = [&](const std::string& x) { return x.size() > 18 && x[x.size() - 18] == last; };
      erase_if(s, odd);
      std::erase_if(v, odd);
    } else if (op == 4) {
      const size_t n = rng() % 6;
      s.resize(n);
      v.resize(n);
    } else {
      s.push_back(item(step));
      v.push_back(item(step));
    }
    REQUIRE(as_vector(s) == v);
  }
  s.clear();
  CHECK(s.empty());
  s.reserve(10);
  CHECK(s.capacity() >= 10);
}

TEST_CASE("FlatMap finds every integer key present and no other - with gaps - dense - or negative", "[util][small_vector]") {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    tz::FlatMap<int, int> m;
    std::set<int> keys;
    const int lo = static_cast<int>(rng() % 40) - 20, span = 1 + static_cast<int>(rng() % 60);
    const int every = 1 + static_cast<int>(rng() % 4);  // 1: no gaps
    for (int k = lo; k < lo + span; ++k)
      if ((k - lo) % every == 0 || rng() % 5 == 0) {
        m[k] = k * 10;
        keys.insert(k);
      }
    for (int k = lo - 5; k < lo + span + 5; ++k) {
      INFO("round " << round << " key " << k);
      const auto it = std::as_const(m).find(k);
      if (keys.count(k)) {
        REQUIRE(it != m.end());
        CHECK(it->first == k);
        CHECK(it->second == k * 10);
        CHECK(m.find(k)->second == k * 10);
      } else {
        CHECK(it == m.end());
        CHECK(m.count(k) == 0);
      }
    }
  }
}
