"""Pure rules: phone numbers, organisation numbers, PIN strength, language choice."""
import pytest

from fieldapp.accounts.service import format_code, normalize_code, normalize_phone, secret_problem
from fieldapp.sites.service import org_number_valid


@pytest.mark.parametrize("raw, expected", [
    ("91234567", "+4791234567"),
    ("912 34 567", "+4791234567"),
    ("+47 912 34 567", "+4791234567"),
    ("0047 91234567", "+4791234567"),
    ("+48 601 234 567", "+48601234567"),
    ("1234", None),
    ("phone", None),
    ("", None),
    (None, None),
])
def test_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("number, valid", [
    ("923609016", True),   # a real organisation number (check digit 6)
    ("987654325", True),
    ("923609017", False),  # wrong check digit
    ("912345678", False),  # check digit would be 10: no such number
    ("12345678", False),
    ("92360901a", False),
])
def test_organisation_number_mod11(number, valid):
    assert org_number_valid(number) is valid


@pytest.mark.parametrize("secret, problem", [
    ("482913", None),
    ("12345", "pin_length"),
    ("1234567890123", "pin_length"),
    ("111111", "pin_trivial"),
    ("123456", "pin_trivial"),
    ("987654", "pin_trivial"),
    ("short", "password_length"),
    ("a long enough passphrase", None),
    ("x" * 201, "password_long"),
])
def test_new_secret_rules(secret, problem):
    assert secret_problem(secret) == problem


def test_enrollment_code_is_forgiving_to_type():
    assert normalize_code("k7m4-q9xp") == "K7M4Q9XP"
    assert normalize_code(" K7M4 Q9XP ") == "K7M4Q9XP"
    assert format_code("K7M4Q9XP") == "K7M4-Q9XP"


@pytest.mark.parametrize("header, expected", [
    ("no,en;q=0.5", "nb"),  # Werkzeug's own best_match would answer English here
    ("nn-NO", "nb"),
    ("nb-NO,nb;q=0.9", "nb"),
    ("en-GB,en;q=0.9", "en"),
    ("de-DE", "nb"),  # unsupported: the default
])
def test_language_from_accept_language(client, header, expected):
    page = client.get("/sign-in", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{expected}">' in page
