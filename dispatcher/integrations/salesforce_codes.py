"""What each Salesforce error code means for a Lead create (about the person, the
customer's state, our request, or our access), from Salesforce's published catalog.

Source: the `StatusCode` enumeration of the SOAP API's core data types (the codes a record's save can fail with,
the same `errorCode` the REST API returns in its error array), and the REST API's "Status Codes and Error
Responses" page for the call-level codes (INVALID_SESSION_ID, REQUEST_LIMIT_EXCEEDED, JSON_PARSER_ERROR...).
Only the codes a Lead create can meet are listed; any other code is `customer_error`, naming the code.
"""

from __future__ import annotations

from dispatcher.reasons import Reason

_DUPLICATE, _MISSING, _REFUSED = Reason.DUPLICATE, Reason.INVALID_LEAD, Reason.REFUSED
_ITS_STATE, _OUR_REQUEST, _ACCESS = Reason.CUSTOMER_ERROR, Reason.CUSTOMER_REJECTED_REQUEST, Reason.UNAUTHORIZED

CODES: dict[str, Reason] = {
    # The person already exists: a duplicate rule, a unique field (the email), a unique external id.
    "DUPLICATES_DETECTED": _DUPLICATE,
    "DUPLICATE_VALUE": _DUPLICATE,
    "DUPLICATE_EXTERNAL_ID": _DUPLICATE,
    # A field the org requires (named in `fields`): the platform can complete the lead.
    "REQUIRED_FIELD_MISSING": _MISSING,
    # About the person's data: the org does not want this lead as it is.
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": _REFUSED,  # a validation rule (out of area, a blocked domain...)
    "INVALID_EMAIL_ADDRESS": _REFUSED,
    "FIELD_FILTER_VALIDATION_EXCEPTION": _REFUSED,  # a value outside a lookup filter's criteria
    "FIELD_INTEGRITY_EXCEPTION": _REFUSED,  # e.g. a country or state the org's address picklists reject
    "STRING_TOO_LONG": _REFUSED,  # a name or street longer than the org's field
    "TEXT_DATA_OUTSIDE_SUPPORTED_CHARSET": _REFUSED,
    "NUMBER_OUTSIDE_VALID_RANGE": _REFUSED,
    "EMAIL_OPTED_OUT": _REFUSED,
    # The customer's own state: locks, limits, maintenance, its own automation failing, its servers.
    "UNABLE_TO_LOCK_ROW": _ITS_STATE,
    "STORAGE_LIMIT_EXCEEDED": _ITS_STATE,
    "LICENSE_LIMIT_EXCEEDED": _ITS_STATE,
    "LIMIT_EXCEEDED": _ITS_STATE,
    "REQUEST_LIMIT_EXCEEDED": _ITS_STATE,  # 403: the org's daily API requests are used up
    "TOO_MANY_APEX_REQUESTS": _ITS_STATE,
    "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE": _ITS_STATE,
    "SERVER_UNAVAILABLE": _ITS_STATE,
    "UNKNOWN_EXCEPTION": _ITS_STATE,
    "INTERNAL_ERROR": _ITS_STATE,
    "REQUEST_RUNNING_TOO_LONG": _ITS_STATE,
    "QUERY_TIMEOUT": _ITS_STATE,
    "TERRITORY_REALIGN_IN_PROGRESS": _ITS_STATE,
    "ENTITY_IS_LOCKED": _ITS_STATE,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": _ITS_STATE,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": _ITS_STATE,  # the org's own trigger or process failed on save
    "CANNOT_EXECUTE_FLOW_TRIGGER": _ITS_STATE,  # the org's own flow failed on save
    "MAX_DEPTH_IN_FLOW_EXECUTION": _ITS_STATE,
    "SELF_REFERENCE_FROM_TRIGGER": _ITS_STATE,
    # Our request does not fit the org's setup: every lead would fail the same way until the plug is reconfigured.
    "INVALID_FIELD": _OUR_REQUEST,  # a field the org's Lead lacks (a custom field not created)
    "INVALID_FIELD_FOR_INSERT_UPDATE": _OUR_REQUEST,  # a field that cannot be written on create
    "INVALID_TYPE": _OUR_REQUEST,
    "INVALID_TYPE_ON_FIELD_IN_RECORD": _OUR_REQUEST,  # a value of the wrong type for the org's field
    "JSON_PARSER_ERROR": _OUR_REQUEST,
    "MALFORMED_ID": _OUR_REQUEST,
    "INVALID_ID_FIELD": _OUR_REQUEST,
    "INVALID_CROSS_REFERENCE_KEY": _OUR_REQUEST,  # an owner, campaign or record type id that does not exist
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": _OUR_REQUEST,  # a value (our LeadSource...) the picklist lacks
    "UNAVAILABLE_RECORDTYPE_EXCEPTION": _OUR_REQUEST,
    "INACTIVE_OWNER_OR_USER": _OUR_REQUEST,  # the assignment sends leads to an inactive user
    "INVALID_ASSIGNMENT_RULE": _OUR_REQUEST,
    "INACTIVE_RULE_ERROR": _OUR_REQUEST,
    "INVALID_CURRENCY_ISO": _OUR_REQUEST,
    "FUNCTIONALITY_NOT_ENABLED": _OUR_REQUEST,
    "REQUIRED_FEATURE_MISSING": _OUR_REQUEST,
    "METHOD_NOT_ALLOWED": _OUR_REQUEST,
    # Our access: the session, the integration user's permissions, the API itself for this org.
    "INVALID_SESSION_ID": _ACCESS,
    "INVALID_AUTH_HEADER": _ACCESS,
    "INSUFFICIENT_ACCESS": _ACCESS,
    "INSUFFICIENT_ACCESS_OR_READONLY": _ACCESS,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": _ACCESS,
    "INVALID_READ_ONLY_USER_DML": _ACCESS,
    "API_DISABLED_FOR_ORG": _ACCESS,
    "API_CURRENTLY_DISABLED": _ACCESS,
}
