//! Scam links that no list knows yet: look-alikes of well-known brands, brands inside
//! someone else's domain, masked links that show one domain and open another, and the
//! wording of free-Nitro and gift-card scams. Each sign adds to a score; a link at or above
//! the rule's threshold is a scam. Domains on a deny list are scams outright.

use aho_corasick::AhoCorasick;

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

/// Words scam sites put in their domain names (`lunar-redeemgift.com`, `chaindrop.live`).
const DOMAIN_WORDS: &[&str] = &[
    "gift", "nitro", "drop", "redeem", "claim", "promo", "reward", "bonus", "token", "verify",
    "login", "giveaway", "free", "skins",
];

/// Paths of pages that ask for credentials or hand out a "prize".
const BAIT_PATHS: &[&str] = &[
    "/login", "/verify", "/claim", "/redeem", "/gift", "/airdrop", "/auth", "/nitro",
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
    brands: Vec<BrandKey>,
    /// Finds [`SCAM_WORDS`] in one pass over a message.
    wording: AhoCorasick,
    /// Finds every brand name inside a piece of a domain in one pass.
    brand_names: AhoCorasick,
}

/// A brand name with its look-alike skeleton and how many edits still count as imitation,
/// worked out once so scoring a link allocates nothing per brand.
#[derive(Clone, Debug)]
struct BrandKey {
    name: &'static str,
    skeleton: Vec<u8>,
    allowed: usize,
    letters: Letters,
}

/// How often each letter occurs. Every edit changes these counts by at most one on each
/// side, so two names whose counts differ by more than the allowed edits cannot be within
/// them: a cheap test that spares most edit-distance computations.
#[derive(Clone, Debug, Default)]
struct Letters([u8; 32]);

impl Letters {
    fn of(s: &[u8]) -> Self {
        let mut letters = Letters::default();
        s.iter().for_each(|&b| letters.add(b));
        letters
    }

    fn add(&mut self, b: u8) {
        let slot = usize::from(b.to_ascii_lowercase().wrapping_sub(b'a')).min(31);
        self.0[slot] = self.0[slot].saturating_add(1);
    }

    /// A lower bound of the edit distance between the two names.
    fn distance_bound(&self, other: &Letters) -> usize {
        let (mut more, mut fewer) = (0u32, 0u32);
        for (a, b) in self.0.iter().zip(&other.0) {
            more += u32::from(a.saturating_sub(*b));
            fewer += u32::from(b.saturating_sub(*a));
        }
        more.max(fewer) as usize
    }
}

impl ScamConfig {
    /// A scam detector with the given deny and allow lists.
    pub fn new(threshold: u32, deny: DomainSet, allow: DomainSet) -> Self {
        let official = DomainSet::new(
            BRANDS
                .iter()
                .flat_map(|(_, domains)| domains.iter().copied()),
        );
        let brands = BRANDS
            .iter()
            .map(|(name, _)| {
                let mut skeleton = Vec::new();
                skeleton_into(name.as_bytes(), &mut skeleton);
                let allowed = match name.len() {
                    0..=5 => 1,
                    6..=8 => 2,
                    _ => 3,
                };
                BrandKey {
                    name,
                    skeleton,
                    allowed,
                    letters: Letters::of(name.as_bytes()),
                }
            })
            .collect();
        ScamConfig {
            threshold,
            deny,
            allow,
            official,
            brands,
            // A fixed list of 21 short phrases is far below the automaton's size limits.
            wording: AhoCorasick::new(SCAM_WORDS).expect("scam phrases build an automaton"),
            brand_names: AhoCorasick::new(BRANDS.iter().map(|(name, _)| name))
                .expect("brand names build an automaton"),
        }
    }

    /// 1 for one scam phrase in the text, 2 for two or more different ones.
    fn wording_score(&self, text: &str) -> u32 {
        let mut seen = 0u32;
        for found in self.wording.find_overlapping_iter(text) {
            seen |= 1 << (found.pattern().as_usize() % 32);
            if seen.count_ones() >= 2 {
                return 2;
            }
        }
        seen.count_ones()
    }

