//! The real `steward run` binary started against the fakes, with helpers to drive it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward::store::Store;

use super::fake_gateway::FakeGateway;
use super::fake_rest::{FakeRest, Recorded, State};
use super::payloads;

pub const GUILD: u64 = 1;
/// A second server the bot is in, with its own channel.
pub const OTHER_GUILD: u64 = 2;
pub const OTHER_CHANNEL: u64 = 20;
/// The application's owner, as the fake's application info names it.
pub const APP_OWNER: u64 = 1;
pub const BOT: u64 = 42;
pub const MOD_LOG: u64 = 300;
pub const CHANNEL: u64 = 10;
/// A member whose top role is above steward's.
pub const MODERATOR: u64 = 520;

/// The example rules with alerts going to the mod-log channel.
pub fn rules() -> String {
    let rules = steward::rules::EXAMPLE_RULES.replacen(
        "# mod_log_channel: \"123456789012345678\"",
        &format!("mod_log_channel: \"{MOD_LOG}\""),
        1,
    );
    assert_ne!(
        rules,
        steward::rules::EXAMPLE_RULES,
        "the example's mod-log line moved"
    );
    rules
}

pub struct Bot {
    pub child: Child,
    /// Reads the bot's log as it is written, so a busy bot never blocks on a full pipe;
    /// gives the whole log once the bot has exited.
    log: Option<std::thread::JoinHandle<String>>,
    /// Extra environment the bot runs with (kept for restarts).
    env: Vec<(String, String)>,
    /// The database the bot runs on (kept for restarts).
    pub database: String,
    /// Where the bot serves /metrics and /healthz.
    pub metrics: String,
    pub rest: FakeRest,
    pub gateway: FakeGateway,
    pub dir: tempfile::TempDir,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bot {
    /// Starts the fakes and `steward run` against them with the example rules (alerts to
    /// the mod-log channel); returns once the bot identified.
    pub async fn start() -> Bot {
        Bot::launch(&rules(), tempfile::tempdir().expect("temp dir"), &[]).await
    }

    /// Like [`Bot::start`] with `rules` and a prepared working directory.
    pub async fn launch(rules: &str, dir: tempfile::TempDir, env: &[(&str, &str)]) -> Bot {
        let database = dir
            .path()
            .join("steward.db")
            .to_str()
            .expect("UTF-8 path")
            .to_string();
        Bot::launch_on(rules, dir, env, &database).await
    }

    /// Like [`Bot::launch`] on the database at `database` (a path or URL), with fakes of
    /// its own.
    pub async fn launch_on(
        rules: &str,
        dir: tempfile::TempDir,
        env: &[(&str, &str)],
        database: &str,
    ) -> Bot {
        let gateway = FakeGateway::start(BOT, vec![GUILD, OTHER_GUILD]).await;
        let mut state = State {
            gateway_url: gateway.url.clone(),
            bot: BOT,
            ..State::default()
        };
        // Two servers alike: the same roles, members and moderator in each.
        for guild in [GUILD, OTHER_GUILD] {
            state.owners.insert(guild, 7);
            state.roles.insert(guild, vec![(11, 1), (12, 5), (13, 9)]);
            state.members.insert((guild, BOT), vec![12]);
            for member in 500..=510 {
                state.members.insert((guild, member), vec![11]);
            }
            state.members.insert((guild, MODERATOR), vec![13]);
        }
        state.channel_guilds.insert(OTHER_CHANNEL, OTHER_GUILD);
        let rest = FakeRest::start(state).await;
        std::fs::write(dir.path().join("rules.yaml"), rules).expect("write rules");
        let metrics = free_address();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut child = spawn(dir.path(), database, &rest.url, &metrics, &env);
        let log = drain_log(&mut child);
        gateway.wait_for_sessions(1, Duration::from_secs(60)).await;
        Bot {
            child,
            log,
            env,
            database: database.to_string(),
            metrics,
            rest,
            gateway,
            dir,
        }
    }

    /// Kills the bot with SIGKILL (no shutdown of any kind) and starts it again on the same
    /// database, rules and fakes; returns once the new process identified.
    pub async fn crash_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
        let sessions = self.gateway.sessions();
        self.metrics = free_address();
        self.child = spawn(
            self.dir.path(),
            &self.database,
            &self.rest.url,
            &self.metrics,
            &self.env,
        );
        self.log = drain_log(&mut self.child);
        self.gateway
            .wait_for_sessions(sessions + 1, Duration::from_secs(60))
            .await;
    }

    /// Waits until the fake REST API has seen a request matching `want`.
    pub async fn wait_for(&self, what: &str, want: impl Fn(&Recorded) -> bool) -> Recorded {
        self.wait_for_count(what, 1, want).await.remove(0)
    }

