//! What each server's moderation works under besides its rules: where alerts go, whose
//! roles exempt them, the warnings ladder, FAQ answers. The operator's file sets the
//! defaults; a server's own rules override them for that server. Every action reads the
//! book in force when it runs, so a reload or an upload applies at once.

use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;

use super::{FaqAnswers, LogChannels, Notify, WarningPolicy};
use crate::engine::event::GuildId;

/// One server's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct GuildSettings {
    pub mod_log_channel: Option<u64>,
    /// Roles no rule and no sanction touches there.
    pub exempt_roles: Vec<u64>,
    pub warnings: WarningPolicy,
    pub faq_answers: Option<FaqAnswers>,
    /// Where cases, messages and members are logged.
    pub logs: LogChannels,
    /// Which sanctions the member is told about by DM.
    pub notify: Option<Notify>,
    /// Channels the server's own rules name. Its admins may write any id, so steward
    /// posts or locks there only when the channel is one of the server's; channels the
    /// operator names (a central mod-log server) are trusted as written.
    pub own_channels: Vec<u64>,
    /// The rules in force there, as cases and audit rows name them.
    pub rules_hash: String,
}

/// Every server's settings: one default, and those of servers with rules of their own.
#[derive(Clone, Debug)]
pub struct SettingsBook {
    pub default: Arc<GuildSettings>,
    pub guilds: FxHashMap<GuildId, Arc<GuildSettings>>,
}

impl SettingsBook {
    /// A book where every server has `default`.
    pub fn single(default: GuildSettings) -> Self {
        SettingsBook {
            default: Arc::new(default),
            guilds: FxHashMap::default(),
        }
    }

    /// The settings of `guild`.
    pub fn for_guild(&self, guild: GuildId) -> Arc<GuildSettings> {
        self.guilds.get(&guild).unwrap_or(&self.default).clone()
    }
}

/// The book in force, shared by everything that acts; swapped whole when rules change.
#[derive(Clone, Debug)]
pub struct LiveSettings(Arc<RwLock<Arc<SettingsBook>>>);

impl LiveSettings {
    /// Settings in force from `book` on.
    pub fn new(book: SettingsBook) -> Self {
        LiveSettings(Arc::new(RwLock::new(Arc::new(book))))
    }

    /// The settings of `guild` now.
    pub fn for_guild(&self, guild: GuildId) -> Arc<GuildSettings> {
        self.book().for_guild(guild)
    }

    /// The whole book now.
    pub fn book(&self) -> Arc<SettingsBook> {
        match self.0.read() {
            Ok(book) => book.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `book` in force.
    pub fn replace(&self, book: SettingsBook) {
        let book = Arc::new(book);
        match self.0.write() {
            Ok(mut current) => *current = book,
            Err(poisoned) => *poisoned.into_inner() = book,
        }
    }
}
