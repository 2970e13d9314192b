"""One-off generator of the valid, fictional identifiers used in ``entities.jsonl``.

Run from the repository root (deterministic; rewrites ``tests/data/identifiers.json``)::

    .venv/bin/python tests/data/make_identifiers.py

Every value is checked with the same libraries the extractors use (base58check, bech32,
keccak/EIP-55, schwifty, libphonenumber, the IMO check digit), so a miss in the bench is an
extractor's miss, never an invalid gold value. Phones are Ofcom drama-range numbers that
libphonenumber accepts as valid; wallets and IBANs are random and belong to nobody.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import base58
import bech32
import phonenumbers
from Crypto.Hash import keccak
from schwifty import IBAN

OUT = Path(__file__).with_name("identifiers.json")
rng = random.Random(20260501)


def btc_p2pkh() -> str:
    payload = bytes([0]) + rng.randbytes(20)
    return base58.b58encode_check(payload).decode()


def btc_p2sh() -> str:
    payload = bytes([5]) + rng.randbytes(20)
    return base58.b58encode_check(payload).decode()


def btc_segwit() -> str:
    address = bech32.encode("bc", 0, list(rng.randbytes(20)))
    assert address is not None
    return address


def eth() -> str:
    hex_part = rng.randbytes(20).hex()
    digest = keccak.new(digest_bits=256, data=hex_part.encode()).hexdigest()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_part))


def iban(country: str, bank: str, account_len: int) -> str:
    account = "".join(rng.choice("0123456789") for _ in range(account_len))
    value = IBAN.generate(country, bank_code=bank, account_code=account)
    return value.formatted  # grouped in fours, as people write them


def imo() -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(5)]
        check = sum(d * w for d, w in zip(digits, range(7, 1, -1))) % 10
        number = "".join(map(str, digits)) + str(check)
        if number.startswith(("9", "8")):
            return number


def plate() -> str:
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    tail = "ABCDEFGHJKLMNOPRSTUVWXYZ"
    age = rng.choice([*range(2, 31), *range(51, 81)])
    return f"{rng.choice(letters)}{rng.choice(letters)}{age:02d} {''.join(rng.choice(tail) for _ in range(3))}"


def phone(fmt: str, region: str = "GB") -> str:
    number = fmt.format(*[rng.randint(0, 9) for _ in range(fmt.count("{}"))])
    parsed = phonenumbers.parse(number, region)
    assert phonenumbers.is_valid_number(parsed), number
    return number


def main() -> None:
    ids = {
        "PHONE_GB": [phone("020 7946 0{}{}{}") for _ in range(4)]
        + [phone("0113 496 0{}{}{}") for _ in range(3)]
        + [phone("0161 496 0{}{}{}") for _ in range(3)]
        + [phone("+44 20 7946 0{}{}{}") for _ in range(2)]
        + [phone("0117 496 0{}{}{}") for _ in range(2)],
        "BTC": [btc_p2pkh() for _ in range(4)] + [btc_p2sh() for _ in range(2)] + [btc_segwit() for _ in range(4)],
        "ETH": [eth() for _ in range(8)],
        "IBAN": [iban("GB", "NWBK601613", 8) for _ in range(3)]
        + [iban("DE", "37040044", 10) for _ in range(2)]
        + [iban("FR", "2004101005", 11) for _ in range(2)]
        + [iban("ES", "21000418", 10) for _ in range(2)]
        + [iban("NL", "ABNA", 10) for _ in range(2)],
        "PLATE": [plate() for _ in range(10)],
        "IMO": [imo() for _ in range(6)],
        # Fictional sites and mailboxes: written by hand, no check beyond the shape.
        "URL": [
            "https://coinvault-pro.net/invest",
            "http://hmrc-refund-claim.co.uk/verify",
            "http://greenleafxyzabc2kq.onion/shop",
            "https://royalmail-redelivery-fee.com/pay",
            "www.cheapbtc-swap.io",
            "https://mixitclean.cc/deposit?ref=44",
        ],
        "EMAIL": [
            "greenleaf.orders@protonmail.com",
            "info@kestrel-logistics.co.uk",
            "admin.panel77@tutanota.com",
            "press@northgate-commodities.com",
            "tips@fraudwatch.example.org",
            "daz.bigman88@gmail.com",
            "c.quinn@quinnholdings.ie",
        ],
    }
    # Self-check with an independent round trip.
    for value in ids["IBAN"]:
        IBAN(value)
    for value in ids["BTC"][:6]:
        assert base58.b58decode_check(value)[0] in (0, 5)
    for value in ids["BTC"][6:]:
        assert bech32.decode("bc", value)[0] == 0
    OUT.write_text(json.dumps(ids, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({sum(len(v) for v in ids.values())} identifiers)")


if __name__ == "__main__":
    main()
