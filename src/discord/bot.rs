//! `steward run`: the gateway connection, events into the engine, verdicts into the
//! moderation layer, and the scheduler that ends temporary sanctions.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration as StdDuration, Instant, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::RwLock;

use serenity::all::{
    AuditLogEntry, ChannelId as SChannelId, ConnectionStage, Context, CreateAllowedMentions,
    CreateEmbed, CreateMessage, EventHandler, FullEvent, GatewayIntents, GuildId as SGuildId,
    GuildMemberUpdateEvent, Interaction, Member, Message as SMessage, MessageId as SMessageId,
    MessageUpdateEvent, Ready, ResumedEvent, ShardManager, ShardStageUpdateEvent, User,
};
use serenity::client::ClientBuilder;

use super::executor::{DiscordExecutor, ExecutorSettings};
use super::metrics::{self, Metered, Metrics};
use super::state::{LiveModerator, LiveRules, RulesChangeError};
use super::{convert, http, now};
use crate::engine::Engine;
use crate::engine::event::{ChannelId, Event, EventKind, GuildId, MessageId, UserId};
use crate::engine::verdict::{Action, Mode};
use crate::lock::lock;
use crate::moderation::{Command, ModerationError, Moderator};
use crate::rules::{LiveSettings, LoadedRules, SettingsBook};
use crate::server_log::{KeptMessage, ServerLog};
use crate::store::stats::{Metric, Tally, day_of};
use crate::store::timers::TimedKind;
use crate::store::{Store, StoreError};

/// What `steward run` needs.
pub struct BotConfig {
    /// The bot token; never logged.
    pub token: String,
    /// Base URL of a REST proxy (`DISCORD_PROXY`), which then owns rate limiting.
    pub proxy: Option<String>,
    pub rules: LoadedRules,
    /// Where the rules came from; watched for changes (and re-read on SIGHUP). `None` for
    /// the built-in example rules.
    pub rules_path: Option<PathBuf>,
    /// How often the rules file is checked for changes.
    pub reload_every: StdDuration,
    /// Where to serve `/metrics` and `/healthz` (`STEWARD_METRICS_ADDR`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Which shards this process runs (`STEWARD_SHARDS`).
    pub shards: ShardPlan,
    pub database: String,
    /// The anchor file (`STEWARD_ANCHOR`); default: beside a SQLite file, none otherwise.
    pub anchor: Option<PathBuf>,
    /// Register commands in this guild only (`STEWARD_DEV_GUILD`): instant updates while
    /// developing. Global registration otherwise.
    pub dev_guild: Option<u64>,
    /// A process silent this long has died; what it held is taken over
    /// (`STEWARD_PROCESS_TIMEOUT`).
    pub process_timeout: crate::engine::time::Duration,
}

impl std::fmt::Debug for BotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("token", &"<hidden>")
            .field("proxy", &self.proxy)
            .field("rules", &self.rules.origin)
            .field("rules_path", &self.rules_path)
            .field("database", &crate::store::display_url(&self.database))
            .finish()
    }
}

