//! What the moderation layer's tests share: rules, events and verdicts to feed it, and a
//! way to read back what it recorded.

use crate::engine::event::{Author, ChannelId, Event, GuildId, Message, MessageId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::engine::verdict::{Action, Evidence, Mode, Verdict};
use crate::rules::LoadedRules;
use crate::store::Store;
use crate::store::audit::AuditFilter;

pub(crate) const HOUR: i64 = 3_600_000;

pub(crate) fn rules() -> LoadedRules {
    crate::rules::example().expect("example rules")
}

pub(crate) fn message(user: u64, at: i64) -> Event {
    Event::Message(Message {
        id: MessageId(900 + at as u64 % 1000),
        guild_id: GuildId(1),
        channel_id: ChannelId(10),
        author: Author {
            id: UserId(user),
            ..Author::default()
        },
        content: "n1gg3r".into(),
        timestamp: Timestamp(at),
        ..Message::default()
    })
}

pub(crate) fn verdict(rule: &str, mode: Mode, actions: Vec<Action>) -> Verdict {
    Verdict {
        rule: rule.into(),
        mode,
        reason: "blocked word from list slurs".into(),
        evidence: Evidence {
            matched: "n1gg3r".into(),
            normalized: Some("nigger".into()),
            span: Some((0, 6)),
        },
        actions,
        accounts: Vec::new(),
    }
}

pub(crate) fn warn() -> Action {
    Action::Warn {
        points: 1,
        expires: None,
    }
}

pub(crate) async fn phases(store: &Store) -> Vec<(String, &'static str)> {
    store
        .audit_rows(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entry.action, r.entry.phase.as_str()))
        .collect()
}

pub(crate) fn temporary_ban(secs: u64) -> Action {
    Action::Ban {
        duration: Some(Duration::from_secs(secs)),
        delete_messages: Duration(0),
    }
}
