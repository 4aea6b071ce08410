"""pytest plugin (entry point ``pytest11``): fixtures for a running letta-mock. Filled in with the plugin issue."""
