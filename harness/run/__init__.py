"""A run of a profile: preflight, the pytest engine, the verdict, history records, evidence, JUnit and the report."""
