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

/// Raid mode: the raid's accounts are banned together; others who join are held.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("raid_status", "raid_on", "raid_off", "raid_release", "raid_ban"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn raid(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Whether raid mode is on, until when, and who is in the raid or held.
#[poise::command(slash_command, guild_only, rename = "status")]
pub async fn raid_status(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    let held = data.moderator.held(guild).await?;
    let cohort = data.raid_cohort_size(guild).unwrap_or(0);
    let text = raid_status_text(data.raid_mode_until(guild), cohort, held.len());
    say_private(ctx, text).await
}

/// What `/raid status` says.
fn raid_status_text(
    until: Option<crate::engine::time::Timestamp>,
    cohort: usize,
    held: usize,
) -> String {
    let mode = match until {
        Some(until) => format!(
            "Raid mode is on until {} at the latest (invites paused until then, when the rule pauses them); it ends sooner once the raid is quiet.",
            when(until)
        ),
        None => "Raid mode is off.".to_string(),
    };
    format!(
        "{mode}\nIn the raid's cohort: {cohort} accounts (banned as they arrive).\nHeld for moderators: {held} members — `/raid release` lets them in, `/raid ban` bans them together."
    )
}

/// Release every member held in raid mode (timeouts end, quarantine roles go).
#[poise::command(
    slash_command,
    guild_only,
    rename = "release",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn raid_release(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    ctx.defer_ephemeral().await?;
    let released = ctx
        .data()
        .moderator
        .release_held(guild, caller(ctx), now())
        .await?;
    say_private(ctx, format!("Released {released} held members.")).await
}

/// Ban every member held in raid mode, together.
#[poise::command(
    slash_command,
    guild_only,
    rename = "ban",
    required_permissions = "BAN_MEMBERS"
)]
pub async fn raid_ban(
    ctx: Context<'_>,
    #[description = "Why"] reason: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let reason = super::reason(reason, "held in raid mode; banned by a moderator")?;
    ctx.defer_ephemeral().await?;
    let (held, outcome) = ctx
        .data()
        .moderator
        .ban_held(guild, caller(ctx), &reason, now())
        .await?;
    say_private(ctx, held_ban_text(held, &outcome)).await
}

/// What a ban of the held says back.
pub fn held_ban_text(
    held: usize,
    outcome: &Result<crate::moderation::ExecOutcome, crate::moderation::ExecError>,
) -> String {
    use crate::moderation::ExecOutcome;
    match outcome {
        _ if held == 0 => "Nobody is held.".to_string(),
        Ok(ExecOutcome::Done) => format!("Banned the {held} held members."),
        Ok(ExecOutcome::Refused(why)) => format!("Of {held} held members: {why}"),
        Err(e) => format!("The ban of {held} held members failed: {e}"),
    }
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

/// Answers a press of a raid alert's buttons (ban or release the members held), for
/// members with the permission the matching command needs. Returns whether the press
/// was one of them.
pub async fn raid_button(
    ctx: &serenity::all::Context,
    data: &super::Data,
    press: &serenity::all::ComponentInteraction,
) -> bool {
    use crate::discord::executor::{RAID_BAN_BUTTON, RAID_RELEASE_BUTTON};
    use serenity::all::{
        CreateInteractionResponse, CreateInteractionResponseMessage, EditInteractionResponse,
        Permissions,
    };
    let id = press.data.custom_id.as_str();
    let (needed, command) = match id {
        RAID_BAN_BUTTON => (Permissions::BAN_MEMBERS, "raid_ban"),
        RAID_RELEASE_BUTTON => (Permissions::MODERATE_MEMBERS, "raid_release"),
        _ => return false,
    };
    let Some(guild) = press.guild_id.map(|g| GuildId(g.get())) else {
        return true;
    };
    let by = UserId(press.user.id.get());
    let allowed = press
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.contains(needed) || p.administrator());
    if !allowed {
        let why = format!("this button needs the {needed} permission");
        if let Err(e) = data
            .moderator
            .refused(Some(guild), by, command, None, &why, now())
            .await
        {
            tracing::error!(error = %e, "auditing a refused button");
        }
        let answer = CreateInteractionResponseMessage::new()
            .content(format!("You cannot use this: {why}."))
            .ephemeral(true);
        if let Err(e) = press
            .create_response(&ctx.http, CreateInteractionResponse::Message(answer))
            .await
        {
            tracing::warn!(error = %e, "answering a raid button");
        }
        return true;
    }
    if let Err(e) = press.defer_ephemeral(&ctx.http).await {
        tracing::warn!(error = %e, "acknowledging a raid button");
    }
    let text = if needed == Permissions::BAN_MEMBERS {
        match data
            .moderator
            .ban_held(
                guild,
                by,
                "held in raid mode; banned from the raid alert",
                now(),
            )
            .await
        {
            Ok((held, outcome)) => held_ban_text(held, &outcome),
            Err(e) => format!("Could not ban the held members: {e}"),
        }
    } else {
        match data.moderator.release_held(guild, by, now()).await {
            Ok(released) => format!("Released {released} held members."),
            Err(e) => format!("Could not release the held members: {e}"),
        }
    };
    if let Err(e) = press
        .edit_response(&ctx.http, EditInteractionResponse::new().content(text))
        .await
    {
        tracing::warn!(error = %e, "answering a raid button");
    }
    true
}
