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

/// Link shorteners: the link hides where it leads.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "is.gd",
    "cutt.ly",
    "rb.gy",
    "shorturl.at",
    "tiny.cc",
    "ow.ly",
    "s.id",
    "rebrand.ly",
    "t.ly",
    "v.gd",
    "shorturl.com",
    "bl.ink",
    "tiny.one",
];

/// Endings of files that run when opened: a "game to test" or "free cheat" that is malware.
const EXECUTABLES: &[&str] = &[
    ".exe", ".scr", ".msi", ".bat", ".cmd", ".jar", ".apk", ".vbs", ".ps1", ".dll", ".pif", ".lnk",
    ".hta",
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
    "robux",
    "vbucks",
    "v bucks",
    "try my game",
    "my game",
    "game i made",
    "test it",
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
    /// Finds [`DOMAIN_WORDS`] in a host in one pass.
    bait_words: AhoCorasick,
}

/// A brand name with its look-alike skeleton and how many edits still count as imitation,
/// worked out once so scoring a link allocates nothing per brand.
#[derive(Clone, Debug)]
struct BrandKey {
    name: &'static str,
    skeleton: Vec<u8>,
    allowed: usize,
    letters: LetterSet,
    positions: Positions,
}

/// Which letters a name holds. An edit brings in at most one letter the name lacked and
/// takes out at most one it had, so two names that differ in more letters than the allowed
/// edits cannot be within them: a one-instruction test that spares most edit distances.
#[derive(Clone, Copy, Debug, Default)]
struct LetterSet(u32);

impl LetterSet {
    fn of(s: &[u8]) -> Self {
        s.iter().fold(LetterSet::default(), |set, &b| set.with(b))
    }

    /// The set with letter `b` added (other bytes leave it as it is).
    fn with(self, b: u8) -> Self {
        let letter = b.wrapping_sub(b'a');
        if letter < 26 {
            LetterSet(self.0 | 1 << letter)
        } else {
            self
        }
    }

    /// A lower bound of the edit distance between the two names.
    fn distance_bound(self, other: LetterSet) -> usize {
        let only_here = (self.0 & !other.0).count_ones();
        let only_there = (other.0 & !self.0).count_ones();
        only_here.max(only_there) as usize
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
                    letters: LetterSet::of(name.as_bytes()),
                    positions: Positions::of(name.as_bytes()),
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
            bait_words: AhoCorasick::new(DOMAIN_WORDS).expect("bait words build an automaton"),
        }
    }

    /// 1 for one of [`DOMAIN_WORDS`] in `host`, 2 for two or more different ones.
    fn domain_words(&self, host: &str) -> u32 {
        up_to_two_found(&self.bait_words, host)
    }

    /// 1 for one scam phrase in the text, 2 for two or more different ones.
    fn wording_score(&self, text: &str) -> u32 {
        up_to_two_found(&self.wording, text)
    }

    /// Scores how much `host` imitates a brand: 3 for a look-alike, 2 for a brand name
    /// inside another domain.
    pub fn brand_score(&self, host: &str) -> Option<BrandSign> {
        let (name, _tld) = host.rsplit_once('.')?;
        let mut best: Option<(u32, &'static str)> = None;
        let mut joined = Vec::new();
        let mut skeleton = Vec::new();
        // A look-alike is the highest score: the first one found settles it.
        'labels: for label in name.split('.') {
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
                        if points == LOOK_ALIKE {
                            break 'labels;
                        }
                    }
                }
            }
        }
        best.map(|(points, brand)| BrandSign { points, brand })
    }
}

/// How a domain imitates a brand, and how much that counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrandSign {
    pub points: u32,
    pub brand: &'static str,
}

