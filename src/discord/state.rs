//! What the running bot shares between its event handlers and its commands: the moderator,
//! the rules in force, the engine, and the commands' state and error type.
//!
//! The rules in force are the operator's file (the defaults, changed only on disk, and
//! re-read when it changes, on SIGHUP or by an owner's `/rules reload`) with each server's
//! own rules layered over it (uploaded by that server's admins, kept in the database with
//! their history). Every change validates first: rules with errors change nothing. A
//! server's upload changes that server alone.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use super::executor::DiscordExecutor;
use super::metrics::Metered;
use super::now;
use crate::engine::Engine;
use crate::engine::event::{GuildId, UserId};
use crate::engine::rule::RuleSet;
use crate::engine::time::Timestamp;
use crate::lock::lock;
use crate::moderation::faq_answers::FaqResponder;
use crate::moderation::{ExecError, ModerationError, Moderator};
use crate::rules::{LoadedRules, RulesError, ServerRules, SettingsBook};
use crate::store::StoreError;
use crate::store::stats::Tally;

/// The moderator of the live bot: Discord's REST API, counted.
pub type LiveModerator = Moderator<Metered<DiscordExecutor>>;

/// Why new rules did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum RulesChangeError {
    /// The file has errors; the old rules stay in force.
    #[error("{0}")]
    Invalid(#[from] RulesError),
    #[error(transparent)]
    Moderation(#[from] ModerationError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The rules the engine and the moderator work under, kept in step.
pub struct LiveRules {
    /// The operator's rules file; `None` for the built-in example rules.
    path: Option<PathBuf>,
    engine: Arc<Mutex<Engine>>,
    moderator: Arc<LiveModerator>,
    operator: Mutex<Arc<LoadedRules>>,
    servers: Mutex<FxHashMap<GuildId, Arc<ServerRules>>>,
    /// The operator's rules with every server's own, as the engine runs them.
    in_force: Mutex<Arc<RuleSet>>,
}

impl LiveRules {
    /// The operator's rules `current`, read from `path`, in force in `engine` and
    /// `moderator`; servers' own rules are added by [`LiveRules::load_servers`].
    pub fn new(
        path: Option<PathBuf>,
        engine: Arc<Mutex<Engine>>,
        moderator: Arc<LiveModerator>,
        current: LoadedRules,
    ) -> Self {
        let in_force = Arc::new(current.set.clone());
        LiveRules {
            path,
            engine,
            moderator,
            operator: Mutex::new(Arc::new(current)),
            servers: Mutex::default(),
            in_force: Mutex::new(in_force),
        }
    }

    /// The operator's rules in force.
    pub fn current(&self) -> Arc<LoadedRules> {
        lock(&self.operator).clone()
    }

    /// Every rule in force, servers' own included.
    pub fn rule_set(&self) -> Arc<RuleSet> {
        lock(&self.in_force).clone()
    }

    /// `guild`'s own rules, if it has any.
    pub fn server(&self, guild: GuildId) -> Option<Arc<ServerRules>> {
        lock(&self.servers).get(&guild).cloned()
    }

    /// The operator's rules file, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Puts every server's own rules from the store in force. A server whose rules no
    /// longer compile over the operator's runs the defaults, and the failure is logged.
    pub async fn load_servers(&self) -> Result<usize, RulesChangeError> {
        let stored = self.moderator.store().guild_rules_in_force().await?;
        let operator = self.current();
        let mut servers = FxHashMap::default();
        for (guild, source) in stored {
            match crate::rules::parse_server(&source, Path::new("server rules"), guild, &operator) {
                Ok(rules) => {
                    servers.insert(guild, Arc::new(rules));
                }
                Err(e) => tracing::warn!(%guild, error = %e, "a server's own rules do not load"),
            }
        }
        let count = servers.len();
        *lock(&self.servers) = servers;
        self.rebuild();
        Ok(count)
    }

    /// Re-reads the operator's rules file. Returns the new rules, or `None` when nothing
    /// changed. A file with errors is audited and reported in the mod-log channel.
    pub async fn reload(&self, by: &str) -> Result<Option<Arc<LoadedRules>>, RulesChangeError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        match crate::rules::load(path) {
            Ok(loaded) if loaded.hash == self.current().hash => Ok(None),
            Ok(loaded) => self.install(loaded, by).await.map(Some),
            Err(problems) => {
                self.moderator
                    .rules_rejected(&problems.to_string(), now())
                    .await?;
                Err(problems.into())
            }
        }
    }

    /// Validates `source` as `guild`'s own rules, uploaded by `moderator`; when they are
    /// valid, keeps them (with their history) and puts them in force in that server.
    pub async fn upload(
        &self,
        guild: GuildId,
        source: &str,
        name: &str,
        moderator: UserId,
    ) -> Result<Arc<ServerRules>, RulesChangeError> {
        let operator = self.current();
        let rules = crate::rules::parse_server(source, Path::new(name), guild, &operator)?;
        let at = now();
        let store = self.moderator.store();
        store
            .save_guild_rules(guild, source, &rules.hash, moderator, at)
            .await?;
        self.moderator
            .server_rules_changed(guild, Some((&rules.hash, source)), moderator, at)
            .await?;
        let rules = Arc::new(rules);
        lock(&self.servers).insert(guild, rules.clone());
        self.rebuild();
        tracing::info!(%guild, hash = %rules.hash, by = %moderator, "a server's own rules in force");
        Ok(rules)
    }

    /// Drops `guild`'s own rules: it runs the defaults again. Returns whether it had any.
    pub async fn reset(&self, guild: GuildId, moderator: UserId) -> Result<bool, RulesChangeError> {
        if self.server(guild).is_none() {
            return Ok(false);
        }
        let at = now();
        self.moderator
            .store()
            .save_guild_rules(guild, "", "", moderator, at)
            .await?;
        self.moderator
            .server_rules_changed(guild, None, moderator, at)
            .await?;
        lock(&self.servers).remove(&guild);
        self.rebuild();
        Ok(true)
    }

    async fn install(
        &self,
        loaded: LoadedRules,
        by: &str,
    ) -> Result<Arc<LoadedRules>, RulesChangeError> {
        self.moderator.load_rules(&loaded, by, now()).await?;
        tracing::info!(rules = %loaded.summary(), by, "rules in force");
        let loaded = Arc::new(loaded);
        *lock(&self.operator) = loaded.clone();
        // Servers' own rules sit on the defaults: compile them again over the new ones.
        self.load_servers().await?;
        Ok(loaded)
    }

    /// Puts the operator's rules with every server's own in force in the engine and in
    /// the settings every action reads.
    fn rebuild(&self) {
        let operator = self.current();
        let servers: Vec<Arc<ServerRules>> = lock(&self.servers).values().cloned().collect();
        let mut set = operator.set.clone();
        let mut book = SettingsBook::single(operator.settings());
        for server in &servers {
            set.guilds.insert(server.guild, server.rules.clone());
            book.guilds
                .insert(server.guild, Arc::new(server.settings.clone()));
        }
        lock(&self.engine).set_rules(set.clone());
        self.moderator.settings().replace(book);
        *lock(&self.in_force) = Arc::new(set);
    }
}

/// What every command can reach.
pub struct Data {
    pub moderator: Arc<LiveModerator>,
    pub rules: Arc<LiveRules>,
    /// The live engine, for raid mode.
    pub engine: Arc<Mutex<Engine>>,
    /// Recent FAQ answers in help channels, for their cooldown.
    pub faq: FaqResponder,
    /// Recent reports per reporter, to rate-limit "Report message".
    pub reports: Mutex<FxHashMap<(GuildId, UserId), Vec<Timestamp>>>,
    /// Community counters not yet in the store, for `/stats`.
    pub tally: Arc<Tally>,
}

impl Data {
    /// Command state over the live moderator and rules.
    pub fn new(
        moderator: Arc<LiveModerator>,
        rules: Arc<LiveRules>,
        engine: Arc<Mutex<Engine>>,
        tally: Arc<Tally>,
    ) -> Self {
        Data {
            moderator,
            rules,
            engine,
            tally,
            faq: FaqResponder::default(),
            reports: Mutex::new(FxHashMap::default()),
        }
    }

    fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        f(&mut lock(&self.engine))
    }

    /// When raid mode ends in `guild`, if it is on.
    pub fn raid_mode_until(&self, guild: GuildId) -> Option<Timestamp> {
        self.with_engine(|e| e.raid_mode_until(guild, now()))
    }

    /// How many accounts the raid's cohort in `guild` holds while it grows.
    pub fn raid_cohort_size(&self, guild: GuildId) -> Option<usize> {
        self.with_engine(|e| e.raid_cohort_size(guild, now()))
    }

    /// Turns raid mode on until `until`, or off.
    pub fn set_raid_mode(&self, guild: GuildId, until: Option<Timestamp>) {
        self.with_engine(|e| e.set_raid_mode(guild, until));
    }
}

/// A command's context.
pub type Context<'a> = poise::Context<'a, Data, CommandError>;

/// Why a command did not do what was asked. The message is shown to the caller.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The caller may not do this; the attempt is audited.
    #[error("{0}")]
    Refused(String),
    /// The input cannot be used; nothing was done.
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Moderation(#[from] ModerationError),
    /// Boxed: serenity's error is large and commands pass errors around a lot.
    #[error("Discord: {0}")]
    Discord(Box<serenity::Error>),
    #[error("Discord: {0}")]
    Exec(#[from] ExecError),
}

impl From<serenity::Error> for CommandError {
    fn from(e: serenity::Error) -> Self {
        CommandError::Discord(Box::new(e))
    }
}
