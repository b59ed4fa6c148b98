"""Synthetic GraphQL APIs: the gateway executes GraphQL requests itself against the API's schema.

`schema.load_schema` reads an SDL file (errors name the file, line and column); `executor.SyntheticGraphQL`
answers one request: it reads the GraphQL request (`request.read_request`), validates it against the
schema and executes it with graphql-core, each field with a resolver running that resolver's policy
steps (`<http-data-source>`) and every other field taking its value from the parent object.
"""
