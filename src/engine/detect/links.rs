//! Links in messages: extraction, Discord invites, and domain allow/deny lists.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashSet;

/// A link found in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Lowercase host name without `www.`, in its ASCII form (`xn--dscord-6ve.gift`), as
    /// DNS and domain lists spell it.
    pub host: String,
    /// The host as a browser shows it (`dіscord.gift`), when that differs from `host`.
    pub unicode_host: Option<String>,
    /// The host with look-alike letters read as the letters they imitate
    /// (`dіscord.gift` → `discord.gift`), when that differs from the shown host.
    pub look_alike: Option<String>,
    /// Byte range of the whole link in the original text.
    pub span: (usize, usize),
    /// Lowercase path after the host (`/login`), empty when there is none.
    pub path: String,
    /// For a masked markdown link `[text](url)`: the text shown to readers.
    pub shown: Option<String>,
    /// For a Discord invite: the invite code.
    pub invite: Option<String>,
}

/// Public suffixes that are also common file extensions: a bare `main.rs` or `notes.zip`
/// is a file name; written with a scheme, `www.` or a path, it is a link all the same.
const FILE_EXTENSIONS: &[&str] = &["rs", "py", "sh", "md", "pl", "cc", "zip", "mov", "ai", "ps"];

/// Links in ASCII text, and in text of any script: host names may hold letters of any
/// script (`dіscord.gift`).
static LINK: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    [r"[a-z0-9]", r"[\p{L}\p{N}]"].map(|letter| {
        let pattern = format!(
            r"(?i)(?:(?-u:\b)https?://|(?-u:\b)www\.)?(?:{letter}(?:(?:{letter}|-){{0,61}}{letter})?\.)+(?:xn--[a-z0-9-]{{1,59}}|[a-z]{{2,24}})(?-u:\b)(?:/[^\s<>()\[\]]*)?"
        );
        Regex::new(&pattern).expect("link pattern is valid")
    })
});

static MASKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[(?P<text>[^\]\n]{1,256})\]\(\s*<?(?P<url>https?://[^\s)>]+)>?\s*\)")
        .expect("masked link pattern is valid")
});

static INVITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:discord(?:app)?\.com/invite|discord\.gg|discord\.me|dsc\.gg)/(?P<code>[a-z0-9-]{2,32})")
        .expect("invite pattern is valid")
});

/// Finds every link in `text`, with masked-link text and invite codes filled in.
pub fn extract(text: &str) -> Vec<Link> {
    let mut links = Vec::new();
    if !may_hold_link(text) {
        return links;
    }
    let masked: Vec<(usize, usize, &str, (usize, usize))> = if text.contains("](") {
        MASKED
            .captures_iter(text)
            .filter_map(|c| {
                let (shown, url) = (c.name("text")?, c.name("url")?);
                Some((
                    shown.start(),
                    shown.end(),
                    shown.as_str(),
                    (url.start(), url.end()),
                ))
            })
            .collect()
    } else {
        Vec::new()
    };
    for (start, end) in link_matches(text) {
        let whole = &text[start..end];
        if masked.iter().any(|&(s, e, _, _)| start >= s && start < e) {
            continue; // the text of a masked link, read with the link below
        }
        let parts = LinkParts::of(whole);
        if text[..start].ends_with('@') {
            continue; // an e-mail address
        }
        let Some(names) = HostNames::of(parts.host) else {
            continue;
        };
        if !parts.explicit && !names.bare_link() {
            continue;
        }
        let rest = whole[parts.host_start..].to_ascii_lowercase();
        let invite = if rest.starts_with("discord") || rest.starts_with("dsc.gg") {
            INVITE
                .captures(&rest)
                .and_then(|c| c.name("code").map(|m| m.as_str().to_string()))
        } else {
            None
        };
        let span = (start, end);
        let shown = masked
            .iter()
            .find(|(_, _, _, url)| span.0 >= url.0 && span.0 < url.1)
            .map(|(_, _, shown, _)| shown.to_string());
        links.push(Link {
            host: names.ascii,
            unicode_host: names.unicode,
            look_alike: names.look_alike,
            span,
            path: whole[parts.host_start + parts.host.len()..].to_ascii_lowercase(),
            shown,
            invite,
        });
    }
    links
}

/// Whether `text` has a dot between a letter or digit (of any script) and an ASCII letter:
/// every link does, most chat does not, and finding dots (a vectorized byte search) is far
/// cheaper than the link pattern.
fn may_hold_link(text: &str) -> bool {
    text.match_indices('.').any(|(dot, _)| {
        let (before, after) = around(text.as_bytes(), dot);
        before.is_some_and(|b| b.is_ascii_alphanumeric() || !b.is_ascii())
            && after.is_some_and(u8::is_ascii_alphabetic)
    })
}

/// The bytes before and after position `at`.
fn around(bytes: &[u8], at: usize) -> (Option<&u8>, Option<&u8>) {
    (
        at.checked_sub(1).and_then(|b| bytes.get(b)),
        bytes.get(at + 1),
    )
}

