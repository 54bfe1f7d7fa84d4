//! Carries out moderation requests through Discord's REST API.
//!
//! Before a sanction it checks that steward is not acting above its station: never the
//! server owner, never itself, never a member whose top role is at or above steward's, never
//! a member with an exempt role. Such requests come back `Refused`, and the moderation layer
//! audits the refusal. Server errors and network failures are retried with backoff.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde_json::json;
use serenity::builder::{
    Builder, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateMessage,
    EditChannel, EditMember, EditMessage,
};
use serenity::http::{Http, HttpError};
use serenity::model::Permissions;
use serenity::model::channel::MessageReference;
use serenity::model::channel::Nonce;
use serenity::model::channel::PermissionOverwriteType;
use serenity::model::id::{self as sid, TargetId};

use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::moderation::{Delivery, ExecError, ExecOutcome, Executor, Post, Request};
use crate::rules::LiveSettings;
use crate::text::truncate;

/// The raid alert's buttons: ban, or release, the members held in raid mode.
pub const RAID_BAN_BUTTON: &str = "steward:raid:ban";
pub const RAID_RELEASE_BUTTON: &str = "steward:raid:release";

/// Discord bans at most this many users per bulk-ban call.
pub const BULK_BAN_CHUNK: usize = 200;
/// Discord deletes 2 to 100 messages per bulk-delete call…
pub const BULK_DELETE_CHUNK: usize = 100;
/// …and only messages younger than two weeks.
const BULK_DELETE_MAX_AGE_MS: i64 = 14 * 86_400_000;
/// Milliseconds between the Unix epoch and Discord's snowflake epoch (2015-01-01).
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// What the executor needs to know besides the REST client.
#[derive(Clone, Debug)]
pub struct ExecutorSettings {
    /// Each server's settings in force: where alerts go when the rule names no channel
    /// (`mod_log_channel`), and whose roles are never sanctioned (`exempt_roles`).
    pub guilds: LiveSettings,
    /// Attempts per call on server and network errors (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; doubled each time.
    pub backoff: StdDuration,
}

impl ExecutorSettings {
    /// Three attempts, half a second apart at first.
    pub fn with_defaults(guilds: LiveSettings) -> Self {
        ExecutorSettings {
            guilds,
            attempts: 3,
            backoff: StdDuration::from_millis(500),
        }
    }
}

/// The highest position among `roles` (0, @everyone's, when none is known).
fn top_position(guild: &serenity::model::guild::PartialGuild, roles: &[u64]) -> u16 {
    roles
        .iter()
        .filter_map(|r| guild.roles.get(&sid::RoleId::new(*r)))
        .map(|r| r.position)
        .max()
        .unwrap_or(0)
}

/// What a rank check reads about a server, from the cache or from Discord.
struct Ranks<'a> {
    owner: u64,
    /// The target's roles; `None` when the target is not a member.
    target: Option<Vec<u64>>,
    /// Steward's roles.
    mine: Vec<u64>,
    /// A role's position, when the server has the role.
    position: &'a dyn Fn(u64) -> Option<u16>,
}

impl Ranks<'_> {
    /// The highest position among `roles` (0, @everyone's, when none is known).
    fn top(&self, roles: &[u64]) -> u16 {
        roles
            .iter()
            .filter_map(|r| (self.position)(*r))
            .max()
            .unwrap_or(0)
    }
}

/// The executor of the live bot.
pub struct DiscordExecutor {
    http: Arc<Http>,
    /// The gateway's cache: rank checks read the guild, its roles and members here and
    /// ask Discord only on a miss.
    cache: Option<Arc<serenity::cache::Cache>>,
    bot: UserId,
    settings: ExecutorSettings,
    /// The server of each channel steward was asked to post in, as learnt: a channel never
    /// moves to another server, so what was learnt stays true.
    channel_guilds: std::sync::Mutex<rustc_hash::FxHashMap<ChannelId, GuildId>>,
}

/// Channels whose server is remembered at most; past it the memory starts over.
const MAX_KNOWN_CHANNELS: usize = 10_000;

type SResult<T> = Result<T, serenity::Error>;

impl DiscordExecutor {
    /// An executor acting as the bot user `bot`.
    pub fn new(http: Arc<Http>, bot: UserId, settings: ExecutorSettings) -> Self {
        DiscordExecutor {
            http,
            cache: None,
            bot,
            settings,
            channel_guilds: std::sync::Mutex::default(),
        }
    }

