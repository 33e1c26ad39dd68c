import importlib.util
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def baseline_tool():
    spec = importlib.util.spec_from_file_location("mypy_baseline", ROOT / "tools/mypy_baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OUTPUT = (
    'src/rallypoint/a.py:10: error: Name "x" already defined on line 4  [no-redef]\n'
    "src/rallypoint/a.py:12: note: See https://mypy.rtfd.io\n"
    'src/rallypoint/b.py:3: error: Incompatible types (got "str", expected "int")  [assignment]\n'
    'src/rallypoint/b.py:9: error: Incompatible types (got "str", expected "int")  [assignment]\n'
)


def test_mypy_baseline_keys_leave_out_line_numbers(baseline_tool):
    keys = [key for key, _ in baseline_tool.parse_errors(OUTPUT)]

    assert keys == [
        'src/rallypoint/a.py: [no-redef] Name "x" already defined on line N',
        'src/rallypoint/b.py: [assignment] Incompatible types (got "str", expected "int")',
        'src/rallypoint/b.py: [assignment] Incompatible types (got "str", expected "int")',
    ]


def test_mypy_baseline_count_growth_in_one_file_is_reported(baseline_tool):
    errors = baseline_tool.parse_errors(OUTPUT)
    baseline = Counter(
        {
            'src/rallypoint/a.py: [no-redef] Name "x" already defined on line N': 1,
            'src/rallypoint/b.py: [assignment] Incompatible types (got "str", expected "int")': 1,
        }
    )

    assert baseline_tool.new_errors(errors, baseline) == [
        'src/rallypoint/b.py:9: error: Incompatible types (got "str", expected "int")  [assignment]'
    ]


def test_mypy_baseline_moved_lines_are_not_new(baseline_tool):
    moved = OUTPUT.replace(":10: error", ":40: error").replace(":3: error", ":5: error")
    errors = baseline_tool.parse_errors(moved)
    baseline = Counter(key for key, _ in baseline_tool.parse_errors(OUTPUT))

    assert baseline_tool.new_errors(errors, baseline) == []
