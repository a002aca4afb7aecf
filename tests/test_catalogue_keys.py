"""The one message catalogue (fieldapp/inputs.py) has each reason once: a second entry with the same key
would silently replace the first feature's message with another's (seen when two features added "bad_date")."""
import ast
import collections

from fieldapp.config import PROJECT_ROOT


def duplicate_keys(source):
    """The string keys that appear more than once in any dict literal of `source` (Python text)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            found += [key for key, count in collections.Counter(keys).items() if count > 1]
    return found


def test_no_reason_is_in_the_catalogue_twice():
    assert duplicate_keys((PROJECT_ROOT / "fieldapp" / "inputs.py").read_text(encoding="utf-8")) == []


def test_the_check_finds_a_repeated_key():
    assert duplicate_keys('M = {"bad_date": 1, "other": 2, "bad_date": 3}') == ["bad_date"]
