//! `steward replay`: recorded or synthetic activity through the same rules and engine as
//! the live bot, and a report of what the bot would have done.

pub mod input;
pub mod output;

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

/// Opens the events of `path` (`-` for standard input) as a stream: read on a thread of
/// their own, one at a time.
pub fn open_events(path: &str) -> Result<input::EventStream, ReplayError> {
    open_events_as(path, if path == "-" { "<stdin>" } else { path })
}

/// [`open_events`] with `name` for the input in errors (a spooled copy of standard input
/// is still `<stdin>`).
pub fn open_events_as(path: &str, name: &str) -> Result<input::EventStream, ReplayError> {
    let reader: Box<dyn std::io::BufRead + Send> = if path == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(Path::new(path)).map_err(|e| ReplayError::Read {
            file: path.to_string(),
            message: e.to_string(),
        })?;
        Box::new(std::io::BufReader::with_capacity(256 * 1024, file))
    };
    Ok(input::stream(name.to_string(), reader))
}

/// Reads every event of `path` and checks them (fields and time order) without deciding
/// anything: a replay that writes to a database checks its input first, so bad input
/// changes nothing. Returns how many events there are.
pub fn check_events(path: &str, name: &str) -> Result<usize, ReplayError> {
    let mut order = TimeOrder::for_file(name);
    let mut count = 0;
    for event in open_events_as(path, name)? {
        order.check(&event?)?;
        count += 1;
    }
    Ok(count)
}

/// Remembers the previous event, to refuse one older than it.
struct TimeOrder {
    previous: Option<(crate::engine::time::Timestamp, usize, String)>,
    file: String,
}

impl TimeOrder {
    fn for_file(file: &str) -> Self {
        TimeOrder {
            previous: None,
            file: file.to_string(),
        }
    }

    fn check(&mut self, next: &SourcedEvent) -> Result<(), ReplayError> {
        let at = next.event.timestamp();
        if let Some((before, line, written)) = &self.previous
            && at < *before
        {
            return Err(ReplayError::OutOfOrder {
                file: self.file.clone(),
                line: next.line,
                at: next.timestamp.clone(),
                previous_line: *line,
                previous: written.clone(),
            });
        }
        self.previous = Some((at, next.line, next.timestamp.clone()));
        Ok(())
    }
}

/// Why a replay stopped: its input, or the store.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] ReplayError),
    #[error(transparent)]
    Moderation(#[from] ModerationError),
}

/// Runs `events` through a fresh engine with `rules`, and every verdict through
/// `moderator`, whose store keeps the cases, warnings and audit rows. Events are checked
/// as they come: a bad one, or one older than the one before, stops the replay. Timed
/// actions fall due on the events' clock; the store is asked for them only once the
/// earliest one is due (and after a verdict, which may have scheduled one). Escalations
/// are reported after the verdict that set them off.
pub async fn run(
    rules: &LoadedRules,
    file: &str,
    events: impl IntoIterator<Item = Result<SourcedEvent, ReplayError>>,
    moderator: &Moderator<Recorder>,
) -> Result<Report, RunError> {
    let mut engine = Engine::new(rules.set.clone());
    let mut report = Report::default();
    let store = moderator.store();
    // Timed actions a killed run left half-done are due again, never lost.
    store.resume_timed().await.map_err(ModerationError::from)?;
    let mut next_due = store.next_due().await.map_err(ModerationError::from)?;
    let mut order = TimeOrder::for_file(file);
    for sourced in events {
        let sourced = sourced?;
        order.check(&sourced)?;
        let now = sourced.event.timestamp();
        if report.events == 0 {
            let origin = format!("replay of {}", rules.origin);
            moderator.load_rules(rules, &origin, now).await?;
        }
        report.events += 1;
        if next_due.is_some_and(|due| due <= now) {
            moderator.run_due(now).await?;
            next_due = store.next_due().await.map_err(ModerationError::from)?;
        }
        let mut verdicts = engine.handle(&sourced.event, now);
        if verdicts.is_empty() {
            continue;
        }
        let mut escalations = Vec::new();
        for verdict in &verdicts {
            escalations.extend(moderator.apply(&sourced.event, verdict, now).await?);
        }
        next_due = store.next_due().await.map_err(ModerationError::from)?;
        verdicts.extend(escalations);
        report.outcomes.push(Outcome {
            event: sourced.event,
            line: sourced.line,
            timestamp: sourced.timestamp,
            verdicts,
        });
    }
    Ok(report)
}
