//! Community counters for `/stats`: messages per channel and day, joins, leaves, and who
//! wrote on which day. The adapter counts into a [`Tally`] in memory and adds it to the
//! store now and then, so a busy server costs one write a minute rather than one per
//! message. Actions per rule come from the audit log, which records them already.

use std::sync::Mutex;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{ChannelId, GuildId, UserId};
use crate::engine::time::Timestamp;

/// Milliseconds in a UTC day.
const DAY_MS: i64 = 86_400_000;

/// How far back `/stats` can look; who wrote on older days is forgotten.
pub const MAX_STATS_DAYS: i64 = 90;

/// The UTC day `at` falls on, as days since the Unix epoch.
pub fn day_of(at: Timestamp) -> i64 {
    at.0.div_euclid(DAY_MS)
}

/// The first moment of `day`.
pub fn start_of(day: i64) -> Timestamp {
    Timestamp(day.saturating_mul(DAY_MS))
}

/// What a daily counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Messages by members (not bots) in one channel.
    Messages(ChannelId),
    Joins,
    Leaves,
}

impl Metric {
    fn columns(self) -> (&'static str, u64) {
        match self {
            Metric::Messages(channel) => ("messages", channel.0),
            Metric::Joins => ("joins", 0),
            Metric::Leaves => ("leaves", 0),
        }
    }
}

/// Counts not yet in the store.
#[derive(Debug, Default)]
struct Counts {
    counts: FxHashMap<(GuildId, i64, Metric), i64>,
    active: FxHashSet<(GuildId, i64, UserId)>,
}

/// Counters gathered in memory between writes; shared by the event handlers.
#[derive(Debug, Default)]
pub struct Tally {
    pending: Mutex<Counts>,
}

impl Tally {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        f(&mut crate::lock::lock(&self.pending))
    }

    /// Counts a member's message in `channel`.
    pub fn message(&self, guild: GuildId, channel: ChannelId, user: UserId, at: Timestamp) {
        let day = day_of(at);
        self.with(|c| {
            *c.counts
                .entry((guild, day, Metric::Messages(channel)))
                .or_default() += 1;
            c.active.insert((guild, day, user));
        });
    }

    /// Counts a join or a leave.
    pub fn member(&self, guild: GuildId, metric: Metric, at: Timestamp) {
        self.with(|c| *c.counts.entry((guild, day_of(at), metric)).or_default() += 1);
    }

    /// Whether anything waits to be written.
    pub fn is_empty(&self) -> bool {
        self.with(|c| c.counts.is_empty() && c.active.is_empty())
    }

    fn take(&self) -> Counts {
        self.with(std::mem::take)
    }

    /// Puts counts back after a failed write, so none is lost.
    fn restore(&self, failed: Counts) {
        self.with(|c| {
            for (key, n) in failed.counts {
                *c.counts.entry(key).or_default() += n;
            }
            c.active.extend(failed.active);
        });
    }
}

/// One day of a guild's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayStats {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub messages: u64,
    pub joins: u64,
    pub leaves: u64,
    /// Members who wrote at least one message that day.
    pub active: u64,
    /// Actions steward carried out that day, automatic and manual.
    pub actions: u64,
}

/// Actions steward took under one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleActions {
    pub rule: String,
    pub action: String,
    /// Carried out.
    pub done: u64,
    /// Recorded only, by a rule in shadow mode.
    pub shadow: u64,
    /// Refused (rank, exemption) or failed at Discord.
    pub not_done: u64,
}

/// A guild's community health over a span of days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommunityStats {
    /// Every day of the span, oldest first, including days with nothing.
    pub days: Vec<DayStats>,
    /// Members who wrote at least once in the span.
    pub active: u64,
    /// The busiest channels and their messages, busiest first.
    pub top_channels: Vec<(ChannelId, u64)>,
    /// Automatic actions per rule, most frequent first.
    pub rule_actions: Vec<RuleActions>,
}

impl Store {
    /// Adds what `tally` has gathered to the store in one transaction; on failure the
    /// counts go back into the tally for the next attempt.
    pub async fn flush_tally(&self, tally: &Tally) -> Result<(), StoreError> {
        let counts = tally.take();
        if counts.counts.is_empty() && counts.active.is_empty() {
            return Ok(());
        }
        match self.write_counts(&counts).await {
            Ok(()) => Ok(()),
            Err(e) => {
                tally.restore(counts);
                Err(e)
            }
        }
    }

