"""The privacy mask knows every form the plug derives from a personal value, groups codes made of the lead, and
compiles the lead's pattern only when one of its values is in the text (pure, no I/O)."""

from __future__ import annotations

import json
import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher import privacy
from dispatcher.integrations.webhook_mapping import TRANSFORMS
from dispatcher.reasons import reason_token

LEAD = {"id": "pilot-7f3a9c", "first_name": "Élodie", "last_name": "Dupré", "email": "elodie@exemple.fr",
        "phone": "+33698765432", "address": {"street": "12 rue des Lilas"}}


@pytest.fixture
def learnt():
    return privacy.Masker(LEAD)


PHONES = ["+33698765432", "+34612345678", "+212612345678", "+420601123456", "+36201234567", "+40721234567",
          "+79161234567", "+81312345678", "+4915123456789", "+12015550123"]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("transform", ["national_phone", "national_phone_spaced", "international_phone", "e164_phone",
                                       "digits"])
def test_every_form_the_plug_writes_a_phone_in_is_masked(phone, transform):
    """Whatever country and whichever of the webhook format's phone transforms: at most a country code or a
    trunk prefix is left readable, never the number."""
    written = TRANSFORMS[transform](phone)
    masker = privacy.Masker({**LEAD, "phone": phone})
    masked = masker.mask_text(f"tel={written};")
    assert privacy.MASK in masked
    assert len(re.sub(r"\D", "", masked)) <= 4, masked
    assert masker.reveals(f"TEL_{re.sub(r'[^0-9]', '', written)}")


def test_an_id_holding_the_phones_digits_stays_whole():
    masker = privacy.Masker({**LEAD, "id": "lead-3098765432", "phone": "+33698765432"})
    assert masker.mask_text("lead-3098765432 ended") == "lead-3098765432 ended"
    assert masker.mask_text("order 98765432") == "order [masked]"


def test_a_phone_not_in_e164_derives_nothing():
    assert privacy.phone_forms("0612345678") == set()
    assert privacy.phone_digits("0612345678") == ""


def test_other_numbers_stay_readable(learnt):
    assert learnt.mask_text("order 20261203, HTTP 422, id 00Q5e00000AbCdE") == \
        "order 20261203, HTTP 422, id 00Q5e00000AbCdE"


@pytest.mark.parametrize("text", [
    pytest.param("Appelez le 0698765432", id="national-phone-a-webhook-sends"),
    pytest.param("Appelez le 06 98 76 54 32", id="spaced-phone"),
    pytest.param("tel=33698765432", id="digits-only-phone"),
    pytest.param("LAST NAME DUPRÉ REFUSED", id="upper-cased-name"),
    pytest.param("Company: Élodie Dupré", id="joined-full-name"),
    pytest.param("Company: DUPRÉ ÉLODIE", id="joined-the-other-way-upper-cased"),
    pytest.param("code DUPRÉ_REFUSED", id="name-inside-a-customers-code"),
    pytest.param("ELODIE@EXEMPLE.FR is taken", id="upper-cased-email"),
])
def test_every_derived_form_is_masked(learnt, text):
    masked = learnt.mask_text(text)
    assert privacy.MASK in masked
    for form in ("0698765432", "06 98 76 54 32", "33698765432", "DUPRÉ", "Dupré", "Élodie", "ÉLODIE", "EXEMPLE"):
        assert form.lower() not in masked.lower()


def test_a_value_inside_an_id_stays_whole():
    assert privacy.Masker({"first_name": "Ed", "last_name": "Li"}).mask_text("00Q5e00000EdbLiAAO") == \
        "00Q5e00000EdbLiAAO"


def test_no_pattern_is_compiled_for_a_text_without_the_leads_values(learnt):
    assert learnt.mask_known("Lead ended refused/OUT_OF_AREA, HTTP 422") == "Lead ended refused/OUT_OF_AREA, HTTP 422"
    assert not learnt.compiled  # looked for, not compiled
    assert learnt.mask_known("for dupré") == "for [masked]"
    assert learnt.compiled  # compiled once a value is there, then kept for the lead


