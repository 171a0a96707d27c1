"""The bake checks that ship with the gate, one plugin each (see :mod:`gate.bake.plugin`).
Each declares its fields here and imports its check, and its client library, only when a
bake asks for it."""
