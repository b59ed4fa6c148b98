"""policygate engine: policy documents, the expression language, the runtime and the gateway."""
