#!/usr/bin/env python3
"""Writes corpus.csv: the dedup corpus with ground truth (tests/dedup, bench/bench_dedup.cpp).

Rows with the same `person` are one human being (true duplicates); any two rows with different
`person` values are different people. `case` names the situation; `corrected_id` is the ID the row
is later corrected to (the test applies it and expects an exact duplicate). IDs get their real GB 11643
check characters here; the tests check every non-empty ID again with tz::idn::check_id.
Run: python3 tests/data/dedup/make_corpus.py > tests/data/dedup/corpus.csv
"""
import csv, sys

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C = "10X98765432"

def rid(div, birth, seq):
    first17 = f"{div}{birth}{seq:03d}"
    return first17 + C[sum(int(a) * b for a, b in zip(first17, W)) % 11]

def legacy15(div, birth, seq):  # births before 2000: YYMMDD
    return f"{div}{birth[2:]}{seq:03d}"

V1, V2, V3, V4 = "522632100001", "522632100002", "522632100003", "522632100006"
D = "522632"
rows = []
def add(person, case, name, idn="", phone="", household="", village="", relation="", corrected="", note=""):
    rows.append(dict(row=f"r{len(rows) + 1:03d}", person=person, case=case, name=name, id_number=idn,
                     phone=phone, household=household, village=village, relation=relation,
                     corrected_id=corrected, note=note))

# Positives -----------------------------------------------------------------------------------
# The same person registered in two villages; the second ID has a wrong (still valid) sequence and is
# later corrected to match.
for i, (name, birth, seq, bad, ph) in enumerate([("李明", "19860314", 131, 137, "13812340001"),
                                               ("吴秀英", "19720905", 246, 248, ""),
                                               ("欧阳建华", "19951122", 315, 351, "13912340002")]):
    good = rid(D, birth, seq)
    add(f"P{i + 1}", "two_villages_corrected", name, good, ph, f"HA{i}", V1, "01")
    add(f"P{i + 1}", "two_villages_corrected", name, rid(D, birth, bad), ph, f"HB{i}", V2, "01", good,
        "registered again in another village; ID sequence mistyped")
# A valid-but-wrong sequence in the same household or village.
for i, (name, birth, seq, bad, same_hh) in enumerate([("杨秀兰", "19800101", 224, 228, True),
                                                    ("龙建军", "19900707", 113, 117, True),
                                                    ("潘玉梅", "19880218", 422, 442, False)]):
    hh = f"HW{i}"
    add(f"W{i + 1}", "wrong_sequence", name, rid(D, birth, seq), f"1370000{i:04d}", hh, V3, "02")
    add(f"W{i + 1}", "wrong_sequence", name, rid(D, birth, bad), f"1370000{i:04d}" if same_hh else "",
        hh if same_hh else f"HX{i}", V3, "02", "", "valid ID with a wrong sequence")
# Homophones 张伟 / 章伟 and others.
add("H1", "homophone", "张伟", rid(D, "19930512", 171), "15011112222", "HH0", V1, "03")
add("H1", "homophone", "章伟", "", "15011112222", "HH1", V1, "03", "", "同音字, no ID, same phone")
add("H2", "homophone", "王芳", rid(D, "19830420", 262), "", "HH2", V2, "02")
add("H2", "homophone", "汪芳", "", "", "HH2", V2, "02", "", "同音字 in the same household, no ID")
add("H3", "homophone", "陈静", rid(D, "19910830", 382), "18722223333", "HH3", V3, "03")
add("H3", "homophone", "陈晶", rid(D, "19910830", 388), "18722223333", "HH4", V4, "03", "",
    "同音字 and a mistyped sequence, another village")
# 15-digit legacy IDs (births before 2000) and their 18-digit forms: exact duplicates.
for i, (name, birth, seq) in enumerate([("张国强", "19650403", 153), ("罗桂香", "19780619", 264),
                                        ("石光荣", "19580101", 315)]):
    add(f"L{i + 1}", "legacy15", name, legacy15(D, birth, seq), "", f"HL{i}", V4, "01", "", "15-digit legacy ID")
    add(f"L{i + 1}", "legacy15", name, rid(D, birth, seq), "", f"HM{i}", V4, "01")
