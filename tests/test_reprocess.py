"""``osintel reprocess QUERY``: after a taxonomy change, the selected documents are re-enriched
from the store of record, re-indexed and saved; documents outside the query are untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from indexer.tantivy_index import TantivyIndex
from osintel.service.pipeline import drain_outbox
from osintel.records import Document, SourceRef
from osintel.settings import CONFIG_DIR, load_settings
from osintel.store import ControlStore

SRC = SourceRef(id="news", name="News", grading="2BP")
PRESS = ("Officers searching a unit in Hull found an industrial pill press, 40,000 counterfeit diazepam "
         "tablets and bags of powder. Detectives said the gang sold the tablets on social media. ")
DRUGS = [
    PRESS + "Two men, aged 27 and 33, were charged with producing a controlled drug.",
    PRESS.replace("Hull", "Grimsby").replace("40,000", "12,500")
    + "A woman, 45, was released under investigation while enquiries continue.",
]
FRAUD = ("Fraudsters posing as bank staff called a pensioner in Exeter and persuaded her to transfer "
         "£23,000 to a 'safe account'. Police warned residents that banks never ask customers to move money.")

NEW_METHOD = {
    "id": "drugs.pill_press",
    "label": "Pill press production",
    "category": "drugs",
    "description": "Counterfeit tablets (benzodiazepines, opioids) pressed from bulk powder with a pill press.",
    "patterns": {"en": [r"pill[- ]press(?:es)?\b", r"tablet[- ]press(?:es)?\b"]},
    "examples": {"en": ["Officers found an industrial pill press and thousands of counterfeit tablets."]},
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data dir whose documents were enriched (real Enricher) and indexed with the bundled taxonomy."""
    from nlp.enricher import Enricher

    data_dir = tmp_path_factory.mktemp("data")
    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    store = ControlStore(settings.store_path)
    docs = [Document(url=f"https://news.example.org/{n}", source=SRC, title=f"Story {n}", text=text)
            for n, text in enumerate([*DRUGS, FRAUD])]
    for n, doc in enumerate(docs):
        store.add_collected(doc, content_sha256=f"sha{n}")
    index = TantivyIndex(settings.index_dir)
    drain_outbox(store, Enricher.from_settings(settings), index)
    before = {d.id: d for d in store.iter_documents()}
    index.close()
    store.close()
    taxonomy = yaml.safe_load((CONFIG_DIR / "methods.yaml").read_text(encoding="utf-8"))
    taxonomy["methods"].append(NEW_METHOD)
    methods_file = data_dir.parent / "methods-new.yaml"
    methods_file.write_text(yaml.safe_dump(taxonomy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return {"data_dir": data_dir, "before": before, "docs": docs, "methods_file": methods_file}


def test_reprocess_applies_a_new_taxonomy_to_the_query_and_nothing_else(indexed: dict[str, Any]) -> None:
    data_dir, before = indexed["data_dir"], indexed["before"]
    drug_ids = {d.id for d in indexed["docs"][:2]}
    fraud_id = indexed["docs"][2].id
    old_digest = before[fraud_id].enrichment["methods"]
    assert all("drugs.pill_press" not in {m.id for m in d.methods} for d in before.values())

    env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_METHODS_FILE": str(indexed["methods_file"]),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "osintel", "reprocess", "tablets", "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)

    assert (report["matched"], report["reprocessed"], report["changed"], report["failed"]) == (2, 2, 2, 0)
    new_digest = report["documents"][0]["versions"]["methods"][1]
    assert new_digest != old_digest
    assert report["version_changes"]["methods"] == {f"{old_digest} -> {new_digest}": 2}
    assert {d["id"] for d in report["documents"]} == drug_ids
    assert all(d["methods_added"] == ["drugs.pill_press"] for d in report["documents"])
    assert "2 document(s) match 'tablets'" in proc.stderr

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    with ControlStore(settings.store_path) as store, TantivyIndex(settings.index_dir) as index:
        for doc_id in drug_ids:
            stored, hit = store.get_document(doc_id), index.get(doc_id)
            assert stored is not None and hit is not None
            for doc in (stored, hit):  # the store of record and the index agree
                assert "drugs.pill_press" in {m.id for m in doc.methods}
                assert doc.enrichment["methods"] == new_digest
                assert doc.text == before[doc_id].text  # captured text never changes
            assert stored.duplicate_of == before[doc_id].duplicate_of  # clusters are stable
        assert index.search("method:drugs.pill_press").total == 2
        untouched = store.get_document(fraud_id)
        assert untouched is not None and untouched.enrichment["methods"] == old_digest
        assert untouched.model_dump() == before[fraud_id].model_dump()
        # Re-enrichment is a "combination" in the oversight record, saved with the documents.
        from osintel import audit

        combined = [e for e in audit.events(store) if e.action == "combination"]
        assert len(combined) == 1 and set(combined[0].detail["doc_ids"]) == drug_ids
        assert combined[0].detail["query"] == "tablets" and combined[0].actor.startswith("cli:")
