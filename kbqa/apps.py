from django.apps import AppConfig


class KbqaConfig(AppConfig):
    name = "kbqa"
    verbose_name = "kbqa"
