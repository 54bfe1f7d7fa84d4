//! Channels and the server: `/purge`, `/slowmode`, `/lockdown start|end` and
//! `/raid status|on|off`.

use serenity::all::{ChannelType, EditChannel, GetMessages, GuildChannel, User};

use super::{CommandError, Context, caller, duration, guild, say_private, when};
use crate::discord::now;
use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::Duration;
use crate::engine::verdict::Action;
use crate::moderation::{ExecOutcome, ManualAction};
use crate::store::timers::TimedKind;

/// Discord's longest slowmode: six hours.
const MAX_SLOWMODE: u16 = 21_600;
/// Longest lockdown or raid mode set by command.
const MAX_LOCK: Duration = Duration::from_secs(28 * 86_400);

/// Bulk-delete recent messages of this channel (Discord only bulk-deletes the last 14 days).
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    required_permissions = "MANAGE_MESSAGES",
    required_bot_permissions = "MANAGE_MESSAGES | READ_MESSAGE_HISTORY"
)]
pub async fn purge(
    ctx: Context<'_>,
    #[description = "How many messages to delete (1-100)"]
    #[min = 1]
    #[max = 100]
    count: u8,
    #[description = "Only this member's messages"] user: Option<User>,
    #[description = "Only messages containing this text"] contains: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    if let Some(text) = &contains {
        super::checked_length("text", text, 200)?;
    }
    ctx.defer_ephemeral().await?;
    let channel = ctx.channel_id();
    let recent = channel
        .messages(ctx.http(), GetMessages::new().limit(100))
        .await?;
    let needle = contains.map(|c| c.to_lowercase());
    let chosen: Vec<MessageId> = recent
        .iter()
        .filter(|m| user.as_ref().is_none_or(|u| m.author.id == u.id))
        .filter(|m| {
            needle
                .as_ref()
                .is_none_or(|n| m.content.to_lowercase().contains(n))
        })
        .take(usize::from(count))
        .map(|m| MessageId(m.id.get()))
        .collect();
    if chosen.is_empty() {
        return say_private(ctx, "No recent message matches; nothing deleted.").await;
    }
    let found = chosen.len();
    let outcome = ctx
        .data()
        .moderator
        .purge(
            guild,
            caller(ctx),
            ChannelId(channel.get()),
            chosen,
            "steward: /purge",
            now(),
        )
        .await?;
    let text = match outcome {
        Ok(ExecOutcome::Done) => format!("Deleted {found} messages."),
        Ok(ExecOutcome::Refused(why)) => format!("Partly done: {why}."),
        Err(e) => format!("Purge failed: {e}."),
    };
    say_private(ctx, text).await
}

/// Set how long members wait between messages in this channel (0 turns it off).
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_CHANNELS",
    required_permissions = "MANAGE_CHANNELS",
    required_bot_permissions = "MANAGE_CHANNELS"
)]
pub async fn slowmode(
    ctx: Context<'_>,
    #[description = "Seconds between messages (0-21600)"]
    #[min = 0]
    #[max = 21600]
    seconds: u16,
    #[description = "Channel (default: this one)"]
    #[channel_types("Text")]
    channel: Option<GuildChannel>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    if seconds > MAX_SLOWMODE {
        return Err(CommandError::BadInput(format!(
            "at most {MAX_SLOWMODE} seconds"
        )));
    }
    let channel = channel.map_or(ctx.channel_id(), |c| c.id);
    let edit = EditChannel::new()
        .rate_limit_per_user(seconds)
        .audit_log_reason("steward: /slowmode");
    channel.edit(ctx.http(), edit).await?;
    ctx.data()
        .moderator
        .record_command(
            guild,
            caller(ctx),
            "slowmode",
            serde_json::json!({"channel": channel.get().to_string(), "seconds": seconds}),
            now(),
        )
        .await?;
    let text = if seconds == 0 {
        format!("Slowmode is off in <#{channel}>.")
    } else {
        format!("Slowmode in <#{channel}>: one message every {seconds} s.")
    };
    say_private(ctx, text).await
}

