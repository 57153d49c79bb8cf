"""The reference team's credit-scoring model, as a team's own repository holds it.

Modules: `features` (the record schema), `artifact` (the on-disk artifact),
`model` (the pipeline and its loader, the harness's entry point), `train` (training
and its CLI). The harness serves it with its generic server; no service code here.
"""
