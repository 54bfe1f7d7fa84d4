#!/usr/bin/env python3
"""Regenerate the built-in word lists and the English dictionary in lists/.

Sources, all from package registries, pinned:
- the `stfu` crate 0.1.0 (crates.io, Unlicense), which carries the Surge AI profanity list
  (MIT) as arrays grouped by category and severity;
- the `rustrict` crate 0.7.39 (crates.io, MIT), whose src/profanity.csv rates each entry
  0-3 (offensive up to 5) for being profane, offensive, sexual, mean and evasive;
- the npm package `cuss` 2.2.0 (MIT), which rates each English entry 0-2 for how likely it
  is meant as profanity rather than clean text;
- the npm package `@dsojevic/profanity-list` 1.0.0 (MIT), whose en.json tags each entry
  (sexual, lgbtq, racial, shock, general, religious) with a severity 1-4;
- Debian's `wamerican` 2020.12.07-2 (SCOWL, permissive; see lists/LICENSE), the English
  dictionary that tells ordinary words from joined or inflected listed ones.

Fetch them and run:

    cargo info stfu@0.1.0 && cargo info rustrict@0.7.39
    npm pack cuss@2.2.0 @dsojevic/profanity-list@1.0.0   # untar each into its own folder
    apt-get download wamerican && dpkg-deb -x wamerican_*.deb wamerican
    python3 scripts/wordlists.py ~/.cargo/registry/src/*/stfu-0.1.0 \\
        ~/.cargo/registry/src/*/rustrict-0.7.39 cuss/package dsojevic/package \\
        wamerican/usr/share/dict/american-english lists/

Writes slurs.txt, profanity.txt, sexual.txt, insults.txt and english.txt. harassment.txt
(phrases that incite self-harm or threaten a person) is written by hand, but for its last
part: the threats and wishes of harm small grammars write (who ... harm at whom, below),
which this script rewrites after THREATS_MARKER.

How entries are chosen:
- stfu: slurs are its racial/ethnic and sexual-orientation/gender rows rated severe or
  strong, except ordinary profanity the arrays repeat there (GENERAL); the rest is profanity.
- rustrict: an entry is kept when it is rated 2 or more in some column. One that is an
  ordinary dictionary word must be rated 3 or more, and entries of three letters or fewer
  too, since their ordinary readings are common. It goes to the first list it fits:
  slurs (offensive 3+), sexual (sexual 2+), insults (mean 2+), profanity (the rest).
- cuss and dsojevic: an entry that is no dictionary word is kept when cuss rates it 2 or
  dsojevic 2 or more, or when rustrict rates it 1 and another source lists it; a dictionary
  word only when two sources rate it so (cuss 2, dsojevic 3+, rustrict 2+). It goes to the
  list its dsojevic tag or rustrict rating names (racial and lgbtq: slurs; sexual and shock:
  sexual), else to profanity.
- All: identity terms and words whose ordinary reading is common (NOT_INSULTS, ORDINARY)
  are never listed; entries must be written in letters, digits, spaces and the symbols
  leetspeak uses, hold three letters (or leetspeak for them) or more, and hold no one-letter word but `a`, `i` and `u`.
- english.txt is the dictionary less every listed entry and every word the matcher reads as
  a listed stem with a suffix (but INNOCENT_INFLECTIONS), so a listed word is never taken
  for an ordinary one.
"""
import csv
import json
import re
import sys
from pathlib import Path

