"""Contract fuzzing: schemathesis drives `chalice local` from `contracts/openapi.yaml` (see README, "Fuzzing")."""
