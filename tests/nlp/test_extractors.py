"""Domain extractors: validated selectors with E.164 / compact normal forms."""

from __future__ import annotations

import pytest

from nlp.extractors import REGISTRY, ExtractorOptions, ExtractorSet, eip55_checksum, extractor, valid_imo

EXTRACT = ExtractorSet(options=ExtractorOptions(phone_default_region="GB"))


def found(text: str, label: str) -> list[str | None]:
    return [e.normalized for e in EXTRACT.extract(text) if e.label == label]


@pytest.mark.parametrize(
    "raw",
    ["07911 123456", "07911123456", "+44 7911 123456", "0044 7911 123456", "(07911) 123 456", "+44 (0)7911 123456"],
)
def test_uk_mobile_numbers_in_any_format_normalise_to_e164(raw: str) -> None:
    assert found(f"Call {raw} today.", "PHONE") == ["+447911123456"]


def test_landline_and_foreign_numbers_normalise_to_e164() -> None:
    text = "Office 020 7946 0018, Paris +33 1 42 68 53 00."
    assert found(text, "PHONE") == ["+442079460018", "+33142685300"]


def test_invalid_phone_numbers_are_rejected() -> None:
    assert found("Ref 07911 12 and case 12345 and 0800 1.", "PHONE") == []


def test_entity_spans_point_at_the_text() -> None:
    text = "Ring 07911 123456 now"
    [phone] = [e for e in EXTRACT.extract(text) if e.label == "PHONE"]
    assert text[phone.start : phone.end] == phone.text == "07911 123456"


def test_btc_base58_valid_and_corrupted_checksum() -> None:
    assert found("pay 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 now", "BTC_ADDRESS") == ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]
    assert found("pay 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy now", "BTC_ADDRESS") == ["3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"]
    assert found("pay 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 now", "BTC_ADDRESS") == []


def test_btc_bech32_and_bech32m_valid_and_corrupted() -> None:
    v0 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    taproot = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
    assert found(f"to {v0} and {taproot}", "BTC_ADDRESS") == [v0, taproot]
    assert found(f"to {v0[:-1]}5 and {taproot[:-1]}8", "BTC_ADDRESS") == []


def test_eth_eip55_checksum_is_enforced_for_mixed_case() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    bad = good[:-1] + "D"
    assert eip55_checksum(good.lower()) == good
    assert found(f"send to {good}", "ETH_ADDRESS") == [good.lower()]
    assert found(f"send to {bad}", "ETH_ADDRESS") == []


def test_eth_all_lower_case_is_accepted_with_lower_confidence() -> None:
    [entity] = [e for e in EXTRACT.extract("0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae") if e.label == "ETH_ADDRESS"]
    assert entity.confidence < 0.9


def test_xmr_address_format() -> None:
    xmr = "4" + "8" + "A" * 93
    assert found(f"monero {xmr} end", "XMR_ADDRESS") == [xmr]
    assert found(f"monero {xmr[:-3]} end", "XMR_ADDRESS") == []


def test_iban_valid_is_compacted_and_bad_checksum_rejected() -> None:
    assert found("Account GB82 WEST 1234 5698 7654 32 Received", "IBAN") == ["GB82WEST12345698765432"]
    assert found("Konto DE89370400440532013000.", "IBAN") == ["DE89370400440532013000"]
    assert found("Account GB83 WEST 1234 5698 7654 32", "IBAN") == []


def test_ip_addresses_are_validated() -> None:
    assert found("from 185.220.101.4 and 2001:db8::1 but not 999.1.1.1", "IP_ADDRESS") == ["185.220.101.4", "2001:db8::1"]


def test_uk_plates_need_the_exact_current_format() -> None:
    assert found("a van AB12 CDE and car YX68HGF", "VEHICLE_PLATE") == ["AB12CDE", "YX68HGF"]
    # Impossible age identifier, lower case and ordinary words are not plates.
    assert found("AB99 CDE, ab12 cde, HELLO WORLD, THE CAR", "VEHICLE_PLATE") == []


def test_imo_numbers_need_a_valid_check_digit() -> None:
    assert valid_imo("9074729") and not valid_imo("9074728")
    assert found("vessel IMO 9074729 and IMO 9074728", "IMO") == ["9074729"]


def test_email_url_domain_and_handle_do_not_overlap() -> None:
    text = "Mail dealer@example.co.uk or see https://shop.example.com/x). Follow @plugz_uk; also evil-market.onion."
    labels = {(e.label, e.normalized) for e in EXTRACT.extract(text)}
    assert ("EMAIL", "dealer@example.co.uk") in labels
    assert ("URL", "https://shop.example.com/x") in labels
    assert ("HANDLE", "@plugz_uk") in labels
    assert ("DOMAIN", "evil-market.onion") in labels
    assert ("HANDLE", "@example") not in labels
    assert ("DOMAIN", "example.co.uk") not in labels


def test_new_extractors_register_in_the_same_registry() -> None:
    import re

    @extractor("test_sort_code", label="UK_SORT_CODE")
    def _sort_codes(text, options):  # type: ignore[no-untyped-def]
        from osintel.records import Entity

        for m in re.finditer(r"\b\d{2}-\d{2}-\d{2}\b", text):
            yield Entity(text=m.group(0), label="UK_SORT_CODE", start=m.start(), end=m.end(), extractor="test_sort_code")

    try:
        assert [e.label for e in ExtractorSet(names=["test_sort_code"]).extract("sort code 20-00-00")] == ["UK_SORT_CODE"]
    finally:
        del REGISTRY["test_sort_code"]


@pytest.mark.parametrize("raw", ["07700 900123", "07700900123", "+44 7700 900123", "01632 960123", "0115 496 0123"])
def test_ofcom_drama_numbers_are_found_at_lower_confidence(raw: str) -> None:
    # libphonenumber marks these reserved ranges invalid; examples and test material use them.
    [phone] = [e for e in EXTRACT.extract(f"Text {raw} for a deal.") if e.label == "PHONE"]
    assert phone.text == raw and phone.confidence == 0.7
    assert phone.normalized == "+44" + "".join(c for c in raw if c.isdigit()).removeprefix("44").removeprefix("0")


def test_numbers_next_to_a_drama_prefix_that_are_not_numbers_stay_out() -> None:
    assert found("Ref 7700900 and 0770090012 and 077009001234567.", "PHONE") == []


def test_a_national_number_is_read_in_the_documents_region_before_the_default() -> None:
    text = "Commandes au 06 12 34 56 78 ou au 020 7946 0018."
    phones = [e.normalized for e in EXTRACT.extract(text, phone_region="FR") if e.label == "PHONE"]
    # The French number is French; the British one is not a French number, so the default reads it.
    assert phones == ["+33612345678", "+442079460018"]
    assert found(text, "PHONE") == ["+442079460018"]  # without the document's region: GB only


@pytest.mark.parametrize("region", ["GB", "DE", "FR", "ES", "IT", "NL"])
def test_amounts_dates_case_numbers_and_postcodes_are_not_phones_in_any_region(region: str) -> None:
    text = ("Beute 332.000 Euro und 1.332.000 Euro, £14,250 cash, am 12.03.2025, le 14/02/2025, "
            "Az. 2025/118734, ref 2025 004 118, PLZ 10115 Berlin, 13001 Marseille, 1 500 000 euros, "
            "ISBN 978-3-16-148410-0.")
    assert [e.text for e in EXTRACT.extract(text, phone_region=region) if e.label == "PHONE"] == []
