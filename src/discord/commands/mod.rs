//! Slash commands and context menus, built with poise.
//!
//! Each command is a thin adapter: it checks who may do what, calls the moderation layer or
//! the store, and answers. Permissions are declared per command, so Discord hides moderator
//! commands from members, and checked again when a command runs: the caller's permissions,
//! steward's, and the role hierarchy between the caller and the target. Every refusal is
//! audited. Replies never ping anyone, and those that concern only the caller are ephemeral.

pub mod appeals;
pub mod faq;
pub mod records;
pub mod report;
pub mod rules;
pub mod sanctions;
pub mod server;
pub mod stats;

use poise::CreateReply;
use serenity::all::{CreateAllowedMentions, CreateEmbed, Permissions};

pub use super::state::{CommandError, Context, Data};
pub use crate::text::{escape, truncate};

use super::now;
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::{Duration, Timestamp};

/// Longest reason steward accepts: Discord's audit-log reason limit.
pub const MAX_REASON: usize = 512;

/// Every command steward registers.
pub fn all() -> Vec<poise::Command<Data, CommandError>> {
    vec![
        sanctions::warn(),
        sanctions::timeout(),
        sanctions::untimeout(),
        sanctions::kick(),
        sanctions::ban(),
        sanctions::unban(),
        sanctions::softban(),
        sanctions::note(),
        sanctions::warn_user(),
        sanctions::timeout_user(),
        sanctions::delete_and_warn(),
        records::warnings(),
        records::pardon(),
        records::case(),
        records::cases(),
        records::audit(),
        server::purge(),
        server::slowmode(),
        server::lockdown(),
        server::raid(),
        stats::stats(),
        rules::rules(),
        faq::faq(),
        report::report_message(),
    ]
}

/// The application-command JSON Discord receives at registration (`steward commands`).
pub fn definitions() -> serde_json::Value {
    let commands = all();
    let created = poise::builtins::create_application_commands(&commands);
    serde_json::to_value(created).unwrap_or(serde_json::Value::Null)
}

/// The guild a guild-only command runs in.
fn guild(ctx: Context<'_>) -> Result<GuildId, CommandError> {
    ctx.guild_id()
        .map(|g| GuildId(g.get()))
        .ok_or_else(|| CommandError::BadInput("this command works in a server only".into()))
}

/// The caller as the engine names users.
fn caller(ctx: Context<'_>) -> UserId {
    UserId(ctx.author().id.get())
}

/// A reply only the caller sees, pinging nobody.
fn private(text: impl Into<String>) -> CreateReply {
    CreateReply::default()
        .content(truncate(&text.into(), 2000))
        .ephemeral(true)
        .allowed_mentions(CreateAllowedMentions::new())
}

/// An embed reply only the caller sees, pinging nobody.
fn private_embed(embed: CreateEmbed) -> CreateReply {
    CreateReply::default()
        .embed(embed)
        .ephemeral(true)
        .allowed_mentions(CreateAllowedMentions::new())
}

/// Sends `text` to the caller alone.
async fn say_private(ctx: Context<'_>, text: impl Into<String>) -> Result<(), CommandError> {
    ctx.send(private(text)).await?;
    Ok(())
}

/// A reason as given, or a default; too long is refused rather than cut.
fn reason(given: Option<String>, default: &str) -> Result<String, CommandError> {
    let reason = given
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default.to_string());
    checked_length("reason", &reason, MAX_REASON)?;
    Ok(reason)
}

/// Text the caller must give (a note, a new reason): trimmed, not empty, and not longer
/// than a reason may be.
fn required(field: &str, text: String) -> Result<String, CommandError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(CommandError::BadInput(format!("the {field} is empty")));
    }
    checked_length(field, &text, MAX_REASON)?;
    Ok(text)
}

/// Refuses text over `max` characters, naming the field.
fn checked_length(field: &str, text: &str, max: usize) -> Result<(), CommandError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(CommandError::BadInput(format!(
            "the {field} is {chars} characters long; at most {max} are allowed"
        )));
    }
    Ok(())
}

/// A duration such as `10m`, `2h` or `7d`, within `max`.
fn duration(text: &str, max: Duration) -> Result<Duration, CommandError> {
    let parsed = crate::rules::schema::parse_duration(text.trim())
        .map_err(|e| CommandError::BadInput(format!("`{}`: {e}", escape(text))))?;
    if parsed.0 == 0 || parsed > max {
        return Err(CommandError::BadInput(format!(
            "`{}` is out of range: from 1s to {max}",
            escape(text)
        )));
    }
    Ok(parsed)
}

/// Refuses when the caller may not act on `target` (themselves, the owner, or someone at or
/// above their top role).
async fn check_target(
    ctx: Context<'_>,
    guild: GuildId,
    target: UserId,
) -> Result<(), CommandError> {
    let executor = ctx.data().moderator.executor().inner();
    match executor.caller_refusal(guild, caller(ctx), target).await? {
        Some(why) => Err(CommandError::Refused(why)),
        None => Ok(()),
    }
}