/// Stop @everyone from sending messages, in a channel or the whole server.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("lockdown_start", "lockdown_end"),
    subcommand_required,
    default_member_permissions = "MANAGE_CHANNELS",
    required_permissions = "MANAGE_CHANNELS",
    required_bot_permissions = "MANAGE_ROLES | MANAGE_CHANNELS"
)]
pub async fn lockdown(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Lock a channel (default: this one) or every text channel.
#[poise::command(slash_command, guild_only, rename = "start")]
pub async fn lockdown_start(
    ctx: Context<'_>,
    #[description = "Channel to lock (default: this one)"]
    #[channel_types("Text")]
    channel: Option<GuildChannel>,
    #[description = "Lock every text channel of the server"] server: Option<bool>,
    #[description = "How long, e.g. 30m (empty: until /lockdown end)"] length: Option<String>,
    #[description = "Why"] reason: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let length = length.map(|l| duration(&l, MAX_LOCK)).transpose()?;
    let reason = super::reason(reason, "lockdown")?;
    ctx.defer_ephemeral().await?;
    let channels = if server.unwrap_or(false) {
        text_channels(ctx, guild).await?
    } else {
        vec![ChannelId(channel.map_or(ctx.channel_id(), |c| c.id).get())]
    };
    let count = channels.len();
    let command = ManualAction {
        guild,
        moderator: caller(ctx),
        target: steward(ctx),
        action: Action::Lockdown {
            channels,
            duration: length,
        },
        reason,
        message: None,
    };
    let performed = ctx.data().moderator.manual(&command, now()).await?;
    let until = length.map_or_else(
        || "until /lockdown end".to_string(),
        |d| format!("until {}", when(now() + d)),
    );
    let text = match performed.outcome {
        Ok(ExecOutcome::Done) => format!("Locked {count} channels {until}."),
        Ok(ExecOutcome::Refused(why)) => format!("Lockdown refused: {why}."),
        Err(e) => format!("Lockdown failed: {e}."),
    };
    say_private(ctx, text).await
}

/// End every lockdown of the server now, restoring the channels as they were.
#[poise::command(slash_command, guild_only, rename = "end")]
pub async fn lockdown_end(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    ctx.defer_ephemeral().await?;
    let moderator = &ctx.data().moderator;
    let ended = moderator
        .end_now(guild, TimedKind::EndLockdown, now())
        .await?;
    moderator
        .record_command(
            guild,
            caller(ctx),
            "end_lockdown",
            serde_json::json!({"ended": ended}),
            now(),
        )
        .await?;
    let text = if ended == 0 {
        "No lockdown is in force.".to_string()
    } else {
        format!("Lockdown over; {ended} lockdowns ended and their channels restored.")
    };
    say_private(ctx, text).await
}

/// Steward's own id: the target of cases about the whole server (lockdowns, raid mode).
pub(super) fn steward(ctx: Context<'_>) -> UserId {
    UserId(ctx.cache().current_user().id.get())
}

/// The server's text channels.
async fn text_channels(ctx: Context<'_>, guild: GuildId) -> Result<Vec<ChannelId>, CommandError> {
    let g = serenity::all::GuildId::new(guild.0);
    let channels = g.channels(ctx.http()).await?;
    let mut ids: Vec<ChannelId> = channels
        .values()
        .filter(|c| c.kind == ChannelType::Text)
        .map(|c| ChannelId(c.id.get()))
        .collect();
    ids.sort();
    if ids.is_empty() {
        return Err(CommandError::BadInput(
            "the server has no text channels".into(),
        ));
    }
    Ok(ids)
}

/// Raid mode: while on, every newcomer gets the raid rule's sanctions.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("raid_status", "raid_on", "raid_off"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn raid(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Whether raid mode is on, and until when.
#[poise::command(slash_command, guild_only, rename = "status")]
pub async fn raid_status(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let text = match ctx.data().raid_mode_until(guild) {
        Some(until) => format!("Raid mode is on until {}.", when(until)),
        None => "Raid mode is off.".to_string(),
    };
    say_private(ctx, text).await
}

/// Turn raid mode on (default for 30 minutes).
#[poise::command(slash_command, guild_only, rename = "on")]
pub async fn raid_on(
    ctx: Context<'_>,
    #[description = "How long, e.g. 30m (default 30m, at most 28d)"] length: Option<String>,
    #[description = "Why"] reason: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let length = match length {
        Some(l) => duration(&l, MAX_LOCK)?,
        None => Duration::from_secs(30 * 60),
    };
    let command = ManualAction {
        guild,
        moderator: caller(ctx),
        target: steward(ctx),
        action: Action::RaidMode {
            duration: length,
            pause_invites: true,
            pause_dms: false,
        },
        reason: super::reason(reason, "raid mode by command")?,
        message: None,
    };
    ctx.defer_ephemeral().await?;
    let at = now();
    ctx.data().moderator.manual(&command, at).await?;
    ctx.data().set_raid_mode(guild, Some(at + length));
    say_private(ctx, format!("Raid mode is on until {}.", when(at + length))).await
}

/// Turn raid mode off now.
#[poise::command(slash_command, guild_only, rename = "off")]
pub async fn raid_off(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    data.set_raid_mode(guild, None);
    data.moderator
        .end_now(guild, TimedKind::EndRaidMode, now())
        .await?;
    data.moderator
        .record_command(
            guild,
            caller(ctx),
            "end_raid_mode",
            serde_json::json!({}),
            now(),
        )
        .await?;
    say_private(ctx, "Raid mode is off.").await
}
