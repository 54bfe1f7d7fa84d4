//! Time as the engine sees it: milliseconds, passed in by the caller so decisions are
//! deterministic and testable.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in time, in milliseconds since the Unix epoch (UTC).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The time as RFC 3339 in UTC (`2026-11-22T10:00:00Z`), as Discord and the replay
    /// format write times.
    pub fn rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.0.to_string())
    }
}

/// A length of time in milliseconds; never negative.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Duration(pub u64);

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration(secs * 1000)
    }

    /// Whole seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Duration {
    /// Prints the largest whole unit, as moderators write durations: `90s`, `10m`, `7d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        const UNITS: [(u64, &str); 5] = [
            (7 * 86_400_000, "w"),
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1000, "s"),
        ];
        if ms == 0 {
            return write!(f, "0s");
        }
        for (size, unit) in UNITS {
            if ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(rhs.0).unwrap_or(i64::MAX)),
        )
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_sub(i64::try_from(rhs.0).unwrap_or(i64::MAX)),
        )
    }
}

impl Timestamp {
    /// How long ago `earlier` was, or zero if it lies in the future.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_their_largest_whole_unit() {
        assert_eq!(Duration::from_secs(90).to_string(), "90s");
        assert_eq!(Duration::from_secs(600).to_string(), "10m");
        assert_eq!(Duration::from_secs(7 * 86_400).to_string(), "1w");
        assert_eq!(Duration::from_secs(2 * 86_400).to_string(), "2d");
        assert_eq!(Duration(1500).to_string(), "1500ms");
    }

    #[test]
    fn since_never_goes_negative() {
        assert_eq!(Timestamp(5).since(Timestamp(10)), Duration(0));
        assert_eq!(Timestamp(10).since(Timestamp(4)), Duration(6));
    }
}
