"""The tamper-evident history: `entries` (the canonical bytes each event and access record commits to),
`merkle` (RFC 9162's tree and proofs), `notes` (signed checkpoints in the C2SP tlog-checkpoint text), `log` (the
worker that takes new rows into the log and signs checkpoints), `verify` (finding and locating any alteration),
`bundle` (a case's history exported and verified offline) and `replay` (a case re-executed from its history)."""
