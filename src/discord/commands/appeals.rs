//! The Discord side of appeals: the DM's "Appeal" button opens a form, the form's answer
//! goes to the server's appeals channel, and the Accept and Deny buttons there decide it.
//! What each step may do is decided in `moderation::appeals`.

use serenity::all::{
    ActionRowComponent, ComponentInteraction, Context as SContext, CreateActionRow,
    CreateInputText, CreateInteractionResponse, CreateInteractionResponseMessage, CreateModal,
    EditInteractionResponse, InputTextStyle, Interaction, ModalInteraction, Permissions,
};

use super::Data;
use crate::discord::now;
use crate::engine::event::{GuildId, UserId};
use crate::moderation::appeals::{AppealAnswer, AppealControl, MAX_APPEAL};
use crate::store::cases::CaseKind;

/// The form's one field.
const REASON_FIELD: &str = "appeal";

/// Handles `interaction` when it belongs to the appeal flow; returns whether it did.
pub async fn appeal_interaction(ctx: &SContext, data: &Data, interaction: &Interaction) -> bool {
    let (custom_id, press, submit) = match interaction {
        Interaction::Component(press) => (press.data.custom_id.as_str(), Some(press), None),
        Interaction::Modal(submit) => (submit.data.custom_id.as_str(), None, Some(submit)),
        _ => return false,
    };
    let Some(control) = AppealControl::parse(custom_id) else {
        return false;
    };
    match (control, press, submit) {
        (AppealControl::Start { guild, number }, Some(press), _) => {
            let user = UserId(press.user.id.get());
            let answer = data.moderator.may_appeal(guild, number, user, now()).await;
            let response = match answer {
                Ok(AppealAnswer::Go) => form(guild, number),
                Ok(AppealAnswer::No(why)) => message(why),
                Err(e) => message(format!("Not done: {e}")),
            };
            respond(ctx, press, response).await;
        }
        (AppealControl::Form { guild, number }, _, Some(submit)) => {
            let user = UserId(submit.user.id.get());
            let text = written(submit);
            let answer = data
                .moderator
                .submit_appeal(guild, number, user, &text, now())
                .await;
            let said = match answer {
                Ok(AppealAnswer::Go) => {
                    "Your appeal was sent to the moderators. You will get a message here when \
                     they decide."
                        .to_string()
                }
                Ok(AppealAnswer::No(why)) => why,
                Err(e) => format!("Not sent: {e}"),
            };
            let response = message(said);
            if let Err(e) = submit.create_response(&ctx.http, response).await {
                tracing::warn!(error = %e, "answering an appeal form");
            }
        }
        (AppealControl::Decide { id, accept }, Some(press), _) => {
            decide(ctx, data, press, id, accept).await;
        }
        _ => tracing::warn!(
            custom_id,
            "an appeal control arrived as the wrong interaction"
        ),
    }
    true
}

/// A moderator's press of Accept or Deny, checked against the permission that lifting the
/// case's sanction needs.
async fn decide(ctx: &SContext, data: &Data, press: &ComponentInteraction, id: i64, accept: bool) {
    let by = UserId(press.user.id.get());
    let found = match data.moderator.appeal_with_case(id).await {
        Ok(found) => found,
        Err(e) => {
            respond(ctx, press, message(format!("Not done: {e}"))).await;
            return;
        }
    };
    let Some((appeal, case)) = found else {
        respond(ctx, press, message("This appeal no longer exists.".into())).await;
        return;
    };
    let here = press.guild_id.map(|g| g.get());
    let needed = match case.kind {
        CaseKind::Ban => Permissions::BAN_MEMBERS,
        _ => Permissions::MODERATE_MEMBERS,
    };
    let allowed = press
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.contains(needed) || p.administrator());
    if here != Some(appeal.guild.0) || !allowed {
        let why = format!("deciding this appeal needs the {needed} permission in its server");
        let command = "appeal_decision";
        let refused = data
            .moderator
            .refused(
                Some(appeal.guild),
                by,
                command,
                Some(case.target),
                &why,
                now(),
            )
            .await;
        if let Err(e) = refused {
            tracing::error!(error = %e, "auditing a refused appeal decision");
        }
        respond(ctx, press, message(format!("You cannot use this: {why}."))).await;
        return;
    }
    if let Err(e) = press.defer_ephemeral(&ctx.http).await {
        tracing::warn!(error = %e, "acknowledging an appeal decision");
    }
    let said = match data
        .moderator
        .decide_appeal((appeal, case), accept, by, now())
        .await
    {
        Ok(said) => said,
        Err(e) => format!("Not done: {e}"),
    };
    let edit = EditInteractionResponse::new().content(said);
    if let Err(e) = press.edit_response(&ctx.http, edit).await {
        tracing::warn!(error = %e, "answering an appeal decision");
    }
}

/// The form a member fills in to appeal case `number` of `guild`.
fn form(guild: GuildId, number: u64) -> CreateInteractionResponse {
    let field = CreateInputText::new(
        InputTextStyle::Paragraph,
        "Why should it be lifted?",
        REASON_FIELD,
    )
    .min_length(1)
    .max_length(MAX_APPEAL as u16)
    .required(true);
    let modal = CreateModal::new(
        AppealControl::Form { guild, number }.custom_id(),
        format!("Appeal of case #{number}"),
    )
    .components(vec![CreateActionRow::InputText(field)]);
    CreateInteractionResponse::Modal(modal)
}

/// What the member wrote in the form.
fn written(submit: &ModalInteraction) -> String {
    submit
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .find_map(|c| match c {
            ActionRowComponent::InputText(input) if input.custom_id == REASON_FIELD => {
                input.value.clone()
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// A reply only its reader sees, pinging nobody.
fn message(text: String) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(super::truncate(&text, 2_000))
            .ephemeral(true)
            .allowed_mentions(serenity::all::CreateAllowedMentions::new()),
    )
}

async fn respond(
    ctx: &SContext,
    press: &ComponentInteraction,
    response: CreateInteractionResponse,
) {
    if let Err(e) = press.create_response(&ctx.http, response).await {
        tracing::warn!(error = %e, "answering an appeal button");
    }
}
