"""Deterministic generators of *valid* but fictional identifiers for the demo corpus.

Every generator takes a :class:`random.Random` so the corpus is reproducible for a seed. The
values pass the checks a real extractor applies (phone-number metadata, IBAN check digits,
base58check / bech32 checksums, EIP-55 capitalisation) while staying in ranges reserved for
fiction (Ofcom drama numbers, ``example.*`` domains) or being random hashes nobody controls.
"""

from __future__ import annotations

import random

import base58
import bech32
from Crypto.Hash import keccak
from schwifty import IBAN

# Ofcom drama ranges that libphonenumber accepts as valid numbers. The mobile drama range
# (07700 900xxx) is deliberately *not* used: libphonenumber marks it invalid, so an extractor
# built on it would never find it and the ground truth would be wrong.
# Each entry: (area code without the trunk 0, fixed start of the local number, random digits).
_DRAMA_RANGES: tuple[tuple[str, str, int], ...] = (
    ("20", "7946 0", 3),   # London
    ("113", "496 0", 3),   # Leeds
    ("114", "496 0", 3),   # Sheffield
    ("116", "496 0", 3),   # Leicester
    ("117", "496 0", 3),   # Bristol
    ("118", "496 0", 3),   # Reading
    ("121", "496 0", 3),   # Birmingham
    ("131", "496 0", 3),   # Edinburgh
    ("141", "496 0", 3),   # Glasgow
    ("151", "496 0", 3),   # Liverpool
    ("161", "496 0", 3),   # Manchester
    ("191", "498 0", 3),   # Tyneside
    ("28", "9649 6", 3),   # Belfast
    ("29", "2018 0", 3),   # Cardiff
)

_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
_EMAIL_WORDS = (
    "logistics", "freight", "deals", "invest", "support", "secure", "wallet", "trader",
    "shipping", "cargo", "help", "office", "accounts", "verify", "jobs", "crypto",
)

# Bank codes schwifty accepts (checked against its registry in the tests).
_BANK_CODES: dict[str, tuple[str, ...]] = {
    "GB": ("NWBK601613", "BARC200000", "LOYD309634", "MIDL400515", "HBUK401160"),
    "DE": ("10020030", "50010517", "37040044"),
    "FR": ("3000400003", "2004101005", "3000600001"),
    "ES": ("00491500", "01822370", "21000418"),
}
_ACCOUNT_LENGTH = {"GB": 8, "DE": 10, "FR": 11, "ES": 10}

# Current-format UK plates: memory tag (2 letters, never I, Q or Z), age identifier, 3 random
# letters (never I or Q).
_MEMORY_LETTERS = "ABCDEFGHKLMNOPRSVWY"
_RANDOM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
_AGE_IDS = ("15", "65", "16", "66", "17", "67", "18", "68", "19", "69", "20", "70", "21", "71",
            "22", "72", "23", "73", "24", "74", "25", "75")


def uk_phone(rng: random.Random) -> str:
    """A valid UK number from an Ofcom drama range, in one of several common written formats."""
    area, block, width = rng.choice(_DRAMA_RANGES)
    tail = f"{rng.randrange(10 ** width):0{width}d}"
    local = block + tail  # e.g. "7946 0123"
    compact = local.replace(" ", "")
    style = rng.randrange(6)
    if style == 0:
        return f"0{area} {local}"
    if style == 1:
        return f"+44 {area} {local}"
    if style == 2:
        return f"(0{area}) {local}"
    if style == 3:
        return f"+44 (0){area} {local}"
    if style == 4:
        return f"0{area}-{local.replace(' ', '-')}"
    return f"+44{area}{compact}"


def email(rng: random.Random, name: str | None = None) -> str:
    """An address on a reserved example domain, optionally derived from a person's name."""
    if name:
        first, _, last = name.lower().partition(" ")
        local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{last}{rng.randrange(10, 99)}"))
        local = "".join(c for c in local if c.isascii() and (c.isalnum() or c == "."))
    else:
        local = f"{rng.choice(_EMAIL_WORDS)}{rng.choice(('', '.', '-'))}{rng.choice(_EMAIL_WORDS)}"
        local += str(rng.randrange(1, 999)) if rng.random() < 0.5 else ""
    return f"{local}@{rng.choice(_EMAIL_DOMAINS)}"


def btc_address(rng: random.Random) -> str:
    """A checksum-valid Bitcoin mainnet address: legacy P2PKH (``1...``) or bech32 (``bc1q...``)."""
    payload = bytes(rng.randrange(256) for _ in range(20))
    if rng.random() < 0.5:
        return base58.b58encode_check(b"\x00" + payload).decode("ascii")
    address = bech32.encode("bc", 0, payload)
    assert address is not None
    return address


def eth_address(rng: random.Random) -> str:
    """An Ethereum address with a valid EIP-55 mixed-case checksum."""
    raw = bytes(rng.randrange(256) for _ in range(20)).hex()
    digest = keccak.new(digest_bits=256, data=raw.encode("ascii")).hexdigest()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c
                          for i, c in enumerate(raw))


def iban(rng: random.Random, country: str = "GB") -> str:
    """A valid IBAN (check digits and national checksum) for GB, DE, FR or ES, space-grouped."""
    width = _ACCOUNT_LENGTH[country]
    account = "".join(str(rng.randrange(10)) for _ in range(width))
    value = IBAN.generate(country, bank_code=rng.choice(_BANK_CODES[country]), account_code=account)
    return value.formatted if rng.random() < 0.6 else value.compact


def uk_plate(rng: random.Random) -> str:
    """A current-format UK registration such as ``AB12 CDE``."""
    memory = rng.choice(_MEMORY_LETTERS) + rng.choice(_MEMORY_LETTERS)
    tail = "".join(rng.choice(_RANDOM_LETTERS) for _ in range(3))
    return f"{memory}{rng.choice(_AGE_IDS)} {tail}"
