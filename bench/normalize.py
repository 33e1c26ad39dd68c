"""Benchmark: people.normalize's email and phone checks, the plain library calls against the
regex shortcuts in front of them, per call on realistic inputs, measured in the same run.

    .venv/bin/python bench/normalize.py [--rounds 7] [--calls 20000] [--write]

Inputs: a fixed, seeded mix of what supporters type on a petition or join form (addresses at
common providers and campaign domains with dots, +tags and capitals; US numbers written
(212) 555-1234, 212.555.1234, +1 212 555 1234, 2125551234; a few international numbers and a
few typos). Each input is checked through:

- library: `email_validator.validate_email(…, check_deliverability=False)`, and
  `phonenumbers.parse` + `number_type` (documented to answer UNKNOWN for an invalid number) +
  `format_number(E164)`: the plain calls people.normalize makes;
- shortcut: what people.normalize did before: the dot-atom / domain-memo path for addresses
  and the NANP regex in front of `phonenumbers.parse` for US numbers (kept here so the
  comparison can be repeated);
- for reference, `is_valid_number` and then `number_type`: the same pattern walk twice.

Prints microseconds per call (median of --rounds rounds of --calls calls each, no memo of
whole answers: every call does the work) and the ratio; --write puts the table in
bench/README.md under its own heading. Pure Python, no database.
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from functools import lru_cache
from pathlib import Path

import phonenumbers
from email_validator import EmailNotValidError, validate_email

ROOT = Path(__file__).resolve().parent.parent
MAX_EMAIL_LENGTH = 254

# --- the shortcuts as people.normalize had them ----------------------------------------------
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_SIMPLE_EMAIL = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@([A-Za-z0-9.-]+)")
_NANP_US = re.compile(r"(?:\+?1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?(\d{3})[ .-]?(\d{4})")


@lru_cache(maxsize=4096)
def _domain_room(domain: str) -> int:
    try:
        info = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return -1
    return max(len(domain), len(info.domain.encode()), len(info.ascii_domain.encode()))


def email_library(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return False
    return True


def email_shortcut(address: str) -> bool:
    simple = _SIMPLE_EMAIL.fullmatch(address)
    if simple is not None:
        room = _domain_room(simple[2])
        if room >= 0 and len(simple[1]) + 1 + room <= MAX_EMAIL_LENGTH:
            return True
    return email_library(address)


def _phone_answer(parsed: phonenumbers.PhoneNumber) -> tuple[str, int] | None:
    # number_type is documented to answer UNKNOWN for an invalid number: one pattern walk.
    number_type = phonenumbers.number_type(parsed)
    if number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), number_type


def phone_library(text: str, region: str = "US") -> tuple[str, int] | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return _phone_answer(parsed)


def phone_twice(text: str, region: str = "US") -> tuple[str, int] | None:
    """is_valid_number, then number_type: the same pattern walk done twice."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.number_type(parsed)


def phone_shortcut(text: str, region: str = "US") -> tuple[str, int] | None:
    if region == "US" and (plain := _NANP_US.fullmatch(text)) is not None:
        parsed = phonenumbers.PhoneNumber(
            country_code=1, national_number=int(plain[1] + plain[2] + plain[3])
        )
    else:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
    return _phone_answer(parsed)


# --- realistic inputs -------------------------------------------------------------------------
GIVEN = ["ana", "maria", "john", "wei", "fatima", "jose", "emily", "kwame", "olga", "sam"]
FAMILY = ["garcia", "smith", "nguyen", "okafor", "kowalski", "lee", "brown", "haddad"]
DOMAINS = (
    ["gmail.com"] * 40
    + ["yahoo.com"] * 12
    + ["hotmail.com"] * 8
    + ["outlook.com"] * 8
    + ["icloud.com"] * 6
    + ["aol.com"] * 3
    + ["proton.me"] * 2
    + ["comcast.net", "verizon.net", "att.net", "sbcglobal.net", "me.com"]
    + ["cityschools.k12.oh.us", "uni.edu", "local1199.org", "example-union.org", "mail.co.uk"]
)


