"""Lead Plug's dispatcher: one lead in, one customer call, one envelope out.

Where things are:
- `delivery.py`: the journey, as straight-line steps (read, validate, translate, exchange, classify);
- `machine.py`: the states and the only moves allowed; `translog.py`: one JSON log line per move;
- `reasons.py`: the one table of how a lead can end (state, HTTP status, Rollbar level, who holds the lead);
- `errors.py`: the exceptions a step raises to end a lead, and ConfigurationError;
- `contract.py`: the lead schema at runtime; `jsonpath.py`: dotted paths and JSON equality;
- `integrations/`: one module per customer, with `auth.py` (OAuth and static credentials) shared by all;
- `transport.py` + `deadline.py`: HTTP to the customer under one deadline; `answer.py`: what came back;
- `envelopes.py`, `privacy.py` (personal data and secrets), `reporting.py` (Rollbar);
- `plug.py`: the configuration, built once.

The package imports nothing itself, so that a script may read `dispatcher.reasons` with the standard library
alone.
"""