/// Byte ranges of the link pattern's matches in `text`, read only from [`link_runs`].
fn link_matches(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    link_runs(text).flat_map(|run| {
        let offset = run.start;
        let run = &text[run];
        LINK[usize::from(!run.is_ascii())]
            .find_iter(run)
            .map(move |m| (offset + m.start(), offset + m.end()))
    })
}

/// The runs of text between whitespace that may hold a link: those with a dot between two
/// characters a host name can have (the link pattern ignores case, so besides ASCII
/// letters and digits that includes a few others, such as the Kelvin sign). A link never
/// spans whitespace, and the pattern's word boundaries read whitespace and the ends of a
/// run alike, so the pattern finds the same links in these runs as in the whole text,
/// without reading the rest of it.
fn link_runs(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let host_char = |b: Option<&u8>, digit: bool| {
        b.is_some_and(|&b| {
            !b.is_ascii() || b.is_ascii_alphabetic() || (digit && b.is_ascii_digit())
        })
    };
    let mut searched_to = 0;
    text.match_indices('.').filter_map(move |(dot, _)| {
        let (before, after) = around(text.as_bytes(), dot);
        if dot < searched_to || !host_char(before, true) || !host_char(after, false) {
            return None;
        }
        let start = text[..dot]
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = text[dot..]
            .find(char::is_whitespace)
            .map_or(text.len(), |i| dot + i);
        searched_to = end;
        Some(start..end)
    })
}

impl Link {
    /// The host as shown and, when it differs, as DNS spells it: `dіscord.gift
    /// (xn--dscord-6ve.gift)`.
    pub fn names(&self) -> String {
        match &self.unicode_host {
            Some(shown) => format!("{shown} ({})", self.host),
            None => self.host.clone(),
        }
    }
}

/// The names of one host.
struct HostNames {
    ascii: String,
    unicode: Option<String>,
    look_alike: Option<String>,
}

impl HostNames {
    /// The names of `host` as written, without `www.`; `None` when it is no valid name.
    fn of(host: &str) -> Option<Self> {
        let without_www = |name: String| match name.strip_prefix("www.") {
            Some(rest) => rest.to_string(),
            None => name,
        };
        if host.is_ascii() && !host.contains("xn--") {
            // Most hosts: nothing to convert.
            return Some(HostNames {
                ascii: without_www(host.to_ascii_lowercase()),
                unicode: None,
                look_alike: None,
            });
        }
        let ascii = without_www(idna::domain_to_ascii(host).ok()?);
        let (unicode, _) = idna::domain_to_unicode(&ascii);
        let shown = if unicode == ascii { &ascii } else { &unicode };
        let read = crate::engine::normalize::normalize(shown);
        let look_alike = (read != *shown && read.is_ascii()).then_some(read);
        Some(HostNames {
            unicode: (unicode != ascii).then_some(unicode),
            ascii,
            look_alike,
        })
    }

    /// Whether a bare `name.tld`, written without a scheme, `www.` or a path, is a link:
    /// its suffix is on the public suffix list and is no common file extension.
    fn bare_link(&self) -> bool {
        let Some(suffix) = psl::suffix(self.ascii.as_bytes()) else {
            return false;
        };
        let tld = self.ascii.rsplit('.').next().unwrap_or_default();
        suffix.is_known()
            && self.ascii.len() > suffix.as_bytes().len()
            && !FILE_EXTENSIONS.contains(&tld)
    }
}

/// The pieces of one link match.
struct LinkParts<'a> {
    /// Written with a scheme, `www.` or a path, so any TLD counts.
    explicit: bool,
    host: &'a str,
    /// Where the host starts in the match.
    host_start: usize,
}

impl<'a> LinkParts<'a> {
    fn of(link: &'a str) -> Self {
        let lower_prefix = |p: &str| {
            link.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        };
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|p| lower_prefix(p));
        let mut host_start = scheme.map_or(0, str::len);
        let mut www = false;
        if scheme.is_none() && lower_prefix("www.") && link[4..].contains('.') {
            host_start = 4;
            www = true;
        }
        let host_end = link[host_start..]
            .find('/')
            .map_or(link.len(), |i| host_start + i);
        LinkParts {
            explicit: scheme.is_some() || www || host_end < link.len(),
            host: &link[host_start..host_end],
            host_start,
        }
    }
}

/// Hosts named in a list, matched with their subdomains (`evil.com` covers `a.evil.com`).
#[derive(Clone, Debug, Default)]
pub struct DomainSet {
    domains: FxHashSet<Box<str>>,
}

impl DomainSet {
    /// Builds a set from host names; blank entries, `www.` and schemes are ignored.
    pub fn new<'a>(domains: impl IntoIterator<Item = &'a str>) -> Self {
        let domains = domains
            .into_iter()
            .map(clean_domain)
            .filter(|d| !d.is_empty())
            .map(String::into_boxed_str)
            .collect();
        DomainSet { domains }
    }

    /// Whether `host` or one of its parent domains is in the set.
    pub fn contains(&self, host: &str) -> bool {
        if self.domains.is_empty() {
            return false;
        }
        let mut rest = host;
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    }

    /// How many domains the set holds.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }
}

