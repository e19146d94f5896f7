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
exchange: the metadata rarely distinguishes line numbers, and where it does
(parts of the 5XX personal-number codes) an exchange takes the type of its
first sample that matches.
"""

import os
import re
import sys
from collections import defaultdict

try:
    import phonenumbers
    from phonenumbers import PhoneMetadata
    from phonenumbers.tzdata import TIMEZONE_DATA
    import phonenumbers.tzdata as tzdata_module
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


def nanp_kinds():
    """{npa: [kind letter for NXX 200..999]} for every NPA with an exchange in use."""
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

    out = {}
    for npa in range(200, 1000):
        row = "".join(kind[(npa, nxx)] for nxx in range(200, 1000))
        if row.strip("-"):
            out[npa] = row
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
        "#   N <npa> <kinds>           NANP area code in use: one kind for all of its exchanges,",
        "#                             or 800 kinds, one per exchange 200..999",
        f"#   kinds: {KIND_LEGEND}",
    ]
    for s in sets:
        lines.append(f"Z\t{set_id[s]}\t{s}")
    lines.append("C\t" + " ".join(str(c) for c in codes))
    for p in sorted(prefixes, key=lambda p: (len(p), p)):
        lines.append(f"P\t{p}\t{set_id['&'.join(prefixes[p])]}")
    for npa, row in sorted(nanp_kinds().items()):
        kinds = row[0] if len(set(row)) == 1 else row
        lines.append(f"N\t{npa}\t{kinds}")

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
