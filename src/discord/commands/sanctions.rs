//! Sanctions: `/warn`, `/timeout`, `/untimeout`, `/kick`, `/ban`, `/unban`, `/softban`,
//! `/note`, and the context menus "Warn", "Timeout 1 h" and "Delete and warn". All go
//! through the shared moderator, so cases, warnings, escalation, audit and the bot's own
//! hierarchy checks are the same as for automatic actions.

use serenity::all::{Message as SMessage, User};

use super::{
    CommandError, Context, caller, check_target, duration, guild, reason, required, say_private,
    when,
};
use crate::discord::now;
use crate::engine::event::{ChannelId, MessageId, UserId};
use crate::engine::time::Duration;
use crate::engine::verdict::Action;
use crate::moderation::{Command, ExecOutcome, ManualAction, Performed};
use crate::rules::schema::{MAX_BAN_DELETE, MAX_TIMEOUT};

/// Longest temporary ban steward schedules.
const MAX_BAN: Duration = Duration::from_secs(365 * 86_400);

/// The reason when a moderator gives none.
const NO_REASON: &str = "no reason given";

/// The caller's command about `user`, with the reason checked.
fn about(ctx: Context<'_>, user: &User, reason: String) -> Result<Command, CommandError> {
    Ok(Command {
        guild: guild(ctx)?,
        moderator: caller(ctx),
        target: UserId(user.id.get()),
        reason,
    })
}

/// Defers, then refuses when the caller may not act on `target`. Rank checks ask Discord;
/// deferring first means a slow answer never outlasts the interaction.
async fn checked(ctx: Context<'_>, command: &Command) -> Result<(), CommandError> {
    ctx.defer_ephemeral().await?;
    check_target(ctx, command.guild, command.target).await
}

/// Runs `action` against `user` for the caller and reports the outcome.
async fn sanction(
    ctx: Context<'_>,
    user: &User,
    action: Action,
    reason: String,
) -> Result<(), CommandError> {
    let command = about(ctx, user, reason)?;
    checked(ctx, &command).await?;
    let text = perform(ctx, &command, action, None).await?;
    say_private(ctx, text).await
}

/// Carries out `action` of `command` (already checked) and says how it went.
async fn perform(
    ctx: Context<'_>,
    command: &Command,
    action: Action,
    message: Option<(ChannelId, MessageId)>,
) -> Result<String, CommandError> {
    let name = action.name();
    let manual = ManualAction {
        guild: command.guild,
        moderator: command.moderator,
        target: command.target,
        action,
        reason: command.reason.clone(),
        message,
    };
    let performed = ctx.data().moderator.manual(&manual, now()).await?;
    Ok(report(name, command.target, &performed))
}

/// One line a moderator reads: the case, what happened, and any escalation.
fn report(action: &str, target: UserId, performed: &Performed) -> String {
    let case = performed
        .case
        .as_ref()
        .map(|c| format!("Case #{}: ", c.number))
        .unwrap_or_default();
    let mut text = match &performed.outcome {
        Ok(ExecOutcome::Done) => format!("{case}{action} of <@{target}> done."),
        Ok(ExecOutcome::Refused(why)) => {
            format!("{case}{action} of <@{target}> refused: {why}.")
        }
        Err(e) => format!("{case}{action} of <@{target}> failed: {e}. It is in the audit log."),
    };
    if let Some(escalation) = &performed.escalation {
        let actions: Vec<&str> = escalation.actions.iter().map(Action::name).collect();
        text.push_str(&format!(
            "\nEscalation: {} ({}).",
            actions.join(", "),
            escalation.reason
        ));
    }
    text
}

/// Warn a member; warnings add up toward the escalation ladder.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn warn(
    ctx: Context<'_>,
    #[description = "Who to warn"] user: User,
    #[description = "Why (shown in the case)"] reason: Option<String>,
    #[description = "Warning points (default 1)"]
    #[min = 1]
    #[max = 100]
    points: Option<u32>,
) -> Result<(), CommandError> {
    let reason = super::reason(reason, NO_REASON)?;
    let action = Action::Warn {
        points: points.unwrap_or(1),
        expires: None,
    };
    sanction(ctx, &user, action, reason).await
}

/// Time a member out (they can read but not speak), up to 28 days.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS",
    required_bot_permissions = "MODERATE_MEMBERS"
)]
pub async fn timeout(
    ctx: Context<'_>,
    #[description = "Who to time out"] user: User,
    #[description = "How long, e.g. 10m, 2h, 7d (at most 28d)"] length: String,
    #[description = "Why (shown in the case and Discord's audit log)"] reason: Option<String>,
) -> Result<(), CommandError> {
    let length = duration(&length, MAX_TIMEOUT)?;
    let reason = super::reason(reason, NO_REASON)?;
    let action = Action::Timeout { duration: length };
    sanction(ctx, &user, action, reason).await
}

/// End a member's timeout now.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS",
    required_bot_permissions = "MODERATE_MEMBERS"
)]
pub async fn untimeout(
    ctx: Context<'_>,
    #[description = "Whose timeout to end"] user: User,
    #[description = "Why"] reason: Option<String>,
) -> Result<(), CommandError> {
    let command = about(ctx, &user, super::reason(reason, NO_REASON)?)?;
    checked(ctx, &command).await?;
    ctx.data().moderator.untimeout(&command, now()).await?;
    say_private(
        ctx,
        format!("The timeout of <@{}> is over.", command.target),
    )
    .await
}

