//! Scam links that no list knows yet: look-alikes of well-known brands, brands inside
//! someone else's domain, masked links that show one domain and open another, and the
//! wording of free-Nitro and gift-card scams. Each sign adds to a score; a link at or above
//! the rule's threshold is a scam. Domains on a deny list are scams outright.

use strsim::damerau_levenshtein;

use super::links::{DomainSet, Link};

/// Brands scammers imitate, with the domains that really belong to them.
pub const BRANDS: &[(&str, &[&str])] = &[
    (
        "discord",
        &[
            "discord.com",
            "discord.gg",
            "discordapp.com",
            "discordapp.net",
            "discord.media",
            "discord.gift",
            "discord.new",
            "discordstatus.com",
            "discord.dev",
            "discord.co",
            "discordmerch.com",
            "discord.design",
            "discord.store",
        ],
    ),
    ("nitro", &["discord.com"]),
    (
        "steam",
        &[
            "steampowered.com",
            "steamcommunity.com",
            "steamstatic.com",
            "steamgames.com",
            "steamchina.com",
            "steamdeck.com",
            "steam.tv",
        ],
    ),
    ("steamcommunity", &["steamcommunity.com"]),
    ("steampowered", &["steampowered.com"]),
    ("roblox", &["roblox.com", "rbxcdn.com"]),
    ("epicgames", &["epicgames.com", "unrealengine.com"]),
    ("paypal", &["paypal.com", "paypal.me"]),
    ("twitch", &["twitch.tv"]),
    ("youtube", &["youtube.com", "youtu.be"]),
    (
        "github",
        &["github.com", "github.io", "githubusercontent.com"],
    ),
    ("google", &["google.com", "goo.gl", "googleusercontent.com"]),
    ("microsoft", &["microsoft.com", "live.com", "xbox.com"]),
    ("instagram", &["instagram.com"]),
    ("telegram", &["telegram.org", "t.me"]),
    ("opensea", &["opensea.io"]),
    ("metamask", &["metamask.io"]),
    ("binance", &["binance.com"]),
    ("coinbase", &["coinbase.com"]),
    ("minecraft", &["minecraft.net"]),
    ("riotgames", &["riotgames.com", "leagueoflegends.com"]),
];

/// Top-level domains that cost next to nothing and host most throwaway scam sites.
const CHEAP_TLDS: &[&str] = &[
    "ru", "su", "gq", "tk", "ml", "cf", "ga", "icu", "xyz", "top", "cfd", "pw", "asia", "click",
    "gift", "gifts", "shop", "site", "online", "fun", "monster", "rest", "sbs", "buzz", "cyou",
    "store", "live", "best", "link", "win", "vip",
];

/// Phrases of the free-Nitro, gift and fake-giveaway scams.
const SCAM_WORDS: &[&str] = &[
    "nitro",
    "free",
    "gift",
    "airdrop",
    "giveaway",
    "giving away",
    "claim",
    "skins",
    "steam",
    "who is first",
    "take it",
    "3 months",
    "@everyone",
    "hypesquad",
    "verify",
    "login",
    "selected",
    "test my",
    "vote for",
    "distribution",
    "promo",
];

/// How the scam rule scores links.
#[derive(Clone, Debug)]
pub struct ScamConfig {
    /// Score at which a link counts as a scam.
    pub threshold: u32,
    /// Known scam domains (the scam is certain).
    pub deny: DomainSet,
    /// Domains never treated as scams (on top of the brands' own).
    pub allow: DomainSet,
    official: DomainSet,
}

impl ScamConfig {
    /// A scam detector with the given deny and allow lists.
    pub fn new(threshold: u32, deny: DomainSet, allow: DomainSet) -> Self {
        let official = DomainSet::new(
            BRANDS
                .iter()
                .flat_map(|(_, domains)| domains.iter().copied()),
        );
        ScamConfig {
            threshold,
            deny,
            allow,
            official,
        }
    }
}

