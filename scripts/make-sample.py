#!/usr/bin/env python3
"""Writes samples/server.jsonl: a deterministic afternoon on a gaming server — ordinary chat,
a flood, evasive slurs and swearing, a scam wave, and a raid of look-alike accounts."""
import json
import random
from datetime import datetime, timedelta, timezone

random.seed(7)
GUILD = "900000000000000001"
CHANNELS = ["910000000000000001", "910000000000000002", "910000000000000003"]
start = datetime(2026, 11, 22, 14, 0, 0, tzinfo=timezone.utc)
t = start
events = []
next_id = 1_000_000_000_000_000_000


def ts(d):
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def member(i, name, age_days=400, member_days=60):
    return {
        "id": str(800000000000000000 + i), "name": name, "display_name": name.title(), "bot": False,
        "created_at": ts(start - timedelta(days=age_days)),
        "joined_at": ts(start - timedelta(days=member_days)), "roles": ["920000000000000001"],
    }


def message(author, content, channel=None, **extra):
    global next_id
    next_id += 1
    e = {"kind": "message", "id": str(next_id), "guild_id": GUILD,
         "channel_id": channel or random.choice(CHANNELS), "timestamp": ts(t),
         "author": author, "content": content}
    e.update(extra)
    events.append(e)


def step(seconds):
    global t
    t += timedelta(seconds=seconds)


regulars = [member(i, n) for i, n in enumerate(
    ["alice", "bob", "carol", "dmitri", "erin", "farah", "gus", "hana", "ivan", "jules"])]
chat = [
    "anyone up for ranked tonight?", "gg that last round was wild", "what time is the tournament?",
    "did the patch drop yet", "lol same", "I think the new map is better than the old one",
    "can someone explain how the crafting works", "brb grabbing food", "welcome back!",
    "that cocktail recipe you posted was great", "my therapist says I play too much", "Scunthorpe United won again",
    "the assassin class is so strong right now", "who wants to duo", "check the pinned messages for rules",
    "the specialist skin looks sick", "peacock is my favourite emote", "the grapefruit meme lmao",
    "Essex and Sussex players unite", "I wrote a scrapbook of our best clips", "nice shot!",
    "https://store.steampowered.com/app/730/ is on sale", "docs are at https://docs.rs/serde",
    "is the server down?", "hahaha", "ok see you all later", "good morning everyone",
    "WHAT A PLAY", "the bass guitar in that soundtrack slaps", "titanic is a long movie",
]
for _ in range(180):
    message(random.choice(regulars), random.choice(chat))
    step(random.randint(5, 40))

# Evasive slurs and swearing from two members.
troll = member(50, "edgelord", age_days=30, member_days=3)
for text in ["you're a f a g", "shut up n1gg3r", "what a fuсking joke",  # Cyrillic с
             "ｆｕｃｋ this game", "sh!t team", "k\u200bi\u200bk\u200be", "b1tch please", "𝐜𝐮𝐧𝐭",
             "f*ck off", "r e t a r d"]:
    message(troll, text, channel=CHANNELS[0])
    step(random.randint(20, 60))
for _ in range(20):
    message(random.choice(regulars), random.choice(chat))
    step(random.randint(5, 30))

# A flood: one member pastes the same thing fast, then pings everyone.
flooder = member(60, "spammy", age_days=200, member_days=10)
for i in range(8):
    message(flooder, "JOIN MY CLAN JOIN MY CLAN", channel=CHANNELS[1])
    step(1)
message(flooder, "@everyone @everyone @everyone come look", channel=CHANNELS[1],
        mention_everyone=True, mentions=[r["id"] for r in regulars[:6]])
step(20)
for _ in range(20):
    message(random.choice(regulars), random.choice(chat))
    step(random.randint(5, 30))

# A scam wave from compromised accounts.
scams = [
    "@everyone Free Discord Nitro for 3 months from Steam - https://dlscord-nltro.gift/claim",
    "bro watch this, working nitro gen https://steamcommunnity.ru/gift",
    "I'm leaving CS:GO and giving away my skins https://steamcommunlty.com/tradeoffer/new",
    "[https://discord.com/gifts/abc](https://discordgift.site/abc) claim it",
    "who is first? :) https://happy-nitro.icu/login",
]
for i, text in enumerate(scams):
    message(member(70 + i, f"hacked{i}"), text)
    step(random.randint(10, 90))
message(random.choice(regulars), "join our partner server discord.gg/othersrv")
step(30)
for _ in range(20):
    message(random.choice(regulars), random.choice(chat))
    step(random.randint(5, 30))

# A raid: forty brand-new look-alike accounts join within seconds and post the same line.
raiders = []
for i in range(40):
    user = {"id": str(870000000000000000 + i), "name": f"raidbot{i:03d}", "display_name": f"RaidBot{i:03d}",
            "bot": False, "created_at": ts(t - timedelta(hours=2)), "avatar": None}
    raiders.append(user)
    events.append({"kind": "member_join", "guild_id": GUILD, "timestamp": ts(t), "user": user})
    step(0.2)
for user in raiders[:6]:
    author = dict(user, joined_at=ts(t - timedelta(seconds=30)), roles=[])
    author.pop("avatar", None)
    message(author, "this server is dead lol join ours", channel=CHANNELS[0])
    step(0.5)
step(60)
for _ in range(20):
    message(random.choice(regulars), random.choice(chat))
    step(random.randint(5, 30))
events.append({"kind": "member_update", "guild_id": GUILD, "timestamp": ts(t),
               "user": dict(troll, display_name="n\u200bi\u200bg\u200bg\u200be\u200br")})
step(10)
events.append({"kind": "member_leave", "guild_id": GUILD, "timestamp": ts(t),
               "user": {"id": troll["id"], "name": troll["name"]}})

with open("samples/server.jsonl", "w", encoding="utf-8") as f:
    for e in events:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
print(len(events), "events")
