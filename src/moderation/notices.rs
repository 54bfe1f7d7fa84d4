//! What members and moderators are told: the direct message that announces a sanction,
//! and each case's post in the server's case log (edited when its reason changes, answered
//! by a pardon or an unban). Neither ever holds up or undoes a sanction: a DM that cannot
//! be delivered is noted on the case, a post that fails is logged.

use super::{Delivery, Executor, ModerationError, Moderator, Post};
use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::rules::Notify;
use crate::store::cases::{Actor, Case, CaseKind};
use crate::text::colour::{BLUE, DARK_RED, GREEN, GREY, ORANGE, RED, YELLOW};
use crate::text::{escape, truncate};

/// Where a case's evidence was posted: (channel, message).
pub(super) type Jump = Option<(ChannelId, MessageId)>;

impl<E: Executor> Moderator<E> {
    /// Tells the member about `case` by DM when the server's settings ask for it, and
    /// notes on the case how that went.
    pub(super) async fn tell_member(&self, case: &Case) -> Result<(), ModerationError> {
        let settings = self.in_force(case.guild);
        let Some(notify) = settings.notify.as_ref().filter(|n| announces(n, case.kind)) else {
            return Ok(());
        };
        let server = self
            .executor
            .guild_name(case.guild)
            .unwrap_or_else(|| format!("server {}", case.guild));
        let notice = member_notice(case, &server, notify);
        let note = match self.executor.direct_message(case.target, &notice).await {
            Ok(Delivery::Sent) => "sent".to_string(),
            Ok(Delivery::Closed(why)) => format!("not delivered: {why}"),
            Err(e) => format!("failed: {e}"),
        };
        self.store.set_case_dm(case.id, &note).await?;
        Ok(())
    }

    /// Posts case `number` of `guild` in the server's case log, as it now stands, and keeps
    /// where. An unban answers the member's last posted ban.
    pub(super) async fn post_case(
        &self,
        guild: GuildId,
        number: u64,
        jump: Jump,
    ) -> Result<(), ModerationError> {
        let Some(channel) = self.case_log(guild) else {
            return Ok(());
        };
        let Some(case) = self.store.case(guild, number).await? else {
            return Ok(());
        };
        let mut post = case_post(&case, jump);
        if case.kind == CaseKind::Unban {
            post.reply_to = self.last_post(guild, case.target, CaseKind::Ban).await?;
        }
        match self.executor.post(guild, channel, &post).await {
            Ok(message) => {
                self.store
                    .set_case_post(case.id, channel.0, message.0)
                    .await?
            }
            Err(e) => tracing::warn!(%guild, case = number, error = %e, "posting a case"),
        }
        Ok(())
    }

    /// Rewrites the post of `case` after its reason changed.
    pub(super) async fn repost_case(&self, case: &Case) {
        let Some((channel, message)) = case.post else {
            return;
        };
        let post = case_post(case, None);
        let (channel, message) = (ChannelId(channel), MessageId(message));
        if let Err(e) = self
            .executor
            .edit_post(case.guild, channel, message, &post)
            .await
        {
            tracing::warn!(guild = %case.guild, case = case.number, error = %e, "editing a case's post");
        }
    }

    /// Answers the post of `case` with `post` (a pardon of its warning).
    pub(super) async fn answer_case(&self, case: &Case, mut post: Post) {
        let Some((channel, message)) = case.post else {
            return;
        };
        post.reply_to = Some(MessageId(message));
        if let Err(e) = self
            .executor
            .post(case.guild, ChannelId(channel), &post)
            .await
        {
            tracing::warn!(guild = %case.guild, case = case.number, error = %e, "answering a case's post");
        }
    }

    /// The channel cases are posted in: `logs.cases`, else the mod-log channel.
    fn case_log(&self, guild: GuildId) -> Option<ChannelId> {
        let settings = self.in_force(guild);
        settings
            .logs
            .cases
            .or(settings.mod_log_channel)
            .map(ChannelId)
    }