    /// Scores how much `host` imitates a brand: 3 for a look-alike, 2 for a brand name
    /// inside another domain.
    pub fn brand_score(&self, host: &str) -> Option<(u32, String)> {
        let (name, _tld) = host.rsplit_once('.')?;
        let mut best: Option<(u32, &'static str)> = None;
        let mut joined = Vec::new();
        let mut skeleton = Vec::new();
        for label in name.split('.') {
            joined.clear();
            joined.extend(label.bytes().filter(|&b| b != b'-'));
            let dashed = label.contains('-');
            let pieces = label
                .split('-')
                .map(str::as_bytes)
                .filter(|_| dashed)
                .chain(std::iter::once(joined.as_slice()));
            for piece in pieces.filter(|p| p.len() >= 4) {
                skeleton_into(piece, &mut skeleton);
                let piece = Piece::new(piece, &skeleton, &self.brand_names);
                for (i, brand) in self.brands.iter().enumerate() {
                    if let Some(points) = piece.score(i, brand)
                        && best.is_none_or(|(p, _)| points > p)
                    {
                        best = Some((points, brand.name));
                    }
                }
            }
        }
        best.map(|(points, brand)| {
            let sign = if points == 3 {
                format!("look-alike of {brand}")
            } else {
                format!("brand name {brand} in a foreign domain")
            };
            (points, sign)
        })
    }
}

/// The first scam link in a message, with the signs that gave it away.
pub fn check<'a>(
    config: &ScamConfig,
    links: &'a [Link],
    normalized_text: &str,
) -> Option<(&'a Link, String)> {
    let mut wording = None;
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
        if let Some((points, sign)) = config.brand_score(&link.host) {
            score += points;
            signs.push(sign);
        }
        let tld = link.host.rsplit('.').next().unwrap_or_default();
        if CHEAP_TLDS.contains(&tld) {
            score += 1;
            signs.push(format!("cheap TLD .{tld}"));
        }
        let domain_words = DOMAIN_WORDS
            .iter()
            .filter(|w| link.host.contains(*w))
            .count();
        if domain_words > 0 {
            score += domain_words.min(2) as u32;
            signs.push("bait words in the domain".to_string());
        }
        // A login or prize page is ordinary on an ordinary site; it only adds to other signs.
        if !signs.is_empty() && BAIT_PATHS.iter().any(|p| link.path.starts_with(p)) {
            score += 1;
            signs.push(format!("bait page {}", link.path));
        }
        let wording = *wording.get_or_insert_with(|| config.wording_score(normalized_text));
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

/// The longest brand name: prefixes of a piece are compared up to this length.
const LONGEST_BRAND: usize = 14;

/// One piece of a domain label, with what every brand comparison needs worked out once.
struct Piece<'a> {
    bytes: &'a [u8],
    skeleton: &'a [u8],
    letters: Letters,
    /// Letter counts of the piece's first `n` bytes, for `n` up to [`LONGEST_BRAND`].
    prefixes: [Letters; LONGEST_BRAND + 1],
    /// Bit `i`: brand `i`'s name is inside the piece.
    holds: u64,
}

impl<'a> Piece<'a> {
    /// `brand_names` finds the names of [`BRANDS`], in order.
    fn new(bytes: &'a [u8], skeleton: &'a [u8], brand_names: &AhoCorasick) -> Self {
        let mut prefixes: [Letters; LONGEST_BRAND + 1] = Default::default();
        for n in 1..=LONGEST_BRAND.min(bytes.len()) {
            prefixes[n] = prefixes[n - 1].clone();
            prefixes[n].add(bytes[n - 1]);
        }
        let holds = brand_names
            .find_overlapping_iter(bytes)
            .fold(0, |holds, found| {
                holds | 1 << (found.pattern().as_usize() % 64)
            });
        Piece {
            bytes,
            skeleton,
            letters: Letters::of(bytes),
            prefixes,
            holds,
        }
    }

    /// 3 when the piece looks like the brand, 2 when it contains the brand name, else
    /// nothing.
    fn score(&self, index: usize, brand: &BrandKey) -> Option<u32> {
        let (piece, name) = (self.bytes, brand.name.as_bytes());
        if piece == name {
            return Some(2);
        }
        if self.skeleton == brand.skeleton.as_slice()
            || (piece.len().abs_diff(name.len()) <= brand.allowed
                && self.letters.distance_bound(&brand.letters) <= brand.allowed
                && within(piece, name, brand.allowed))
        {
            return Some(3);
        }
        if piece.len() > name.len() {
            if self.holds & (1 << (index % 64)) != 0 {
                return Some(2);
            }
            let allowed = brand.allowed.min(2);
            if name.len() >= 6
                && self
                    .prefixes
                    .get(name.len())
                    .is_none_or(|p| p.distance_bound(&brand.letters) <= allowed)
                && within(&piece[..name.len()], name, allowed)
            {
                return Some(3);
            }
        }
        None
    }
}

/// Longest label the edit distance is computed for; DNS labels stop at 63 bytes.
const MAX_LABEL: usize = 64;

/// Whether `a` is within `limit` edits of `b`, stopping as soon as every cell of a row is
/// over the limit.
fn within(a: &[u8], b: &[u8], limit: usize) -> bool {
    a.len().abs_diff(b.len()) <= limit && edit_distance(a, b, limit) <= limit
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// neighbours each cost one. Works on bytes with three rows on the stack. Once a whole row
/// is over `limit` the answer is over it too, and `limit + 1` is returned.
fn edit_distance(a: &[u8], b: &[u8], limit: usize) -> usize {
    if a.len() >= MAX_LABEL || b.len() >= MAX_LABEL {
        return usize::MAX;
    }
    let mut rows = [[0u8; MAX_LABEL + 1]; 3];
    for (j, cell) in rows[1].iter_mut().enumerate() {
        *cell = j as u8;
    }
    for i in 1..=a.len() {
        let (before, previous, current) = ((i + 2) % 3, i % 3, (i + 1) % 3);
        rows[current][0] = i as u8;
        for j in 1..=b.len() {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[previous][j].saturating_add(1))
                .min(rows[current][j - 1].saturating_add(1))
                .min(rows[previous][j - 1].saturating_add(cost));
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[before][j - 2].saturating_add(1));
            }
            rows[current][j] = d;
        }
        if rows[current][..=b.len()]
            .iter()
            .all(|&d| usize::from(d) > limit)
        {
            return limit.saturating_add(1);
        }
    }
    usize::from(rows[(a.len() + 1) % 3][b.len()]).min(limit.saturating_add(1))
}

