from django.urls import path

from kbqa.api import views

app_name = "api"

urlpatterns = [
    path("ask/", views.AskView.as_view(), name="ask"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("ask/stream/", views.AskStreamView.as_view(), name="ask-stream"),
    path("conversations/", views.ConversationListView.as_view(), name="conversations"),
    path(
        "conversations/<int:pk>/",
        views.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path("documents/", views.DocumentListCreateView.as_view(), name="documents"),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document-detail"),
]
