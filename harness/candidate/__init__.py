"""A release candidate: its identity and artifact digests, its build, and its travel by digest through an OCI registry."""
