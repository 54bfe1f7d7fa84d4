//! `/faq`: members look answers up (with autocomplete ranked by the full-text index);
//! moderators add, edit and remove them (a modal takes long answers).

use serenity::all::{
    AutocompleteChoice, CreateAllowedMentions, CreateAutocompleteResponse, CreateEmbed,
};

use super::{CommandError, Context, caller, escape, guild, private_embed, say_private, truncate};
use crate::discord::now;
use crate::store::StoreError;

/// Longest title and answer (an embed title and description).
const MAX_TITLE: usize = 200;
const MAX_ANSWER: usize = 4000;
/// How long the answer form stays open.
const FORM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Answers to common questions.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("faq_show", "faq_list", "faq_add", "faq_edit", "faq_remove"),
    subcommand_required
)]
pub async fn faq(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Entries matching what the member has typed so far, best first.
async fn titles(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let choices = match guild(ctx) {
        Ok(guild) => {
            let store = ctx.data().moderator.store();
            let hits = if partial.trim().is_empty() {
                store
                    .faq_list(guild)
                    .await
                    .map(|l| l.into_iter().map(|e| e.title).collect())
            } else {
                store
                    .faq_search(guild, partial, 25)
                    .await
                    .map(|h| h.into_iter().map(|h| h.entry.title).collect())
            };
            hits.unwrap_or_else(|e: StoreError| {
                tracing::warn!(error = %e, "faq autocomplete");
                Vec::new()
            })
        }
        Err(_) => Vec::new(),
    };
    let choices = choices
        .into_iter()
        .take(25)
        .map(|title| AutocompleteChoice::new(truncate(&title, 100), truncate(&title, 100)))
        .collect();
    CreateAutocompleteResponse::new().set_choices(choices)
}

/// Look up an answer.
#[poise::command(slash_command, guild_only, rename = "query")]
pub async fn faq_show(
    ctx: Context<'_>,
    #[description = "Your question or an entry's title"]
    #[autocomplete = "titles"]
    question: String,
    #[description = "Show the answer to you alone (default: to everyone here)"] private: Option<
        bool,
    >,
) -> Result<(), CommandError> {
    super::checked_length("question", &question, MAX_TITLE)?;
    let guild = guild(ctx)?;
    let store = ctx.data().moderator.store();
    let exact = store
        .faq_list(guild)
        .await?
        .into_iter()
        .find(|e| e.title.eq_ignore_ascii_case(question.trim()));
    let entry = match exact {
        Some(entry) => entry,
        None => store
            .faq_search(guild, &question, 1)
            .await?
            .into_iter()
            .next()
            .map(|h| h.entry)
            .ok_or_else(|| {
                CommandError::BadInput(format!(
                    "no answer matches `{}`; /faq list shows them all",
                    escape(&truncate(&question, 100))
                ))
            })?,
    };
    let embed = CreateEmbed::new()
        .title(truncate(&entry.title, 256))
        .description(truncate(&entry.answer, MAX_ANSWER));
    let reply = poise::CreateReply::default()
        .embed(embed)
        .ephemeral(private.unwrap_or(false))
        .allowed_mentions(CreateAllowedMentions::new());
    ctx.send(reply).await?;
    Ok(())
}

/// Every entry's title.
#[poise::command(slash_command, guild_only, rename = "list")]
pub async fn faq_list(ctx: Context<'_>) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let entries = ctx.data().moderator.store().faq_list(guild).await?;
    let body = if entries.is_empty() {
        "No entries yet.".to_string()
    } else {
        entries
            .iter()
            .map(|e| format!("• {}", escape(&e.title)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let embed = CreateEmbed::new()
        .title(format!("FAQ ({} entries)", entries.len()))
        .description(truncate(&body, 4000));
    ctx.send(private_embed(embed)).await?;
    Ok(())
}

/// The form for a long answer.
#[derive(Debug, Default, poise::Modal)]
#[name = "FAQ entry"]
struct AnswerForm {
    #[name = "Answer"]
    #[paragraph]
    #[max_length = 4000]
    answer: String,
    #[name = "Keywords (optional, help search)"]
    #[max_length = 200]
    keywords: Option<String>,
}

/// The answer given inline, or asked for in a form.
async fn answer(
    ctx: Context<'_>,
    given: Option<String>,
    defaults: AnswerForm,
) -> Result<Option<(String, String)>, CommandError> {
    if let Some(answer) = given {
        return Ok(Some((answer, defaults.keywords.unwrap_or_default())));
    }
    let poise::Context::Application(app) = ctx else {
        return Err(CommandError::BadInput(
            "give the answer as an option".into(),
        ));
    };
    let form = poise::execute_modal(app, Some(defaults), Some(FORM_TIMEOUT)).await?;
    Ok(form.map(|f| (f.answer, f.keywords.unwrap_or_default())))
}

fn check_entry(title: &str, answer: &str) -> Result<(), CommandError> {
    if title.trim().is_empty() || answer.trim().is_empty() {
        return Err(CommandError::BadInput(
            "the title and answer may not be empty".into(),
        ));
    }
    super::checked_length("title", title, MAX_TITLE)?;
    super::checked_length("answer", answer, MAX_ANSWER)
}

/// Add an entry (leave the answer empty to write it in a form).
#[poise::command(
    slash_command,
    guild_only,
    rename = "add",
    required_permissions = "MANAGE_MESSAGES"
)]
pub async fn faq_add(
    ctx: Context<'_>,
    #[description = "Title, as members would ask it"] title: String,
    #[description = "The answer (empty: open a form for a long one)"] answer: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    super::checked_length("title", &title, MAX_TITLE)?;
    let Some((answer, keywords)) = self::answer(ctx, answer, AnswerForm::default()).await? else {
        return Ok(()); // the form was closed
    };
    check_entry(&title, &answer)?;
    let store = ctx.data().moderator.store();
    let entry = store
        .faq_add(
            guild,
            title.trim(),
            answer.trim(),
            &keywords,
            caller(ctx),
            now(),
        )
        .await
        .map_err(conflict)?;
    record(ctx, "faq_add", &entry.title).await?;
    say_private(ctx, format!("Added “{}”.", escape(&entry.title))).await
}

/// Change an entry's answer.
#[poise::command(
    slash_command,
    guild_only,
    rename = "edit",
    required_permissions = "MANAGE_MESSAGES"
)]
pub async fn faq_edit(
    ctx: Context<'_>,
    #[description = "The entry"]
    #[autocomplete = "titles"]
    title: String,
    #[description = "The new answer (empty: edit it in a form)"] answer: Option<String>,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let store = ctx.data().moderator.store();
    let existing = store
        .faq_list(guild)
        .await?
        .into_iter()
        .find(|e| e.title == title)
        .ok_or_else(|| CommandError::BadInput(format!("there is no entry “{}”", escape(&title))))?;
    let defaults = AnswerForm {
        answer: existing.answer.clone(),
        keywords: Some(existing.keywords.clone()),
    };
    let Some((answer, keywords)) = self::answer(ctx, answer, defaults).await? else {
        return Ok(());
    };
    check_entry(&title, &answer)?;
    store
        .faq_edit(guild, &title, answer.trim(), &keywords, now())
        .await
        .map_err(conflict)?;
    record(ctx, "faq_edit", &title).await?;
    say_private(ctx, format!("Updated “{}”.", escape(&title))).await
}

/// Remove an entry.
#[poise::command(
    slash_command,
    guild_only,
    rename = "remove",
    required_permissions = "MANAGE_MESSAGES"
)]
pub async fn faq_remove(
    ctx: Context<'_>,
    #[description = "The entry"]
    #[autocomplete = "titles"]
    title: String,
) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    ctx.data()
        .moderator
        .store()
        .faq_remove(guild, &title)
        .await
        .map_err(conflict)?;
    record(ctx, "faq_remove", &title).await?;
    say_private(ctx, format!("Removed “{}”.", escape(&title))).await
}

/// Store answers such as "no such entry" are the caller's input, not a failure.
fn conflict(e: StoreError) -> CommandError {
    match e {
        StoreError::NotFound(why) | StoreError::Conflict(why) => CommandError::BadInput(why),
        other => other.into(),
    }
}

async fn record(ctx: Context<'_>, action: &str, title: &str) -> Result<(), CommandError> {
    ctx.data()
        .moderator
        .record_command(
            guild(ctx)?,
            caller(ctx),
            action,
            serde_json::json!({"title": title}),
            now(),
        )
        .await?;
    Ok(())
}