    /// Refuses a channel the server's own rules name unless it is one of the server's:
    /// whatever a server's admins write, steward posts that server's records and locks
    /// channels only in that server. Channels the operator names are used as written.
    async fn check_channel(&self, guild: GuildId, channel: ChannelId) -> Result<(), ExecError> {
        let settings = self.settings.guilds.for_guild(guild);
        if !settings.own_channels.contains(&channel.0) {
            return Ok(());
        }
        match self.guild_of(guild, channel).await? {
            Some(owner) if owner == guild => Ok(()),
            _ => Err(ExecError(format!(
                "channel {channel} is not a channel of server {guild}: steward posts a \
                 server's records only in its own channels"
            ))),
        }
    }

    /// The server `channel` belongs to: learnt before, found among `guild`'s channels in the
    /// gateway's cache, or asked of Discord; `None` for a channel that is in no server or
    /// does not exist.
    async fn guild_of(
        &self,
        guild: GuildId,
        channel: ChannelId,
    ) -> Result<Option<GuildId>, ExecError> {
        if let Some(known) = crate::lock::lock(&self.channel_guilds).get(&channel) {
            return Ok(Some(*known));
        }
        let c = sid::ChannelId::new(channel.0);
        let cached = self.cache.as_ref().and_then(|cache| {
            let g = cache.guild(sid::GuildId::new(guild.0))?;
            let holds = g.channels.contains_key(&c) || g.threads.iter().any(|t| t.id == c);
            holds.then_some(guild)
        });
        let found = match cached {
            Some(guild) => Some(guild),
            None => match self.call(|| self.http.get_channel(c)).await {
                Ok(serenity::all::Channel::Guild(gc)) => Some(GuildId(gc.guild_id.get())),
                Ok(_) => None,
                Err(e) if matches!(status(&e), Some(403 | 404)) => None,
                Err(e) => return Err(failed(e)),
            },
        };
        if let Some(guild) = found {
            let mut known = crate::lock::lock(&self.channel_guilds);
            if known.len() >= MAX_KNOWN_CHANNELS {
                known.clear();
            }
            known.insert(channel, guild);
        }
        Ok(found)
    }