def test_the_look_first_mask_masks_as_the_pattern_alone_would(learnt):
    pattern = privacy._whole_values(privacy.personal_values(LEAD), privacy.phone_digits(LEAD["phone"]))
    texts = ["Élodie Dupré, 06 98 76 54 32", "nothing personal", "ÉLODIE_DUPRÉ", "elodie@exemple.fr!", "Dupréville"]
    assert [learnt.mask_known(text) for text in texts] == [pattern.sub(privacy.MASK, text) for text in texts]


@pytest.mark.parametrize(("token", "reveals"), [
    pytest.param("TEL_0698765432", True, id="national-phone"),
    pytest.param("DUPRE_REFUSED", False, id="an-accentless-name-is-not-a-form-the-plug-derives"),
    pytest.param("DUPRÉ_REFUSED", True, id="upper-cased-name"),
    pytest.param("PILOT_7F3A9C_REJECTED", True, id="our-lead-id"),
    pytest.param("FIELD_CUSTOM_VALIDATION_EXCEPTION", False, id="a-clean-code"),
    pytest.param("OUT_OF_AREA", False, id="another-clean-code"),
])
def test_a_code_made_of_the_lead_is_revealing(learnt, token, reveals):
    assert learnt.reveals(token) is reveals


@pytest.mark.parametrize(("raw", "token"), [
    pytest.param("FIELD_CUSTOM_VALIDATION_EXCEPTION", "FIELD_CUSTOM_VALIDATION_EXCEPTION", id="salesforce-code"),
    pytest.param("out_of_area", "out_of_area", id="lower-case-token"),
    pytest.param("HTTP_404", "HTTP_404", id="three-digits-are-a-code"),
    pytest.param("0x80040265", "0x80040265", id="a-dataverse-hresult"),
    pytest.param("0x800402651", "refused", id="not-an-hresult"),
    pytest.param("ERR_20261126", "refused", id="a-date-is-per-lead"),
    pytest.param("REJ_7F3A9C_12345", "refused", id="a-number-is-per-lead"),
    pytest.param("out-of-area", "refused", id="not-a-token"),
    pytest.param("Email jean@exemple.fr is not valid", "refused", id="a-sentence"),
    pytest.param("X", "refused", id="too-short"),
    pytest.param("A" * 65, "refused", id="too-long"),
    pytest.param(42, "refused", id="not-a-string"),
])
def test_only_a_short_stable_token_becomes_a_reason(raw, token):
    assert reason_token(raw, "refused") == token


ENVELOPES = [
    pytest.param({"customer_lead_id": "00Q1", "response_details": {"http_status_code": 201, "id": "00Q1"}},
                 id="an-ordinary-answer"),
    pytest.param({"response_details": {"echo": "Élodie Dupré <elodie@exemple.fr>", "http_status_code": 201}},
                 id="echoing-the-person"),
    pytest.param({"response_details": {"note": "call 06 98 76 54 32", "http_status_code": 201}}, id="spaced-phone"),
    pytest.param({"response_details": {"note": "key=s3cr3t-value-42", "http_status_code": 502}}, id="a-credential"),
    pytest.param({"response_details": {"body": "she said \"DUPRÉ\"\n", "http_status_code": 400}}, id="escapes"),
    pytest.param({"response_details": {"body": "ring +44 20 7946 0958", "list": ["a", ("b", 1)]}}, id="a-phone"),
    pytest.param({"response_details": {"ÉLODIE": "key of a person", "http_status_code": 201}}, id="a-personal-key"),
]


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_masking_a_json_value_as_a_whole_masks_as_string_by_string(envelope):
    masker = privacy.Masker(LEAD, ["s3cr3t-value-42"])
    for text in (json.dumps(envelope), json.dumps(envelope, ensure_ascii=False)):
        assert masker.mask_json(envelope, text) == privacy.Masker(LEAD, ["s3cr3t-value-42"]).mask_deep(envelope)


