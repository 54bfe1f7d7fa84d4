//! Records: `/warnings`, `/pardon`, `/case show|reason`, `/cases` and `/audit`.

use serenity::all::{CreateEmbed, CreateEmbedFooter, User};

use super::{
    CommandError, Context, caller, duration, escape, guild, private_embed, say_private, truncate,
    when,
};
use crate::discord::now;
use crate::engine::event::UserId;
use crate::engine::time::{Duration, Timestamp};
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::cases::{Actor, Case};

/// Rows per page of `/audit` and `/cases`.
pub const PAGE: usize = 10;
/// How far back `/audit since` may reach.
const MAX_SINCE: Duration = Duration::from_secs(3650 * 86_400);

/// Show a member's warnings: points, reason, and whether each still counts.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn warnings(
    ctx: Context<'_>,
    #[description = "Whose warnings"] user: User,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let target = UserId(user.id.get());
    let list = ctx
        .data()
        .moderator
        .store()
        .warnings_for(guild, target)
        .await?;
    let at = now();
    let active: u32 = list.iter().filter(|w| w.active(at)).map(|w| w.points).sum();
    let mut embed = CreateEmbed::new()
        .title(format!("Warnings of {}", escape(&user.name)))
        .description(format!(
            "{} warnings, {active} points counting now.",
            list.len()
        ));
    for w in list.iter().take(PAGE) {
        let state = if w.pardon.is_some() {
            "pardoned"
        } else if w.active(at) {
            "counts"
        } else {
            "expired"
        };
        embed = embed.field(
            format!("#{} · {} pt · {state}", w.id, w.points),
            format!(
                "{} · {}",
                escape(&truncate(&w.reason, 200)),
                when(w.created_at)
            ),
            false,
        );
    }
    ctx.send(private_embed(embed)).await?;
    Ok(())
}

/// Forgive a warning: it stops counting toward escalation.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn pardon(
    ctx: Context<'_>,
    #[description = "Warning number (from /warnings)"]
    #[min = 1]
    warning: i64,
    #[description = "Why"] reason: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let why = super::reason(reason, "pardoned")?;
    // Forgiving a warning acts on its member: the same rank rules as a sanction.
    let store = ctx.data().moderator.store();
    let Some(found) = store.warning(guild, warning).await? else {
        return Err(CommandError::BadInput(format!(
            "there is no warning {warning}"
        )));
    };
    ctx.defer_ephemeral().await?;
    super::check_target(ctx, guild, found.user).await?;
    let pardoned = ctx
        .data()
        .moderator
        .pardon(guild, caller(ctx), warning, &why, now())
        .await?;
    say_private(
        ctx,
        format!(
            "Warning #{} of <@{}> ({} pt) pardoned.",
            pardoned.id, pardoned.user, pardoned.points
        ),
    )
    .await
}

/// Look at or correct one case.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("case_show", "case_reason"),
    subcommand_required,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn case(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Show one case.
#[poise::command(slash_command, guild_only, rename = "show")]
pub async fn case_show(
    ctx: Context<'_>,
    #[description = "Case number"]
    #[min = 1]
    number: u64,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let case = ctx
        .data()
        .moderator
        .store()
        .case(guild, number)
        .await?
        .ok_or_else(|| CommandError::BadInput(format!("there is no case #{number}")))?;
    ctx.send(private_embed(case_embed(&case))).await?;
    Ok(())
}

/// Replace a case's reason (the old one is kept in the audit log).
#[poise::command(slash_command, guild_only, rename = "reason")]
pub async fn case_reason(
    ctx: Context<'_>,
    #[description = "Case number"]
    #[min = 1]
    number: u64,
    #[description = "The new reason"] reason: String,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let reason = super::required("reason", reason)?;
    let store = ctx.data().moderator.store();
    let Some(found) = store.case(guild, number).await? else {
        return Err(CommandError::BadInput(format!(
            "there is no case #{number}"
        )));
    };
    // Rewriting the record of a member's case: the same rank rules as a sanction (a
    // lockdown's or raid's case is about steward itself, not a member).
    ctx.defer_ephemeral().await?;
    if found.target != super::server::steward(ctx) {
        super::check_target(ctx, guild, found.target).await?;
    }
    let case = ctx
        .data()
        .moderator
        .edit_reason(guild, caller(ctx), number, &reason, now())
        .await?;
    say_private(
        ctx,
        format!("Case #{} now reads: {}", case.number, escape(&reason)),
    )
    .await
}

/// List a member's cases, newest first.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MODERATE_MEMBERS",
    required_permissions = "MODERATE_MEMBERS"
)]
pub async fn cases(
    ctx: Context<'_>,
    #[description = "Whose cases"] user: User,
    #[description = "Page (10 a page)"]
    #[min = 1]
    page: Option<usize>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let mut list = ctx
        .data()
        .moderator
        .store()
        .cases_for(guild, UserId(user.id.get()))
        .await?;
    list.reverse();
    let lines: Vec<String> = list.iter().map(case_line).collect();
    let title = format!("Cases of {}", escape(&user.name));
    ctx.send(private_embed(paged(&title, &lines, page.unwrap_or(1))?))
        .await?;
    Ok(())
}