# Canonical forms of ordinary profanity that the stfu arrays repeat inside the slur categories.
GENERAL = {
    "ass", "arse", "asshole", "bastard", "bitch", "bitches", "bollocks", "butt", "cock", "cum",
    "cunt", "damn", "dick", "dickhead", "fuck", "fucker", "fucking", "hell", "hoe", "knob",
    "motherfucker", "piss", "prick", "pussy", "sex", "shit", "slut", "son of a bitch", "twat",
    "wanker", "whore", "anal", "anus", "balls", "boobs", "crap", "douche", "jizz", "penis",
    "semen", "vagina", "tits",
}
# Identity terms and ordinary English the sources carry; never insults on their own.
NOT_INSULTS = {
    "gay", "gays", "lesbian", "lesbians", "bisexual", "homosexual", "transgender", "trans",
    "queer", "crows", "black", "white", "asian", "jew", "jews", "muslim", "arab", "mexican",
    "african", "indian", "chinese", "japanese", "69", "bang", "wound", "abraham", "ape",
    "apes", "sex", "sexy", "god", "jesus", "christ", "lord", "hell", "damn", "bloody",
    "bugger", "cracker", "crackers", "oriental", "gypsy", "eskimo", "colored", "coloured",
    "tard", "sick", "stupid", "idiot", "dumb", "moron", "fat", "ugly", "boy", "girl", "lady",
    "ho", "hoes", "kid", "kids", "monkey", "pig", "dog", "cow", "rat", "snake", "bicon",
    "cishet", "enby", "tgirl", "transbian",
}
# Words with a common ordinary reading (tools, sports, food, anatomy and medicine, farming,
# courage, clothing) that a moderation default must not punish.
ORDINARY = {
    "butt", "bondage", "flange", "muff", "pubescent", "inseminate", "inseminating", "hooker",
    "spunk", "erotica", "labia", "penile", "scrotum", "testicle", "testes", "vulva", "boob",
    "nudes", "pron", "freak", "hate", "loser", "orphanage", "racist", "sucker", "fatty",
    "dimwit", "spastic", "incest", "sodomy", "bestiality", "vibrator", "rectum", "hymen",
    "genital", "libido", "fetish", "naked", "nude", "breast", "pregnant", "condom", "erection",
    "diddle", "vixen", "bobs", "nips", "secs", "pp", "xxx", "weenie", "tidies", "underskirt",
    "dicker", "coitus", "copulate", "intercourse", "castrate", "castration", "ejaculate",
    "sexual", "sperm", "boned", "flick", "scum", "scumbag", "bunghole", "klansman", "bum",
    "hoar", "nga", "sodomite", "foursome", "bates", "buttermilk", "crow", "finger", "forked",
    "loose", "meat", "nuggets", "peter", "sack", "sheet", "suck", "jerk", "knickers", "bender",
    "flamer", "flamers", "trash", "tramp", "slit", "spook", "spooks", "jigger", "knob", "nip",
    "bung", "coot", "cooties", "dix", "dolt", "hustler", "nymph", "ramrod", "swine", "tart",
    "wang", "hooters", "dipstick", "booty", "bbc", "puss", "pusses", "crotch", "fart",
    "snatch", "cumming", "mongrel", "transvestite", "queers", "gayest", "gayness", "sphincter",
    "molest", "molester", "grope", "spank", "spanking", "sissy", "nonce",
    # Names, places, foods, games and words of other languages the newer sources list.
    "osama", "usama", "hamas", "dahmer", "carruth", "noonan", "santorum", "tuckahoe",
    "hitlerism", "hitlerist", "sixsixsix", "sixtynine", "sixtyniner", "eight ball",
    "eight balls", "magicwand", "loadedgun", "thirdeye", "threeway", "rearend", "tortur",
    "jiggy", "gangsta", "honkers", "honger", "hork", "hori", "horis", "ikwe", "indon",
    "squinty", "cheesehead", "cheeseheads", "redleg", "redlegs", "boonie", "boonies", "bunga",
    "bungas", "chonky", "chonkies", "chonkys", "chunkies", "chunkys", "buffies", "doodoo",
    "crapper", "pooper", "spreadeagle", "juggalo", "jebus", "hoser", "chav", "bogan",
    "clansman", "clansmen", "clanswoman", "clanswomen", "cushi", "cushis", "kushi", "kushis",
    "mzungu", "mzungus", "triplex", "niggarded", "niggarding", "niggardlinesss", "orga",
    "geni", "floo", "taff", "gora", "goras", "hapa", "haole", "haoles", "bule", "bules",
    "payo", "rere", "cohee", "cooly", "gipp", "gipps", "whop", "mams", "muncher", "spitter",
    "teste", "turnon", "twinkie", "vibr", "whash", "fok", "cunn", "pric", "pudd", "shav",
    "jigg", "panti", "pansy", "poof", "commie", "switch hitter", "gym bunny", "gymbunny",
    "muscle mary", "potato queen", "rice queen", "gray queen", "grey queen", "chicken queen",
    "haji", "hadji", "hajji", "hajjis", "hadjis", "hajis", "finocchio", "finoccio", "finochio",
    "hermie", "neo nazi", "neo-nazi", "neonazi", "only fans", "jelly donut", "cream-pie",
    "ball kicking", "ball-kicking", "chocolate rosebud", "chocolate rosebuds",
    "alaskan pipeline", "pony boy", "pony girl", "pony-boy", "pony-girl", "ponyboy",
    "ponygirl", "wrapping men", "hickory switch", "dammit", "damnit", "god-damn", "goddamit",
    "godammit", "hotdamn", "goddamnes", "rapist", "rapists",
}
# Ordinary words that a listed stem and a suffix the matcher strips happen to spell
# (`spic` + `y`, `cock` + `y`, `asses` + `s`): kept in the dictionary, so they stay clean.
INNOCENT_INFLECTIONS = {
    "assess", "assessed", "assesses", "assessing", "bonkers", "chinked", "chinking", "cocked",
    "cocking", "cocky", "dicker", "dickers", "dicky", "fawkes", "fuchs", "monger", "mongers",
    "pricked", "pricking", "retarding", "shatter", "shatters", "spiced", "spices", "spicing",
    "spicy", "spiked", "spikes", "spiking", "spiky",
}
# What the matcher strips from a word to find a listed stem, and the shortest stem it keeps
# (src/engine/detect/words.rs: SUFFIXES, MIN_STEM).
SUFFIXES = ["ing", "ers", "es", "ed", "er", "s", "z", "in", "y"]
MIN_STEM = 4
ENTRY = re.compile(r"^[a-z0-9@$!|+*' ._-]+$")
# One-letter words an entry may hold (`son of a bitch`, `suck my d` may not).
SHORT_WORDS = {"a", "i", "u"}


