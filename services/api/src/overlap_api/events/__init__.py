"""Events: create, read (the view), edit, finalize, delete, best times, calendar file and
CSV export."""
