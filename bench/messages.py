"""A generated mix of realistic hospital chat, for benchmarks (no real people)."""

from __future__ import annotations

import random

FIRST = [
    "Amira",
    "Tom",
    "Grace",
    "Kwame",
    "Siobhan",
    "Piotr",
    "Hannah",
    "Ravi",
    "Eilidh",
    "Joseph",
    "Mei",
    "Callum",
]
LAST = [
    "Hartley",
    "Osei",
    "Kowalczyk",
    "MacLeod",
    "Brennan",
    "Iqbal",
    "Thornton",
    "Nwosu",
    "Fairbairn",
    "Lund",
]
WARDS = [
    "ward 12",
    "AMU",
    "bay 3",
    "side room 2",
    "resus",
    "CDU",
    "ward 7b",
    "the discharge lounge",
]
STAFF = ["Dr Ahmed", "Sister Kaur", "SN Jones", "the reg", "FY1", "on-call SHO", "the night CSM"]
CHATTER = [
    "anyone free to cover a late on {ward} tomorrow?",
    "rota for December is up, swaps to {staff} by Friday pls",
    "reminder: sepsis six within the hour, new audit starts Monday",
    "the obs machine in {ward} is broken again, estates logged",
    "{staff} is running 20 mins late, can someone hold the bleep",
    "teaching at 1pm in the seminar room: DKA management, pizza provided",
    "pharmacy say the vanc levels will be back after 3",
    "lovely feedback card from a family on {ward} today, well done all",
]
CLINICAL = [
    "78F in {ward} with a UTI, needs a cannula when someone has a sec",
    "can someone review the lady in {ward}, NEWS 5, probably needs bloods",
    "the gent in {ward} is NBM from midnight for theatre",
    "pt in {ward} asking for pain relief again, last dose at 14:00",
]
IDENTIFYING = [
    "Mrs {first} {last} in {ward}, NHS {nhs}, needs her meds rewritten",
    "pt {first} {last} DOB {dob} for the list tomorrow",
    "{last}, {first} (MRN RXH{mrn}) back from CT, can {staff} review",
    "bloods on {first} {last} are back, K 6.1, ring {phone} for the family",
    "discharge letter for mr {last} at {house} Acacia Avenue {postcode} please",
]


def nhs_number(rng: random.Random) -> str:
    while True:
        body = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(body, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, body)) + str(check)
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def generate(n: int, seed: int = 7) -> list[str]:
    """``n`` messages: about half chatter, a quarter clinical without identifiers, a quarter identifying."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        roll = rng.random()
        pool = CHATTER if roll < 0.5 else CLINICAL if roll < 0.75 else IDENTIFYING
        template = rng.choice(pool)
        out.append(
            template.format(
                ward=rng.choice(WARDS),
                staff=rng.choice(STAFF),
                first=rng.choice(FIRST),
                last=rng.choice(LAST) + ("" if i % 3 else str(i % 97)),
                nhs=nhs_number(rng),
                dob=f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 2005)}",
                mrn=rng.randint(100000, 999999),
                phone=f"07700 900{rng.randint(100, 999)}",
                house=rng.randint(1, 120),
                postcode=rng.choice(["LS6 2QA", "YO31 8HE", "M14 5RT", "EH3 9HA"]),
            )
        )
    return out
