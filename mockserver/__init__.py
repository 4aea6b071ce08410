"""letta-mock: a contract-testing mock server for the Letta agent messages API."""

__version__ = "0.1.0"

from mockserver.app import create_app
from mockserver.errors import ConfigurationError, LettaMockError

__all__ = ["ConfigurationError", "LettaMockError", "__version__", "create_app"]
