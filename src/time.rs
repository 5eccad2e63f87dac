//! UTC timestamps with one-second resolution, written as `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! The ledger needs nothing more than ordering, day arithmetic and a canonical text form,
//! so this is a small exact implementation instead of a date-time dependency.

use std::fmt;
use std::str::FromStr;

/// Seconds in one day.
pub const DAY: i64 = 86_400;
/// Seconds in one hour.
pub const HOUR: i64 = 3_600;

/// The environment variable that pins "now" (RFC 3339 UTC, `2026-11-30T12:00:00Z`) for the
/// command line, the hook and `verify` alike.
pub const PINNED_CLOCK: &str = "SMARTUP_NOW";

/// The pinned clock, if [`PINNED_CLOCK`] is set (and non-empty): its value, or why it is not a
/// timestamp.
pub fn pinned() -> Option<Result<Timestamp, BadTimestamp>> {
    let text = std::env::var(PINNED_CLOCK).ok().filter(|t| !t.is_empty())?;
    Some(text.parse())
}

/// A UTC instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Timestamp(pub i64);

/// Why a text is not a timestamp.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a UTC timestamp of the form 2026-11-26T09:30:00Z")]
pub struct BadTimestamp(pub String);

impl Timestamp {
    /// The current time: the pinned clock of [`PINNED_CLOCK`] when it is set to a valid
    /// timestamp (scripts and demos cross windows with it), else this machine's clock.
    pub fn now() -> Timestamp {
        pinned().and_then(Result::ok).unwrap_or_else(Timestamp::system)
    }

    /// This machine's clock, whatever [`PINNED_CLOCK`] says.
    pub fn system() -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }

    /// The number of the UTC day this instant falls on (days since 1970-01-01).
    pub fn day(self) -> i64 {
        self.0.div_euclid(DAY)
    }

    /// This instant moved by `seconds` (negative moves back).
    pub fn plus(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// The same instant in the compact form `YYYYMMDDHHMMSSZ` that OpenSSH's allowed-signers
    /// `valid-after` / `valid-before` options take.
    pub fn openssh_compact(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z")
    }

    fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let (y, mo, d) = civil_from_days(self.day());
        let secs = self.0.rem_euclid(DAY);
        (y, mo, d, (secs / HOUR) as u32, ((secs % HOUR) / 60) as u32, (secs % 60) as u32)
    }

    /// The canonical text (`2026-11-26T09:30:00Z`), as [`fmt::Display`] writes it, without
    /// the formatting machinery: rows are encoded and signed-over by the million.
    pub fn write_to(self, out: &mut Vec<u8>) {
        let (y, mo, d, h, mi, s) = self.civil();
        let year = match u32::try_from(y) {
            Ok(year) if year <= 9999 => year,
            // Outside the four-digit years rows hold: the general form.
            _ => return out.extend_from_slice(self.to_string().as_bytes()),
        };
        let digits = |out: &mut Vec<u8>, value: u32, width: u32| {
            for place in (0..width).rev() {
                out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
            }
        };
        digits(out, year, 4);
        for (separator, value) in [(b'-', mo), (b'-', d), (b'T', h), (b':', mi), (b':', s)] {
            out.push(separator);
            digits(out, value, 2);
        }
        out.push(b'Z');
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

impl FromStr for Timestamp {
    type Err = BadTimestamp;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).ok_or_else(|| BadTimestamp(text.to_string()))
    }
}

fn parse(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = &text[from..to];
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, s) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo as u32) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(Timestamp(days_from_civil(y, mo as u32, d as u32) * DAY + h * HOUR + mi * 60 + s))
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110's IMF-fixdate, the form
/// of a `Date` header).
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    format!("{year}-{month:02}-{day:0>2}T{time}Z").parse().ok()
}

/// Parses a calendar date `YYYY-MM-DD` into its day number (days since 1970-01-01).
pub fn parse_date(text: &str) -> Option<i64> {
    let ts: Timestamp = format!("{text}T00:00:00Z").parse().ok()?;
    Some(ts.day())
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_read_as_date_headers_write_them() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            "1994-11-06T08:49:37Z".parse().ok()
        );
        assert_eq!(
            parse_http_date("Mon, 30 Nov 2026 23:19:00 GMT"),
            "2026-11-30T23:19:00Z".parse().ok()
        );
        assert_eq!(parse_http_date("Mon, 30 Foo 2026 23:19:00 GMT"), None);
        assert_eq!(parse_http_date("Mon, 30 Nov 2026 23:19:00 CET"), None);
        assert_eq!(parse_http_date("2026-11-30T23:19:00Z"), None);
    }

    #[test]
    fn round_trips_known_instants() {
        for text in ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-11-26T11:20:59Z"] {
            let ts: Timestamp = text.parse().unwrap();
            assert_eq!(ts.to_string(), text);
        }
        assert_eq!("2026-11-26T00:00:00Z".parse::<Timestamp>().unwrap().0, 1_795_651_200);
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for text in [
            "2026-11-26 11:20:59Z",
            "2026-11-26T11:20:59",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "+026-11-26T11:20:59Z",
            "",
        ] {
            assert!(text.parse::<Timestamp>().is_err(), "{text}");
        }
    }

    #[test]
    fn write_to_writes_what_display_writes() {
        let instants = [
            0,
            1,
            59,
            86_399,
            1_795_651_259,
            253_402_300_799,
            253_402_300_800,
            -1,
            -62_135_596_800,
            -62_135_596_801,
        ];
        for seconds in instants.into_iter().chain((0..2_000).map(|i| i * 7_777_777 - 3_000_000_000)) {
            let ts = Timestamp(seconds);
            let mut out = Vec::new();
            ts.write_to(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), ts.to_string(), "{seconds}");
        }
    }

    #[test]
    fn days_and_dates() {
        let ts: Timestamp = "2026-11-26T11:20:59Z".parse().unwrap();
        assert_eq!(format_date(ts.day()), "2026-11-26");
        assert_eq!(parse_date("2026-11-26"), Some(ts.day()));
        assert_eq!(ts.openssh_compact(), "20261126112059Z");
    }
}
