//! The posts of the message and member logs. Member-written text is escaped so it shows as
//! written, and everything is cut to Discord's limits; posts are embeds, which ping nobody.

use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::moderation::Post;
use crate::text::colour::{BLUE, GREEN, GREY, ORANGE, RED};
use crate::text::{escape, truncate};

use super::KeptMessage;

/// Longest description Discord shows in an embed.
const DESCRIPTION: usize = 4_000;

/// A deleted message, as kept, or a note that steward had not kept it.
pub fn deleted(id: MessageId, channel: ChannelId, kept: Option<&KeptMessage>) -> Post {
    let Some(message) = kept else {
        return Post {
            title: "Message deleted".into(),
            description: "*Its content was not kept: it was sent before steward kept this \
                          channel's messages, or longer ago than the server keeps them.*"
                .into(),
            fields: vec![
                ("Channel".into(), format!("<#{channel}>")),
                ("Message".into(), id.to_string()),
            ],
            colour: GREY,
            ..Post::default()
        };
    };
    let mut fields = vec![
        (
            "Author".into(),
            format!("<@{}> ({})", message.author, message.author),
        ),
        ("Channel".into(), format!("<#{}>", message.channel)),
        ("Sent".into(), when(message.sent_at)),
    ];
    if !message.attachments.is_empty() {
        fields.push(("Attachments".into(), attachment_list(message)));
    }
    if let Some(rule) = &message.removed_by {
        fields.push((
            "Deleted by".into(),
            format!("steward, rule `{}`", escape(rule)),
        ));
    }
    Post {
        title: "Message deleted".into(),
        description: shown(&message.content, DESCRIPTION),
        fields,
        colour: RED,
        ..Post::default()
    }
}

/// Messages deleted at once: one post that lists them, oldest first, cut with a marker
/// when they do not fit.
pub fn bulk_deleted(channel: ChannelId, messages: &[(MessageId, Option<KeptMessage>)]) -> Post {
    let mut lines: Vec<(Timestamp, String)> = messages
        .iter()
        .map(|(id, kept)| match kept {
            Some(m) => (
                m.sent_at,
                format!(
                    "{} <@{}>: {}",
                    when(m.sent_at),
                    m.author,
                    shown(&m.content, 300)
                ),
            ),
            None => (Timestamp(i64::MAX), format!("{id}: *not kept*")),
        })
        .collect();
    lines.sort_by_key(|(at, _)| *at);
    let rules: Vec<&str> = messages
        .iter()
        .filter_map(|(_, kept)| kept.as_ref()?.removed_by.as_deref())
        .collect();
    let mut fields = vec![("Channel".into(), format!("<#{channel}>"))];
    if let Some(rule) = rules.first() {
        fields.push((
            "Deleted by".into(),
            format!("steward, rule `{}`", escape(rule)),
        ));
    }
    let text: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
    Post {
        title: format!("{} messages deleted in bulk", messages.len()),
        description: truncate(&text.join("\n"), DESCRIPTION),
        fields,
        colour: RED,
        ..Post::default()
    }
}

/// An edited message: before and after, with a link to it.
pub fn edited(guild: GuildId, id: MessageId, before: &KeptMessage, after: &str) -> Post {
    Post {
        title: "Message edited".into(),
        description: String::new(),
        fields: vec![
            ("Before".into(), shown(&before.content, 1_000)),
            ("After".into(), shown(after, 1_000)),
            (
                "Author".into(),
                format!("<@{}> ({})", before.author, before.author),
            ),
            ("Channel".into(), format!("<#{}>", before.channel)),
            (
                "Message".into(),
                format!(
                    "https://discord.com/channels/{guild}/{}/{id}",
                    before.channel
                ),
            ),
        ],
        colour: BLUE,
        ..Post::default()
    }
}

/// A member who joined, with the age of their account.
pub fn joined(user: UserId, name: &str, created: Timestamp, now: Timestamp, new: Duration) -> Post {
    let age = now.since(created);
    let mut fields = vec![
        ("Member".into(), format!("<@{user}> ({user})")),
        (
            "Account created".into(),
            format!("{} ({})", when(created), age_in_words(age)),
        ),
    ];
    let fresh = age < new;
    if fresh {
        fields.push((
            "New account".into(),
            format!("younger than {}", age_in_words(new)),
        ));
    }
    Post {
        title: format!(
            "{}Member joined: {}",
            if fresh { "⚠ " } else { "" },
            shown(name, 100)
        ),
        description: String::new(),
        fields,
        colour: if fresh { ORANGE } else { GREEN },
        ..Post::default()
    }
}

/// A member who left, with the roles they held when steward last saw them.
pub fn left(user: UserId, name: &str, roles: Option<&[u64]>) -> Post {
    let held = match roles {
        Some([]) => "none".to_string(),
        Some(roles) => truncate(
            &roles
                .iter()
                .map(|r| format!("<@&{r}>"))
                .collect::<Vec<_>>()
                .join(" "),
            1_000,
        ),
        None => "not known".to_string(),
    };
    Post {
        title: format!("Member left: {}", shown(name, 100)),
        description: String::new(),
        fields: vec![
            ("Member".into(), format!("<@{user}> ({user})")),
            ("Roles".into(), held),
        ],
        colour: GREY,
        ..Post::default()
    }
}

