//! Reading event streams: JSON Lines (one event a line) and DiscordChatExporter exports,
//! as specified in the replay format. Every error names the file, the line and the field.

use std::io::{BufRead, Read as _};

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ReplayError;
use crate::engine::event::{
    Attachment, Author, ChannelId, Event, GuildId, MemberJoin, MemberLeave, MemberUpdate, Message,
    MessageId, RoleId, UserId,
};
use crate::engine::time::Timestamp;

/// A Discord id written as a string (or, leniently, a number).
#[derive(Clone, Copy, Debug, Default)]
struct Id(u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a snowflake id as a string of digits")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                snowflake(v, &v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                let id = v
                    .parse()
                    .map_err(|_| E::custom(format!("`{v}` is not a snowflake id")))?;
                snowflake(id, v)
            }
        }
        d.deserialize_any(V)
    }
}

/// Discord's ids fit in 63 bits; a larger number is no id (and could not be stored).
fn snowflake<E: de::Error>(id: u64, written: &str) -> Result<Id, E> {
    if id > i64::MAX as u64 {
        return Err(E::custom(format!(
            "`{written}` is larger than any snowflake id (at most 9223372036854775807)"
        )));
    }
    Ok(Id(id))
}

/// A JSON object, and only an object: serde would also read a struct from an array of
/// its fields in order, which no event writer means.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// An RFC 3339 time.
#[derive(Clone, Debug)]
struct Time(Timestamp, String);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_time(&text)
            .map(|t| Time(t, text.clone()))
            .map_err(de::Error::custom)
    }
}

/// Parses an RFC 3339 time into the engine's milliseconds.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let t = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("`{text}` is not an RFC 3339 time ({e})"))?;
    Ok(Timestamp(
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Message,
    MessageEdit,
    MemberJoin,
    MemberUpdate,
    MemberLeave,
}

#[derive(Deserialize)]
struct RawEvent {
    kind: Kind,
    guild_id: Id,
    timestamp: Time,
    id: Option<Id>,
    channel_id: Option<Id>,
    category_id: Option<Id>,
    author: Option<Obj<RawUser>>,
    user: Option<Obj<RawUser>>,
    content: Option<String>,
    #[serde(default)]
    mentions: Vec<Id>,
    #[serde(default)]
    mention_roles: Vec<Id>,
    #[serde(default)]
    mention_everyone: bool,
    #[serde(default)]
    attachments: Vec<Obj<RawAttachment>>,
}

#[derive(Deserialize)]
struct RawUser {
    id: Id,
    #[serde(default)]
    name: String,
    display_name: Option<String>,
    #[serde(default)]
    bot: bool,
    created_at: Option<Time>,
    joined_at: Option<Time>,
    #[serde(default)]
    roles: Vec<Id>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(default)]
    filename: String,
    #[serde(default)]
    size: u64,
    content_type: Option<String>,
}

impl RawUser {
    fn into_author(self) -> Author {
        Author {
            id: UserId(self.id.0),
            name: self.name,
            display_name: self.display_name,
            bot: self.bot,
            created_at: self.created_at.map(|t| t.0),
            joined_at: self.joined_at.map(|t| t.0),
            roles: self.roles.into_iter().map(|r| RoleId(r.0)).collect(),
        }
    }
}

/// One event with where it came from.
#[derive(Clone, Debug)]
pub struct SourcedEvent {
    pub event: Event,
    pub line: usize,
    /// The timestamp as written in the input.
    pub timestamp: String,
}

