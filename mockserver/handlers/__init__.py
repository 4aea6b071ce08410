"""The HTTP handlers, one module per resource: thin functions that validate the request, call the store,
``sending`` or ``history``, and answer in Letta's shapes. ``operations.OPERATIONS`` routes to them."""
