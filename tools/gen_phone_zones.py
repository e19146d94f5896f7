#!/usr/bin/env python3
"""Generate data/phone_zones.tsv from libphonenumber's data as shipped in the
`phonenumbers` package (pip install phonenumbers==9.0.43).

    python3 tools/gen_phone_zones.py [OUTPUT_PATH]      (default data/phone_zones.tsv)

Writes OUTPUT_PATH and, next to it, LICENSE-libphonenumber.txt. The output is
deterministic: rerunning with the same package version gives identical bytes
(tests/phone_data.rs checks that against the committed files).

The table holds three things Prospero's phone code needs (src/timezone/):
- libphonenumber's time-zone prefix map, every entry, all countries;
- the country calling codes, so '+' numbers can be checked;
- for the North American Numbering Plan, which area codes (NPA) and, where the
  metadata is finer than that, which exchanges (NXX) are in use and of which
  number type. libphonenumber answers "the whole of +1" for toll-free, premium,
  personal and other non-geographic numbers, so the type decides which zone
  rule applies.

Number types are computed the way libphonenumber does (region by leading
digits or by first region whose patterns match, then type by the fixed
priority of its type checks), on one representative line number per
exchange. Where a region's patterns look past the exchange (Barbados and
Jamaica split some exchanges by the first digit of the line number), every
exchange of that region's area codes is also classified per block of 1,000
lines, and exchanges whose blocks differ get one kind per block. Patterns that
look deeper than that stop the generator: the table could not hold them.
"""

import os
import re
import re._constants as sre_constants
import re._parser as sre_parse
import sys
from collections import defaultdict

try:
    import phonenumbers
    from phonenumbers import PhoneMetadata
    from phonenumbers.tzdata import TIMEZONE_DATA
    import phonenumbers.tzdata as tzdata_module
    import phonenumbers.phonenumberutil as phonenumberutil
except ImportError:
    sys.exit("gen_phone_zones.py needs the phonenumbers package: pip install phonenumbers==9.0.43")

# Line numbers tried for each NPA-NXX, in order (see the module doc).
SAMPLE_LINES = ("2345", "7890")

# Type checks in libphonenumber's order (_number_type_helper); the letter is
# what the table stores. Fixed line and mobile are handled after these.
TYPE_PRIORITY = (
    ("premium_rate", "P"),
    ("toll_free", "T"),
    ("shared_cost", "S"),
    ("voip", "V"),
    ("personal_number", "R"),
    ("pager", "A"),
    ("uan", "U"),
    ("voicemail", "W"),
)

# Countries where libphonenumber counts mobiles as geographic.
GEO_MOBILE = frozenset(getattr(phonenumberutil, "_GEO_MOBILE_COUNTRIES", {52, 54, 55, 62, 86}))

KIND_LEGEND = (
    "G geographic (fixed line, or fixed line or mobile), M mobile only, T toll free, "
    "P premium rate, S shared cost, V VoIP, R personal, A pager, U UAN, W voicemail, - not in use"
)


def zone_list(value):
    """The package ships tuples; older releases shipped '&'-joined strings."""
    if isinstance(value, str):
        return [z for z in value.split("&") if z]
    return [str(z) for z in value]


def copyright_line():
    """The copyright statement the package prints above its time-zone data."""
    path = os.path.join(os.path.dirname(tzdata_module.__file__), "__init__.py")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"Copyright \(C\) [0-9-]+ The Libphonenumber Authors", text)
    return m.group(0) if m else "Copyright (C) The Libphonenumber Authors"


def license_text():
    """Apache-2.0 text shipped in the package's dist-info."""
    try:
        from importlib.metadata import distribution

        dist = distribution("phonenumbers")
        for f in dist.files or []:
            if f.name.upper().startswith("LICENSE"):
                return dist.locate_file(f).read_text(encoding="utf-8")
    except Exception:  # noqa: BLE001 - fall back to the standard notice below
        pass
    return (
        "Licensed under the Apache License, Version 2.0 (the \"License\");\n"
        "you may not use this file except in compliance with the License.\n"
        "You may obtain a copy of the License at\n\n"
        "    http://www.apache.org/licenses/LICENSE-2.0\n\n"
        "Unless required by applicable law or agreed to in writing, software\n"
        "distributed under the License is distributed on an \"AS IS\" BASIS,\n"
        "WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
        "See the License for the specific language governing permissions and\n"
        "limitations under the License.\n"
    )


