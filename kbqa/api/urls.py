from django.urls import path

from kbqa.api import docs, views

app_name = "api"

urlpatterns = [
    path("ask/", views.AskView.as_view(), name="ask"),
    path("ask/stream/", views.AskStreamView.as_view(), name="ask-stream"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("documents/", views.DocumentListCreateView.as_view(), name="documents"),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document-detail"),
    path(
        "documents/<int:pk>/reindex/",
        views.DocumentReindexView.as_view(),
        name="document-reindex",
    ),
    path("collections/", views.CollectionListCreateView.as_view(), name="collections"),
    path("collections/<int:pk>/", views.CollectionDetailView.as_view(), name="collection-detail"),
    path("conversations/", views.ConversationListView.as_view(), name="conversations"),
    path(
        "conversations/<int:pk>/",
        views.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:pk>/messages/",
        views.ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path(
        "messages/<int:pk>/feedback/", views.MessageFeedbackView.as_view(), name="message-feedback"
    ),
    path("tokens/", views.TokenListCreateView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token-detail"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.swagger, name="docs"),
    path("redoc/", docs.redoc, name="redoc"),
]
