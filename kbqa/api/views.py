"""REST API v1: thin views that validate input, check access and call one service.

Every read goes through `ingestion.access` (documents, collections, search, answers) or the chat
selectors (conversations, filtered by what the user may read now): a document the user may not
read is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from django.db.models import Count
from django.db.models.deletion import ProtectedError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.access import readable_collections, readable_documents
from ingestion.models import Chunk, Collection, Document
from ingestion.selectors import chunks_by_id
from ingestion.services import document_delete, document_enqueue
from ingestion.uploads import documents_upload, is_archive
from kbqa.api.errors import Conflict, error_body
from kbqa.api.filters import CollectionFilter, DocumentFilter
from kbqa.api.models import ApiToken
from kbqa.api.permissions import ModelPermission, TokenScope
from kbqa.api.serializers import (
    AnswerSerializer,
    ApiTokenSerializer,
    AskSerializer,
    CollectionSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    DocumentSerializer,
    DocumentUpdateSerializer,
    DocumentUploadSerializer,
    FeedbackSerializer,
    MessageSerializer,
    NewApiTokenSerializer,
    SearchResponseSerializer,
    SearchSerializer,
    UploadResultSerializer,
)
from kbqa.api.streaming import EventStreamRenderer, answer_events, answer_payload
from kbqa.api.throttling import AskRateThrottle, ClientRateThrottle
from kbqa.api.tokens import TokenError, TokenInUse, token_create, token_revoke
from kbqa.audit import audit
from kbqa.chat.models import Conversation, Message
from kbqa.chat.selectors import conversation_of, conversations_of, messages_visible
from kbqa.chat.services import conversation_ask, conversation_ask_stream, message_feedback
from retrieval.services import search

ASK, MANAGE = ApiToken.Scope.ASK, ApiToken.Scope.MANAGE
PERMISSIONS = [IsAuthenticated, TokenScope, ModelPermission]


def _ask_arguments(request) -> dict:
    serializer = AskSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    conversation = None
    if "conversation_id" in data:
        conversation = conversation_of(user=request.user, pk=data["conversation_id"])
    return {"user": request.user, "question": data["question"], "conversation": conversation}


class AskView(APIView):
    """Answer a question from the documents the caller may read (optionally as a follow-up in
    one of their conversations) and store both turns. A model that is down or too slow gives 200
    with `error` set and the retrieved `sources`, never a 5xx."""

    throttle_classes = [ClientRateThrottle, AskRateThrottle]
    error_statuses = {"POST": (404,)}  # no such conversation_id

    @extend_schema(request=AskSerializer, responses=AnswerSerializer)
    def post(self, request):
        conversation, answer, message = conversation_ask(**_ask_arguments(request))
        return Response(answer_payload(answer, conversation, message))


class AskStreamView(APIView):
    """The same answer as Server-Sent Events: `conversation`, `sources`, one `token` per piece
    of the answer, then `done` with the JSON `POST /ask/` returns (or `error`)."""

    throttle_classes = [ClientRateThrottle, AskRateThrottle]
    error_statuses = {"POST": (404,)}  # no such conversation_id
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        request=AskSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.ANY,
                description="Server-Sent Events: conversation, sources, token..., done (or error)",
            )
        },
    )
    def post(self, request):
        events = conversation_ask_stream(**_ask_arguments(request))
        response = StreamingHttpResponse(answer_events(events), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold tokens back
        return response


class SearchView(APIView):
    """Retrieval only: the ranked passages a question would be answered from, among the documents
    the caller may read (the restriction is applied inside the search, before the top k)."""

    @extend_schema(request=SearchSerializer, responses=SearchResponseSerializer)
    def post(self, request):
        serializer = SearchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        chunk_ids = None
        if "document_ids" in data:
            chunk_ids = Chunk.objects.filter(document_id__in=data["document_ids"]).values_list(
                "id", flat=True
            )
        hits = search(query=data["query"], k=data["k"], chunk_ids=chunk_ids, user=request.user)
        chunks = chunks_by_id(hit.id for hit in hits)
        results = []
        for hit in hits:
            chunk = chunks.get(hit.id)
            if chunk is None:  # deleted, or its document is being re-ingested
                continue
            results.append(
                {
                    "rank": len(results) + 1,
                    "chunk_id": chunk.pk,
                    "document_id": chunk.document_id,
                    "title": chunk.document.title or chunk.document.file.name,
                    "page": chunk.page,
                    "page_end": chunk.page_end,
                    "section": chunk.section,
                    "score": hit.score,
                    "text": chunk.text,
                }
            )
        return Response({"query": data["query"], "results": results})


# --- documents -----------------------------------------------------------------------------------


def _documents(user):
    return (
        readable_documents(user)
        .select_related("collection")
        .annotate(chunk_count=Count("chunks"))
        .order_by("-created_at", "-pk")
    )


def _document_data(document: Document) -> dict:
    if not hasattr(document, "chunk_count"):
        document.chunk_count = document.chunks.count()
    return DocumentSerializer(document).data


def _target_collection(user, collection_id: int | None) -> Collection | None:
    """The collection an upload or move goes to: one the user may read (None: the default)."""
    if collection_id is None:
        return None
    collection = readable_collections(user).filter(pk=collection_id).first()
    if collection is None:
        raise ValidationError({"collection": ["No such collection, or you may not read it."]})
    return collection


class DocumentListCreateView(generics.ListAPIView):
    """GET: the documents the caller may read, newest first, filtered and paginated.

    POST (scope `manage`, permission `ingestion.add_document`), multipart: one `file` (not a ZIP)
    gives 201 with the document; 409 when an identical file is stored (with that `document` when
    the caller may read it); 400 when refused (type, size, empty). Several `file` parts or a ZIP
    give 201 (200 if nothing was new) with `{"created", "duplicates", "rejected"}`, each file
    succeeding or failing on its own. `collection` (an id) picks the collection; default: the
    default collection."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK, "POST": MANAGE}
    write_permissions = {"POST": "ingestion.add_document"}
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    parser_classes = [MultiPartParser, FormParser]
    error_statuses = {"POST": (409,)}

    def get_queryset(self):
        return _documents(self.request.user)

    def _duplicate(self, duplicate) -> dict | None:
        """The stored twin of an upload, if the uploader may read it (else it stays unnamed)."""
        if readable_documents(self.request.user).filter(pk=duplicate.existing.pk).exists():
            return _document_data(duplicate.existing)
        return None

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={
            201: PolymorphicProxySerializer(
                component_name="UploadCreated",
                serializers=[DocumentSerializer, UploadResultSerializer],
                resource_type_field_name=None,
            ),
            200: UploadResultSerializer,
        },
    )
    def post(self, request):
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        files = serializer.validated_data["file"]
        collection = _target_collection(request.user, serializer.validated_data.get("collection"))
        result = documents_upload(
            files=files,
            title=serializer.validated_data.get("title", ""),
            uploaded_by=request.user,
            collection=collection,
        )
        for document in result.created:
            audit(request.user, "document uploaded", document, f"collection {document.collection}")
        if len(files) == 1 and not is_archive(files[0].name):
            if result.created:
                return Response(_document_data(result.created[0]), status=status.HTTP_201_CREATED)
            if result.duplicates:
                twin = self._duplicate(result.duplicates[0])
                message = (
                    f"Identical to document {twin['id']}; not added."
                    if twin
                    else "An identical file is already stored (in a collection you cannot "
                    "read); not added."
                )
                return Response(
                    error_body("duplicate", message, document=twin),
                    status=status.HTTP_409_CONFLICT,
                )
            reason = result.rejected[0].reason
            return Response(
                error_body("invalid", reason, {"file": [reason]}),
                status=status.HTTP_400_BAD_REQUEST,
            )
        body = {
            "created": [_document_data(d) for d in result.created],
            "duplicates": [
                {"file": d.name, "document": self._duplicate(d)} for d in result.duplicates
            ],
            "rejected": [{"file": r.name, "error": r.reason} for r in result.rejected],
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)


