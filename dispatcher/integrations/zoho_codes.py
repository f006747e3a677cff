"""What each Zoho CRM error code means for a Lead insert (about the person, the customer's
state, our request, or our access), from Zoho's published catalog.

Source: the `code` enumeration of `API_Exception` in Zoho's OpenAPI specification for CRM v8 (github zoho/crm-oas,
`v8.0/record.json`), every code of it, read for what it says when a record is inserted. Any other code is
`customer_error`, naming the code. MULTIPLE_OR_MULTI_ERRORS (a record's several errors, in `details.errors`) is
a container, read through; SUCCESS is not an error.
"""

from __future__ import annotations

from dispatcher.reasons import Reason

_DUPLICATE, _MISSING, _REFUSED = Reason.DUPLICATE, Reason.INVALID_LEAD, Reason.REFUSED
_ITS_STATE, _OUR_REQUEST, _ACCESS = Reason.CUSTOMER_ERROR, Reason.CUSTOMER_REJECTED_REQUEST, Reason.UNAUTHORIZED

CODES: dict[str, Reason] = {
    "DUPLICATE_DATA": _DUPLICATE,  # a unique field (the email) of a record already there
    "MANDATORY_NOT_FOUND": _MISSING,  # "required field not found", named in details.api_name
    # About the person's data.
    "INVALID_DATA": _REFUSED,  # "invalid data": a bad email, a value too long (details.api_name)
    "PATTERN_NOT_MATCHED": _REFUSED,  # a value outside the field's pattern (a phone format)
    # The customer's own state: limits, storage, records its processes hold, its servers.
    "LIMIT_EXCEEDED": _ITS_STATE,  # "Record insertion limit has been exceeded"
    "LIMIT_REACHED": _ITS_STATE,
    "STORAGE_SPACE_EXCEEDED": _ITS_STATE,
    "RECORD_LOCKED": _ITS_STATE,
    "RECORD_IN_BLUEPRINT": _ITS_STATE,
    "CANNOT_PROCESS": _ITS_STATE,  # "The record is in stop processing"
    "CANNOT_PERFORM_ACTION": _ITS_STATE,
    "NOT_APPROVED": _ITS_STATE,
    "CONVERTED_RECORD": _ITS_STATE,
    "ID_ALREADY_CONVERTED": _ITS_STATE,
    "ALREADY_SCHEDULED": _ITS_STATE,
    "CANNOT_DELETE": _ITS_STATE,
    "INTERNAL_ERROR": _ITS_STATE,
    # Answers of reads and updates, not of an insert: when one comes, the customer says something else than
    # "this person": its error, named.
    "NO_CONTENT": _ITS_STATE,
    "NO_RECORDS_FOUND": _ITS_STATE,
    "NOT_FOUND": _ITS_STATE,
    "Not Modified": _ITS_STATE,
    # Our request does not fit the account's setup: every lead would fail the same way.
    "INVALID_MODULE": _OUR_REQUEST,  # the account has no such module
    "FEATURE_NOT_SUPPORTED": _OUR_REQUEST,  # "not available in your edition"
    "NOT_SUPPORTED": _OUR_REQUEST,
    "TERRITORY_NOT_ENABLED": _OUR_REQUEST,
    "DEPENDENT_FIELD_MISSING": _OUR_REQUEST,  # a field the layout makes depend on one we do not send
    "EXPECTED_FIELD_MISSING": _OUR_REQUEST,
    "REQUIRED_PARAM_MISSING": _OUR_REQUEST,  # our body lacks `data`
    "MAPPING_MISMATCH": _OUR_REQUEST,
    "DATA_MISMATCH": _OUR_REQUEST,
    "NOT_ALLOWED": _OUR_REQUEST,  # a field a layout or validation rule keeps from being written
    "ALREADY_USED": _OUR_REQUEST,
    "INVALID_QUERY": _OUR_REQUEST,
    "INVALID_REQUEST_METHOD": _OUR_REQUEST,
    "FILE_SIZE_MORE_THAN_ALLOWED_SIZE": _OUR_REQUEST,
    "INVALID_URL_PATTERN": Reason.CUSTOMER_API_NOT_FOUND,  # 404: no such API at this address
    # Our access: the token, its scopes, the user's permissions.
    "AUTHENTICATION_FAILURE": _ACCESS,
    "INVALID_TOKEN": _ACCESS,
    "OAUTH_SCOPE_MISMATCH": _ACCESS,
    "NO_PERMISSION": _ACCESS,
}