impl std::fmt::Display for BrandSign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.points == LOOK_ALIKE {
            write!(f, "look-alike of {}", self.brand)
        } else {
            write!(f, "brand name {} in a foreign domain", self.brand)
        }
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
        if let Some(read) = &link.look_alike
            && config.official.contains(read)
        {
            let reason = format!(
                "likely scam link {}: look-alike letters imitate {read}",
                link.names()
            );
            return Some((link, reason));
        }
        if config.official.contains(&link.host) && link.shown.is_none() {
            continue;
        }
        if config.allow.contains(&link.host) {
            continue;
        }
        let mut signs = Signs::default();
        if let Some(shown) = &link.shown
            && let Some(shown_host) = super::links::extract(shown).first().map(|l| l.host.clone())
            && shown_host != link.host
        {
            signs.masked = Some(shown_host);
        }
        if config.official.contains(&link.host) {
            // Only a masked link can make an official domain suspicious.
            if signs.score() >= config.threshold {
                return Some((link, signs.describe(link)));
            }
            continue;
        }
        signs.brand = match &link.look_alike {
            // Letters from another script that imitate a brand's are a look-alike however
            // the brand sits in the name.
            Some(read) => config.brand_score(read).map(|sign| BrandSign {
                points: LOOK_ALIKE,
                ..sign
            }),
            None => config.brand_score(&link.host),
        };
        let tld = link.host.rsplit('.').next().unwrap_or_default();
        signs.cheap_tld = CHEAP_TLDS.contains(&tld);
        signs.bait_words = config.domain_words(&link.host);
        // A login or prize page is ordinary on an ordinary site; it only adds to other signs.
        signs.bait_path =
            signs.link_looks_wrong() && BAIT_PATHS.iter().any(|p| link.path.starts_with(p));
        signs.shortener = SHORTENERS.contains(&link.host.as_str());
        let file = link.path.split(['?', '#']).next().unwrap_or_default();
        signs.executable = EXECUTABLES.iter().any(|ending| file.ends_with(ending));
        signs.wording = *wording.get_or_insert_with(|| config.wording_score(normalized_text));
        if signs.score() >= config.threshold && signs.link_looks_wrong() {
            let reason = format!(
                "likely scam link {}: {}",
                link.names(),
                signs.describe(link)
            );
            return Some((link, reason));
        }
    }
    None
}

/// How many different patterns of `automaton` occur in `text`: 0, 1, or 2 for two or
/// more (no sign counts more than twice).
fn up_to_two_found(automaton: &AhoCorasick, text: &str) -> u32 {
    let mut seen = 0u32;
    for found in automaton.find_overlapping_iter(text) {
        seen |= 1 << (found.pattern().as_usize() % 32);
        if seen.count_ones() >= 2 {
            return 2;
        }
    }
    seen.count_ones()
}

/// What gave a link away. Kept as facts, and put into words only for a link that is
/// reported.
#[derive(Default)]
struct Signs {
    /// The host a masked link shows instead of its own.
    masked: Option<String>,
    brand: Option<BrandSign>,
    cheap_tld: bool,
    /// How many different bait words the domain holds, up to 2.
    bait_words: u32,
    bait_path: bool,
    /// The link goes through a shortener, which hides where it leads.
    shortener: bool,
    /// The link downloads a program (`game.exe`).
    executable: bool,
    /// How many different scam phrases the message holds, up to 2.
    wording: u32,
}

impl Signs {
    /// What the signs add up to (see the weights in `rules.example.yaml`).
    fn score(&self) -> u32 {
        let masked = if self.masked.is_some() { 3 } else { 0 };
        masked
            + self.brand.map_or(0, |b| b.points)
            + u32::from(self.cheap_tld)
            + self.bait_words
            + u32::from(self.bait_path)
            + u32::from(self.shortener)
            + 2 * u32::from(self.executable)
            + self.wording
    }

    /// Whether the link itself, not just the words around it, looks wrong.
    fn link_looks_wrong(&self) -> bool {
        self.masked.is_some()
            || self.brand.is_some()
            || self.cheap_tld
            || self.bait_words > 0
            || self.shortener
            || self.executable
    }

    /// The signs in words, separated by `; `.
    fn describe(&self, link: &Link) -> String {
        let tld = link.host.rsplit('.').next().unwrap_or_default();
        let parts = [
            self.masked
                .as_ref()
                .map(|shown| format!("shows {shown} but opens {}", link.host)),
            self.brand.map(|b| b.to_string()),
            self.cheap_tld.then(|| format!("cheap TLD .{tld}")),
            (self.bait_words > 0).then(|| "bait words in the domain".to_string()),
            self.bait_path.then(|| format!("bait page {}", link.path)),
            self.shortener
                .then(|| "a link shortener hides where it leads".to_string()),
            self.executable
                .then(|| format!("downloads a program {}", link.path)),
            (self.wording > 0).then(|| "scam wording".to_string()),
        ];
        parts.into_iter().flatten().collect::<Vec<_>>().join("; ")
    }
}