    /// Waits until the fake REST API has seen `count` requests matching `want`; returns them
    /// in order.
    pub async fn wait_for_count(
        &self,
        what: &str,
        count: usize,
        want: impl Fn(&Recorded) -> bool,
    ) -> Vec<Recorded> {
        let start = Instant::now();
        loop {
            let found: Vec<Recorded> = self
                .rest
                .actions()
                .into_iter()
                .filter(|r| want(r))
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {what}; requests: {:#?}",
                self.rest.actions()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the bot has handled `count` gateway events of `kind` (`message`,
    /// `member_join`, …) to the end, as its metrics count them.
    pub async fn wait_settled(&self, kind: &str, count: u64) {
        let start = Instant::now();
        let line = format!("steward_events_settled_total{{kind=\"{kind}\"}} ");
        loop {
            let (_, text) = get(&self.metrics, "/metrics").await;
            let settled = text
                .lines()
                .find_map(|l| l.strip_prefix(&line)?.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if settled >= count {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{settled} of {count} {kind} events handled; metrics:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the bot with SIGTERM and checks it shut down cleanly.
    pub fn stop(mut self) -> tempfile::TempDir {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM sent");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no shutdown after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = self
            .log
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        assert!(status.success(), "exit {status}: {stderr}");
        assert!(
            !stderr.contains("fake-token-never-printed"),
            "the token was logged"
        );
        std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"))
    }
}

pub fn message(id: u64, author: u64, content: &str) -> Value {
    let mut m = payloads::message(
        id,
        CHANNEL,
        payloads::user(author, "member", false),
        content,
        json!([]),
    );
    m["guild_id"] = json!(GUILD.to_string());
    m["timestamp"] = json!(now_rfc3339());
    m["member"] = json!({
        "roles": ["11"], "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "deaf": false, "mute": false, "flags": 0
    });
    m
}

/// Milliseconds between the Unix epoch and Discord's snowflake epoch.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A user id as Discord would give an account made at `ms` (Unix milliseconds); `n`
/// tells apart accounts made in the same millisecond.
pub fn snowflake_at(ms: u64, n: u64) -> u64 {
    ((ms - DISCORD_EPOCH_MS) << 22) | (n & 0x3F_FFFF)
}

impl Bot {
    /// Sends the server as GUILD_CREATE does, so the gateway cache holds its owner, its
    /// roles (as the fake REST API has them) and steward's member, and rank checks read
    /// the cache; returns once the bot has had time to take it in.
    pub async fn cache_the_guild(&self) {
        let roles: Vec<_> = [(GUILD, 0), (11, 1), (12, 5), (13, 9)]
            .iter()
            .map(|(id, pos)| payloads::role(*id, "role", *pos))
            .collect();
        let members = vec![payloads::member(GUILD, BOT, "steward", &[12])];
        self.gateway.send(
            "GUILD_CREATE",
            payloads::guild_create(GUILD, 7, &roles, &members),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// A member joining now, as GUILD_MEMBER_ADD.
    pub fn join_now(&self, id: u64, name: &str) {
        let mut member = payloads::member(GUILD, id, name, &[]);
        member["joined_at"] = json!(now_rfc3339());
        self.gateway.send("GUILD_MEMBER_ADD", member);
    }
}

pub fn now_rfc3339() -> String {
    steward::discord::now().rfc3339()
}

/// A URL on the PostgreSQL server at `server` whose connections use a new empty schema
/// named from `prefix`, this process and the time.
pub async fn postgres_schema(server: &str, prefix: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let mut conn = sqlx::AnyConnection::connect(server)
        .await
        .expect("the PostgreSQL server is reachable");
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&mut conn)
        .await
        .expect("schema created");
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}options=-c%20search_path%3D{name}")
}

pub async fn store(dir: &Path) -> Store {
    Store::open(dir.join("steward.db").to_str().expect("UTF-8"))
        .await
        .expect("store")
}

/// A plain HTTP GET against the bot's metrics server: status line and body.
pub async fn get(addr: &str, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("metrics server");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

/// Starts `steward run` on the rules in `dir` and `database`, against the fake at `rest`.
fn spawn(dir: &Path, database: &str, rest: &str, metrics: &str, env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["run", "--rules"])
        .arg(dir.join("rules.yaml"))
        .arg("--database")
        .arg(database)
        .env("DISCORD_TOKEN", "fake-token-never-printed")
        .env("DISCORD_PROXY", rest)
        .env("RUST_LOG", "steward=info,serenity=warn")
        .env("STEWARD_METRICS_ADDR", metrics)
        .env("STEWARD_LOG_FORMAT", "json")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("steward run starts")
}

/// Reads the child's stderr to its end on a thread of its own.
fn drain_log(child: &mut Child) -> Option<std::thread::JoinHandle<String>> {
    let mut err = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        use std::io::Read;
        let mut log = Vec::new();
        let _ = err.read_to_end(&mut log);
        String::from_utf8_lossy(&log).into_owned()
    }))
}

/// A local address no one listens on, for the bot's metrics server.
fn free_address() -> String {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("address").to_string()
}
