from django.urls import path

from kbqa.chat import views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("c/<int:pk>/", views.chat, name="conversation"),
    path("c/<int:pk>/rename/", views.rename, name="conversation-rename"),
    path("c/<int:pk>/delete/", views.delete, name="conversation-delete"),
    path("answers/<int:pk>/", views.answer, name="answer"),
    path("answers/<int:pk>/feedback/", views.feedback, name="answer-feedback"),
    path("sources/<int:chunk_id>/", views.source, name="source"),
    path("documents/<int:pk>/pages/<int:page>/", views.document_page, name="document-page"),
    path("documents/<int:pk>/pages/<int:page>.png", views.page_image, name="page-image"),
    path("documents/<int:pk>/download/", views.download, name="document-download"),
    path(
        "documents/<int:pk>/versions/<int:number>/download/",
        views.download,
        name="version-download",
    ),
]