def classify(numbers, metas):
    """{number: kind letter} for 10-digit NANP national numbers."""
    # One regex scan per distinct pattern over all numbers at once: the
    # per-call overhead of Python's re would dominate otherwise.
    blob = "," + ",".join(numbers) + ","
    cache = {}

    def matching(pattern, prefix_only=False):
        key = (pattern, prefix_only)
        if key not in cache:
            tail = r"[0-9]*" if prefix_only else ""
            rx = re.compile(r",((?:" + pattern + r")" + tail + r")(?=,)")
            cache[key] = set(rx.findall(blob))
        return cache[key]

    def desc_set(desc):
        if desc is None or not desc.national_number_pattern:
            return set()
        return matching(desc.national_number_pattern)

    kinds = dict.fromkeys(numbers, "-")
    claimed = set()
    for _region, meta in metas:
        general = desc_set(meta.general_desc)
        typed = {}
        for field, letter in TYPE_PRIORITY:
            for n in desc_set(getattr(meta, field)):
                typed.setdefault(n, letter)
        fixed = desc_set(meta.fixed_line)
        mobile = desc_set(meta.mobile)
        if meta.leading_digits is not None:
            # A region with leading digits takes every number they match,
            # valid for it or not.
            mine = matching(meta.leading_digits, prefix_only=True) - claimed
        else:
            mine = ((set(typed) | fixed | mobile) & general) - claimed
        claimed |= mine
        for n in mine:
            if n not in general:
                continue
            if n in typed:
                kinds[n] = typed[n]
            elif n in fixed:
                kinds[n] = "G"
            elif n in mobile:
                kinds[n] = "M"
    return kinds


NANP_TYPE_FIELDS = tuple(f for f, _ in TYPE_PRIORITY) + ("fixed_line", "mobile", "general_desc")


def pattern_depth(pattern):
    """The last digit position (1-based) at which `pattern` allows fewer than
    all ten digits: past it, only the length matters. Exact for the pattern
    language the metadata uses (literals, classes, groups, alternation,
    bounded repeats); anything else stops the generator."""

    def any_digit(op, av):
        if op != sre_constants.IN:
            return False
        digits = set()
        for o, a in av:
            if o == sre_constants.CATEGORY and a == sre_constants.CATEGORY_DIGIT:
                return True
            if o == sre_constants.LITERAL:
                digits.add(a)
            elif o == sre_constants.RANGE:
                digits |= set(range(a[0], a[1] + 1))
            else:
                return False
        return digits == set(range(ord("0"), ord("9") + 1))

    def walk(items, starts):
        ends, deepest = set(starts), 0
        for op, av in items:
            if op in (sre_constants.LITERAL, sre_constants.IN):
                ends = {e + 1 for e in ends}
                if not any_digit(op, av):
                    deepest = max(deepest, max(ends))
            elif op == sre_constants.SUBPATTERN:
                ends, d = walk(av[3], ends)
                deepest = max(deepest, d)
            elif op == sre_constants.BRANCH:
                branch_ends = set()
                for branch in av[1]:
                    e, d = walk(branch, ends)
                    branch_ends |= e
                    deepest = max(deepest, d)
                ends = branch_ends
            elif op == sre_constants.MAX_REPEAT:
                lo, hi, sub = av
                if hi == sre_constants.MAXREPEAT:
                    sys.exit(f"unbounded repeat in metadata pattern {pattern!r}")
                reach, after = set(ends), set(ends) if lo == 0 else set()
                for k in range(1, hi + 1):
                    reach, d = walk(sub, reach)
                    deepest = max(deepest, d)
                    if k >= lo:
                        after |= reach
                ends = after
            else:
                sys.exit(f"unexpected {op} in metadata pattern {pattern!r}")
        return ends, deepest

    return walk(sre_parse.parse(pattern), {0})[1]


def region_depth(meta):
    """The deepest digit position any of a NANP region's type patterns reads."""
    depths = [0]
    for field in NANP_TYPE_FIELDS:
        desc = getattr(meta, field)
        if desc is not None and desc.national_number_pattern:
            depths.append(pattern_depth(desc.national_number_pattern))
    return max(depths)


