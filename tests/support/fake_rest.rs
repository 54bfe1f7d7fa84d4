//! A local fake of Discord's REST API on 127.0.0.1: it records every request and answers
//! with payloads serenity accepts. Bots reach it through `HttpBuilder::proxy`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::payloads;

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path without the `/api/v10` prefix and without the query string.
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
    /// Files sent with a multipart request: (file name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// When the request arrived.
    pub at: std::time::Instant,
}

impl Recorded {
    /// The audit-log reason the request carried, decoded.
    pub fn reason(&self) -> Option<String> {
        let raw = self.headers.get("x-audit-log-reason")?;
        Some(percent_decode(raw))
    }
}

/// The server state tests arrange and inspect.
#[derive(Default)]
pub struct State {
    pub requests: Vec<Recorded>,
    /// Guild owner per guild.
    pub owners: HashMap<u64, u64>,
    /// Roles (id → position) per guild.
    pub roles: HashMap<u64, Vec<(u64, i64)>>,
    /// Roles of each member, by (guild, user).
    pub members: HashMap<(u64, u64), Vec<u64>>,
    /// Scripted server errors: requests matching a method and path get 500 a set number
    /// of times (to test retries), whatever else is sent in between.
    pub failures: Vec<Failure>,
    /// Overwrites (target, allow, deny) of each channel; all channels are in guild 1.
    pub channels: HashMap<u64, Vec<(u64, u64, u64)>>,
    /// What `GET /gateway` points at.
    pub gateway_url: String,
    /// The bot user `GET /users/@me` describes.
    pub bot: u64,
    /// Recent messages of each channel, newest first, for `GET /channels/{id}/messages`.
    pub history: HashMap<u64, Vec<Value>>,
    /// Files served raw at `GET /files/{name}` (attachments).
    pub files: HashMap<String, String>,
    /// Users a bulk ban reports in `failed_users` (as Discord does for accounts it could
    /// not ban), and users a single ban answers with 403.
    pub bulk_ban_fails: Vec<u64>,
    pub ban_forbidden: Vec<u64>,
    /// Members whose DMs are closed: a message to them gets Discord's error 50007.
    pub closed_dms: Vec<u64>,
    /// The server of each channel not in server 1, the fake's default server.
    pub channel_guilds: HashMap<u64, u64>,
    /// Each channel's slowmode (`rate_limit_per_user`), set by `PATCH /channels/{id}`.
    pub slowmode: HashMap<u64, u64>,
    /// Requests whose answer is held back this long after they are recorded (and their
    /// effect applied), so a test can kill the bot while the answer is on its way.
    pub answer_delay: Option<AnswerDelay>,
}

/// Hold back the answer to requests `held` picks by `delay`.
#[derive(Clone, Copy)]
pub struct AnswerDelay {
    pub held: fn(&Recorded) -> bool,
    pub delay: std::time::Duration,
}

/// Answer `times` requests of `method` on `path` with a status, then answer normally.
#[derive(Clone, Debug)]
pub struct Failure {
    pub method: &'static str,
    pub path: String,
    pub times: usize,
    pub status: u16,
}

impl State {
    /// Answers the next `times` requests of `method` on `path` with 500.
    pub fn fail(&mut self, method: &'static str, path: impl Into<String>, times: usize) {
        self.failures.push(Failure {
            method,
            path: path.into(),
            times,
            status: 500,
        });
    }
}

/// A running fake; it stops when dropped.
pub struct FakeRest {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRest {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRest {
    /// Starts the fake on a free port.
    pub async fn start(state: State) -> FakeRest {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        FakeRest { url, state, task }
    }

