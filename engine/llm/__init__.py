"""Language-model traffic: prompt-token estimation and the token usage of responses.

Shared by the AI-gateway policies (token limits, token metrics). Public API: `estimate_prompt_tokens`,
`count_text_tokens` (engine.llm.tokenizer), `Usage`, `on_usage` (engine.llm.usage).
"""