/// The first scam link in a message, with the signs that gave it away.
pub fn check<'a>(
    config: &ScamConfig,
    links: &'a [Link],
    normalized_text: &str,
) -> Option<(&'a Link, String)> {
    let wording = wording_score(normalized_text);
    for link in links.iter().filter(|l| l.invite.is_none()) {
        if config.deny.contains(&link.host) {
            return Some((link, format!("known scam domain {}", link.host)));
        }
        if config.official.contains(&link.host) && link.shown.is_none() {
            continue;
        }
        if config.allow.contains(&link.host) {
            continue;
        }
        let mut signs = Vec::new();
        let mut score = 0;
        if let Some(shown) = &link.shown
            && let Some(shown_host) = super::links::extract(shown).first().map(|l| l.host.clone())
            && shown_host != link.host
        {
            score += 3;
            signs.push(format!("shows {shown_host} but opens {}", link.host));
        }
        if config.official.contains(&link.host) {
            // Only a masked link can make an official domain suspicious.
            if score >= config.threshold {
                return Some((link, signs.join("; ")));
            }
            continue;
        }
        if let Some((points, sign)) = brand_score(&link.host) {
            score += points;
            signs.push(sign);
        }
        let tld = link.host.rsplit('.').next().unwrap_or_default();
        if CHEAP_TLDS.contains(&tld) {
            score += 1;
            signs.push(format!("cheap TLD .{tld}"));
        }
        if wording > 0 {
            score += wording;
            signs.push("scam wording".to_string());
        }
        if score >= config.threshold && signs.iter().any(|s| !s.starts_with("scam wording")) {
            return Some((
                link,
                format!("likely scam link {}: {}", link.host, signs.join("; ")),
            ));
        }
    }
    None
}

fn wording_score(text: &str) -> u32 {
    let found = SCAM_WORDS.iter().filter(|w| text.contains(*w)).count();
    match found {
        0 => 0,
        1 => 1,
        _ => 2,
    }
}

/// Scores how much `host` imitates a brand: 3 for a look-alike, 2 for a brand name inside
/// another domain.
pub fn brand_score(host: &str) -> Option<(u32, String)> {
    let labels: Vec<&str> = host.split('.').collect();
    let name_labels = &labels[..labels.len().saturating_sub(1)];
    let mut best: Option<(u32, String)> = None;
    for label in name_labels {
        let joined = label.replace('-', "");
        let pieces = label.split('-').chain(std::iter::once(joined.as_str()));
        for piece in pieces.filter(|p| p.len() >= 4) {
            for (brand, _) in BRANDS {
                if let Some(found) = piece_score(piece, brand)
                    && best.as_ref().is_none_or(|(p, _)| found.0 > *p)
                {
                    best = Some(found);
                }
            }
        }
    }
    best
}

fn piece_score(piece: &str, brand: &str) -> Option<(u32, String)> {
    if piece == brand {
        return Some((2, format!("brand name {brand} in a foreign domain")));
    }
    let allowed = match brand.len() {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    if skeleton(piece) == skeleton(brand) || damerau_levenshtein(piece, brand) <= allowed {
        return Some((3, format!("look-alike of {brand}")));
    }
    if piece.len() > brand.len() {
        if piece.contains(brand) {
            return Some((2, format!("brand name {brand} in a foreign domain")));
        }
        let head: String = piece.chars().take(brand.len()).collect();
        if brand.len() >= 6 && damerau_levenshtein(&head, brand) <= allowed.min(2) {
            return Some((3, format!("look-alike of {brand}")));
        }
    }
    None
}

/// Folds letters that look alike in a URL bar: `rn`→m, `vv`→w, `l`/`1`→i, `0`→o.
fn skeleton(s: &str) -> String {
    s.replace("rn", "m")
        .replace("vv", "w")
        .chars()
        .map(|c| match c {
            'l' | '1' | '|' => 'i',
            '0' => 'o',
            '5' => 's',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::links::extract;
    use super::*;

    fn config() -> ScamConfig {
        ScamConfig::new(3, DomainSet::default(), DomainSet::default())
    }

    fn flagged(text: &str) -> bool {
        let links = extract(text);
        check(&config(), &links, &text.to_lowercase()).is_some()
    }

    #[test]
    fn catches_unlisted_look_alikes() {
        for text in [
            "hey can you test my new game? here is the download http://steamcommnunity.gifts/new",
            "hello, can you vote for my team please steamcommunrtly.com/new",
            "Gift for you! http://dlscords-nltro.com/login",
            "who is first? :) dicsord-nitro.icu/login",
            "take it guys :) https://happy-nitro.ru/S5Q9tMF2MMpfX067",
            "bro watch this http://steamncommuuntiy.com/steam/gift",
            "[discord.com/nitro](https://discordgift.site/claim)",
        ] {
            assert!(flagged(text), "{text}");
        }
    }

    #[test]
    fn leaves_real_sites_alone() {
        for text in [
            "nitro info https://discord.com/nitro",
            "check https://steamcommunity.com/market/ for prices",
            "https://store.steampowered.com/app/730/",
            "the repo is https://github.com/finnbear/rustrict",
            "free pizza at https://example.com/menu",
            "https://en.wikipedia.org/wiki/Scunthorpe_problem",
        ] {
            assert!(!flagged(text), "{text}");
        }
    }

    #[test]
    fn deny_list_is_certain() {
        let config = ScamConfig::new(3, DomainSet::new(["evil.example"]), DomainSet::default());
        let links = extract("see https://evil.example/x");
        assert!(check(&config, &links, "see").is_some());
    }
}
