from django.urls import path

from kbqa.api import views

app_name = "api"

urlpatterns = [
    path("ask/", views.AskView.as_view(), name="ask"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("documents/", views.DocumentListCreateView.as_view(), name="documents"),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document-detail"),
]