def arrays(path: Path) -> dict[str, list[str]]:
    text = path.read_text(encoding="utf-8")
    out = {}
    for match in re.finditer(r"pub const (\w+): \[&str; \d+\] = \[(.*?)\];", text, re.S):
        out[match.group(1)] = [
            bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
            for s in re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2))
        ]
    return out


def clean(entry: str) -> str | None:
    """The entry as listed, or None when it cannot be matched as words."""
    e = " ".join(entry.strip().lower().split())
    if not e or not ENTRY.match(e):
        return None
    if sum(c.isalnum() or c in "@$!|+" for c in e) < 3:
        return None
    if any(len(w) == 1 and w not in SHORT_WORDS for w in re.split(r"[ ._-]+", e) if w):
        return None
    return e


def stfu_lists(crate: Path) -> tuple[set[str], set[str]]:
    lists = crate / "src" / "word_lists"
    category = arrays(lists / "category.rs")
    severity = arrays(lists / "severity.rs")
    harsh = set(severity["SEVERE"]) | set(severity["STRONG"])
    every = {w.strip().lower() for words in category.values() for w in words if w.strip()}
    slur_rows = set(category["RACIAL_ETHNIC_SLURS"]) | set(category["SEXUAL_ORIENTATION_GENDER"])
    slurs = {w.strip().lower() for w in slur_rows & harsh} - GENERAL - NOT_INSULTS - ORDINARY
    profanity = every - slurs - NOT_INSULTS - ORDINARY
    return slurs, profanity


