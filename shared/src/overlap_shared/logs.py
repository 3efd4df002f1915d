"""One logging setup for every service, with secrets masked out of every log line."""

import logging
import os
import re

# Environment variables whose values never belong in a log (the services' own secrets).
SECRET_ENV_VARS = ("PUSHER_SECRET", "OPERATOR_KEY", "JWT_SECRET")
# Request signatures made with PUSHER_SECRET (the pusher package signs HTTP API URLs).
_SIGNATURE = re.compile(r"(auth_signature=)[0-9A-Fa-f]+")
MASK = "[redacted]"


class RedactSecrets(logging.Filter):
    """Replaces the given secret values and Pusher request signatures in records'
    messages and tracebacks (a last line of defence: code should not log them at all)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return _SIGNATURE.sub(rf"\g<1>{MASK}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact = RedactSecrets([os.environ.get(name, "") for name in SECRET_ENV_VARS])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # uvicorn logs server errors through its own handlers: filter at the logger instead.
    logging.getLogger("uvicorn.error").addFilter(redact)
    # httpx logs each request at INFO: one line per Pusher call of the notifier.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
