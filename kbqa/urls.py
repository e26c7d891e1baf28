from django.contrib import admin
from django.urls import include, path

from kbqa.api import openai_compat

urlpatterns = [
    path("", include("kbqa.chat.urls")),
    path("console/", include("kbqa.console.urls")),
    path("accounts/", include("kbqa.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("kbqa.api.urls")),
    # OpenAI-compatible facade (base URL for SDKs: http://host/v1)
    path("v1/chat/completions", openai_compat.ChatCompletionsView.as_view(), name="openai-chat"),
    path("v1/models", openai_compat.ModelsView.as_view(), name="openai-models"),
]

# JSON error bodies for the API and the facade (and requests that ask for JSON), a page otherwise.
handler400 = "kbqa.errors.bad_request"
handler403 = "kbqa.errors.permission_denied"
handler404 = "kbqa.errors.page_not_found"
handler500 = "kbqa.errors.server_error"
