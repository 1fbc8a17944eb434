//! Norwegian local time (Europe/Oslo) from a UTC instant. The offset comes
//! from the IANA time-zone database through `jiff` (the system's tzdata where
//! it has Europe/Oslo, else the copy built into the program), not from a rule
//! written here: the business day a Z report closes, the receipt's time and
//! the SAF-T file follow whatever Norway's clocks do, including a change of
//! the rule itself (kassasystemforskriften § 2-8-3: a Z report per day).
//!
//! Never reads the clock or the machine's time zone setting: "now" is always
//! passed in.

use std::sync::OnceLock;

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// CET, the offset used if a time lies outside what the database covers
/// (jiff's range is years -9999..=9999, wider than any till will see).
const CET_SECONDS: i32 = 3600;

fn oslo() -> &'static jiff::tz::TimeZone {
    static OSLO: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    OSLO.get_or_init(|| {
        // The bundled database (feature tzdb-bundle-always) always has it.
        jiff::tz::TimeZone::get("Europe/Oslo").expect("Europe/Oslo is in the bundled tzdb")
    })
}

/// The Oslo offset in force at `t`.
pub fn oslo_offset(t: OffsetDateTime) -> UtcOffset {
    let seconds = jiff::Timestamp::new(t.unix_timestamp(), 0)
        .map(|ts| oslo().to_offset(ts).seconds())
        .unwrap_or(CET_SECONDS);
    UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC)
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

/// The first instant of a local date, e.g. for "sales from 2024-05-01", with
/// the Oslo offset in force then. Norway switches at 02:00/03:00 local, so the
/// day always starts at 00:00; jiff would give the first instant after a gap
/// if a rule ever put one at midnight.
pub fn start_of_local_day(date: Date) -> OffsetDateTime {
    let start = jiff::civil::Date::new(date.year() as i16, date.month() as i8, date.day() as i8)
        .and_then(|d| d.to_zoned_datetime(oslo().clone()))
        .ok()
        .and_then(|z| OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).ok());
    match start {
        Some(t) => to_oslo(t),
        None => PrimitiveDateTime::new(date, Time::MIDNIGHT)
            .assume_offset(UtcOffset::from_whole_seconds(CET_SECONDS).unwrap_or(UtcOffset::UTC)),
    }
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
    fn the_switch_follows_the_database_in_other_years_too() {
        // 2026: 29 March and 25 October; 2030: 31 March and 27 October.
        assert_eq!(local_time(datetime!(2026-03-29 00:59:59 UTC)), "01:59:59");
        assert_eq!(local_time(datetime!(2026-03-29 01:00 UTC)), "03:00:00");
        assert_eq!(local_time(datetime!(2026-10-25 01:00 UTC)), "02:00:00");
        assert_eq!(local_time(datetime!(2030-03-31 01:00 UTC)), "03:00:00");
        assert_eq!(local_time(datetime!(2030-10-27 00:59 UTC)), "02:59:00");
        // Before 1980 Norway had no summer time at all (1965–1979): CET all year.
        assert_eq!(local_time(datetime!(1975-07-01 12:00 UTC)), "13:00:00");
        // The business day of the first and last second around the switch.
        assert_eq!(local_date(datetime!(2026-03-28 22:59:59 UTC)), "2026-03-28");
        assert_eq!(local_date(datetime!(2026-03-28 23:00 UTC)), "2026-03-29");
        assert_eq!(
            start_of_local_day(time::macros::date!(2026 - 03 - 29)),
            datetime!(2026-03-28 23:00 UTC)
        );
        assert_eq!(
            start_of_local_day(time::macros::date!(2026 - 03 - 30)),
            datetime!(2026-03-29 22:00 UTC)
        );
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
