//! Exact decimal amounts with two places (SC, SK, EUR and percentages), never floating point.

use std::fmt;
use std::str::FromStr;

/// An exact decimal with two places, stored as a count of hundredths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Amount(pub i64);

/// Why a text is not an amount.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an amount: write digits with at most two decimals, like 150 or 27.50")]
pub struct BadAmount(pub String);

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// A whole number of units.
    pub const fn units(n: i64) -> Amount {
        Amount(n * 100)
    }

    /// `self × percent / 100`, rounded down to the hundredth (the ledger never rounds up a payout).
    pub fn percent(self, percent: Amount) -> Amount {
        Amount(((self.0 as i128 * percent.0 as i128) / 10_000) as i64)
    }

    /// `self × factor` where factor is itself an amount such as a phase multiplier `1.10`,
    /// rounded down to the hundredth.
    pub fn times(self, factor: Amount) -> Amount {
        Amount(((self.0 as i128 * factor.0 as i128) / 100) as i64)
    }

    /// Sum that saturates instead of overflowing.
    pub fn plus(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }

    /// Difference that saturates instead of overflowing.
    pub fn minus(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }

    /// True when the amount is above zero.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Amount {
    type Err = BadAmount;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).ok_or_else(|| BadAmount(text.to_string()))
    }
}

fn parse(text: &str) -> Option<Amount> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) => (w, f),
        None => (body, ""),
    };
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if whole.is_empty() || whole.len() > 15 || !digits(whole) || frac.len() > 2 || !digits(frac) {
        return None;
    }
    if body.ends_with('.') {
        return None;
    }
    let cents = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    let value = whole.parse::<i64>().ok()? * 100 + cents;
    Some(Amount(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!("27.5".parse::<Amount>().unwrap(), Amount(2750));
        assert_eq!("150".parse::<Amount>().unwrap().to_string(), "150.00");
        assert_eq!("-0.05".parse::<Amount>().unwrap().to_string(), "-0.05");
        for bad in ["", ".5", "1.", "1.234", "1e3", "1,5", " 1", "--1", "abc"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_rounds_down_to_the_cent() {
        assert_eq!(Amount::units(25).times("1.1".parse().unwrap()), "27.50".parse().unwrap());
        assert_eq!(
            Amount::units(100).percent("87.5".parse().unwrap()),
            Amount::units(87).plus(Amount(50))
        );
        assert_eq!("0.15".parse::<Amount>().unwrap().percent(Amount::units(90)), Amount(13));
    }
}
