from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 200
MAX_OFFSET = 2**31 - 1  # beyond what any database here can count, within what it can store


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset pagination whose numbers the database can hold (no 500 on 10**30)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