# The same ID written differently: a 残疾证号 (the ID, category 1-7, grade 1-4) and the plain ID; full-width
# digits with spaces and a lower-case x. Exact duplicates.
add("D1", "id_forms", "潘阿妹", rid(D, "19790517", 426) + "23", "", "HD0", V2, "01", "", "残疾证号 of the same ID")
add("D1", "id_forms", "潘阿妹", rid(D, "19790517", 426), "", "HD1", V3, "01")
wide = rid(D, "19820228", 101)
wide = wide[:-1] + "x" if wide.endswith("X") else wide
add("D2", "id_forms", "杨正武", "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in wide[:6]) + " " + wide[6:], "",
    "HD2", V4, "01", "", "full-width digits and a space")
add("D2", "id_forms", "杨正武", rid(D, "19820228", 101), "", "HD3", V1, "01")
# A minority name with and without the separator "·".
add("N1", "minority_separator", "阿依古丽·买买提", rid(D, "19940101", 302), "", "HN9", V4, "02")
add("N1", "minority_separator", "阿依古丽买买提", "", "", "HN9", V4, "02", "", "the separator left out, no ID")
# Missing IDs.
add("M1", "missing_id", "吴天明", rid(D, "19750909", 191), "", "HN0", V1, "01")
add("M1", "missing_id", "吴天明", "", "", "HN0", V1, "", "", "no ID, same household")
add("M2", "missing_id", "杨梅", rid(D, "19870211", 282), "13600001111", "HN1", V2, "02")
add("M2", "missing_id", "杨梅", "", "13600001111", "HN2", V2, "02", "", "no ID, another household, same phone")
add("M3", "missing_id", "姚远", "", "", "HN3", V3, "03")
add("M3", "missing_id", "姚远", "", "", "HN3", V3, "03", "", "neither has an ID, same household")
add("M4", "missing_id", "麻卫东", "52263219700101351", "13755556666", "HN4", V4, "01", "",
    "17 digits: an ID that does not pass is treated as missing")
add("M4", "missing_id", "麻卫东", rid(D, "19700101", 353), "13755556666", "HN4", V4, "01")

# Hard negatives ------------------------------------------------------------------------------
# Twins: one household, one birth date, different given names, distinct valid IDs.
for i, (a, b, birth, s1, s2) in enumerate([("杨光明", "杨光亮", "20010315", 111, 113),
                                         ("龙丽", "龙莉", "19990808", 222, 224),
                                         ("吴春花", "吴秋花", "20030120", 322, 324)]):
    hh = f"HT{i}"
    add(f"T{i}a", "twins", a, rid(D, birth, s1), "13500000000", hh, V1, "03")
    add(f"T{i}b", "twins", b, rid(D, birth, s2), "13500000000", hh, V1, "03", "", "twin")
# Homophone siblings in one household (different birth dates).
add("S1a", "homophone_siblings", "张伟", rid(D, "19900101", 131), "", "HS0", V2, "03")
add("S1b", "homophone_siblings", "张维", rid(D, "19930615", 133), "", "HS0", V2, "03", "", "brother")
add("S2a", "homophone_siblings", "李静", rid(D, "19950303", 242), "13344445555", "HS1", V2, "03")
add("S2b", "homophone_siblings", "李婧", rid(D, "19970909", 244), "13344445555", "HS1", V2, "03", "", "sister")
# Father and son of the same name.
add("F1a", "father_son", "王建国", rid(D, "19650808", 151), "13911110000", "HF0", V3, "01")
add("F1b", "father_son", "王建国", rid(D, "19900101", 173), "13911110000", "HF0", V3, "03", "", "son")
add("F2a", "father_son", "杨德明", rid(D, "19600505", 191), "", "HF1", V3, "01")
add("F2b", "father_son", "杨德明", "", "", "HF1", V3, "03", "", "son without an ID; the relation tells")
add("F3a", "father_son", "龙正华", rid(D, "19580312", 211), "", "HF2", V4, "04")
add("F3b", "father_son", "龙正华", rid(D, "19851020", 235), "", "HF3", V4, "01", "", "son, own household")
# A common name five times in one village, different IDs.
for i, (birth, seq) in enumerate([("19800101", 222), ("19821212", 244), ("19850606", 266), ("19880808", 288),
                                  ("19910303", 200)]):
    add(f"C{i}", "common_name", "刘洋", rid(D, birth, seq), f"1590000{i:04d}", f"HC{i}", V1, "01")

w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0].keys()), lineterminator="\n")
w.writeheader()
w.writerows(rows)