/// A change of a member's username, display name or nickname in the server.
pub fn renamed(user: UserId, what: &str, before: Option<&str>, after: Option<&str>) -> Post {
    let name = |n: Option<&str>| n.map_or_else(|| "*none*".to_string(), |n| shown(n, 100));
    Post {
        title: format!("{what} changed"),
        description: String::new(),
        fields: vec![
            ("Member".into(), format!("<@{user}> ({user})")),
            ("Before".into(), name(before)),
            ("After".into(), name(after)),
        ],
        colour: BLUE,
        ..Post::default()
    }
}

/// Member-written `text` as it was typed, cut to `max` characters.
fn shown(text: &str, max: usize) -> String {
    if text.is_empty() {
        return "*no text*".into();
    }
    truncate(&escape(text), max)
}

fn attachment_list(message: &KeptMessage) -> String {
    let names: Vec<String> = message.attachments.iter().map(|n| escape(n)).collect();
    truncate(&names.join(", "), 1_000)
}

/// A time as Discord shows it in each reader's zone.
fn when(at: Timestamp) -> String {
    format!("<t:{}:f>", at.0.div_euclid(1000))
}

/// "3 days", "5 hours", "12 minutes".
fn age_in_words(age: Duration) -> String {
    let secs = age.as_secs();
    let (n, unit) = match secs {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 2 * 3_600 => (s / 3_600, "hours"),
        s => (s / 60, "minutes"),
    };
    format!("{n} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(content: &str, at: i64) -> KeptMessage {
        KeptMessage::new(
            ChannelId(10),
            UserId(5),
            content,
            &["cat.png"],
            Timestamp(at),
        )
    }

    fn field<'a>(post: &'a Post, name: &str) -> &'a str {
        post.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    #[test]
    fn a_deleted_message_shows_as_written_with_its_author_and_rule() {
        let mut message = kept("**look** @everyone", 1_000_000);
        message.removed_by = Some("slurs".into());
        let post = deleted(MessageId(9), ChannelId(10), Some(&message));
        assert_eq!(post.description, "\\*\\*look\\*\\* @everyone");
        assert_eq!(field(&post, "Author"), "<@5> (5)");
        assert_eq!(field(&post, "Sent"), "<t:1000:f>");
        assert_eq!(field(&post, "Attachments"), "cat.png");
        assert_eq!(field(&post, "Deleted by"), "steward, rule `slurs`");
    }

    #[test]
    fn a_message_not_kept_says_so() {
        let post = deleted(MessageId(9), ChannelId(10), None);
        assert!(post.description.contains("not kept"));
        assert_eq!(field(&post, "Message"), "9");
    }

    #[test]
    fn a_bulk_delete_lists_every_message_oldest_first_within_the_limit() {
        let messages: Vec<_> = (0..200)
            .rev()
            .map(|i| {
                (
                    MessageId(i),
                    Some(kept(&"spam ".repeat(60), i as i64 * 1000)),
                )
            })
            .chain([(MessageId(999), None)])
            .collect();
        let post = bulk_deleted(ChannelId(10), &messages);
        assert_eq!(post.title, "201 messages deleted in bulk");
        assert!(post.description.chars().count() <= DESCRIPTION);
        assert!(post.description.ends_with('…'));
        assert!(
            post.description.starts_with("<t:0:f>"),
            "{}",
            &post.description[..40]
        );
    }

    #[test]
    fn an_edit_shows_before_and_after() {
        let post = edited(GuildId(1), MessageId(9), &kept("helo", 0), "hello");
        assert_eq!(field(&post, "Before"), "helo");
        assert_eq!(field(&post, "After"), "hello");
        assert_eq!(
            field(&post, "Message"),
            "https://discord.com/channels/1/10/9"
        );
    }

    #[test]
    fn a_young_account_is_marked_new() {
        let week = Duration::from_secs(7 * 86_400);
        let now = Timestamp(30 * 86_400_000);
        let young = joined(
            UserId(5),
            "newbie",
            Timestamp(now.0 - 3_600_000 * 5),
            now,
            week,
        );
        assert!(young.title.starts_with("⚠"), "{}", young.title);
        assert_eq!(field(&young, "New account"), "younger than 7 days");
        assert!(field(&young, "Account created").ends_with("(5 hours)"));
        let old = joined(UserId(5), "regular", Timestamp(0), now, week);
        assert_eq!(field(&old, "New account"), "");
        assert!(field(&old, "Account created").ends_with("(30 days)"));
    }

    #[test]
    fn a_leave_lists_the_roles_held() {
        let post = left(UserId(5), "gone", Some(&[11, 12]));
        assert_eq!(field(&post, "Roles"), "<@&11> <@&12>");
        assert_eq!(field(&left(UserId(5), "gone", None), "Roles"), "not known");
    }
}
