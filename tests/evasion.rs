//! Evasion families, generated: every entry of every built-in list, written the ways members
//! hide words (look-alike letters, separators, markdown, split words ...), alone and in a
//! sentence, must be flagged by the example rules; ordinary English written the same ways
//! must not be. Recall is printed per family, beside rustrict's on a sample of the same lines.

mod chat;

use chat::Poster;

use rustrict::CensorStr;
use steward::engine::detect::{sounds, typos};
use steward::engine::dictionary;
use steward::engine::normalize::phrase_key;
use steward::rules::{self, compile::BUILTIN_LISTS, compile::list_entries};

/// One way of writing a word: `None` when it does not apply to that text.
struct Family {
    name: &'static str,
    apply: fn(&str, usize) -> Option<String>,
    /// Whether it rewrites letters one by one (and so applies to phrases too), rather than
    /// the word's shape.
    per_letter: bool,
}

const SMALL_CAPS: &str = "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡxʏᴢ";
const SUPERSCRIPT: &str = "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖqʳˢᵗᵘᵛʷˣʸᶻ";
/// Start of the lowercase alphabet in Unicode's mathematical styles: bold, italic, bold
/// italic, script, bold script, fraktur, double-struck, sans-serif, sans bold, monospace.
const MATH: [u32; 10] = [
    0x1D41A, 0x1D44E, 0x1D482, 0x1D4B6, 0x1D4EA, 0x1D51E, 0x1D552, 0x1D5BA, 0x1D5EE, 0x1D68A,
];
const SEPARATORS: [&str; 10] = ["-", "_", ".", "•", "★", "+", "=", "~", "/", "·"];
const EMOJI: [&str; 5] = ["🤡", "👍🏽", "❤️", "👨‍👩‍👧", "🔥"];
const INVISIBLE: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];
const MARKDOWN: [&str; 11] = [
    "||{}||",
    "**{}**",
    "*{}*",
    "__{}__",
    "~~{}~~",
    "`{}`",
    "# {}",
    "> {}",
    "- {}",
    "||**{}**||",
    "[{}](https://example.com)",
];

fn map_letters(text: &str, f: impl Fn(char) -> String) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                f(c)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn nth(alphabet: &str, c: char) -> String {
    let i = (c as u8 - b'a') as usize;
    alphabet.chars().nth(i).map_or(c.to_string(), String::from)
}

fn offset(base: u32, c: char) -> String {
    char::from_u32(base + u32::from(c as u8 - b'a'))
        .filter(|m| m.is_alphabetic())
        .map_or(c.to_string(), String::from)
}

/// Whether `text` is more than one word (`son of a bitch`, `bum-bandits`).
fn is_phrase(text: &str) -> bool {
    text.contains([' ', '-', '_', '.'])
}

/// Whether a reader takes both pieces of a split for ordinary words (`bang br0$`).
fn ordinary_pair(a: &str, b: &str) -> bool {
    dictionary::is_word(&phrase_key(a)) && dictionary::is_word(&phrase_key(b))
}

/// Letters of a single word joined by `sep`; `None` for phrases.
fn join_letters(text: &str, sep: &str) -> Option<String> {
    if is_phrase(text) {
        return None;
    }
    let letters: Vec<String> = text.chars().map(String::from).collect();
    Some(letters.join(sep))
}

/// `text` with a break at its middle letter, for single words of four letters or more.
fn split_middle(text: &str, with: &str) -> Option<(String, String, String)> {
    let chars: Vec<char> = text.chars().collect();
    if is_phrase(text) || chars.len() < 4 {
        return None;
    }
    let at = chars.len() / 2;
    let (a, b): (String, String) = (chars[..at].iter().collect(), chars[at..].iter().collect());
    Some((format!("{a}{with}{b}"), a, b))
}

/// `text` split at its middle letter by `with`, unless both pieces are ordinary words:
/// two ordinary words side by side are read as two words, by design.
fn split_unless_ordinary(text: &str, with: &str) -> Option<String> {
    let (split, a, b) = split_middle(text, with)?;
    (!ordinary_pair(&a, &b)).then_some(split)
}

