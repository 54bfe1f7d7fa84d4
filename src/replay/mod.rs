//! `steward replay`: recorded or synthetic activity through the same rules and engine as
//! the live bot, and a report of what the bot would have done.

pub mod input;
pub mod output;

use std::io::Read;
use std::path::Path;

use crate::engine::Engine;
use crate::engine::event::Event;
use crate::engine::verdict::Verdict;
use crate::moderation::{ModerationError, Moderator, Recorder};
use crate::rules::LoadedRules;
use input::SourcedEvent;

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{file}:{line}: {}{message}", if field.is_empty() { String::new() } else { format!("field `{field}`: ") })]
    Event {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
    #[error(
        "{file}:{line}: event at {at} is older than the event on line {previous_line} ({previous}); events must be in time order"
    )]
    OutOfOrder {
        file: String,
        line: usize,
        at: String,
        previous_line: usize,
        previous: String,
    },
}

/// One event that drew at least one verdict.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub event: Event,
    pub line: usize,
    pub timestamp: String,
    pub verdicts: Vec<Verdict>,
}

/// What a replay saw and decided.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub events: usize,
    pub outcomes: Vec<Outcome>,
}

/// Reads events from `path` (`-` for standard input).
pub fn read_events(path: &str) -> Result<Vec<SourcedEvent>, ReplayError> {
    let mut text = String::new();
    let read = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::File::open(Path::new(path))
            .and_then(|mut f| f.read_to_string(&mut text).map(|_| ()))
    };
    read.map_err(|e| ReplayError::Read {
        file: path.to_string(),
        message: e.to_string(),
    })?;
    let name = if path == "-" { "<stdin>" } else { path };
    if input::looks_like_export(&text) {
        input::read_export(name, &text)
    } else {
        input::read_jsonl(name, text.as_bytes())
    }
}

/// Checks that events are in time order.
pub fn check_order(file: &str, events: &[SourcedEvent]) -> Result<(), ReplayError> {
    for pair in events.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if next.event.timestamp() < prev.event.timestamp() {
            return Err(ReplayError::OutOfOrder {
                file: file.to_string(),
                line: next.line,
                at: next.timestamp.clone(),
                previous_line: prev.line,
                previous: prev.timestamp.clone(),
            });
        }
    }
    Ok(())
}

/// Runs `events` through a fresh engine with `rules`, and every verdict through
/// `moderator`, whose store keeps the cases, warnings and audit rows. Timed actions fall
/// due on the events' clock. Escalations are reported after the verdict that set them off.
pub async fn run(
    rules: &LoadedRules,
    events: Vec<SourcedEvent>,
    moderator: &Moderator<Recorder>,
) -> Result<Report, ModerationError> {
    let mut engine = Engine::new(rules.set.clone());
    let mut report = Report::default();
    // Timed actions a killed run left half-done are due again, never lost.
    moderator.store().resume_timed().await?;
    if let Some(first) = events.first() {
        let origin = format!("replay of {}", rules.origin);
        moderator
            .load_rules(rules, &origin, first.event.timestamp())
            .await?;
    }
    for sourced in events {
        report.events += 1;
        let now = sourced.event.timestamp();
        moderator.run_due(now).await?;
        let mut verdicts = engine.handle(&sourced.event, now);
        let mut escalations = Vec::new();
        for verdict in &verdicts {
            escalations.extend(moderator.apply(&sourced.event, verdict, now).await?);
        }
        verdicts.extend(escalations);
        if !verdicts.is_empty() {
            report.outcomes.push(Outcome {
                event: sourced.event,
                line: sourced.line,
                timestamp: sourced.timestamp,
                verdicts,
            });
        }
    }
    Ok(report)
}
