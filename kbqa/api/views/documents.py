"""Documents: list and upload, read, rename or move, delete, re-index; list and upload versions.
Every change goes through an ingestion service (permission check and audit record included)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.access import can_read_document, readable_collections, readable_documents
from ingestion.models import Collection, Document
from ingestion.selectors import CURRENT_CHUNK_COUNT
from ingestion.services.documents import document_delete, document_reindex, document_update
from ingestion.services.uploads import (
    DuplicateDocument,
    UploadResult,
    documents_upload,
    is_archive,
)
from ingestion.services.versions import version_upload
from kbqa.api.filters import DocumentFilter
from kbqa.api.serializers import (
    DocumentSerializer,
    DocumentUpdateSerializer,
    DocumentUploadSerializer,
    DocumentVersionSerializer,
    UploadResultSerializer,
    VersionUploadSerializer,
)
from kbqa.api.views.common import ASK, MANAGE, PERMISSIONS
from kbqa.errors import error_body


def _documents(user):
    return (
        readable_documents(user)
        .select_related("collection")
        .annotate(chunk_count=CURRENT_CHUNK_COUNT)
        .order_by("-created_at", "-pk")
    )


def _readable_twin(user, document: Document) -> Document | None:
    """The stored twin of an upload, if the uploader may read it (else it stays unnamed)."""
    return _counted(document) if can_read_document(user, document) else None


def _duplicate(user, existing: Document, what: str) -> Response:
    """409 for an upload identical to the stored `existing`, named ("Identical to `what` 12") and
    held in the body only when the uploader may read it."""
    twin = _readable_twin(user, existing)
    if twin is None:
        message = (
            "An identical file is already stored (in a collection you cannot read); not added."
        )
    else:
        message = f"Identical to {what} {twin.pk}; not added."
    document = _document_data(twin) if twin else None
    return Response(
        error_body("duplicate", message, document=document), status=status.HTTP_409_CONFLICT
    )


def _counted(document: Document) -> Document:
    if not hasattr(document, "chunk_count"):
        document.chunk_count = document.chunks.filter(
            version_id=document.current_version_id
        ).count()
    return document


def _document_data(document: Document) -> dict:
    return DocumentSerializer(_counted(document)).data


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
    succeeding or failing on its own; 400 with every reason when all were refused. `collection`
    (an id) picks the collection; default: the default collection."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK, "POST": MANAGE}
    write_permissions = {"POST": "ingestion.add_document"}
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    parser_classes = [MultiPartParser, FormParser]
    error_statuses = {"POST": (409,)}

    def get_queryset(self):
        return _documents(self.request.user)

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
        result = documents_upload(
            files=files,
            by=request.user,
            title=serializer.validated_data.get("title", ""),
            collection=_target_collection(
                request.user, serializer.validated_data.get("collection")
            ),
        )
        if len(files) == 1 and not is_archive(files[0].name):
            return self._single(result)
        body = UploadResultSerializer(
            {
                "created": [_counted(d) for d in result.created],
                "duplicates": [
                    {"name": d.name, "document": _readable_twin(self.request.user, d.existing)}
                    for d in result.duplicates
                ],
                "rejected": result.rejected,
            }
        ).data
        if not (result.created or result.duplicates):
            reasons = [f"{r.name}: {r.reason}" for r in result.rejected]
            message = "Nothing was added: " + " ".join(reasons)
            rejected = body["rejected"]
            return Response(
                error_body("invalid", message, {"file": reasons}, rejected=rejected),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)

    def _single(self, result: UploadResult) -> Response:
        if result.created:
            return Response(_document_data(result.created[0]), status=status.HTTP_201_CREATED)
        if result.duplicates:
            return _duplicate(self.request.user, result.duplicates[0].existing, "document")
        reason = result.rejected[0].reason
        return Response(
            error_body("invalid", reason, {"file": [reason]}), status=status.HTTP_400_BAD_REQUEST
        )


class DocumentDetailView(generics.RetrieveUpdateDestroyAPIView):
    """GET a readable document's state (`status`, `progress` 0–100, `error`, `error_code`,
    `retryable`, `notes`, pages, chunks). PATCH (scope `manage`, `ingestion.change_document`)
    renames it or moves it to another collection. DELETE (scope `manage`,
    `ingestion.delete_document`) removes it with its chunks, vectors and file."""

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
        data = serializer.validated_data
        collection = data.get("collection")
        if collection is not None:
            collection = _target_collection(request.user, collection.pk)
        document_update(
            document=document, by=request.user, title=data.get("title"), collection=collection
        )
        return Response(_document_data(self.get_object()))

    def perform_destroy(self, instance: Document) -> None:
        document_delete(document=instance, by=self.request.user)


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
        document_reindex(document=document, by=request.user)
        return Response(_document_data(document), status=status.HTTP_202_ACCEPTED)


class DocumentVersionsView(generics.ListAPIView):
    """GET: the document's versions, newest first: the current one, those being indexed,
    replaced ones kept (out of search) and failed ones with their reason.

    POST (scope `manage`, permission `ingestion.change_document`), multipart `file`: upload a new
    version. 202 with the version (`pending`): it is indexed in the background while the current
    version keeps answering, then search switches to it in one step; a failure leaves the current
    one answering and says why on the version. 409 when an identical file is stored (`duplicate`,
    with that `document` when the caller may read it) or when the document is still being
    ingested or already has a version being indexed (`conflict`); 400 when the file is refused."""

    permission_classes = PERMISSIONS
    required_scope = {"GET": ASK, "HEAD": ASK, "OPTIONS": ASK, "POST": MANAGE}
    write_permissions = {"POST": "ingestion.change_document"}
    serializer_class = DocumentVersionSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None
    error_statuses = {"POST": (409,)}

    def _document(self) -> Document:
        return generics.get_object_or_404(_documents(self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self):
        return self._document().versions.select_related("uploaded_by").order_by("-number")

    @extend_schema(
        request={"multipart/form-data": VersionUploadSerializer},
        responses={202: DocumentVersionSerializer},
    )
    def post(self, request, pk: int):
        document = self._document()
        serializer = VersionUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            version = version_upload(
                document=document, file=serializer.validated_data["file"], by=request.user
            )
        except DjangoValidationError as exc:
            reason = " ".join(exc.messages)
            return Response(
                error_body("invalid", reason, {"file": [reason]}),
                status=status.HTTP_400_BAD_REQUEST,
            )
        except DuplicateDocument as exc:
            return _duplicate(request.user, exc.existing, "a version of document")
        return Response(DocumentVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)
