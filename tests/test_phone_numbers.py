"""Phone numbers (issue 15): a person is added only with a real mobile number (libphonenumber's rules), and
signing in forgives what a phone pastes around a number (invisible characters, tel:, the country code)."""
import pytest
from helpers import PIN, add_person

from fieldapp.accounts.service import mobile_number, normalize_phone
from fieldapp.models import User


@pytest.mark.parametrize("raw, expected", [
    ("91234567", ("+4791234567", None)),
    ("45 00 00 01", ("+4745000001", None)),
    ("+48 601 234 567", ("+48601234567", None)),  # a Polish mobile
    ("+1 415 555 0123", ("+14155550123", None)),  # US numbers may be mobile: accepted
    ("12345678", (None, "not_mobile")),  # 8 digits, but no Norwegian number starts with 1
    ("+1234567", (None, "not_mobile")),  # + and 7 digits: no such number anywhere
    ("22 00 00 00", (None, "not_mobile")),  # an Oslo landline: no code can be texted there
    ("42000000", (None, "not_mobile")),  # 42 is not a Norwegian mobile series
    ("12", (None, "not_phone")),
    ("", (None, "not_phone")),
])
def test_only_real_mobile_numbers_are_accepted_for_a_new_person(raw, expected):
    assert mobile_number(raw) == expected


@pytest.mark.parametrize("raw", [
    "\u202a+47 910 00 001\u202c",  # iOS, copied from Contacts
    "\u202d+4791000001\u202c",
    "\ufeff91000001\u200b",
    "tel:+4791000001",
    "TEL:91000001",
    "4791000001",
    "47 910 00 001",
    "0047 910 00 001",
    "+47 (910) 00-001",
    "+47 ٩١٠ ٠٠ ٠٠١",  # an Arabic keyboard's digits: adding the person read them
    "۹۱۰۰۰۰۰۱",  # Persian digits
    "９１０００００１",  # full-width digits
    "＋４７　９１０－００－００１",  # a Chinese or Japanese keyboard: full-width plus, space and dash
    "＋4791000001",
    "﹢47 (910) 00 001",  # the small plus sign
    "+47 910\u201100\u2011001",  # non-breaking hyphens, as a contact card or a document writes them
    "910\u201300\u2013001",  # en dashes
    "+47 910\u221200\u2212001",  # minus signs
])
def test_sign_in_forgives_what_phones_paste_around_a_number(raw):
    assert normalize_phone(raw) == "+4791000001"


def test_an_eight_digit_number_starting_with_47_stays_norwegian():
    assert normalize_phone("47 00 00 01") == "+4747000001"


def test_signing_in_with_an_arabic_keyboards_digits_works(client, world):
    response = client.post("/sign-in", data={"phone": "٩١٠٠٠٠٠١", "secret": PIN})
    assert response.status_code == 303, response.get_data(as_text=True)


def test_signing_in_with_a_full_width_plus_works(client, world):
    response = client.post("/sign-in", data={"phone": "＋４７ ９１０ ００ ００１", "secret": PIN})
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["nb", "en"])
def test_signing_in_with_a_number_copied_from_contacts_works(client, world, language):
    response = client.post("/sign-in", data={"phone": "\u202atel:+47 910 00 001\u202c", "secret": PIN},
                           headers={"Accept-Language": language})
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.mark.parametrize("phone", ["12345678", "+1234567", "22 00 00 00"])
@pytest.mark.parametrize("language, words", [
    ("nb", "Ikke et mobilnummer. Norske mobilnumre har 8 sifre og begynner på 4 eller 9"),
    ("en", "Not a mobile number. Norwegian mobile numbers have 8 digits and start with 4 or 9"),
])
def test_a_person_is_not_added_with_a_number_that_is_no_mobile(as_role, world, phone, language, words):
    User.update(language=language).where(User.id == world.people["manager"].id).execute()
    users_before = User.select().count()
    response = add_person(as_role("manager"), world.site, phone=phone, employer=str(world.org.id))
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert User.select().count() == users_before


def test_a_person_added_with_a_pasted_number_is_stored_in_one_form(as_role, world):
    response = add_person(as_role("manager"), world.site, phone="\u202a+47 450 00 001\u202c",
                          employer=str(world.org.id))
    assert response.status_code == 201
    assert User.get(User.name == "Ny Arbeider").phone == "+4745000001"