fn clean_domain(raw: &str) -> String {
    let d = raw.trim().to_ascii_lowercase();
    let d = d
        .strip_prefix("https://")
        .or_else(|| d.strip_prefix("http://"))
        .unwrap_or(&d);
    let d = d.strip_prefix("www.").unwrap_or(d);
    d.split('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string()
}

/// What a links rule blocks.
#[derive(Clone, Debug, Default)]
pub struct LinksConfig {
    /// Block Discord invites other than `allowed_invites`.
    pub block_invites: bool,
    pub allowed_invites: FxHashSet<String>,
    /// Hosts that are always blocked.
    pub deny: DomainSet,
    /// Hosts that are always fine; with `allow_only`, the only ones that are.
    pub allow: DomainSet,
    pub allow_only: bool,
}

/// The first link `config` blocks, with the reason.
pub fn check<'a>(config: &LinksConfig, links: &'a [Link]) -> Option<(&'a Link, String)> {
    for link in links {
        if let Some(code) = &link.invite {
            if config.block_invites && !config.allowed_invites.contains(code) {
                return Some((link, format!("Discord invite `{code}`")));
            }
            continue;
        }
        if config.allow.contains(&link.host) {
            continue;
        }
        if config.deny.contains(&link.host) {
            return Some((link, format!("blocked domain {}", link.host)));
        }
        if config.allow_only {
            return Some((
                link,
                format!("domain {} is not on the allow list", link.host),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<String> {
        extract(text).into_iter().map(|l| l.host).collect()
    }

    #[test]
    fn finds_links_with_and_without_scheme() {
        assert_eq!(
            hosts("see https://www.Example.com/x?y=1 now"),
            vec!["example.com"]
        );
        assert_eq!(
            hosts("steamcommunrtly.com/new"),
            vec!["steamcommunrtly.com"]
        );
        assert_eq!(
            hosts("visit dlscord.gifte.com/gift/abc"),
            vec!["dlscord.gifte.com"]
        );
        assert_eq!(
            hosts("e.g. this is fine. Mr.Smith said"),
            Vec::<String>::new()
        );
        assert_eq!(hosts("mail me at bob@example.com"), Vec::<String>::new());
    }

    #[test]
    fn any_public_suffix_makes_a_bare_link_but_file_names_do_not() {
        for (text, host) in [
            ("see example.photography now", "example.photography"),
            ("go to shop.co.uk", "shop.co.uk"),
            ("bücher.de has it", "xn--bcher-kva.de"),
        ] {
            assert_eq!(hosts(text), vec![host.to_string()], "{text}");
        }
        for text in [
            "edit main.rs and run setup.sh",
            "unzip notes.zip",
            "e.g. fine",
            "a.b",
        ] {
            assert_eq!(hosts(text), Vec::<String>::new(), "{text}");
        }
        assert_eq!(hosts("https://notes.zip/x"), vec!["notes.zip".to_string()]);
    }

    #[test]
    fn reads_invites_and_masked_links() {
        let links = extract("join discord.gg/rust-lang or [discord.com](https://dlscord.gift/x)");
        assert_eq!(links[0].invite.as_deref(), Some("rust-lang"));
        assert_eq!(links[1].host, "dlscord.gift");
        assert_eq!(links[1].shown.as_deref(), Some("discord.com"));
    }

    #[test]
    fn domain_sets_cover_subdomains() {
        let set = DomainSet::new(["evil.com", "https://www.bad.org/path"]);
        assert!(set.contains("evil.com"));
        assert!(set.contains("cdn.evil.com"));
        assert!(set.contains("bad.org"));
        assert!(!set.contains("notevil.com"));
        assert!(!set.contains("com"));
    }

    #[test]
    fn invites_are_blocked_unless_allowed() {
        let mut config = LinksConfig {
            block_invites: true,
            ..LinksConfig::default()
        };
        let links = extract("discord.gg/abc");
        assert!(check(&config, &links).is_some());
        config.allowed_invites.insert("abc".into());
        assert!(check(&config, &links).is_none());
    }

    proptest::proptest! {
        #[test]
        fn runs_hold_every_link_the_whole_text_holds(
            pieces in proptest::collection::vec(
                "https://|http://|www\\.|\\.|[a-z]{1,4}|[A-Z0-9]{1,2}|[-/:@_\\[\\]()<>]| |\n|\u{a0}|\u{212a}|\u{17f}|é|😀",
                0..16,
            ),
        ) {
            let text = pieces.concat();
            let whole: Vec<(usize, usize)> =
                LINK[1].find_iter(&text).map(|m| (m.start(), m.end())).collect();
            let in_runs: Vec<(usize, usize)> = link_matches(&text).collect();
            proptest::prop_assert_eq!(in_runs, whole);
        }
    }
}