/// A single word of four ASCII letters or more with one letter inside, its first vowel
/// where it has one, written as `with`.
fn hide_a_letter(text: &str, with: &str) -> Option<String> {
    if is_phrase(text) || text.len() < 4 || !text.is_ascii() {
        return None;
    }
    let inner = &text[1..text.len() - 1];
    let at = inner.find(['a', 'e', 'i', 'o', 'u']).unwrap_or(0) + 1;
    Some(format!("{}{with}{}", &text[..at], &text[at + 1..]))
}

const FAMILIES: &[Family] = &[
    Family {
        name: "as listed",
        apply: |t, _| Some(t.to_string()),
        per_letter: true,
    },
    Family {
        name: "upper case",
        apply: |t, _| Some(t.to_uppercase()),
        per_letter: true,
    },
    Family {
        name: "mixed case",
        apply: |t, _| {
            Some(
                t.chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect(),
            )
        },
        per_letter: true,
    },
    Family {
        name: "leetspeak",
        apply: |t, _| {
            Some(map_letters(t, |c| {
                match c {
                    'a' => "4",
                    'e' => "3",
                    'i' => "1",
                    'o' => "0",
                    's' => "$",
                    't' => "7",
                    _ => return c.to_string(),
                }
                .to_string()
            }))
        },
        per_letter: true,
    },
    Family {
        name: "stretched letter",
        apply: |t, _| {
            let at = t.rfind(['a', 'e', 'i', 'o', 'u'])?;
            let c = t[at..].chars().next()?;
            Some(format!(
                "{}{}{}",
                &t[..at],
                c.to_string().repeat(4),
                &t[at + 1..]
            ))
        },
        per_letter: true,
    },
    Family {
        name: "accents",
        apply: |t, _| {
            Some(map_letters(t, |c| {
                match c {
                    'a' => "á",
                    'e' => "é",
                    'i' => "í",
                    'o' => "ö",
                    'u' => "ü",
                    'n' => "ñ",
                    'c' => "ç",
                    's' => "š",
                    'z' => "ž",
                    _ => return c.to_string(),
                }
                .to_string()
            }))
        },
        per_letter: true,
    },
    Family {
        name: "combining marks",
        apply: |t, _| Some(map_letters(t, |c| format!("{c}\u{0301}\u{0316}"))),
        per_letter: true,
    },
    Family {
        name: "look-alike scripts",
        apply: |t, _| {
            Some(map_letters(t, |c| {
                match c {
                    'a' => "а",
                    'e' => "е",
                    'o' => "о",
                    'p' => "р",
                    'c' => "с",
                    'x' => "х",
                    'y' => "у",
                    'i' => "і",
                    's' => "ѕ",
                    'j' => "ј",
                    'h' => "һ",
                    _ => return c.to_string(),
                }
                .to_string()
            }))
        },
        per_letter: true,
    },
    Family {
        name: "fullwidth",
        apply: |t, _| Some(map_letters(t, |c| offset(0xFF41, c))),
        per_letter: true,
    },
    Family {
        name: "mathematical letters",
        apply: |t, n| Some(map_letters(t, |c| offset(MATH[n % MATH.len()], c))),
        per_letter: true,
    },
    Family {
        name: "enclosed letters",
        apply: |t, n| {
            let base = [0x24D0, 0x249C, 0x1F130, 0x1F170][n % 4];
            Some(map_letters(t, |c| offset(base, c)))
        },
        per_letter: true,
    },
    Family {
        name: "regional indicators",
        apply: |t, _| Some(map_letters(t, |c| offset(0x1F1E6, c))),
        per_letter: true,
    },
    Family {
        name: "small caps",
        apply: |t, _| Some(map_letters(t, |c| nth(SMALL_CAPS, c))),
        per_letter: true,
    },
    Family {
        name: "modifier letters",
        apply: |t, _| Some(map_letters(t, |c| nth(SUPERSCRIPT, c))),
        per_letter: true,
    },
    Family {
        name: "invisible characters",
        apply: |t, n| {
            let mut out = String::new();
            for (i, c) in t.chars().enumerate() {
                if i > 0 && c != ' ' {
                    out.push(INVISIBLE[(n + i) % INVISIBLE.len()]);
                }
                out.push(c);
            }
            Some(out)
        },
        per_letter: true,
    },
    Family {
        name: "markdown",
        apply: |t, n| Some(MARKDOWN[n % MARKDOWN.len()].replace("{}", t)),
        per_letter: true,
    },
    Family {
        name: "excited punctuation",
        apply: |t, n| Some(format!("{t}{}", ["!!!1!", "?!1", "!!", "!1!1"][n % 4])),
        per_letter: true,
    },
    Family {
        name: "spaced letters",
        apply: |t, _| join_letters(t, " "),
        per_letter: false,
    },
    Family {
        name: "one separator",
        apply: |t, n| join_letters(t, SEPARATORS[n % SEPARATORS.len()]),
        per_letter: false,
    },
    Family {
        name: "mixed separators",
        apply: |t, n| {
            if is_phrase(t) {
                return None;
            }
            let mut out = String::new();
            for (i, c) in t.chars().enumerate() {
                if i > 0 {
                    out.push_str(SEPARATORS[(n + i) % SEPARATORS.len()]);
                    if (n + i) % 3 == 0 {
                        out.push(' ');
                    }
                }
                out.push(c);
            }
            Some(out)
        },
        per_letter: false,
    },
    Family {
        name: "emoji between letters",
        apply: |t, n| join_letters(t, EMOJI[n % EMOJI.len()]),
        per_letter: false,
    },
    Family {
        name: "split by a space",
        apply: |t, _| split_unless_ordinary(t, " "),
        per_letter: false,
    },
    Family {
        name: "split twice",
        apply: |t, _| {
            let letters: Vec<char> = t.chars().collect();
            if is_phrase(t) || letters.len() < 5 {
                return None;
            }
            let (a, b) = (letters.len() / 3, letters.len() * 2 / 3);
            let pieces: Vec<String> = [&letters[..a], &letters[a..b], &letters[b..]]
                .iter()
                .map(|p| p.iter().collect())
                .collect();
            // Three ordinary words side by side are three words.
            let ordinary = pieces.iter().all(|p| {
                let key = phrase_key(p);
                matches!(key.as_str(), "a" | "i" | "u")
                    || (key.len() >= 2 && dictionary::is_word(&key))
            });
            (!ordinary).then(|| pieces.join(" "))
        },
        per_letter: false,
    },
    Family {
        name: "x for a letter",
        apply: |t, _| {
            if is_phrase(t) || !(4..=12).contains(&t.len()) || !t.is_ascii() || t.contains('x') {
                return None;
            }
            // A letter inside the word, a vowel where there is one.
            let at = t[1..t.len() - 1]
                .find(['a', 'e', 'i', 'o', 'u'])
                .unwrap_or(0)
                + 1;
            let written = format!("{}x{}", &t[..at], &t[at + 1..]);
            let plain = t.bytes().all(|b| b.is_ascii_lowercase());
            (plain && !dictionary::is_word(&written)).then_some(written)
        },
        per_letter: false,
    },
    Family {
        name: "number after",
        apply: |t, n| {
            let letters = t.bytes().all(|b| b.is_ascii_lowercase());
            if is_phrase(t) || !letters || t.len() < 2 {
                return None;
            }
            let number = ["123", "69", "2024", "88", "420", "007"][n % 6];
            Some(format!("{t}{number}"))
        },
        per_letter: false,
    },
    Family {
        name: "capital I for l",
        apply: |t, _| {
            // An `l` after a lowercase letter (or after such an `I`) written as `I`.
            let mut out = String::with_capacity(t.len());
            let mut after_lowercase = false;
            for c in t.chars() {
                let swap = c == 'l' && after_lowercase;
                out.push(if swap { 'I' } else { c });
                after_lowercase = c.is_ascii_lowercase();
            }
            (out != t).then_some(out)
        },
        per_letter: false,
    },
    Family {
        name: "stars for the end",
        apply: |t, _| {
            let plain = t.bytes().all(|b| b.is_ascii_lowercase());
            if !plain || t.len() < 6 {
                return None;
            }
            let kept = t.len().div_ceil(2);
            Some(format!("{}{}", &t[..kept], "*".repeat(t.len() - kept)))
        },
        per_letter: false,
    },
    Family {
        name: "two letters wrong",
        apply: |t, n| {
            let plain = t.bytes().all(|b| b.is_ascii_lowercase());
            // Written, still as long as a word read so.
            if !plain || t.len() <= typos::MIN_TWO_TYPOS {
                return None;
            }
            // One letter dropped near the start, and two swapped nearer the end.
            let mut letters = t.as_bytes().to_vec();
            let dropped = 2 + n % 3;
            letters.remove(dropped);
            let at = (dropped + 1..letters.len() - 1)
                .rev()
                .find(|&i| letters[i] != letters[i + 1])?;
            letters.swap(at, at + 1);
            let written = String::from_utf8(letters).ok()?;
            (!dictionary::is_word(&written)).then_some(written)
        },
        per_letter: false,
    },
    Family {
        name: "two letters swapped",
        apply: |t, _| {
            let plain = t.bytes().all(|b| b.is_ascii_lowercase());
            if !plain || t.len() < typos::MIN_TYPO {
                return None;
            }
            let mut letters = t.as_bytes().to_vec();
            let at = (1..letters.len() - 2).find(|&i| letters[i] != letters[i + 1])?;
            letters.swap(at, at + 1);
            let written = String::from_utf8(letters).ok()?;
            // Where an ordinary word is a letter away, the writer may mean it: left unread.
            let readable = !dictionary::is_word(&written) && !typos::near_ordinary(&written);
            readable.then_some(written)
        },
        per_letter: false,
    },
    Family {
        name: "split by a line break",
        apply: |t, _| split_unless_ordinary(t, "\n"),
        per_letter: false,
    },
    Family {
        name: "star for a vowel",
        apply: |t, _| {
            if is_phrase(t) || t.chars().count() < 4 {
                return None;
            }
            let at = t[1..t.len() - 1].find(['a', 'e', 'i', 'o', 'u'])? + 1;
            Some(format!("{}*{}", &t[..at], &t[at + 1..]))
        },
        per_letter: false,
    },
    Family {
        name: "symbol for a letter",
        apply: |t, n| hide_a_letter(t, ["#", "^", "%", "&"][n % 4]),
        per_letter: false,
    },
    Family {
        name: "grawlix",
        apply: |t, n| {
            let letters = t.chars().count();
            if is_phrase(t) || letters < 5 || !t.is_ascii() {
                return None;
            }
            // Up to three letters after the first, no more than a reader can fill in.
            let hidden = ((letters - 1) / 2).min(3);
            let symbols: String = "#$@%&".chars().cycle().skip(n % 5).take(hidden).collect();
            // The run must hold a symbol that hides a letter, not only ones read as letters.
            let symbols = if symbols.contains(['#', '%', '&']) {
                symbols
            } else {
                format!("#{}", &symbols[1..])
            };
            Some(format!("{}{symbols}{}", &t[..1], &t[1 + hidden..]))
        },
        per_letter: false,
    },
    Family {
        name: "punctuation for a letter",
        apply: |t, n| hide_a_letter(t, [".", "-", "_", "'"][n % 4]),
        per_letter: false,
    },
    Family {
        name: "symbols for letters",
        apply: |t, n| {
            let symbols = [
                ('s', "§"),
                ('i', "¡"),
                ('t', "†"),
                ('c', ["⊂", "©"][n % 2]),
                ('o', "°"),
                ('x', "×"),
                ('d', "∂"),
            ];
            let written: String = t
                .chars()
                .map(|c| {
                    symbols
                        .iter()
                        .find(|(letter, _)| *letter == c)
                        .map_or_else(|| c.to_string(), |(_, symbol)| symbol.to_string())
                })
                .collect();
            (written != t).then_some(written)
        },
        per_letter: true,
    },
    Family {
        name: "angle bracket for c",
        apply: |t, _| t.contains('c').then(|| t.replace('c', "<")),
        per_letter: true,
    },
    Family {
        name: "without vowels",
        apply: |t, _| {
            let consonants: String = t.chars().filter(|c| !"aeiou".contains(*c)).collect();
            let plain = t.bytes().all(|b| b.is_ascii_lowercase());
            // Consonants an ordinary word also has (`cnt`: count) are left unread, by design.
            let readable = plain
                && consonants.len() >= 3
                && consonants.len() < t.len()
                && !dictionary::is_word(&consonants)
                && !dictionary::is_consonants_of_word(&consonants);
            readable.then_some(consonants)
        },
        per_letter: false,
    },
    Family {
        name: "spelled by sound",
        apply: |t, n| {
            let plain = t.len() >= 4 && t.bytes().all(|b| b.is_ascii_lowercase());
            if !plain {
                return None;
            }
            // One respelling a word, the first of these (from the `n`th on) that applies.
            let respellings: [fn(&str) -> Option<String>; 4] = [
                |t| t.contains("ck").then(|| t.replacen("ck", "kk", 1)),
                |t| {
                    let at = t.find('c')?;
                    let hard = !matches!(t.as_bytes().get(at + 1), Some(b'e' | b'i' | b'y' | b'h'));
                    hard.then(|| format!("{}k{}", &t[..at], &t[at + 1..]))
                },
                |t| t.contains('f').then(|| t.replacen('f', "ph", 1)),
                |t| t.strip_suffix("er").map(|stem| format!("{stem}a")),
            ];
            let written =
                (0..respellings.len()).find_map(|i| respellings[(n + i) % respellings.len()](t))?;
            // A respelling an ordinary word could also be (`as` for `ass`) is left unread.
            let key = sounds::sound_key(t)?;
            let readable = !dictionary::is_word(&written) && !sounds::is_sound_of_word(&key);
            readable.then_some(written)
        },
        per_letter: false,
    },
    Family {
        name: "compound",
        apply: |t, n| {
            if is_phrase(t) {
                return None;
            }
            let word = ["big", "dirty", "face", "head", "stupid", "lord"][n % 6];
            Some(if n % 2 == 0 {
                format!("{word}{t}")
            } else {
                format!("{t}{word}")
            })
        },
        per_letter: false,
    },
    Family {
        name: "inflected",
        apply: |t, n| {
            if is_phrase(t) || t.chars().count() < 4 {
                return None;
            }
            let inflected = format!("{t}{}", ["s", "ing"][n % 2]);
            // An inflection that is an ordinary word (`spic` + `y`) stays clean, by design.
            (!dictionary::is_word(&inflected)).then_some(inflected)
        },
        per_letter: false,
    },
];