def rustrict_lists(
    crate: Path, dictionary: set[str]
) -> tuple[dict[str, set[str]], dict[str, tuple[str, int]]]:
    """The entries rustrict rates high enough, and every entry with its list and top rating."""
    out = {"slurs": set(), "sexual": set(), "insults": set(), "profanity": set()}
    rated = {}
    with open(crate / "src" / "profanity.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            word = clean(row["word"])
            if word is None or word in NOT_INSULTS or word in ORDINARY:
                continue
            rating = {k: int(row[k]) for k in ("profane", "offensive", "sexual", "mean")}
            top = max(rating.values())
            rated[word] = (strongest(rating), top)
            letters = sum(c.isalpha() for c in word)
            needs = 3 if word in dictionary or letters <= 3 else 2
            if top >= needs:
                out[rustrict_list(rating, 2)].add(word)
    return out, rated


def strongest(rating: dict[str, int]) -> str:
    """The list named by a rustrict entry's highest rating (offensive first on a tie)."""
    top = max(rating.values())
    lists = [("offensive", "slurs"), ("sexual", "sexual"), ("mean", "insults")]
    return next((name for column, name in lists if top and rating[column] == top), "profanity")


def rustrict_list(rating: dict[str, int], floor: int) -> str:
    """The list a rustrict entry belongs to; `floor` is the least rating that counts."""
    if rating["offensive"] >= floor + 1:
        return "slurs"
    if rating["sexual"] >= floor:
        return "sexual"
    if rating["mean"] >= floor:
        return "insults"
    return "profanity"


def cuss_ratings(package: Path) -> dict[str, int]:
    """cuss's English entries and their 0-2 ratings."""
    text = (package / "index.js").read_text(encoding="utf-8")
    found = re.findall(r"^\s+'?([^':]+)'?: (\d),?$", text, re.M)
    return {word.strip().lower(): int(rating) for word, rating in found}


def dsojevic_entries(package: Path) -> dict[str, tuple[str, int]]:
    """dsojevic's English spellings, each with the list its first tag names and its severity.

    Spellings written as patterns (`*`) are left out: the matcher has its own evasion handling.
    """
    lists = {"racial": "slurs", "lgbtq": "slurs", "sexual": "sexual", "shock": "sexual"}
    out = {}
    for entry in json.loads((package / "en.json").read_text(encoding="utf-8")):
        name = lists.get(entry["tags"][0], "profanity")
        for spelling in entry["match"].split("|"):
            if "*" not in spelling:
                out[spelling.strip().lower()] = (name, int(entry["severity"]))
    return out


def confirmed(
    rustrict: dict[str, tuple[str, int]],
    cuss: dict[str, int],
    dsojevic: dict[str, tuple[str, int]],
    dictionary: set[str],
) -> dict[str, set[str]]:
    """Entries that cuss and dsojevic rate as meant, or confirm where rustrict rates 1."""
    out = {"slurs": set(), "sexual": set(), "insults": set(), "profanity": set()}
    for word in set(cuss) | set(dsojevic) | set(rustrict):
        if word in NOT_INSULTS or word in ORDINARY:
            continue
        name, severity = dsojevic.get(word, ("profanity", 0))
        list_name, rating = rustrict.get(word, (name, 0))
        votes = [cuss.get(word, 0) >= 2, severity >= 3, rating >= 2]
        if word in dictionary or sum(c.isalpha() for c in word) <= 3:
            keep = sum(votes) >= 2
        else:
            listed_elsewhere = word in cuss or word in dsojevic
            keep = cuss.get(word, 0) >= 2 or severity >= 2 or (rating >= 1 and listed_elsewhere)
        if keep:
            out[name if word in dsojevic else list_name].add(word)
    return out


LEET = str.maketrans("l1!|0@4$5378", "iiiioaasseti")


def reading(word: str) -> str:
    """A word as the matcher may read it: leetspeak and `l` as `i`, doubled letters once."""
    folded = word.translate(LEET).replace(" ", "")
    return re.sub(r"(.)\1+", r"\1", folded)


def slur_variants(entries: set[str], slurs: set[str]) -> set[str]:
    """Entries that hold a slur as the matcher reads them (`nlgger`, `niggar` + `s`), so
    that one word is one list's."""
    stems = {reading(s) for s in slurs if len(reading(s)) >= 5}
    return {e for e in entries if any(stem in reading(e) for stem in stems)}


# Threats and wishes of harm at a person, written as members write them: who, then up to
# four words (the `...` of a listed phrase: `i'll find you and kill you`), then the harm at
# whom. Each line of the products is listed in lists/harassment.txt after THREATS_MARKER.
# Who is always the writer (`i'll`, `imma`, `someone should`), never a third person (`they're
# gonna kill you` warns in a game). Harms that are ordinary words in game chat (`beat you`,
# `shoot you a message`, `destroy you`, `burn you a copy`) are left out or listed only with
# what makes them a threat (`beat you up`). A negation in the gap (`i'll never hurt you`)
# turns the line clean; the matcher sees to that.
THREATS_MARKER = "# Threats, generated by scripts/wordlists.py (who ... harm at whom):"
THREAT_SUBJECTS = [
    "i will", "i'll", "ill", "i'm gonna", "im gonna", "i'm going to", "im going to",
    "i am going to", "i am gonna", "imma", "ima", "i'm finna", "im finna", "i'd", "i would",
    "we will", "we're gonna", "we are going to", "someone should", "somebody should",
    "someone needs to", "i want to", "i wanna", "i'm about to", "im about to",
    "i'm coming to", "im coming to", "i swear i'll",
]
THREAT_HARMS = [
    "kill", "murder", "stab", "strangle", "choke", "behead", "rape", "hurt", "end", "torture",
    "hang", "drown", "slaughter", "butcher", "shank", "kidnap", "dox", "swat",
]
THREAT_TARGETS = [
    "you", "u", "ya", "your family", "ur family", "your whole family", "ur whole family",
    "your entire family", "your mom", "ur mom", "your mother", "your kids", "ur kids",
    "your sister", "you and your family",
]
THREAT_EXTRAS = [
    "beat you up", "beat u up", "beat the shit out of you", "beat the shit out of u",
    "slit your throat", "slit ur throat", "cut your throat", "cut ur throat",
    "break your neck", "break ur neck", "break your legs", "break ur legs",
    "burn your house down", "burn ur house down", "come to your house", "find where you live",
    "find your address", "hunt you down", "hunt u down", "track you down",
    "shoot you in the face", "shoot you in the head", "shoot up your school",
    "put a bullet in your head", "put a bullet in ur head", "put a bullet in you",
    "kill you in your sleep", "bash your head in", "smash your face in", "cave your skull in",
    "make you bleed", "make you regret being born",
]
# What the writer wishes on the reader, after `i hope` and the like.
WISH_SUBJECTS = ["i hope", "hope", "i wish", "i pray", "i really hope"]
WISHES = [
    "you die", "u die", "you get cancer", "u get cancer", "you get hit by a car",
    "u get hit by a car", "you get raped", "u get raped", "you get shot", "you get stabbed",
    "you choke", "u choke", "you rot", "you rot in hell", "you burn in hell", "you drown",
    "you overdose", "you kill yourself", "u kill urself", "you never wake up", "you suffer",
    "your family dies", "ur family dies", "your whole family dies", "your mom dies",
    "your kids die", "you get aids", "you starve",
]
# What the writer says the reader should suffer.
DESERVE_SUBJECTS = ["you should", "u should", "you deserve to", "u deserve to", "you need to",
                    "u need to", "you ought to"]
DESERVES = [
    "be shot", "get shot", "be killed", "get killed", "be raped", "get raped", "be hanged",
    "get hanged", "be lynched", "get lynched", "be stabbed", "get stabbed", "be put down",
    "be gassed", "get cancer", "kill yourself", "kill urself", "unalive yourself",
    "unalive urself", "end yourself", "hang yourself", "just die", "go die", "drop dead",
]


def threats() -> list[str]:
    """Every phrase the grammars above write, each once."""
    harms = [f"{h} {t}" for h in THREAT_HARMS for t in THREAT_TARGETS] + THREAT_EXTRAS
    # `shoot you` alone is `shoot you a message`: only the extras that aim it stay.
    harms = [h for h in harms if not (h.startswith("shoot ") and h.count(" ") == 1)]
    products = [(THREAT_SUBJECTS, harms), (WISH_SUBJECTS, WISHES), (DESERVE_SUBJECTS, DESERVES)]
    return sorted({f"{s} ... {h}" for subjects, tails in products for s in subjects for h in tails})


def write_harassment(path: Path) -> int:
    """Rewrites the generated threats at the end of the hand-written harassment list."""
    text = path.read_text(encoding="utf-8")
    hand = text.split(THREATS_MARKER)[0].rstrip("\n")
    lines = threats()
    path.write_text(f"{hand}\n\n{THREATS_MARKER}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def inflections(words: set[str], listed: set[str]) -> set[str]:
    """Dictionary words the matcher reads as a listed stem with a suffix."""
    out = set()
    for w in words:
        for suffix in SUFFIXES:
            stem = w[: -len(suffix)]
            if not w.endswith(suffix) or len(stem) < MIN_STEM:
                continue
            # The matcher reads a doubled last letter once (`shitty` is `shit` + `y`).
            if stem in listed or (stem[-1] == stem[-2] and stem[:-1] in listed):
                out.add(w)
    return out


def main() -> int:
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    stfu, rustrict, cuss, dsojevic, dict_file, out_dir = (Path(a) for a in sys.argv[1:])
    words = {
        w.strip().lower()
        for w in dict_file.read_text(encoding="utf-8").splitlines()
        if w.strip().isascii() and w.strip().isalpha()
    }
    stfu_slurs, stfu_profanity = stfu_lists(stfu)
    extra, rated = rustrict_lists(rustrict, words)
    more = confirmed(rated, cuss_ratings(cuss), dsojevic_entries(dsojevic), words)
    lists = {
        "slurs": stfu_slurs | ((extra["slurs"] | more["slurs"]) - stfu_profanity),
        "profanity": stfu_profanity | extra["profanity"] | more["profanity"],
        "sexual": extra["sexual"] | more["sexual"],
        "insults": extra["insults"] | more["insults"],
    }
    # A newer source's entry that spells a slur another way joins the slurs.
    newer = set().union(*more.values()) - set().union(*extra.values()) - stfu_profanity
    for name in ("profanity", "sexual", "insults"):
        moved = slur_variants(lists[name] & newer, lists["slurs"])
        lists[name] -= moved
        lists["slurs"] |= moved
    # Each entry is listed once, in the first list that has it; harassment's phrases are
    # harassment's alone.
    threat_count = write_harassment(out_dir / "harassment.txt")
    harassment = (out_dir / "harassment.txt").read_text(encoding="utf-8").splitlines()
    seen: set[str] = {line for line in harassment if line and not line.startswith("#")}
    for name in ("slurs", "profanity", "sexual", "insults"):
        kept = {e for e in (clean(w) for w in lists[name]) if e and e not in seen}
        kept -= NOT_INSULTS
        lists[name] = kept
        seen |= kept
    header = (
        "# Generated by scripts/wordlists.py from the stfu crate 0.1.0 (Unlicense; the Surge AI\n"
        "# profanity list, MIT), the rustrict crate 0.7.39 (MIT) and the npm packages cuss 2.2.0\n"
        "# (MIT) and @dsojevic/profanity-list 1.0.0 (MIT). See lists/LICENSE.\n"
        "# One entry a line; '#' starts a comment.\n"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, entries in lists.items():
        (out_dir / f"{name}.txt").write_text(
            header + "\n".join(sorted(entries)) + "\n", encoding="utf-8"
        )
    listed = {e.replace(" ", "") for name in lists for e in lists[name]}
    english = sorted(words - listed - (inflections(words, listed) - INNOCENT_INFLECTIONS))
    (out_dir / "english.txt").write_text("\n".join(english) + "\n", encoding="utf-8")
    sizes = ", ".join(f"{len(v)} {k}" for k, v in lists.items())
    print(f"{sizes}; {threat_count} threats; {len(english)} dictionary words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