/// Search the audit log: every automatic and manual action, newest first.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "VIEW_AUDIT_LOG",
    required_permissions = "VIEW_AUDIT_LOG"
)]
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    ctx: Context<'_>,
    #[description = "Actions on this member"] member: Option<User>,
    #[description = "Actions by this moderator"] moderator: Option<User>,
    #[description = "Action, e.g. ban, timeout, warn"] action: Option<String>,
    #[description = "Rule name"] rule: Option<String>,
    #[description = "How far back, e.g. 1d, 2w"] since: Option<String>,
    #[description = "Page (10 a page)"]
    #[min = 1]
    page: Option<usize>,
) -> Result<(), CommandError> {
    let since = since
        .map(|s| duration(&s, MAX_SINCE).map(|d| now() - d))
        .transpose()?;
    let filter = AuditFilter {
        guild: Some(guild(ctx)?),
        actor: moderator.map(|m| UserId(m.id.get())),
        target: member.map(|m| UserId(m.id.get())),
        action: action.map(|a| a.trim().to_lowercase()),
        rule: rule.map(|r| r.trim().to_string()),
        since,
        limit: Some(500),
    };
    let rows = ctx.data().moderator.store().audit_rows(&filter).await?;
    let lines: Vec<String> = rows.iter().map(audit_line).collect();
    ctx.send(private_embed(paged(
        "Audit log",
        &lines,
        page.unwrap_or(1),
    )?))
    .await?;
    Ok(())
}

/// One page of `lines` as an embed, with "page n of m" below.
fn paged(title: &str, lines: &[String], page: usize) -> Result<CreateEmbed, CommandError> {
    let pages = lines.len().div_ceil(PAGE).max(1);
    if page > pages {
        return Err(CommandError::BadInput(format!(
            "there are only {pages} pages"
        )));
    }
    let shown = &lines[(page - 1) * PAGE..(page * PAGE).min(lines.len())];
    let body = if shown.is_empty() {
        "Nothing found.".to_string()
    } else {
        shown.join("\n")
    };
    Ok(CreateEmbed::new()
        .title(title)
        .description(truncate(&body, 4000))
        .footer(CreateEmbedFooter::new(format!(
            "page {page} of {pages} · {} in all",
            lines.len()
        ))))
}

fn actor(actor: &Actor) -> String {
    match actor {
        Actor::User(id) => format!("<@{id}>"),
        Actor::Steward { rule } => format!("steward ({})", escape(rule)),
    }
}

fn case_line(case: &Case) -> String {
    format!(
        "**#{}** {} · {} · by {} · {}",
        case.number,
        case.kind.as_str(),
        escape(&truncate(&case.reason, 80)),
        actor(&case.actor),
        when(case.created_at)
    )
}

fn case_embed(case: &Case) -> CreateEmbed {
    let mut embed = CreateEmbed::new()
        .title(format!("Case #{} · {}", case.number, case.kind.as_str()))
        .field("Member", format!("<@{}>", case.target), true)
        .field("By", actor(&case.actor), true)
        .field("When", when(case.created_at), true)
        .field("Reason", escape(&truncate(&case.reason, 1000)), false);
    if let Some(original) = &case.evidence.original {
        embed = embed.field("Evidence", escape(&truncate(original, 1000)), false);
    }
    if let Some(normalized) = &case.evidence.normalized {
        embed = embed.field("Read as", escape(&truncate(normalized, 200)), true);
    }
    if let Some(expires) = case.expires_at {
        embed = embed.field("Until", when(expires), true);
    }
    if let Some(outcome) = &case.outcome {
        embed = embed.field("Not applied", escape(&truncate(outcome, 500)), false);
    }
    embed.footer(CreateEmbedFooter::new(if case.active {
        "active"
    } else {
        "closed"
    }))
}

fn audit_line(row: &AuditRow) -> String {
    let e = &row.entry;
    let who = match (e.actor, &e.rule) {
        (Some(id), _) => format!("<@{id}>"),
        (None, Some(rule)) => format!("steward ({})", escape(rule)),
        (None, None) => "steward".to_string(),
    };
    let target = e.target.map(|t| format!(" → <@{t}>")).unwrap_or_default();
    let case = e
        .case_id
        .map(|c| format!(" · case {c}"))
        .unwrap_or_default();
    format!(
        "`{}` {} {} by {who}{target}{case} · {}",
        row.id,
        escape(&e.action),
        e.phase.as_str(),
        when(Timestamp(e.at.0))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_and_refuse_past_the_end() {
        let lines: Vec<String> = (0..23).map(|i| i.to_string()).collect();
        assert!(paged("t", &lines, 3).is_ok());
        assert!(paged("t", &lines, 4).is_err());
        assert!(paged("t", &[], 1).is_ok());
    }
}