/// Parses one JSON Lines event; `line` is used in errors.
pub fn parse_line(file: &str, line: usize, text: &str) -> Result<SourcedEvent, ReplayError> {
    let bad = |field: String, message: String| ReplayError::Event {
        file: file.to_string(),
        line,
        field,
        message,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: Obj<RawEvent> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let mut message = e.inner().to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        let field = if field == "." {
            missing_field(&message).unwrap_or_default()
        } else {
            field
        };
        bad(field, message)
    })?;
    de.end().map_err(|_| {
        bad(
            String::new(),
            "more after the event: one event a line, nothing after it".into(),
        )
    })?;
    let raw = raw.0;
    let timestamp = raw.timestamp.1.clone();
    let at = raw.timestamp.0;
    let event = match raw.kind {
        Kind::Message | Kind::MessageEdit => {
            let id = raw
                .id
                .ok_or_else(|| bad("id".into(), "missing field `id`".into()))?;
            let channel = raw
                .channel_id
                .ok_or_else(|| bad("channel_id".into(), "missing field `channel_id`".into()))?;
            let author = raw
                .author
                .ok_or_else(|| bad("author".into(), "missing field `author`".into()))?;
            let content = raw
                .content
                .ok_or_else(|| bad("content".into(), "missing field `content`".into()))?;
            let message = Message {
                id: MessageId(id.0),
                guild_id: GuildId(raw.guild_id.0),
                channel_id: ChannelId(channel.0),
                category_id: raw.category_id.map(|c| ChannelId(c.0)),
                author: author.0.into_author(),
                content,
                mentions: raw.mentions.into_iter().map(|m| UserId(m.0)).collect(),
                mention_roles: raw.mention_roles.into_iter().map(|m| RoleId(m.0)).collect(),
                mention_everyone: raw.mention_everyone,
                attachments: raw
                    .attachments
                    .into_iter()
                    .map(|Obj(a)| Attachment {
                        filename: a.filename,
                        size: a.size,
                        content_type: a.content_type,
                    })
                    .collect(),
                timestamp: at,
            };
            if matches!(raw.kind, Kind::Message) {
                Event::Message(message)
            } else {
                Event::MessageEdit(message)
            }
        }
        Kind::MemberJoin | Kind::MemberUpdate | Kind::MemberLeave => {
            let user = raw
                .user
                .ok_or_else(|| bad("user".into(), "missing field `user`".into()))?;
            let guild_id = GuildId(raw.guild_id.0);
            match raw.kind {
                Kind::MemberJoin => Event::MemberJoin(MemberJoin {
                    guild_id,
                    user: user.0.into_author(),
                    timestamp: at,
                }),
                Kind::MemberUpdate => Event::MemberUpdate(MemberUpdate {
                    guild_id,
                    user: user.0.into_author(),
                    timestamp: at,
                }),
                _ => Event::MemberLeave(MemberLeave {
                    guild_id,
                    user_id: UserId(user.0.id.0),
                    name: user.0.name,
                    timestamp: at,
                }),
            }
        }
    };
    Ok(SourcedEvent {
        event,
        line,
        timestamp,
    })
}

fn missing_field(message: &str) -> Option<String> {
    let start = message.find("missing field `")? + "missing field `".len();
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_string())
}

/// Reads a JSON Lines stream whole; blank lines are skipped. For tests and small inputs:
/// `replay` itself streams (see [`stream`]).
pub fn read_jsonl(file: &str, reader: impl BufRead) -> Result<Vec<SourcedEvent>, ReplayError> {
    let mut events = Vec::new();
    let mut lines = JsonLines::new(file, reader);
    while let Some(event) = lines.next_event() {
        events.push(event?);
    }
    Ok(events)
}

/// JSON Lines read a line at a time, each line checked as UTF-8 and as one event.
struct JsonLines<'a, R> {
    file: &'a str,
    reader: R,
    line: usize,
    buf: Vec<u8>,
}

impl<'a, R: BufRead> JsonLines<'a, R> {
    fn new(file: &'a str, reader: R) -> Self {
        JsonLines {
            file,
            reader,
            line: 0,
            buf: Vec::new(),
        }
    }

    /// The next event, `None` at the end.
    fn next_event(&mut self) -> Option<Result<SourcedEvent, ReplayError>> {
        loop {
            self.buf.clear();
            let mut limited = (&mut self.reader).take(MAX_LINE as u64 + 1);
            match limited.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(ReplayError::Read {
                        file: self.file.to_string(),
                        message: format!("after line {}: {e}", self.line),
                    }));
                }
            }
            self.line += 1;
            if self.buf.len() > MAX_LINE {
                return Some(Err(ReplayError::Event {
                    file: self.file.to_string(),
                    line: self.line,
                    field: String::new(),
                    message: format!("longer than {} MiB: one event a line", MAX_LINE >> 20),
                }));
            }
            let text = match std::str::from_utf8(&self.buf) {
                Ok(text) => text,
                Err(e) => {
                    return Some(Err(ReplayError::Event {
                        file: self.file.to_string(),
                        line: self.line,
                        field: String::new(),
                        message: format!(
                            "not UTF-8 text (byte {} of the line)",
                            e.valid_up_to() + 1
                        ),
                    }));
                }
            };
            let text = if self.line == 1 {
                text.strip_prefix('\u{feff}').unwrap_or(text)
            } else {
                text
            };
            if text.trim().is_empty() {
                continue;
            }
            return Some(parse_line(self.file, self.line, text));
        }
    }
}