/// A Discord timestamp tag: shown in each reader's time zone.
fn when(t: Timestamp) -> String {
    format!("<t:{}:f>", t.0.div_euclid(1000))
}

/// Answers failures: the caller gets a clear ephemeral message, and refusals are audited.
pub async fn on_error(error: poise::FrameworkError<'_, Data, CommandError>) {
    use poise::FrameworkError as F;
    let (ctx, why, refused) = match error {
        F::Command { error, ctx, .. } => {
            let refused = matches!(error, CommandError::Refused(_));
            if !refused && !matches!(error, CommandError::BadInput(_)) {
                tracing::error!(command = %ctx.command().qualified_name, error = %error, "command failed");
            }
            (ctx, error.to_string(), refused)
        }
        F::MissingUserPermissions {
            ctx,
            missing_permissions,
            ..
        } => {
            let missing = missing_permissions.map_or_else(|| "?".to_string(), names);
            (ctx, format!("you need the {missing} permission"), true)
        }
        F::MissingBotPermissions {
            ctx,
            missing_permissions,
            ..
        } => (
            ctx,
            format!(
                "steward needs the {} permission",
                names(missing_permissions)
            ),
            true,
        ),
        F::GuildOnly { ctx, .. } => (ctx, "this command works in a server only".into(), false),
        F::ArgumentParse {
            ctx, input, error, ..
        } => {
            let input = input.map(|i| format!(" `{}`", escape(&truncate(&i, 100))));
            (
                ctx,
                format!("cannot read{}: {error}", input.unwrap_or_default()),
                false,
            )
        }
        F::CommandStructureMismatch {
            ctx, description, ..
        } => {
            tracing::warn!(
                command = %ctx.command().qualified_name,
                description,
                "a command's options do not match its definition"
            );
            let why = "steward could not read this command's options; Discord may still \
                       show an older version of it, so try again in a minute";
            (poise::Context::Application(ctx), why.to_string(), false)
        }
        other => {
            // Cooldowns, panics, owner-only and the rest: poise's own answers.
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!(error = %e, "answering a command error");
            }
            return;
        }
    };
    if refused {
        let data = ctx.data();
        let guild = ctx.guild_id().map(|g| GuildId(g.get()));
        let command = format!("/{}", ctx.command().qualified_name);
        if let Err(e) = data
            .moderator
            .refused(guild, caller(ctx), &command, None, &why, now())
            .await
        {
            tracing::error!(error = %e, "auditing a refused command");
        }
    }
    let text = if refused {
        format!("Refused: {why}.")
    } else {
        format!("Not done: {why}.")
    };
    if let Err(e) = ctx.send(private(text)).await {
        tracing::warn!(error = %e, "replying to a failed command");
    }
}

fn names(permissions: Permissions) -> String {
    let names: Vec<String> = permissions
        .get_permission_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_description_and_valid_definition() {
        let definitions = definitions();
        let list = definitions.as_array().expect("an array of commands");
        assert_eq!(list.len(), all().len());
        for command in list {
            let name = command["name"].as_str().expect("a name");
            // Slash commands need a description; context menus must not have one.
            if command["type"] == 1 {
                let description = command["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "/{name} has no description");
                assert!(
                    description.chars().count() <= 100,
                    "/{name}: description too long"
                );
            }
        }
    }

    #[test]
    fn moderator_commands_are_hidden_from_members() {
        let definitions = definitions();
        for command in definitions.as_array().expect("array") {
            let name = command["name"].as_str().unwrap_or_default();
            let open = matches!(name, "faq" | "Report message");
            assert_eq!(
                command["default_member_permissions"].is_null(),
                open,
                "{name}: {command}"
            );
        }
    }

    #[test]
    fn markdown_is_escaped_and_long_text_cut() {
        assert_eq!(escape("**hi** `x`"), "\\*\\*hi\\*\\* \\`x\\`");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn reasons_over_the_limit_are_refused() {
        assert!(reason(Some("x".repeat(MAX_REASON + 1)), "none").is_err());
        assert_eq!(
            reason(Some("  ".into()), "none").ok().as_deref(),
            Some("none")
        );
        let empty = required("note", "  ".into()).expect_err("empty");
        assert_eq!(empty.to_string(), "the note is empty");
        assert_eq!(required("note", " hi ".into()).ok().as_deref(), Some("hi"));
        assert!(required("note", "x".repeat(MAX_REASON + 1)).is_err());
    }

    #[test]
    fn durations_are_checked() {
        let day = Duration::from_secs(86_400);
        assert!(duration("2h", day).is_ok());
        assert!(duration("2d", day).is_err());
        assert!(duration("soon", day).is_err());
    }
}
