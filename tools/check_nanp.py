#!/usr/bin/env python3
"""Compare Prospero's per-number zones with libphonenumber's own mapper.

Draws random valid NANP numbers (valid for libphonenumber, and not in an
N11 service exchange) across every area code that libphonenumber's
time-zone prefix data knows, asks `prospero tz --json -` for all of them in
one run, and checks each answer against `phonenumbers.timezone
.time_zones_for_number`:

- a number libphonenumber maps to exactly one zone must get that zone;
- a number it maps to several zones (or only to "Etc/Unknown") must come
  back undetermined (`time_zone` null), never a pick.

Usage: tools/check_nanp.py PROSPERO_BINARY [--count N] [--seed S]
Exit 0 when every number agrees, 1 otherwise (the first disagreements are
printed). Needs the `phonenumbers` package at the version the committed
table was generated from (see data/phone_zones.tsv).
"""

import argparse
import json
import random
import subprocess
import sys

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA


def area_codes():
    """Every NANP area code with an entry of its own in the zone data."""
    npas = set()
    for prefix in TIMEZONE_DATA:
        if prefix.startswith("1") and len(prefix) >= 4:
            npas.add(prefix[1:4])
    return sorted(npas)


def draw(npas, count, rng):
    """About count / len(npas) valid numbers per area code, at least one
    for each area code that has valid numbers at all."""
    per_npa = max(1, -(-count // len(npas)))
    numbers = []
    for npa in npas:
        got, tries = 0, 0
        while got < per_npa and tries < per_npa * 40:
            tries += 1
            nxx = rng.randrange(200, 1000)
            if nxx % 100 == 11:
                # N11 exchanges (211 ... 911) are service codes, never
                # assigned to lines (NANP numbering rules); libphonenumber's
                # patterns let them through, Prospero refuses them as
                # destinations. They are not valid NANP numbers to draw.
                continue
            national = f"{npa}{nxx:03d}{rng.randrange(0, 10000):04d}"
            n = phonenumbers.parse("+1" + national)
            if phonenumbers.is_valid_number(n):
                numbers.append(national)
                got += 1
    return numbers


def expected(national):
    zones = pn_timezone.time_zones_for_number(phonenumbers.parse("+1" + national))
    zones = [z for z in zones if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prospero", help="path to the prospero binary")
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261121)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    npas = area_codes()
    numbers = draw(npas, args.count, rng)
    covered = {n[:3] for n in numbers}
    run = subprocess.run(
        [args.prospero, "tz", "--json", "-"],
        input="\n".join(numbers) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        print(f"check_nanp: prospero tz failed ({run.returncode}): {run.stderr.strip()}", file=sys.stderr)
        return 1
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    if len(answers) != len(numbers):
        print(f"check_nanp: {len(numbers)} numbers in, {len(answers)} answers out", file=sys.stderr)
        return 1

    single = multi = 0
    wrong = []
    for national, a in zip(numbers, answers):
        want = expected(national)
        if want is None:
            multi += 1
        else:
            single += 1
        if a["e164"] != "+1" + national or a["time_zone"] != want:
            wrong.append((national, want, a["time_zone"], a["source"]))
    print(
        f"check_nanp: {len(numbers)} valid numbers over {len(covered)} of {len(npas)} area codes "
        f"(phonenumbers {phonenumbers.__version__}); {single} single-zone, {multi} undetermined; "
        f"{len(wrong)} disagree"
    )
    for national, want, got, source in wrong[:20]:
        print(f"  +1{national}: libphonenumber {want or 'undetermined'}, prospero {got or 'undetermined'} ({source})")
    if len(numbers) < args.count:
        print(f"check_nanp: only {len(numbers)} numbers drawn, {args.count} wanted", file=sys.stderr)
        return 1
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
