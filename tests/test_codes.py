"""Official codes: USCC check character, licence number forms."""
import pytest

from app.services import codes
from app.services.exceptions import ValidationFailed


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91330000142916567N",
                                  " 91350100m000100y43 "])
def test_valid_uscc(code):
    assert codes.validate_uscc(code) == code.strip().upper()


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("91350100M000100Y44", "校验码"),
        ("91350100M000100Y4", "18位"),
        ("91350100M000100YI3", "不允许的字符"),
        ("9135A100M000100Y43", "不允许的字符"),
        ("", "18位"),
    ],
)
def test_invalid_uscc_says_why(code, fragment):
    with pytest.raises(ValidationFailed) as info:
        codes.validate_uscc(code)
    assert fragment in str(info.value)


def test_wrong_check_character_names_the_expected_one():
    with pytest.raises(ValidationFailed) as info:
        codes.validate_uscc("91350100M000100Y44")
    assert "最后一位应为 3" in str(info.value)


@pytest.mark.parametrize(
    "number",
    ["C1400002021061000000001", "T1000002020031000000012", "c 1400002009121220049001",
     "T14120080302005010", "1400000620045"],
)
def test_valid_licence_numbers_current_and_older_forms(number):
    assert codes.validate_licence_no(number) == number.replace(" ", "").upper()


@pytest.mark.parametrize(
    "number",
    ["", "hello", "C14000020210610000000", "X1400002021061000000001", "C9900002021061000000001",
     "C1400001021061000000001", "C14000020210610000000011", "12345"],
)
def test_garbage_licence_numbers_refused(number):
    with pytest.raises(ValidationFailed):
        codes.validate_licence_no(number)


def test_region_level_and_prefix():
    assert codes.region_level_of_code("140000") == codes.PROVINCE
    assert codes.region_level_of_code("140100") == codes.PREFECTURE
    assert codes.region_level_of_code("140105") == codes.COUNTY
    assert codes.scope_prefix("140105", codes.PROVINCE) == "14"
    assert codes.scope_prefix("140105", codes.PREFECTURE) == "1401"
    assert codes.scope_prefix("140105", codes.COUNTY) == "140105"
