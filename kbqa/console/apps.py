from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The admins' upload console: bulk upload with live progress, the document list, totals."""

    name = "kbqa.console"
    label = "console"
    verbose_name = "Console"
