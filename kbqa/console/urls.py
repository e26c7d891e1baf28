from django.urls import path

from kbqa.console import views

app_name = "console"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("documents/", views.documents, name="documents"),
    path("documents/status/", views.documents_status, name="documents-status"),
    path("documents/<int:pk>/reindex/", views.reindex, name="reindex"),
    path("documents/<int:pk>/delete/", views.delete, name="delete"),
    path("documents/<int:pk>/versions/", views.versions, name="versions"),
    path("sources/", views.sources, name="sources"),
    path("sources/<int:pk>/sync/", views.source_sync, name="source-sync"),
    path("overview/", views.overview, name="overview"),
]