def nanp_kinds():
    """({npa: [kind letter for NXX 200..999]} for every NPA with an exchange
    in use, {(npa, nxx): [kind letter per 1,000-line block 0..9]} for the
    exchanges whose blocks differ; their letter in the first map is '*')."""
    regions = list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
    metas = [(r, PhoneMetadata.metadata_for_region(r)) for r in regions]
    exchanges = [(npa, nxx) for npa in range(200, 1000) for nxx in range(200, 1000)]
    kind = {}
    todo = exchanges
    for line in SAMPLE_LINES:
        numbers = [f"{npa}{nxx}{line}" for npa, nxx in todo]
        found = classify(numbers, metas)
        for (npa, nxx), n in zip(todo, numbers):
            kind[(npa, nxx)] = found[n]
        # Later samples only for unused exchanges of area codes in use.
        in_use = {npa for (npa, nxx), k in kind.items() if k != "-"}
        todo = [(npa, nxx) for npa, nxx in todo if kind[(npa, nxx)] == "-" and npa in in_use]

    # Area codes a region with line-level patterns may claim: by its leading
    # digits, or all of them for a region without any.
    deep_npas = set()
    for _region, meta in metas:
        depth = region_depth(meta)
        if depth > 7:
            sys.exit(f"{_region}: metadata patterns read {depth} digits; the table holds blocks of 1,000 lines")
        if depth == 7:
            lead = re.compile(meta.leading_digits) if meta.leading_digits else None
            deep_npas |= {npa for npa in range(200, 1000) if lead is None or lead.match(str(npa))}
    split = {}
    deep = [(npa, nxx) for npa, nxx in exchanges if npa in deep_npas]
    by_block = {}
    for block in range(10):
        numbers = [f"{npa}{nxx}{block}{SAMPLE_LINES[0][1:]}" for npa, nxx in deep]
        found = classify(numbers, metas)
        for key, n in zip(deep, numbers):
            by_block.setdefault(key, []).append(found[n])
    for key, blocks in by_block.items():
        if len(set(blocks)) > 1:
            split[key] = "".join(blocks)
            kind[key] = "*"

    out = {}
    for npa in range(200, 1000):
        row = "".join(kind[(npa, nxx)] for nxx in range(200, 1000))
        if row.strip("-"):
            out[npa] = row
    return out, split