    async fn write_counts(&self, counts: &Counts) -> Result<(), StoreError> {
        let mut conn = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for (&(guild, day, metric), &n) in &counts.counts {
            let (name, channel) = metric.columns();
            sqlx::query(
                "INSERT INTO daily_counts (guild_id, day, metric, channel_id, count)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (guild_id, day, metric, channel_id)
                 DO UPDATE SET count = daily_counts.count + excluded.count",
            )
            .bind(sql_id(guild.0)?)
            .bind(day)
            .bind(name)
            .bind(sql_id(channel)?)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        }
        for &(guild, day, user) in &counts.active {
            sqlx::query(
                "INSERT INTO daily_active (guild_id, day, user_id) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(sql_id(guild.0)?)
            .bind(day)
            .bind(sql_id(user.0)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets who wrote on days `/stats` can no longer show; returns how many rows went.
    pub async fn prune_active(&self, today: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM daily_active WHERE day < $1")
            .bind(today - MAX_STATS_DAYS + 1)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected())
    }

    /// `guild`'s counters for the `days` days that end with `today`, and the channels and
    /// rules that were busiest in them (`top` of each).
    pub async fn community_stats(
        &self,
        guild: GuildId,
        today: i64,
        days: i64,
        top: u32,
    ) -> Result<CommunityStats, StoreError> {
        let guild_id = sql_id(guild.0)?;
        let first = today - days.clamp(1, MAX_STATS_DAYS) + 1;
        let mut stats = CommunityStats {
            days: (first..=today)
                .map(|day| DayStats {
                    day,
                    ..DayStats::default()
                })
                .collect(),
            ..CommunityStats::default()
        };
        let counts: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT day, metric, CAST(SUM(count) AS BIGINT) FROM daily_counts
             WHERE guild_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day, metric",
        )
        .bind(guild_id)
        .bind(first)
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        for (day, metric, n) in counts {
            let Some(entry) = stats.days.get_mut((day - first) as usize) else {
                continue;
            };
            let n = n.max(0) as u64;
            match metric.as_str() {
                "messages" => entry.messages = n,
                "joins" => entry.joins = n,
                "leaves" => entry.leaves = n,
                other => return Err(StoreError::Corrupt(format!("unknown metric {other}"))),
            }
        }
        let active: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT day, COUNT(*) FROM daily_active
             WHERE guild_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day",
        )
        .bind(guild_id)
        .bind(first)
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        for (day, n) in active {
            if let Some(entry) = stats.days.get_mut((day - first) as usize) {
                entry.active = n.max(0) as u64;
            }
        }
        let actions: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT at / 86400000 AS day, COUNT(*) FROM audit_log
             WHERE guild_id = $1 AND at >= $2 AND at < $3 AND phase = 'done'
             GROUP BY day",
        )
        .bind(guild_id)
        .bind(start_of(first).0)
        .bind(start_of(today + 1).0)
        .fetch_all(&self.pool)
        .await?;
        for (day, n) in actions {
            if let Some(entry) = stats.days.get_mut((day - first) as usize) {
                entry.actions = n.max(0) as u64;
            }
        }
        let distinct: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT user_id) FROM daily_active
             WHERE guild_id = $1 AND day BETWEEN $2 AND $3",
        )
        .bind(guild_id)
        .bind(first)
        .bind(today)
        .fetch_one(&self.pool)
        .await?;
        stats.active = distinct.max(0) as u64;
        let channels: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT channel_id, CAST(SUM(count) AS BIGINT) AS n FROM daily_counts
             WHERE guild_id = $1 AND day BETWEEN $2 AND $3 AND metric = 'messages'
             GROUP BY channel_id ORDER BY n DESC, channel_id LIMIT $4",
        )
        .bind(guild_id)
        .bind(first)
        .bind(today)
        .bind(i64::from(top))
        .fetch_all(&self.pool)
        .await?;
        stats.top_channels = channels
            .into_iter()
            .map(|(channel, n)| (ChannelId(from_sql_id(channel)), n.max(0) as u64))
            .collect();
        stats.rule_actions = self
            .rule_actions(guild_id, start_of(first), start_of(today + 1), top)
            .await?;
        Ok(stats)
    }

    /// Automatic actions per rule and action between `from` and `to`, from the audit log.
    async fn rule_actions(
        &self,
        guild_id: i64,
        from: Timestamp,
        to: Timestamp,
        top: u32,
    ) -> Result<Vec<RuleActions>, StoreError> {
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT rule, action,
                    CAST(SUM(CASE WHEN phase = 'done' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN phase = 'shadow' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN phase IN ('refused', 'failed') THEN 1 ELSE 0 END)
                         AS BIGINT) AS not_done
             FROM audit_log
             WHERE guild_id = $1 AND at >= $2 AND at < $3 AND rule IS NOT NULL
               AND phase IN ('done', 'shadow', 'refused', 'failed')
             GROUP BY rule, action
             ORDER BY COUNT(*) DESC, rule, action LIMIT $4",
        )
        .bind(guild_id)
        .bind(from.0)
        .bind(to.0)
        .bind(i64::from(top))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(rule, action, done, shadow, not_done)| RuleActions {
                rule,
                action,
                done: done.max(0) as u64,
                shadow: shadow.max(0) as u64,
                not_done: not_done.max(0) as u64,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::{AuditEntry, Phase};
    use crate::store::test_support::fresh;

    const G: GuildId = GuildId(1);

    fn at(day: i64, hour: i64) -> Timestamp {
        Timestamp(day * DAY_MS + hour * 3_600_000)
    }

    #[test]
    fn days_are_utc_and_count_from_the_epoch() {
        assert_eq!(day_of(Timestamp(0)), 0);
        assert_eq!(day_of(Timestamp(DAY_MS - 1)), 0);
        assert_eq!(day_of(Timestamp(-1)), -1);
        assert_eq!(start_of(day_of(at(20_000, 13))), at(20_000, 0));
    }

    #[tokio::test]
    async fn counts_add_up_across_flushes_and_days() {
        let (store, _dir) = fresh().await;
        let tally = Tally::default();
        let today = 20_000;
        for (hour, channel, user) in [(1, 10, 7), (2, 10, 7), (3, 11, 8)] {
            tally.message(G, ChannelId(channel), UserId(user), at(today, hour));
        }
        tally.message(GuildId(2), ChannelId(10), UserId(9), at(today, 1));
        tally.member(G, Metric::Joins, at(today - 1, 5));
        store.flush_tally(&tally).await.unwrap();
        assert!(tally.is_empty());
        tally.message(G, ChannelId(10), UserId(7), at(today, 4));
        tally.message(G, ChannelId(12), UserId(6), at(today - 1, 4));
        tally.member(G, Metric::Leaves, at(today, 6));
        store.flush_tally(&tally).await.unwrap();

        let stats = store.community_stats(G, today, 2, 5).await.unwrap();
        let days = [
            DayStats {
                day: today - 1,
                messages: 1,
                joins: 1,
                leaves: 0,
                active: 1,
                actions: 0,
            },
            DayStats {
                day: today,
                messages: 4,
                joins: 0,
                leaves: 1,
                active: 2,
                actions: 0,
            },
        ];
        assert_eq!(stats.days, days);
        assert_eq!(stats.active, 3, "members 6, 7 and 8");
        assert_eq!(
            stats.top_channels,
            vec![(ChannelId(10), 3), (ChannelId(11), 1), (ChannelId(12), 1)]
        );
        let one_day = store.community_stats(G, today, 1, 1).await.unwrap();
        assert_eq!((one_day.days.len(), one_day.active), (1, 2));
        assert_eq!(one_day.top_channels, vec![(ChannelId(10), 3)]);
    }

    #[tokio::test]
    async fn actions_per_rule_come_from_the_audit_log() {
        let (store, _dir) = fresh().await;
        let today = 20_000;
        let row = |rule: Option<&str>, action: &str, phase, day| AuditEntry {
            at: at(day, 2),
            guild: Some(G),
            actor: None,
            rule: rule.map(str::to_string),
            action: action.to_string(),
            phase,
            target: Some(UserId(7)),
            case_id: None,
            detail: serde_json::json!({}),
        };
        for entry in [
            row(Some("slurs"), "delete", Phase::Intent, today),
            row(Some("slurs"), "delete", Phase::Done, today),
            row(Some("slurs"), "delete", Phase::Done, today),
            row(Some("slurs"), "ban", Phase::Refused, today),
            row(Some("links"), "delete", Phase::Shadow, today),
            row(Some("slurs"), "delete", Phase::Done, today - 3),
            row(None, "kick", Phase::Done, today),
        ] {
            store.append_audit(&entry).await.unwrap();
        }
        let stats = store.community_stats(G, today, 1, 5).await.unwrap();
        let summary: Vec<_> = stats
            .rule_actions
            .iter()
            .map(|r| {
                (
                    r.rule.as_str(),
                    r.action.as_str(),
                    r.done,
                    r.shadow,
                    r.not_done,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("slurs", "delete", 2, 0, 0),
                ("links", "delete", 0, 1, 0),
                ("slurs", "ban", 0, 0, 1),
            ]
        );
        let three = store.community_stats(G, today, 4, 5).await.unwrap();
        let actions: Vec<u64> = three.days.iter().map(|d| d.actions).collect();
        assert_eq!(
            actions,
            [1, 0, 0, 3],
            "done rows per day, rules' and moderators'"
        );
    }

    #[tokio::test]
    async fn who_wrote_is_forgotten_after_the_longest_span() {
        let (store, _dir) = fresh().await;
        let tally = Tally::default();
        let today = 20_000;
        tally.message(G, ChannelId(10), UserId(7), at(today - MAX_STATS_DAYS, 1));
        tally.message(
            G,
            ChannelId(10),
            UserId(7),
            at(today - MAX_STATS_DAYS + 1, 1),
        );
        store.flush_tally(&tally).await.unwrap();
        assert_eq!(store.prune_active(today).await.unwrap(), 1);
        let stats = store
            .community_stats(G, today, MAX_STATS_DAYS + 5, 5)
            .await
            .unwrap();
        assert_eq!(stats.days.len() as i64, MAX_STATS_DAYS, "spans are capped");
        assert_eq!(stats.days[0].active, 1);
    }

    #[tokio::test]
    async fn a_failed_write_keeps_the_counts() {
        let (store, _dir) = fresh().await;
        let tally = Tally::default();
        tally.message(G, ChannelId(10), UserId(7), at(20_000, 1));
        sqlx::query("DROP TABLE daily_active")
            .execute(&mut *store.writer().await.unwrap())
            .await
            .unwrap();
        assert!(store.flush_tally(&tally).await.is_err());
        assert!(!tally.is_empty(), "the counts wait for the next attempt");
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM daily_counts")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(kept, 0, "the transaction wrote nothing");
    }
}