/// Folds letters that look alike in a URL bar: `rn`→m, `vv`→w, `l`/`1`→i, `0`→o.
fn skeleton_into(s: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < s.len() {
        let next = s.get(i + 1).copied();
        let folded = match (s[i], next) {
            (b'r', Some(b'n')) => {
                i += 1;
                b'm'
            }
            (b'v', Some(b'v')) => {
                i += 1;
                b'w'
            }
            (b'l' | b'1' | b'|', _) => b'i',
            (b'0', _) => b'o',
            (b'5', _) => b's',
            (b, _) => b,
        };
        out.push(folded);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::links::extract;
    use super::*;

    #[test]
    fn every_brand_and_phrase_fits_its_bit_set() {
        // `Piece::holds` has a bit per brand and `Piece::prefixes` a slot per name length;
        // `wording_score` a bit per phrase.
        assert!(BRANDS.len() <= 64);
        assert!(BRANDS.iter().all(|(name, _)| name.len() <= LONGEST_BRAND));
        assert!(SCAM_WORDS.len() <= 32);
    }

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
            "working nitro gen http://gift-graphtoken.com",
            "claim your prize http://chaindrop.live/x",
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
            "gift ideas: https://www.etsy.com/search?q=gift",
            "the tokenizer docs https://tokenizers.readthedocs.io/en/latest/",
            "log in at https://example.org/login to see the free schedule",
            "https://en.wikipedia.org/wiki/Scunthorpe_problem",
        ] {
            assert!(!flagged(text), "{text}");
        }
    }

    #[test]
    fn brand_score_tells_look_alikes_from_borrowed_names() {
        let score = |host: &str| config().brand_score(host);
        let look_alike = |brand: &str| Some((3, format!("look-alike of {brand}")));
        let borrowed = |brand: &str| Some((2, format!("brand name {brand} in a foreign domain")));
        assert_eq!(score("dicsord.com"), look_alike("discord"));
        assert_eq!(score("mydiscordshop.com"), borrowed("discord"));
        assert_eq!(score("free-roblox.net"), borrowed("roblox"));
        // The brand is the start of a longer label, misspelled.
        assert_eq!(score("steamcomunityshop.com"), look_alike("steamcommunity"));
        assert_eq!(score("example.com"), None);
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        let unlimited = usize::MAX - 1;
        assert_eq!(edit_distance(b"discord", b"discord", unlimited), 0);
        assert_eq!(edit_distance(b"dicsord", b"discord", unlimited), 1);
        assert_eq!(edit_distance(b"dlscords", b"discord", unlimited), 2);
        assert_eq!(edit_distance(b"", b"steam", unlimited), 5);
        assert_eq!(edit_distance(b"steamcommnunity", b"steamcommunity", 1), 1);
        assert_eq!(edit_distance(b"minecraft", b"discord", 2), 3);
        assert!(within(b"dlscord", b"discord", 1));
        assert!(!within(b"dlscordapp", b"discord", 2));
    }

    proptest::proptest! {
        #[test]
        fn edit_distance_agrees_with_strsim(
            a in "[a-e]{0,12}",
            b in "[a-e]{0,12}",
            limit in 0usize..6,
        ) {
            let exact = strsim::osa_distance(&a, &b);
            proptest::prop_assert_eq!(
                edit_distance(a.as_bytes(), b.as_bytes(), limit),
                exact.min(limit + 1)
            );
            proptest::prop_assert_eq!(within(a.as_bytes(), b.as_bytes(), limit), exact <= limit);
            let bound = Letters::of(a.as_bytes()).distance_bound(&Letters::of(b.as_bytes()));
            proptest::prop_assert!(bound <= exact);
        }
    }

    #[test]
    fn skeleton_folds_url_bar_look_alikes() {
        let mut out = Vec::new();
        skeleton_into(b"rnicrosoft", &mut out);
        assert_eq!(out, b"microsoft");
        skeleton_into(b"vvindows-l0g1n5", &mut out);
        assert_eq!(out, b"windows-iogins");
    }

    #[test]
    fn deny_list_is_certain() {
        let config = ScamConfig::new(3, DomainSet::new(["evil.example"]), DomainSet::default());
        let links = extract("see https://evil.example/x");
        assert!(check(&config, &links, "see").is_some());
    }
}
