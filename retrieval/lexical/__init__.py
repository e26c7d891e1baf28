"""The lexical side of hybrid search: BM25 over jieba-segmented Chinese and plain English words."""
