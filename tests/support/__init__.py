"""What the tests share: helpers with one job each, imported only from here (and fixtures
from tests/conftest.py)."""
