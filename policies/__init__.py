"""Built-in policy elements: one module per APIM policy, its schema beside its runtime."""
