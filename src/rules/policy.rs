//! The warnings part of the rules file: how long a warning counts and the escalation
//! ladder that turns piled-up warnings into sanctions.

use crate::engine::time::Duration;
use crate::engine::verdict::Action;

/// What warnings are worth over time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WarningPolicy {
    /// How long a warning counts when its rule sets no expiry; `None` keeps it forever.
    pub expire_after: Option<Duration>,
    /// Rungs from the file, mildest first.
    pub ladder: Vec<EscalationStep>,
}

/// `points` active warning points within `within` lead to `action`.
#[derive(Clone, Debug, PartialEq)]
pub struct EscalationStep {
    pub points: u32,
    pub within: Duration,
    pub action: Action,
}

impl WarningPolicy {
    /// The harshest rung that `points_within` newly reaches: it held fewer points than the
    /// rung needs before the latest warning of `added` points, and at least as many after.
    /// `points_within` gives the active points within a window, the latest warning included.
    pub fn reached(
        &self,
        added: u32,
        mut points_within: impl FnMut(Duration) -> u32,
    ) -> Option<&EscalationStep> {
        self.ladder.iter().rev().find(|step| {
            let now = points_within(step.within);
            now >= step.points && now.saturating_sub(added) < step.points
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> WarningPolicy {
        let step = |points, hours: u64, action| EscalationStep {
            points,
            within: Duration::from_secs(hours * 3600),
            action,
        };
        WarningPolicy {
            expire_after: None,
            ladder: vec![
                step(
                    3,
                    24,
                    Action::Timeout {
                        duration: Duration::from_secs(3600),
                    },
                ),
                step(5, 24 * 7, Action::Kick),
            ],
        }
    }

    #[test]
    fn a_rung_fires_once_when_crossed() {
        let policy = ladder();
        assert_eq!(policy.reached(1, |_| 2), None);
        assert_eq!(policy.reached(1, |_| 3).map(|s| s.points), Some(3));
        assert_eq!(policy.reached(1, |_| 4), None, "already past 3, not yet 5");
        assert_eq!(policy.reached(2, |_| 5).map(|s| s.points), Some(5));
    }

    #[test]
    fn each_rung_counts_its_own_window() {
        let policy = ladder();
        // 3 points in the last day would time out, but 5 in the week is the harsher rung.
        let reached = policy.reached(1, |within| if within.0 > 86_400_000 { 5 } else { 3 });
        assert_eq!(reached.map(|s| &s.action), Some(&Action::Kick));
    }
}
