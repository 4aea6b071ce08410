"""letta-mock's version, in the lowest layer: the package, the admin API, our OpenAPI document, the CLI and the
recordings all read it from here (and the build, ``[tool.hatch.version]``)."""

__version__ = "0.1.0"
