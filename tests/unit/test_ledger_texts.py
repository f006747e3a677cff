"""The texts the ledger hashes and stores stay those earlier versions wrote: a row already in a ledger (a lead's
fingerprint, a record's JSON) must still match after an upgrade, or a retry of the same lead would be refused as
`lead_id_reused`."""

from __future__ import annotations

import json

from dispatcher.ledger import dynamodb, sqlite
from dispatcher.ledger.ledger import fingerprint_of

LEAD = {"id": "lead-7c1e-0042", "first_name": "Élodie", "last_name": "Dupré-Lefèvre",
        "email": "elodie.dupre@exemple.fr", "phone": "+33673400001",
        "address": {"street": "12 rue des Lilas", "city": "Lyon", "postal_code": "69003", "country": "FR"},
        "consent": {"given": True, "at": "2026-11-26T09:29:00Z", "ip": "203.0.113.7",
                    "text": "J'accepte d'être recontactée."},
        "comment": "Maison de 120 m², toit orienté sud."}
# fingerprint_of(LEAD) as the version before this one computed it (json.dumps(lead, sort_keys=True,
# ensure_ascii=False), hashed): what the ledgers in service hold for this lead.
STORED_FINGERPRINT = "55b0db142ea66bb00041380b89c91159688c8f53b1a551b797d701e032ababe8"


def test_a_lead_has_the_fingerprint_earlier_versions_stored_for_it():
    assert fingerprint_of(LEAD) == STORED_FINGERPRINT


def test_the_fingerprint_ignores_the_order_of_the_fields():
    assert fingerprint_of(dict(reversed(list(LEAD.items())))) == STORED_FINGERPRINT
    assert fingerprint_of({**LEAD, "comment": "Maison de 120 m²."}) != STORED_FINGERPRINT


def test_a_record_is_stored_as_compact_json_and_reads_back_whole():
    record = {"phase": "settled", "claim_until": 1764777600.125, "previous_attempt": None, "sent": True,
              "envelope": {"customer_lead_id": "00Q1", "response_details": {"echo": "Dupré [masked]", "n": [1, 2]}}}
    for store in (sqlite, dynamodb):
        text = store.RECORD_JSON.encode(record)
        assert text == json.dumps(record, separators=(",", ":"))
        assert json.loads(text) == record
