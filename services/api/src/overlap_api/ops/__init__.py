"""Operations: health and readiness, the performance monitor, cache warming and the
retention job's deletions."""
