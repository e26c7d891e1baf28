from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "kbqa.evaluation"
    label = "evaluation"
    verbose_name = "Evaluation"
