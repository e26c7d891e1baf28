from django.urls import path

from kbqa.api import docs
from kbqa.api.views import ask, collections, conversations, documents, sources, tokens

app_name = "api"

urlpatterns = [
    path("ask/", ask.AskView.as_view(), name="ask"),
    path("ask/stream/", ask.AskStreamView.as_view(), name="ask-stream"),
    path("search/", ask.SearchView.as_view(), name="search"),
    path("documents/", documents.DocumentListCreateView.as_view(), name="documents"),
    path("documents/<int:pk>/", documents.DocumentDetailView.as_view(), name="document-detail"),
    path(
        "documents/<int:pk>/reindex/",
        documents.DocumentReindexView.as_view(),
        name="document-reindex",
    ),
    path(
        "documents/<int:pk>/versions/",
        documents.DocumentVersionsView.as_view(),
        name="document-versions",
    ),
    path("collections/", collections.CollectionListCreateView.as_view(), name="collections"),
    path(
        "collections/<int:pk>/",
        collections.CollectionDetailView.as_view(),
        name="collection-detail",
    ),
    path("sources/", sources.SourceListView.as_view(), name="sources"),
    path("sources/<int:pk>/sync/", sources.SourceSyncView.as_view(), name="source-sync"),
    path("conversations/", conversations.ConversationListView.as_view(), name="conversations"),
    path(
        "conversations/<int:pk>/",
        conversations.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:pk>/messages/",
        conversations.ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path(
        "messages/<int:pk>/feedback/",
        conversations.MessageFeedbackView.as_view(),
        name="message-feedback",
    ),
    path("tokens/", tokens.TokenListCreateView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", tokens.TokenDetailView.as_view(), name="token-detail"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.swagger, name="docs"),
    path("redoc/", docs.redoc, name="redoc"),
]
