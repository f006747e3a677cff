"""Contract fuzzing: schemathesis drives `chalice local` from `contracts/openapi.yaml` (docs/development.md)."""
