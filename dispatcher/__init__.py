"""Lead Plug's dispatcher: one lead in, one customer call, one envelope out.

Every module, its one job and which ones a lead crosses: docs/development.md#module-map (the one list; a unit
test keeps it complete).

The package imports nothing itself, so that a script may read `dispatcher.reasons` with the standard library
alone.
"""
