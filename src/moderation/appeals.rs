//! Appeals made in Discord: a member presses "Appeal" under a sanction's DM, writes why,
//! and the appeal is posted for the moderators with Accept and Deny; accepting lifts the
//! sanction (unban, end of timeout, pardon) through the same audited path as a command.
//! It works after a ban, when the member shares no server with steward: everything the
//! member's side needs is in the button's id and the store.

use serde_json::json;

use super::{Command, Executor, ModerationError, Moderator, Post};
use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::Timestamp;
use crate::rules::Notify;
use crate::store::appeals::{Appeal, AppealState, Appealable};
use crate::store::cases::{Case, CaseKind};
use crate::text::{colour, escape, truncate};

/// The longest appeal a member may write, in characters.
pub const MAX_APPEAL: usize = 1_000;

/// What a button or form of the appeal flow is, read from its custom id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppealControl {
    /// The DM's "Appeal" button for case `number` of `guild`.
    Start { guild: GuildId, number: u64 },
    /// The form the member sends for that case.
    Form { guild: GuildId, number: u64 },
    /// A moderator's Accept or Deny under appeal `id`.
    Decide { id: i64, accept: bool },
}

impl AppealControl {
    /// The custom id Discord carries back when the control is used.
    pub fn custom_id(self) -> String {
        match self {
            AppealControl::Start { guild, number } => format!("appeal:{guild}:{number}"),
            AppealControl::Form { guild, number } => format!("appeal-form:{guild}:{number}"),
            AppealControl::Decide { id, accept: true } => format!("appeal-accept:{id}"),
            AppealControl::Decide { id, accept: false } => format!("appeal-deny:{id}"),
        }
    }

    /// The control a custom id names, if it is one of the appeal flow's.
    pub fn parse(custom_id: &str) -> Option<AppealControl> {
        let (kind, rest) = custom_id.split_once(':')?;
        let case = |rest: &str| -> Option<(GuildId, u64)> {
            let (guild, number) = rest.split_once(':')?;
            Some((GuildId(guild.parse().ok()?), number.parse().ok()?))
        };
        match kind {
            "appeal" => case(rest).map(|(guild, number)| AppealControl::Start { guild, number }),
            "appeal-form" => {
                case(rest).map(|(guild, number)| AppealControl::Form { guild, number })
            }
            "appeal-accept" => Some(AppealControl::Decide {
                id: rest.parse().ok()?,
                accept: true,
            }),
            "appeal-deny" => Some(AppealControl::Decide {
                id: rest.parse().ok()?,
                accept: false,
            }),
            _ => None,
        }
    }
}

/// The answer to a member who wants to appeal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppealAnswer {
    /// The form may be shown (or the appeal was sent).
    Go,
    /// Not possible, and why, in words for the member.
    No(String),
}

/// Whether a sanction of `kind` can be appealed: what accepting would lift.
pub fn appealable(kind: CaseKind) -> bool {
    matches!(kind, CaseKind::Warn | CaseKind::Timeout | CaseKind::Ban)
}

/// The DM's "Appeal" button for `case`, when the server takes appeals in Discord.
pub fn appeal_button(case: &Case, notify: &Notify) -> Option<(String, String)> {
    notify.appeals_channel?;
    appealable(case.kind).then(|| {
        let start = AppealControl::Start {
            guild: case.guild,
            number: case.number,
        };
        (start.custom_id(), "Appeal".to_string())
    })
}

impl<E: Executor> Moderator<E> {
    /// Whether `user` may appeal case `number` of `guild` now.
    pub async fn may_appeal(
        &self,
        guild: GuildId,
        number: u64,
        user: UserId,
        now: Timestamp,
    ) -> Result<AppealAnswer, ModerationError> {
        Ok(match self.appeal_target(guild, number, user, now).await? {
            Ok(_) => AppealAnswer::Go,
            Err(why) => AppealAnswer::No(why),
        })
    }

