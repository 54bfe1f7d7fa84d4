//! "Report message": any member can flag a message to the moderators, with a note.

use serenity::all::Message as SMessage;

use super::{CommandError, Context, Data, caller, guild, say_private, truncate};
use crate::discord::now;
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::moderation::{ExecOutcome, Executor, Request};

/// Reports one member may file per [`REPORT_WINDOW`].
pub const MAX_REPORTS: usize = 5;
/// The window reports are counted over.
pub const REPORT_WINDOW: Duration = Duration::from_secs(600);
const NOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The reporter's note.
#[derive(Debug, Default, poise::Modal)]
#[name = "Report to the moderators"]
struct ReportForm {
    #[name = "What is wrong with this message? (optional)"]
    #[paragraph]
    #[max_length = 1000]
    note: Option<String>,
}

/// Right-click a message → Report message.
#[poise::command(context_menu_command = "Report message", guild_only)]
pub async fn report_message(ctx: Context<'_>, message: SMessage) -> Result<(), CommandError> {
    let guild = guild(ctx)?;
    let reporter = caller(ctx);
    if let Err(why) = ctx.data().take_report_slot(guild, reporter, now()) {
        return Err(CommandError::BadInput(why));
    }
    let note = match ctx {
        poise::Context::Application(app) => {
            poise::execute_modal::<_, _, ReportForm>(app, None, Some(NOTE_TIMEOUT))
                .await?
                .and_then(|f| f.note)
        }
        poise::Context::Prefix(_) => None,
    };
    let link = format!(
        "https://discord.com/channels/{}/{}/{}",
        guild, message.channel_id, message.id
    );
    let text = format!(
        "Report by <@{reporter}> about a message by <@{}>: {link}\n> {}\nNote: {}",
        message.author.id,
        truncate(&message.content.replace('\n', "\n> "), 500),
        note.as_deref()
            .map_or("(none)".to_string(), |n| truncate(n, 1000)),
    );
    let moderator = &ctx.data().moderator;
    let outcome = moderator
        .executor()
        .execute(&Request::Alert {
            guild,
            channel: None,
            text,
            raid_buttons: false,
        })
        .await;
    moderator
        .record_command(
            guild,
            reporter,
            "report",
            serde_json::json!({
                "message": message.id.to_string(),
                "author": message.author.id.to_string(),
                "note": note,
                "delivered": matches!(outcome, Ok(ExecOutcome::Done)),
            }),
            now(),
        )
        .await?;
    say_private(
        ctx,
        "Thank you: the moderators have your report and will look at it.",
    )
    .await
}

impl Data {
    /// Counts a report against the reporter's allowance, or says why not.
    fn take_report_slot(
        &self,
        guild: GuildId,
        reporter: UserId,
        now: Timestamp,
    ) -> Result<(), String> {
        let mut reports = crate::lock::lock(&self.reports);
        reports.retain(|_, times| {
            times.retain(|t| now.since(*t) < REPORT_WINDOW);
            !times.is_empty()
        });
        let times = reports.entry((guild, reporter)).or_default();
        if times.len() >= MAX_REPORTS {
            return Err(format!(
                "you have sent {MAX_REPORTS} reports in the last {REPORT_WINDOW}; please wait a little"
            ));
        }
        times.push(now);
        Ok(())
    }
}
