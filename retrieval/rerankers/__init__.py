"""Optional second-stage rerankers (off by default: no cross-encoder ships offline)."""