    /// The post of `user`'s latest case of `kind` that has one.
    async fn last_post(
        &self,
        guild: GuildId,
        user: UserId,
        kind: CaseKind,
    ) -> Result<Option<MessageId>, ModerationError> {
        let cases = self.store.cases_for(guild, user).await?;
        Ok(cases
            .iter()
            .rev()
            .filter(|c| c.kind == kind)
            .find_map(|c| c.post)
            .map(|(_, message)| MessageId(message)))
    }
}

/// Whether `notify` asks for a DM about cases of `kind`.
fn announces(notify: &Notify, kind: CaseKind) -> bool {
    match kind {
        CaseKind::Warn => notify.warn,
        CaseKind::Timeout => notify.timeout,
        CaseKind::Kick => notify.kick,
        CaseKind::Ban | CaseKind::Softban => notify.ban,
        _ => false,
    }
}

/// Whether a DM about `kind` must go before the sanction: after a kick or a ban the member
/// may share no server with steward, and Discord refuses the DM.
pub(super) fn told_before(kind: CaseKind) -> bool {
    matches!(kind, CaseKind::Kick | CaseKind::Ban | CaseKind::Softban)
}

/// The DM that tells a member about their case.
pub(super) fn member_notice(case: &Case, server: &str, notify: &Notify) -> Post {
    let what = match case.kind {
        CaseKind::Warn => "warned",
        CaseKind::Timeout => "timed out",
        CaseKind::Kick => "kicked",
        CaseKind::Ban | CaseKind::Softban => "banned",
        _ => "sanctioned",
    };
    let mut fields = vec![
        ("Reason".to_string(), truncate(&escape(&case.reason), 1000)),
        ("Case".to_string(), format!("#{}", case.number)),
    ];
    if let Some(end) = case.expires_at {
        fields.push((
            "Until".to_string(),
            format!("<t:{}:f>", end.0.div_euclid(1000)),
        ));
    }
    if let Some(appeal) = &notify.appeal {
        fields.push(("Appeal".to_string(), truncate(appeal, 1000)));
    }
    Post {
        title: format!("You were {what}"),
        description: format!("You were {what} in **{}**.", escape(&truncate(server, 100))),
        fields,
        colour: colour(case.kind),
        buttons: super::appeals::appeal_button(case, notify)
            .into_iter()
            .collect(),
        ..Post::default()
    }
}

/// A case as the case log shows it: who, by whom, why, until when, on what evidence.
pub(super) fn case_post(case: &Case, jump: Jump) -> Post {
    let by = match &case.actor {
        Actor::User(id) => format!("<@{id}>"),
        Actor::Steward { rule } => format!("steward, rule `{}`", escape(rule)),
    };
    let mut fields = vec![
        (
            "Member".to_string(),
            format!("<@{}> ({})", case.target, case.target),
        ),
        ("By".to_string(), by),
        ("Reason".to_string(), truncate(&escape(&case.reason), 1000)),
    ];
    if let Some(end) = case.expires_at {
        let at = end.0.div_euclid(1000);
        fields.push(("Ends".to_string(), format!("<t:{at}:f> (<t:{at}:R>)")));
    }
    if let Some(evidence) = case.evidence.original.as_deref().filter(|e| !e.is_empty()) {
        fields.push(("Evidence".to_string(), truncate(&escape(evidence), 500)));
    }
    if let Some((channel, message)) = jump {
        fields.push((
            "Message".to_string(),
            format!(
                "https://discord.com/channels/{}/{channel}/{message}",
                case.guild
            ),
        ));
    }
    if let Some(dm) = &case.dm {
        fields.push(("DM".to_string(), truncate(dm, 300)));
    }
    if let Some(outcome) = &case.outcome {
        fields.push(("Not applied".to_string(), truncate(outcome, 500)));
    }
    Post {
        title: format!("Case #{} · {}", case.number, case.kind.as_str()),
        description: String::new(),
        fields,
        colour: colour(case.kind),
        ..Post::default()
    }
}

/// The post that answers a warning's case when the warning is pardoned.
pub(super) fn pardon_post(case: &Case, moderator: UserId, reason: &str) -> Post {
    Post {
        title: format!("Case #{} · warning pardoned", case.number),
        description: format!(
            "Pardoned by <@{moderator}>: {}",
            truncate(&escape(reason), 1000)
        ),
        colour: GREEN,
        ..Post::default()
    }
}

