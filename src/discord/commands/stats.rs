//! `/stats`: the community health a community manager watches, from the counters steward
//! keeps (messages, active members, joins and leaves per UTC day) and the audit log
//! (actions per rule).

use std::fmt::Write;

use serenity::all::{CreateAttachment, CreateEmbed};

use super::{CommandError, Context, escape, guild, private_embed, truncate};
use crate::discord::now;
use crate::store::stats::{CommunityStats, RuleActions, day_of, start_of};

/// How many channels and rules the reply lists.
const TOP: u32 = 5;

/// Community health over the last days: activity, joins and leaves, and what steward did.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "VIEW_AUDIT_LOG",
    required_permissions = "VIEW_AUDIT_LOG"
)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "How many days, ending today (UTC), from 1 to 90; 7 if not given"]
    #[min = 1]
    #[max = 90]
    days: Option<u8>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let data = ctx.data();
    let store = data.moderator.store();
    // Counts still in memory belong in the answer.
    store.flush_tally(&data.tally).await?;
    let span = i64::from(days.unwrap_or(7));
    let stats = store
        .community_stats(guild, day_of(now()), span, TOP)
        .await?;
    let text = embed(&stats);
    let reply = match chart(stats).await {
        Some(png) => private_embed(text.image(format!("attachment://{CHART}"))).attachment(png),
        None => private_embed(text),
    };
    ctx.send(reply).await?;
    Ok(())
}

/// The chart's file name in the reply, by which the embed shows it.
const CHART: &str = "stats.png";

/// The chart of `stats`, drawn off the async threads; `None` (and a log line) when it
/// cannot be drawn, so the text answer still goes out.
async fn chart(stats: CommunityStats) -> Option<CreateAttachment> {
    let drawn = tokio::task::spawn_blocking(move || crate::chart::activity_png(&stats))
        .await
        .map_err(|e| e.to_string())
        .and_then(|png| png.map_err(|e| e.to_string()));
    match drawn {
        Ok(png) => Some(CreateAttachment::bytes(png, CHART)),
        Err(e) => {
            tracing::warn!(error = %e, "drawing the /stats chart");
            None
        }
    }
}

/// The reply: totals and one line a day, then the busiest channels and rules.
pub fn embed(stats: &CommunityStats) -> CreateEmbed {
    let (first, last) = match (stats.days.first(), stats.days.last()) {
        (Some(first), Some(last)) => (first.day, last.day),
        _ => {
            return CreateEmbed::new()
                .title("Community stats")
                .description("No days.");
        }
    };
    let messages: u64 = stats.days.iter().map(|d| d.messages).sum();
    let joins: u64 = stats.days.iter().map(|d| d.joins).sum();
    let leaves: u64 = stats.days.iter().map(|d| d.leaves).sum();
    let mut text = format!(
        "{} to {} (UTC)\n**{messages}** messages from **{}** active members, \
         **{joins}** joined, **{leaves}** left\n```\nday     messages  active  joined  left\n",
        date(first),
        date(last),
        stats.active,
    );
    for day in stats.days.iter().rev() {
        let _ = writeln!(
            text,
            "{}  {:>8}  {:>6}  {:>6}  {:>4}",
            &date(day.day)[5..],
            day.messages,
            day.active,
            day.joins,
            day.leaves
        );
    }
    text.push_str("```");
    let channels = lines(
        stats
            .top_channels
            .iter()
            .map(|(channel, n)| format!("<#{}>: {n} messages", channel.0)),
    );
    let rules = lines(stats.rule_actions.iter().map(rule_line));
    CreateEmbed::new()
        .title("Community stats")
        .description(truncate(&text, 4000))
        .field("Busiest channels", channels, false)
        .field("Actions per rule", rules, false)
}

fn rule_line(r: &RuleActions) -> String {
    let mut line = format!("`{}` {}: {} done", escape(&r.rule), r.action, r.done);
    if r.not_done > 0 {
        let _ = write!(line, ", {} refused or failed", r.not_done);
    }
    if r.shadow > 0 {
        let _ = write!(line, ", {} in shadow mode", r.shadow);
    }
    line
}

/// Lines for an embed field (at most 1,024 characters), or a dash when there are none.
fn lines(items: impl Iterator<Item = String>) -> String {
    let joined: Vec<String> = items.collect();
    if joined.is_empty() {
        return "none".to_string();
    }
    truncate(&joined.join("\n"), 1000)
}

/// `2026-11-22`
fn date(day: i64) -> String {
    start_of(day).rfc3339().chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::ChannelId;
    use crate::store::stats::DayStats;

    #[test]
    fn the_reply_shows_totals_days_channels_and_rules() {
        let day = day_of(crate::engine::time::Timestamp(1_795_000_000_000));
        let stats = CommunityStats {
            days: vec![
                DayStats {
                    day: day - 1,
                    messages: 3,
                    joins: 1,
                    leaves: 0,
                    active: 2,
                    actions: 0,
                },
                DayStats {
                    day,
                    messages: 5,
                    joins: 0,
                    leaves: 2,
                    active: 3,
                    actions: 0,
                },
            ],
            active: 4,
            top_channels: vec![(ChannelId(10), 6)],
            rule_actions: vec![RuleActions {
                rule: "slurs_*".into(),
                action: "delete".into(),
                done: 2,
                shadow: 0,
                not_done: 1,
            }],
        };
        let json = serde_json::to_string(&embed(&stats)).expect("serializes");
        assert!(
            json.contains("**8** messages from **4** active members, **1** joined, **2** left"),
            "{json}"
        );
        assert!(
            json.contains(&format!(
                "{}         5       3       0     2",
                &date(day)[5..]
            )),
            "{json}"
        );
        assert!(json.contains("<#10>: 6 messages"), "{json}");
        assert!(
            json.contains("`slurs\\\\_\\\\*` delete: 2 done, 1 refused or failed"),
            "{json}"
        );
        let empty = serde_json::to_string(&embed(&CommunityStats {
            days: vec![DayStats {
                day,
                ..DayStats::default()
            }],
            ..CommunityStats::default()
        }))
        .expect("serializes");
        assert!(empty.contains("\"value\":\"none\""), "{empty}");
    }
}