class DocumentDetailView(generics.RetrieveUpdateDestroyAPIView):
    """GET a readable document's state (`status`, `progress` 0–100, `error`, `notes`, pages,
    chunks). PATCH (scope `manage`, `ingestion.change_document`) renames it or moves it to another
    collection. DELETE (scope `manage`, `ingestion.delete_document`) removes it with its chunks,
    vectors and file."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK}
    write_permissions = {
        "PATCH": "ingestion.change_document",
        "DELETE": "ingestion.delete_document",
    }
    serializer_class = DocumentSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _documents(self.request.user)

    @extend_schema(request=DocumentUpdateSerializer, responses=DocumentSerializer)
    def patch(self, request, *args, **kwargs):
        document = self.get_object()
        serializer = DocumentUpdateSerializer(document, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        collection = serializer.validated_data.get("collection")
        if collection is not None:
            _target_collection(request.user, collection.pk)
        serializer.save()
        audit(request.user, "document changed", document, str(serializer.validated_data))
        return Response(_document_data(self.get_object()))

    def perform_destroy(self, instance: Document) -> None:
        audit(self.request.user, "document deleted", instance, instance.title)
        document_delete(document=instance)


REINDEXABLE = {Document.Status.INDEXED, Document.Status.FAILED, Document.Status.UPLOADED}


class DocumentReindexView(APIView):
    """Parse, chunk and embed the document again (also retries a failed one): 202 with its state;
    409 while it is already queued or being ingested."""

    permission_classes = PERMISSIONS
    required_scope = MANAGE
    write_permissions = {"POST": "ingestion.change_document"}
    error_statuses = {"POST": (409,)}

    @extend_schema(request=None, responses={202: DocumentSerializer})
    def post(self, request, pk: int):
        document = generics.get_object_or_404(_documents(request.user), pk=pk)
        if document.status not in REINDEXABLE:
            raise Conflict(f"The document is {document.status}; wait until it is done.")
        document_enqueue(document=document)
        audit(request.user, "document re-index queued", document)
        return Response(_document_data(document), status=status.HTTP_202_ACCEPTED)


# --- collections ---------------------------------------------------------------------------------


def _collections(user):
    """Collections a user may read; all of them for those who may manage collections."""
    base = (
        Collection.objects.all()
        if user.has_perm("ingestion.change_collection")
        else readable_collections(user)
    )
    return (
        Collection.objects.filter(pk__in=base.values("pk"))
        .prefetch_related("reader_groups")
        .annotate(document_count=Count("documents"))
        .order_by("name")
    )


class CollectionListCreateView(generics.ListCreateAPIView):
    """GET: the collections the caller may read (all, for collection managers). POST (scope
    `manage`, `ingestion.add_collection`): a new collection, readable by `reader_groups` (group
    names) and, if `everyone`, by every signed-in user."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK, "POST": MANAGE}
    write_permissions = {"POST": "ingestion.add_collection"}
    serializer_class = CollectionSerializer
    filterset_class = CollectionFilter

    def get_queryset(self):
        return _collections(self.request.user)

    def perform_create(self, serializer) -> None:
        collection = serializer.save()
        audit(self.request.user, "collection created", collection, _readers(collection))
        serializer.instance = self.get_queryset().get(pk=collection.pk)  # with its counts