    /// The same executor, reading rank checks from the gateway's `cache` first.
    pub fn with_cache(mut self, cache: Arc<serenity::cache::Cache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Why steward must not sanction `user`, from the cache alone: `None` when the cache
    /// does not hold the guild, steward's member or the user's.
    fn cached_refusal(&self, guild: GuildId, user: UserId) -> Option<Option<String>> {
        let cached = self.cache.as_ref()?.guild(sid::GuildId::new(guild.0))?;
        let roles_of = |u: UserId| {
            cached
                .members
                .get(&sid::UserId::new(u.0))
                .map(|m| m.roles.iter().map(|r| r.get()).collect::<Vec<u64>>())
        };
        let ranks = Ranks {
            owner: cached.owner_id.get(),
            target: Some(roles_of(user)?),
            mine: roles_of(self.bot)?,
            position: &|r| cached.roles.get(&sid::RoleId::new(r)).map(|r| r.position),
        };
        Some(self.rank_refusal(guild, user, &ranks))
    }

    /// Why steward must not sanction `user`, from what the server's ranks say: never the
    /// owner, never a member with an exempt role or a top role at or above steward's.
    fn rank_refusal(&self, guild: GuildId, user: UserId, ranks: &Ranks<'_>) -> Option<String> {
        if ranks.owner == user.0 {
            return Some("the target owns the server".to_string());
        }
        // Not a member: nothing outranks a ban of a stranger.
        let target = ranks.target.as_ref()?;
        let exempt = &self.settings.guilds.for_guild(guild).exempt_roles;
        if let Some(role) = target.iter().find(|r| exempt.contains(r)) {
            return Some(format!("the target has the exempt role {role}"));
        }
        if ranks.top(target) >= ranks.top(&ranks.mine) {
            return Some("the target's top role is at or above steward's".to_string());
        }
        None
    }

    /// Why steward must not sanction `user`: from the cache, or from Discord on a miss.
    async fn refusal_of(&self, guild: GuildId, user: UserId) -> Result<Option<String>, ExecError> {
        if user == self.bot {
            return Ok(Some("steward does not act on itself".to_string()));
        }
        match self.cached_refusal(guild, user) {
            Some(found) => Ok(found),
            None => self.refusal(guild, user).await,
        }
    }

    /// Why steward must not sanction `user` in `guild`, from Discord's answers.
    async fn refusal(&self, guild: GuildId, user: UserId) -> Result<Option<String>, ExecError> {
        let g = sid::GuildId::new(guild.0);
        let info = self.call(|| self.http.get_guild(g)).await.map_err(failed)?;
        // A stranger's roles and steward's are only asked for when they matter.
        let target = if info.owner_id.get() == user.0 {
            None
        } else {
            self.member_roles(g, user).await?
        };
        let mine = match target {
            Some(_) => self.member_roles(g, self.bot).await?.unwrap_or_default(),
            None => Vec::new(),
        };
        let ranks = Ranks {
            owner: info.owner_id.get(),
            target,
            mine,
            position: &|r| info.roles.get(&sid::RoleId::new(r)).map(|r| r.position),
        };
        Ok(self.rank_refusal(guild, user, &ranks))
    }

    /// Why the member `caller` may not act on `target`, if they may not: nobody acts on
    /// themselves, on the owner, or on someone whose top role is at or above their own
    /// (the owner outranks everyone).
    pub async fn caller_refusal(
        &self,
        guild: GuildId,
        caller: UserId,
        target: UserId,
    ) -> Result<Option<String>, ExecError> {
        if caller == target {
            return Ok(Some("you cannot use this on yourself".to_string()));
        }
        let g = sid::GuildId::new(guild.0);
        let info = self.call(|| self.http.get_guild(g)).await.map_err(failed)?;
        if info.owner_id.get() == caller.0 {
            return Ok(None);
        }
        if info.owner_id.get() == target.0 {
            return Ok(Some("the target owns the server".to_string()));
        }
        let Some(theirs) = self.member_roles(g, target).await? else {
            return Ok(None);
        };
        let mine = self.member_roles(g, caller).await?.unwrap_or_default();
        if top_position(&info, &theirs) >= top_position(&info, &mine) {
            return Ok(Some(
                "the target's top role is at or above yours".to_string(),
            ));
        }
        Ok(None)
    }

    /// A member's role ids, or `None` when the user is not in the guild.
    async fn member_roles(
        &self,
        guild: sid::GuildId,
        user: UserId,
    ) -> Result<Option<Vec<u64>>, ExecError> {
        let u = sid::UserId::new(user.0);
        match self.call(|| self.http.get_member(guild, u)).await {
            Ok(member) => Ok(Some(member.roles.iter().map(|r| r.get()).collect())),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    /// Runs `call`, retrying server and network errors with doubling waits. Only for calls
    /// that do the same thing however often they arrive (PUT, PATCH, DELETE, GET, and
    /// posts that carry an enforced nonce).
    async fn call<T, F, Fut>(&self, call: F) -> SResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = SResult<T>>,
    {
        self.retrying(call, transient).await
    }

    /// Runs a call that must not reach Discord twice, retrying only when it surely never
    /// arrived (the connection could not be made): a server error or a lost answer may
    /// hide a call that was carried out.
    async fn call_once<T, F, Fut>(&self, call: F) -> SResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = SResult<T>>,
    {
        self.retrying(call, never_sent).await
    }

    async fn retrying<T, F, Fut>(
        &self,
        mut call: F,
        retry: fn(&serenity::Error) -> bool,
    ) -> SResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = SResult<T>>,
    {
        let mut wait = self.settings.backoff;
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e) if attempt < self.settings.attempts.max(1) && retry(&e) => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn ban(
        &self,
        guild: GuildId,
        users: &[UserId],
        delete_messages: Duration,
        reason: &str,
    ) -> Result<ExecOutcome, ExecError> {
        let g = sid::GuildId::new(guild.0);
        if let [user] = users {
            if let Some(why) = self.refusal_of(guild, *user).await? {
                return Ok(ExecOutcome::Refused(why));
            }
            // The single-ban call counts in whole days.
            let days = delete_messages.0.div_ceil(86_400_000).min(7) as u8;
            let u = sid::UserId::new(user.0);
            self.call(|| self.http.ban_user(g, u, days, Some(reason)))
                .await
                .map_err(failed)?;
            return Ok(ExecOutcome::Done);
        }
        // A raid: every account passes the checks of a single ban.
        let mut targets: Vec<UserId> = Vec::with_capacity(users.len());
        let mut refused: Vec<String> = Vec::new();
        for user in users {
            match self.refusal_of(guild, *user).await? {
                None => targets.push(*user),
                Some(why) => refused.push(format!("{user}: {why}")),
            }
        }
        let mut failed_users: Vec<UserId> = Vec::new();
        let seconds = u32::try_from(delete_messages.0 / 1000).unwrap_or(u32::MAX);
        for chunk in targets.chunks(BULK_BAN_CHUNK) {
            let ids: Vec<sid::UserId> = chunk.iter().map(|u| sid::UserId::new(u.0)).collect();
            let answer = self
                .call_once(|| g.bulk_ban(&self.http, &ids, seconds, Some(reason)))
                .await
                .map_err(failed)?;
            failed_users.extend(answer.failed_users.iter().map(|u| UserId(u.get())));
        }
        // Discord could not ban some: each is tried once more alone.
        let days = delete_messages.0.div_ceil(86_400_000).min(7) as u8;
        for user in &failed_users {
            let u = sid::UserId::new(user.0);
            if let Err(e) = self
                .call(|| self.http.ban_user(g, u, days, Some(reason)))
                .await
            {
                refused.push(format!("{user}: {}", failed(e)));
            }
        }
        if !refused.is_empty() {
            return Ok(ExecOutcome::Refused(format!(
                "banned {} of {} accounts; not banned: {}",
                users.len() - refused.len(),
                users.len(),
                truncate(&refused.join("; "), 1500)
            )));
        }
        Ok(ExecOutcome::Done)
    }

    /// Asks Discord to pause invites and DMs between members until `until`, or (with
    /// `None`) to resume them: the guild's incident actions.
    async fn incident_actions(
        &self,
        guild: GuildId,
        invites: Option<Option<Timestamp>>,
        dms: Option<Option<Timestamp>>,
    ) -> Result<ExecOutcome, ExecError> {
        let mut body = serde_json::Map::new();
        if let Some(until) = invites {
            body.insert(
                "invites_disabled_until".into(),
                json!(until.map(Timestamp::rfc3339)),
            );
        }
        if let Some(until) = dms {
            body.insert(
                "dms_disabled_until".into(),
                json!(until.map(Timestamp::rfc3339)),
            );
        }
        if body.is_empty() {
            return Ok(ExecOutcome::Done);
        }
        let base = self.http.proxy.as_deref().unwrap_or("https://discord.com");
        let url = format!("{base}/api/v10/guilds/{guild}/incident-actions");
        let body = serde_json::Value::Object(body).to_string();
        let send = || async {
            let client = reqwest::Client::new();
            client
                .put(&url)
                .header("Authorization", self.http.token())
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await
        };
        let mut wait = self.settings.backoff;
        for attempt in 1..=self.settings.attempts.max(1) {
            match send().await {
                Ok(r) if r.status().is_success() => return Ok(ExecOutcome::Done),
                Ok(r) if r.status().as_u16() == 403 => {
                    return Ok(ExecOutcome::Refused(
                        "steward lacks the permission to pause invites (Manage Server)".into(),
                    ));
                }
                Ok(r) if r.status().is_server_error() && attempt < self.settings.attempts => {}
                Ok(r) => {
                    return Err(ExecError(format!(
                        "Discord answered {} to PUT /guilds/{guild}/incident-actions",
                        r.status().as_u16()
                    )));
                }
                Err(e) if attempt < self.settings.attempts => {
                    tracing::debug!(error = %e, "incident actions, retrying");
                }
                Err(e) => return Err(ExecError(format!("incident actions: {e}"))),
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(ExecError("incident actions: no attempt made".into()))
    }

    /// Sets a channel's slowmode.
    async fn set_slowmode(
        &self,
        channel: ChannelId,
        seconds: u32,
    ) -> Result<ExecOutcome, ExecError> {
        let c = sid::ChannelId::new(channel.0);
        let reason = if seconds == 0 {
            "steward: crowd gone, slowmode back"
        } else {
            "steward: busy channel slowed"
        };
        let edit = EditChannel::new()
            .rate_limit_per_user(u16::try_from(seconds.min(21_600)).unwrap_or(21_600))
            .audit_log_reason(reason);
        self.call(|| edit.clone().execute(self.http.as_ref(), c))
            .await
            .map_err(failed)?;
        Ok(ExecOutcome::Done)
    }

    async fn alert(
        &self,
        guild: GuildId,
        channel: Option<ChannelId>,
        text: &str,
        raid_buttons: bool,
    ) -> Result<ExecOutcome, ExecError> {
        let mod_log = self.settings.guilds.for_guild(guild).mod_log_channel;
        let Some(channel) = channel.or(mod_log.map(ChannelId)) else {
            return Err(ExecError(
                "no alert channel: set settings.mod_log_channel".to_string(),
            ));
        };
        self.check_channel(guild, channel).await?;
        let embed = CreateEmbed::new()
            .title("steward")
            .description(truncate(text, 4000))
            .colour(crate::text::colour::ORANGE);
        // The nonce makes Discord answer a retry with the message already posted.
        let mut post = CreateMessage::new()
            .embed(embed)
            .allowed_mentions(CreateAllowedMentions::new())
            .nonce(Nonce::String(nonce(channel, text)))
            .enforce_nonce(true);
        if raid_buttons {
            post = post.components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new(RAID_BAN_BUTTON)
                    .label("Ban held")
                    .style(serenity::all::ButtonStyle::Danger),
                CreateButton::new(RAID_RELEASE_BUTTON)
                    .label("Release held")
                    .style(serenity::all::ButtonStyle::Secondary),
            ])]);
        }
        let c = sid::ChannelId::new(channel.0);
        self.call(|| c.send_message(self.http.as_ref(), post.clone()))
            .await
            .map_err(failed)?;
        Ok(ExecOutcome::Done)
    }

    /// Deletes `messages` in chunks of up to 100; a lone one goes alone. Messages of two
    /// weeks or older cannot be bulk-deleted and are skipped, and the outcome says so.
    async fn purge(
        &self,
        channel: ChannelId,
        messages: &[MessageId],
        reason: &str,
        now: Timestamp,
    ) -> Result<ExecOutcome, ExecError> {
        let young: Vec<MessageId> = messages
            .iter()
            .copied()
            .filter(|m| {
                let sent = (m.0 >> 22) as i64 + DISCORD_EPOCH_MS;
                now.0 - sent < BULK_DELETE_MAX_AGE_MS - 60_000
            })
            .collect();
        let c = sid::ChannelId::new(channel.0);
        for chunk in young.chunks(BULK_DELETE_CHUNK) {
            if let [one] = chunk {
                let m = sid::MessageId::new(one.0);
                self.call(|| self.http.delete_message(c, m, Some(reason)))
                    .await
                    .map_err(failed)?;
                continue;
            }
            let ids: Vec<String> = chunk.iter().map(|m| m.0.to_string()).collect();
            let body = json!({"messages": ids});
            self.call(|| self.http.delete_messages(c, &body, Some(reason)))
                .await
                .map_err(failed)?;
        }
        let skipped = messages.len() - young.len();
        if skipped > 0 {
            return Ok(ExecOutcome::Refused(format!(
                "deleted {}; skipped {skipped} older than 14 days, which Discord does not bulk-delete",
                young.len()
            )));
        }
        Ok(ExecOutcome::Done)
    }

    /// The @everyone overwrite of `channel`: (allow, deny), or `None` when there is none.
    async fn everyone_overwrite(
        &self,
        guild: GuildId,
        channel: ChannelId,
    ) -> Result<Option<(u64, u64)>, ExecError> {
        let c = sid::ChannelId::new(channel.0);
        let found = self
            .call(|| self.http.get_channel(c))
            .await
            .map_err(failed)?;
        let Some(found) = found.guild() else {
            return Err(ExecError(format!(
                "channel {channel} is not a server channel"
            )));
        };
        Ok(found
            .permission_overwrites
            .iter()
            .find(|o| o.kind == PermissionOverwriteType::Role(sid::RoleId::new(guild.0)))
            .map(|o| (o.allow.bits(), o.deny.bits())))
    }

    /// Denies @everyone sending in `channels`, keeping every other bit of the overwrite.
    async fn lock(&self, guild: GuildId, channels: &[ChannelId]) -> Result<ExecOutcome, ExecError> {
        let everyone = TargetId::new(guild.0);
        let silence = (Permissions::SEND_MESSAGES | Permissions::SEND_MESSAGES_IN_THREADS).bits();
        for channel in channels {
            self.check_channel(guild, *channel).await?;
        }
        for channel in channels {
            let (allow, deny) = self
                .everyone_overwrite(guild, *channel)
                .await?
                .unwrap_or((0, 0));
            let body = json!({
                "allow": (allow & !silence).to_string(),
                "deny": (deny | silence).to_string(),
                "type": 0,
            });
            let c = sid::ChannelId::new(channel.0);
            self.call(|| {
                self.http
                    .create_permission(c, everyone, &body, Some("steward: lockdown"))
            })
            .await
            .map_err(failed)?;
        }
        Ok(ExecOutcome::Done)
    }

    /// Puts back the overwrites recorded before the lockdown: the same bits, or none.
    async fn unlock(
        &self,
        guild: GuildId,
        channels: &[ChannelId],
        previous: &serde_json::Value,
    ) -> Result<ExecOutcome, ExecError> {
        let everyone = TargetId::new(guild.0);
        let reason = Some("steward: lockdown over");
        for channel in channels {
            let c = sid::ChannelId::new(channel.0);
            let before = &previous[channel.to_string()];
            let bits = |key: &str| before[key].as_str().and_then(|b| b.parse::<u64>().ok());
            match (bits("allow"), bits("deny")) {
                (Some(allow), Some(deny)) => {
                    let body =
                        json!({"allow": allow.to_string(), "deny": deny.to_string(), "type": 0});
                    self.call(|| self.http.create_permission(c, everyone, &body, reason))
                        .await
                        .map_err(failed)?;
                }
                _ => match self
                    .call(|| self.http.delete_permission(c, everyone, reason))
                    .await
                {
                    Err(e) if status(&e) == Some(404) => {}
                    other => other.map_err(failed)?,
                },
            }
        }
        Ok(ExecOutcome::Done)
    }

    async fn set_timeout(
        &self,
        g: sid::GuildId,
        u: sid::UserId,
        until: Option<Timestamp>,
        reason: &str,
    ) -> SResult<()> {
        let edit = match until {
            Some(until) => EditMember::new().disable_communication_until(until.rfc3339()),
            None => EditMember::new().enable_communication(),
        }
        .audit_log_reason(reason);
        self.call(|| edit.clone().execute(self.http.as_ref(), (g, u)))
            .await
            .map(|_| ())
    }
}

impl Executor for DiscordExecutor {
    async fn refusal(&self, guild: GuildId, user: UserId) -> Result<Option<String>, ExecError> {
        self.refusal_of(guild, user).await
    }

