//! Norwegian local time (Europe/Oslo) for what people read: receipts, reports.
//!
//! The database keeps instants in UTC; a receipt must show the time on the
//! wall. Norway follows the EU rule (since 1996): CET (+01:00), and CEST
//! (+02:00) from the last Sunday of March 01:00 UTC to the last Sunday of
//! October 01:00 UTC. A pure function, so no time-zone database and no
//! reading of the machine's zone (which may be UTC on a Pi). It must never
//! be used to store time: instants stay UTC.

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// The instant `t` as a clock in Norway shows it.
pub fn norwegian(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    let switch = |month| {
        last_sunday(utc.year(), month)
            .with_time(Time::from_hms(1, 0, 0).expect("01:00 is a time"))
            .assume_utc()
    };
    let summer = utc >= switch(Month::March) && utc < switch(Month::October);
    let hours = if summer { 2 } else { 1 };
    utc.to_offset(UtcOffset::from_hms(hours, 0, 0).expect("+1/+2 are offsets"))
}

/// March and October both have 31 days.
fn last_sunday(year: i32, month: Month) -> Date {
    let last = Date::from_calendar_date(year, month, 31).expect("day 31 exists");
    last - time::Duration::days(last.weekday().number_days_from_sunday() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn winter_is_plus_one_summer_plus_two_switching_at_one_utc() {
        let cases = [
            (
                datetime!(2026-01-15 12:00 UTC),
                datetime!(2026-01-15 13:00 +1),
            ),
            (
                datetime!(2026-06-13 12:32 UTC),
                datetime!(2026-06-13 14:32 +2),
            ),
            // 2026: summer time from Sunday 29 March to Sunday 25 October.
            (
                datetime!(2026-03-29 00:59 UTC),
                datetime!(2026-03-29 01:59 +1),
            ),
            (
                datetime!(2026-03-29 01:00 UTC),
                datetime!(2026-03-29 03:00 +2),
            ),
            (
                datetime!(2026-10-25 00:59 UTC),
                datetime!(2026-10-25 02:59 +2),
            ),
            (
                datetime!(2026-10-25 01:00 UTC),
                datetime!(2026-10-25 02:00 +1),
            ),
            // A year whose last Sunday of March is the 31st.
            (
                datetime!(2024-03-31 01:30 UTC),
                datetime!(2024-03-31 03:30 +2),
            ),
            (
                datetime!(2024-03-30 23:00 UTC),
                datetime!(2024-03-31 00:00 +1),
            ),
            // New Year's Eve in UTC is already New Year in Oslo.
            (
                datetime!(2025-12-31 23:30 UTC),
                datetime!(2026-01-01 00:30 +1),
            ),
        ];
        for (utc, oslo) in cases {
            let got = norwegian(utc);
            assert_eq!(got, oslo, "{utc}");
            assert_eq!(got.offset(), oslo.offset(), "{utc}");
            assert_eq!((got.hour(), got.minute()), (oslo.hour(), oslo.minute()));
        }
    }
}
