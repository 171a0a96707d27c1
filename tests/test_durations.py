import pytest

from gate.core.durations import format_duration, parse_duration
from gate.core.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("1h", 3600),
        ("1h30m", 5400),
        ("0.5s", 0.5),
        ("250ms", 0.25),
        (" 2M ", 120),
        ("-5", -5),
        ("-1m", -60),
    ],
)
def test_durations_people_write_are_read(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "ten", "5x", "--5", "1h-3m", "m", "1.2.3s", "5 m"])
def test_malformed_durations_are_usage_errors_naming_the_flag(text: str) -> None:
    with pytest.raises(UsageError, match="--timeout"):
        parse_duration(text, flag="--timeout")


@pytest.mark.parametrize(("seconds", "text"), [(4.25, "4.2s"), (65, "1m05s"), (3720, "1h02m")])
def test_durations_are_shown_briefly(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["9" * 400, "1" * 400 + "h", "200h", "-5", "0"])
def test_a_duration_out_of_its_fields_bounds_is_refused_by_the_field(text: str) -> None:
    """Parsing reads any duration; the bounds (more than 0, at most 7 days) are the field's."""
    from gate.waiting.options import WAITING

    with pytest.raises(UsageError, match=r"^--timeout must be more than 0 and at most 168h$"):
        WAITING[0].seconds(text)
