// Fuzz target: the ID and phone normalisers and the text layers under them (SPEC §4): resident-ID
// and 残疾证号 checks, the 15-to-18 conversion, masking, phone checks, encoding detection, the CSV
// reader and Excel's damaged forms. Properties: a valid ID's normal form checks valid again and its
// mask keeps its length; a 15-digit ID converts to an 18-digit one that checks; normalising a phone
// twice changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tz/model/id_number.hpp"
#include "tz/model/phone.hpp"
#include "tz/util/csv.hpp"
#include "tz/util/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const tz::CivilDate today{2026, 11, 1};

  auto id = tz::idn::check_id(in, today);
  if (id.ok()) {
    if (id.id18.size() != 18) std::abort();
    auto again = tz::idn::check_id(id.normalized, today);
    if (!again.ok() || again.normalized != id.normalized) std::abort();
    if (tz::idn::mask_id(id.normalized).size() != id.normalized.size()) std::abort();
  }
  auto digits = tz::idn::normalize_id_input(in);
  if (digits.size() == 15)
    if (auto id18 = tz::idn::convert_15_to_18(digits); id18 && id18->size() != 18) std::abort();

  auto phone = tz::phone::check_phone(in);
  if (phone.ok) {
    auto again = tz::phone::check_phone(phone.normalized);
    if (!again.ok || again.normalized != phone.normalized) std::abort();
  }

  if (auto text = tz::encoding::to_utf8(in); text.ok()) (void)tz::csv::parse(text.value());
  (void)tz::csv::unwrap_excel_text(in);
  (void)tz::csv::looks_excel_damaged_number(in);
  return 0;
}
