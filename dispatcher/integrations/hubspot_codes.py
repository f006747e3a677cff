"""What each HubSpot error means for a contact create (about the person, the
customer's state, our request, or our access), from HubSpot's published error pages.

Sources: "Error handling" of HubSpot's API reference (the body's `category`; 401 invalid authentication, 403
missing scopes, 409 conflict, 423 locked, 429 rate limits, 477 migration in progress, 5xx), and the CRM objects
API's validation errors (`errors[].code`, or `error` in the list an older answer writes in its message). Any other
code is `customer_error`, naming the code.
"""

from __future__ import annotations

from dispatcher.reasons import Reason

# A validation error's code, per property value.
CODES: dict[str, Reason] = {
    "MISSING_REQUIRED_PROPERTY": Reason.INVALID_LEAD,  # a property this portal requires (context.propertyName)
    "INVALID_EMAIL": Reason.REFUSED,  # HubSpot's own email validation refuses the person's address
    "CONTACT_EXISTS": Reason.DUPLICATE,
    # Our request does not fit the portal: a property it lacks, or one whose type or options are not what we send.
    "PROPERTY_DOESNT_EXIST": Reason.CUSTOMER_REJECTED_REQUEST,
    "READ_ONLY_VALUE": Reason.CUSTOMER_REJECTED_REQUEST,
    "INVALID_OPTION": Reason.CUSTOMER_REJECTED_REQUEST,  # our lifecyclestage is not one of the portal's options
    "INVALID_INTEGER": Reason.CUSTOMER_REJECTED_REQUEST,
    "INVALID_LONG": Reason.CUSTOMER_REJECTED_REQUEST,
    "INVALID_FLOAT": Reason.CUSTOMER_REJECTED_REQUEST,
    "INVALID_BOOLEAN": Reason.CUSTOMER_REJECTED_REQUEST,
    "INVALID_DATE": Reason.CUSTOMER_REJECTED_REQUEST,
    "INVALID_DATETIME": Reason.CUSTOMER_REJECTED_REQUEST,
}

# An answer's category, when no validation code decides.
CATEGORIES: dict[str, Reason] = {
    "CONFLICT": Reason.DUPLICATE,  # 409 "Contact already exists. Existing ID: N"
    "OBJECT_ALREADY_EXISTS": Reason.DUPLICATE,
    "INVALID_AUTHENTICATION": Reason.UNAUTHORIZED,
    "MISSING_SCOPES": Reason.UNAUTHORIZED,
    "RATE_LIMITS": Reason.CUSTOMER_ERROR,
    "LOCKED": Reason.CUSTOMER_ERROR,
    "OBJECT_NOT_FOUND": Reason.CUSTOMER_API_NOT_FOUND,
    "VALIDATION_ERROR": Reason.CUSTOMER_REJECTED_REQUEST,  # no property named: our body itself is not valid
}

# Statuses HubSpot documents for its own state, whatever the body: locked, rate limits, a migration in progress.
ITS_STATE_STATUSES = frozenset({423, 429, 477})
