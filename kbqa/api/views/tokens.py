"""The caller's API tokens: list, create (from a signed-in session only), revoke."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from kbqa.api.errors import Conflict
from kbqa.api.models import ApiToken
from kbqa.api.serializers import ApiTokenSerializer, NewApiTokenSerializer
from kbqa.api.tokens import TokenError, TokenInUse, token_create, token_revoke


class TokenListCreateView(generics.ListCreateAPIView):
    """GET: the caller's tokens (never their keys). POST: a new named token; its `key` is in this
    response only. Creating tokens needs a signed-in browser session (or `manage.py
    create_api_token`): a token cannot mint tokens."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # for the schema
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            raise PermissionDenied("API tokens are created from a signed-in session, not a token.")
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            token, key = token_create(
                user=request.user,
                name=data["name"],
                scope=data.get("scope", ApiToken.Scope.ASK),
                days=data.get("days"),
            )
        except TokenError as exc:
            raise ValidationError({"name": [str(exc)]}) from None
        token.key = key
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailView(generics.RetrieveDestroyAPIView):
    """GET one of the caller's tokens; DELETE revokes it (it stops working at once)."""

    serializer_class = ApiTokenSerializer
    error_statuses = {"DELETE": (409,)}

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    def perform_destroy(self, instance: ApiToken) -> None:
        try:
            token_revoke(token=instance, by=self.request.user, via=self.request.auth)
        except TokenInUse as exc:
            raise Conflict(str(exc)) from None