fn colour(kind: CaseKind) -> u32 {
    match kind {
        CaseKind::Warn => YELLOW,
        CaseKind::Timeout => ORANGE,
        CaseKind::Kick => RED,
        CaseKind::Ban | CaseKind::Softban | CaseKind::Raid => DARK_RED,
        CaseKind::Unban => GREEN,
        CaseKind::Note => GREY,
        CaseKind::Delete | CaseKind::Lockdown => BLUE,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::time::{Duration, Timestamp};
    use crate::engine::verdict::{Action, Mode};
    use crate::moderation::test_support::{message, verdict};
    use crate::moderation::{Command, ExecOutcome, Posted, Recorder, Request, test_command};
    use crate::store::test_support::fresh;

    /// Cases go to channel 600, bans and warnings are announced with an appeal link.
    fn noticing_rules() -> crate::rules::LoadedRules {
        let source = "settings:\n  mod_log_channel: \"500\"\n  logs: {cases: \"600\"}\n  \
                      notify: {on: [warn, ban], appeal: \"https://example.org/appeal\"}\n";
        crate::rules::parse(source, Path::new("t.yaml"), Path::new(".")).expect("rules")
    }

    fn ban() -> Action {
        Action::Ban {
            duration: Some(Duration::from_secs(86_400)),
            delete_messages: Duration::from_secs(0),
        }
    }

    fn field<'a>(post: &'a Post, name: &str) -> &'a str {
        post.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn a_ban_is_announced_by_dm_noted_on_its_case_and_posted() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &noticing_rules());
        let performed = m
            .manual(&test_command(ban(), "raiding *again*"), Timestamp(0))
            .await
            .expect("performed");
        assert_eq!(performed.outcome, Ok(ExecOutcome::Done));
        let sent = m.executor().direct_messages();
        assert_eq!(sent.len(), 1);
        let (user, notice) = &sent[0];
        assert_eq!(*user, UserId(5));
        assert_eq!(notice.title, "You were banned");
        assert!(notice.description.contains("server 1"), "{notice:?}");
        assert_eq!(field(notice, "Reason"), "raiding \\*again\\*");
        assert_eq!(field(notice, "Case"), "#1");
        assert_eq!(field(notice, "Appeal"), "https://example.org/appeal");
        assert!(field(notice, "Until").starts_with("<t:86400:"));
        assert!(matches!(m.executor().requests()[..], [Request::Ban { .. }]));
        let case = store.case(GuildId(1), 1).await.unwrap().expect("case");
        assert_eq!(case.dm.as_deref(), Some("sent"));
        let posted = m.executor().channel_posts();
        assert_eq!(posted.len(), 1);
        let (channel, post) = &posted[0];
        assert_eq!(*channel, ChannelId(600));
        assert_eq!(post.title, "Case #1 · ban");
        assert_eq!(field(post, "Member"), "<@5> (5)");
        assert_eq!(field(post, "By"), "<@99>");
        assert_eq!(field(post, "DM"), "sent");
        assert_eq!(
            case.post,
            Some((600, 2)),
            "the post's id is kept on the case"
        );
    }

    #[tokio::test]
    async fn closed_dms_are_noted_and_the_ban_still_happens() {
        let (store, _dir) = fresh().await;
        let recorder = Recorder::default().with_closed_dms(vec![UserId(5)]);
        let m = Moderator::new(store.clone(), recorder, &noticing_rules());
        let performed = m
            .manual(&test_command(ban(), "raiding"), Timestamp(0))
            .await
            .expect("performed");
        assert_eq!(performed.outcome, Ok(ExecOutcome::Done));
        assert!(m.executor().direct_messages().is_empty());
        assert!(matches!(m.executor().requests()[..], [Request::Ban { .. }]));
        let case = store.case(GuildId(1), 1).await.unwrap().expect("case");
        let note = case.dm.expect("a note");
        assert!(
            note.starts_with("not delivered") && note.contains("50007"),
            "{note}"
        );
    }

    #[tokio::test]
    async fn a_member_steward_may_not_ban_is_not_told_of_a_ban() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(
            store.clone(),
            Recorder::refusing(vec![UserId(5)]),
            &noticing_rules(),
        );
        m.manual(&test_command(ban(), "raiding"), Timestamp(0))
            .await
            .expect("performed");
        assert!(m.executor().direct_messages().is_empty());
        let case = store.case(GuildId(1), 1).await.unwrap().expect("case");
        assert_eq!(case.dm, None);
        let posted = m.executor().channel_posts();
        assert!(field(&posted[0].1, "Not applied").starts_with("refused"));
    }

    #[tokio::test]
    async fn sanctions_the_server_does_not_announce_send_no_dm() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store, Recorder::default(), &noticing_rules());
        let timeout = Action::Timeout {
            duration: Duration::from_secs(600),
        };
        m.manual(&test_command(timeout, "cool off"), Timestamp(0))
            .await
            .expect("performed");
        assert!(
            m.executor().direct_messages().is_empty(),
            "timeouts are not in notify.on"
        );
        assert_eq!(
            m.executor().channel_posts().len(),
            1,
            "the case is posted all the same"
        );
    }

    #[tokio::test]
    async fn a_rules_case_links_its_message_and_a_reason_edit_edits_the_post() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &noticing_rules());
        let warn = Action::Warn {
            points: 1,
            expires: None,
        };
        let event = message(7, 1_000);
        m.apply(
            &event,
            &verdict("slurs", Mode::Enforce, vec![warn]),
            Timestamp(1_000),
        )
        .await
        .expect("applied");
        let posted = m.executor().channel_posts();
        let post = &posted[0].1;
        assert_eq!(field(post, "By"), "steward, rule `slurs`");
        assert_eq!(field(post, "Evidence"), "n1gg3r");
        assert_eq!(
            field(post, "Message"),
            "https://discord.com/channels/1/10/900"
        );
        m.edit_reason(
            GuildId(1),
            UserId(99),
            1,
            "slur, first time",
            Timestamp(2_000),
        )
        .await
        .expect("edited");
        let edits: Vec<_> = m
            .executor()
            .posts()
            .into_iter()
            .filter_map(|p| match p {
                Posted::Edit(channel, message, post) => Some((channel, message, post)),
                _ => None,
            })
            .collect();
        assert_eq!(edits.len(), 1);
        let (channel, message, post) = &edits[0];
        let case = store.case(GuildId(1), 1).await.unwrap().expect("case");
        assert_eq!(Some((channel.0, message.0)), case.post);
        assert_eq!(field(post, "Reason"), "slur, first time");
    }

    #[tokio::test]
    async fn a_pardon_and_an_unban_answer_the_posts_of_their_cases() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &noticing_rules());
        let warn = Action::Warn {
            points: 1,
            expires: None,
        };
        m.manual(&test_command(warn, "rude"), Timestamp(0))
            .await
            .expect("warned");
        let warning = store.warnings_for(GuildId(1), UserId(5)).await.unwrap()[0].id;
        m.pardon(GuildId(1), UserId(99), warning, "apologised", Timestamp(1))
            .await
            .expect("pardoned");
        let warn_case = store.case(GuildId(1), 1).await.unwrap().expect("case");
        let posted = m.executor().channel_posts();
        let pardon = &posted.last().expect("a pardon post").1;
        assert_eq!(pardon.reply_to, warn_case.post.map(|(_, m)| MessageId(m)));
        assert!(pardon.description.contains("apologised"));

        m.manual(&test_command(ban(), "raiding"), Timestamp(2))
            .await
            .expect("banned");
        let command = Command {
            guild: GuildId(1),
            moderator: UserId(99),
            target: UserId(5),
            reason: "served".into(),
        };
        m.unban(&command, Timestamp(3)).await.expect("unbanned");
        let ban_case = store.case(GuildId(1), 2).await.unwrap().expect("case");
        let posted = m.executor().channel_posts();
        let unban = &posted.last().expect("the unban's post").1;
        assert_eq!(unban.title, "Case #3 · unban");
        assert_eq!(unban.reply_to, ban_case.post.map(|(_, m)| MessageId(m)));
    }
}
