"""STIX 2.1 vocabulary of osintel: custom observables, the producer identity, markings.

STIX 2.1 has no Cyber-observable for a phone number, a cryptocurrency wallet, a bank account,
a vehicle or a ship. Rather than free-form ``x-`` objects (which STIX 2.1 deprecates and the
stix2 library refuses to reference), each is a **new SCO defined by an Extension Definition**
(STIX 2.1 §7.3, ``extension_type: new-sco``): the definition object travels in every bundle
that uses it, with a fixed id, so a consumer learns the type from the bundle itself. Their ids
are deterministic UUIDv5 over the id-contributing property, like the standard SCOs.

Criminal methods are ``attack-pattern`` objects, not custom objects: the method id from
``osintel/config/methods.yaml`` is the ``external_id`` of an external reference whose ``source_name``
is ``osintel-method-taxonomy``, and its category is a kill-chain phase of the kill chain
``osintel-crime-category``. Both are standard properties, so any STIX tool can filter on them.
Crime types (Home Office offence groups) are report ``labels``: ``crime-type:theft.burglary``
and ``crime-group:theft``.

Grading travels twice: as ``confidence`` (see :mod:`exports.common`) and as a
statement marking quoting the 3x5x2 code, beside a TLP marking (handling P → TLP:GREEN,
C → TLP:AMBER).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any

import stix2
from stix2.properties import StringProperty

from osintel.records import Grading
from exports.common import grading_statement, stable_uuid

#: ``created``/``modified`` of the objects osintel defines once (identities, vocabularies):
#: fixed, so that re-exports are byte-for-byte stable.
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: ``source_name`` of the external reference that names a method of the taxonomy.
METHOD_SOURCE = "osintel-method-taxonomy"
#: Kill chain whose phases are the method categories (drugs, firearms, oic, ...).
METHOD_KILL_CHAIN = "osintel-crime-category"
#: Prefixes of the report labels that carry crime types (``crime-type:violence.homicide``) and
#: their groups (``crime-group:violence``), from ``osintel/config/crimetypes.yaml``.
CRIME_TYPE_LABEL = "crime-type"
CRIME_GROUP_LABEL = "crime-group"
SCHEMA_BASE = "https://github.com/osintel/osintel/blob/main/docs/stix"


# Objects shared by many documents are built once per process (stix2 objects are immutable and
# building one costs about 2 ms of property checking): see the lru_cache decorators below.


@lru_cache(maxsize=16)
def producer_identity(name: str) -> stix2.Identity:
    """The Identity of the osintel installation that made the export (``created_by_ref``)."""
    return stix2.Identity(
        id=f"identity--{stable_uuid('producer', name)}", name=name, identity_class="system",
        description="osintel open-source intelligence collection system", created=EPOCH, modified=EPOCH,
    )


@dataclass(frozen=True)
class CustomSco:
    """One osintel observable type: its STIX type, value property and extension id."""

    type: str
    prop: str
    description: str
    cls: Any = None

    @property
    def extension_id(self) -> str:
        return f"extension-definition--{stable_uuid('extension', self.type)}"

    def definition(self, creator: stix2.Identity) -> stix2.ExtensionDefinition:
        """The Extension Definition object that declares this type."""
        return _definition(self.type, self.description, self.extension_id, creator.id)


@lru_cache(maxsize=64)
def _definition(type_: str, description: str, extension_id: str, creator_id: str) -> stix2.ExtensionDefinition:
    return stix2.ExtensionDefinition(
        id=extension_id, created_by_ref=creator_id, created=EPOCH, modified=EPOCH, name=type_,
        description=description, version="1.0.0", schema=f"{SCHEMA_BASE}/{type_}.json",
        extension_types=["new-sco"],
    )


def _define(type_: str, prop: str, description: str, extra: list[tuple[str, Any]] | None = None) -> CustomSco:
    sco = CustomSco(type_, prop, description)
    props = [(prop, StringProperty(required=True)), *(extra or [])]

    @stix2.CustomObservable(type_, props, id_contrib_props=[prop], extension_name=sco.extension_id)
    class _Observable:
        pass

    object.__setattr__(sco, "cls", _Observable)
    return sco


PHONE = _define("x-osintel-phone-number", "value", "A telephone number in E.164 form.")
WALLET = _define(
    "x-osintel-cryptocurrency-wallet", "address", "A cryptocurrency address (currency: BTC, ETH, XMR).",
    [("currency", StringProperty())],
)
BANK_ACCOUNT = _define("x-osintel-bank-account", "iban", "A bank account by IBAN.")
VEHICLE = _define("x-osintel-vehicle", "registration", "A road vehicle by registration plate (upper case, no spaces).")
VESSEL = _define("x-osintel-vessel", "imo", "A ship by IMO number.")

#: Wallet entity labels → currency code.
WALLET_LABELS = {"BTC_ADDRESS": "BTC", "ETH_ADDRESS": "ETH", "XMR_ADDRESS": "XMR"}


@lru_cache(maxsize=65536)
def observable(label: str, value: str) -> Any | None:
    """The STIX observable for an entity of ``label`` with normalised ``value``, or None."""
    if label == "URL":
        return stix2.URL(value=value)
    if label == "DOMAIN":
        return stix2.DomainName(value=value)
    if label == "EMAIL":
        return stix2.EmailAddress(value=value)
    if label == "IP_ADDRESS":
        return stix2.IPv6Address(value=value) if ":" in value else stix2.IPv4Address(value=value)
    if label == "HANDLE":
        return stix2.UserAccount(account_login=value)
    if label == "PHONE":
        return PHONE.cls(value=value)
    if label in WALLET_LABELS:
        return WALLET.cls(address=value, currency=WALLET_LABELS[label])
    if label == "IBAN":
        return BANK_ACCOUNT.cls(iban=value)
    if label == "VEHICLE_PLATE":
        return VEHICLE.cls(registration=value)
    if label == "IMO":
        return VESSEL.cls(imo=value)
    return None


def custom_definition_for(obj: Any) -> CustomSco | None:
    """The :class:`CustomSco` an observable's type belongs to, if it is one of ours."""
    for sco in (PHONE, WALLET, BANK_ACCOUNT, VEHICLE, VESSEL):
        if obj["type"] == sco.type:
            return sco
    return None


def grading_markings(grading: Grading) -> list[stix2.MarkingDefinition]:
    """TLP marking for the handling code, then a statement marking quoting the whole grading."""
    return list(_markings(grading.code))


@lru_cache(maxsize=64)
def _markings(code: str) -> tuple[stix2.MarkingDefinition, ...]:
    grading = Grading.parse(code)
    tlp = stix2.TLP_GREEN if grading.handling == "P" else stix2.TLP_AMBER
    statement = stix2.MarkingDefinition(
        id=f"marking-definition--{stable_uuid('grading', grading.code)}", created=EPOCH,
        name=f"3x5x2 {grading.code}", definition_type="statement",
        definition=stix2.StatementMarking(statement=grading_statement(grading)),
    )
    return (tlp, statement)
