"""The write plumbing shared by the features: locking an event, the outbox, the one-statement
PUT of availability, and the relay from the outbox to Kafka."""
