#!/usr/bin/env python3
"""The Python anchor of `cargo bench --bench tz`: how fast libphonenumber's
own mapper (the `phonenumbers` package) gives the zones of the same numbers.

    tools/bench_phonenumbers.py NUMBERS_FILE [--reps N]

NUMBERS_FILE holds one E.164 number per line. Prints one JSON object:
`count`, `version`, `lookup_per_s` (time_zones_for_number on already parsed
numbers, median of the repetitions) and `parse_lookup_per_s` (parse from
text, then time_zones_for_number).
"""

import argparse
import json
import statistics
import time

import phonenumbers
from phonenumbers import timezone as pn_timezone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("numbers")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    with open(args.numbers, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()]
    parsed = [phonenumbers.parse(t, None) for t in texts]
    # Warm the mapper's lazily loaded data before timing.
    for n in parsed[:1000]:
        pn_timezone.time_zones_for_number(n)

    lookup, both = [], []
    for _ in range(args.reps):
        start = time.perf_counter()
        for n in parsed:
            pn_timezone.time_zones_for_number(n)
        lookup.append(len(parsed) / (time.perf_counter() - start))
        start = time.perf_counter()
        for t in texts:
            pn_timezone.time_zones_for_number(phonenumbers.parse(t, None))
        both.append(len(texts) / (time.perf_counter() - start))
    print(
        json.dumps(
            {
                "count": len(texts),
                "version": phonenumbers.__version__,
                "lookup_per_s": statistics.median(lookup),
                "parse_lookup_per_s": statistics.median(both),
            }
        )
    )


if __name__ == "__main__":
    main()
