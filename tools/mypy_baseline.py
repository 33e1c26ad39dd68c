"""Run mypy on src/ and compare its errors with the recorded baseline.

The baseline (tools/mypy_baseline.txt) holds one line per known error, without its line number:
``path: [code] message``. A file may not gain an error that the baseline does not already hold
as many times; the run fails and prints the new errors. Fixed errors only shrink the baseline:

    python tools/mypy_baseline.py            # check (make lint, CI)
    python tools/mypy_baseline.py --update   # rewrite the baseline after fixing errors

``--update`` refuses to record a baseline that holds any error the old one did not, unless
``--force`` is given (for a deliberate change such as a mypy or django-stubs upgrade).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "mypy_baseline.txt"
HEADER = (
    "# mypy errors known on src/ (one line per error, line numbers left out).\n"
    "# This file may only shrink: fix errors, then run `python tools/mypy_baseline.py --update`.\n"
)
ERROR = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+)(?::\d+)?: error: "
    r"(?P<msg>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
LINE_REF = re.compile(r"\bline \d+\b")


def parse_errors(stdout: str) -> list[tuple[str, str]]:
    """(key, original line) for each error line; the key leaves out every line number."""
    errors = []
    for raw in stdout.splitlines():
        match = ERROR.match(raw)
        if match:
            msg = LINE_REF.sub("line N", match["msg"])
            errors.append((f"{match['path']}: [{match['code'] or 'misc'}] {msg}", raw))
    return errors


def new_errors(errors: list[tuple[str, str]], baseline: Counter[str]) -> list[str]:
    """The error lines beyond what the baseline holds for their key, in mypy's order.

    When a key occurs more often than the baseline allows, its last occurrences are the new ones.
    """
    extra = Counter(key for key, _ in errors) - baseline
    found = []
    for key, raw in reversed(errors):
        if extra[key] > 0:
            extra[key] -= 1
            found.append(raw)
    return found[::-1]


def run_mypy() -> tuple[list[tuple[str, str]], str]:
    """Return (key, original line) for every error mypy reports, and its full output."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary", "--show-error-codes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode not in (0, 1):
        sys.exit(f"mypy did not run (exit {proc.returncode}):\n{output}")
    errors = parse_errors(proc.stdout)
    if proc.returncode == 1 and not errors:
        sys.exit(f"mypy failed without errors this script understands:\n{output}")
    return errors, output


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def write_baseline(keys: Counter[str]) -> None:
    body = "".join(f"{key}\n" for key in sorted(keys.elements()))
    BASELINE.write_text(HEADER + body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline (shrink it)")
    parser.add_argument("--force", action="store_true", help="with --update: allow it to grow")
    args = parser.parse_args(argv)

    errors, _ = run_mypy()
    current = Counter(key for key, _ in errors)
    baseline = read_baseline()
    grown = current - baseline
    fixed = baseline - current

    if args.update:
        if grown and BASELINE.exists() and not args.force:
            print(f"Refusing to grow the baseline by {sum(grown.values())} error(s):")
            for key in sorted(grown.elements()):
                print(f"  {key}")
            print("Fix them, or pass --force if the change is deliberate (e.g. a mypy upgrade).")
            return 1
        write_baseline(current)
        print(
            f"{BASELINE.relative_to(ROOT)}: {sum(current.values())} error(s) "
            f"({sum(fixed.values())} removed, {sum(grown.values())} added)."
        )
        return 0

    if grown:
        print(f"mypy: {sum(grown.values())} new error(s) not in {BASELINE.relative_to(ROOT)}:")
        for raw in new_errors(errors, baseline):
            print(f"  {raw}")
        print("Fix them (the baseline may only shrink).")
        return 1

    print(f"mypy: no new errors ({sum(current.values())} error(s), all in the baseline).")
    if fixed:
        print(
            f"{sum(fixed.values())} baseline error(s) are fixed; shrink the baseline with "
            "`python tools/mypy_baseline.py --update` and commit it."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
