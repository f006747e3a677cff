"""Lead Plug's dispatcher: one lead in, one customer call, one envelope out.

Where things are: `machine.py` (states and moves), `statuses.py` (state/reason -> HTTP status),
`contract.py` (the lead schema at runtime), `delivery.py` (the journey), `integrations/` (one module per
customer), `transport.py` + `deadline.py` (HTTP under a deadline), `envelopes.py`, `translog.py`,
`privacy.py`, `reporting.py`, `plug.py` (configuration).
"""

from dispatcher.delivery import Delivery, deliver
from dispatcher.integrations import ConfigurationError
from dispatcher.plug import current_plug

__all__ = ["ConfigurationError", "Delivery", "current_plug", "deliver"]