/// Kick a member (they can rejoin with an invite).
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "KICK_MEMBERS",
    required_permissions = "KICK_MEMBERS",
    required_bot_permissions = "KICK_MEMBERS"
)]
pub async fn kick(
    ctx: Context<'_>,
    #[description = "Who to kick"] user: User,
    #[description = "Why (shown in the case and Discord's audit log)"] reason: Option<String>,
) -> Result<(), CommandError> {
    let reason = super::reason(reason, NO_REASON)?;
    sanction(ctx, &user, Action::Kick, reason).await
}

/// Ban a user, for a while or for good, optionally deleting their recent messages.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "BAN_MEMBERS",
    required_permissions = "BAN_MEMBERS",
    required_bot_permissions = "BAN_MEMBERS"
)]
pub async fn ban(
    ctx: Context<'_>,
    #[description = "Who to ban"] user: User,
    #[description = "Why (shown in the case and Discord's audit log)"] reason: Option<String>,
    #[description = "How long, e.g. 7d (empty: for good)"] length: Option<String>,
    #[description = "Delete their messages of the last… e.g. 1d (at most 7d)"]
    delete_messages: Option<String>,
) -> Result<(), CommandError> {
    let length = length.map(|l| duration(&l, MAX_BAN)).transpose()?;
    let delete_messages = delete_messages
        .map(|d| duration(&d, MAX_BAN_DELETE))
        .transpose()?
        .unwrap_or(Duration(0));
    let reason = super::reason(reason, NO_REASON)?;
    let action = Action::Ban {
        duration: length,
        delete_messages,
    };
    sanction(ctx, &user, action, reason).await
}

/// Lift a ban (and any scheduled end of it).
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "BAN_MEMBERS",
    required_permissions = "BAN_MEMBERS",
    required_bot_permissions = "BAN_MEMBERS"
)]
pub async fn unban(
    ctx: Context<'_>,
    #[description = "Who to unban"] user: User,
    #[description = "Why"] reason: Option<String>,
) -> Result<(), CommandError> {
    let command = about(ctx, &user, super::reason(reason, NO_REASON)?)?;
    ctx.defer_ephemeral().await?;
    let performed = ctx.data().moderator.unban(&command, now()).await?;
    say_private(ctx, report("unban", command.target, &performed)).await
}

/// Ban and unban at once: removes a member and their recent messages, but they may rejoin.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "BAN_MEMBERS",
    required_permissions = "BAN_MEMBERS",
    required_bot_permissions = "BAN_MEMBERS"
)]
pub async fn softban(
    ctx: Context<'_>,
    #[description = "Who to softban"] user: User,
    #[description = "Why"] reason: Option<String>,
    #[description = "Delete their messages of the last… (default 1d, at most 7d)"]
    delete_messages: Option<String>,
) -> Result<(), CommandError> {
    let delete = delete_messages
        .map(|d| duration(&d, MAX_BAN_DELETE))
        .transpose()?
        .unwrap_or(Duration::from_secs(86_400));
    let command = about(ctx, &user, super::reason(reason, NO_REASON)?)?;
    checked(ctx, &command).await?;
    let performed = ctx
        .data()
        .moderator
        .softban(&command, delete, now())
        .await?;
    say_private(ctx, report("softban", command.target, &performed)).await
}

/// Write a note about a member: a case only moderators see; nothing happens on Discord.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn note(
    ctx: Context<'_>,
    #[description = "Who the note is about"] user: User,
    #[description = "The note"] text: String,
) -> Result<(), CommandError> {
    let command = about(ctx, &user, required("note", text)?)?;
    checked(ctx, &command).await?;
    let case = ctx.data().moderator.note(&command, now()).await?;
    say_private(
        ctx,
        format!(
            "Case #{}: note about <@{}> saved ({}).",
            case.number,
            command.target,
            when(case.created_at)
        ),
    )
    .await
}

/// Right-click a member → Warn (one point).
#[poise::command(
    context_menu_command = "Warn",
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn warn_user(ctx: Context<'_>, user: User) -> Result<(), CommandError> {
    let action = Action::Warn {
        points: 1,
        expires: None,
    };
    let reason = reason(None, "warned from the member menu")?;
    sanction(ctx, &user, action, reason).await
}

/// Right-click a member → Timeout 1 h.
#[poise::command(
    context_menu_command = "Timeout 1 h",
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS",
    required_bot_permissions = "MODERATE_MEMBERS"
)]
pub async fn timeout_user(ctx: Context<'_>, user: User) -> Result<(), CommandError> {
    let action = Action::Timeout {
        duration: Duration::from_secs(3600),
    };
    let reason = reason(None, "timed out from the member menu")?;
    sanction(ctx, &user, action, reason).await
}

/// Right-click a message → Delete and warn its author.
#[poise::command(
    context_menu_command = "Delete and warn",
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    required_permissions = "MANAGE_MESSAGES | MODERATE_MEMBERS",
    required_bot_permissions = "MANAGE_MESSAGES"
)]
pub async fn delete_and_warn(ctx: Context<'_>, message: SMessage) -> Result<(), CommandError> {
    let at = Some((
        ChannelId(message.channel_id.get()),
        MessageId(message.id.get()),
    ));
    let reason = format!(
        "message removed: {}",
        super::truncate(&message.content, 200)
    );
    let command = about(ctx, &message.author, reason)?;
    checked(ctx, &command).await?;
    let mut lines = Vec::new();
    for action in [
        Action::Delete,
        Action::Warn {
            points: 1,
            expires: None,
        },
    ] {
        lines.push(perform(ctx, &command, action, at).await?);
    }
    say_private(ctx, lines.join("\n")).await
}
