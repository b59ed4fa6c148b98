"""The gateway: configuration, routing, subscriptions, the policy pipeline, backend client and server.

Entry points: `load_settings` (config.py), `GatewayServer` / `load_server` (runner.py),
`create_app` (runner.py), `PipelineBuilder` (builder.py).
"""