/// Why the bot stopped.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("Discord: {0}")]
    Discord(#[from] serenity::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Moderation(#[from] ModerationError),
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Which gateway shards this process runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShardPlan {
    /// As many as Discord recommends (`GET /gateway/bot`), all in this process.
    #[default]
    Auto,
    /// Shards `first..=last` of `total`, so big bots can split shards over processes.
    Range { first: u32, last: u32, total: u32 },
}

impl std::str::FromStr for ShardPlan {
    type Err = String;

    /// `auto`, `8` (all eight here), `3/8` (shard 3 of 8) or `0-3/8` (shards 0 to 3 of 8).
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text == "auto" {
            return Ok(ShardPlan::Auto);
        }
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{s}` is not a shard number"))
        };
        let (first, last, total) = match text.split_once('/') {
            None => {
                let total = number(text)?;
                (0, total.saturating_sub(1), total)
            }
            Some((range, total)) => {
                let total = number(total)?;
                match range.split_once('-') {
                    Some((first, last)) => (number(first)?, number(last)?, total),
                    None => {
                        let one = number(range)?;
                        (one, one, total)
                    }
                }
            }
        };
        if total == 0 || first > last || last >= total {
            return Err(format!(
                "`{text}`: expected shards first-last/total with first <= last < total, such as 0-3/8"
            ));
        }
        Ok(ShardPlan::Range { first, last, total })
    }
}

/// How long shutdown waits for events and commands being handled.
const SHUTDOWN_GRACE: StdDuration = StdDuration::from_secs(8);
/// How often community counters go to the store.
const STATS_EVERY: StdDuration = StdDuration::from_secs(60);
/// How often kept messages past their server's retention are forgotten.
const PURGE_EVERY: StdDuration = StdDuration::from_secs(60);

/// The intents steward needs: messages and their content, members, and moderation events.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MEMBERS
        | GatewayIntents::GUILD_MODERATION
}

/// Connects and moderates until `shutdown` resolves, then closes the gateway and database.
pub async fn run(
    config: BotConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BotError> {
    let slot = Arc::new(OnceLock::new());
    let in_flight = Arc::new(RwLock::new(()));
    let metrics = Arc::new(Metrics::default());
    let engine = Arc::new(Mutex::new(Engine::new(config.rules.set.clone())));
    let commands = Arc::new(OnceLock::new());
    let tally = Arc::new(Tally::default());
    let server_log = Arc::new(ServerLog::default());
    let handler = Handler {
        tally: tally.clone(),
        engine: engine.clone(),
        moderator: slot.clone(),
        commands: commands.clone(),
        dev_guild: config.dev_guild,
        in_flight: in_flight.clone(),
        metrics: metrics.clone(),
        server_log: server_log.clone(),
    };
    let mut client =
        ClientBuilder::new_with_http(http(&config.token, config.proxy.as_deref()), intents())
            .event_handler(handler)
            .await?;
    let http = client.http.clone();
    let me = http.get_current_user().await?;
    tracing::info!(user = %me.name, id = %me.id, "logged in");
    let store = Store::open(&config.database).await?;
    let rules = &config.rules;
    let guild_settings = LiveSettings::new(SettingsBook::single(rules.settings()));
    let settings = ExecutorSettings::with_defaults(guild_settings.clone());
    let executor = DiscordExecutor::new(http.clone(), UserId(me.id.get()), settings)
        .with_cache(client.cache.clone());
    let executor = Metered::new(executor, metrics.clone());
    let moderator = Moderator::with_settings(store.clone(), executor, guild_settings)
        .with_batch_window(RAID_BAN_WINDOW);
    moderator.load_rules(rules, "startup", now()).await?;
    store.heartbeat(now(), config.process_timeout).await?;
    let anchor = config
        .anchor
        .clone()
        .or_else(|| crate::store::anchor::anchor_path(&config.database));
    write_anchor(&store, anchor.as_deref()).await;
    let moderator = Arc::new(moderator);
    // Events only arrive once the client starts, so every event finds the moderator set.
    let _ = slot.set(moderator.clone());

    let server = match config.metrics_addr {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| BotError::Metrics { addr, source })?;
            tracing::info!(%addr, "serving /metrics and /healthz");
            Some(tokio::spawn(metrics::serve(
                listener,
                metrics,
                store.clone(),
                metrics::Limits::default(),
            )))
        }
        None => None,
    };
    let scheduler = tokio::spawn(schedule(
        moderator.clone(),
        engine.clone(),
        config.process_timeout,
        anchor.clone(),
    ));
    let counter = tokio::spawn(keep_stats(store.clone(), tally.clone()));
    let purger = tokio::spawn(purge_messages(server_log, moderator.clone()));
    let live_rules = Arc::new(LiveRules::new(
        config.rules_path.clone(),
        engine.clone(),
        moderator.clone(),
        config.rules.clone(),
    ));
    match live_rules.load_servers().await {
        Ok(0) => {}
        Ok(servers) => tracing::info!(servers, "servers' own rules in force"),
        Err(e) => tracing::error!(error = %e, "loading servers' own rules"),
    }
    restore_raid_modes(&store, &engine).await;
    let mut options = poise::FrameworkOptions {
        commands: super::commands::all(),
        on_error: |error| Box::pin(super::commands::on_error(error)),
        ..Default::default()
    };
    poise::set_qualified_names(&mut options.commands);
    // The application's owner or team may change what every server shares.
    if let Err(e) =
        poise::framework::insert_owners_from_http(&http, &mut options.owners, &None).await
    {
        tracing::warn!(error = %e, "reading the application's owners");
    }
    let _ = commands.set(CommandRuntime {
        options,
        data: super::commands::Data::new(
            moderator.clone(),
            live_rules.clone(),
            engine,
            tally.clone(),
        ),
        shards: client.shard_manager.clone(),
    });
    let watcher = config
        .rules_path
        .clone()
        .map(|path| tokio::spawn(watch_rules(live_rules.clone(), path, config.reload_every)));
    let shards = client.shard_manager.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        shards.shutdown_all().await;
    });
    let result = match config.shards {
        ShardPlan::Auto => client.start_autosharded().await,
        // serenity's range end is the last shard, inclusive.
        ShardPlan::Range { first, last, total } => {
            tracing::info!(first, last, total, "running a range of shards");
            client.start_shard_range(first..last, total).await
        }
    };
    // No more events arrive; let the ones being handled finish their actions and records.
    // A command can wait minutes on a member's form, so the wait is bounded.
    let _all_done = match tokio::time::timeout(SHUTDOWN_GRACE, in_flight.write()).await {
        Ok(guard) => Some(guard),
        Err(_) => {
            tracing::warn!("stopping with commands still waiting on members' forms");
            None
        }
    };
    scheduler.abort();
    counter.abort();
    purger.abort();
    for task in [watcher, server].into_iter().flatten() {
        task.abort();
    }
    if let Err(e) = store.flush_tally(&tally).await {
        tracing::error!(error = %e, "saving community counters");
    }
    write_anchor(&store, anchor.as_deref()).await;
    if let Err(e) = store.leave().await {
        tracing::error!(error = %e, "recording this process as gone");
    }
    store.close().await;
    result.map_err(BotError::from)
}

/// Forgets kept messages as each server's retention ends, every minute.
async fn purge_messages(log: Arc<ServerLog>, moderator: Arc<LiveModerator>) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    loop {
        tick.tick().await;
        log.purge(&moderator, now());
    }
}

/// Adds the community counters to the store every minute, and once a day forgets who
/// wrote on days `/stats` no longer shows.
async fn keep_stats(store: Store, tally: Arc<Tally>) {
    let mut tick = tokio::time::interval(STATS_EVERY);
    let mut pruned_on = None;
    loop {
        tick.tick().await;
        if let Err(e) = store.flush_tally(&tally).await {
            tracing::warn!(error = %e, "saving community counters; they are kept for the next try");
        }
        let today = day_of(now());
        if pruned_on != Some(today) {
            match store.prune_active(today).await {
                Ok(_) => pruned_on = Some(today),
                Err(e) => tracing::warn!(error = %e, "pruning old activity"),
            }
        }
    }
}

/// How often the head of the audit chain is written to the anchor file.
const ANCHOR_EVERY: StdDuration = StdDuration::from_secs(3_600);

/// Appends the head of the audit chain to the anchor file beside the database, so that
/// `steward audit verify` notices rows removed from the end of the log.
async fn write_anchor(store: &Store, path: Option<&Path>) {
    let Some(path) = path else { return };
    let written = match store.audit_anchor(now()).await {
        Ok(anchor) => crate::store::anchor::append_anchor(path, &anchor).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = written {
        tracing::error!(error = %e, path = %path.display(), "writing the audit anchor");
    }
}

/// Requests open this long belong to a process that died (no live call takes so long).
const STALE_REQUEST: crate::engine::time::Duration = crate::engine::time::Duration::from_secs(60);

/// Every second: says this process is alive, completes requests a process that died
/// left open, and ends temporary sanctions that fall due.
/// How long a raid's bans are gathered before they leave as one bulk ban.
const RAID_BAN_WINDOW: StdDuration = StdDuration::from_secs(1);

async fn schedule(
    moderator: Arc<LiveModerator>,
    engine: Arc<Mutex<Engine>>,
    timeout: crate::engine::time::Duration,
    anchor: Option<PathBuf>,
) {
    let mut tick = tokio::time::interval(StdDuration::from_secs(1));
    let mut anchored = Instant::now();
    loop {
        tick.tick().await;
        if anchored.elapsed() >= ANCHOR_EVERY {
            write_anchor(moderator.store(), anchor.as_deref()).await;
            anchored = Instant::now();
        }
        let at = now();
        if let Err(e) = moderator.store().heartbeat(at, timeout).await {
            tracing::error!(error = %e, "recording this process as alive");
        }
        let stale_before = crate::engine::time::Timestamp(at.0 - STALE_REQUEST.0 as i64);
        match moderator.reconcile(stale_before, at).await {
            Ok(0) => {}
            Ok(completed) => tracing::info!(completed, "completed requests a dead run left open"),
            Err(e) => tracing::error!(error = %e, "completing interrupted requests"),
        }
        // A raid gone quiet ends before its longest time: Discord's brakes come off now.
        let ended = lock(&engine).raids_ended(at);
        for guild in ended {
            if let Err(e) = moderator.end_now(guild, TimedKind::EndRaidMode, at).await {
                tracing::error!(error = %e, %guild, "ending raid mode");
            }
        }
        if let Err(e) = moderator.run_due(now()).await {
            tracing::error!(error = %e, "running timed actions");
        }
    }
}

/// Puts raid modes a restart interrupted back in force, until their stored ends.
async fn restore_raid_modes(store: &Store, engine: &Mutex<Engine>) {
    let pending = match store.pending_timed().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "reading raid modes to restore");
            return;
        }
    };
    let at = now();
    for timed in pending {
        let a = &timed.action;
        if a.kind == TimedKind::EndRaidMode && a.due_at > at {
            lock(engine).restore_raid_mode(a.guild, a.due_at, at);
            tracing::info!(guild = %a.guild, until = a.due_at.0, "raid mode restored");
        }
    }
}

/// Re-reads the rules file when it changes or on SIGHUP. A file with errors changes
/// nothing: the errors are logged, audited and posted to the mod-log channel.
async fn watch_rules(rules: Arc<LiveRules>, path: PathBuf, every: StdDuration) {
    let mut seen = modified(&path);
    let mut hangup = hangups();
    loop {
        let asked = tokio::select! {
            () = tokio::time::sleep(every) => false,
            Some(()) = next_hangup(&mut hangup) => true,
        };
        let now_seen = modified(&path);
        if !asked && now_seen == seen {
            continue;
        }
        seen = now_seen;
        match rules.reload("reload").await {
            Ok(_) => {}
            Err(RulesChangeError::Invalid(problems)) => {
                tracing::error!(%problems, "the rules file has errors; the old rules stay in force");
            }
            Err(e) => tracing::error!(error = %e, "reloading the rules"),
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangups() -> Hangups {}

/// The next SIGHUP; never resolves where there are none.
async fn next_hangup(hangups: &mut Hangups) -> Option<()> {
    #[cfg(unix)]
    if let Some(signal) = hangups {
        return signal.recv().await;
    }
    let _ = hangups;
    std::future::pending().await
}

/// What poise needs to run commands; set once the client exists, before it starts.
struct CommandRuntime {
    options: poise::FrameworkOptions<super::commands::Data, super::commands::CommandError>,
    data: super::commands::Data,
    shards: Arc<ShardManager>,
}

struct Handler {
    engine: Arc<Mutex<Engine>>,
    moderator: Arc<OnceLock<Arc<LiveModerator>>>,
    commands: Arc<OnceLock<CommandRuntime>>,
    dev_guild: Option<u64>,
    /// Held (shared) while an event is handled; shutdown takes it exclusively.
    in_flight: Arc<RwLock<()>>,
    metrics: Arc<Metrics>,
    /// Community counters for `/stats`.
    tally: Arc<Tally>,
    /// Recent messages for the message log.
    server_log: Arc<ServerLog>,
}

/// Why a command interaction cannot be checked safely: in a server, the caller's and
/// steward's permissions must be present (poise reads them to check permissions).
fn unusable(interaction: &Interaction) -> Option<&'static str> {
    let command = match interaction {
        Interaction::Command(c) | Interaction::Autocomplete(c) => c,
        _ => return None,
    };
    command.guild_id?;
    if command
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .is_none()
    {
        return Some("the caller's permissions are missing");
    }
    if command.app_permissions.is_none() {
        return Some("steward's permissions are missing");
    }
    None
}

impl Handler {
    /// Registers the commands: in the development guild when one is set, else globally.
    async fn register(&self, ctx: &Context, runtime: &CommandRuntime) {
        let commands = &runtime.options.commands;
        let done = match self.dev_guild {
            Some(guild) => {
                poise::builtins::register_in_guild(ctx, commands, SGuildId::new(guild)).await
            }
            None => poise::builtins::register_globally(ctx, commands).await,
        };
        match done {
            Ok(()) => {
                tracing::info!(count = commands.len(), guild = ?self.dev_guild, "commands registered")
            }
            Err(e) => tracing::error!(error = %e, "registering commands"),
        }
    }

    /// Runs `event` through the engine and carries out the verdicts; returns how many.
    async fn decide(&self, event: Event) -> usize {
        let _handling = self.in_flight.read().await;
        let arrived = Instant::now();
        self.metrics.event(event.kind().as_str());
        // Windows are measured on Discord's clock, as in a replay; sanctions run on ours.
        let at = now();
        let event_time = event.timestamp();
        let verdicts = lock(&self.engine).handle(&event, event_time);
        let Some(moderator) = self.moderator.get() else {
            return verdicts.len();
        };
        let deleted = match &event {
            Event::Message(m) | Event::MessageEdit(m) => Some((m.guild_id, m.id)),
            _ => None,
        };
        for verdict in &verdicts {
            self.metrics.verdict(&verdict.rule);
            if let Some((guild, id)) = deleted
                && verdict.mode == Mode::Enforce
                && verdict.actions.iter().any(|a| matches!(a, Action::Delete))
            {
                self.server_log.removing(guild, id, &verdict.rule);
            }
            tracing::info!(rule = %verdict.rule, user = %event.user_id(), reason = %verdict.reason, "verdict");
            if let Err(e) = moderator.apply(&event, verdict, at).await {
                tracing::error!(error = %e, rule = %verdict.rule, "recording a verdict");
            }
        }
        if !verdicts.is_empty() {
            self.metrics.latency(arrived.elapsed());
        }
        verdicts.len()
    }

    /// Logs the changes of a member's username, display name and nickname.
    async fn log_renames(
        &self,
        moderator: &LiveModerator,
        old: &Member,
        event: &GuildMemberUpdateEvent,
    ) {
        let guild = GuildId(event.guild_id.get());
        let user = UserId(event.user.id.get());
        let changes = [
            (
                "Username",
                Some(old.user.name.as_str()),
                Some(event.user.name.as_str()),
            ),
            (
                "Display name",
                old.user.global_name.as_deref(),
                event.user.global_name.as_deref(),
            ),
            ("Nickname", old.nick.as_deref(), event.nick.as_deref()),
        ];
        for (what, before, after) in changes {
            self.server_log
                .renamed(moderator, guild, user, what, (before, after))
                .await;
        }
    }

    /// Answers a member's question from the FAQ, in help channels, when an entry fits.
    async fn answer_question(&self, ctx: &Context, msg: &SMessage) {
        let (Some(runtime), Some(guild)) = (self.commands.get(), msg.guild_id) else {
            return;
        };
        let data = &runtime.data;
        let in_force = data.moderator.settings().for_guild(GuildId(guild.get()));
        let Some(settings) = in_force.faq_answers.clone() else {
            return;
        };
        let found = data
            .faq
            .answer(
                &settings,
                data.moderator.store(),
                GuildId(guild.get()),
                ChannelId(msg.channel_id.get()),
                &msg.content,
                now(),
            )
            .await;
        let entry = match found {
            Ok(Some(entry)) => entry,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "looking up an FAQ answer");
                return;
            }
        };
        let reply = CreateMessage::new()
            .embed(
                CreateEmbed::new()
                    .title(super::commands::truncate(&entry.title, 256))
                    .description(super::commands::truncate(&entry.answer, 4000)),
            )
            .reference_message(msg)
            .allowed_mentions(CreateAllowedMentions::new());
        if let Err(e) = msg.channel_id.send_message(&ctx.http, reply).await {
            tracing::warn!(error = %e, "posting an FAQ answer");
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        self.metrics.set_connected(true);
        tracing::info!(guilds = ready.guilds.len(), "gateway ready");
        if ctx.shard_id.0 == 0
            && let Some(runtime) = self.commands.get()
        {
            self.register(&ctx, runtime).await;
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Some(runtime) = self.commands.get() else {
            return;
        };
        let handling = self.in_flight.read().await;
        if super::commands::appeals::appeal_interaction(&ctx, &runtime.data, &interaction).await {
            return;
        }
        drop(handling);
        if let Interaction::Component(press) = &interaction {
            let _handling = self.in_flight.read().await;
            if super::commands::server::raid_button(&ctx, &runtime.data, press).await {
                return;
            }
        }
        if let Some(why) = unusable(&interaction) {
            tracing::warn!(why, "ignoring an interaction steward cannot check");
            return;
        }
        let _handling = self.in_flight.read().await;
        let framework = poise::FrameworkContext {
            serenity_context: &ctx,
            options: &runtime.options,
            user_data: &runtime.data,
            shard_manager: &runtime.shards,
        };
        poise::dispatch_event(framework, FullEvent::InteractionCreate { interaction }).await;
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.metrics.set_connected(true);
        tracing::info!("gateway session resumed");
    }

    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        self.metrics
            .set_connected(event.new == ConnectionStage::Connected);
    }

    async fn message(&self, ctx: Context, msg: SMessage) {
        if msg.author.id == ctx.cache.current_user().id {
            return;
        }
        let category = msg.guild_id.and_then(|g| {
            let guild = ctx.cache.guild(g)?;
            guild
                .channels
                .get(&msg.channel_id)?
                .parent_id
                .map(|p| p.get())
        });
        if let Some(guild) = msg.guild_id
            && !msg.author.bot
        {
            self.tally.message(
                GuildId(guild.get()),
                ChannelId(msg.channel_id.get()),
                UserId(msg.author.id.get()),
                now(),
            );
        }
        let message = convert::message(&msg, category);
        if let (Some(message), Some(moderator)) = (&message, self.moderator.get()) {
            self.server_log.message(
                moderator,
                message.guild_id,
                message.id,
                KeptMessage::from(message),
                now(),
            );
        }
        if let Some(message) = message
            && self.decide(Event::Message(message)).await == 0
            && !msg.author.bot
        {
            self.answer_question(&ctx, &msg).await;
        }
        self.metrics.settled(EventKind::Message.as_str());
    }

    async fn message_update(
        &self,
        _ctx: Context,
        _old: Option<SMessage>,
        _new: Option<SMessage>,
        event: MessageUpdateEvent,
    ) {
        if let (Some(guild), Some(content), Some(moderator)) =
            (event.guild_id, &event.content, self.moderator.get())
        {
            let id = MessageId(event.id.get());
            self.server_log
                .edited(moderator, GuildId(guild.get()), id, content)
                .await;
        }
        if let Some(message) = convert::edit(&event) {
            self.decide(Event::MessageEdit(message)).await;
        }
        self.metrics.settled(EventKind::MessageEdit.as_str());
    }

    async fn message_delete(
        &self,
        _ctx: Context,
        channel: SChannelId,
        message: SMessageId,
        guild: Option<SGuildId>,
    ) {
        if let (Some(guild), Some(moderator)) = (guild, self.moderator.get()) {
            let (guild, channel) = (GuildId(guild.get()), ChannelId(channel.get()));
            self.server_log
                .deleted(moderator, guild, channel, MessageId(message.get()))
                .await;
        }
        self.metrics.settled("message_delete");
    }

    async fn message_delete_bulk(
        &self,
        _ctx: Context,
        channel: SChannelId,
        messages: Vec<SMessageId>,
        guild: Option<SGuildId>,
    ) {
        if let (Some(guild), Some(moderator)) = (guild, self.moderator.get()) {
            let (guild, channel) = (GuildId(guild.get()), ChannelId(channel.get()));
            let ids: Vec<MessageId> = messages.iter().map(|m| MessageId(m.get())).collect();
            self.server_log
                .bulk_deleted(moderator, guild, channel, &ids)
                .await;
        }
        self.metrics.settled("message_delete_bulk");
    }

    async fn guild_member_addition(&self, _ctx: Context, member: Member) {
        let join = convert::join(&member, now());
        if let Some(moderator) = self.moderator.get() {
            let user = (join.user.id, join.user.name.as_str());
            let created = join.user.created_at.unwrap_or(join.timestamp);
            self.server_log
                .joined(moderator, join.guild_id, user, created, now())
                .await;
        }
        self.tally.member(join.guild_id, Metric::Joins, now());
        let handling = self.in_flight.read().await;
        if let Some(moderator) = self.moderator.get()
            && let Err(e) = moderator
                .restore_timeout(join.guild_id, join.user.id, now())
                .await
        {
            tracing::error!(error = %e, "restoring a timeout");
        }
        drop(handling);
        self.decide(Event::MemberJoin(join)).await;
        self.metrics.settled(EventKind::MemberJoin.as_str());
    }

    async fn guild_audit_log_entry_create(
        &self,
        ctx: Context,
        entry: AuditLogEntry,
        guild: SGuildId,
    ) {
        if entry.user_id == ctx.cache.current_user().id {
            return; // steward's own actions are recorded already
        }
        let _handling = self.in_flight.read().await;
        let (Some(sanction), Some(moderator)) =
            (convert::external_sanction(&entry), self.moderator.get())
        else {
            return;
        };
        let command = Command {
            guild: GuildId(guild.get()),
            moderator: sanction.moderator,
            target: sanction.target,
            reason: sanction
                .reason
                .unwrap_or_else(|| "no reason given".to_string()),
        };
        if let Err(e) = moderator
            .record_external(&command, sanction.kind, sanction.until, now())
            .await
        {
            tracing::error!(error = %e, "recording a sanction applied in Discord");
        }
    }

    async fn guild_member_update(
        &self,
        ctx: Context,
        old: Option<Member>,
        _new: Option<Member>,
        event: GuildMemberUpdateEvent,
    ) {
        if event.user.id == ctx.cache.current_user().id {
            return;
        }
        if let (Some(old), Some(moderator)) = (old, self.moderator.get()) {
            self.log_renames(moderator, &old, &event).await;
        }
        self.decide(Event::MemberUpdate(convert::member_update(&event, now())))
            .await;
        self.metrics.settled(EventKind::MemberUpdate.as_str());
    }

    async fn guild_member_removal(
        &self,
        _ctx: Context,
        guild: SGuildId,
        user: User,
        member: Option<Member>,
    ) {
        self.tally
            .member(GuildId(guild.get()), Metric::Leaves, now());
        if let Some(moderator) = self.moderator.get() {
            let roles: Option<Vec<u64>> = member.map(|m| m.roles.iter().map(|r| r.get()).collect());
            self.server_log
                .left(
                    moderator,
                    GuildId(guild.get()),
                    UserId(user.id.get()),
                    &user.name,
                    roles.as_deref(),
                )
                .await;
        }
        self.decide(Event::MemberLeave(convert::leave(
            guild.get(),
            &user,
            now(),
        )))
        .await;
        self.metrics.settled(EventKind::MemberLeave.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_plans_parse() {
        let range = |first, last, total| ShardPlan::Range { first, last, total };
        assert_eq!("".parse(), Ok(ShardPlan::Auto));
        assert_eq!("auto".parse(), Ok(ShardPlan::Auto));
        assert_eq!("0-3/8".parse(), Ok(range(0, 3, 8)));
        assert_eq!("5/8".parse(), Ok(range(5, 5, 8)));
        assert_eq!("4".parse(), Ok(range(0, 3, 4)));
        for bad in ["3-1/8", "0-8/8", "0/0", "x/8", "1-/8"] {
            assert!(bad.parse::<ShardPlan>().is_err(), "{bad}");
        }
    }
}
