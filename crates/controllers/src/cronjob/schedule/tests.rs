use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn next(spec: &str, after: &str) -> Timestamp {
    Schedule::parse(spec)
        .unwrap()
        .next(ts(after), &TimeZone::UTC)
        .unwrap()
}

#[test]
fn every_minute_fires_on_the_next_minute() {
    assert_eq!(
        next("*/1 * * * *", "2024-05-01T10:00:00Z"),
        ts("2024-05-01T10:01:00Z")
    );
    assert_eq!(
        next("* * * * *", "2024-05-01T10:00:59.5Z"),
        ts("2024-05-01T10:01:00Z")
    );
}

#[test]
fn steps_ranges_lists_and_names() {
    assert_eq!(
        next("*/15 * * * *", "2024-05-01T10:16:00Z"),
        ts("2024-05-01T10:30:00Z")
    );
    assert_eq!(
        next("5-10/5 3 * * *", "2024-05-01T03:06:00Z"),
        ts("2024-05-01T03:10:00Z")
    );
    assert_eq!(
        next("0 9 * * MON-FRI", "2024-05-03T09:00:00Z"),
        ts("2024-05-06T09:00:00Z")
    );
    assert_eq!(
        next("0 0 1 jan,JUL *", "2024-05-03T09:00:00Z"),
        ts("2024-07-01T00:00:00Z")
    );
    assert_eq!(
        next("30 */6 * * *", "2024-05-01T23:59:00Z"),
        ts("2024-05-02T00:30:00Z")
    );
}

#[test]
fn macros_match_their_five_field_forms() {
    assert_eq!(
        next("@hourly", "2024-05-01T10:00:00Z"),
        ts("2024-05-01T11:00:00Z")
    );
    assert_eq!(
        next("@daily", "2024-05-01T10:00:00Z"),
        ts("2024-05-02T00:00:00Z")
    );
    assert_eq!(
        next("@weekly", "2024-05-01T10:00:00Z"),
        ts("2024-05-05T00:00:00Z")
    );
    assert_eq!(
        next("@monthly", "2024-05-01T10:00:00Z"),
        ts("2024-06-01T00:00:00Z")
    );
    assert_eq!(
        next("@yearly", "2024-05-01T10:00:00Z"),
        ts("2025-01-01T00:00:00Z")
    );
    assert!(Schedule::parse("@every 1m").is_err());
}

#[test]
fn day_of_month_and_week_are_ored_unless_one_is_a_star() {
    // The 13th or any Friday.
    assert_eq!(
        next("0 0 13 * 5", "2024-05-01T00:00:00Z"),
        ts("2024-05-03T00:00:00Z")
    );
    // Only Fridays (day of month is `*`).
    assert_eq!(
        next("0 0 * * 5", "2024-05-03T00:00:00Z"),
        ts("2024-05-10T00:00:00Z")
    );
}

#[test]
fn february_30th_never_fires() {
    assert_eq!(
        Schedule::parse("0 0 30 2 *")
            .unwrap()
            .next(ts("2024-01-01T00:00:00Z"), &TimeZone::UTC),
        None
    );
}

#[test]
fn time_zone_shifts_wall_clock() {
    let tz = TimeZone::get("America/New_York").unwrap();
    let s = Schedule::parse("0 9 * * *").unwrap();
    assert_eq!(
        s.next(ts("2024-01-10T00:00:00Z"), &tz),
        Some(ts("2024-01-10T14:00:00Z"))
    );
    assert_eq!(
        s.next(ts("2024-07-10T00:00:00Z"), &tz),
        Some(ts("2024-07-10T13:00:00Z"))
    );
}

#[test]
fn bad_schedules_are_rejected() {
    assert_eq!(Schedule::parse(""), Err(ScheduleError::Empty));
    assert!(matches!(
        Schedule::parse("* * * *"),
        Err(ScheduleError::FieldCount(4, _))
    ));
    assert!(Schedule::parse("60 * * * *").is_err());
    assert!(Schedule::parse("* * * * 7").is_err());
    assert!(Schedule::parse("*/0 * * * *").is_err());
    assert!(Schedule::parse("5-1 * * * *").is_err());
    assert!(Schedule::parse("x * * * *").is_err());
}