/// Pairs of families, the second applied to what the first made.
const PAIRS: [(&str, &str); 12] = [
    ("leetspeak", "markdown"),
    ("upper case", "spaced letters"),
    ("look-alike scripts", "emoji between letters"),
    ("invisible characters", "excited punctuation"),
    ("stretched letter", "markdown"),
    ("fullwidth", "excited punctuation"),
    ("accents", "one separator"),
    ("leetspeak", "split by a space"),
    ("mathematical letters", "markdown"),
    ("mixed case", "mixed separators"),
    ("number after", "leetspeak"),
    ("capital I for l", "markdown"),
];

fn family(name: &str) -> &'static Family {
    FAMILIES
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no family {name}"))
}

/// The built-in entries, with the list each comes from.
fn entries() -> Vec<(&'static str, String)> {
    BUILTIN_LISTS
        .iter()
        .flat_map(|(name, text)| list_entries(text).into_iter().map(move |e| (*name, e)))
        .collect()
}

/// `text` written by `family`, alone and inside a sentence.
fn variants(family: &Family, text: &str, n: usize) -> Vec<String> {
    let Some(written) = (family.apply)(text, n) else {
        return Vec::new();
    };
    vec![format!("i think {written} tbh"), written]
}

#[derive(Default)]
struct Tally {
    lines: usize,
    flagged: usize,
    rustrict_lines: usize,
    rustrict_flagged: usize,
    missed: Vec<String>,
}