    async fn post(
        &self,
        guild: GuildId,
        channel: ChannelId,
        post: &Post,
    ) -> Result<MessageId, ExecError> {
        self.check_channel(guild, channel).await?;
        let c = sid::ChannelId::new(channel.0);
        let nonce = nonce(channel, &post.description);
        let message = message_of(post, Some(c))
            .nonce(Nonce::String(nonce))
            .enforce_nonce(true);
        let sent = self
            .call(|| c.send_message(self.http.as_ref(), message.clone()))
            .await
            .map_err(failed)?;
        Ok(MessageId(sent.id.get()))
    }

    async fn edit_post(
        &self,
        guild: GuildId,
        channel: ChannelId,
        message: MessageId,
        post: &Post,
    ) -> Result<(), ExecError> {
        self.check_channel(guild, channel).await?;
        let (c, m) = (
            sid::ChannelId::new(channel.0),
            sid::MessageId::new(message.0),
        );
        let edit = EditMessage::new()
            .embed(embed_of(post))
            .allowed_mentions(CreateAllowedMentions::new());
        self.call(|| c.edit_message(self.http.as_ref(), m, edit.clone()))
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn direct_message(&self, user: UserId, post: &Post) -> Result<Delivery, ExecError> {
        let u = sid::UserId::new(user.0);
        let channel = match self.call(|| u.create_dm_channel(self.http.as_ref())).await {
            Ok(channel) => channel,
            Err(e) => {
                return closed_dms(&e)
                    .map(Delivery::Closed)
                    .ok_or_else(|| failed(e));
            }
        };
        let message = message_of(post, None);
        match self
            .call(|| channel.id.send_message(self.http.as_ref(), message.clone()))
            .await
        {
            Ok(_) => Ok(Delivery::Sent),
            Err(e) => closed_dms(&e)
                .map(Delivery::Closed)
                .ok_or_else(|| failed(e)),
        }
    }

    fn guild_name(&self, guild: GuildId) -> Option<String> {
        let cache = self.cache.as_ref()?;
        cache
            .guild(sid::GuildId::new(guild.0))
            .map(|g| g.name.clone())
    }

    async fn slowmode_of(&self, channel: ChannelId) -> Result<u32, ExecError> {
        let c = sid::ChannelId::new(channel.0);
        let found = self
            .call(|| self.http.get_channel(c))
            .await
            .map_err(failed)?;
        Ok(found
            .guild()
            .and_then(|g| g.rate_limit_per_user)
            .map_or(0, u32::from))
    }

    async fn overwrites(
        &self,
        guild: GuildId,
        channels: &[ChannelId],
    ) -> Result<serde_json::Value, ExecError> {
        let mut kept = serde_json::Map::new();
        for channel in channels {
            let entry = match self.everyone_overwrite(guild, *channel).await? {
                Some((allow, deny)) => {
                    json!({"allow": allow.to_string(), "deny": deny.to_string()})
                }
                None => json!({"none": true}),
            };
            kept.insert(channel.to_string(), entry);
        }
        Ok(serde_json::Value::Object(kept))
    }

    async fn execute(&self, request: &Request) -> Result<ExecOutcome, ExecError> {
        match request {
            Request::Delete {
                channel, message, ..
            } => {
                let (c, m) = (
                    sid::ChannelId::new(channel.0),
                    sid::MessageId::new(message.0),
                );
                self.call(|| self.http.delete_message(c, m, Some("steward: rule match")))
                    .await
                    .map_err(failed)?;
                Ok(ExecOutcome::Done)
            }
            Request::Purge {
                channel,
                messages,
                reason,
                ..
            } => self.purge(*channel, messages, reason, super::now()).await,
            // A warning is a record; telling the member is a DM of its own (notify).
            Request::Warn { .. } => Ok(ExecOutcome::Done),
            Request::Timeout {
                guild,
                user,
                until,
                reason,
            } => {
                if let Some(why) = self.refusal_of(*guild, *user).await? {
                    return Ok(ExecOutcome::Refused(why));
                }
                let (g, u) = (sid::GuildId::new(guild.0), sid::UserId::new(user.0));
                self.set_timeout(g, u, Some(*until), reason)
                    .await
                    .map_err(failed)?;
                Ok(ExecOutcome::Done)
            }
            Request::EndTimeout {
                guild,
                user,
                reason,
            } => {
                let (g, u) = (sid::GuildId::new(guild.0), sid::UserId::new(user.0));
                let reason = or_default(reason, "steward: timeout over");
                match self.set_timeout(g, u, None, reason).await {
                    Err(e) if status(&e) == Some(404) => Ok(ExecOutcome::Done), // left meanwhile
                    other => other.map(|()| ExecOutcome::Done).map_err(failed),
                }
            }
            Request::Kick {
                guild,
                user,
                reason,
            } => {
                if let Some(why) = self.refusal_of(*guild, *user).await? {
                    return Ok(ExecOutcome::Refused(why));
                }
                let (g, u) = (sid::GuildId::new(guild.0), sid::UserId::new(user.0));
                self.call(|| self.http.kick_member(g, u, Some(reason)))
                    .await
                    .map_err(failed)?;
                Ok(ExecOutcome::Done)
            }
            Request::Ban {
                guild,
                users,
                delete_messages,
                reason,
            } => self.ban(*guild, users, *delete_messages, reason).await,
            Request::Unban {
                guild,
                user,
                reason,
            } => {
                let (g, u) = (sid::GuildId::new(guild.0), sid::UserId::new(user.0));
                let reason = or_default(reason, "steward: ban over");
                match self.call(|| self.http.remove_ban(g, u, Some(reason))).await {
                    Err(e) if status(&e) == Some(404) => Ok(ExecOutcome::Done), // already lifted
                    other => other.map(|()| ExecOutcome::Done).map_err(failed),
                }
            }
            Request::Alert {
                guild,
                channel,
                text,
                raid_buttons,
            } => self.alert(*guild, *channel, text, *raid_buttons).await,
            Request::Rename {
                guild,
                user,
                nick,
                reason,
            } => {
                if let Some(why) = self.refusal_of(*guild, *user).await? {
                    return Ok(ExecOutcome::Refused(why));
                }
                let (g, u) = (sid::GuildId::new(guild.0), sid::UserId::new(user.0));
                let edit = EditMember::new().nickname(nick).audit_log_reason(reason);
                self.call(|| edit.clone().execute(self.http.as_ref(), (g, u)))
                    .await
                    .map_err(failed)?;
                Ok(ExecOutcome::Done)
            }
            Request::Lockdown { guild, channels } => self.lock(*guild, channels).await,
            Request::EndLockdown {
                guild,
                channels,
                previous,
            } => self.unlock(*guild, channels, previous).await,
            Request::RaidMode {
                guild,
                until,
                pause_invites,
                pause_dms,
            } => {
                let invites = pause_invites.then_some(Some(*until));
                let dms = pause_dms.then_some(Some(*until));
                self.incident_actions(*guild, invites, dms).await
            }
            Request::EndRaidMode {
                guild,
                resume_invites,
                resume_dms,
            } => {
                let invites = resume_invites.then_some(None);
                let dms = resume_dms.then_some(None);
                self.incident_actions(*guild, invites, dms).await
            }
            Request::AddRole {
                guild,
                user,
                role,
                reason,
            } => {
                if let Some(why) = self.refusal_of(*guild, *user).await? {
                    return Ok(ExecOutcome::Refused(why));
                }
                let (g, u, r) = (
                    sid::GuildId::new(guild.0),
                    sid::UserId::new(user.0),
                    sid::RoleId::new(role.0),
                );
                self.call(|| self.http.add_member_role(g, u, r, Some(reason)))
                    .await
                    .map_err(failed)?;
                Ok(ExecOutcome::Done)
            }
            Request::RemoveRole { guild, user, role } => {
                let (g, u, r) = (
                    sid::GuildId::new(guild.0),
                    sid::UserId::new(user.0),
                    sid::RoleId::new(role.0),
                );
                match self
                    .call(|| {
                        self.http
                            .remove_member_role(g, u, r, Some("steward: hold over"))
                    })
                    .await
                {
                    Err(e) if status(&e) == Some(404) => Ok(ExecOutcome::Done), // left meanwhile
                    other => other.map(|()| ExecOutcome::Done).map_err(failed),
                }
            }
            Request::Slowmode {
                channel, seconds, ..
            } => self.set_slowmode(*channel, *seconds).await,
        }
    }
}

/// Whether Discord refused a DM because the member cannot be written to: error 50007
/// ("Cannot send messages to this user"), or any 403 on the DM channel.
/// `reason`, or `fallback` when it is empty.
fn or_default<'a>(reason: &'a str, fallback: &'a str) -> &'a str {
    if reason.trim().is_empty() {
        fallback
    } else {
        reason
    }
}

/// Why a DM could not be delivered, when Discord refused it for the member's settings
/// (their DMs are closed, or they share no server with steward) rather than failing.
fn closed_dms(e: &serenity::Error) -> Option<String> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r))
            if r.error.code == 50_007 || r.status_code.as_u16() == 403 =>
        {
            Some(format!(
                "Discord refused it (error {}: {})",
                r.error.code, r.error.message
            ))
        }
        _ => None,
    }
}

