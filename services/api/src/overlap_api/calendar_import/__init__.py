"""Calendar import: a participant's .ics export turned into busy times, so the page can
pre-fill their grid as available outside them. Nothing uploaded is kept, and no URL is
ever fetched (the file comes in the request body, or not at all)."""
