"""Signed release attestations: in-toto Statements in DSSE envelopes, signed with Ed25519,
verified where the bytes are deployed."""