def test_an_ordinary_envelope_is_given_back_without_a_pattern_compiled():
    masker, envelope = privacy.Masker(LEAD), {"customer_lead_id": "00Q1", "response_details": {"id": "00Q1"}}
    assert masker.mask_json(envelope, json.dumps(envelope)) is envelope
    assert not masker.compiled


def test_a_masker_masks_in_any_thread_it_is_handed_to():
    """No hidden per-lead context: a thread started without copying the context masks as the lead's own."""
    masker, masked = privacy.Masker(LEAD, ["s3cr3t-value-42"]), []
    worker = threading.Thread(target=lambda: masked.append(masker.mask_text("Dupré s3cr3t-value-42")))
    worker.start()
    worker.join()
    assert masked == ["[masked] [redacted]"]


def test_credentials_read_again_are_masked_from_then_on():
    masker = privacy.Masker(LEAD, ["first-token"])
    masker.learn_credentials(["first-token", "refreshed-token"])
    assert masker.mask_credentials("refreshed-token first-token") == "[redacted] [redacted]"


ORDINARY_IDS = ["pilot-7f3a9c", "00Q5e00000EdbLiAAO", "12345678", "lead-Élodie-2", "0698"]
PERSONAL_IDS = [*sorted(privacy.personal_values(LEAD)), " ELODIE@EXEMPLE.FR ", "DUPRÉ"]  # sorted: xdist's order


@pytest.mark.parametrize("lead_id", [*PERSONAL_IDS, *ORDINARY_IDS])
@pytest.mark.parametrize("derived_first", [False, True])
def test_an_id_is_masked_exactly_when_it_is_one_of_the_leads_values_in_any_derived_form(lead_id, derived_first):
    masker = privacy.Masker(LEAD)
    if derived_first:  # the lead's forms already derived (a text was masked first): the same answer
        masker.mask_known("nothing personal here")
    values = privacy.personal_values(LEAD)
    personal = lead_id.strip() in values or lead_id.strip().lower() in values
    assert personal == (lead_id not in ORDINARY_IDS)
    assert (masker.mask_id(lead_id) == privacy.MASK) == personal
    assert privacy.Masker(LEAD).mask_id("someone@else.org") == privacy.MASK  # shaped like an email: always


_VALUE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)
_NAME = st.one_of(_VALUE, st.sampled_from(["Élodie", " STRAẞE ", "İlkay", "ΣΟΦΊΑ", "ﬃon", "Dupré ", "ǅemal"]))
_PHONE_SENT = st.one_of(st.sampled_from([*PHONES, "+3361234", "+1234567", " +33698765432 ", "0698765432", ""]),
                        st.from_regex(r"\+[1-9][0-9]{5,13}", fullmatch=True))


@given(first=_NAME, last=_NAME, phone=_PHONE_SENT, noise=_VALUE, data=st.data())
@settings(max_examples=400, deadline=None)
def test_looking_for_the_values_gives_the_answer_of_looking_for_every_derived_form(first, last, phone, noise, data):
    """The look that spares deriving the forms (`_might_hold`) answers as a look for every derived form would,
    whatever the letters (ß, İ, final sigma, ligatures), the spaces around a value and the phone's length."""
    masker = privacy.Masker({**LEAD, "first_name": first, "last_name": last, "phone": phone})
    forms = privacy.personal_values({**LEAD, "first_name": first, "last_name": last, "phone": phone})
    form = data.draw(st.sampled_from(forms)) if forms else ""
    case = data.draw(st.sampled_from([str, str.upper, str.lower, str.title, str.casefold]))
    text = data.draw(st.sampled_from([noise, f"{noise}{case(form)}{noise}", f"x {case(form[1:])} y"]))
    folded = text.casefold()
    digits = privacy.phone_digits(phone.strip())
    expected = (any(value.casefold() in folded for value in forms)
                or bool(digits and digits in re.sub(r"\D", "", text)))
    assert masker._might_hold(text) == expected