/// The embed of `post`, within Discord's limits.
fn embed_of(post: &Post) -> CreateEmbed {
    let mut embed = CreateEmbed::new()
        .title(truncate(&post.title, 256))
        .description(truncate(&post.description, 4000))
        .colour(post.colour);
    for (name, value) in post.fields.iter().take(25) {
        embed = embed.field(truncate(name, 256), truncate(value, 1024), false);
    }
    embed
}

/// A message carrying `post`: its embed, its buttons, an answer to its `reply_to`, and no
/// pings whatever the text says.
fn message_of(post: &Post, channel: Option<sid::ChannelId>) -> CreateMessage {
    let mut message = CreateMessage::new()
        .embed(embed_of(post))
        .allowed_mentions(CreateAllowedMentions::new());
    if let (Some(to), Some(channel)) = (post.reply_to, channel) {
        let mut reference = MessageReference::from((channel, sid::MessageId::new(to.0)));
        // The case's post may have been deleted: the answer is posted all the same.
        reference.fail_if_not_exists = Some(false);
        message = message.reference_message(reference);
    }
    if !post.buttons.is_empty() {
        let buttons = post
            .buttons
            .iter()
            .take(5)
            .map(|(id, label)| CreateButton::new(id.clone()).label(truncate(label, 80)))
            .collect();
        message = message.components(vec![CreateActionRow::Buttons(buttons)]);
    }
    message
}

