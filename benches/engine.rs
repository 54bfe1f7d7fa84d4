//! Engine throughput with the example rules and full default lists, side by side with the
//! `rustrict` profanity filter on the same messages.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use rustrict::CensorStr;
use steward::engine::Engine;
use steward::engine::event::{Author, ChannelId, Event, GuildId, Message, MessageId, UserId};
use steward::engine::time::{Duration, Timestamp};

/// Message texts from the shipped sample stream, plus the dev corpus when it is present.
fn texts() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut texts = Vec::new();
    let sample = std::fs::read_to_string(format!("{root}/samples/server.jsonl"))
        .expect("samples/server.jsonl");
    let corpus = std::fs::read_to_string(format!("{root}/../shared/eval/dev-corpus.jsonl"))
        .unwrap_or_default();
    for line in sample.lines().chain(corpus.lines()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        if let Some(t) = v["content"].as_str().or_else(|| v["text"].as_str()) {
            texts.push(t.to_string());
        }
    }
    texts
}

fn events(texts: &[String]) -> Vec<Event> {
    let start = Timestamp(1_790_000_000_000);
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let i64i = i as i64;
            Event::Message(Message {
                id: MessageId(i as u64),
                guild_id: GuildId(1),
                channel_id: ChannelId(10 + (i as u64 % 5)),
                author: Author {
                    id: UserId(1000 + (i as u64 % 200)),
                    name: "member".into(),
                    created_at: Some(start - Duration::from_secs(400 * 86_400)),
                    joined_at: Some(start - Duration::from_secs(30 * 86_400)),
                    ..Author::default()
                },
                content: text.clone(),
                timestamp: Timestamp(start.0 + i64i * 700),
                ..Message::default()
            })
        })
        .collect()
}

fn engine() -> Engine {
    Engine::new(steward::rules::example().expect("example rules").set)
}

/// Runs every event once; returns verdicts so the work cannot be optimized away.
fn run_engine(engine: &mut Engine, events: &[Event], round: i64) -> usize {
    let offset = Duration((round * events.len() as i64 * 700) as u64);
    events
        .iter()
        .map(|e| engine.handle(e, e.timestamp() + offset).len())
        .sum()
}

/// Passes of steward and of rustrict taken in turn for `seconds`, so that both meet the
/// same machine (a busy neighbour slows both alike); the median pass of each, in seconds.
fn in_turn(seconds: f64, mut ours: impl FnMut(i64), mut theirs: impl FnMut()) -> (f64, f64) {
    ours(0);
    theirs();
    let (mut our_passes, mut their_passes) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut round = 0;
    while start.elapsed().as_secs_f64() < seconds {
        round += 1;
        let at = Instant::now();
        ours(round);
        our_passes.push(at.elapsed().as_secs_f64());
        let at = Instant::now();
        theirs();
        their_passes.push(at.elapsed().as_secs_f64());
    }
    (median(&mut our_passes), median(&mut their_passes))
}

fn median(passes: &mut [f64]) -> f64 {
    passes.sort_by(f64::total_cmp);
    passes.get(passes.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let texts = texts();
    let events = events(&texts);
    println!("{} messages per pass", texts.len());

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("moderation");
    group.throughput(Throughput::Elements(texts.len() as u64));
    let mut e = engine();
    let mut round = 0;
    group.bench_function("steward engine", |b| {
        b.iter(|| {
            round += 1;
            black_box(run_engine(&mut e, &events, round))
        })
    });
    group.bench_function("rustrict", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter(|t| black_box(t.as_str()).is_inappropriate())
                .count()
        })
    });
    group.finish();

    let mut e = engine();
    let (ours, theirs) = in_turn(
        6.0,
        |round| {
            black_box(run_engine(&mut e, &events, round));
        },
        || {
            black_box(texts.iter().filter(|t| t.is_inappropriate()).count());
        },
    );
    let per_sec = |pass: f64| texts.len() as f64 / pass;
    println!(
        "steward  {:.2} ms a pass, {:>9.0} msgs/s",
        ours * 1e3,
        per_sec(ours)
    );
    println!(
        "rustrict {:.2} ms a pass, {:>9.0} msgs/s",
        theirs * 1e3,
        per_sec(theirs)
    );
    println!(
        "steward / rustrict, median passes taken in turn: {:.1}x",
        theirs / ours
    );
}
