"""Domain entity extractors: selectors an analyst can watch (phones, wallets, IBANs, plates...).

Every extractor is a function ``(text, options) -> Iterator[Entity]`` registered with
:func:`extractor`; :data:`REGISTRY` is the single place the built-ins are listed, and
:class:`ExtractorSet` runs them. A new extractor is added the same way the built-ins are::

    @extractor("sort_code", label="UK_SORT_CODE")
    def _sort_codes(text: str, options: ExtractorOptions) -> Iterator[Entity]: ...

Each extractor validates what it finds (checksums, number plans) so that a hit is worth an
analyst's attention; spans are character offsets into the text passed in.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import base58
import bech32
import phonenumbers
import tldextract
from Crypto.Hash import keccak
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from osintel.records import Entity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractorOptions:
    """Settings the extractors need; built once from ``NLPSettings``.

    ``phone_region`` is the document's own region (see :mod:`nlp.phone_region`), set per document
    by :meth:`ExtractorSet.extract`: nationally written numbers are read in it first, then in
    ``phone_default_region``.
    """

    phone_default_region: str = "GB"
    phone_region: str | None = None


ExtractorFn = Callable[[str, ExtractorOptions], Iterator[Entity]]


@dataclass(frozen=True)
class RegisteredExtractor:
    """One registered extractor: its name (``Entity.extractor``), label and function."""

    name: str
    label: str
    fn: ExtractorFn


#: All extractors, in registration order. Add to it only through :func:`extractor`.
REGISTRY: dict[str, RegisteredExtractor] = {}


def extractor(name: str, *, label: str) -> Callable[[ExtractorFn], ExtractorFn]:
    """Register ``fn`` as extractor ``name`` producing entities labelled ``label``."""

    def register(fn: ExtractorFn) -> ExtractorFn:
        if name in REGISTRY:
            raise ValueError(f"extractor {name!r} is registered twice")
        REGISTRY[name] = RegisteredExtractor(name=name, label=label, fn=fn)
        return fn

    return register


def _entity(m: re.Match[str], label: str, name: str, normalized: str, confidence: float, group: int = 0) -> Entity:
    return Entity(
        text=m.group(group),
        label=label,
        start=m.start(group),
        end=m.end(group),
        normalized=normalized,
        confidence=confidence,
        extractor=name,
    )


# --- phones ---------------------------------------------------------------------------------


# Ofcom's numbers reserved for TV and radio drama: 1,000 numbers from each of these national
# significant number prefixes (07700 900000-900999, 01632 960000-960999, 020 7946 0000-0999 ...).
# libphonenumber marks some of them invalid (07700 900xxx, 01632 960xxx, 0115 496 0xxx), yet they
# are what examples, exercises and test material use, so they are accepted, at lower confidence.
_UK_DRAMA_PREFIXES = frozenset({
    "1134960", "1144960", "1154960", "1164960", "1174960", "1184960", "1214960", "1314960",
    "1414960", "1514960", "1614960", "1914980", "2079460", "2896496", "2920180", "1632960",
    "7700900", "8081570", "9098790", "3069990",
})


_MIN_NATIONAL_DIGITS = 7


def is_drama_number(number: phonenumbers.PhoneNumber) -> bool:
    """True for a UK number in a range Ofcom reserves for drama (fiction, examples, tests)."""
    nsn = str(number.national_number)
    return number.country_code == 44 and len(nsn) == 10 and nsn[:7] in _UK_DRAMA_PREFIXES


def _may_hold_drama_number(text: str) -> bool:
    # Necessary condition, checked before a second matcher pass: the digits of a drama number,
    # however written (+44 7700 900123, 07700-900-123), contain its 7-digit prefix.
    digits = "".join(c for c in text if c.isdigit())
    return any(prefix in digits for prefix in _UK_DRAMA_PREFIXES)


def _phone_entity(match: phonenumbers.PhoneNumberMatch, confidence: float) -> Entity:
    return Entity(
        text=match.raw_string,
        label="PHONE",
        start=match.start,
        end=match.end,
        normalized=phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164),
        confidence=confidence,
        extractor="phonenumbers",
    )


@extractor("phonenumbers", label="PHONE")
def _phones(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    """Valid numbers (libphonenumber's metadata), plus the UK drama ranges.

    A nationally written number is read in the document's region, else in the default region:
    the first region in which it is a valid number wins ("0612345678" is French in a French
    document and not a number at all in a British one).
    """
    regions = [r for r in dict.fromkeys((options.phone_region, options.phone_default_region)) if r]
    fiction = _may_hold_drama_number(text)
    kept: list[Entity] = []

    def keep(entity: Entity) -> None:
        if not any(entity.start < k.end and k.start < entity.end for k in kept):
            kept.append(entity)

    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            international = match.raw_string.lstrip().startswith(("+", "00"))
            # A national number of under 7 digits is a local one without its area code, or not a
            # number at all: German "332.000" (Euro) is a valid Berlin-area local number.
            if not international and sum(c.isdigit() for c in match.raw_string) < _MIN_NATIONAL_DIGITS:
                continue
            if phonenumbers.is_valid_number(match.number):
                keep(_phone_entity(match, 0.9 if international else 0.8))
        if fiction:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
                if is_drama_number(match.number):
                    keep(_phone_entity(match, 0.7))
    yield from sorted(kept, key=lambda e: e.start)


# --- e-mail, URL, domain, handle --------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b")
_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\]\[]+", re.I)
_URL_TRAIL = ".,;:!?)'\"’”»"
_DOMAIN_RE = re.compile(
    r"(?<![\w@./-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w@-]|\.\w)", re.I
)
_HANDLE_RE = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9_]{2,30})(@(?:[A-Za-z0-9-]+\.)+[a-z]{2,24})?\b")
# Cheap necessary conditions, checked before the full patterns: most texts have no e-mail, URL or
# domain, and a failed gate costs one fast scan instead of a slow one. Each is implied by every
# match its extractor can yield, so gating never changes the output.
_URL_HINT_RE = re.compile(r"://|www\.", re.I)
_DOMAIN_HINT_RE = re.compile(r"\.[a-z]{2}")  # the lower-case TLD _domains insists on
# The bundled public-suffix snapshot only: suffix_list_urls=() means it never fetches.
_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@extractor("regex_email", label="EMAIL")
def _emails(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    if "@" not in text:
        return
    for m in _EMAIL_RE.finditer(text):
        domain = m.group(0).rsplit("@", 1)[1]
        if not _TLD(domain).suffix:
            continue
        yield _entity(m, "EMAIL", "regex_email", m.group(0).lower(), 0.95)


@extractor("regex_url", label="URL")
def _urls(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    if _URL_HINT_RE.search(text) is None:
        return
    for m in _URL_RE.finditer(text):
        raw = m.group(0)
        while raw and raw[-1] in _URL_TRAIL:
            # Keep a closing parenthesis that closes one opened inside the URL.
            if raw[-1] == ")" and raw.count("(") >= raw.count(")"):
                break
            raw = raw[:-1]
        if len(raw) < 8:
            continue
        normalized = raw if raw.lower().startswith("http") else f"http://{raw}"
        scheme, _, rest = normalized.partition("://")
        host, sep, path = rest.partition("/")
        normalized = f"{scheme.lower()}://{host.lower()}{sep}{path}"
        yield Entity(
            text=raw,
            label="URL",
            start=m.start(),
            end=m.start() + len(raw),
            normalized=normalized,
            confidence=0.95,
            extractor="regex_url",
        )


@extractor("tldextract_domain", label="DOMAIN")
def _domains(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    if _DOMAIN_HINT_RE.search(text) is None:
        return
    for m in _DOMAIN_RE.finditer(text):
        candidate = m.group(1)
        tld = candidate.rsplit(".", 1)[1]
        if not tld.islower():  # "arrested.It was" is a missing space, not Italy
            continue
        parts = _TLD(candidate)
        if not parts.suffix or not parts.domain:
            continue
        confidence = 0.85 if parts.suffix in {"com", "net", "org", "onion", "uk", "co.uk", "io", "ru"} else 0.7
        yield _entity(m, "DOMAIN", "tldextract_domain", candidate.lower(), confidence, group=1)


@extractor("regex_handle", label="HANDLE")
def _handles(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    if "@" not in text:
        return
    for m in _HANDLE_RE.finditer(text):
        yield _entity(m, "HANDLE", "regex_handle", m.group(0).lower(), 0.8)


# --- crypto-currency addresses --------------------------------------------------------------

_BTC_BASE58_RE = re.compile(r"(?<![A-Za-z0-9])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])")
_BTC_BECH32_RE = re.compile(r"(?<![A-Za-z0-9])(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71})(?![A-Za-z0-9])")
_BECH32M_CONST = 0x2BC830A3
_ETH_RE = re.compile(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![A-Za-z0-9])")
_XMR_RE = re.compile(r"(?<![A-Za-z0-9])[48][1-9A-HJ-NP-Za-km-z]{94}(?![A-Za-z0-9])")


def valid_btc_base58(address: str) -> bool:
    """True for a base58check P2PKH (version 0) or P2SH (version 5) main-net address."""
    try:
        payload = base58.b58decode_check(address)
    except ValueError:
        return False
    return len(payload) == 21 and payload[0] in (0x00, 0x05)


def valid_btc_segwit(address: str) -> bool:
    """True for a bech32 (witness v0) or bech32m (v1+, taproot) main-net segwit address."""
    address = address.lower()
    witver, program = bech32.decode("bc", address)
    if witver is not None and program is not None:
        return True
    # The bech32 package predates BIP 350: verify bech32m by hand with its primitives.
    hrp, _, data_part = address.rpartition("1")
    if hrp != "bc" or len(data_part) < 7:
        return False
    try:
        data = [bech32.CHARSET.index(c) for c in data_part]
    except ValueError:
        return False
    if bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data) != _BECH32M_CONST:
        return False
    witver = data[0]
    program = bech32.convertbits(data[1:-6], 5, 8, False)
    return 1 <= witver <= 16 and program is not None and 2 <= len(program) <= 40


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case checksummed form of an Ethereum address."""
    hex_part = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=hex_part.encode("ascii")).hexdigest()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_part))


