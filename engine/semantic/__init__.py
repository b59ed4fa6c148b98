"""The semantic cache behind llm-semantic-cache-lookup/-store: prompt vectors and responses by partition."""