/// The longest line read: an event is far smaller; a file without line breaks is no
/// JSON Lines, and reading it whole would hold all of it in memory.
const MAX_LINE: usize = 16 << 20;

/// How many events may wait between the reading thread and the replay.
const STREAM_AHEAD: usize = 1024;

/// Events read on a thread of their own, one at a time, so a replay's memory does not
/// grow with its input; the reading stops at the first bad event, which is the last item.
pub struct EventStream {
    events: std::sync::mpsc::Receiver<Result<SourcedEvent, ReplayError>>,
}

impl Iterator for EventStream {
    type Item = Result<SourcedEvent, ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.events.recv().ok()
    }
}

/// Streams the events of `reader` (JSON Lines, or a DiscordChatExporter export, told
/// apart by the first line); `file` names it in errors.
pub fn stream(file: String, mut reader: Box<dyn BufRead + Send>) -> EventStream {
    let (send, events) = std::sync::mpsc::sync_channel(STREAM_AHEAD);
    std::thread::spawn(move || {
        let mut first = Vec::new();
        if let Err(e) = reader.read_until(b'\n', &mut first) {
            let _ = send.send(Err(ReplayError::Read {
                file: file.clone(),
                message: e.to_string(),
            }));
            return;
        }
        let rest = std::io::Cursor::new(first.clone()).chain(reader);
        if starts_export(&first) {
            read_export_into(&file, rest, &|event| send.send(event).is_ok());
        } else {
            let mut lines = JsonLines::new(&file, std::io::BufReader::new(rest));
            while let Some(event) = lines.next_event() {
                let stop = event.is_err();
                if send.send(event).is_err() || stop {
                    return;
                }
            }
        }
    });
    EventStream { events }
}

/// Whether the first line starts an export: an object spread over lines (`{` alone, or
/// not a whole value), or one line holding an object with `guild` and `messages`.
fn starts_export(first: &[u8]) -> bool {
    let text = String::from_utf8_lossy(first);
    let text = text.trim_start_matches('\u{feff}').trim();
    if !text.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.get("messages").is_some() && v.get("guild").is_some(),
        Err(e) => e.is_eof(),
    }
}

