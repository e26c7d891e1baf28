from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kbqa.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kbqa.accounts import signals  # noqa: F401  (connects the receivers)
