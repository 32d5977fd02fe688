"""API tokens: a user creates, lists and revokes their own bearer tokens."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from luma.errors import NotFound
from luma.models import ApiToken
from luma.schemas import InputSchema
from luma.services import api_token_create

router = Router()


class TokenIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The token itself: shown this once, never again.")


@router.get("", response=list[TokenOut], summary="Your API tokens")
def tokens_list(request: HttpRequest) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=request.user).order_by("-created_at"))


@router.post("", response={201: TokenCreatedOut}, summary="Create an API token")
def tokens_create(request: HttpRequest, payload: TokenIn) -> Status:
    token, plain = api_token_create(user=request.user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": plain})


@router.delete("/{int:token_id}", response={204: None}, summary="Revoke an API token")
def tokens_revoke(request: HttpRequest, token_id: int) -> Status:
    deleted, _ = ApiToken.objects.filter(pk=token_id, user=request.user).delete()
    if not deleted:
        raise NotFound(f"Token {token_id} does not exist.")
    return Status(204, None)
