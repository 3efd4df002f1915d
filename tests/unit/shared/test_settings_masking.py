"""A settings repr (in a log line or a traceback) shows no password nor secret."""

from overlap_shared.settings import PusherSettings, ServiceSettings, mask_url


def test_url_passwords_are_masked_in_the_repr_and_str() -> None:
    s = ServiceSettings(
        database_url="postgresql+asyncpg://overlap:s3cr3t-pw@db:5432/overlap",
        redis_url="redis://:r3dis-pw@cache:6379/0",
    )
    for text in (repr(s), str(s)):
        assert "s3cr3t-pw" not in text and "r3dis-pw" not in text
        assert "postgresql+asyncpg://overlap:***@db:5432/overlap" in text
        assert "redis://:***@cache:6379/0" in text
    assert s.database_url.endswith("s3cr3t-pw@db:5432/overlap")  # the value itself is kept


def test_urls_without_a_password_are_left_alone() -> None:
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_the_pusher_secret_is_not_in_the_repr() -> None:
    s = PusherSettings(secret="a-pusher-secret-of-length")
    assert "a-pusher-secret-of-length" not in repr(s)


def test_group_names_take_the_stack_prefix() -> None:
    groups = ServiceSettings(kafka_group_prefix="stack7.", notifier_group="n").consumer_groups()
    assert groups == {
        "availability": "stack7.availability",
        "invalidator": "stack7.cache-invalidator",
        "notifier": "stack7.n",
    }
