"""LLM back ends; one is chosen in settings (KBQA_LLM)."""