    /// Sends `user`'s appeal of case `number` to the server's appeals channel.
    pub async fn submit_appeal(
        &self,
        guild: GuildId,
        number: u64,
        user: UserId,
        text: &str,
        now: Timestamp,
    ) -> Result<AppealAnswer, ModerationError> {
        let (case, channel) = match self.appeal_target(guild, number, user, now).await? {
            Ok(found) => found,
            Err(why) => return Ok(AppealAnswer::No(why)),
        };
        let text = truncate(text.trim(), MAX_APPEAL);
        if text.is_empty() {
            return Ok(AppealAnswer::No("The appeal is empty.".into()));
        }
        let Some(id) = self
            .store
            .open_appeal(guild, case.id, user, &text, now)
            .await?
        else {
            return Ok(AppealAnswer::No(already_open()));
        };
        let detail = json!({"appeal": id, "case": case.number});
        self.record(
            guild,
            user,
            Some(user),
            "appeal",
            Some(case.id),
            detail,
            now,
        )
        .await?;
        let post = appeal_post(&case, id, &text);
        match self.executor.post(guild, channel, &post).await {
            Ok(message) => self.store.set_appeal_post(id, channel.0, message.0).await?,
            Err(e) => tracing::warn!(%guild, appeal = id, error = %e, "posting an appeal"),
        }
        Ok(AppealAnswer::Go)
    }

    /// Appeal `id` and the case it appeals, when both still exist.
    pub async fn appeal_with_case(
        &self,
        id: i64,
    ) -> Result<Option<(Appeal, Case)>, ModerationError> {
        let Some(appeal) = self.store.appeal(id).await? else {
            return Ok(None);
        };
        let case = self.store.case_by_id(appeal.case_id).await?;
        Ok(case.map(|case| (appeal, case)))
    }

    /// Accepts or denies `appeal` of `case` for moderator `by`; returns what to tell them.
    pub async fn decide_appeal(
        &self,
        (appeal, case): (Appeal, Case),
        accept: bool,
        by: UserId,
        now: Timestamp,
    ) -> Result<String, ModerationError> {
        let id = appeal.id;
        let state = if accept {
            AppealState::Accepted
        } else {
            AppealState::Denied
        };
        if !self.store.decide_appeal(id, state, by, now).await? {
            return Ok("This appeal was decided already.".into());
        }
        let verdict = if accept { "accepted" } else { "denied" };
        if accept && let Err(e) = self.lift(&case, id, by, now).await {
            self.store.reopen_appeal(id).await?;
            return Err(e);
        }
        let detail = json!({"appeal": id, "decision": verdict});
        self.record(
            case.guild,
            by,
            Some(case.target),
            "appeal_decision",
            Some(case.id),
            detail,
            now,
        )
        .await?;
        self.close_appeal_post(&appeal, &case, verdict, by).await;
        self.tell_decision(&appeal, &case, accept, now).await;
        Ok(format!(
            "Appeal {verdict}: case #{} of <@{}>.",
            case.number, case.target
        ))
    }