/// The brand score of a look-alike domain, the highest there is.
const LOOK_ALIKE: u32 = 3;

/// The longest brand name: prefixes of a piece are compared up to this length.
const LONGEST_BRAND: usize = 14;

/// One piece of a domain label, with what every brand comparison needs worked out once.
struct Piece<'a> {
    bytes: &'a [u8],
    skeleton: &'a [u8],
    letters: LetterSet,
    /// Letters of the piece's first `n` bytes, for `n` up to [`LONGEST_BRAND`].
    prefixes: [LetterSet; LONGEST_BRAND + 1],
    /// Bit `i`: brand `i`'s name is inside the piece.
    holds: u64,
}

impl<'a> Piece<'a> {
    /// `brand_names` finds the names of [`BRANDS`], in order.
    fn new(bytes: &'a [u8], skeleton: &'a [u8], brand_names: &AhoCorasick) -> Self {
        let mut prefixes = [LetterSet::default(); LONGEST_BRAND + 1];
        for n in 1..=LONGEST_BRAND.min(bytes.len()) {
            prefixes[n] = prefixes[n - 1].with(bytes[n - 1]);
        }
        let holds = brand_names
            .find_overlapping_iter(bytes)
            .fold(0, |holds, found| {
                holds | 1 << (found.pattern().as_usize() % 64)
            });
        Piece {
            bytes,
            skeleton,
            letters: LetterSet::of(bytes),
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
                && self.letters.distance_bound(brand.letters) <= brand.allowed
                && within(piece, &brand.positions, brand.allowed))
        {
            return Some(LOOK_ALIKE);
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
                    .is_none_or(|p| p.distance_bound(brand.letters) <= allowed)
                && within(&piece[..name.len()], &brand.positions, allowed)
            {
                return Some(LOOK_ALIKE);
            }
        }
        None
    }
}

/// Whether `text` is within `limit` edits of `name`.
fn within(text: &[u8], name: &Positions, limit: usize) -> bool {
    text.len().abs_diff(name.len) <= limit && name.distance(text) <= limit
}

/// Where each letter occurs in a brand name: bit `i` of the letter's mask is set when the
/// name's byte `i` is that letter. This is what the bit-parallel edit distance reads.
#[derive(Clone, Debug)]
struct Positions {
    masks: [u64; 26],
    len: usize,
}

impl Positions {
    /// The positions of a name of lowercase letters, up to 64 of them (brand names are far
    /// shorter; bytes past the 64th are not recorded).
    fn of(name: &[u8]) -> Self {
        let mut masks = [0u64; 26];
        for (i, &b) in name.iter().enumerate().take(64) {
            if let Some(mask) = masks.get_mut(usize::from(b.wrapping_sub(b'a'))) {
                *mask |= 1 << i;
            }
        }
        Positions {
            masks,
            len: name.len().min(64),
        }
    }

    /// Where byte `b` occurs in the name.
    fn of_byte(&self, b: u8) -> u64 {
        self.masks
            .get(usize::from(b.wrapping_sub(b'a')))
            .copied()
            .unwrap_or(0)
    }

