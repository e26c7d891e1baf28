"""The login page (local and LDAP passwords, and the single sign-on button) and the OIDC
endpoints, which exist only while OIDC is configured."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc import views as oidc_views

from kbqa.accounts.forms import SignInForm


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_name"] = settings.KBQA_OIDC_NAME if settings.KBQA_OIDC_ENABLED else ""
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context


def _oidc_only(view):
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.KBQA_OIDC_ENABLED:
            raise Http404("single sign-on is not configured")
        return view(request, *args, **kwargs)

    return wrapped


oidc_start = _oidc_only(oidc_views.OIDCAuthenticationRequestView.as_view())
oidc_callback = _oidc_only(oidc_views.OIDCAuthenticationCallbackView.as_view())