def _readers(collection: Collection) -> str:
    groups = ", ".join(sorted(g.name for g in collection.reader_groups.all())) or "no groups"
    return f"readers: {groups}{'; everyone' if collection.everyone else ''}"


class CollectionDetailView(generics.RetrieveUpdateDestroyAPIView):
    """PATCH (`ingestion.change_collection`) changes who may read it: the next search already
    applies it. DELETE (`ingestion.delete_collection`) only an empty, non-default collection."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK}
    write_permissions = {
        "PATCH": "ingestion.change_collection",
        "DELETE": "ingestion.delete_collection",
    }
    serializer_class = CollectionSerializer
    error_statuses = {"DELETE": (409,)}
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _collections(self.request.user)

    def perform_update(self, serializer) -> None:
        collection = serializer.save()
        audit(self.request.user, "collection changed", collection, _readers(collection))
        serializer.instance = self.get_queryset().get(pk=collection.pk)  # with its counts

    def perform_destroy(self, instance: Collection) -> None:
        if instance.is_default:
            raise Conflict("The default collection cannot be deleted.")
        try:
            instance.delete()
        except ProtectedError:
            raise Conflict(
                "The collection still holds documents: move or delete them first."
            ) from None
        audit(self.request.user, "collection deleted", instance, instance.name)


# --- conversations and feedback ------------------------------------------------------------------


class ConversationListView(generics.ListAPIView):
    """The caller's own conversations, most recent first."""

    serializer_class = ConversationSerializer
    queryset = Conversation.objects.none()  # for the schema; get_queryset is per user

    def get_queryset(self):
        return conversations_of(user=self.request.user).order_by("-updated_at", "-pk")


class ConversationDetailView(generics.RetrieveDestroyAPIView):
    """One of the caller's conversations with its messages, as the caller may see them now: an
    answer citing a document they can no longer read is withheld (`withheld: true`)."""

    serializer_class = ConversationDetailSerializer

    def get_object(self):
        return conversation_of(user=self.request.user, pk=self.kwargs["pk"])

    def retrieve(self, request, *args, **kwargs):
        conversation = self.get_object()
        messages = messages_visible(user=request.user, messages=conversation.messages.all())
        serializer = self.get_serializer(conversation, context={"messages": messages})
        return Response(serializer.data)


class ConversationMessagesView(generics.ListAPIView):
    """The messages of one of the caller's conversations, oldest first, paginated; filtered by
    what the caller may read now, like the conversation itself."""

    serializer_class = MessageSerializer
    queryset = Message.objects.none()  # for the schema

    def get_queryset(self):
        conversation = conversation_of(user=self.request.user, pk=self.kwargs["pk"])
        return conversation.messages.order_by("created_at", "pk")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        messages = messages_visible(user=request.user, messages=page)
        return self.get_paginated_response(self.get_serializer(messages, many=True).data)


class MessageFeedbackView(APIView):
    """Rate one of the caller's answers: 1 helpful, -1 not, 0 clears; with an optional comment."""

    @extend_schema(request=FeedbackSerializer, responses=MessageSerializer)
    def post(self, request, pk: int):
        message = generics.get_object_or_404(
            Message.objects.select_related("conversation").filter(conversation__user=request.user),
            pk=pk,
        )
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            message = message_feedback(
                user=request.user,
                message=message,
                rating=serializer.validated_data["rating"],
                comment=serializer.validated_data.get("comment", ""),
            )
        except ValueError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        (message,) = messages_visible(user=request.user, messages=[message])
        return Response(MessageSerializer(message).data)


# --- API tokens ----------------------------------------------------------------------------------


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