def widen(pattern):
    """Rewrite a metadata pattern so that 'W' also matches at every digit
    position. Then fullmatch(prefix + 'W' * k) tells whether some k-digit
    completion of prefix matches the original pattern. Metadata patterns only
    use digits, \\d, [classes], (?:groups), |, ? and {n,m}; anything else
    stops the generator rather than giving a wrong answer."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and pattern[i + 1 : i + 2] == "d":
            out.append("[0-9W]")
            i += 2
        elif c == "[":
            j = pattern.index("]", i)
            if pattern[i + 1] == "^":
                sys.exit(f"negated class in metadata pattern {pattern!r}")
            out.append(pattern[i:j] + "W]")
            i = j + 1
        elif c == "{":
            j = pattern.index("}", i)
            out.append(pattern[i : j + 1])
            i = j + 1
        elif c.isdigit():
            out.append(f"[{c}W]")
            i += 1
        elif c in "(?:|)":
            out.append(c)
            i += 1
        else:
            sys.exit(f"unexpected {c!r} in metadata pattern {pattern!r}")
    return re.compile("".join(out))


class CountryTypes:
    """Which number types a country's metadata allows under a prefix, for a
    given national-number length. Over-approximates (a type that could occur
    is reported), which only ever makes a number undetermined, never wrong."""

    def __init__(self, cc):
        self.regions = []
        self.max_len = 0
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
            if meta is None:
                continue
            leading = meta.leading_digits
            patterns = []
            for field, _letter in TYPE_PRIORITY:
                desc = getattr(meta, field)
                if desc is not None and desc.national_number_pattern:
                    patterns.append(("n", widen(desc.national_number_pattern)))
            mobile_geo = cc in GEO_MOBILE or meta.same_mobile_and_fixed_line_pattern
            for field, outcome in (("fixed_line", "g"), ("mobile", "g" if mobile_geo else "n")):
                desc = getattr(meta, field)
                if desc is not None and desc.national_number_pattern:
                    patterns.append((outcome, widen(desc.national_number_pattern)))
            self.max_len = max([self.max_len, *(meta.general_desc.possible_length or ())])
            self.regions.append(
                (re.compile(leading) if leading else None, widen(leading) if leading else None, patterns)
            )

    def may_be_non_geographic(self, national_prefix, length):
        """Whether a valid number of `length` national digits starting with
        `national_prefix` may be of a non-geographic type."""
        filled = national_prefix + "W" * (length - len(national_prefix))
        for leading, leading_wide, patterns in self.regions:
            # libphonenumber picks the region by leading digits when it has
            # them; otherwise the first region the number is valid in.
            if leading_wide is not None and not leading_wide.match(national_prefix + "W" * 20):
                continue
            if any(outcome == "n" and rx.fullmatch(filled) for outcome, rx in patterns):
                return True
            if leading is not None and leading.match(national_prefix):
                break
        return False


def non_geographic_ranges(prefixes, codes):
    """{prefix: [national lengths]} for the non-NANP entries whose zones differ
    from their country's entry and under which a number of that length may be
    of a non-geographic type: libphonenumber answers the country's zones for
    those numbers, so the entry alone cannot decide."""
    countries = {}
    out = {}
    for prefix, zones in prefixes.items():
        cc = next(int(prefix[:n]) for n in (1, 2, 3) if int(prefix[:n]) in codes)
        if cc == 1 or zones == prefixes.get(str(cc)):
            continue
        types = countries.setdefault(cc, CountryTypes(cc))
        national = prefix[len(str(cc)) :]
        lengths = [
            length
            for length in range(max(len(national), 1), types.max_len + 1)
            if types.may_be_non_geographic(national, length)
        ]
        if lengths:
            out[prefix] = lengths
    return out


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join("data", "phone_zones.tsv")
    version = phonenumbers.__version__

    codes = sorted(int(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    prefixes = {str(k): zone_list(v) for k, v in TIMEZONE_DATA.items()}
    for p in prefixes:
        if not p.isdigit():
            sys.exit(f"unexpected prefix {p!r} in the time-zone data")
        if p.startswith("1") and len(p) not in (1, 4, 5, 6, 7):
            # src/timezone/prefix.rs indexes NANP entries by NPA and NXX.
            sys.exit(f"NANP prefix {p!r} is not country, NPA or NPA-NXX level")

    sets = sorted({"&".join(z) for z in prefixes.values()})
    set_id = {s: i for i, s in enumerate(sets)}

    lines = [
        "# Phone number prefix -> time zone table for Prospero (src/timezone/prefix.rs, phone.rs).",
        "# source: libphonenumber time-zone prefix data via the phonenumbers package",
        f"# version: {version}",
        f"# license: Apache-2.0, {copyright_line()}; full notice in LICENSE-libphonenumber.txt beside this file",
        "# generated by tools/gen_phone_zones.py; do not edit by hand",
        "# records, tab-separated:",
        "#   Z <set> <zone>&<zone>...  zone set number <set> (numbered from 0 in file order)",
        "#   C <code> <code>...        the country calling codes",
        "#   P <prefix> <set>          E.164 digits without '+'; the longest matching prefix wins",
        "#   X <prefix> <lengths>      entry (outside +1) under which numbers with that many digits after the",
        "#                             country code may be non-geographic (libphonenumber then answers the",
        "#                             country's zones); lengths comma-separated",
        "#   N <npa> <kinds>           NANP area code in use: one kind for all of its exchanges,",
        "#                             or 800 kinds, one per exchange 200..999; * = per block, see B",
        "#   B <npa><nxx> <kinds>      NANP exchange whose 1,000-line blocks differ: 10 kinds, one per",
        "#                             first digit of the line number",
        f"#   kinds: {KIND_LEGEND}",
    ]
    for s in sets:
        lines.append(f"Z\t{set_id[s]}\t{s}")
    lines.append("C\t" + " ".join(str(c) for c in codes))
    for p in sorted(prefixes, key=lambda p: (len(p), p)):
        lines.append(f"P\t{p}\t{set_id['&'.join(prefixes[p])]}")
    for prefix, lengths in sorted(non_geographic_ranges(prefixes, set(codes)).items(), key=lambda e: (len(e[0]), e[0])):
        lines.append(f"X\t{prefix}\t{','.join(str(n) for n in lengths)}")
    area_kinds, split = nanp_kinds()
    for npa, row in sorted(area_kinds.items()):
        kinds = row[0] if len(set(row)) == 1 else row
        lines.append(f"N\t{npa}\t{kinds}")
    for (npa, nxx), blocks in sorted(split.items()):
        lines.append(f"B\t{npa}{nxx}\t{blocks}")

    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")

    notice = (
        "The phone number prefix -> time zone data in phone_zones.tsv is derived from\n"
        "libphonenumber (https://github.com/google/libphonenumber) as shipped in the\n"
        f"phonenumbers Python package, version {version}.\n\n"
        f"{copyright_line()}\n\n"
        "It is used under the Apache License, Version 2.0, reproduced below.\n\n"
    )
    lic_path = os.path.join(os.path.dirname(os.path.abspath(out_path)), "LICENSE-libphonenumber.txt")
    with open(lic_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(notice + license_text().rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
