#!/usr/bin/env python3
"""Generate scripts/data/leads.csv: a sample lead file for the outbound demo.

Deterministic (fixed seed): rerunning writes the same bytes. About one row
in six carries a realistic defect, so the demo shows every ResultCode a
lead file can earn: blank and duplicate ids, unusable phones, toll-free
numbers without an address, expired or unreadable dates, bad explicit
zones, non-numeric scores, overlong names, rows with no phone at all.

Usage: python3 tools/gen_sample_leads.py [OUTPUT] [ROWS]
"""
import csv
import random
import sys

# (city, state, zip, area codes) — real places and their area codes.
PLACES = [
    ("New York", "NY", "10001", ["212", "646", "917"]),
    ("Boston", "MA", "02108", ["617", "857"]),
    ("Philadelphia", "PA", "19103", ["215", "267"]),
    ("Atlanta", "GA", "30303", ["404", "678"]),
    ("Miami", "FL", "33130", ["305", "786"]),
    ("Pensacola", "FL", "32501", ["850"]),
    ("Detroit", "MI", "48226", ["313"]),
    ("Indianapolis", "IN", "46204", ["317"]),
    ("Gary", "IN", "46402", ["219"]),
    ("Louisville", "KY", "40202", ["502"]),
    ("Bowling Green", "KY", "42101", ["270"]),
    ("Nashville", "TN", "37203", ["615"]),
    ("Knoxville", "TN", "37902", ["865"]),
    ("Chicago", "IL", "60601", ["312", "773"]),
    ("Houston", "TX", "77002", ["713", "832"]),
    ("El Paso", "TX", "79901", ["915"]),
    ("Minneapolis", "MN", "55401", ["612"]),
    ("Bismarck", "ND", "58501", ["701"]),
    ("Denver", "CO", "80202", ["303", "720"]),
    ("Phoenix", "AZ", "85004", ["602", "480"]),
    ("Boise", "ID", "83702", ["208"]),
    ("Salt Lake City", "UT", "84101", ["801"]),
    ("Los Angeles", "CA", "90012", ["213", "323"]),
    ("San Francisco", "CA", "94103", ["415"]),
    ("Portland", "OR", "97204", ["503", "971"]),
    ("Seattle", "WA", "98101", ["206"]),
    ("Anchorage", "AK", "99501", ["907"]),
    ("Honolulu", "HI", "96813", ["808"]),
    ("San Juan", "PR", "00901", ["787"]),
    ("Toronto", "ON", "M5H 2N2", ["416", "647"]),
    ("Vancouver", "BC", "V6B 1A1", ["604"]),
    ("Halifax", "NS", "B3J 1S9", ["902"]),
    ("St. John's", "NL", "A1C 5M2", ["709"]),
    ("Winnipeg", "MB", "R3C 0V8", ["204"]),
]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
         "Radia", "Tim", "Sophie", "Dennis", "Karen", "Niklaus", "Lynn", "Guido", "Hedy", "Linus",
         "Maria", "José", "Zoë", "Renée", "Chloé", "Björn", "Ødegaard", "Siobhán"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton",
        "Thompson", "Perlman", "Berners-Lee", "Wilson", "Ritchie", "Spärck Jones", "Wirth", "Conway",
        "van Rossum", "Lamarr", "Torvalds", "O'Brien", "García", "Nguyen", "Okafor", "Kowalski"]
STREETS = ["Main St", "Oak Ave", "Maple Dr", "2nd St", "Park Blvd", "Elm St", "Lakeview Rd", "Cedar Ln"]
TOLL_FREE = ["800", "833", "844", "855", "866", "877", "888"]
ZONES_GOOD = ["EST", "Central Standard Time", "America/Denver", "Pacific", "Arizona", "Hawaii"]
ZONES_BAD = ["Mars/Olympus_Mons", "Eastern-ish", "GMT+25"]
HEADER = ["Account Number", "First", "Last", "Home Phone", "Cell Phone", "Work Phone", "Street", "City",
          "State", "Zip", "Time Zone", "Expires", "Email", "Score"]


def phone(rng, npa, style):
    nxx = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    if nxx[1:] == "11":
        nxx = nxx[0] + "21"
    line = f"{rng.randint(0, 9999):04d}"
    return [f"({npa}) {nxx}-{line}", f"{npa}-{nxx}-{line}", f"{npa}.{nxx}.{line}", f"+1 {npa} {nxx} {line}",
            f"1{npa}{nxx}{line}", f"{npa}{nxx}{line}"][style % 6]


def bad_phone(rng):
    return rng.choice(["555-0199", "(123) 456-7890", "911", "212-555-CALL", "000-000-0000",
                       "415-555-01234567", "n/a", "(212) 911-4567", "+999 1234 5678", "202-456-1111 x204"])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "scripts/data/leads.csv"
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1200
    rng = random.Random(20261121)
    used_ids = []
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for n in range(1, rows + 1):
            city, state, zip_, npas = rng.choice(PLACES)
            first, last = rng.choice(FIRST), rng.choice(LAST)
            acct = f"A{100000 + n}"
            phones = [phone(rng, rng.choice(npas), rng.randint(0, 5)) for _ in range(3)]
            # Most rows have two or three numbers; some only one.
            keep = rng.choice([1, 2, 2, 3, 3, 3])
            phones = phones[:keep] + [""] * (3 - keep)
            if rng.random() < 0.25:
                phones[1], phones[2] = phones[2], phones[1]
            zone = ""
            expires = f"{rng.randint(2027, 2028)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if rng.random() < 0.4:
                expires = ""
            email = f"{first.lower()}.{last.lower().replace(' ', '')}@example.com"
            score = str(rng.randint(1, 100))
            street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
            r = rng.random()
            if r < 0.015:
                acct = rng.choice(["", "  "])
            elif r < 0.035 and used_ids:
                acct = rng.choice(used_ids)
            elif r < 0.065:
                phones[0] = bad_phone(rng)
                if rng.random() < 0.5:
                    phones[1] = bad_phone(rng)
                    phones[2] = ""
            elif r < 0.085:
                phones = [f"1-{rng.choice(TOLL_FREE)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}", "", ""]
                city, state, zip_ = "", "", ""
            elif r < 0.10:
                expires = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            elif r < 0.11:
                expires = rng.choice(["someday", "31/31/2027", "next spring"])
            elif r < 0.12:
                zone = rng.choice(ZONES_BAD)
            elif r < 0.15:
                zone = rng.choice(ZONES_GOOD)
            elif r < 0.16:
                score = rng.choice(["high", "7.5", "n/a"])
            elif r < 0.165:
                first = "Maximilian" * 12
            elif r < 0.175:
                phones = ["", "", ""]
            used_ids.append(acct)
            w.writerow([acct, first, last, phones[0], phones[1], phones[2], street, city, state, zip_, zone,
                        expires, email, score])


if __name__ == "__main__":
    main()
