"""The catalog: opening it on either backend and its migrations (connection.py), the one writer's loads
(load.py), search, the read-only sandbox and queries, exports, maintenance and upgrades. Its SQL ships
inside the package (`sql/`, linked from the checkout's top level)."""