    /// Every request so far that is not a lookup (GET).
    pub fn actions(&self) -> Vec<Recorded> {
        self.state
            .lock()
            .expect("state")
            .requests
            .iter()
            .filter(|r| r.method != "GET")
            .cloned()
            .collect()
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).await?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let path = path.trim_start_matches("/api/v10").to_string();
        let (body, files) = match headers
            .get("content-type")
            .and_then(|t| t.split_once("boundary="))
        {
            Some((_, boundary)) => multipart(&body, boundary.trim_matches('"')),
            None => (
                serde_json::from_slice(&body).unwrap_or(Value::Null),
                Vec::new(),
            ),
        };
        let recorded = Recorded {
            method,
            path,
            query: query.to_string(),
            headers,
            body,
            files,
            at: std::time::Instant::now(),
        };
        let (status, reply, delay) = {
            let mut state = state.lock().expect("state");
            let (status, reply) = answer(&recorded, &mut state);
            let delay = state
                .answer_delay
                .filter(|d| (d.held)(&recorded))
                .map(|d| d.delay);
            state.requests.push(recorded);
            (status, reply, delay)
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let text = match reply {
            _ if status == 204 => String::new(),
            Value::String(raw) => raw, // a file, served as it is
            json => json.to_string(),
        };
        let response = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
            if status < 300 { "OK" } else { "Error" },
            text.len()
        );
        write.write_all(response.as_bytes()).await?;
    }
}

/// Status and body for one request.
fn answer(r: &Recorded, state: &mut State) -> (u16, Value) {
    if let Some(failure) = state
        .failures
        .iter_mut()
        .find(|f| f.times > 0 && f.method == r.method && f.path == r.path)
    {
        failure.times -= 1;
        let status = failure.status;
        return (
            status,
            json!({"message": "internal server error", "code": 0}),
        );
    }
    let segments: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let id = |i: usize| {
        segments
            .get(i)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    match (r.method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => (200, json!({"url": state.gateway_url})),
        ("GET", ["gateway", "bot"]) => (
            200,
            json!({"url": state.gateway_url, "shards": 1,
                   "session_start_limit": {"total": 1000, "remaining": 999,
                                           "reset_after": 0, "max_concurrency": 1}}),
        ),
        ("GET", ["users", "@me"]) => (200, payloads::user(state.bot, "steward", true)),
        ("GET", ["oauth2", "applications", "@me"]) => (
            200,
            json!({"id": state.bot.to_string(), "name": "steward", "icon": null,
                   "description": "", "bot_public": false, "bot_require_code_grant": false,
                   "verify_key": "0", "flags": 0, "team": null,
                   "owner": payloads::user(1, "owner", false)}),
        ),
        ("GET", ["guilds", _]) => {
            let guild = id(1);
            let roles: Vec<Value> = state
                .roles
                .get(&guild)
                .map(|roles| {
                    roles
                        .iter()
                        .map(|(role, pos)| payloads::role(*role, "role", *pos))
                        .collect()
                })
                .unwrap_or_default();
            let owner = state.owners.get(&guild).copied().unwrap_or(1);
            (200, payloads::guild(guild, owner, &roles))
        }
        ("GET" | "PATCH", ["guilds", _, "members", _]) => {
            let (guild, user) = (id(1), id(3));
            match state.members.get(&(guild, user)) {
                Some(roles) => (200, payloads::member(guild, user, "member", roles)),
                None => (404, json!({"message": "Unknown Member", "code": 10007})),
            }
        }
        ("POST", ["guilds", _, "bulk-ban"]) => {
            let users: Vec<String> = r.body["user_ids"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let failed = |u: &String| {
                u.parse()
                    .is_ok_and(|u: u64| state.bulk_ban_fails.contains(&u))
            };
            let (bad, good): (Vec<String>, Vec<String>) = users.into_iter().partition(failed);
            (200, json!({"banned_users": good, "failed_users": bad}))
        }
        ("PUT", ["guilds", _, "bans", _]) if state.ban_forbidden.contains(&id(3)) => (
            403,
            json!({"message": "Missing Permissions", "code": 50013}),
        ),
        ("POST", ["channels", _, "messages", "bulk-delete"]) => (204, Value::Null),
        ("PATCH", ["channels", _, "messages", _]) => {
            let author = payloads::user(42, "steward", true);
            let content = r.body["content"].as_str().unwrap_or_default().to_string();
            let embeds = r.body.get("embeds").cloned().unwrap_or(json!([]));
            let mut message = payloads::message(id(3), id(1), author, &content, embeds);
            message["components"] = r.body.get("components").cloned().unwrap_or(json!([]));
            (200, message)
        }
        ("POST", ["channels", _, "messages"])
            if dm_recipient(id(1)).is_some_and(|u| state.closed_dms.contains(&u)) =>
        {
            (
                403,
                json!({"message": "Cannot send messages to this user", "code": 50007}),
            )
        }
        ("POST", ["channels", _, "messages"]) => {
            let author = payloads::user(42, "steward", true);
            let content = r.body["content"].as_str().unwrap_or_default().to_string();
            let embeds = r.body.get("embeds").cloned().unwrap_or(json!([]));
            (
                200,
                payloads::message(9_000, id(1), author, &content, embeds),
            )
        }
        ("POST", ["users", "@me", "channels"]) => {
            let user: u64 = r.body["recipient_id"]
                .as_str()
                .and_then(|u| u.parse().ok())
                .unwrap_or(0);
            (
                200,
                json!({"id": dm_channel(user).to_string(), "type": 1,
                       "recipients": [payloads::user(user, "member", false)]}),
            )
        }
        ("GET", ["channels", _]) if dm_recipient(id(1)).is_some() => (
            200,
            json!({"id": id(1).to_string(), "type": 1, "recipients": []}),
        ),
        ("GET", ["channels", _]) => {
            let guild = state.channel_guilds.get(&id(1)).copied().unwrap_or(1);
            let overwrites = state.channels.get(&id(1)).cloned().unwrap_or_default();
            let mut channel = payloads::channel(id(1), guild, &overwrites);
            channel["rate_limit_per_user"] =
                json!(state.slowmode.get(&id(1)).copied().unwrap_or(0));
            (200, channel)
        }
        ("PUT", ["channels", _, "permissions", _]) => {
            let bits = |k: &str| r.body[k].as_str().and_then(|b| b.parse().ok()).unwrap_or(0);
            let overwrites = state.channels.entry(id(1)).or_default();
            overwrites.retain(|(target, _, _)| *target != id(3));
            overwrites.push((id(3), bits("allow"), bits("deny")));
            (204, Value::Null)
        }
        ("DELETE", ["channels", _, "permissions", _]) => {
            let overwrites = state.channels.entry(id(1)).or_default();
            overwrites.retain(|(target, _, _)| *target != id(3));
            (204, Value::Null)
        }
        ("GET", ["files", name]) => match state.files.get(*name) {
            Some(text) => (200, Value::String(text.clone())),
            None => (404, json!({"message": "Unknown file", "code": 0})),
        },
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => (200, json!([])),
        ("POST", ["interactions", _, _, "callback"]) => (204, Value::Null),
        ("POST", ["webhooks", _, _]) | ("PATCH", ["webhooks", _, _, "messages", _]) => {
            let content = r.body["content"].as_str().unwrap_or_default().to_string();
            let embeds = r.body.get("embeds").cloned().unwrap_or(json!([]));
            let author = payloads::user(42, "steward", true);
            (200, payloads::message(9_001, 10, author, &content, embeds))
        }
        ("GET", ["channels", _, "messages"]) => (
            200,
            Value::Array(state.history.get(&id(1)).cloned().unwrap_or_default()),
        ),
        ("PATCH", ["channels", _]) => {
            if let Some(seconds) = r.body["rate_limit_per_user"].as_u64() {
                state.slowmode.insert(id(1), seconds);
            }
            let overwrites = state.channels.get(&id(1)).cloned().unwrap_or_default();
            (200, payloads::channel(id(1), 1, &overwrites))
        }
        ("GET", ["guilds", _, "channels"]) => {
            let mut ids: Vec<u64> = state.channels.keys().copied().collect();
            ids.sort();
            let list: Vec<Value> = ids
                .iter()
                .map(|c| payloads::channel(*c, id(1), &state.channels[c]))
                .collect();
            (200, Value::Array(list))
        }
        ("DELETE", _) | ("PUT", _) => (204, Value::Null),
        _ => (404, json!({"message": "Unknown route", "code": 0})),
    }
}

/// The id of the DM channel with `user`.
pub fn dm_channel(user: u64) -> u64 {
    DM_CHANNELS + user
}

const DM_CHANNELS: u64 = 1 << 40;

/// Whose DM channel `channel` is, if it is one.
fn dm_recipient(channel: u64) -> Option<u64> {
    channel.checked_sub(DM_CHANNELS)
}

/// The JSON payload (`payload_json`) and the files of a multipart/form-data body.
fn multipart(body: &[u8], boundary: &str) -> (Value, Vec<(String, Vec<u8>)>) {
    let delimiter = format!("--{boundary}");
    let mut payload = Value::Null;
    let mut files = Vec::new();
    for part in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        let Some(end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..end]);
        let content = part[end + 4..]
            .strip_suffix(b"\r\n")
            .unwrap_or(&part[end + 4..]);
        let quoted = |key: &str| {
            let at = head.find(&format!("{key}=\""))? + key.len() + 2;
            head[at..].split('"').next().map(str::to_string)
        };
        match (quoted("name").as_deref(), quoted("filename")) {
            (Some("payload_json"), _) => {
                payload = serde_json::from_slice(content).unwrap_or(Value::Null)
            }
            (_, Some(name)) => files.push((name, content.to_vec())),
            _ => {}
        }
    }
    (payload, files)
}

fn split<'a>(mut bytes: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(bytes, delimiter) {
        parts.push(&bytes[..at]);
        bytes = &bytes[at + delimiter.len()..];
    }
    parts.push(bytes);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = raw.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