impl Tally {
    fn add(&mut self, text: &str, flagged: bool, sample: bool) {
        self.lines += 1;
        self.flagged += usize::from(flagged);
        if !flagged && self.missed.len() < 6 {
            self.missed.push(text.to_string());
        }
        if sample {
            self.rustrict_lines += 1;
            self.rustrict_flagged += usize::from(text.is_inappropriate());
        }
    }

    fn rate(&self) -> f64 {
        self.flagged as f64 / self.lines.max(1) as f64
    }

    fn rustrict_rate(&self) -> f64 {
        self.rustrict_flagged as f64 / self.rustrict_lines.max(1) as f64
    }
}

/// Every `SAMPLE`th line is also given to rustrict, which is slow in a debug build.
const SAMPLE: usize = 13;

#[test]
fn every_listed_entry_is_caught_in_every_family() {
    let rules = rules::example().expect("example rules load");
    let mut poster = Poster::new(&rules);
    let entries = entries();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    // One word, one rule: a line holding one listed word never costs its writer two
    // warnings (a phrase of two listed words, `fag asses`, may).
    let mut twice = Vec::new();
    let mut line = 0usize;
    let mut run = |name: String, write: &dyn Fn(&str, usize) -> Vec<String>, phrases: bool| {
        let mut tally = Tally::default();
        // Families that keep a word one token (spelled-out letters may hold two words).
        let one_token = !["separator", "spaced", "between", "split", "compound"]
            .iter()
            .any(|spread| name.contains(spread));
        for (n, (_, entry)) in entries.iter().enumerate() {
            if is_phrase(entry) && !phrases {
                continue;
            }
            for text in write(entry, n) {
                line += 1;
                let fired = poster.rules_fired(&text);
                if fired.len() > 1 && one_token && !is_phrase(entry) && twice.len() < 20 {
                    twice.push(format!("{text:?}: {fired:?}"));
                }
                tally.add(&text, !fired.is_empty(), line.is_multiple_of(SAMPLE));
            }
        }
        report.push(format!(
            "{name:<48} {:>6} lines  steward {:.3}  rustrict {:.3}",
            tally.lines,
            tally.rate(),
            tally.rustrict_rate()
        ));
        // Every family holds at 97 % or more of what it applies to.
        if tally.rate() < 0.97 {
            failures.push(format!(
                "{name}: {:.3}, missed {:?}",
                tally.rate(),
                tally.missed
            ));
        }
    };
    for f in FAMILIES {
        run(f.name.to_string(), &|t, n| variants(f, t, n), f.per_letter);
    }
    for (first, second) in PAIRS {
        let (a, b) = (family(first), family(second));
        let both = move |t: &str, n: usize| {
            (a.apply)(t, n)
                .map(|once| variants(b, &once, n))
                .unwrap_or_default()
        };
        run(
            format!("{first} + {second}"),
            &both,
            a.per_letter && b.per_letter,
        );
    }
    println!("recall per family ({} entries):", entries.len());
    for r in &report {
        println!("  {r}");
    }
    assert!(report.len() >= 30, "{} families and pairs", report.len());
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(twice.is_empty(), "lines that fired two rules: {twice:#?}");
}

