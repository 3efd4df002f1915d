"""The read wing: the view reader, the caches besides it, the L1s and their channel, the one
Redis gate, the read SQL and the read metrics."""