def make_emails(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        g, f, d = rng.choice(GIVEN), rng.choice(FAMILY), rng.choice(DOMAINS)
        shape = rng.random()
        if shape < 0.35:
            local = f"{g}.{f}"
        elif shape < 0.6:
            local = f"{g}{f}{rng.randint(1, 99)}"
        elif shape < 0.7:
            local = f"{g}.{f}+petition"
        elif shape < 0.8:
            local = f"{g.capitalize()}.{f.capitalize()}"
        elif shape < 0.9:
            local = f"{g[0]}{f}"
        elif shape < 0.97:
            local = f"{g}_{f}{rng.randint(1950, 2005)}"
        else:  # typos a form sees
            out.append(rng.choice([f"{g}@{d.split('.')[0]}", f"{g}@@{d}", f"{g}.@{d}"]))
            continue
        out.append(f"{local}@{d}")
    return out


def make_phones(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        area, exchange, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        shape = rng.random()
        if shape < 0.3:
            out.append((f"({area}) {exchange}-{line:04d}", "US"))
        elif shape < 0.5:
            out.append((f"{area}-{exchange}-{line:04d}", "US"))
        elif shape < 0.65:
            out.append((f"{area}{exchange}{line:04d}", "US"))
        elif shape < 0.75:
            out.append((f"+1 {area} {exchange} {line:04d}", "US"))
        elif shape < 0.82:
            out.append((f"{area}.{exchange}.{line:04d}", "US"))
        elif shape < 0.9:
            out.append((f"1-{area}-{exchange}-{line:04d}", "US"))
        elif shape < 0.96:
            out.append(rng.choice([("+44 20 7946 0958", "US"), ("+52 55 1234 5678", "US")]))
        else:  # typos
            out.append(
                (rng.choice([f"{area}-{exchange}", f"{area}-{exchange}-{line:04d} x"]), "US")
            )
    return out


def per_call_us(function, inputs: list, *, star: bool = False) -> float:
    start = time.perf_counter()
    if star:
        for item in inputs:
            function(*item)
    else:
        for item in inputs:
            function(item)
    return (time.perf_counter() - start) * 1e6 / len(inputs)


def measure(rounds: int, calls: int) -> dict[str, dict[str, float]]:
    rng = random.Random(2026)
    emails, phones = make_emails(rng, calls), make_phones(rng, calls)
    for address in emails:  # same answers, or the comparison means nothing
        assert email_library(address) == email_shortcut(address), address
    for text, region in phones:
        assert phone_library(text, region) == phone_shortcut(text, region), text
        assert phone_library(text, region) == phone_twice(text, region), text
    runs: dict[str, list[float]] = {k: [] for k in ("el", "es", "pl", "ps", "p2")}
    for _ in range(rounds):  # alternate, so a busy moment on the machine hits both sides
        runs["el"].append(per_call_us(email_library, emails))
        runs["es"].append(per_call_us(email_shortcut, emails))
        runs["pl"].append(per_call_us(phone_library, phones, star=True))
        runs["ps"].append(per_call_us(phone_shortcut, phones, star=True))
        runs["p2"].append(per_call_us(phone_twice, phones, star=True))
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {
        "email": {"library": med["el"], "shortcut": med["es"]},
        "phone": {"library": med["pl"], "shortcut": med["ps"]},
        "phone, is_valid_number then number_type": {"library": med["p2"], "shortcut": med["ps"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--write", action="store_true", help="put results in bench/README.md")
    args = parser.parse_args()
    result = measure(args.rounds, args.calls)
    lines = [
        "| check | library µs/call | shortcut µs/call | library / shortcut |",
        "|---|---|---|---|",
    ]
    both = result["email"]["library"] + result["phone"]["library"]
    both_short = result["email"]["shortcut"] + result["phone"]["shortcut"]
    rows = [*result.items()]
    rows.insert(2, ("email + phone", {"library": both, "shortcut": both_short}))
    for name, r in rows:
        lines.append(
            f"| {name} | {r['library']:.1f} | {r['shortcut']:.1f} | "
            f"{r['library'] / r['shortcut']:.1f}× |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        load = os.getloadavg()[0]
        section = (
            "## Email and phone checks (bench/normalize.py)\n\n"
            f"Last run {time.strftime('%Y-%m-%d')}: Python {sys.version.split()[0]}, "
            f"{args.calls:,} realistic inputs of each kind, median of {args.rounds} rounds, "
            f"on this machine ({os.cpu_count()} cores, load average {load:.1f} before the run).\n\n"
            f"{table}\n\n"
            "Library: the plain calls people.normalize makes; shortcut: the regex paths it had "
            "in front of them (a dot-atom address at a domain the library had accepted once; "
            "a plain US number read without `phonenumbers.parse`). The plain calls cost tens of "
            "microseconds per address or number, against about 2 ms of web-process CPU per "
            "signature (bench/action_submit.py), and a request validates each value once (the "
            "matching reuses the answer): a few percent of a signature. So people.normalize "
            "calls the libraries directly, and the shortcuts went with the equivalence tests "
            "that checked them against the libraries.\n"
        )
        pattern = re.compile(
            r"## Email and phone checks \(bench/normalize.py\).*?(?=\n## |\Z)", re.S
        )
        if pattern.search(text):
            text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text)
        else:
            text = text.rstrip("\n") + "\n\n" + section
        readme.write_text(text)


if __name__ == "__main__":
    main()
