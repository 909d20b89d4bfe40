from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What both apps share: the HTTP pieces (cache, pages, throttles, pagination, errors,
    health, request log, schema) and the database pieces (counters, constraint errors).

    The label stays "project", the name its tables and migrations were created under.
    """

    name = "core"
    label = "project"
