//! The two report formats: JSON Lines for machines, a table for moderators.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use super::{Outcome, Report};
use crate::engine::event::Event;
use crate::engine::verdict::{Mode, Verdict};

/// One JSON object per verdict, in event order, as the replay format specifies.
pub fn jsonl(report: &Report) -> String {
    let mut out = String::new();
    for outcome in &report.outcomes {
        for verdict in &outcome.verdicts {
            let mut line = json!({
                "event_id": event_id(&outcome.event),
                "kind": outcome.event.kind().as_str(),
                "guild_id": outcome.event.guild_id().to_string(),
                "channel_id": outcome.event.message().map(|m| m.channel_id.to_string()),
                "user_id": outcome.event.user_id().to_string(),
                "timestamp": outcome.timestamp,
                "rule": &*verdict.rule,
                "actions": verdict.actions.iter().map(|a| a.name()).collect::<Vec<_>>(),
                "reason": verdict.reason,
                "evidence": verdict.evidence.matched,
            });
            if verdict.mode == Mode::Shadow {
                line["mode"] = json!("shadow");
            }
            if let Some(n) = &verdict.evidence.normalized {
                line["normalized"] = json!(n);
            }
            if !verdict.accounts.is_empty() {
                line["accounts"] = json!(
                    verdict
                        .accounts
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                );
            }
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    out
}

fn event_id(event: &Event) -> String {
    match event.message() {
        Some(m) => m.id.to_string(),
        None => event.user_id().to_string(),
    }
}

#[derive(Default)]
struct RuleTally {
    mode: &'static str,
    hits: usize,
    actions: BTreeMap<&'static str, usize>,
    accounts: usize,
}

/// A summary per rule, then every actioned event.
pub fn table(report: &Report) -> String {
    let mut tallies: BTreeMap<&str, RuleTally> = BTreeMap::new();
    for verdict in report.outcomes.iter().flat_map(|o| &o.verdicts) {
        let t = tallies.entry(&verdict.rule).or_default();
        t.mode = verdict.mode.as_str();
        t.hits += 1;
        t.accounts += verdict.accounts.len();
        for a in &verdict.actions {
            *t.actions.entry(a.name()).or_default() += 1;
        }
    }
    let verdicts: usize = report.outcomes.iter().map(|o| o.verdicts.len()).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} events, {} actioned, {} verdicts\n",
        report.events,
        report.outcomes.len(),
        verdicts
    );
    let _ = writeln!(out, "{:<20} {:<8} {:>6}  actions", "rule", "mode", "hits");
    let _ = writeln!(out, "{}", "-".repeat(72));
    for (rule, t) in &tallies {
        let actions: Vec<String> = t.actions.iter().map(|(a, n)| format!("{a}×{n}")).collect();
        let accounts = if t.accounts > 0 {
            format!("  ({} accounts)", t.accounts)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{rule:<20} {:<8} {:>6}  {}{accounts}",
            t.mode,
            t.hits,
            actions.join(" ")
        );
    }
    if !report.outcomes.is_empty() {
        let _ = writeln!(out, "\nactioned events");
        let _ = writeln!(out, "{}", "-".repeat(72));
        for outcome in &report.outcomes {
            for verdict in &outcome.verdicts {
                let _ = writeln!(out, "{}", event_line(outcome, verdict));
            }
        }
    }
    out
}

fn event_line(outcome: &Outcome, verdict: &Verdict) -> String {
    let who = match &outcome.event {
        Event::Message(m) | Event::MessageEdit(m) => {
            format!("{} in #{}", m.author.name, m.channel_id)
        }
        Event::MemberJoin(j) => format!("{} joined", j.user.name),
        Event::MemberUpdate(u) => format!(
            "{} is now called {}",
            u.user.name,
            u.user.display_name.as_deref().unwrap_or(&u.user.name)
        ),
        Event::MemberLeave(l) => format!("{} left", l.name),
    };
    let actions: Vec<&str> = verdict.actions.iter().map(|a| a.name()).collect();
    let shadow = if verdict.mode == Mode::Shadow {
        " (shadow)"
    } else {
        ""
    };
    let evidence: String = verdict
        .evidence
        .matched
        .chars()
        .take(60)
        .collect::<String>()
        .replace('\n', " ");
    let accounts = if verdict.accounts.len() > 1 {
        format!(" [{} accounts]", verdict.accounts.len())
    } else {
        String::new()
    };
    format!(
        "line {:<5} {}  {:<24} {:<14} {}{shadow}{accounts}: {} — {:?}",
        outcome.line,
        outcome.timestamp,
        who,
        &*verdict.rule,
        actions.join("+"),
        verdict.reason,
        evidence
    )
}
