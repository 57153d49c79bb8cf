"""The reference credit-scoring model service that the harness tests.

Modules: `features` (the record schema), `artifact` (the on-disk artifact),
`model` (the pipeline and its loader), `train` (training and its CLI),
`app` (the HTTP service).
"""