/// Families that hide letters: an ordinary word with a letter hidden (`sh#t` for `shot`)
/// reads as the listed word it fits, as its writer means it to.
const HIDE_LETTERS: &[&str] = &[
    "star for a vowel",
    "symbol for a letter",
    "grawlix",
    "punctuation for a letter",
    "x for a letter",
    "stars for the end",
];

/// Words and phrases whose ordinary reading holds a listed word or looks like one.
const TRAPS: &[&str] = &[
    "Scunthorpe",
    "Shitterton",
    "Cockermouth",
    "Lightwater",
    "cocktail",
    "assassin",
    "the pen is mightier than the sword",
    "magna cum laude",
    "summa cum laude",
    "press the butt on the left, I mean the button",
    "a classic therapist",
    "shiitake mushrooms",
    "spicy food",
    "a cocky reply",
    "assess the assessment",
    "Dickens and Hancock",
    "the cockpit of a peacock",
    "analysis of the bass",
    "Sussex, Essex and Middlesex",
    "Arsenal won",
    "cumulative circumstances",
    "Matsushita",
    "Penistone",
    "it's 25°C outside",
    "© 2024 Example Inc",
    "see § 3 of the rules",
    "5 × 3 = 15",
    "i'll shoot you a message later",
    "i'll never hurt you",
    "i would never kill you",
    "they're gonna kill you if you go mid",
    "i hope you don't die in the raid",
    "i'm going to beat you at chess",
    "i hope you feel better soon",
    "i will beat you next round",
    "im gonna destroy you in ranked",
    "i want to end this call",
    "we will kill it tonight",
    "Clitheroe",
    "tit for tat",
    "a sperm whale",
    "grape juice",
    "I need to pass this class",
    "hello there, nice to meet you",
    "gg!!!1!",
    "wow!!!1! what a game",
    "#general is over there",
    "||the ending was sad||",
    "**bold** move",
    "`cargo build` works",
    "*sigh*",
    "🔥🔥🔥 lit",
    "👍🏽 sounds good",
    "see you at 5!!",
    "is it ready?!1",
    "what is this?!",
    "a s a p",
    "t h a n k s",
];