fn status(e: &serenity::Error) -> Option<u16> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.status_code.as_u16()),
        _ => None,
    }
}

/// A nonce for one post: the same for every retry of it, different for every other post
/// (Discord takes up to 25 characters).
fn nonce(channel: ChannelId, text: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static POSTS: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let post = POSTS.fetch_add(1, Ordering::Relaxed);
    let digest = Sha256::digest(format!(
        "{channel}/{post}/{started}/{}/{text}",
        std::process::id()
    ));
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Whether the call surely never reached Discord: the connection was never made.
fn never_sent(e: &serenity::Error) -> bool {
    matches!(e, serenity::Error::Http(HttpError::Request(r)) if r.is_connect())
}

/// Server errors and failed connections may pass; anything else will fail again.
fn transient(e: &serenity::Error) -> bool {
    match e {
        serenity::Error::Http(HttpError::Request(_)) => true,
        _ => status(e).is_some_and(|s| s >= 500),
    }
}

/// The error as the audit log keeps it: for a refused request, the status and Discord's
/// message.
fn failed(e: serenity::Error) -> ExecError {
    match &e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => ExecError(format!(
            "Discord answered {} to {:?} {}: {}",
            r.status_code.as_u16(),
            r.method,
            r.url.split("/api/v10").nth(1).unwrap_or(&r.url),
            r.error.message
        )),
        _ => ExecError(e.to_string()),
    }
}
