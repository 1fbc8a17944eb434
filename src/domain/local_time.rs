//! Norwegian local time (Europe/Oslo) from a UTC instant, without a time
//! zone database: CET (UTC+1) in winter, CEST (UTC+2) from 01:00 UTC on the
//! last Sunday of March to 01:00 UTC on the last Sunday of October, the EU
//! rule Norway follows. Reports, the business day and the SAF-T file use it.
//!
//! Pure: never reads the clock or the machine's time zone setting.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

const CET: i8 = 1;
const CEST: i8 = 2;

/// The last Sunday of `month` in `year`, at 01:00 UTC.
fn last_sunday_0100_utc(year: i32, month: Month) -> OffsetDateTime {
    let last_day = time::util::days_in_month(month, year);
    let mut d = Date::from_calendar_date(year, month, last_day).expect("valid last day of month");
    while d.weekday() != Weekday::Sunday {
        d = d.previous_day().expect("not the first date ever");
    }
    PrimitiveDateTime::new(d, Time::from_hms(1, 0, 0).expect("valid time")).assume_utc()
}

/// The Oslo offset in force at `t`.
pub fn oslo_offset(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let start = last_sunday_0100_utc(utc.year(), Month::March);
    let end = last_sunday_0100_utc(utc.year(), Month::October);
    let hours = if utc >= start && utc < end { CEST } else { CET };
    UtcOffset::from_hms(hours, 0, 0).expect("valid offset")
}

/// `t` as Norwegian wall-clock time.
pub fn to_oslo(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(oslo_offset(t))
}

/// The business day (local date) `t` falls on, as `YYYY-MM-DD`.
pub fn local_date(t: OffsetDateTime) -> String {
    let l = to_oslo(t);
    format!("{:04}-{:02}-{:02}", l.year(), l.month() as u8, l.day())
}

/// Local `HH:MM:SS`.
pub fn local_time(t: OffsetDateTime) -> String {
    let l = to_oslo(t);
    format!("{:02}:{:02}:{:02}", l.hour(), l.minute(), l.second())
}

/// The first instant (UTC) of a local date, e.g. for "sales from 2024-05-01".
pub fn start_of_local_day(date: Date) -> OffsetDateTime {
    // Midnight local is 22:00 or 23:00 UTC the day before; the offset at
    // noon that day is the offset at midnight (switches happen at 02/03 local).
    let noon =
        PrimitiveDateTime::new(date, Time::from_hms(12, 0, 0).expect("valid time")).assume_utc();
    let offset = oslo_offset(noon);
    PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn winter_and_summer_offsets_switch_at_0100_utc() {
        assert_eq!(local_time(datetime!(2024-01-15 12:00 UTC)), "13:00:00");
        assert_eq!(local_time(datetime!(2024-07-15 12:00 UTC)), "14:00:00");
        // 2024: DST from 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert_eq!(local_time(datetime!(2024-03-31 00:59:59 UTC)), "01:59:59");
        assert_eq!(local_time(datetime!(2024-03-31 01:00 UTC)), "03:00:00");
        assert_eq!(local_time(datetime!(2024-10-27 00:59:59 UTC)), "02:59:59");
        assert_eq!(local_time(datetime!(2024-10-27 01:00 UTC)), "02:00:00");
    }

    #[test]
    fn local_date_crosses_midnight_before_utc() {
        assert_eq!(local_date(datetime!(2024-05-01 22:30 UTC)), "2024-05-02");
        assert_eq!(local_date(datetime!(2024-12-31 23:30 UTC)), "2025-01-01");
        assert_eq!(
            start_of_local_day(time::macros::date!(2024 - 05 - 02)),
            datetime!(2024-05-01 22:00 UTC)
        );
        assert_eq!(
            start_of_local_day(time::macros::date!(2024 - 01 - 02)),
            datetime!(2024-01-01 23:00 UTC)
        );
    }
}