@extractor("btc_address", label="BTC_ADDRESS")
def _btc(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    for m in _BTC_BASE58_RE.finditer(text):
        if valid_btc_base58(m.group(0)):
            yield _entity(m, "BTC_ADDRESS", "btc_address", m.group(0), 0.95)
    if "bc1" not in text and "BC1" not in text:
        return
    for m in _BTC_BECH32_RE.finditer(text):
        if valid_btc_segwit(m.group(0)):
            yield _entity(m, "BTC_ADDRESS", "btc_address", m.group(0).lower(), 0.95)


@extractor("eth_address", label="ETH_ADDRESS")
def _eth(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    if "0x" not in text:
        return
    for m in _ETH_RE.finditer(text):
        address = m.group(0)
        hex_part = address[2:]
        if hex_part.islower() or hex_part.isupper() or hex_part.isdigit():
            confidence = 0.7  # no checksum to verify
        elif eip55_checksum(address) == "0x" + hex_part:
            confidence = 0.95
        else:
            continue  # mixed case with a wrong checksum: a typo or not an address
        yield _entity(m, "ETH_ADDRESS", "eth_address", address.lower(), confidence)


@extractor("xmr_address", label="XMR_ADDRESS")
def _xmr(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    for m in _XMR_RE.finditer(text):
        # Format only: Monero's checksum needs keccak over base58 blocks; a first cut stops here.
        yield _entity(m, "XMR_ADDRESS", "xmr_address", m.group(0), 0.6)


# --- bank, network, vehicles, vessels -------------------------------------------------------

_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
_IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_IPV4_HINT_RE = re.compile(r"\d\.\d")
_IPV6_HINT_RE = re.compile(r":[0-9A-Fa-f]{0,4}:")  # two colons close together: every IPv6 match has them
# UK current format: two letters (area), two digits (age identifier), three letters.
_PLATE_RE = re.compile(r"\b([A-HJ-PR-Y][A-HJ-PR-Y])([0-9]{2}) ?([A-HJ-PR-Z]{3})\b")
_IMO_RE = re.compile(r"\bIMO(?: ?(?:No\.?|number|n°|nr\.?))?[ :#]*([0-9]{7})\b", re.I)


@extractor("schwifty_iban", label="IBAN")
def _ibans(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    for m in _IBAN_RE.finditer(text):
        raw = m.group(0)
        # The pattern is greedy; a trailing capitalised word may ride along, so shorten until valid.
        while raw:
            try:
                iban = IBAN(raw)
            except (SchwiftyException, ValueError):
                cut = raw.rfind(" ")
                raw = raw[:cut] if cut > 4 else ""
                continue
            yield Entity(
                text=raw,
                label="IBAN",
                start=m.start(),
                end=m.start() + len(raw),
                normalized=iban.compact,
                confidence=0.95,
                extractor="schwifty_iban",
            )
            break


@extractor("ip_address", label="IP_ADDRESS")
def _ips(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    for pattern, hint in ((_IPV4_RE, _IPV4_HINT_RE), (_IPV6_RE, _IPV6_HINT_RE)):
        if hint.search(text) is None:
            continue
        for m in pattern.finditer(text):
            try:
                ip = ipaddress.ip_address(m.group(0))
            except ValueError:
                continue
            if ip.version == 6 and m.group(0).count(":") < 2:
                continue
            confidence = 0.5 if (ip.is_private or ip.is_loopback or ip.is_unspecified) else 0.85
            yield _entity(m, "IP_ADDRESS", "ip_address", ip.compressed, confidence)


def _plate_age_valid(digits: str) -> bool:
    age = int(digits)
    return 2 <= age <= 30 or 51 <= age <= 80


@extractor("uk_plate", label="VEHICLE_PLATE")
def _plates(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    for m in _PLATE_RE.finditer(text):
        if not _plate_age_valid(m.group(2)):
            continue
        normalized = f"{m.group(1)}{m.group(2)}{m.group(3)}"
        yield _entity(m, "VEHICLE_PLATE", "uk_plate", normalized, 0.85 if " " in m.group(0) else 0.75)


def valid_imo(number: str) -> bool:
    """True when the 7-digit IMO ship number's last digit is its check digit."""
    if len(number) != 7 or not number.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:6], range(7, 1, -1)))
    return total % 10 == int(number[6])


@extractor("imo_number", label="IMO")
def _imo(text: str, options: ExtractorOptions) -> Iterator[Entity]:
    for m in _IMO_RE.finditer(text):
        if valid_imo(m.group(1)):
            yield _entity(m, "IMO", "imo_number", m.group(1), 0.95)


class ExtractorSet:
    """Runs the registered extractors (all, or the named ones) over a text."""

    def __init__(self, *, options: ExtractorOptions | None = None, names: list[str] | None = None) -> None:
        self.options = options or ExtractorOptions()
        unknown = sorted(set(names or ()) - set(REGISTRY))
        if unknown:
            raise ValueError(f"unknown extractors: {', '.join(unknown)}")
        self.extractors = [REGISTRY[n] for n in (names or list(REGISTRY))]

    def extract(self, text: str, *, phone_region: str | None = None) -> list[Entity]:
        """All domain entities in ``text``, sorted by position, overlaps resolved.

        ``phone_region``: the document's region, in which nationally written phone numbers are
        read before the default region. Where spans overlap the longer (then the earlier
        registered) entity wins, so the domain inside an e-mail address or URL is not reported
        again on its own.
        """
        options = self.options if phone_region is None else replace(self.options, phone_region=phone_region)
        found: list[tuple[int, Entity]] = []
        for rank, ext in enumerate(self.extractors):
            for entity in ext.fn(text, options):
                found.append((rank, entity))
        return [e for _, e in resolve_overlaps(found)]


def resolve_overlaps(items: list[tuple[int, Entity]]) -> list[tuple[int, Entity]]:
    """Keep non-overlapping entities: longest first, then lower rank, then earliest."""
    ordered = sorted(items, key=lambda it: (-(it[1].end - it[1].start), it[0], it[1].start))
    kept: list[tuple[int, Entity]] = []
    for rank, entity in ordered:
        if any(entity.start < k.end and k.start < entity.end for _, k in kept):
            continue
        kept.append((rank, entity))
    return sorted(kept, key=lambda it: (it[1].start, it[1].end, it[0]))