#[derive(Deserialize)]
struct ExportRef {
    id: Id,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportChannel {
    id: Id,
    category_id: Option<Id>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportMessage {
    id: Id,
    timestamp: Time,
    #[serde(default)]
    content: String,
    author: Obj<ExportAuthor>,
    #[serde(default)]
    attachments: Vec<Obj<ExportAttachment>>,
    #[serde(default)]
    mentions: Vec<Obj<ExportRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportAuthor {
    id: Id,
    #[serde(default)]
    name: String,
    nickname: Option<String>,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    roles: Vec<Obj<ExportRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportAttachment {
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    file_size_bytes: u64,
}

/// Counts the lines a reader has given out, so events of an export name their line.
struct LineCounter<R> {
    inner: R,
    lines: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<R: std::io::Read> std::io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|b| **b == b'\n').count();
        self.lines
            .fetch_add(newlines, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads a DiscordChatExporter JSON export whole. For tests: `replay` streams it.
pub fn read_export(file: &str, text: &str) -> Result<Vec<SourcedEvent>, ReplayError> {
    let events = std::cell::RefCell::new(Vec::new());
    read_export_into(file, text.as_bytes(), &|event| {
        events.borrow_mut().push(event);
        true
    });
    events.into_inner().into_iter().collect()
}

/// Where an export's events go; `false` back means nobody listens any more.
type Sink<'a> = &'a dyn Fn(Result<SourcedEvent, ReplayError>) -> bool;

/// Streams an export's messages into `send`, each as a `message` event, in the order
/// they are written; `messages` must come after `guild` and `channel`, as the exporter
/// writes them.
fn read_export_into(file: &str, reader: impl std::io::Read, send: Sink<'_>) {
    let lines = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = LineCounter {
        inner: std::io::BufReader::with_capacity(64 * 1024, reader),
        lines: lines.clone(),
    };
    let mut json = serde_json::Deserializer::from_reader(counted);
    let mut track = serde_path_to_error::Track::new();
    let seed = ExportSeed {
        send,
        lines: &lines,
        stopped: std::cell::Cell::new(false),
    };
    let result = {
        let tracked = serde_path_to_error::Deserializer::new(&mut json, &mut track);
        de::DeserializeSeed::deserialize(&seed, tracked)
    };
    if seed.stopped.get() {
        return;
    }
    let result = result.and_then(|()| json.end());
    if let Err(e) = result {
        let mut message = e.to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        let field = track.path().to_string();
        send(Err(ReplayError::Event {
            file: file.to_string(),
            line: e.line(),
            field: if field == "." { String::new() } else { field },
            message,
        }));
    }
}

/// Reads an export's top-level object, sending messages as they are read.
struct ExportSeed<'a> {
    send: Sink<'a>,
    lines: &'a std::sync::atomic::AtomicUsize,
    /// The replay stopped listening: reading ends quietly.
    stopped: std::cell::Cell<bool>,
}

impl<'de> de::DeserializeSeed<'de> for &ExportSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &ExportSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a DiscordChatExporter export: an object with guild, channel and messages")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut place: Option<(GuildId, ChannelId, Option<ChannelId>)> = None;
        let mut guild = None;
        let mut channel: Option<ExportChannel> = None;
        let mut read_messages = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "guild" => guild = Some(map.next_value::<Obj<ExportRef>>()?.0),
                "channel" => channel = Some(map.next_value::<Obj<ExportChannel>>()?.0),
                "messages" => {
                    if place.is_none() {
                        let (Some(g), Some(c)) = (&guild, &channel) else {
                            return Err(de::Error::custom(
                                "`messages` comes before `guild` and `channel`; the exporter writes them first",
                            ));
                        };
                        place = Some((
                            GuildId(g.id.0),
                            ChannelId(c.id.0),
                            c.category_id.map(|c| ChannelId(c.0)),
                        ));
                    }
                    let Some(place) = place else {
                        return Ok(());
                    };
                    map.next_value_seed(MessagesSeed {
                        export: self,
                        place,
                    })?;
                    read_messages = true;
                    if self.stopped.get() {
                        return Ok(());
                    }
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        if !read_messages {
            return Err(de::Error::missing_field("messages"));
        }
        Ok(())
    }
}

/// Reads the `messages` array, sending each message as it is read.
struct MessagesSeed<'a, 'b> {
    export: &'a ExportSeed<'b>,
    place: (GuildId, ChannelId, Option<ChannelId>),
}

impl<'de> de::DeserializeSeed<'de> for MessagesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MessagesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (guild, channel, category) = self.place;
        while let Some(Obj(m)) = seq.next_element::<Obj<ExportMessage>>()? {
            // The line the message ends on: where its object closed.
            let line = self.export.lines.load(std::sync::atomic::Ordering::Relaxed) + 1;
            let event = SourcedEvent {
                line,
                timestamp: m.timestamp.1.clone(),
                event: Event::Message(export_message(m, guild, channel, category)),
            };
            if !(self.export.send)(Ok(event)) {
                self.export.stopped.set(true);
                return Ok(());
            }
        }
        Ok(())
    }
}

/// One exported message as the engine sees it.
fn export_message(
    m: ExportMessage,
    guild: GuildId,
    channel: ChannelId,
    category: Option<ChannelId>,
) -> Message {
    Message {
        id: MessageId(m.id.0),
        guild_id: guild,
        channel_id: channel,
        category_id: category,
        author: Author {
            id: UserId(m.author.0.id.0),
            name: m.author.0.name,
            display_name: m.author.0.nickname,
            bot: m.author.0.is_bot,
            created_at: None,
            joined_at: None,
            roles: m
                .author
                .0
                .roles
                .into_iter()
                .map(|r| RoleId(r.0.id.0))
                .collect(),
        },
        content: m.content,
        mentions: m.mentions.into_iter().map(|u| UserId(u.0.id.0)).collect(),
        mention_roles: Vec::new(),
        mention_everyone: false,
        attachments: m
            .attachments
            .into_iter()
            .map(|Obj(a)| Attachment {
                filename: a.file_name,
                size: a.file_size_bytes,
                content_type: None,
            })
            .collect(),
        timestamp: m.timestamp.0,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const JOIN: &str = r#"{"kind":"member_join","guild_id":"1","timestamp":"2026-11-22T10:00:00Z","user":{"id":"3"}}"#;

    fn error(text: &[u8]) -> ReplayError {
        read_jsonl("e.jsonl", text).expect_err("refused")
    }

    fn says(e: &ReplayError, line: usize, field: &str, words: &str) {
        let ReplayError::Event {
            line: l,
            field: f,
            message,
            ..
        } = e
        else {
            panic!("not an event error: {e}");
        };
        assert_eq!((*l, f.as_str()), (line, field), "{e}");
        assert!(message.contains(words), "{e}");
    }

    #[test]
    fn a_second_value_on_a_line_is_refused() {
        let text = format!("{JOIN}\n{JOIN} {JOIN}\n");
        says(&error(text.as_bytes()), 2, "", "one event a line");
    }

    #[test]
    fn events_and_their_parts_must_be_objects() {
        let text = r#"["member_join","1","2026-11-22T10:00:00Z"]"#;
        says(&error(text.as_bytes()), 1, "", "JSON object");
        let nested = r#"{"kind":"member_join","guild_id":"1","timestamp":"2026-11-22T10:00:00Z","user":["3","bob"]}"#;
        says(&error(nested.as_bytes()), 1, "user", "JSON object");
    }

    #[test]
    fn bad_utf8_names_its_line() {
        let mut text = format!("{JOIN}\n").into_bytes();
        text.extend_from_slice(b"{\"kind\":\"\xff\"}\n");
        says(&error(&text), 2, "", "UTF-8");
    }

    #[test]
    fn ids_beyond_63_bits_are_refused_with_their_field() {
        let text = JOIN.replace(r#""id":"3""#, r#""id":"18446744073709551615""#);
        says(
            &error(text.as_bytes()),
            1,
            "user.id",
            "larger than any snowflake",
        );
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_all() {
        let endless = std::io::repeat(b' ').take(64 << 20);
        let e = read_jsonl("e.jsonl", std::io::BufReader::new(endless)).expect_err("refused");
        says(&e, 1, "", "longer than 16 MiB");
    }

    #[test]
    fn a_byte_order_mark_before_the_first_event_is_read_past() {
        let text = format!("\u{feff}{JOIN}\n");
        assert_eq!(
            read_jsonl("e.jsonl", text.as_bytes()).expect("read").len(),
            1
        );
    }

    #[test]
    fn export_errors_name_the_line_and_the_message_field() {
        let text = "{\n  \"guild\": {\"id\": \"1\"},\n  \"channel\": {\"id\": \"2\"},\n  \"messages\": [\n    {\"id\": \"5\", \"timestamp\": \"2026-11-22T10:00:00Z\", \"content\": \"hi\", \"author\": {\"id\": \"3\"}},\n    {\"id\": \"6\", \"timestamp\": \"yesterday\", \"content\": \"hi\", \"author\": {\"id\": \"3\"}}\n  ]\n}\n";
        let e = read_export("x.json", text).expect_err("refused");
        says(&e, 6, "messages[1].timestamp", "RFC 3339");
        let good = text.replace("yesterday", "2026-11-22T10:00:01Z");
        let events = read_export("x.json", &good).expect("read");
        let lines: Vec<usize> = events.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 6]);
    }

    #[test]
    fn an_export_that_puts_messages_first_is_refused() {
        let text = r#"{"messages": [], "guild": {"id": "1"}, "channel": {"id": "2"}}"#;
        let e = read_export("x.json", text).expect_err("refused");
        assert!(e.to_string().contains("comes before"), "{e}");
    }

    #[test]
    fn streams_tell_exports_from_json_lines() {
        let lines = stream(
            "e.jsonl".into(),
            Box::new(std::io::Cursor::new(format!("{JOIN}\n{JOIN}\n"))),
        );
        assert_eq!(lines.filter(Result::is_ok).count(), 2);
        let export = "{\"guild\": {\"id\": \"1\"}, \"channel\": {\"id\": \"2\"}, \"messages\": [{\"id\": \"5\", \"timestamp\": \"2026-11-22T10:00:00Z\", \"author\": {\"id\": \"3\"}}]}";
        let events = stream(
            "x.json".into(),
            Box::new(std::io::Cursor::new(export.to_string())),
        );
        assert_eq!(events.filter(Result::is_ok).count(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Garbage, deep nesting and long lines end in an error or events, never a panic.
        #[test]
        fn any_bytes_are_read_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = read_jsonl("g.jsonl", bytes.as_slice());
            let _ = read_export("g.json", &String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn deep_nesting_is_refused_not_followed(depth in 1usize..5000) {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            prop_assert!(read_jsonl("d.jsonl", text.as_bytes()).is_err());
            let nested = format!("{{\"guild\": {}1{}}}", "{\"id\":".repeat(depth), "}".repeat(depth));
            prop_assert!(read_export("d.json", &nested).is_err());
        }
    }
}
