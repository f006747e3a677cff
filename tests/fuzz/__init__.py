"""Contract fuzzing: schemathesis drives `chalice local` from `contracts/openapi.yaml` (see docs/development.md, contract fuzzing)."""
