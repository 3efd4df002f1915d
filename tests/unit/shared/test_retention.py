"""The retention rule: the later of the last candidate date and the last write, plus N days."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from overlap_shared.retention import expires_at, last_activity

WRITE = datetime(2026, 1, 10, 15, 30, tzinfo=UTC)


def test_a_future_date_counts_from_the_end_of_that_day_in_the_events_zone() -> None:
    dates = [date(2026, 3, 1), date(2026, 3, 20)]
    # 2026-03-21 00:00 in Berlin (CET, +01:00) is 2026-03-20 23:00 UTC
    expected = datetime(2026, 3, 20, 23, 0, tzinfo=UTC) + timedelta(days=90)
    assert expires_at(WRITE, dates, "Europe/Berlin", 90) == expected


def test_a_write_after_the_last_date_counts_from_the_write() -> None:
    later = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert expires_at(later, [date(2026, 3, 20)], "Europe/Berlin", 30) == later + timedelta(30)


def test_weekday_events_use_the_last_write_only() -> None:
    assert expires_at(WRITE, None, "Asia/Tokyo", 90) == WRITE + timedelta(days=90)


def test_zero_days_turns_retention_off() -> None:
    assert expires_at(WRITE, [date(2026, 3, 20)], "UTC", 0) is None
    assert expires_at(WRITE, None, "UTC", 0) is None


def test_the_end_of_a_day_across_a_dst_change_is_local_midnight() -> None:
    # New York springs forward on 2026-03-08: midnight after it is 04:00 UTC (EDT), not 05:00
    end = last_activity(WRITE, [date(2026, 3, 8)], "America/New_York")
    assert end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    st.lists(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), max_size=5),
    st.integers(min_value=1, max_value=3650),
)
def test_a_write_never_brings_the_date_forward(
    write: datetime, dates: list[date], days: int
) -> None:
    before = expires_at(write, dates or None, "Europe/London", days)
    after = expires_at(write + timedelta(hours=1), dates or None, "Europe/London", days)
    assert before is not None and after is not None
    assert after >= before >= write + timedelta(days=days)