/// Ordinary words joined by punctuation as English writes them: hyphenated (`t-bone`,
/// `well-known`), with an apostrophe (`dog's`, `isn't`), with a dot (`e.g`), never read as
/// one word with hidden letters.
#[test]
fn punctuation_between_ordinary_words_hides_no_letters() {
    let rules = rules::example().expect("example rules load");
    let mut poster = Poster::new(&rules);
    let words: Vec<&str> = include_str!("../lists/english.txt")
        .lines()
        .filter(|w| (2..=7).contains(&w.len()))
        .collect();
    // A fixed walk through the dictionary, so every run reads the same lines.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut pick = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut lines = Vec::new();
    for _ in 0..4000 {
        let (a, b) = (words[pick(words.len())], words[pick(words.len())]);
        let letter = char::from(b'a' + pick(26) as u8);
        let mark = ["-", "'", ".", "_"][pick(4)];
        lines.push(format!("{a}{mark}{b}"));
        lines.push(format!("{letter}{mark}{b}"));
        lines.push(format!("{a}{mark}{letter}"));
        lines.push(format!("{a}'s {b}n't"));
    }
    let flagged: Vec<&String> = lines.iter().filter(|l| poster.flags(l)).collect();
    let share = flagged.len() as f64 / lines.len() as f64;
    println!(
        "flagged {}/{} = {:.3}%: {flagged:?}",
        flagged.len(),
        lines.len(),
        share * 100.0
    );
    assert!(share <= 0.001, "{share:.4}: {flagged:?}");
}