    /// Lifts the sanction of `case` after its appeal was accepted.
    async fn lift(
        &self,
        case: &Case,
        appeal: i64,
        by: UserId,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let command = Command {
            guild: case.guild,
            moderator: by,
            target: case.target,
            reason: format!("appeal {appeal} of case #{} accepted", case.number),
        };
        match case.kind {
            CaseKind::Ban => {
                self.unban(&command, now).await?;
            }
            CaseKind::Timeout => self.untimeout(&command, now).await?,
            CaseKind::Warn => {
                let warnings = self.store.warnings_for(case.guild, case.target).await?;
                for warning in warnings
                    .iter()
                    .filter(|w| w.case_id == case.id && w.pardon.is_none())
                {
                    self.pardon(case.guild, by, warning.id, &command.reason, now)
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The case `user` may appeal and the channel the appeal goes to, or why not.
    async fn appeal_target(
        &self,
        guild: GuildId,
        number: u64,
        user: UserId,
        now: Timestamp,
    ) -> Result<Result<(Case, ChannelId), String>, ModerationError> {
        let settings = self.in_force(guild);
        let Some(notify) = settings.notify.as_ref() else {
            return Ok(Err(no_appeals()));
        };
        let Some(channel) = notify.appeals_channel else {
            return Ok(Err(no_appeals()));
        };
        let case = match self.store.case(guild, number).await? {
            Some(case) if case.target == user && appealable(case.kind) => case,
            _ => return Ok(Err("This case cannot be appealed.".into())),
        };
        match self
            .store
            .appealable(case.id, notify.appeal_cooldown, now)
            .await?
        {
            Appealable::Yes => Ok(Ok((case, ChannelId(channel)))),
            Appealable::AlreadyOpen => Ok(Err(already_open())),
            Appealable::After(at) => Ok(Err(format!(
                "Your last appeal of this case was denied; you may appeal again <t:{}:R>.",
                at.0.div_euclid(1000)
            ))),
        }
    }

    /// Takes the buttons off an appeal's post and says who decided.
    async fn close_appeal_post(&self, appeal: &Appeal, case: &Case, verdict: &str, by: UserId) {
        let Some((channel, message)) = appeal.post else {
            return;
        };
        let mut post = appeal_post(case, appeal.id, &appeal.text);
        post.buttons.clear();
        post.fields
            .push(("Decision".into(), format!("{verdict} by <@{by}>")));
        let (channel, message) = (ChannelId(channel), MessageId(message));
        if let Err(e) = self
            .executor
            .edit_post(case.guild, channel, message, &post)
            .await
        {
            tracing::warn!(appeal = appeal.id, error = %e, "closing an appeal's post");
        }
    }

    /// Tells the member how their appeal was decided.
    async fn tell_decision(&self, appeal: &Appeal, case: &Case, accept: bool, now: Timestamp) {
        let server = self
            .executor
            .guild_name(case.guild)
            .unwrap_or_else(|| format!("server {}", case.guild));
        let cooldown = self
            .in_force(case.guild)
            .notify
            .as_ref()
            .map(|n| n.appeal_cooldown);
        let description = match (accept, cooldown) {
            (true, _) => format!(
                "Your appeal of case #{} in **{}** was accepted.",
                case.number,
                escape(&truncate(&server, 100))
            ),
            (false, cooldown) => {
                let again = cooldown.map_or(String::new(), |c| {
                    format!(
                        " You may appeal again <t:{}:R>.",
                        (now + c).0.div_euclid(1000)
                    )
                });
                format!(
                    "Your appeal of case #{} in **{}** was denied.{again}",
                    case.number,
                    escape(&truncate(&server, 100))
                )
            }
        };
        let post = Post {
            title: if accept {
                "Appeal accepted".into()
            } else {
                "Appeal denied".into()
            },
            description,
            colour: if accept { colour::GREEN } else { colour::GREY },
            ..Post::default()
        };
        if let Err(e) = self.executor.direct_message(appeal.user, &post).await {
            tracing::warn!(appeal = appeal.id, error = %e, "telling a member about their appeal");
        }
    }
}

fn no_appeals() -> String {
    "This server does not take appeals in Discord.".into()
}

fn already_open() -> String {
    "An appeal of this case is already waiting for the moderators.".into()
}

/// An appeal as the moderators see it, with Accept and Deny.
fn appeal_post(case: &Case, id: i64, text: &str) -> Post {
    let accept = AppealControl::Decide { id, accept: true };
    let deny = AppealControl::Decide { id, accept: false };
    Post {
        title: format!("Appeal of case #{} · {}", case.number, case.kind.as_str()),
        description: truncate(&escape(text), 4_000),
        fields: vec![
            (
                "Member".into(),
                format!("<@{}> ({})", case.target, case.target),
            ),
            ("Case reason".into(), truncate(&escape(&case.reason), 1_000)),
        ],
        colour: colour::BLUE,
        buttons: vec![
            (accept.custom_id(), "Accept".into()),
            (deny.custom_id(), "Deny".into()),
        ],
        ..Post::default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::time::Duration;
    use crate::engine::verdict::Action;
    use crate::moderation::{Recorder, Request, test_command};
    use crate::store::test_support::fresh;

    fn appeal_rules() -> crate::rules::LoadedRules {
        let source = "settings:\n  notify: {on: [warn, ban], appeals_channel: \"800\", \
                      appeal_cooldown: 1d}\n";
        crate::rules::parse(source, Path::new("t.yaml"), Path::new(".")).expect("rules")
    }

    async fn banned() -> (Moderator<Recorder>, tempfile::TempDir) {
        let (store, dir) = fresh().await;
        let m = Moderator::new(store, Recorder::default(), &appeal_rules());
        let ban = Action::Ban {
            duration: None,
            delete_messages: Duration::from_secs(0),
        };
        m.manual(&test_command(ban, "raiding"), Timestamp(0))
            .await
            .expect("banned");
        (m, dir)
    }

    /// Decides appeal 1 of `m`'s store.
    async fn decide(
        m: &Moderator<Recorder>,
        accept: bool,
        by: UserId,
        now: Timestamp,
    ) -> Result<String, ModerationError> {
        let found = m.appeal_with_case(1).await?.expect("appeal 1 and its case");
        m.decide_appeal(found, accept, by, now).await
    }

    #[test]
    fn custom_ids_read_back_and_garbage_is_none() {
        for control in [
            AppealControl::Start {
                guild: GuildId(1),
                number: 7,
            },
            AppealControl::Form {
                guild: GuildId(u64::MAX),
                number: 0,
            },
            AppealControl::Decide {
                id: 3,
                accept: true,
            },
            AppealControl::Decide {
                id: -1,
                accept: false,
            },
        ] {
            assert_eq!(AppealControl::parse(&control.custom_id()), Some(control));
        }
        for garbage in [
            "",
            "appeal",
            "appeal:1",
            "appeal:x:1",
            "appeal-accept:",
            "raid:1:2",
        ] {
            assert_eq!(AppealControl::parse(garbage), None, "{garbage}");
        }
    }

    #[tokio::test]
    async fn the_ban_dm_carries_the_appeal_button() {
        let (m, _dir) = banned().await;
        let (_, dm) = m
            .executor()
            .direct_messages()
            .into_iter()
            .next()
            .expect("a DM");
        assert_eq!(
            dm.buttons,
            [("appeal:1:1".to_string(), "Appeal".to_string())]
        );
    }

    #[tokio::test]
    async fn an_accepted_appeal_unbans_once() {
        let (m, _dir) = banned().await;
        let (g, member, moderator) = (GuildId(1), UserId(5), UserId(99));
        assert_eq!(
            m.may_appeal(g, 1, UserId(6), Timestamp(1)).await.unwrap(),
            AppealAnswer::No("This case cannot be appealed.".into()),
        );
        assert_eq!(
            m.may_appeal(g, 1, member, Timestamp(1)).await.unwrap(),
            AppealAnswer::Go
        );
        let sent = m
            .submit_appeal(g, 1, member, "I was hacked", Timestamp(2))
            .await
            .unwrap();
        assert_eq!(sent, AppealAnswer::Go);
        let again = m
            .submit_appeal(g, 1, member, "please", Timestamp(3))
            .await
            .unwrap();
        assert!(
            matches!(again, AppealAnswer::No(_)),
            "one open appeal per case"
        );
        let (_, posted) = m
            .executor()
            .channel_posts()
            .into_iter()
            .find(|(channel, _)| *channel == ChannelId(800))
            .expect("the appeal's post");
        assert_eq!(posted.description, "I was hacked");
        assert_eq!(posted.buttons[0].0, "appeal-accept:1");
        let said = decide(&m, true, moderator, Timestamp(4)).await.unwrap();
        assert!(said.starts_with("Appeal accepted"), "{said}");
        let twice = decide(&m, true, moderator, Timestamp(5)).await.unwrap();
        assert_eq!(twice, "This appeal was decided already.");
        let unbans = m
            .executor()
            .requests()
            .iter()
            .filter(|r| matches!(r, Request::Unban { .. }))
            .count();
        assert_eq!(unbans, 1);
    }

    #[tokio::test]
    async fn a_denied_appeal_waits_out_the_cooldown() {
        let (m, _dir) = banned().await;
        let (g, member) = (GuildId(1), UserId(5));
        m.submit_appeal(g, 1, member, "sorry", Timestamp(0))
            .await
            .unwrap();
        decide(&m, false, UserId(99), Timestamp(10)).await.unwrap();
        let soon = m.may_appeal(g, 1, member, Timestamp(20)).await.unwrap();
        assert!(
            matches!(soon, AppealAnswer::No(ref why) if why.contains("denied")),
            "{soon:?}"
        );
        let day = Duration::from_secs(86_400).as_millis() as i64;
        let later = m
            .may_appeal(g, 1, member, Timestamp(10 + day))
            .await
            .unwrap();
        assert_eq!(later, AppealAnswer::Go);
        assert!(
            !m.executor()
                .requests()
                .iter()
                .any(|r| matches!(r, Request::Unban { .. })),
            "a denial lifts nothing"
        );
    }

    #[tokio::test]
    async fn an_accepted_warning_appeal_pardons_the_warning() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &appeal_rules());
        let warn = Action::Warn {
            points: 2,
            expires: None,
        };
        m.manual(&test_command(warn, "rude"), Timestamp(0))
            .await
            .expect("warned");
        m.submit_appeal(GuildId(1), 1, UserId(5), "it was a joke", Timestamp(1))
            .await
            .unwrap();
        decide(&m, true, UserId(99), Timestamp(2)).await.unwrap();
        let warnings = store.warnings_for(GuildId(1), UserId(5)).await.unwrap();
        assert!(warnings[0].pardon.is_some());
    }
}
