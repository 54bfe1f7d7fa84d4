//! `/rules test|show|upload|reset|reload`: try the rules on a text, read them, and change
//! this server's own rules without shell access (the operator's file, the defaults, only
//! by the bot's owners). Rules with errors change nothing.

use serenity::all::{Attachment, CreateEmbed};

use super::{CommandError, Context, caller, escape, guild, private_embed, say_private, truncate};
use crate::discord::now;
use crate::discord::state::RulesChangeError;
use crate::engine::Engine;
use crate::engine::event::{Author, ChannelId, Event, Message, MessageId, RoleId};
use crate::engine::verdict::Action;

/// Largest rules file `/rules upload` reads.
const MAX_UPLOAD: u32 = crate::rules::Bounds::SERVER.max_bytes as u32;

/// Try, read or change the rules.
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "rules_test",
        "rules_show",
        "rules_upload",
        "rules_reset",
        "rules_reload"
    ),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    required_permissions = "MANAGE_GUILD"
)]
pub async fn rules(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Which rule would fire on a text, on which words, with which actions. Nothing is done.
#[poise::command(slash_command, guild_only, rename = "test")]
pub async fn rules_test(
    ctx: Context<'_>,
    #[description = "The text to try"] text: String,
) -> Result<(), CommandError> {
    super::checked_length("text", &text, 2000)?;
    let guild = guild(ctx)?;
    let at = now();
    let roles = ctx
        .author_member()
        .await
        .map(|m| m.roles.iter().map(|r| RoleId(r.get())).collect())
        .unwrap_or_default();
    let event = Event::Message(Message {
        id: MessageId(invocation_id(ctx)),
        guild_id: guild,
        channel_id: ChannelId(ctx.channel_id().get()),
        author: Author {
            id: caller(ctx),
            name: ctx.author().name.clone(),
            roles,
            ..Author::default()
        },
        content: text.clone(),
        timestamp: at,
        ..Message::default()
    });
    // A fresh engine: the test neither sees nor changes what members did.
    let mut engine = Engine::new((*ctx.data().rules.rule_set()).clone());
    let verdicts = engine.handle(&event, at);
    if verdicts.is_empty() {
        return say_private(ctx, "No rule fires on this text.").await;
    }
    let mut embed = CreateEmbed::new().title("Rules that would fire (nothing was done)");
    for v in &verdicts {
        let actions: Vec<&str> = v.actions.iter().map(Action::name).collect();
        let mut body = format!("{}\nactions: {}", escape(&v.reason), actions.join(", "));
        if !v.evidence.matched.is_empty() {
            body.push_str(&format!(
                "\nmatched: `{}`",
                truncate(&v.evidence.matched, 200)
            ));
        }
        if let Some(normalized) = &v.evidence.normalized {
            body.push_str(&format!("\nread as: `{}`", truncate(normalized, 200)));
        }
        if let Some((start, end)) = v.evidence.span {
            body.push_str(&format!("\nbytes {start}–{end}"));
        }
        embed = embed.field(
            format!("{} ({})", v.rule, v.mode.as_str()),
            truncate(&body, 1000),
            false,
        );
    }
    ctx.send(private_embed(embed)).await?;
    Ok(())
}

/// The rules in force here: the defaults, this server's own, and each rule's actions
#[poise::command(slash_command, guild_only, rename = "show")]
pub async fn rules_show(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let rules = &ctx.data().rules;
    let set = rules.rule_set();
    let lines: Vec<String> = set
        .for_guild(guild)
        .iter()
        .map(|r| {
            let actions: Vec<&str> = r.actions.iter().map(Action::name).collect();
            let state = if !r.enabled { "off" } else { r.mode.as_str() };
            format!(
                "**{}** · {} · {state} · {}",
                escape(&r.name),
                r.trigger.family(),
                actions.join(", ")
            )
        })
        .collect();
    let own = match rules.server(guild) {
        Some(own) => format!("This server's own rules: sha256 {}", &own.hash[..12]),
        None => "This server runs the defaults (no rules of its own).".to_string(),
    };
    let embed = CreateEmbed::new()
        .title("Rules in force")
        .description(truncate(
            &format!(
                "Defaults: {}\n{own}\n\n{}",
                escape(&rules.current().summary()),
                lines.join("\n")
            ),
            4000,
        ));
    ctx.send(private_embed(embed)).await?;
    Ok(())
}

/// Read the rules file every server shares again now (the bot's owners only)
#[poise::command(slash_command, guild_only, rename = "reload")]
pub async fn rules_reload(ctx: Context<'_>) -> Result<(), CommandError> {
    if !ctx.framework().options().owners.contains(&ctx.author().id) {
        return Err(CommandError::BadInput(
            "only the bot's owners can reload the rules file every server shares; \
             use /rules upload to change this server's own rules"
                .into(),
        ));
    }
    ctx.defer_ephemeral().await?;
    let rules = &ctx.data().rules;
    if rules.path().is_none() {
        return Err(CommandError::BadInput(
            "steward runs on the built-in example rules; there is no file to reload".into(),
        ));
    }
    let by = format!("/rules reload by {}", caller(ctx));
    let text = match rules.reload(&by).await {
        Ok(Some(loaded)) => format!("Reloaded: {}", escape(&loaded.summary())),
        Ok(None) => "The file has not changed; the rules in force stay.".to_string(),
        Err(e) => return Err(rules_error(e)),
    };
    say_private(ctx, text).await
}

/// Set this server's own rules from a YAML file (checked first; a bad file changes nothing)
#[poise::command(slash_command, guild_only, rename = "upload")]
pub async fn rules_upload(
    ctx: Context<'_>,
    #[description = "This server's rules (YAML)"] file: Attachment,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    if file.size > MAX_UPLOAD {
        return Err(CommandError::BadInput(format!(
            "the file is {} bytes; at most {MAX_UPLOAD} are read",
            file.size
        )));
    }
    ctx.defer_ephemeral().await?;
    let bytes = file.download().await?;
    if bytes.len() > MAX_UPLOAD as usize {
        return Err(CommandError::BadInput(format!(
            "the file is {} bytes; at most {MAX_UPLOAD} are read",
            bytes.len()
        )));
    }
    let source = String::from_utf8(bytes)
        .map_err(|_| CommandError::BadInput("the file is not UTF-8 text".into()))?;
    let loaded = ctx
        .data()
        .rules
        .upload(guild, &source, &file.filename, caller(ctx))
        .await
        .map_err(rules_error)?;
    say_private(
        ctx,
        format!(
            "This server's own rules are in force ({} rules, sha256 {}); other servers are unchanged.",
            loaded.rules.len(),
            &loaded.hash[..12]
        ),
    )
    .await
}

/// Drop this server's own rules: it runs the defaults again
#[poise::command(slash_command, guild_only, rename = "reset")]
pub async fn rules_reset(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    ctx.defer_ephemeral().await?;
    let had = ctx
        .data()
        .rules
        .reset(guild, caller(ctx))
        .await
        .map_err(rules_error)?;
    let text = if had {
        "This server runs the default rules again."
    } else {
        "This server has no rules of its own; it runs the defaults."
    };
    say_private(ctx, text).await
}

/// Rules errors as the caller reads them: every problem with its line.
fn rules_error(e: RulesChangeError) -> CommandError {
    match e {
        RulesChangeError::Invalid(problems) => CommandError::BadInput(format!(
            "the rules have errors; nothing changed:\n```\n{}\n```",
            truncate(&problems.to_string().replace("```", "'''"), 1700)
        )),
        other => CommandError::BadInput(other.to_string()),
    }
}

/// The id of the interaction (or message) that called the command: unique per call.
fn invocation_id(ctx: Context<'_>) -> u64 {
    match ctx {
        poise::Context::Application(app) => app.interaction.id.get(),
        poise::Context::Prefix(prefix) => prefix.msg.id.get(),
    }
}