    /// Optimal-string-alignment distance from `text` to the name: insertions, deletions,
    /// substitutions and swaps of neighbours each cost one. Computed a column per byte of
    /// `text`, with every cell of the column in one machine word (Hyyrö's bit-vector form of
    /// Myers' algorithm, with transpositions).
    fn distance(&self, text: &[u8]) -> usize {
        let Some(last) = self.len.checked_sub(1).map(|top| 1u64 << top) else {
            return text.len();
        };
        // Vertical differences between neighbouring cells: +1 (`up`) or -1 (`down`).
        let mut up = u64::MAX;
        let mut down = 0u64;
        let mut diagonal_zero = 0u64;
        let mut matches_before = 0u64;
        let mut distance = self.len;
        for &b in text {
            let matches = self.of_byte(b);
            let swapped = ((!diagonal_zero & matches) << 1) & matches_before;
            diagonal_zero = (((matches & up).wrapping_add(up)) ^ up) | matches | down | swapped;
            let right_up = down | !(diagonal_zero | up);
            let right_down = diagonal_zero & up;
            if right_up & last != 0 {
                distance += 1;
            } else if right_down & last != 0 {
                distance -= 1;
            }
            let shifted = (right_up << 1) | 1;
            up = (right_down << 1) | !(diagonal_zero | shifted);
            down = shifted & diagonal_zero;
            matches_before = matches;
        }
        distance
    }
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
        // `wording_score` and `domain_words` a bit per phrase.
        assert!(BRANDS.len() <= 64);
        assert!(BRANDS.iter().all(|(name, _)| name.len() <= LONGEST_BRAND));
        assert!(SCAM_WORDS.len() <= 32);
        assert!(DOMAIN_WORDS.len() <= 32);
    }

    fn config() -> ScamConfig {
        ScamConfig::new(3, DomainSet::default(), DomainSet::default())
    }

    fn flagged(text: &str) -> bool {
        let links = extract(text);
        check(&config(), &links, &text.to_lowercase()).is_some()
    }

    #[test]
    fn programs_to_download_and_shorteners_add_to_scam_wording() {
        for text in [
            "hey can you test my game? https://www.mediafire.com/file/x1y2/Game_Setup.exe",
            "try my game its free https://cdn.example.net/builds/launcher.scr",
            "free robux https://bit.ly/3xYzAbc",
            "free nitro for everyone https://tinyurl.com/nitro-drop",
        ] {
            assert!(flagged(text), "{text}");
        }
        for text in [
            "the installer is at https://www.python.org/ftp/python/3.12.0/python-3.12.0.exe",
            "yo check this out https://bit.ly/3xYzAbc",
            "notes from the meeting https://tinyurl.com/team-notes",
        ] {
            assert!(!flagged(text), "{text}");
        }
    }

    /// One-edit misspellings of a name: each adjacent pair swapped, each letter dropped,
    /// each letter doubled, and each `i` written `l`.
    fn misspellings(name: &str) -> Vec<String> {
        let b = name.as_bytes();
        let mut out = Vec::new();
        for i in 0..b.len() {
            let mut dropped = b.to_vec();
            dropped.remove(i);
            let mut doubled = b.to_vec();
            doubled.insert(i, b[i]);
            out.extend([dropped, doubled]);
            if i + 1 < b.len() && b[i] != b[i + 1] {
                let mut swapped = b.to_vec();
                swapped.swap(i, i + 1);
                out.push(swapped);
            }
            if b[i] == b'i' {
                let mut l = b.to_vec();
                l[i] = b'l';
                out.push(l);
            }
        }
        out.into_iter()
            .filter_map(|v| String::from_utf8(v).ok())
            .filter(|v| v != name)
            .collect()
    }

    /// Every brand name of seven letters or more, misspelled by one edit, as the name of a
    /// domain under a cheap or an ordinary top-level domain, with and without a scheme.
    #[test]
    fn catches_unlisted_look_alikes() {
        let mut checked = 0;
        let mut missed = Vec::new();
        for (brand, _) in BRANDS.iter().filter(|(b, _)| b.len() >= 7) {
            for (n, typo) in misspellings(brand).into_iter().enumerate() {
                let tld = ["com", "gift", "ru", "xyz", "net"][n % 5];
                let text = if n % 2 == 0 {
                    format!("claim it here https://{typo}.{tld}/gift")
                } else {
                    format!("{typo}.{tld}/login")
                };
                checked += 1;
                if !flagged(&text) {
                    missed.push(text);
                }
            }
        }
        assert!(checked > 300, "{checked}");
        assert!(
            missed.is_empty(),
            "{} of {checked}: {missed:?}",
            missed.len()
        );
    }

    /// A masked link that shows one brand's official domain and opens another.
    #[test]
    fn masked_links_showing_another_domain_are_caught() {
        for (brand, domains) in BRANDS {
            let shown = domains[0];
            let text = format!("[{shown}/free](https://{brand}-rewards.site/claim)");
            assert!(flagged(&text), "{text}");
        }
    }

    /// Every official domain of every brand, with each letter of its name that another
    /// script can imitate swapped for its look-alike, one at a time: extracted whole,
    /// reported in both forms, and flagged.
    #[test]
    fn look_alike_letters_from_other_scripts_are_caught() {
        const LOOK_ALIKES: [(char, char); 9] = [
            ('a', 'а'),
            ('c', 'с'),
            ('e', 'е'),
            ('i', 'і'),
            ('o', 'о'),
            ('p', 'р'),
            ('s', 'ѕ'),
            ('x', 'х'),
            ('y', 'у'),
        ];
        let mut checked = 0;
        for domain in BRANDS.iter().flat_map(|(_, domains)| domains.iter()) {
            // A look-alike in the top-level domain names no domain that exists.
            let name_end = domain.rfind('.').unwrap_or(domain.len());
            for (at, c) in domain[..name_end].char_indices() {
                let Some(&(_, fake)) = LOOK_ALIKES.iter().find(|(plain, _)| *plain == c) else {
                    continue;
                };
                let host = format!("{}{fake}{}", &domain[..at], &domain[at + 1..]);
                for text in [
                    format!("free gift https://{host}/claim"),
                    format!("{host}/login"),
                ] {
                    checked += 1;
                    let links = extract(&text);
                    assert_eq!(links.len(), 1, "{text}");
                    assert_eq!(
                        links[0].unicode_host.as_deref(),
                        Some(host.as_str()),
                        "{text}"
                    );
                    assert!(links[0].host.contains("xn--"), "{text}: {}", links[0].host);
                    assert!(flagged(&text), "{text}");
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// Every official domain of every brand, under the paths scams use too, and ordinary
    /// sites with bait words in their paths.
    #[test]
    fn leaves_real_sites_alone() {
        for (n, domain) in BRANDS.iter().flat_map(|(_, d)| d.iter()).enumerate() {
            let path = ["/gift", "/login", "/nitro", "/claim", ""][n % 5];
            for text in [
                format!("see https://{domain}{path}"),
                format!("go to {domain}{path}"),
            ] {
                assert!(!flagged(&text), "{text}");
            }
        }
        for site in ["example.com", "example.org", "wikipedia.org", "etsy.com"] {
            for path in ["/login", "/gift?q=free", "/claim/prize"] {
                let text = format!("free stuff at https://{site}{path}");
                assert!(!flagged(&text), "{text}");
            }
        }
    }

    #[test]
    fn brand_score_tells_look_alikes_from_borrowed_names() {
        let score = |host: &str| {
            let sign = config().brand_score(host)?;
            Some((sign.points, sign.to_string()))
        };
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
        let distance =
            |text: &str, name: &str| Positions::of(name.as_bytes()).distance(text.as_bytes());
        assert_eq!(distance("discord", "discord"), 0);
        assert_eq!(distance("dicsord", "discord"), 1);
        assert_eq!(distance("dlscords", "discord"), 2);
        assert_eq!(distance("", "steam"), 5);
        assert_eq!(distance("steam", ""), 5);
        assert_eq!(distance("steamcommnunity", "steamcommunity"), 1);
        assert_eq!(distance("minecraft", "discord"), 7);
        assert_eq!(distance("steam-1", "steam"), 2);
        assert!(within(b"dlscord", &Positions::of(b"discord"), 1));
        assert!(!within(b"dlscordapp", &Positions::of(b"discord"), 2));
    }

    proptest::proptest! {
        #[test]
        fn edit_distance_agrees_with_strsim(
            a in "[a-e1-]{0,20}",
            b in "[a-e]{0,14}|[a-c]{60,64}",
            limit in 0usize..6,
        ) {
            let exact = strsim::osa_distance(&a, &b);
            let name = Positions::of(b.as_bytes());
            proptest::prop_assert_eq!(name.distance(a.as_bytes()), exact);
            proptest::prop_assert_eq!(within(a.as_bytes(), &name, limit), exact <= limit);
            let bound = LetterSet::of(a.as_bytes()).distance_bound(LetterSet::of(b.as_bytes()));
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
