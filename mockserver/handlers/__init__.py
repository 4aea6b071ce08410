"""The HTTP handlers, one module per resource: thin functions that validate the request, call the store,
``sending`` or ``history``, and answer in Letta's shapes. Each is named by its operation's operationId and listed in
its module's ``__all__``; ``app`` binds the rows of ``operations.OPERATIONS`` to them by that name, importing the
module a row names (``Operation.module``) on its operation's first request."""
