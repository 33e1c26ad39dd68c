import pytest

from rallypoint.imports.mapping import RowProblem, auto_map, mapping_problems, person_data

HEADERS = ["E-mail Address", "First_Name", "surname", "ZIP code", "Cell", "Tags", "Notes"]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("email", "email"),
        ("E-Mail", "email"),
        ("Email Address", "email"),
        ("first name", "given_name"),
        ("given_name", "given_name"),
        ("FirstName", "given_name"),
        ("Last Name", "family_name"),
        ("Surname", "family_name"),
        ("zip", "postal_code"),
        ("Zipcode", "postal_code"),
        ("Postal Code", "postal_code"),
        ("Phone", "phone"),
        ("Mobile", "phone"),
        ("cell", "phone"),
        ("Tags", "tags"),
        ("City", "locality"),
        ("State", "region"),
        ("Address", "address_line"),
    ],
)
def test_auto_map_recognises_common_header(header, code):
    assert auto_map([header]) == {"0": code}


def test_auto_map_leaves_unknown_columns_and_uses_a_single_field_once():
    assert auto_map(HEADERS + ["Email"]) == {
        "0": "email",
        "1": "given_name",
        "2": "family_name",
        "3": "postal_code",
        "4": "phone",
        "5": "tags",
    }


def test_auto_map_allows_several_address_lines():
    assert auto_map(["Address 1", "Address 2", "email"]) == {
        "0": "address_line",
        "1": "address_line",
        "2": "email",
    }


def test_mapping_problems_needs_email_or_phone():
    assert mapping_problems({"0": "given_name"}, ["Name"]) == [
        "Choose the column with email addresses or the one with phone numbers."
    ]


def test_mapping_problems_single_field_twice():
    assert mapping_problems({"0": "email", "1": "email"}, ["a", "b"]) == [
        "Only one column can be “Email”."
    ]


def test_mapping_problems_column_out_of_range():
    assert mapping_problems({"0": "email", "7": "phone"}, ["a"]) == ["There is no column 7."]


def _row(values, mapping):
    headers = [f"h{i}" for i in range(len(values))]
    return person_data(values, {int(k): v for k, v in mapping.items()}, headers)


def test_person_data_maps_values_and_splits_tags():
    data = person_data(
        [" ana@example.org ", "Ana", "Diaz", "80202", "303-555-0101", "a, b;c|d", "vegan"],
        {0: "email", 1: "given_name", 2: "family_name", 3: "postal_code", 4: "phone", 5: "tags"}
        | {6: "custom"},
        HEADERS,
    )
    assert (data.email, data.given_name, data.family_name) == ("ana@example.org", "Ana", "Diaz")
    assert (data.postal_code, data.phone) == ("80202", "303-555-0101")
    assert data.tags == ["a", "b", "c", "d"]
    assert data.custom_fields == {"Notes": "vegan"}


def test_person_data_splits_full_name_at_first_space():
    data = _row(["a@example.org", "Ana María Diaz"], {"0": "email", "1": "full_name"})
    assert (data.given_name, data.family_name) == ("Ana", "María Diaz")


@pytest.mark.parametrize(
    ("value", "code"), [("US", "US"), ("usa", "US"), ("United States", "US"), ("Canada", "CA")]
)
def test_person_data_reads_country_names(value, code):
    assert _row(["a@example.org", value], {"0": "email", "1": "country"}).country == code


def test_person_data_refuses_unknown_country():
    with pytest.raises(RowProblem, match="isn't a country name"):
        _row(["a@example.org", "Atlantis"], {"0": "email", "1": "country"})


@pytest.mark.parametrize(
    ("value", "status"),
    [("subscribed", None), ("", None), ("unsubscribed", "unsubscribed"), ("bouncing", "bouncing")],
)
def test_person_data_file_status_never_resubscribes(value, status):
    assert (
        _row(["a@example.org", value], {"0": "email", "1": "email_status"}).email_status == status
    )


@pytest.mark.parametrize(("value", "consent"), [("yes", True), ("N", False), ("", None)])
def test_person_data_reads_sms_consent(value, consent):
    assert _row(["a@example.org", value], {"0": "email", "1": "sms_consent"}).sms_consent is consent


def test_person_data_wrong_column_count():
    with pytest.raises(RowProblem) as info:
        person_data(["a@example.org"], {0: "email"}, ["email", "name"])
    assert str(info.value) == (
        "Expected 2 columns, found 1 (a missing or extra separator or quote?)."
    )


def test_person_data_over_long_city():
    with pytest.raises(RowProblem) as info:
        person_data(["a@example.org", "x" * 101], {0: "email", 1: "locality"}, ["email", "City"])
    assert str(info.value) == "City: longer than 100 characters."
