"""Optional user identity: a signed bearer token (JWT, HS256, key from settings)."""

from typing import ClassVar

import jwt

from overlap_api.http.errors import KeyRequired, OverlapError

MAX_TOKEN_LENGTH = 4096


class BadToken(OverlapError):
    status, title = 401, "Invalid bearer token"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


def user_id_from(authorization: str | None, secret: str, *, required: bool) -> str | None:
    """The token's ``sub``; None when absent and not required."""
    if not authorization:
        if required:
            raise KeyRequired("this route needs an Authorization: Bearer <token> header")
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise BadToken("Authorization must be 'Bearer <token>'")
    try:
        claims = jwt.decode(
            token.strip(), secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.PyJWTError as exc:
        raise BadToken(f"the bearer token is not valid: {exc}") from None
    sub = claims["sub"]
    if not isinstance(sub, str) or not 0 < len(sub) <= 128:
        raise BadToken("the bearer token's 'sub' must be a string of 1-128 characters")
    return sub