#[test]
fn ordinary_english_stays_clean_in_every_family() {
    let rules = rules::example().expect("example rules load");
    let mut poster = Poster::new(&rules);
    let traps_flagged: Vec<&str> = TRAPS.iter().copied().filter(|t| poster.flags(t)).collect();
    assert!(traps_flagged.is_empty(), "traps flagged: {traps_flagged:?}");

    let words: Vec<&str> = include_str!("../lists/english.txt")
        .lines()
        .step_by(41)
        .collect();
    let mut lines = 0usize;
    let mut flagged = Vec::new();
    let mut per_family = Vec::new();
    for f in FAMILIES.iter().filter(|f| !HIDE_LETTERS.contains(&f.name)) {
        let mut hits = 0;
        for (n, word) in words.iter().enumerate() {
            for text in variants(f, word, n) {
                lines += 1;
                // A long word with an emoji between each two letters is an emoji flood,
                // which the walls-of-text rule removes whatever the word.
                let fired = poster.rules_fired(&text);
                if fired.iter().any(|rule| rule != "walls-of-text") {
                    hits += 1;
                    flagged.push(format!("{}: {text:?}", f.name));
                }
            }
        }
        per_family.push(format!("{}: {hits}", f.name));
    }
    let share = flagged.len() as f64 / lines as f64;
    println!(
        "ordinary words flagged: {}/{lines} = {:.3}% ({} words); per family {per_family:?}",
        flagged.len(),
        share * 100.0,
        words.len()
    );
    for f in flagged.iter().take(40) {
        println!("  {f}");
    }
    assert!(lines > 50_000, "{lines} lines");
    assert!(
        share <= 0.005,
        "{:.3}% of ordinary lines flagged",
        share * 100.0
    );
}

/// A word one list holds as written is that list's alone: no other list reads it by sound
/// as one of its own respellings (`fuck` sounds like the sexual list's `fukc`), so one word
/// never acts twice.
#[test]
fn a_listed_word_fires_its_own_rule_once() {
    let rules = rules::example().expect("example rules load");
    let mut poster = Poster::new(&rules);
    for text in ["what the fuck", "fuuuck", "FUCK!!!"] {
        assert_eq!(poster.rules_fired(text), ["profanity"], "{text}");
    }
}
