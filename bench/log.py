"""The bench's progress lines: ``[bench] HH:MM:SS message`` on stdout, flushed at once."""

import time


def log(msg: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {msg}", flush=True)
